//! of-watchdog's request side: a provider's dial and request reaching the pod (refused when
//! nothing listens, reset when a pooled connection was closed under it), `max_inflight`
//! (429), `exec_timeout` (504 in HTTP mode; in streaming mode the process is killed and the
//! implicit 200 goes out with an empty body; the classic watchdog kills its fork and writes
//! 408), the server's `write_timeout` (past it the provider sees EOF; 0 is none, as in Go) and
//! a caller's cancel.

use super::{Call, Effect, Pods, Timer};
use crate::choice::Chooser;
use crate::config::{Mode, WatchdogKind, server_limit_ns};
use crate::ledger::{Cause, Fact, PodId, RequestId};
use crate::message::Msg;
use crate::run::PodEnd;
use crate::server::Phase;
use crate::time::Nanos;

impl Pods {
    /// The provider's SYN: accepted while the watchdog listens (the SYN-ACK goes back and the
    /// request follows it, two hops), refused otherwise, unanswered when the host vanished.
    pub(super) fn syn(&mut self, req: RequestId, pod: PodId, retry: bool, out: &mut Vec<Effect>) {
        let p = &self.pods[pod as usize];
        if p.black_hole {
            // SYNs to a vanished host: the dial hangs until a timer gives up.
            out.push(Effect::Learn {
                req,
                fact: Fact::Refused,
            });
        } else if p.end == PodEnd::Running && p.watchdog.listening() {
            let msg = Msg::ToPod {
                pod,
                reused: false,
                retry,
                generation: p.generation,
            };
            out.push(Effect::Send { req, hops: 2, msg });
        } else {
            Self::dial_failed(req, retry, out);
        }
    }

    /// A new connection failed before the request was read (an RST for the SYN, or the
    /// process gone): the provider learns it a hop later. A retry that fails is still the
    /// keep-alive race's casualty.
    fn dial_failed(req: RequestId, retry: bool, out: &mut Vec<Effect>) {
        out.push(Effect::Learn {
            req,
            fact: Fact::Refused,
        });
        let cause = if retry {
            Cause::KeepAliveReset
        } else {
            Cause::ConnectionRefused
        };
        let msg = Msg::ToProvider {
            code: 500,
            cause,
            reuse: None,
        };
        out.push(Effect::Send { req, hops: 1, msg });
    }

