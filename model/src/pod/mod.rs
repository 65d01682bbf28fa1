//! The data plane of the function's pods: in each, the watchdog process (of-watchdog's
//! request side in `watchdog.rs`, its drain in `server.rs`) and, in HTTP mode, the function's
//! own server, the child (`child.rs`), on loopback behind it. One component holds every pod,
//! addressed by the cluster's pod ids; it owns the requests a pod holds and decides what each
//! of them gets: an answer, a timeout status, or nothing when the process is gone.
//!
//! The control plane (when a pod starts, is signalled, crashes or loses its node) is the
//! cluster's; the pod hears it as inputs and tells the cluster when its process exits on its
//! own.

mod child;
mod watchdog;

use crate::choice::{Chooser, Stream};
use crate::config::{FunctionConfig, Mode, Span};
use crate::ledger::{Cause, Fact, PodId, RequestId};
use crate::message::Msg;
use crate::pool::Pool;
use crate::run::PodEnd;
use crate::server::{DrainPolicy, Server, Step};
use crate::slots::Window;
use crate::time::Nanos;

/// A timer of a pod, for incarnation `generation` (a crash makes older ones stale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The child starts listening.
    ChildStart,
    /// The watchdog closes its listener (healthcheck_interval after SIGTERM).
    WatchdogClose,
    /// The watchdog's `Shutdown` polls for idle connections.
    WatchdogPoll,
    /// The watchdog's `Shutdown` deadline.
    WatchdogDeadline,
    /// The watchdog exits after its final wait.
    WatchdogExit,
    /// The child closes its listener.
    ChildClose,
    /// The child's `Shutdown` polls.
    ChildPoll,
    /// The child's `Shutdown` deadline.
    ChildDeadline,
    /// The child exits.
    ChildExit,
    /// The handler of request `req` returns.
    HandlerDone {
        /// The request.
        req: RequestId,
    },
}

/// One input to the pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The cluster made pod `pod`.
    Created {
        /// The pod.
        pod: PodId,
        /// Its name.
        name: String,
    },
    /// A warm pod at time 0: both processes listen at once.
    Warm {
        /// The pod.
        pod: PodId,
    },
    /// The container of incarnation `generation` starts.
    Start {
        /// The pod.
        pod: PodId,
        /// Its incarnation.
        generation: u32,
    },
    /// The kubelet's SIGTERM.
    Sigterm {
        /// The pod.
        pod: PodId,
    },
    /// The kubelet's SIGKILL.
    Sigkill {
        /// The pod.
        pod: PodId,
    },
    /// The container crashed; it restarts as incarnation `generation`.
    Crash {
        /// The pod.
        pod: PodId,
        /// The next incarnation.
        generation: u32,
    },
    /// The pod's node died.
    NodeLost {
        /// The pod.
        pod: PodId,
    },
    /// The pod was deleted before it ever started.
    Removed {
        /// The pod.
        pod: PodId,
    },
    /// A timer of pod `pod` armed for incarnation `generation` is due.
    Timer {
        /// The pod.
        pod: PodId,
        /// Its incarnation when armed.
        generation: u32,
        /// Which.
        timer: Timer,
    },
    /// The provider's SYN for `req` reached pod `pod`.
    Syn {
        /// The request.
        req: RequestId,
        /// The pod.
        pod: PodId,
        /// Go's retry after a keep-alive race.
        retry: bool,
    },
    /// The bytes of `req` reached pod `pod` (see [`Msg::ToPod`]).
    Request {
        /// The request.
        req: RequestId,
        /// The pod.
        pod: PodId,
        /// On a pooled connection.
        reused: bool,
        /// On Go's retry.
        retry: bool,
        /// The incarnation that accepted the SYN (new).
        generation: u32,
        /// The key of the request's own draws (its handler's duration).
        key: u64,
    },
    /// The watchdog's exec_timeout for `req` fired.
    ExecTimeout {
        /// The request.
        req: RequestId,
    },
    /// A caller `hops` away gave up on `req`: nothing the pod writes for it is read any more,
    /// and the cancel is on its way down.
    Orphaned {
        /// The request.
        req: RequestId,
        /// Hops from the caller that gave up to the pod.
        hops: u64,
    },
    /// The caller's cancel for `req` reached the pod's incarnation `generation`.
    Cancel {
        /// The request.
        req: RequestId,
        /// The pod.
        pod: PodId,
        /// The incarnation that held it.
        generation: u32,
    },
}

