//! The queue-workers of OpenFaaS Pro (the JetStream worker, closed source: its behaviour from
//! openfaas/docs@eac50c7 `reference/async.md`, `openfaas-pro/retries.md`,
//! `openfaas-pro/jetstream.md` and openfaas/faas-netes@662ce9c `chart/openfaas/values.yaml`),
//! every replica of the Deployment and the JetStream work queue they fetch from. Each worker:
//! - fetches calls while it has a free slot: up to `maxInflight` calls at once;
//! - calls `POST http://gateway:8080/function/NAME` with its own timeout `upstreamTimeout`,
//!   extending the call's lease while it runs (no redelivery of a running call);
//! - retries an attempt that ended with a status in `retryHttpCodes`, with no status (a
//!   connection error or its own timeout), or with an error of the gateway or provider
//!   (`X-OpenFaaS-Internal`: `internal`), at most `maxRetryAttempts` attempts in all, after a
//!   backoff (`retry_wait_ns`, drawn with jitter by `backoff_wait_ns` when
//!   `queueWorker.backoff` is `full` or `equal`), or after the `Retry-After` the function sent with a 429 or 503,
//!   floored at `initialRetryWait`;
//! - posts one callback after the final attempt, success or last failure, with its status,
//!   then acknowledges the call (`QueueWorkerConfig::pro_ack_before_callback` turns the order
//!   round: the exact ack point is not public);
//! - on SIGTERM stops fetching and lets its calls finish within its grace period; SIGKILL at
//!   its end cuts them, and their leases run out `ackWait` later, when another worker fetches
//!   them.
//!
//! `restartQueueWorker` is a rollout as for the CE worker: one new pod at a time, which
//! fetches `QueueWorkerConfig::startup_ns` [inferred] after its creation; then the old pod
//! gets SIGTERM. Workers fetch in turn (round robin over the live ones with a free slot).

use crate::choice::{Chooser, Stream};
use crate::config::{Backoff, QueueWorkerConfig};
use crate::execution::Execution;
use crate::jetstream::JetStream;
use crate::ledger::{Cause, RequestId, Status};
use crate::queue::MemberId;
use crate::time::{Nanos, stamp};

/// How an attempt ended, as the worker's client saw it.
#[derive(Clone, Copy, Debug)]
struct Ended {
    /// The execution.
    exec: RequestId,
    /// Its status (`Error`: none).
    status: Status,
    /// Why it ended so.
    cause: Cause,
    /// The `Retry-After` it carried.
    retry_after_ns: Option<Nanos>,
}

/// A timer of the Pro workers and their stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The new pod `member` of a rollout runs and fetches.
    Started {
        /// The member.
        member: MemberId,
    },
    /// The call of `inv` is ready again: a retry's delay passed, or a dead worker's lease ran
    /// out.
    Ready {
        /// The invocation.
        inv: RequestId,
        /// The stream's generation of the message when armed (older ones are stale).
        generation: u32,
    },
    /// The worker's own timeout (`upstreamTimeout`) on execution `exec`.
    UpstreamTimeout {
        /// The execution.
        exec: RequestId,
    },
    /// The grace period of `member` ran out: SIGKILL.
    Grace {
        /// The member.
        member: MemberId,
    },
}

/// What the Pro workers receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The run starts: the Deployment's replicas are running.
    Start,
    /// The gateway published the call of `inv` to the stream.
    Publish {
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
        /// The `Retry-After` the answer carried, if any (nothing in the model sends one:
        /// of-watchdog's 429 carries none).
        retry_after_ns: Option<Nanos>,
    },
    /// The callback receiver answered `member`'s callback of `inv`.
    CallbackDone {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
        /// With a 2xx (else it failed the callback).
        accepted: bool,
    },
    /// `kubectl rollout restart` of the queue-worker's Deployment.
    Restart,
    /// A timer armed earlier is due.
    Timer(Timer),
}