    /// The request's bytes reach the pod. A reused connection may have been closed since the
    /// request left (Shutdown's idle close, the process's end): a keep-alive race. A new one
    /// survives Shutdown (Go leaves a connection that has not sent its first request alone)
    /// but not the process: a failed call that Go does not retry.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn request(
        &mut self,
        now: Nanos,
        req: RequestId,
        pod: PodId,
        reused: bool,
        retry: bool,
        generation: u32,
        key: u64,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let p = &self.pods[pod as usize];
        if p.black_hole {
            out.push(Effect::Learn {
                req,
                fact: Fact::Refused,
            });
            return;
        }
        let open = if reused {
            // A pooled request takes one hop: it left then, and a close since then closed
            // its connection under it.
            let sent_ns = now - self.rtt_ns / 2;
            p.last_close_ns.is_none_or(|at| at < sent_ns)
        } else {
            p.generation == generation
        };
        if p.end == PodEnd::Running && open {
            self.accept(now, req, pod, key, chooser, out);
        } else if reused {
            out.push(Effect::Send {
                req,
                hops: 1,
                msg: Msg::Reset { pod },
            });
        } else {
            Self::dial_failed(req, retry, out);
        }
    }

    fn accept(
        &mut self,
        now: Nanos,
        req: RequestId,
        pod: PodId,
        key: u64,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let (max_inflight, exec_ns, mode) = (
            self.function.watchdog.max_inflight,
            self.function.watchdog.exec_timeout_ns,
            self.function.watchdog.mode,
        );
        let generation = self.pods[pod as usize].generation;
        let full = max_inflight > 0 && self.pods[pod as usize].active.len() as u32 >= max_inflight;
        let call = self.call(req);
        assert!(!call.in_watchdog, "request {req} is accepted twice");
        *call = Call {
            wanted: !full,
            pod,
            generation,
            watchdog_header_ns: now,
            key,
            ..Call::default()
        };
        if full {
            let msg = Msg::ToProvider {
                code: 429,
                cause: Cause::MaxInflight,
                reuse: Some(pod),
            };
            out.push(Effect::Send { req, hops: 1, msg });
            return;
        }
        call.in_watchdog = true;
        let p = &mut self.pods[pod as usize];
        p.active.push(req);
        p.watchdog.active += 1;
        if exec_ns > 0 {
            out.push(Effect::ExecDeadline {
                req,
                at_ns: Some(now + exec_ns),
            });
        }
        match mode {
            Mode::Http => self.child_call(now, req, pod, chooser, out),
            Mode::Streaming => self.start_handler(now, req, pod, chooser, out),
        }
    }

    /// The watchdog writes its response. Past write_timeout the write fails and the
    /// connection closes: the provider sees EOF (500) when the handler returns, not at the
    /// timeout.
    pub(super) fn respond(
        &mut self,
        now: Nanos,
        req: RequestId,
        code: u16,
        cause: Cause,
        out: &mut Vec<Effect>,
    ) {
        let write_timeout_ns = self.function.watchdog.write_timeout_ns;
        let call = &mut self.calls[req];
        if !call.wanted {
            return;
        }
        call.wanted = false;
        let pod = call.pod;
        out.push(Effect::ExecDeadline { req, at_ns: None });
        if call.in_watchdog {
            call.in_watchdog = false;
            self.leave_watchdog(req, pod);
        }
        let call = &self.calls[req];
        let late = server_limit_ns(write_timeout_ns)
            .is_some_and(|limit| now - call.watchdog_header_ns > limit);
        let msg = if late {
            Msg::ToProvider {
                code: 500,
                cause: Cause::WatchdogWriteTimeout,
                reuse: None,
            }
        } else {
            let phase = self.pods[pod as usize].watchdog.phase;
            let reusable = matches!(phase, Phase::Serving | Phase::Draining);
            Msg::ToProvider {
                code,
                cause,
                reuse: reusable.then_some(pod),
            }
        };
        out.push(Effect::Send { req, hops: 1, msg });
    }

    /// The request no longer counts in the watchdog's drain.
    fn leave_watchdog(&mut self, req: RequestId, pod: PodId) {
        let p = &mut self.pods[pod as usize];
        assert!(
            p.watchdog.active > 0,
            "{}: request {req} leaves an idle watchdog",
            p.name
        );
        p.watchdog.active -= 1;
        let at = p.active.iter().position(|r| *r == req);
        let at = at.unwrap_or_else(|| panic!("{}: request {req} is not active", p.name));
        p.active.swap_remove(at);
    }

    /// The pod's end of the connection is gone (the process exited or crashed): the provider
    /// sees EOF, "Can't reach service" (500), a hop later.
    pub(super) fn fail(&mut self, req: RequestId, cause: Cause, out: &mut Vec<Effect>) {
        self.calls[req].wanted = false;
        out.push(Effect::ExecDeadline { req, at_ns: None });
        let msg = Msg::ToProvider {
            code: 500,
            cause,
            reuse: None,
        };
        out.push(Effect::Send { req, hops: 1, msg });
    }

    /// exec_timeout: in HTTP mode the call to the child is cancelled (its handler runs on)
    /// and the watchdog answers 504; in streaming mode the process is killed and the
    /// implicit 200 goes out with an empty body; the classic watchdog writes 408 "Killed
    /// process." and kills its fork (openfaas/classic-watchdog handler.go @23db914).
    pub(super) fn exec_timeout(&mut self, now: Nanos, req: RequestId, out: &mut Vec<Effect>) {
        assert!(
            self.wanted(req),
            "exec_timeout of request {req} fires once, while it runs"
        );
        let held_ns = self.function.stdout_held_after_kill_ns;
        if self.function.watchdog.kind != WatchdogKind::Classic
            && self.function.watchdog.mode == Mode::Streaming
            && held_ns > 0
        {
            // The kill reaches the process alone; its children hold the pipe and Go's
            // `cmd.Wait` waits for it: the body ends when they close it, or when the handler
            // would have ended, whichever is first (`handler_done`).
            let call = &mut self.calls[req];
            call.killed = true;
            let (pod, generation) = (call.pod, call.generation);
            // The handler's own end is armed already; only an earlier close needs a timer.
            if now + held_ns < call.handler_end_ns {
                out.push(Effect::Arm {
                    at_ns: now + held_ns,
                    pod,
                    generation,
                    timer: Timer::HandlerDone { req },
                });
            }
            return;
        }
        let code = match (self.function.watchdog.kind, self.function.watchdog.mode) {
            (_, Mode::Http) => {
                self.calls[req].in_child = false;
                504
            }
            (WatchdogKind::Classic, Mode::Streaming) => 408,
            (_, Mode::Streaming) => 200,
        };
        self.respond(now, req, code, Cause::ExecTimeout, out);
    }

    /// A caller gave up: what the watchdog writes for the request is no longer read, and the
    /// cancel reaches it `hops` later, ending its call (the handler itself runs on, as Go
    /// handlers that ignore their context do).
    pub(super) fn orphaned(&mut self, req: RequestId, hops: u64, out: &mut Vec<Effect>) {
        let http = self.function.watchdog.mode == Mode::Http;
        out.push(Effect::ExecDeadline { req, at_ns: None });
        let call = self.call(req);
        assert!(http || !call.in_child, "request {req}: a fork has no child");
        call.wanted = false;
        if call.in_watchdog {
            out.push(Effect::Cancel {
                req,
                pod: call.pod,
                generation: call.generation,
                hops,
            });
        }
    }

    /// The cancel reaches the pod: the watchdog's call ends. Except for a fork (streaming mode,
    /// the classic watchdog): its process was started with a context of its own (of-watchdog
    /// executor/streaming_runner.go: `exec.CommandContext` on `context.Background()` with
    /// exec_timeout; the classic watchdog's `exec.Command`) and the handler waits for it, so the
    /// call stays in the watchdog, holding up its drain, until the process ends or exec_timeout
    /// kills it.
    pub(super) fn cancel(
        &mut self,
        req: RequestId,
        pod: PodId,
        generation: u32,
        out: &mut Vec<Effect>,
    ) {
        let call = &mut self.calls[req];
        if !call.in_watchdog || self.pods[pod as usize].generation != generation {
            out.push(Effect::Stale);
            return;
        }
        if self.function.watchdog.mode == Mode::Streaming && !call.killed {
            call.orphan_fork = true;
            let exec_ns = self.function.watchdog.exec_timeout_ns;
            if exec_ns > 0 {
                // The kill ends the process first when it comes before the handler's end.
                out.push(Effect::Arm {
                    at_ns: call.watchdog_header_ns + exec_ns,
                    pod,
                    generation,
                    timer: Timer::HandlerDone { req },
                });
            }
            return;
        }
        call.in_watchdog = false;
        self.leave_watchdog(req, pod);
    }

    /// A forked process whose caller left has ended (its handler returned, or exec_timeout
    /// killed it): the call leaves the watchdog's drain.
    pub(super) fn fork_ended(&mut self, req: RequestId, pod: PodId) {
        let call = &mut self.calls[req];
        assert!(
            call.orphan_fork && call.in_watchdog && call.pod == pod,
            "request {req}: only a fork still in the watchdog of pod {pod} ends"
        );
        call.orphan_fork = false;
        self.unread(req, pod);
    }

    /// The watchdog's handler for `req` returns with no caller to read what it writes (the
    /// caller left; its cancel had not arrived): the call leaves the watchdog's drain.
    pub(super) fn unread(&mut self, req: RequestId, pod: PodId) {
        let call = &mut self.calls[req];
        assert!(
            !call.wanted && call.in_watchdog && call.pod == pod,
            "request {req}: an unread call is one its caller left, in pod {pod}'s watchdog"
        );
        call.in_watchdog = false;
        self.leave_watchdog(req, pod);
    }
}
