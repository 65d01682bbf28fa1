//! The callback receiver behind the async client's `X-Callback-Url` (`load.callback`): it
//! records every callback it receives with the `X-Function-Status` it carries (the
//! queue-worker posts one after each call, whatever its status: nats-queue-worker@ed54141
//! `postResult`) and answers after `load.callbackDuration`. The worker's HTTP client has no
//! timeout, so a slow receiver holds the worker, and the worker's ack, until it answers.

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
}

impl Receiver {
    /// A receiver that answers after `duration_ns`.
    pub fn new(duration_ns: Nanos) -> Receiver {
        Receiver { duration_ns }
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Callback {
                member,
                inv,
                status,
            } => {
                out.push(Effect::Record {
                    inv,
                    status: Status::Code(status),
                });
                if self.duration_ns == 0 {
                    out.push(Effect::Answer { member, inv });
                } else {
                    out.push(Effect::Arm {
                        at_ns: now + self.duration_ns,
                        timer: Timer::Answer { member, inv },
                    });
                }
            }
            Input::Timer(Timer::Answer { member, inv }) => out.push(Effect::Answer { member, inv }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_is_recorded_and_answered_after_the_receivers_time() {
        let mut receiver = Receiver::new(5);
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
                    timer: Timer::Answer { member: 1, inv: 7 }
                }
            ]
        );
        out.clear();
        let timer = Timer::Answer { member: 1, inv: 7 };
        receiver.handle(15, Input::Timer(timer), &mut out);
        assert_eq!(out, vec![Effect::Answer { member: 1, inv: 7 }]);
    }

    #[test]
    fn an_instant_receiver_answers_at_once() {
        let mut receiver = Receiver::new(0);
        let mut out = Vec::new();
        let callback = Input::Callback {
            member: 0,
            inv: 0,
            status: 200,
        };
        receiver.handle(3, callback, &mut out);
        assert_eq!(out[1], Effect::Answer { member: 0, inv: 0 });
    }
}