/// What the Pro workers ask of their engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A call to the gateway, its end, or a callback: what both editions share.
    Execution(Execution),
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
    /// The input was a timer with nothing left to do (its call moved on).
    Stale,
}

/// The statuses a Pro worker reports for an attempt with no status (a connection error or
/// its own timeout) in the callback: [inferred] 503, as the CE worker's `postResult` does.
pub const NO_STATUS_CALLBACK_CODE: u16 = 503;

/// [inferred: the formula is not public] The wait before retry number `retry` (1 for the
/// first): the documented shape, starting at `initialRetryWait` and doubling up to
/// `maxRetryWait` (docs `openfaas-pro/retries.md`, `backoff: exponential`, no jitter):
/// `min(max_wait, initial_wait · 2^(retry−1))`.
pub fn retry_wait_ns(config: &QueueWorkerConfig, retry: u32) -> Nanos {
    debug_assert!(retry >= 1, "retries are numbered from 1");
    let doubling = 1u64
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u64::MAX);
    config
        .initial_retry_wait_ns
        .saturating_mul(doubling)
        .min(config.max_retry_wait_ns.max(config.initial_retry_wait_ns))
}

/// The wait before retry number `retry` of call `inv` under the configured backoff: the
/// exponential wait, or a draw below it (full: 0 to all of it; equal: half to all). The draw
/// is keyed by the call and the retry, so it does not depend on the order calls fail in.
pub fn backoff_wait_ns(
    config: &QueueWorkerConfig,
    inv: RequestId,
    retry: u32,
    chooser: &mut dyn Chooser,
) -> Nanos {
    let wait = retry_wait_ns(config, retry);
    let key = (u64::from(inv) << 32) | u64::from(retry);
    let floor = match config.backoff {
        Backoff::Exponential => return wait,
        Backoff::Full => 0,
        Backoff::Equal => wait / 2,
    };
    if floor == wait {
        return wait;
    }
    let drawn = chooser.pick_u64_keyed(Stream::Retries, key, floor, wait);
    debug_assert!((floor..=wait).contains(&drawn), "a draw within its range");
    drawn
}

/// The sum of the waits of every retry `max_retry_attempts` allows: how long a call can wait
/// in all between its first and last attempt (the attempts' own time aside).
pub fn retry_budget_ns(config: &QueueWorkerConfig) -> Nanos {
    (1..config.max_retry_attempts.max(1))
        .map(|retry| retry_wait_ns(config, retry))
        .fold(0, Nanos::saturating_add)
}

/// An error of the gateway or the provider, which answer with `X-OpenFaaS-Internal` (the
/// provider's proxy: openfaas/faas-provider@f53fe63 `proxy/proxy.go`; the gateway's 502 on
/// its upstream timeout), as opposed to a status of the function's watchdog or handler. The
/// Pro worker retries these whatever `retryHttpCodes` says (docs `openfaas-pro/retries.md`).
pub fn internal(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::UpstreamTimeout
            | Cause::ProviderTimeout
            | Cause::ProviderWriteTimeout
            | Cause::WatchdogWriteTimeout
            | Cause::NoEndpoints
            | Cause::ConnectionRefused
            | Cause::KeepAliveReset
            | Cause::Sigkill
            | Cause::DrainDeadline
            | Cause::WatchdogExit
            | Cause::NodeLost
            | Cause::PodCrash
    )
}

/// What a slot of a worker is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Calling the gateway: execution `exec`, attempt `attempt`.
    Calling {
        /// The execution.
        exec: RequestId,
        /// The attempt's number (the delivery's).
        attempt: u32,
    },
    /// Posting the final callback: its `X-Function-Status`, and how many times it was posted.
    Callback {
        /// The status it carries.
        code: u16,
        /// Posts so far, the first included.
        posts: u32,
    },
}

