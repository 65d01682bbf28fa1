//! The callback receiver behind the async client's `X-Callback-Url` (`load.callback`): it
//! records every callback it receives with the `X-Function-Status` it carries (the
//! queue-worker posts one after each call, whatever its status: nats-queue-worker@ed54141
//! `postResult`) and answers after `load.callbackDuration`. The worker's HTTP client has no
//! timeout, so a slow receiver holds the worker, and the worker's ack, until it answers.
//! `load.callbackFailures` makes it fail the first callbacks of each call (a 500, nothing
//! recorded): a receiver that is down or rejects them.

use crate::ledger::{RequestId, Status};
use crate::queue::MemberId;
use crate::time::Nanos;

/// A timer of the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The receiver's answer to `member`'s callback of `inv` is ready.
    Answer {
        /// The worker waiting for it.
        member: MemberId,
        /// The invocation (a Pro worker posts several callbacks at once).
        inv: RequestId,
        /// It took the callback (a 2xx) rather than failing it.
        accepted: bool,
    },
}

/// What the receiver gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A callback for `inv` from `member`.
    Callback {
        /// The worker that posted it.
        member: MemberId,
        /// The invocation (its `X-Call-Id`).
        inv: RequestId,
        /// Its `X-Function-Status`.
        status: u16,
    },
    /// A timer armed earlier is due.
    Timer(Timer),
}

/// What the receiver asks of its engine, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Record the callback of `inv` with `status`.
    Record {
        /// The invocation.
        inv: RequestId,
        /// Its `X-Function-Status`.
        status: Status,
    },
    /// Answer `member`'s callback of `inv`.
    Answer {
        /// The worker.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
        /// A 2xx (it was recorded); otherwise a 500.
        accepted: bool,
    },
    /// Arm a timer.
    Arm {
        /// When.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
}

/// The receiver: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receiver {
    /// How long it takes to answer.
    duration_ns: Nanos,
    /// How many callbacks of each call it fails before it takes one.
    failures: u32,
    /// The callbacks it failed so far, by invocation.
    failed: Vec<u32>,
}

impl Receiver {
    /// A receiver that answers after `duration_ns` and fails the first `failures` callbacks
    /// of each call.
    pub fn new(duration_ns: Nanos, failures: u32) -> Receiver {
        Receiver {
            duration_ns,
            failures,
            failed: Vec::new(),
        }
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Callback {
                member,
                inv,
                status,
            } => {
                let failed = crate::slots::slot(&mut self.failed, inv as usize);
                let accepted = *failed >= self.failures;
                if accepted {
                    out.push(Effect::Record {
                        inv,
                        status: Status::Code(status),
                    });
                } else {
                    *failed += 1;
                }
                if self.duration_ns == 0 {
                    out.push(Effect::Answer {
                        member,
                        inv,
                        accepted,
                    });
                } else {
                    out.push(Effect::Arm {
                        at_ns: now + self.duration_ns,
                        timer: Timer::Answer {
                            member,
                            inv,
                            accepted,
                        },
                    });
                }
            }
            Input::Timer(Timer::Answer {
                member,
                inv,
                accepted,
            }) => out.push(Effect::Answer {
                member,
                inv,
                accepted,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_is_recorded_and_answered_after_the_receivers_time() {
        let mut receiver = Receiver::new(5, 0);
        let mut out = Vec::new();
        let callback = Input::Callback {
            member: 1,
            inv: 7,
            status: 502,
        };
        receiver.handle(10, callback, &mut out);
        assert_eq!(
            out,
            vec![
                Effect::Record {
                    inv: 7,
                    status: Status::Code(502)
                },
                Effect::Arm {
                    at_ns: 15,
                    timer: Timer::Answer {
                        member: 1,
                        inv: 7,
                        accepted: true
                    }
                }
            ]
        );
        out.clear();
        let timer = Timer::Answer {
            member: 1,
            inv: 7,
            accepted: true,
        };
        receiver.handle(15, Input::Timer(timer), &mut out);
        assert_eq!(
            out,
            vec![Effect::Answer {
                member: 1,
                inv: 7,
                accepted: true
            }]
        );
    }

    #[test]
    fn an_instant_receiver_answers_at_once() {
        let mut receiver = Receiver::new(0, 0);
        let mut out = Vec::new();
        let callback = Input::Callback {
            member: 0,
            inv: 0,
            status: 200,
        };
        receiver.handle(3, callback, &mut out);
        assert_eq!(
            out[1],
            Effect::Answer {
                member: 0,
                inv: 0,
                accepted: true
            }
        );
    }

    #[test]
    fn the_first_callbacks_of_each_call_fail_unrecorded() {
        let mut receiver = Receiver::new(0, 2);
        let mut answers = Vec::new();
        for inv in [4, 4, 9, 4] {
            let mut out = Vec::new();
            let callback = Input::Callback {
                member: 0,
                inv,
                status: 200,
            };
            receiver.handle(0, callback, &mut out);
            let recorded = out.iter().any(|e| matches!(e, Effect::Record { .. }));
            let accepted = out
                .iter()
                .any(|e| matches!(e, Effect::Answer { accepted: true, .. }));
            assert_eq!(recorded, accepted, "recorded exactly when accepted");
            answers.push((inv, accepted));
        }
        assert_eq!(answers, [(4, false), (4, false), (9, false), (4, true)]);
    }
}