/// What the pods ask of their engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Arm a timer of pod `pod` for its incarnation `generation`.
    Arm {
        /// When.
        at_ns: Nanos,
        /// The pod.
        pod: PodId,
        /// Its incarnation.
        generation: u32,
        /// Which.
        timer: Timer,
    },
    /// Put `msg` for `req` on the network, arriving `hops` hops from now.
    Send {
        /// The request.
        req: RequestId,
        /// Hops until it arrives.
        hops: u64,
        /// What.
        msg: Msg,
    },
    /// The caller's cancel for `req` reaches pod `pod` (incarnation `generation`) `hops`
    /// hops from now.
    Cancel {
        /// The request.
        req: RequestId,
        /// The pod.
        pod: PodId,
        /// The incarnation holding it.
        generation: u32,
        /// Hops until it arrives.
        hops: u64,
    },
    /// Something the ledger keeps about `req`.
    Learn {
        /// The request.
        req: RequestId,
        /// What.
        fact: Fact,
    },
    /// The exec_timeout of `req` is due at this instant (`None`: no longer armed).
    ExecDeadline {
        /// The request.
        req: RequestId,
        /// When, if armed.
        at_ns: Option<Nanos>,
    },
    /// Pod `pod` closed every connection to its watchdog now.
    ServerClosed {
        /// The pod.
        pod: PodId,
    },
    /// Pod `pod`'s host vanished without closing anything.
    Vanished {
        /// The pod.
        pod: PodId,
    },
    /// Pod `pod`'s process exited on its own (the kubelet sees it).
    Exited {
        /// The pod.
        pod: PodId,
    },
    /// The input was a message or timer that no longer meant anything.
    Stale,
    /// A line for the timeline, by pod `pod`.
    Note {
        /// The pod.
        pod: PodId,
        /// What happened.
        what: String,
    },
}

/// One pod's data plane.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pod {
    /// Pod name, for the timeline.
    name: String,
    /// Incarnation: bumps on a container restart so stale timers are ignored.
    generation: u32,
    /// The watchdog process.
    watchdog: Server,
    /// The function's own server (HTTP mode).
    child: Server,
    /// Requests active in the watchdog.
    active: Vec<RequestId>,
    /// When the pod last closed every connection to its watchdog.
    last_close_ns: Option<Nanos>,
    /// The watchdog's keep-alive connections to the child.
    child_pool: Pool,
    /// Its node died: dials and connections hang.
    black_hole: bool,
    /// How its processes ended, so far.
    end: PodEnd,
    /// Requests active when it was killed.
    killed_with: u32,
}

/// A pod's record of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Call {
    /// A caller still reads what the watchdog writes for it (no timer above ended it).
    wanted: bool,
    /// The pod that accepted it.
    pod: PodId,
    /// The incarnation that accepted it.
    generation: u32,
    /// The watchdog holds it.
    in_watchdog: bool,
    /// The child holds it.
    in_child: bool,
    /// When the watchdog read its header (its write timeout runs from here).
    watchdog_header_ns: Nanos,
    /// When the child read its header.
    child_header_ns: Nanos,
    /// The key of its own draws.
    key: u64,
    /// A forked process whose caller's cancel arrived: it runs on, holding up the drain.
    orphan_fork: bool,
    /// Streaming mode: exec_timeout killed the process while its children hold its stdout;
    /// the response ends when they close it.
    killed: bool,
    /// When its handler (streaming mode: its process and children) ends by itself.
    handler_end_ns: Nanos,
}