/// One worker pod.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Worker {
    /// Its process runs.
    alive: bool,
    /// It fetches new calls (started and not told to stop).
    fetching: bool,
    /// SIGTERM came: it exits when its calls are done.
    stopping: bool,
    /// The calls it holds, each with its step.
    slots: Vec<(RequestId, Step)>,
}

/// Every Pro queue-worker pod and the stream: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProQueueWorkers {
    /// The settings.
    config: QueueWorkerConfig,
    /// The calls carry an `X-Callback-Url`.
    callback: bool,
    /// The JetStream work queue.
    stream: JetStream,
    /// Every pod, by member id.
    workers: Vec<Worker>,
    /// The member whose turn it is to fetch next.
    turn: MemberId,
    /// The next execution's id.
    next_exec: RequestId,
    /// Each execution's member and invocation, by `exec - first_exec`.
    execs: Vec<(MemberId, RequestId)>,
    /// The first execution's id (after every request of the load).
    first_exec: RequestId,
    /// Old pods a rollout still has to replace, oldest first.
    to_replace: std::collections::VecDeque<MemberId>,
    /// Whether the timeline is recorded.
    tracing: bool,
}

impl ProQueueWorkers {
    /// The Deployment with `config`; executions are numbered from `first_exec` on.
    pub fn new(
        config: &QueueWorkerConfig,
        callback: bool,
        first_exec: RequestId,
        tracing: bool,
    ) -> ProQueueWorkers {
        debug_assert!(config.max_inflight >= 1, "a worker runs at least one call");
        ProQueueWorkers {
            config: config.clone(),
            callback,
            stream: JetStream::new(config.ack_wait_ns),
            workers: Vec::new(),
            turn: 0,
            next_exec: first_exec,
            execs: Vec::new(),
            first_exec,
            to_replace: std::collections::VecDeque::new(),
            tracing,
        }
    }

    /// The invocation and member of execution `exec`.
    pub fn execution(&self, exec: RequestId) -> (MemberId, RequestId) {
        self.execs[(exec - self.first_exec) as usize]
    }

