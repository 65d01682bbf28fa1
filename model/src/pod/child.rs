//! The function's own server behind the watchdog (HTTP mode), on loopback: the watchdog's
//! keep-alive pool towards it, the handler's run, the child's `write_timeout` (500), its drain
//! after the forwarded SIGTERM, and its death (a child that dies on the signal takes the
//! watchdog with it: `cmd.Wait` errors and the watchdog calls `log.Fatalf`).

use super::{Effect, Pods, Timer};
use crate::choice::{Chooser, Stream};
use crate::config::{Mode, server_limit_ns};
use crate::ledger::{Cause, Fact, PodId, RequestId};
use crate::pool::{Checkout, Reach};
use crate::run::PodEnd;
use crate::server::{Phase, Step};
use crate::time::{NS_PER_MS, Nanos};

/// The watchdog's transport to its child closes idle connections after this long (Go's
/// `http.Transport` in of-watchdog: `IdleConnTimeout` 500 ms).
const CHILD_IDLE_CONN_TIMEOUT_NS: Nanos = 500 * NS_PER_MS;

impl Pods {
    /// The watchdog calls its child on a pooled connection or a new dial; a replayable
    /// request that meets a close is retried (Go's transport), anything else that finds no
    /// listener fails with 500.
    pub(super) fn child_call(
        &mut self,
        now: Nanos,
        req: RequestId,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        // Loopback: the request is there at once; the FIN takes a tenth of a round trip.
        let reach = Reach {
            request_ns: 0,
            fin_ns: self.rtt_ns / 10,
        };
        let (server_idle_ns, replayable) = (self.function.child.read_timeout_ns, self.replayable);
        let p = &mut self.pods[pod as usize];
        let checkout =
            p.child_pool
                .checkout(now, CHILD_IDLE_CONN_TIMEOUT_NS, server_idle_ns, reach);
        let reachable = match checkout {
            Checkout::Reused => true,
            Checkout::Race if replayable => {
                out.push(Effect::Learn {
                    req,
                    fact: Fact::Retried,
                });
                p.child.listening()
            }
            Checkout::Race | Checkout::Hang => false,
            Checkout::Dial => p.child.listening(),
        };
        if reachable {
            p.child.active += 1;
            let call = &mut self.calls[req];
            call.in_child = true;
            call.child_header_ns = now;
            self.start_handler(now, req, pod, chooser, out);
        } else {
            out.push(Effect::Learn {
                req,
                fact: Fact::Refused,
            });
            self.respond(now, req, 500, Cause::ChildRefused, out);
        }
    }

    /// The handler runs for its own draw of the handler's duration.
    pub(super) fn start_handler(
        &mut self,
        now: Nanos,
        req: RequestId,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let span = self.function.handler_ns;
        let key = self.calls[req].key;
        let duration_ns = span.draw_keyed(chooser, Stream::Handler, key);
        out.push(Effect::Learn {
            req,
            fact: Fact::Started,
        });
        self.calls[req].handler_end_ns = now + duration_ns;
        out.push(Effect::Arm {
            at_ns: now + duration_ns,
            pod,
            generation: self.pods[pod as usize].generation,
            timer: Timer::HandlerDone { req },
        });
    }