/// Every pod's data plane: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pods {
    /// The function's configuration.
    function: FunctionConfig,
    /// How the watchdog drains (of-watchdog's sequence, or a planted mutation of it).
    watchdog_policy: DrainPolicy,
    /// Go retries a replayable request (GET) on the child's reused connection.
    replayable: bool,
    /// The network's round trip (a FIN on loopback takes a tenth of it).
    rtt_ns: Nanos,
    /// Whether notes are wanted.
    tracing: bool,
    /// Every pod, by id.
    pods: Vec<Pod>,
    /// Each request a pod saw, by request id.
    calls: Window<Call>,
}

impl Pods {
    /// Make room for the records of `requests` requests up front: a table grown by doubling
    /// copies itself and touches fresh pages at every step of a long run.
    pub fn reserve(&mut self, requests: usize) {
        self.calls.reserve(requests);
    }

    /// The pods of `function`, whose watchdog drains by `watchdog_policy`.
    pub fn new(
        function: &FunctionConfig,
        watchdog_policy: DrainPolicy,
        replayable: bool,
        rtt_ns: Nanos,
        tracing: bool,
    ) -> Pods {
        Pods {
            function: function.clone(),
            watchdog_policy,
            replayable,
            rtt_ns,
            tracing,
            pods: Vec::new(),
            calls: Window::default(),
        }
    }

    /// The pod's watchdog answers `/_/health` with 200 (the kubelet's probe).
    pub fn healthy(&self, pod: PodId) -> bool {
        self.pods[pod as usize].watchdog.healthy
    }

    /// Requests pod `pod` held when it was killed.
    pub fn killed_with(&self, pod: PodId) -> u32 {
        self.pods[pod as usize].killed_with
    }

    /// A caller still waits for what the pod writes for `req`.
    pub fn wanted(&self, req: RequestId) -> bool {
        self.calls.get(req).is_some_and(|c| c.wanted)
    }

    fn call(&mut self, req: RequestId) -> &mut Call {
        self.calls.slot(req)
    }

    /// A pod still holds `req` (its watchdog or its child serves it).
    pub fn holds(&self, req: RequestId) -> bool {
        self.calls
            .get(req)
            .is_some_and(|c| c.in_watchdog || c.in_child)
    }

    /// Retire the records of requests below `id` (the router knows none of them will reach
    /// this component again).
    pub fn retire_below(&mut self, id: RequestId) {
        self.calls.retire_below(id);
    }

    fn note(&self, out: &mut Vec<Effect>, pod: PodId, what: impl FnOnce() -> String) {
        if self.tracing {
            out.push(Effect::Note { pod, what: what() });
        }
    }

    /// The name of pod `pod`.
    pub fn name(&self, pod: PodId) -> &str {
        &self.pods[pod as usize].name
    }

    /// The pod runs in incarnation `generation`.
    fn current(&self, pod: PodId, generation: u32) -> bool {
        let p = &self.pods[pod as usize];
        p.generation == generation && p.end == PodEnd::Running
    }

    /// `Shutdown`'s jitter on its next poll of `server`.
    fn poll_jitter(chooser: &mut dyn Chooser, server: &Server) -> Nanos {
        let span = Span {
            lo_ns: 0,
            hi_ns: server.poll_jitter_max_ns(),
        };
        span.draw(chooser, Stream::Shutdown)
    }