    /// The call of `inv` may still run: it is still in the work queue.
    pub fn pending(&self, inv: RequestId) -> bool {
        self.stream.pending(inv)
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
    pub fn handle(
        &mut self,
        now: Nanos,
        input: Input,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match input {
            Input::Start => {
                for _ in 0..self.config.replicas {
                    let member = self.create();
                    self.workers[member as usize].fetching = true;
                }
                self.pump(now, out);
            }
            Input::Publish { inv } => {
                self.stream.publish(inv);
                self.pump(now, out);
            }
            Input::Answer {
                exec,
                status,
                cause,
                retry_after_ns,
            } => {
                let ended = Ended {
                    exec,
                    status,
                    cause,
                    retry_after_ns,
                };
                self.answer(now, ended, chooser, out)
            }
            Input::CallbackDone {
                member,
                inv,
                accepted,
            } => {
                let worker = &self.workers[member as usize];
                let posted = worker.slots.iter().find_map(|&(i, step)| match step {
                    Step::Callback { code, posts } if i == inv => Some((code, posts)),
                    _ => None,
                });
                let Some((code, posts)) = posted.filter(|_| worker.alive) else {
                    return;
                };
                let retries = self.config.callback_retries;
                if !accepted && posts <= retries {
                    self.note(
                        member,
                        || format!("call {inv}: callback failed, posted again ({posts}/{retries})"),
                        out,
                    );
                    let posts = posts + 1;
                    self.set_step(member, inv, Step::Callback { code, posts });
                    out.push(Effect::Execution(Execution::Callback {
                        member,
                        inv,
                        status: code,
                    }));
                    return;
                }
                if !accepted {
                    self.note(
                        member,
                        || format!("call {inv}: callback failed, no callback retry left"),
                        out,
                    );
                }
                if !self.config.pro_ack_before_callback {
                    self.stream.ack(member, inv);
                }
                self.release(now, member, inv, out);
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
                self.note(member, || "started: fetches from the stream".into(), out);
                self.workers[member as usize].fetching = true;
                if let Some(old) = self.to_replace.pop_front() {
                    self.sigterm(now, old, out);
                }
                self.replace_next(now, out);
                self.pump(now, out);
            }
            Input::Timer(Timer::Ready { inv, generation }) => {
                if self.stream.due(inv, generation) {
                    self.pump(now, out);
                } else {
                    out.push(Effect::Stale);
                }
            }
            Input::Timer(Timer::UpstreamTimeout { exec }) => {
                let (member, inv) = self.execution(exec);
                if self.calling(member, inv, exec).is_some() {
                    let timeout = self.config.upstream_timeout_ns;
                    self.note(
                        member,
                        || format!("call {inv}: its upstreamTimeout {} ran out", stamp(timeout)),
                        out,
                    );
                    out.push(Effect::Execution(Execution::Abandon { exec }));
                    let ended = Ended {
                        exec,
                        status: Status::Error,
                        cause: Cause::ClientTimeout,
                        retry_after_ns: None,
                    };
                    self.answer(now, ended, chooser, out);
                } else {
                    out.push(Effect::Stale);
                }
            }
            Input::Timer(Timer::Grace { member }) => {
                if self.workers[member as usize].alive {
                    self.kill(now, member, out);
                } else {
                    out.push(Effect::Stale);
                }
            }
        }
    }

    /// The attempt `exec` of `member` for `inv`, if the worker still waits for it.
    fn calling(&self, member: MemberId, inv: RequestId, exec: RequestId) -> Option<u32> {
        let worker = &self.workers[member as usize];
        if !worker.alive {
            return None;
        }
        worker.slots.iter().find_map(|&(i, step)| match step {
            Step::Calling { exec: e, attempt } if i == inv && e == exec => Some(attempt),
            _ => None,
        })
    }

    /// An attempt ended: retry it after its wait, or call back and acknowledge.
    fn answer(
        &mut self,
        now: Nanos,
        ended: Ended,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let Ended {
            exec,
            status,
            cause,
            retry_after_ns,
        } = ended;
        let (member, inv) = self.execution(exec);
        let Some(attempt) = self.calling(member, inv, exec) else {
            return;
        };
        out.push(Effect::Execution(Execution::Finish {
            exec,
            status,
            cause,
        }));
        let retryable = match status {
            Status::Error => true,
            Status::Code(code) => self.config.retry_http_codes.contains(&code) || internal(cause),
        };
        let attempts = self.config.max_retry_attempts.max(1);
        if retryable && attempt < attempts {
            let honoured = match (status, retry_after_ns) {
                (Status::Code(429 | 503), Some(after)) => {
                    Some(after.max(self.config.initial_retry_wait_ns))
                }
                _ => None,
            };
            let wait =
                honoured.unwrap_or_else(|| backoff_wait_ns(&self.config, inv, attempt, chooser));
            self.note(
                member,
                || {
                    format!(
                        "call {inv}: attempt {attempt}/{attempts} ended {status}: retried in {}{}",
                        stamp(wait),
                        if honoured.is_some() {
                            " (its Retry-After)"
                        } else {
                            ""
                        }
                    )
                },
                out,
            );
            if let Some(generation) = self.stream.nak(member, inv) {
                out.push(Effect::Arm {
                    at_ns: now + wait,
                    timer: Timer::Ready { inv, generation },
                });
            }
            self.release(now, member, inv, out);
            return;
        }
        if retryable {
            self.note(
                member,
                || {
                    format!(
                        "call {inv}: attempt {attempt}/{attempts} ended {status}: no retry left"
                    )
                },
                out,
            );
        }
        if self.callback {
            let code = match status {
                Status::Code(code) => code,
                Status::Error => NO_STATUS_CALLBACK_CODE,
            };
            if self.config.pro_ack_before_callback {
                self.stream.ack(member, inv);
            }
            self.set_step(member, inv, Step::Callback { code, posts: 1 });
            out.push(Effect::Execution(Execution::Callback {
                member,
                inv,
                status: code,
            }));
        } else {
            self.stream.ack(member, inv);
            self.release(now, member, inv, out);
        }
    }

    fn set_step(&mut self, member: MemberId, inv: RequestId, step: Step) {
        let worker = &mut self.workers[member as usize];
        if let Some(slot) = worker.slots.iter_mut().find(|(i, _)| *i == inv) {
            slot.1 = step;
        }
    }

    /// `member` is done with `inv`: its slot frees; a stopping worker with none left exits.
    fn release(&mut self, now: Nanos, member: MemberId, inv: RequestId, out: &mut Vec<Effect>) {
        let worker = &mut self.workers[member as usize];
        worker.slots.retain(|(i, _)| *i != inv);
        if worker.stopping && worker.slots.is_empty() {
            worker.alive = false;
            self.note(member, || "its calls are done: exits".into(), out);
        }
        self.pump(now, out);
    }

    /// Hand ready calls to workers with a free slot, in turn.
    fn pump(&mut self, now: Nanos, out: &mut Vec<Effect>) {
        let count = self.workers.len() as MemberId;
        while self.stream.has_ready() && count > 0 {
            let max = self.config.max_inflight as usize;
            let Some(member) = (0..count).map(|k| (self.turn + k) % count).find(|&m| {
                let w = &self.workers[m as usize];
                w.alive && w.fetching && w.slots.len() < max
            }) else {
                return;
            };
            self.turn = (member + 1) % count;
            let Some((inv, attempt)) = self.stream.fetch(member) else {
                return;
            };
            let exec = self.next_exec;
            self.next_exec += 1;
            self.execs.push((member, inv));
            self.workers[member as usize]
                .slots
                .push((inv, Step::Calling { exec, attempt }));
            if attempt > 1 {
                self.note(member, || format!("call {inv}: attempt {attempt}"), out);
            }
            out.push(Effect::Execution(Execution::Call {
                member,
                inv,
                exec,
                // [inferred] The Pro worker dials each call: keep-alives are not modelled for it.
                dial: true,
            }));
            out.push(Effect::Arm {
                at_ns: now + self.config.upstream_timeout_ns,
                timer: Timer::UpstreamTimeout { exec },
            });
        }
    }

    /// A new pod, not yet fetching.
    fn create(&mut self) -> MemberId {
        let member = self.workers.len() as MemberId;
        self.workers.push(Worker {
            alive: true,
            fetching: false,
            stopping: false,
            slots: Vec::new(),
        });
        member
    }

    /// The rollout creates the next new pod while old ones remain.
    fn replace_next(&mut self, now: Nanos, out: &mut Vec<Effect>) {
        if self.to_replace.is_empty() {
            return;
        }
        let member = self.create();
        self.note(member, || "created by the rollout".into(), out);
        out.push(Effect::Arm {
            at_ns: now + self.config.startup_ns,
            timer: Timer::Started { member },
        });
    }

    /// SIGTERM: stop fetching, let the calls in hand finish within the grace period.
    fn sigterm(&mut self, now: Nanos, member: MemberId, out: &mut Vec<Effect>) {
        let worker = &mut self.workers[member as usize];
        worker.fetching = false;
        worker.stopping = true;
        let held = worker.slots.len();
        if held == 0 {
            worker.alive = false;
            self.note(member, || "SIGTERM: no call in hand, exits".into(), out);
            return;
        }
        let grace = self.config.grace_ns;
        self.note(
            member,
            || {
                format!(
                    "SIGTERM: stops fetching, lets its {held} call(s) finish within {}",
                    stamp(grace)
                )
            },
            out,
        );
        out.push(Effect::Arm {
            at_ns: now + grace,
            timer: Timer::Grace { member },
        });
    }

    /// SIGKILL at the end of the grace period: the calls in hand are cut and their leases
    /// run out `ackWait` later.
    fn kill(&mut self, now: Nanos, member: MemberId, out: &mut Vec<Effect>) {
        let worker = &mut self.workers[member as usize];
        worker.alive = false;
        let slots = std::mem::take(&mut worker.slots);
        self.note(
            member,
            || "SIGKILL at the end of its grace: its calls are cut, unacknowledged".into(),
            out,
        );
        for (_, step) in slots {
            if let Step::Calling { exec, .. } = step {
                out.push(Effect::Execution(Execution::Abandon { exec }));
                out.push(Effect::Execution(Execution::Finish {
                    exec,
                    status: Status::Error,
                    cause: Cause::QueueWorkerExited,
                }));
            }
        }
        for (inv, at_ns, generation) in self.stream.died(now, member) {
            out.push(Effect::Arm {
                at_ns,
                timer: Timer::Ready { inv, generation },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::First;
    use crate::time::NS_PER_S;

    fn config() -> QueueWorkerConfig {
        QueueWorkerConfig {
            edition: crate::config::QueueEdition::Pro,
            max_inflight: 50,
            ..QueueWorkerConfig::default()
        }
    }

    fn run(w: &mut ProQueueWorkers, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        w.handle(now, input, &mut First, &mut out);
        out.retain(|e| !matches!(e, Effect::Note { .. }));
        out
    }

    fn answer(exec: RequestId, code: u16, cause: Cause) -> Input {
        Input::Answer {
            exec,
            status: Status::Code(code),
            cause,
            retry_after_ns: None,
        }
    }

    fn ready_at(out: &[Effect]) -> Option<(Nanos, Timer)> {
        out.iter().find_map(|e| match e {
            Effect::Arm {
                at_ns,
                timer: timer @ Timer::Ready { .. },
            } => Some((*at_ns, *timer)),
            _ => None,
        })
    }

    /// A chooser that always takes the top of the range, to see the draw's upper bound.
    struct Top;
    impl Chooser for Top {
        fn pick_u64(&mut self, _: Stream, _: u64, hi: u64) -> u64 {
            hi
        }
        fn pick_index(&mut self, _: Stream, n: usize) -> usize {
            n - 1
        }
    }

    #[test]
    fn full_and_equal_jitter_draw_below_the_exponential_wait() {
        let mut c = config();
        let wait = retry_wait_ns(&c, 3);
        assert_eq!(
            backoff_wait_ns(&c, 7, 3, &mut First),
            wait,
            "exponential: no draw"
        );
        c.backoff = Backoff::Full;
        assert_eq!(backoff_wait_ns(&c, 7, 3, &mut First), 0);
        assert_eq!(backoff_wait_ns(&c, 7, 3, &mut Top), wait);
        c.backoff = Backoff::Equal;
        assert_eq!(backoff_wait_ns(&c, 7, 3, &mut First), wait / 2);
        assert_eq!(backoff_wait_ns(&c, 7, 3, &mut Top), wait);
    }

    #[test]
    fn the_backoff_doubles_from_the_initial_wait_up_to_the_maximum() {
        let c = config();
        let waits: Vec<u64> = (1..=6).map(|n| retry_wait_ns(&c, n) / NS_PER_S).collect();
        assert_eq!(waits, vec![10, 20, 40, 80, 120, 120]);
        let three = QueueWorkerConfig {
            max_retry_attempts: 3,
            ..c
        };
        assert_eq!(retry_budget_ns(&three), 30 * NS_PER_S);
        assert_eq!(retry_wait_ns(&three, 200), 120 * NS_PER_S, "no overflow");
    }

    #[test]
    fn one_worker_runs_up_to_max_inflight_calls_at_once() {
        let c = QueueWorkerConfig {
            max_inflight: 2,
            ..config()
        };
        let mut w = ProQueueWorkers::new(&c, false, 100, true);
        run(&mut w, 0, Input::Start);
        let calls = |out: &[Effect]| {
            out.iter()
                .filter(|e| matches!(e, Effect::Execution(Execution::Call { .. })))
                .count()
        };
        for inv in 0..3 {
            let out = run(&mut w, 0, Input::Publish { inv });
            assert_eq!(calls(&out), usize::from(inv < 2), "call {inv}");
        }
        let out = run(&mut w, NS_PER_S, answer(100, 200, Cause::Handler));
        assert_eq!(calls(&out), 1, "the freed slot fetches the third call");
        assert!(!w.pending(0));
        assert!(w.pending(2));
    }

    #[test]
    fn a_429_is_retried_after_the_backoff_and_the_callback_follows_the_last_attempt() {
        let mut w = ProQueueWorkers::new(&config(), true, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        let out = run(&mut w, NS_PER_S, answer(100, 429, Cause::MaxInflight));
        assert!(
            !out.iter()
                .any(|e| matches!(e, Effect::Execution(Execution::Callback { .. })))
        );
        let (at, timer) = ready_at(&out).expect("a retry");
        assert_eq!(at, 11 * NS_PER_S);
        let out = run(&mut w, at, Input::Timer(timer));
        assert!(out.contains(&Effect::Execution(Execution::Call {
            member: 0,
            inv: 0,
            exec: 101,
            dial: true
        })));
        let out = run(&mut w, 12 * NS_PER_S, answer(101, 200, Cause::Handler));
        assert!(out.contains(&Effect::Execution(Execution::Callback {
            member: 0,
            inv: 0,
            status: 200
        })));
        assert!(w.pending(0), "acked only after the callback returns");
        run(
            &mut w,
            12 * NS_PER_S,
            Input::CallbackDone {
                member: 0,
                inv: 0,
                accepted: true,
            },
        );
        assert!(!w.pending(0));
    }

    #[test]
    fn retries_stop_at_max_retry_attempts_with_a_callback_of_the_last_status() {
        let c = QueueWorkerConfig {
            max_retry_attempts: 2,
            ..config()
        };
        let mut w = ProQueueWorkers::new(&c, true, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        let out = run(&mut w, NS_PER_S, answer(100, 500, Cause::Handler));
        let (at, timer) = ready_at(&out).expect("a retry");
        run(&mut w, at, Input::Timer(timer));
        let out = run(&mut w, at + NS_PER_S, answer(101, 500, Cause::Handler));
        assert!(ready_at(&out).is_none(), "no third attempt");
        assert!(out.contains(&Effect::Execution(Execution::Callback {
            member: 0,
            inv: 0,
            status: 500
        })));
    }

    #[test]
    fn a_status_outside_the_codes_is_final_unless_the_gateway_or_provider_sent_it() {
        let c = QueueWorkerConfig {
            retry_http_codes: vec![429],
            ..config()
        };
        let mut w = ProQueueWorkers::new(&c, false, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        run(&mut w, 0, Input::Publish { inv: 1 });
        let out = run(&mut w, NS_PER_S, answer(100, 500, Cause::ChildExited));
        assert!(ready_at(&out).is_none(), "the function's own 500");
        let out = run(&mut w, NS_PER_S, answer(101, 500, Cause::Sigkill));
        assert!(ready_at(&out).is_some(), "X-OpenFaaS-Internal");
    }

    #[test]
    fn retry_after_replaces_the_backoff_floored_at_the_initial_wait() {
        let mut w = ProQueueWorkers::new(&config(), false, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        run(&mut w, 0, Input::Publish { inv: 1 });
        let after = |exec, s| Input::Answer {
            exec,
            status: Status::Code(429),
            cause: Cause::MaxInflight,
            retry_after_ns: Some(s * NS_PER_S),
        };
        let out = run(&mut w, 0, after(100, 45));
        assert_eq!(ready_at(&out).map(|r| r.0), Some(45 * NS_PER_S));
        let out = run(&mut w, 0, after(101, 2));
        assert_eq!(ready_at(&out).map(|r| r.0), Some(10 * NS_PER_S));
    }

    #[test]
    fn its_own_timeout_cuts_the_attempt_and_retries_it() {
        let mut w = ProQueueWorkers::new(&config(), false, 100, true);
        run(&mut w, 0, Input::Start);
        let out = run(&mut w, 0, Input::Publish { inv: 0 });
        let timeout = out
            .iter()
            .find_map(|e| match e {
                Effect::Arm {
                    at_ns,
                    timer: t @ Timer::UpstreamTimeout { .. },
                } => Some((*at_ns, *t)),
                _ => None,
            })
            .expect("a timeout");
        assert_eq!(timeout.0, 60 * NS_PER_S);
        let out = run(&mut w, timeout.0, Input::Timer(timeout.1));
        assert_eq!(out[0], Effect::Execution(Execution::Abandon { exec: 100 }));
        assert_eq!(
            out[1],
            Effect::Execution(Execution::Finish {
                exec: 100,
                status: Status::Error,
                cause: Cause::ClientTimeout
            })
        );
        assert!(ready_at(&out).is_some());
        // The gateway's late answer to the cut attempt is ignored.
        assert!(run(&mut w, timeout.0, answer(100, 502, Cause::UpstreamTimeout)).is_empty());
    }

    #[test]
    fn sigterm_lets_the_call_finish_and_sigkill_leaves_it_to_another_worker() {
        let c = QueueWorkerConfig {
            upstream_timeout_ns: 600 * NS_PER_S,
            ..config()
        };
        let mut w = ProQueueWorkers::new(&c, false, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        run(&mut w, NS_PER_S, Input::Restart);
        let out = run(
            &mut w,
            3 * NS_PER_S,
            Input::Timer(Timer::Started { member: 1 }),
        );
        assert_eq!(
            out,
            vec![Effect::Arm {
                at_ns: 33 * NS_PER_S,
                timer: Timer::Grace { member: 0 }
            }],
            "no cut at SIGTERM: the grace period starts"
        );
        run(&mut w, 4 * NS_PER_S, Input::Publish { inv: 1 });
        assert_eq!(w.execution(101), (1, 1), "the new pod fetches, the old not");
        let out = run(
            &mut w,
            33 * NS_PER_S,
            Input::Timer(Timer::Grace { member: 0 }),
        );
        assert_eq!(out[0], Effect::Execution(Execution::Abandon { exec: 100 }));
        let (at, timer) = ready_at(&out).expect("the lease runs out");
        assert_eq!(at, 93 * NS_PER_S, "ack_wait (60s) after the kill");
        let out = run(&mut w, at, Input::Timer(timer));
        assert!(out.contains(&Effect::Execution(Execution::Call {
            member: 1,
            inv: 0,
            exec: 102,
            dial: true
        })));
    }

    #[test]
    fn a_stopping_worker_whose_calls_end_exits_without_the_kill() {
        let mut w = ProQueueWorkers::new(&config(), false, 100, true);
        run(&mut w, 0, Input::Start);
        run(&mut w, 0, Input::Publish { inv: 0 });
        run(&mut w, 0, Input::Restart);
        run(
            &mut w,
            2 * NS_PER_S,
            Input::Timer(Timer::Started { member: 1 }),
        );
        run(&mut w, 5 * NS_PER_S, answer(100, 200, Cause::Handler));
        assert!(!w.pending(0), "acked before exiting");
        let out = run(
            &mut w,
            32 * NS_PER_S,
            Input::Timer(Timer::Grace { member: 0 }),
        );
        assert_eq!(out, vec![Effect::Stale], "already gone");
    }
}