    /// The handler returned: the child writes its response (past its write_timeout the
    /// write fails and the watchdog answers 500), and the watchdog writes its own, unless
    /// the request left meanwhile (a timer, a cancel, an exit).
    pub(super) fn handler_done(
        &mut self,
        now: Nanos,
        req: RequestId,
        pod: PodId,
        out: &mut Vec<Effect>,
    ) {
        let call = self.calls[req];
        if self.function.watchdog.mode == Mode::Streaming {
            if call.orphan_fork {
                self.fork_ended(req, pod);
            } else if call.in_watchdog && call.wanted {
                let cause = if call.killed {
                    Cause::ExecTimeout
                } else {
                    Cause::Handler
                };
                self.respond(now, req, 200, cause, out);
            } else if call.in_watchdog {
                // Its caller left and the cancel is still on its way: the process ended, so
                // the watchdog's handler returns (its write goes nowhere).
                self.unread(req, pod);
            }
            return;
        }
        let p = &mut self.pods[pod as usize];
        // The child's count can be behind a call the watchdog cancelled when it exited.
        p.child.active = p.child.active.saturating_sub(1);
        if !call.in_child {
            return;
        }
        self.calls[req].in_child = false;
        if !call.in_watchdog {
            // The cancel reached the watchdog first: Go's transport closed the connection to
            // the child when the request's context ended, so it does not go back to the pool.
            return;
        }
        let late = server_limit_ns(self.function.child.write_timeout_ns)
            .is_some_and(|limit| now - call.child_header_ns > limit);
        if !late {
            // The proxy read the child's whole response: the connection goes back to the pool.
            let p = &mut self.pods[pod as usize];
            if matches!(p.child.phase, Phase::Serving | Phase::Draining) {
                p.child_pool.checkin(now, now);
            }
        }
        if !call.wanted {
            // Its caller left and the cancel is still on its way: the watchdog's handler
            // returns now, its write going nowhere.
            self.unread(req, pod);
        } else if late {
            self.respond(now, req, 500, Cause::ChildWriteTimeout, out);
        } else {
            self.respond(now, req, 200, Cause::Handler, out);
        }
    }

    pub(super) fn child_step(
        &mut self,
        now: Nanos,
        pod: PodId,
        step: Step,
        first: bool,
        out: &mut Vec<Effect>,
    ) {
        let generation = self.pods[pod as usize].generation;
        match step {
            Step::ExitAt(at) if at <= now => self.pods[pod as usize].child.exit(),
            Step::ExitAt(at_ns) => out.push(Effect::Arm {
                at_ns,
                pod,
                generation,
                timer: Timer::ChildExit,
            }),
            Step::PollAt {
                poll_ns,
                deadline_ns,
            } => {
                out.push(Effect::Arm {
                    at_ns: poll_ns,
                    pod,
                    generation,
                    timer: Timer::ChildPoll,
                });
                if first && let Some(at_ns) = deadline_ns {
                    out.push(Effect::Arm {
                        at_ns,
                        pod,
                        generation,
                        timer: Timer::ChildDeadline,
                    });
                }
            }
            Step::DieNow => self.child_dies(now, pod, false, out),
            Step::Idle | Step::CloseListenerAt(_) => {}
        }
    }

    /// The child process is gone. Requests it was serving fail in the watchdog (500). When it
    /// died of the signal, `cmd.Wait` errors and the watchdog `log.Fatalf`s at once.
    pub(super) fn child_dies(
        &mut self,
        now: Nanos,
        pod: PodId,
        by_signal: bool,
        out: &mut Vec<Effect>,
    ) {
        self.note(out, pod, || {
            if by_signal {
                "child dies on SIGTERM; watchdog exits (log.Fatalf)".into()
            } else {
                "child exits at its drain deadline".into()
            }
        });
        let p = &mut self.pods[pod as usize];
        p.child.exit();
        p.child_pool.server_closed_all(now);
        let serving: Vec<RequestId> = p
            .active
            .iter()
            .copied()
            .filter(|&r| self.calls[r].in_child)
            .collect();
        for req in serving {
            self.calls[req].in_child = false;
            out.push(Effect::Learn {
                req,
                fact: Fact::Lost(Cause::ChildExited),
            });
            self.respond(now, req, 500, Cause::ChildExited, out);
        }
        if by_signal {
            assert_eq!(
                self.pods[pod as usize].end,
                PodEnd::Running,
                "the watchdog exits once"
            );
            self.process_exit(now, pod, Cause::WatchdogExit, PodEnd::Exited, out);
        }
    }
}