    fn child_server(&self) -> Server {
        Server::new(DrainPolicy::child(
            &self.function.child,
            self.function.watchdog.kind,
        ))
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
            Input::Created { pod, name } => {
                assert_eq!(
                    pod as usize,
                    self.pods.len(),
                    "pods are created in id order"
                );
                let child = self.child_server();
                self.pods.push(Pod {
                    name,
                    generation: 0,
                    watchdog: Server::new(self.watchdog_policy),
                    child,
                    active: Vec::new(),
                    last_close_ns: None,
                    child_pool: Pool::default(),
                    black_hole: false,
                    end: PodEnd::Running,
                    killed_with: 0,
                });
            }
            Input::Warm { pod } => {
                let p = &mut self.pods[pod as usize];
                p.watchdog.start();
                p.child.start();
            }
            Input::Start { pod, generation } => self.start(now, pod, generation, chooser, out),
            Input::Sigterm { pod } => self.sigterm(now, pod, out),
            Input::Sigkill { pod } => {
                assert_eq!(
                    self.pods[pod as usize].end,
                    PodEnd::Running,
                    "SIGKILL to a live pod"
                );
                let active = self.pods[pod as usize].active.len();
                self.note(out, pod, || {
                    format!("SIGKILL at grace end with {active} requests active (exit 137)")
                });
                self.process_exit(now, pod, Cause::Sigkill, PodEnd::Killed, out);
            }
            Input::Crash { pod, generation } => self.crash(now, pod, generation, out),
            Input::NodeLost { pod } => self.node_lost(pod, out),
            Input::Removed { pod } => self.pods[pod as usize].end = PodEnd::Exited,
            Input::Timer {
                pod,
                generation,
                timer,
            } => {
                if self.current(pod, generation) {
                    self.timer(now, pod, timer, chooser, out);
                }
            }
            Input::Syn { req, pod, retry } => self.syn(req, pod, retry, out),
            Input::Request {
                req,
                pod,
                reused,
                retry,
                generation,
                key,
            } => self.request(now, req, pod, reused, retry, generation, key, chooser, out),
            Input::ExecTimeout { req } => self.exec_timeout(now, req, out),
            Input::Orphaned { req, hops } => self.orphaned(req, hops, out),
            Input::Cancel {
                req,
                pod,
                generation,
            } => self.cancel(req, pod, generation, out),
        }
    }

    /// The container starts: the watchdog listens at once, the child after its own start-up.
    fn start(
        &mut self,
        now: Nanos,
        pod: PodId,
        generation: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        assert!(self.current(pod, generation), "only a current pod starts");
        let child_delay = self
            .function
            .child
            .startup_ns
            .draw(chooser, Stream::Startup);
        let http = self.function.watchdog.mode == Mode::Http;
        let p = &mut self.pods[pod as usize];
        p.watchdog.start();
        if http && child_delay > 0 {
            out.push(Effect::Arm {
                at_ns: now + child_delay,
                pod,
                generation,
                timer: Timer::ChildStart,
            });
        } else {
            p.child.start();
        }
        self.note(out, pod, || {
            "watchdog listening on :8080, lock file written".into()
        });
    }

    fn timer(
        &mut self,
        now: Nanos,
        pod: PodId,
        timer: Timer,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match timer {
            Timer::ChildStart => {
                self.pods[pod as usize].child.start();
                self.note(out, pod, || "child listening on :8082".into());
            }
            Timer::WatchdogClose => {
                let p = &mut self.pods[pod as usize];
                let step = p.watchdog.close_listener(now);
                p.last_close_ns = Some(now);
                let active = p.active.len();
                out.push(Effect::ServerClosed { pod });
                self.note(out, pod, || {
                    format!("watchdog closes its listener, draining {active} requests")
                });
                self.watchdog_step(now, pod, step, true, out);
            }
            Timer::WatchdogPoll => {
                let jitter = Self::poll_jitter(chooser, &self.pods[pod as usize].watchdog);
                let step = self.pods[pod as usize].watchdog.poll(now, jitter);
                self.watchdog_step(now, pod, step, false, out);
            }
            Timer::WatchdogDeadline => {
                if self.pods[pod as usize].watchdog.deadline(now) == Step::DieNow {
                    let active = self.pods[pod as usize].active.len();
                    self.note(out, pod, || {
                        format!("watchdog drain deadline: exits with {active} active")
                    });
                    self.process_exit(now, pod, Cause::DrainDeadline, PodEnd::Exited, out);
                }
            }
            Timer::WatchdogExit => {
                self.note(out, pod, || "watchdog exits".into());
                self.process_exit(now, pod, Cause::WatchdogExit, PodEnd::Exited, out);
            }
            Timer::ChildClose => {
                let p = &mut self.pods[pod as usize];
                let step = p.child.close_listener(now);
                p.child_pool.server_closed_all(now);
                self.child_step(now, pod, step, true, out);
            }
            Timer::ChildPoll => {
                let jitter = Self::poll_jitter(chooser, &self.pods[pod as usize].child);
                let step = self.pods[pod as usize].child.poll(now, jitter);
                self.child_step(now, pod, step, false, out);
            }
            Timer::ChildDeadline => {
                if self.pods[pod as usize].child.deadline(now) == Step::DieNow {
                    self.child_dies(now, pod, false, out);
                }
            }
            Timer::ChildExit => self.pods[pod as usize].child.exit(),
            Timer::HandlerDone { req } => self.handler_done(now, req, pod, out),
        }
    }

    /// SIGTERM: the watchdog turns unhealthy and drains; of-watchdog forwards the signal to
    /// its child at once.
    fn sigterm(&mut self, now: Nanos, pod: PodId, out: &mut Vec<Effect>) {
        let p = &mut self.pods[pod as usize];
        assert_eq!(p.end, PodEnd::Running, "SIGTERM to a live pod");
        let generation = p.generation;
        let step = p.watchdog.sigterm(now);
        let wait = p.watchdog.policy.wait_ns;
        self.note(out, pod, || match wait {
            Some(wait) => format!(
                "SIGTERM: unhealthy, listener open for {}",
                crate::time::stamp(wait)
            ),
            None => {
                "SIGTERM: unhealthy, healthcheck_interval <= 0: the listener never closes".into()
            }
        });
        if let Step::CloseListenerAt(at_ns) = step {
            out.push(Effect::Arm {
                at_ns,
                pod,
                generation,
                timer: Timer::WatchdogClose,
            });
        }
        if self.function.watchdog.mode == Mode::Http {
            match self.pods[pod as usize].child.sigterm(now) {
                Step::CloseListenerAt(at_ns) => out.push(Effect::Arm {
                    at_ns,
                    pod,
                    generation,
                    timer: Timer::ChildClose,
                }),
                Step::DieNow => self.child_dies(now, pod, true, out),
                _ => {}
            }
        }
    }

    fn watchdog_step(
        &mut self,
        now: Nanos,
        pod: PodId,
        step: Step,
        first: bool,
        out: &mut Vec<Effect>,
    ) {
        let generation = self.pods[pod as usize].generation;
        match step {
            Step::ExitAt(at) if at <= now => {
                self.note(out, pod, || "watchdog: no active connections, exits".into());
                self.process_exit(now, pod, Cause::WatchdogExit, PodEnd::Exited, out);
            }
            Step::ExitAt(at_ns) => {
                let linger = at_ns - now;
                self.note(out, pod, || {
                    format!(
                        "watchdog: drained, sleeps {} before exiting",
                        crate::time::stamp(linger)
                    )
                });
                out.push(Effect::Arm {
                    at_ns,
                    pod,
                    generation,
                    timer: Timer::WatchdogExit,
                });
            }
            Step::PollAt {
                poll_ns,
                deadline_ns,
            } => {
                out.push(Effect::Arm {
                    at_ns: poll_ns,
                    pod,
                    generation,
                    timer: Timer::WatchdogPoll,
                });
                if first && let Some(at_ns) = deadline_ns {
                    out.push(Effect::Arm {
                        at_ns,
                        pod,
                        generation,
                        timer: Timer::WatchdogDeadline,
                    });
                }
            }
            Step::DieNow => self.process_exit(now, pod, Cause::DrainDeadline, PodEnd::Exited, out),
            Step::Idle | Step::CloseListenerAt(_) => {}
        }
    }

    /// The watchdog process is gone (exit, deadline, SIGKILL): every active request is lost,
    /// and the provider sees EOF (500). Connections close with it.
    fn process_exit(
        &mut self,
        now: Nanos,
        pod: PodId,
        cause: Cause,
        end: PodEnd,
        out: &mut Vec<Effect>,
    ) {
        let p = &mut self.pods[pod as usize];
        let active = std::mem::take(&mut p.active);
        p.killed_with = active.len() as u32;
        p.watchdog.exit();
        p.child.exit();
        p.last_close_ns = Some(now);
        p.end = end;
        out.push(Effect::ServerClosed { pod });
        if end == PodEnd::Exited {
            // The kubelet sees the container exit; a kill was its own doing.
            out.push(Effect::Exited { pod });
        }
        self.lose(active, cause, out);
    }

    /// The process that held `active` is gone with them: each one a caller still waits for
    /// is lost, and the provider sees EOF a hop later.
    fn lose(&mut self, active: Vec<RequestId>, cause: Cause, out: &mut Vec<Effect>) {
        for req in active {
            let call = &mut self.calls[req];
            call.in_watchdog = false;
            call.in_child = false;
            if call.wanted {
                out.push(Effect::Learn {
                    req,
                    fact: Fact::Lost(cause),
                });
                self.fail(req, cause, out);
            }
        }
    }

    /// The container crashed: the requests it held are lost (the provider sees EOF), and its
    /// processes and connections start afresh as incarnation `generation`.
    fn crash(&mut self, now: Nanos, pod: PodId, generation: u32, out: &mut Vec<Effect>) {
        let active = std::mem::take(&mut self.pods[pod as usize].active);
        let count = active.len();
        self.note(out, pod, || {
            format!("container crashed with {count} requests active; restarting")
        });
        self.lose(active, Cause::PodCrash, out);
        let child = self.child_server();
        let p = &mut self.pods[pod as usize];
        assert_eq!(
            p.generation + 1,
            generation,
            "a crash starts the next incarnation"
        );
        p.generation = generation;
        p.watchdog = Server::new(self.watchdog_policy);
        p.child = child;
        p.last_close_ns = Some(now);
        p.child_pool = Pool::default();
        out.push(Effect::ServerClosed { pod });
    }

    /// The pod's node died: its processes vanish without a FIN, and the requests they held
    /// hang until a timer of the provider, the gateway or the client gives up.
    fn node_lost(&mut self, pod: PodId, out: &mut Vec<Effect>) {
        let p = &mut self.pods[pod as usize];
        assert_eq!(p.end, PodEnd::Running, "a node takes only live pods");
        let active = std::mem::take(&mut p.active);
        p.killed_with = active.len() as u32;
        p.watchdog.exit();
        p.child.exit();
        p.black_hole = true;
        p.end = PodEnd::Killed;
        let count = active.len();
        out.push(Effect::Vanished { pod });
        self.note(out, pod, || {
            format!("lost with the node, {count} requests hang")
        });
        for req in active {
            let call = &mut self.calls[req];
            call.in_watchdog = false;
            call.in_child = false;
            if !call.wanted {
                // Its caller gave up; the cancel was still on its way.
                continue;
            }
            // No FIN: the provider waits until a timer gives up.
            call.wanted = false;
            out.push(Effect::ExecDeadline { req, at_ns: None });
            out.push(Effect::Learn {
                req,
                fact: Fact::Lost(Cause::NodeLost),
            });
        }
    }
}

#[cfg(test)]
mod tests;
