//! The queue-workers of OpenFaaS CE (openfaas/nats-queue-worker@ed54141), every replica of
//! the Deployment, addressed by its member id in the queue group. Each worker, as its code
//! behaves:
//! - runs one call at a time, whatever `max_inflight` says (the subscription's
//!   `MaxInflight(1)` is hard-coded, `readconfig.go` ignores the variable since 10ae9e9), the
//!   messages stan.go hands it waiting in its client in order;
//! - calls `POST http://gateway:8080/function/NAME` with an HTTP client that has no timeout
//!   and no keep-alives (`main.go` `makeClient`): each call dials;
//! - after the call, whatever its status, posts the callback when the call has an
//!   `X-Callback-Url` (`postResult`; a transport error is reported as 503), with the same
//!   client, and returns from the handler: stan.go acks only then (auto-ack after the
//!   callback returns, stan.go `processMsg`). A failure is therefore never retried
//!   (nats-queue-worker#80);
//! - handles only SIGINT (`main.go`): SIGTERM ends the process at once, without an ack and
//!   without closing its connection, cutting the call in flight.
//!
//! `restartQueueWorker` is a rollout of the Deployment: one new pod at a time (the default
//! strategy's surge of one), which subscribes `QueueWorkerConfig::startup_ns` [inferred] after
//! its creation; then the old pod gets SIGTERM.
//!
//! An effective ack wait of 0 (a value below one second) is refused by the streaming server
//! and the worker `log.Panic`s (nats-streaming-server `ErrInvalidAckWait`): it never
//! subscribes.

use std::collections::VecDeque;

use crate::config::QueueWorkerConfig;
use crate::execution::Execution;
use crate::ledger::{Cause, RequestId, Status};
use crate::queue::MemberId;
use crate::time::Nanos;

/// A timer of the workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The new pod `member` of a rollout runs and subscribes.
    Started {
        /// The member.
        member: MemberId,
    },
}

/// What the workers receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The run starts: the Deployment's replicas are running.
    Start,
    /// The queue sent the message of `inv` to `member`.
    Deliver {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
    },
    /// The gateway's answer to execution `exec` (or its broken connection) arrived.
    Answer {
        /// The execution.
        exec: RequestId,
        /// What the worker's client saw.
        status: Status,
        /// Why.
        cause: Cause,
    },
    /// The callback receiver answered `member`'s callback.
    CallbackDone {
        /// The member.
        member: MemberId,
    },
    /// `kubectl rollout restart` of the queue-worker's Deployment.
    Restart,
    /// A timer armed earlier is due.
    Timer(Timer),
}

/// What the workers ask of their engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A call to the gateway, its end, or a callback: what both editions share.
    Execution(Execution),
    /// `member` subscribes to the queue group.
    Join {
        /// The member.
        member: MemberId,
    },
    /// `member`'s process ended without closing its connection.
    Died {
        /// The member.
        member: MemberId,
    },
    /// `member` acknowledges `inv`'s message.
    Ack {
        /// The member.
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
    /// A line for the timeline.
    Note {
        /// Which worker.
        who: String,
        /// What happened.
        what: String,
    },
}

/// What a worker is doing with its current message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Calling the gateway: execution `exec`.
    Calling {
        /// The execution.
        exec: RequestId,
    },
    /// Posting the callback.
    Callback,
}

/// One worker pod.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Worker {
    /// Its process runs.
    alive: bool,
    /// It has subscribed.
    joined: bool,
    /// Messages handed to it, waiting their turn.
    waiting: VecDeque<RequestId>,
    /// The message it handles and how far it is.
    current: Option<(RequestId, Step)>,
}

/// Every queue-worker pod: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueWorkers {
    /// The Deployment's replicas.
    replicas: u32,
    /// The worker can subscribe (its ack wait is at least one second).
    can_subscribe: bool,
    /// A new pod's creation to its subscription.
    startup_ns: Nanos,
    /// The calls carry an `X-Callback-Url`.
    callback: bool,
    /// Every pod, by member id.
    workers: Vec<Worker>,
    /// The next execution's id.
    next_exec: RequestId,
    /// Each execution's member and invocation, by `exec - first_exec`.
    execs: Vec<(MemberId, RequestId)>,
    /// The first execution's id (after every request of the load).
    first_exec: RequestId,
    /// Old pods a rollout still has to replace, oldest first.
    to_replace: VecDeque<MemberId>,
    /// Whether the timeline is recorded.
    tracing: bool,
}

impl QueueWorkers {
    /// The Deployment with `config`; executions are numbered from `first_exec` on.
    pub fn new(
        config: &QueueWorkerConfig,
        callback: bool,
        first_exec: RequestId,
        tracing: bool,
    ) -> QueueWorkers {
        QueueWorkers {
            replicas: config.replicas,
            can_subscribe: config.ack_wait_ns > 0,
            startup_ns: config.startup_ns,
            callback,
            workers: Vec::new(),
            next_exec: first_exec,
            execs: Vec::new(),
            first_exec,
            to_replace: VecDeque::new(),
            tracing,
        }
    }

    /// The invocation and member of execution `exec`.
    pub fn execution(&self, exec: RequestId) -> (MemberId, RequestId) {
        self.execs[(exec - self.first_exec) as usize]
    }

    /// `exec` is an execution (not a request of the load).
    pub fn is_execution(&self, req: RequestId) -> bool {
        req >= self.first_exec
    }

    /// A live worker holds `inv`: it runs it or will.
    pub fn holds(&self, inv: RequestId) -> bool {
        self.workers.iter().any(|w| {
            w.alive && (w.current.is_some_and(|(i, _)| i == inv) || w.waiting.contains(&inv))
        })
    }

    fn name(member: MemberId) -> String {
        format!("queue-worker-{member}")
    }

    fn note(&self, member: MemberId, what: impl FnOnce() -> String, out: &mut Vec<Effect>) {
        if self.tracing {
            out.push(Effect::Note {
                who: Self::name(member),
                what: what(),
            });
        }
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Start => {
                for _ in 0..self.replicas {
                    let member = self.create();
                    self.subscribe(member, out);
                }
            }
            Input::Deliver { member, inv } => {
                let worker = &mut self.workers[member as usize];
                if !worker.alive {
                    return;
                }
                worker.waiting.push_back(inv);
                self.next(member, out);
            }
            Input::Answer {
                exec,
                status,
                cause,
            } => {
                let (member, inv) = self.execution(exec);
                let worker = &mut self.workers[member as usize];
                if !worker.alive || worker.current != Some((inv, Step::Calling { exec })) {
                    return;
                }
                out.push(Effect::Execution(Execution::Finish {
                    exec,
                    status,
                    cause,
                }));
                if self.callback {
                    // postResult: a transport error is reported as 503.
                    let code = match status {
                        Status::Code(code) => code,
                        Status::Error => 503,
                    };
                    worker.current = Some((inv, Step::Callback));
                    out.push(Effect::Execution(Execution::Callback {
                        member,
                        inv,
                        status: code,
                    }));
                } else {
                    self.done(member, inv, out);
                }
            }
            Input::CallbackDone { member } => {
                let worker = &self.workers[member as usize];
                if let (true, Some((inv, Step::Callback))) = (worker.alive, worker.current) {
                    self.done(member, inv, out);
                }
            }
            Input::Restart => {
                let old: Vec<MemberId> = (0..self.workers.len() as MemberId)
                    .filter(|&m| self.workers[m as usize].alive)
                    .filter(|m| !self.to_replace.contains(m))
                    .collect();
                let idle = self.to_replace.is_empty();
                self.to_replace.extend(old);
                if idle {
                    self.replace_next(now, out);
                }
            }
            Input::Timer(Timer::Started { member }) => {
                self.note(member, || "started".into(), out);
                self.subscribe(member, out);
                if let Some(old) = self.to_replace.pop_front() {
                    self.sigterm(old, out);
                }
                self.replace_next(now, out);
            }
        }
    }

    /// A new pod, not yet subscribed.
    fn create(&mut self) -> MemberId {
        let member = self.workers.len() as MemberId;
        self.workers.push(Worker {
            alive: true,
            joined: false,
            waiting: VecDeque::new(),
            current: None,
        });
        member
    }

    /// The pod subscribes, unless the server refuses its ack wait.
    fn subscribe(&mut self, member: MemberId, out: &mut Vec<Effect>) {
        if !self.can_subscribe {
            self.note(
                member,
                || {
                    "ack_wait below 1s is 0 on the wire: the server refuses it and the worker \
                     log.Panics (it never consumes)"
                        .into()
                },
                out,
            );
            return;
        }
        self.workers[member as usize].joined = true;
        out.push(Effect::Join { member });
    }

    /// The rollout creates the next new pod while old ones remain.
    fn replace_next(&mut self, now: Nanos, out: &mut Vec<Effect>) {
        if self.to_replace.is_empty() {
            return;
        }
        let member = self.create();
        self.note(member, || "created by the rollout".into(), out);
        out.push(Effect::Arm {
            at_ns: now + self.startup_ns,
            timer: Timer::Started { member },
        });
    }

    /// SIGTERM: the CE worker handles only SIGINT, so Go's default action ends it at once.
    fn sigterm(&mut self, member: MemberId, out: &mut Vec<Effect>) {
        let worker = &mut self.workers[member as usize];
        worker.alive = false;
        worker.waiting.clear();
        let current = worker.current.take();
        let joined = worker.joined;
        self.note(
            member,
            || "SIGTERM: exits at once (handles only SIGINT), no ack".into(),
            out,
        );
        if let Some((_, Step::Calling { exec })) = current {
            out.push(Effect::Execution(Execution::Abandon { exec }));
            out.push(Effect::Execution(Execution::Finish {
                exec,
                status: Status::Error,
                cause: Cause::QueueWorkerExited,
            }));
        }
        if joined {
            out.push(Effect::Died { member });
        }
    }

    /// The handler returned: stan.go acks, and the next waiting message runs.
    fn done(&mut self, member: MemberId, inv: RequestId, out: &mut Vec<Effect>) {
        self.workers[member as usize].current = None;
        out.push(Effect::Ack { member, inv });
        self.next(member, out);
    }

    /// An idle worker takes its next waiting message.
    fn next(&mut self, member: MemberId, out: &mut Vec<Effect>) {
        let worker = &mut self.workers[member as usize];
        if worker.current.is_some() {
            return;
        }
        let Some(inv) = worker.waiting.pop_front() else {
            return;
        };
        let exec = self.next_exec;
        self.next_exec += 1;
        self.execs.push((member, inv));
        worker.current = Some((inv, Step::Calling { exec }));
        // makeClient turns keep-alives off: every call dials.
        out.push(Effect::Execution(Execution::Call {
            member,
            inv,
            exec,
            dial: true,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn workers(replicas: u32, callback: bool) -> QueueWorkers {
        let config = QueueWorkerConfig {
            replicas,
            ..QueueWorkerConfig::default()
        };
        QueueWorkers::new(&config, callback, 100, true)
    }

    fn run(w: &mut QueueWorkers, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        w.handle(now, input, &mut out);
        out.retain(|e| !matches!(e, Effect::Note { .. }));
        out
    }

    #[test]
    fn one_call_at_a_time_acked_after_the_callback_whatever_the_status() {
        let mut w = workers(1, true);
        assert_eq!(
            run(&mut w, 0, Input::Start),
            vec![Effect::Join { member: 0 }]
        );
        let out = run(&mut w, 0, Input::Deliver { member: 0, inv: 0 });
        assert_eq!(
            out,
            vec![Effect::Execution(Execution::Call {
                member: 0,
                inv: 0,
                exec: 100,
                dial: true
            })]
        );
        // A second message waits behind the first, whatever max_inflight says.
        assert!(run(&mut w, 0, Input::Deliver { member: 0, inv: 1 }).is_empty());
        let answer = Input::Answer {
            exec: 100,
            status: Status::Code(500),
            cause: Cause::ChildExited,
        };
        let out = run(&mut w, 10 * NS_PER_S, answer);
        assert_eq!(
            out[1],
            Effect::Execution(Execution::Callback {
                member: 0,
                inv: 0,
                status: 500
            })
        );
        assert!(!out.iter().any(|e| matches!(e, Effect::Ack { .. })));
        let out = run(&mut w, 11 * NS_PER_S, Input::CallbackDone { member: 0 });
        assert_eq!(out[0], Effect::Ack { member: 0, inv: 0 });
        assert_eq!(
            out[1],
            Effect::Execution(Execution::Call {
                member: 0,
                inv: 1,
                exec: 101,
                dial: true
            }),
            "the 500 is acked, never retried; the next call dials again"
        );
    }

    #[test]
    fn a_transport_error_is_called_back_as_503() {
        let mut w = workers(1, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Deliver { member: 0, inv: 0 });
        let answer = Input::Answer {
            exec: 100,
            status: Status::Error,
            cause: Cause::GatewayExited,
        };
        let out = run(&mut w, NS_PER_S, answer);
        assert!(out.contains(&Effect::Execution(Execution::Callback {
            member: 0,
            inv: 0,
            status: 503
        })));
    }

    #[test]
    fn without_a_callback_the_ack_follows_the_call() {
        let mut w = workers(1, false);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Deliver { member: 0, inv: 3 });
        let answer = Input::Answer {
            exec: 100,
            status: Status::Code(200),
            cause: Cause::Handler,
        };
        let out = run(&mut w, NS_PER_S, answer);
        assert_eq!(out[1], Effect::Ack { member: 0, inv: 3 });
    }

    #[test]
    fn a_restart_starts_a_new_pod_then_the_old_one_exits_without_ack() {
        let mut w = workers(1, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Deliver { member: 0, inv: 0 });
        let out = run(&mut w, 5 * NS_PER_S, Input::Restart);
        assert_eq!(
            out,
            vec![Effect::Arm {
                at_ns: 7 * NS_PER_S,
                timer: Timer::Started { member: 1 }
            }]
        );
        let out = run(
            &mut w,
            7 * NS_PER_S,
            Input::Timer(Timer::Started { member: 1 }),
        );
        assert_eq!(
            out,
            vec![
                Effect::Join { member: 1 },
                Effect::Execution(Execution::Abandon { exec: 100 }),
                Effect::Execution(Execution::Finish {
                    exec: 100,
                    status: Status::Error,
                    cause: Cause::QueueWorkerExited
                }),
                Effect::Died { member: 0 },
            ]
        );
        assert!(
            !w.holds(0),
            "the dead pod's call is nobody's until redelivered"
        );
        // A late answer to the dead pod is ignored.
        let answer = Input::Answer {
            exec: 100,
            status: Status::Code(200),
            cause: Cause::Handler,
        };
        assert!(run(&mut w, 8 * NS_PER_S, answer).is_empty());
    }

    #[test]
    fn an_ack_wait_below_a_second_never_subscribes() {
        let config = QueueWorkerConfig {
            ack_wait_ns: 0,
            ..QueueWorkerConfig::default()
        };
        let mut w = QueueWorkers::new(&config, false, 10, true);
        assert!(run(&mut w, 0, Input::Start).is_empty());
    }
}
