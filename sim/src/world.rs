//! The world: the only place that knows every component. It owns the event queue and routes a
//! request from the client through the gateway, the provider and a pod's watchdog to the child
//! and back, and the control plane (deployment controller, endpoints and their lagging view,
//! kubelet signals, nodes) around them. Each hop turns a failure into its own status.

use faasim_model::choice::{Chooser, Stream};
use faasim_model::client::{self, Client};
use faasim_model::cluster::{Cluster, Effect, Input, Timer};
use faasim_model::config::{Config, Mode, Span};
use faasim_model::gateway::{self, Gateway};
use faasim_model::ledger::{Cause, PodId, Record, RequestId, Status};
use faasim_model::message::Msg;
use faasim_model::pool::{Checkout, Pool, Reach};
use faasim_model::provider::{self, Provider};
pub use faasim_model::run::{PodEnd, PodSummary, RunResult, TraceLine};
use faasim_model::schedule::Event;
use faasim_model::server::{DrainPolicy, Phase, Server, Step};
use faasim_model::time::{Nanos, stamp};

use crate::engine::Queue;

const NONE_NS: Nanos = Nanos::MAX;

/// Everything that can be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    /// A scenario event, by index.
    Scenario(u32),
    /// A control-plane timer.
    Cluster(Timer),
    /// A timer of the load generator.
    Client(client::Timer),
    /// A timer of the gateway.
    Gateway(gateway::Timer),
    /// A request's earliest timer may be due.
    Wake(RequestId),
    /// The handler of a request finishes (pod incarnation).
    HandlerDone(RequestId, PodId, u32),
    /// A pod's child starts listening.
    ChildStart(PodId, u32),
    /// The provider's view of a pod changes.
    ViewSet(PodId, bool),
    /// Watchdog drain timers.
    WatchdogClose(PodId, u32),
    WatchdogPoll(PodId, u32),
    WatchdogDeadline(PodId, u32),
    WatchdogExit(PodId, u32),
    /// Child drain timers.
    ChildClose(PodId, u32),
    ChildPoll(PodId, u32),
    ChildDeadline(PodId, u32),
    ChildExit(PodId, u32),
    /// A message of a request crosses the network; dropped when the request's `leg` moved on
    /// (a timer answered it first).
    Deliver(RequestId, u32, Msg),
    /// A caller's cancel reaches the pod (incarnation) serving the request.
    Cancel(RequestId, PodId, u32),
}

/// A deliberate bug planted in the world, for mutation testing of the property tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mutation {
    /// The model as it is.
    #[default]
    None,
    /// The watchdog closes its listener at SIGTERM instead of after healthcheck_interval, as
    /// before of-watchdog 3a2e7bf.
    WatchdogClosesListenerAtSigterm,
}

/// The data plane of one function pod: its watchdog and child processes, the requests they
/// hold and the connections to them. Its control-plane facts are the cluster's.
#[derive(Clone, Debug)]
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
    /// When the pod last closed every connection to its watchdog (Shutdown's idle close,
    /// the process's end).
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

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// On its way to the gateway, or held there.
    Gateway,
    /// The provider waits for it: on its way to a pod or back.
    Provider,
    Watchdog,
    /// The gateway answered; the answer is on its way to the client.
    ToClient,
    Done,
}

/// The in-flight state of one request, beside its ledger record.
#[derive(Clone, Copy, Debug)]
struct Flight {
    stage: Stage,
    /// Bumped whenever a timer or the client ends a leg: messages sent on an older leg are
    /// dropped on arrival.
    leg: u32,
    /// `choice::request_key`: the key of this request's own draws (handler, endpoint).
    key: u64,
    watchdog_header_ns: Nanos,
    child_header_ns: Nanos,
    pod: PodId,
    generation: u32,
    in_watchdog: bool,
    in_child: bool,
    client_deadline_ns: Nanos,
    upstream_deadline_ns: Nanos,
    provider_deadline_ns: Nanos,
    exec_deadline_ns: Nanos,
    wake_ns: Nanos,
}

/// The simulated system.
pub struct World<'a> {
    config: Config,
    events: Vec<Event>,
    chooser: &'a mut dyn Chooser,
    queue: Queue<Ev>,
    now: Nanos,
    limit_ns: Nanos,
    /// The control plane.
    cluster: Cluster,
    /// The pods' data plane, by id (the cluster's ids).
    pods: Vec<Pod>,
    ledger: Vec<Record>,
    flights: Vec<Flight>,
    /// The load generator.
    client: Client,
    /// The load generator's effects buffer, reused.
    client_out: Vec<client::Effect>,
    /// The provider.
    provider: Provider,
    /// The provider's effects buffer, reused.
    provider_out: Vec<provider::Effect>,
    /// The gateway.
    gateway: Gateway,
    /// The gateway's effects buffer, reused.
    gateway_out: Vec<gateway::Effect>,
    /// One network hop: half the round trip.
    hop_ns: Nanos,
    tracing: bool,
    /// The event being dispatched turned out to be a stale timer.
    stale: bool,
    /// When the last event that did something ran.
    last_effective_ns: Nanos,
    mutation: Mutation,
    trace: Vec<TraceLine>,
    events_run: u64,
}

impl<'a> World<'a> {
    /// A world at time 0 with the scenario's configuration and events.
    pub fn new(
        config: Config,
        events: Vec<Event>,
        limit_ns: Nanos,
        chooser: &'a mut dyn Chooser,
        tracing: bool,
    ) -> World<'a> {
        let hop_ns = config.network.rtt_ns / 2;
        World {
            cluster: Cluster::new(&config, tracing),
            client: Client::new(&config.load),
            provider: Provider::new(
                &config.provider,
                config.function.watchdog.read_timeout_ns,
                config.load.method.is_replayable(),
                hop_ns,
                tracing,
            ),
            provider_out: Vec::new(),
            gateway: Gateway::new(&config.gateway, config.function.scale_min),
            gateway_out: Vec::new(),
            config,
            events,
            chooser,
            queue: Queue::default(),
            now: 0,
            limit_ns,
            pods: Vec::new(),
            ledger: Vec::new(),
            flights: Vec::new(),
            client_out: Vec::new(),
            hop_ns,
            tracing,
            stale: false,
            last_effective_ns: 0,
            mutation: Mutation::None,
            trace: Vec::new(),
            events_run: 0,
        }
    }

    /// Plant a deliberate bug, to show the property tests catch it.
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = mutation;
        self
    }

    fn watchdog_policy(&self) -> DrainPolicy {
        let mut policy = DrainPolicy::watchdog(&self.config.function.watchdog);
        if self.mutation == Mutation::WatchdogClosesListenerAtSigterm {
            policy.wait_ns = Some(0);
        }
        policy
    }

    fn note(&mut self, who: impl FnOnce() -> String, what: impl FnOnce() -> String) {
        if self.tracing {
            self.trace.push(TraceLine {
                at_ns: self.now,
                who: who(),
                what: what(),
            });
        }
    }

    fn draw(&mut self, stream: Stream, span: Span) -> Nanos {
        if span.is_fixed() {
            span.lo_ns
        } else {
            self.chooser.pick_u64(stream, span.lo_ns, span.hi_ns)
        }
    }

    /// Run to completion (no events left) or to the limit.
    pub fn run(mut self) -> RunResult {
        self.setup();
        while let Some((at_ns, event)) = self.queue.pop(self.chooser) {
            if at_ns > self.limit_ns {
                self.now = self.limit_ns;
                break;
            }
            self.now = at_ns;
            self.events_run += 1;
            self.stale = false;
            self.dispatch(event);
            if !self.stale {
                self.last_effective_ns = at_ns;
            }
        }
        if self.now < self.limit_ns {
            // The run ends with its last event that did something, not with the wake-ups of
            // timers whose request had already been answered.
            self.now = self.last_effective_ns;
        }
        self.finish_run()
    }

    fn setup(&mut self) {
        // One record per request: reserving up front spares the reallocations of a long run.
        let expected = usize::try_from(self.config.load.requests.min(1 << 22)).unwrap_or(0);
        self.ledger.reserve(expected);
        self.flights.reserve(expected);
        self.to_cluster(Input::Setup);
        for (index, event) in self.events.iter().enumerate() {
            self.queue.push(event.at_ns, Ev::Scenario(index as u32));
        }
        self.to_client(client::Input::Start);
    }

    fn dispatch(&mut self, event: Ev) {
        match event {
            Ev::Scenario(index) => {
                let action = self.events[index as usize].action.clone();
                self.to_cluster(Input::Action(action));
            }
            Ev::Cluster(timer) => self.to_cluster(Input::Timer(timer)),
            Ev::Client(timer) => self.to_client(client::Input::Timer(timer)),
            Ev::Gateway(timer) => self.to_gateway(gateway::Input::Timer(timer)),
            Ev::Wake(req) => self.wake(req),
            Ev::HandlerDone(req, pod, generation) => self.handler_done(req, pod, generation),
            Ev::ChildStart(pod, generation) => {
                if self.current(pod, generation) {
                    self.pods[pod as usize].child.start();
                    let name = self.pods[pod as usize].name.clone();
                    self.note(|| name, || "child listening on :8082".into());
                }
            }
            Ev::ViewSet(pod, routed) => self.to_provider(provider::Input::Route { pod, routed }),
            Ev::WatchdogClose(pod, generation) => {
                if self.current(pod, generation) {
                    let step = self.pods[pod as usize].watchdog.close_listener(self.now);
                    let p = &mut self.pods[pod as usize];
                    p.last_close_ns = Some(self.now);
                    let (name, active) = (p.name.clone(), p.active.len());
                    self.to_provider(provider::Input::ServerClosed { pod });
                    self.note(
                        || name,
                        || format!("watchdog closes its listener, draining {active} requests"),
                    );
                    self.watchdog_step(pod, step, true);
                }
            }
            Ev::WatchdogPoll(pod, generation) => {
                if self.current(pod, generation) {
                    let jitter_max = self.pods[pod as usize].watchdog.poll_jitter_max_ns();
                    let jitter = self.draw(
                        Stream::Shutdown,
                        Span {
                            lo_ns: 0,
                            hi_ns: jitter_max,
                        },
                    );
                    let step = self.pods[pod as usize].watchdog.poll(self.now, jitter);
                    self.watchdog_step(pod, step, false);
                }
            }
            Ev::WatchdogDeadline(pod, generation) => {
                if self.current(pod, generation) {
                    let step = self.pods[pod as usize].watchdog.deadline(self.now);
                    if step == Step::DieNow {
                        let p = &self.pods[pod as usize];
                        let (name, active) = (p.name.clone(), p.active.len());
                        self.note(
                            || name,
                            || format!("watchdog drain deadline: exits with {active} active"),
                        );
                        self.process_exit(pod, Cause::DrainDeadline, PodEnd::Exited);
                    }
                }
            }
            Ev::WatchdogExit(pod, generation) => {
                if self.current(pod, generation) {
                    let name = self.pods[pod as usize].name.clone();
                    self.note(|| name, || "watchdog exits".into());
                    self.process_exit(pod, Cause::WatchdogExit, PodEnd::Exited);
                }
            }
            Ev::ChildClose(pod, generation) => {
                if self.current(pod, generation) {
                    let step = self.pods[pod as usize].child.close_listener(self.now);
                    self.pods[pod as usize]
                        .child_pool
                        .server_closed_all(self.now);
                    self.child_step(pod, step, true);
                }
            }
            Ev::ChildPoll(pod, generation) => {
                if self.current(pod, generation) {
                    let jitter_max = self.pods[pod as usize].child.poll_jitter_max_ns();
                    let jitter = self.draw(
                        Stream::Shutdown,
                        Span {
                            lo_ns: 0,
                            hi_ns: jitter_max,
                        },
                    );
                    let step = self.pods[pod as usize].child.poll(self.now, jitter);
                    self.child_step(pod, step, false);
                }
            }
            Ev::ChildDeadline(pod, generation) => {
                if self.current(pod, generation) {
                    let step = self.pods[pod as usize].child.deadline(self.now);
                    if step == Step::DieNow {
                        self.child_dies(pod, false);
                    }
                }
            }
            Ev::ChildExit(pod, generation) => {
                if self.current(pod, generation) {
                    self.pods[pod as usize].child.exit();
                }
            }
            Ev::Deliver(req, leg, msg) => self.deliver(req, leg, msg),
            Ev::Cancel(req, pod, generation) => self.cancel_arrives(req, pod, generation),
        }
    }

    fn current(&self, pod: PodId, generation: u32) -> bool {
        let p = &self.pods[pod as usize];
        p.generation == generation && p.end == PodEnd::Running
    }

    // ---------------------------------------------------------------- control plane

    /// Hand `input` to the control plane and carry out its effects in order.
    fn to_cluster(&mut self, input: Input) {
        let mut effects = Vec::new();
        self.cluster
            .handle(self.now, input, &mut *self.chooser, &mut effects);
        for effect in effects {
            self.apply(effect);
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Created { pod, name } => {
                assert_eq!(
                    pod as usize,
                    self.pods.len(),
                    "pods are created in id order"
                );
                let function = &self.config.function;
                let child =
                    Server::new(DrainPolicy::child(&function.child, function.watchdog.kind));
                let created = provider::Input::PodCreated {
                    pod,
                    name: name.clone(),
                };
                self.to_provider(created);
                self.pods.push(Pod {
                    name,
                    generation: 0,
                    watchdog: Server::new(self.watchdog_policy()),
                    child,
                    active: Vec::new(),
                    last_close_ns: None,
                    child_pool: Pool::default(),
                    black_hole: false,
                    end: PodEnd::Running,
                    killed_with: 0,
                });
            }
            Effect::Warm { pod } => {
                // Running, ready and routed at time 0.
                let p = &mut self.pods[pod as usize];
                p.watchdog.start();
                p.child.start();
                self.to_provider(provider::Input::Warm { pod });
            }
            Effect::Start { pod, generation } => self.pod_start(pod, generation),
            Effect::Probe { pod, generation } => {
                let healthy = self.pods[pod as usize].watchdog.healthy;
                self.to_cluster(Input::Probed {
                    pod,
                    generation,
                    healthy,
                });
            }
            Effect::Route { pod, routed, at_ns } => {
                self.queue.push(at_ns, Ev::ViewSet(pod, routed))
            }
            Effect::Sigterm { pod } => self.sigterm(pod),
            Effect::Sigkill { pod } => self.sigkill(pod),
            Effect::Crash { pod, generation } => self.crash(pod, generation),
            Effect::NodeLost { pod } => self.node_lost(pod),
            Effect::Removed { pod } => self.pods[pod as usize].end = PodEnd::Exited,
            Effect::Arm { at_ns, timer } => self.queue.push(at_ns, Ev::Cluster(timer)),
            Effect::Note { who, what } => self.note(|| who, || what),
        }
    }

    fn pod_start(&mut self, pod: PodId, generation: u32) {
        assert!(self.current(pod, generation), "only a current pod starts");
        let child_delay = self.draw(Stream::Startup, self.config.function.child.startup_ns);
        let http = self.config.function.watchdog.mode == Mode::Http;
        let p = &mut self.pods[pod as usize];
        p.watchdog.start();
        let name = p.name.clone();
        if http && child_delay > 0 {
            self.queue
                .push(self.now + child_delay, Ev::ChildStart(pod, generation));
        } else {
            self.pods[pod as usize].child.start();
        }
        self.note(
            || name,
            || "watchdog listening on :8080, lock file written".into(),
        );
    }

    fn sigterm(&mut self, pod: PodId) {
        assert_eq!(
            self.pods[pod as usize].end,
            PodEnd::Running,
            "SIGTERM to a live pod"
        );
        let generation = self.pods[pod as usize].generation;
        let step = self.pods[pod as usize].watchdog.sigterm(self.now);
        let name = self.pods[pod as usize].name.clone();
        let hc = self.pods[pod as usize].watchdog.policy.wait_ns;
        self.note(
            || name,
            || match hc {
                Some(wait) => format!("SIGTERM: unhealthy, listener open for {}", stamp(wait)),
                None => "SIGTERM: unhealthy, healthcheck_interval <= 0: the listener never closes"
                    .into(),
            },
        );
        if let Step::CloseListenerAt(at) = step {
            self.queue.push(at, Ev::WatchdogClose(pod, generation));
        }
        if self.config.function.watchdog.mode == Mode::Http {
            // of-watchdog forwards SIGTERM to the child at once.
            match self.pods[pod as usize].child.sigterm(self.now) {
                Step::CloseListenerAt(at) => self.queue.push(at, Ev::ChildClose(pod, generation)),
                Step::DieNow => self.child_dies(pod, true),
                _ => {}
            }
        }
    }

    fn sigkill(&mut self, pod: PodId) {
        assert_eq!(
            self.pods[pod as usize].end,
            PodEnd::Running,
            "SIGKILL to a live pod"
        );
        let p = &self.pods[pod as usize];
        let (name, active) = (p.name.clone(), p.active.len());
        self.note(
            || name,
            || format!("SIGKILL at grace end with {active} requests active (exit 137)"),
        );
        self.process_exit(pod, Cause::Sigkill, PodEnd::Killed);
    }

    fn watchdog_step(&mut self, pod: PodId, step: Step, first: bool) {
        let generation = self.pods[pod as usize].generation;
        match step {
            Step::ExitAt(at) if at <= self.now => {
                let name = self.pods[pod as usize].name.clone();
                self.note(|| name, || "watchdog: no active connections, exits".into());
                self.process_exit(pod, Cause::WatchdogExit, PodEnd::Exited);
            }
            Step::ExitAt(at) => {
                let name = self.pods[pod as usize].name.clone();
                let linger = at - self.now;
                self.note(
                    || name,
                    || format!("watchdog: drained, sleeps {} before exiting", stamp(linger)),
                );
                self.queue.push(at, Ev::WatchdogExit(pod, generation));
            }
            Step::PollAt {
                poll_ns,
                deadline_ns,
            } => {
                self.queue.push(poll_ns, Ev::WatchdogPoll(pod, generation));
                if first && let Some(deadline) = deadline_ns {
                    self.queue
                        .push(deadline, Ev::WatchdogDeadline(pod, generation));
                }
            }
            Step::DieNow => self.process_exit(pod, Cause::DrainDeadline, PodEnd::Exited),
            Step::Idle | Step::CloseListenerAt(_) => {}
        }
    }

    fn child_step(&mut self, pod: PodId, step: Step, first: bool) {
        let generation = self.pods[pod as usize].generation;
        match step {
            Step::ExitAt(at) if at <= self.now => self.pods[pod as usize].child.exit(),
            Step::ExitAt(at) => self.queue.push(at, Ev::ChildExit(pod, generation)),
            Step::PollAt {
                poll_ns,
                deadline_ns,
            } => {
                self.queue.push(poll_ns, Ev::ChildPoll(pod, generation));
                if first && let Some(deadline) = deadline_ns {
                    self.queue
                        .push(deadline, Ev::ChildDeadline(pod, generation));
                }
            }
            Step::DieNow => self.child_dies(pod, false),
            Step::Idle | Step::CloseListenerAt(_) => {}
        }
    }

    /// The child process is gone. Requests it was serving fail in the watchdog (500). When it
    /// died of the signal, `cmd.Wait` errors and the watchdog `log.Fatalf`s at once.
    fn child_dies(&mut self, pod: PodId, by_signal: bool) {
        let name = self.pods[pod as usize].name.clone();
        self.note(
            || name,
            || {
                if by_signal {
                    "child dies on SIGTERM; watchdog exits (log.Fatalf)".into()
                } else {
                    "child exits at its drain deadline".into()
                }
            },
        );
        self.pods[pod as usize].child.exit();
        self.pods[pod as usize]
            .child_pool
            .server_closed_all(self.now);
        let serving: Vec<RequestId> = self.pods[pod as usize]
            .active
            .iter()
            .copied()
            .filter(|&r| self.flights[r as usize].in_child)
            .collect();
        for req in serving {
            self.flights[req as usize].in_child = false;
            self.ledger[req as usize].lost = Some(Cause::ChildExited);
            self.watchdog_respond(req, 500, Cause::ChildExited);
        }
        if by_signal {
            self.process_exit(pod, Cause::WatchdogExit, PodEnd::Exited);
        }
    }

    /// The watchdog process is gone (exit, deadline, SIGKILL): every active request is lost,
    /// and the provider sees EOF (500). Connections close with it.
    fn process_exit(&mut self, pod: PodId, cause: Cause, end: PodEnd) {
        let now = self.now;
        let active = std::mem::take(&mut self.pods[pod as usize].active);
        let p = &mut self.pods[pod as usize];
        p.killed_with = active.len() as u32;
        p.watchdog.exit();
        p.child.exit();
        p.last_close_ns = Some(now);
        p.end = end;
        self.to_provider(provider::Input::ServerClosed { pod });
        if end == PodEnd::Exited {
            // The kubelet sees the container exit; a kill was its own doing.
            self.to_cluster(Input::Exited { pod });
        }
        for req in active {
            let flight = &mut self.flights[req as usize];
            flight.in_watchdog = false;
            flight.in_child = false;
            if flight.stage != Stage::Watchdog {
                continue;
            }
            self.ledger[req as usize].lost = Some(cause);
            self.provider_fail(req, cause);
        }
    }

    /// The container crashed: the requests it held are lost (the provider sees EOF), and its
    /// processes and connections start afresh as incarnation `generation`.
    fn crash(&mut self, pod: PodId, generation: u32) {
        let now = self.now;
        let watchdog_policy = self.watchdog_policy();
        let name = self.pods[pod as usize].name.clone();
        let active = std::mem::take(&mut self.pods[pod as usize].active);
        self.note(
            || name,
            || {
                format!(
                    "container crashed with {} requests active; restarting",
                    active.len()
                )
            },
        );
        for req in active {
            let flight = &mut self.flights[req as usize];
            flight.in_watchdog = false;
            flight.in_child = false;
            if flight.stage == Stage::Watchdog {
                self.ledger[req as usize].lost = Some(Cause::PodCrash);
                self.provider_fail(req, Cause::PodCrash);
            }
        }
        let config = &self.config.function;
        let p = &mut self.pods[pod as usize];
        assert_eq!(
            p.generation + 1,
            generation,
            "a crash starts the next incarnation"
        );
        p.generation = generation;
        p.watchdog = Server::new(watchdog_policy);
        p.child = Server::new(DrainPolicy::child(&config.child, config.watchdog.kind));
        p.last_close_ns = Some(now);
        p.child_pool = Pool::default();
        self.to_provider(provider::Input::ServerClosed { pod });
    }

    /// The pod's node died: its processes vanish without a FIN, and the requests they held
    /// hang until a timer of the provider, the gateway or the client gives up.
    fn node_lost(&mut self, pod: PodId) {
        let p = &mut self.pods[pod as usize];
        assert_eq!(p.end, PodEnd::Running, "a node takes only live pods");
        let active = std::mem::take(&mut p.active);
        p.killed_with = active.len() as u32;
        p.watchdog.exit();
        p.child.exit();
        p.black_hole = true;
        p.end = PodEnd::Killed;
        let name = p.name.clone();
        let count = active.len();
        self.to_provider(provider::Input::Vanished { pod });
        self.note(
            || name,
            || format!("lost with the node, {count} requests hang"),
        );
        for req in active {
            let flight = &mut self.flights[req as usize];
            flight.in_watchdog = false;
            flight.in_child = false;
            if flight.stage != Stage::Watchdog {
                // Its caller gave up; the cancel was still on its way.
                continue;
            }
            flight.exec_deadline_ns = NONE_NS;
            flight.stage = Stage::Provider;
            // No FIN: the provider waits until a timer gives up.
            self.ledger[req as usize].lost = Some(Cause::NodeLost);
        }
    }

    // ---------------------------------------------------------------- requests

    /// Hand `input` to the load generator and carry out its effects in order.
    fn to_client(&mut self, input: client::Input) {
        let mut out = std::mem::take(&mut self.client_out);
        self.client.handle(self.now, input, &mut out);
        for effect in out.drain(..) {
            self.apply_client(effect);
        }
        self.client_out = out;
    }

    fn apply_client(&mut self, effect: client::Effect) {
        match effect {
            client::Effect::Request {
                req,
                worker,
                key,
                dial,
                deadline_ns,
            } => {
                assert_eq!(
                    req as usize,
                    self.ledger.len(),
                    "requests are numbered in order"
                );
                self.ledger.push(Record::new(req, worker, self.now));
                self.flights.push(Flight {
                    stage: Stage::Gateway,
                    leg: 0,
                    key,
                    watchdog_header_ns: 0,
                    child_header_ns: 0,
                    pod: PodId::MAX,
                    generation: 0,
                    in_watchdog: false,
                    in_child: false,
                    client_deadline_ns: deadline_ns.unwrap_or(NONE_NS),
                    upstream_deadline_ns: NONE_NS,
                    provider_deadline_ns: NONE_NS,
                    exec_deadline_ns: NONE_NS,
                    wake_ns: NONE_NS,
                });
                self.arm(req);
                // A dial costs a round trip before the request goes out.
                let delay = if dial { 3 * self.hop_ns } else { self.hop_ns };
                self.send(req, delay, Msg::ToGateway);
            }
            client::Effect::Abandon { req } => {
                self.cancel_downstream(req, 2);
                self.to_gateway(gateway::Input::Abandoned { req });
                self.to_provider(provider::Input::Abandoned { req });
            }
            client::Effect::Finish { req, status, cause } => self.finish(req, status, cause),
            client::Effect::Arm { at_ns, timer } => self.queue.push(at_ns, Ev::Client(timer)),
        }
    }

    /// Put `msg` on the network for `req`, arriving `delay_ns` from now (at once when the
    /// scenario's round trip is zero).
    fn send(&mut self, req: RequestId, delay_ns: Nanos, msg: Msg) {
        let leg = self.flights[req as usize].leg;
        if delay_ns == 0 {
            self.deliver(req, leg, msg);
        } else {
            self.queue
                .push(self.now + delay_ns, Ev::Deliver(req, leg, msg));
        }
    }

    fn deliver(&mut self, req: RequestId, leg: u32, msg: Msg) {
        if self.flights[req as usize].leg != leg {
            self.stale = true;
            return;
        }
        match msg {
            Msg::ToGateway => {
                self.to_gateway(gateway::Input::Request { req });
            }
            Msg::Syn { pod, retry } => self.syn_arrives(req, pod, retry),
            Msg::ToPod {
                pod,
                reused,
                retry,
                sent_ns,
                generation,
            } => self.request_arrives(req, pod, reused, retry, sent_ns, generation),
            Msg::Reset { pod } => self.to_provider(provider::Input::Reset { req, pod }),
            Msg::ToProvider {
                code,
                cause,
                reuse,
                written_ns,
            } => self.to_provider(provider::Input::Answer {
                req,
                code,
                cause,
                reuse,
                written_ns,
            }),
            Msg::ToClient { status, cause } => {
                self.to_client(client::Input::Answer { req, status, cause })
            }
        }
    }

    /// Hand `input` to the gateway and carry out its effects in order.
    fn to_gateway(&mut self, input: gateway::Input) {
        let mut out = std::mem::take(&mut self.gateway_out);
        self.gateway.handle(self.now, input, &mut out);
        for effect in out.drain(..) {
            match effect {
                gateway::Effect::ScaleFromZero { replicas } => {
                    self.to_cluster(Input::ScaleFromZero { replicas })
                }
                gateway::Effect::Forward {
                    req,
                    upstream_deadline_ns,
                } => {
                    // The provider is in the gateway's pod: no hop.
                    let flight = &mut self.flights[req as usize];
                    flight.stage = Stage::Provider;
                    flight.upstream_deadline_ns = upstream_deadline_ns;
                    let key = flight.key;
                    self.to_provider(provider::Input::Forward { req, key });
                }
                gateway::Effect::Abandon { req } => {
                    self.cancel_downstream(req, 1);
                    self.to_provider(provider::Input::Abandoned { req });
                }
                gateway::Effect::Respond { req, status, cause } => {
                    let flight = &mut self.flights[req as usize];
                    flight.stage = Stage::ToClient;
                    flight.upstream_deadline_ns = NONE_NS;
                    flight.provider_deadline_ns = NONE_NS;
                    self.send(req, self.hop_ns, Msg::ToClient { status, cause });
                }
                gateway::Effect::Arm { at_ns, timer } => self.queue.push(at_ns, Ev::Gateway(timer)),
            }
        }
        self.gateway_out = out;
    }

    /// Hand `input` to the provider and carry out its effects in order.
    fn to_provider(&mut self, input: provider::Input) {
        let mut out = std::mem::take(&mut self.provider_out);
        self.provider
            .handle(self.now, input, &mut *self.chooser, &mut out);
        for effect in out.drain(..) {
            match effect {
                provider::Effect::Deadline { req, at_ns } => {
                    self.flights[req as usize].provider_deadline_ns = at_ns;
                    self.arm(req);
                }
                provider::Effect::Learn { req, fact } => self.ledger[req as usize].learn(fact),
                provider::Effect::Send { req, hops, msg } => {
                    self.send(req, hops * self.hop_ns, msg)
                }
                provider::Effect::Abandon { req } => self.cancel_downstream(req, 1),
                provider::Effect::Answer { req, code, cause } => {
                    self.to_gateway(gateway::Input::Answer { req, code, cause })
                }
                provider::Effect::Endpoints { count } => {
                    self.to_gateway(gateway::Input::Endpoints { count })
                }
                provider::Effect::Note { what } => self.note(|| "provider".into(), || what),
            }
        }
        self.provider_out = out;
    }

    fn syn_arrives(&mut self, req: RequestId, pod: PodId, retry: bool) {
        let p = &self.pods[pod as usize];
        if p.black_hole {
            // SYNs to a vanished host: the dial hangs until a timer gives up.
            self.ledger[req as usize].refused = true;
        } else if p.end == PodEnd::Running && p.watchdog.listening() {
            // Accepted: the SYN-ACK goes back and the request comes after it.
            let msg = Msg::ToPod {
                pod,
                reused: false,
                retry,
                sent_ns: self.now,
                generation: p.generation,
            };
            self.send(req, 2 * self.hop_ns, msg);
        } else {
            self.dial_failed(req, retry);
        }
    }

    /// A new connection failed before the request was read (an RST for the SYN, or the
    /// process gone): the provider learns it a hop later. A retry that fails is still the
    /// keep-alive race's casualty.
    fn dial_failed(&mut self, req: RequestId, retry: bool) {
        self.ledger[req as usize].refused = true;
        let cause = if retry {
            Cause::KeepAliveReset
        } else {
            Cause::ConnectionRefused
        };
        let msg = Msg::ToProvider {
            code: 500,
            cause,
            reuse: None,
            written_ns: self.now,
        };
        self.send(req, self.hop_ns, msg);
    }

    /// The request's bytes reach the pod. A reused connection may have been closed since the
    /// request left (Shutdown's idle close, the process's end): a keep-alive race. A new one
    /// survives Shutdown (Go leaves a connection that has not sent its first request alone)
    /// but not the process: a failed call that Go does not retry.
    fn request_arrives(
        &mut self,
        req: RequestId,
        pod: PodId,
        reused: bool,
        retry: bool,
        sent_ns: Nanos,
        generation: u32,
    ) {
        let p = &self.pods[pod as usize];
        if p.black_hole {
            self.ledger[req as usize].refused = true;
            return;
        }
        let open = if reused {
            p.last_close_ns.is_none_or(|at| at < sent_ns)
        } else {
            p.generation == generation
        };
        if p.end == PodEnd::Running && open {
            self.watchdog_accept(req, pod);
        } else if reused {
            self.send(req, self.hop_ns, Msg::Reset { pod });
        } else {
            self.dial_failed(req, retry);
        }
    }

    fn watchdog_accept(&mut self, req: RequestId, pod: PodId) {
        let now = self.now;
        let max_inflight = self.config.function.watchdog.max_inflight;
        let p = &mut self.pods[pod as usize];
        let flight = &mut self.flights[req as usize];
        flight.stage = Stage::Watchdog;
        flight.pod = pod;
        flight.generation = p.generation;
        flight.watchdog_header_ns = now;
        if max_inflight > 0 && p.active.len() as u32 >= max_inflight {
            flight.stage = Stage::Provider;
            let msg = Msg::ToProvider {
                code: 429,
                cause: Cause::MaxInflight,
                reuse: Some(pod),
                written_ns: now,
            };
            self.send(req, self.hop_ns, msg);
            return;
        }
        p.active.push(req);
        p.watchdog.active += 1;
        flight.in_watchdog = true;
        let exec = self.config.function.watchdog.exec_timeout_ns;
        if exec > 0 {
            flight.exec_deadline_ns = now + exec;
            self.arm(req);
        }
        match self.config.function.watchdog.mode {
            Mode::Http => self.child_call(req, pod),
            Mode::Streaming => self.start_handler(req, pod),
        }
    }

    fn child_call(&mut self, req: RequestId, pod: PodId) {
        // Loopback: the request is there at once; the FIN takes a tenth of a round trip.
        let (client_idle, server_idle, reach) = (
            500 * faasim_model::time::NS_PER_MS,
            self.config.function.child.read_timeout_ns,
            Reach {
                request_ns: 0,
                fin_ns: self.config.network.rtt_ns / 10,
            },
        );
        let p = &mut self.pods[pod as usize];
        let checkout = p
            .child_pool
            .checkout(self.now, client_idle, server_idle, reach);
        let reachable = match checkout {
            Checkout::Reused => true,
            Checkout::Race if self.config.load.method.is_replayable() => {
                self.ledger[req as usize].retried = true;
                p.child.listening()
            }
            Checkout::Race | Checkout::Hang => false,
            Checkout::Dial => p.child.listening(),
        };
        if reachable {
            p.child.active += 1;
            self.flights[req as usize].in_child = true;
            self.flights[req as usize].child_header_ns = self.now;
            self.start_handler(req, pod);
        } else {
            self.ledger[req as usize].refused = true;
            self.watchdog_respond(req, 500, Cause::ChildRefused);
        }
    }

    fn start_handler(&mut self, req: RequestId, pod: PodId) {
        let span = self.config.function.handler_ns;
        let duration = if span.is_fixed() {
            span.lo_ns
        } else {
            let key = self.flights[req as usize].key;
            self.chooser
                .pick_u64_keyed(Stream::Handler, key, span.lo_ns, span.hi_ns)
        };
        let generation = self.pods[pod as usize].generation;
        self.queue
            .push(self.now + duration, Ev::HandlerDone(req, pod, generation));
    }

    fn handler_done(&mut self, req: RequestId, pod: PodId, generation: u32) {
        if !self.current(pod, generation) {
            return;
        }
        let http = self.config.function.watchdog.mode == Mode::Http;
        let flight = self.flights[req as usize];
        if http {
            let p = &mut self.pods[pod as usize];
            p.child.active = p.child.active.saturating_sub(1);
            if !flight.in_child {
                return;
            }
            self.flights[req as usize].in_child = false;
            if flight.stage != Stage::Watchdog || !flight.in_watchdog {
                return;
            }
            let child_write = self.config.function.child.write_timeout_ns;
            if self.now - flight.child_header_ns > child_write {
                self.watchdog_respond(req, 500, Cause::ChildWriteTimeout);
                return;
            }
            if matches!(p.child.phase, Phase::Serving | Phase::Draining) {
                p.child_pool.checkin(self.now, self.now);
            }
            self.watchdog_respond(req, 200, Cause::Handler);
        } else {
            if flight.stage != Stage::Watchdog || !flight.in_watchdog {
                return;
            }
            self.watchdog_respond(req, 200, Cause::Handler);
        }
    }

    /// The watchdog writes its response. Past write_timeout the write fails and the connection
    /// closes: the provider sees EOF (500) when the handler returns, not at the timeout.
    fn watchdog_respond(&mut self, req: RequestId, code: u16, cause: Cause) {
        let now = self.now;
        let flight = &mut self.flights[req as usize];
        if flight.stage != Stage::Watchdog {
            return;
        }
        let pod = flight.pod;
        flight.exec_deadline_ns = NONE_NS;
        if flight.in_watchdog {
            flight.in_watchdog = false;
            let p = &mut self.pods[pod as usize];
            p.watchdog.active = p.watchdog.active.saturating_sub(1);
            if let Some(at) = p.active.iter().position(|r| *r == req) {
                p.active.swap_remove(at);
            }
        }
        flight.stage = Stage::Provider;
        let write = self.config.function.watchdog.write_timeout_ns;
        let msg = if now - flight.watchdog_header_ns > write {
            Msg::ToProvider {
                code: 500,
                cause: Cause::WatchdogWriteTimeout,
                reuse: None,
                written_ns: now,
            }
        } else {
            let phase = self.pods[pod as usize].watchdog.phase;
            let reusable = matches!(phase, Phase::Serving | Phase::Draining);
            Msg::ToProvider {
                code,
                cause,
                reuse: reusable.then_some(pod),
                written_ns: now,
            }
        };
        self.send(req, self.hop_ns, msg);
    }

    /// The pod's end of the connection is gone (the process exited or crashed): the provider
    /// sees EOF, "Can't reach service" (500), a hop later.
    fn provider_fail(&mut self, req: RequestId, cause: Cause) {
        let flight = &mut self.flights[req as usize];
        if flight.stage == Stage::Done {
            return;
        }
        flight.stage = Stage::Provider;
        flight.exec_deadline_ns = NONE_NS;
        let msg = Msg::ToProvider {
            code: 500,
            cause,
            reuse: None,
            written_ns: self.now,
        };
        self.send(req, self.hop_ns, msg);
    }

    /// The ledger closes `req`'s record.
    fn finish(&mut self, req: RequestId, status: Status, cause: Cause) {
        let flight = &mut self.flights[req as usize];
        flight.stage = Stage::Done;
        flight.leg += 1;
        self.ledger[req as usize].finish(self.now, status, cause);
        if self.tracing {
            let record = &self.ledger[req as usize];
            let pod = record
                .pod
                .map(|p| self.pods[p as usize].name.clone())
                .unwrap_or_else(|| "-".into());
            let status = match status {
                Status::Code(code) => code.to_string(),
                Status::Error => "error".into(),
            };
            let what = format!(
                "request {} ends {} ({}, {}) after {} via {}",
                req,
                status,
                record.outcome.name(),
                cause.name(),
                stamp(self.now - record.start_ns),
                pod
            );
            self.trace.push(TraceLine {
                at_ns: self.now,
                who: "client".into(),
                what,
            });
        }
    }

    // ---------------------------------------------------------------- request timers

    fn earliest_deadline(flight: &Flight) -> Nanos {
        flight
            .client_deadline_ns
            .min(flight.upstream_deadline_ns)
            .min(flight.provider_deadline_ns)
            .min(flight.exec_deadline_ns)
    }

    /// Make sure a wake-up is scheduled for the request's earliest timer.
    fn arm(&mut self, req: RequestId) {
        let flight = &mut self.flights[req as usize];
        let due = Self::earliest_deadline(flight);
        if due < flight.wake_ns {
            flight.wake_ns = due;
            // Each timer is a fixed delay after an instant that only moves forward, so its
            // wake-ups come in time order: one FIFO lane per timer.
            let lane = if due == flight.exec_deadline_ns {
                0
            } else if due == flight.provider_deadline_ns {
                1
            } else if due == flight.upstream_deadline_ns {
                2
            } else {
                3
            };
            self.queue.push_lane(lane, due, Ev::Wake(req));
        }
    }

    fn wake(&mut self, req: RequestId) {
        let now = self.now;
        let flight = &mut self.flights[req as usize];
        if flight.stage == Stage::Done || flight.wake_ns != now {
            self.stale = true;
            return;
        }
        flight.wake_ns = NONE_NS;
        if flight.exec_deadline_ns <= now && flight.stage != Stage::Watchdog {
            // The watchdog's timer died with its call (an answer or an EOF is on its way).
            flight.exec_deadline_ns = NONE_NS;
        }
        // At equal instants the innermost timer wins: its response is already on its way out.
        if flight.exec_deadline_ns <= now && flight.stage == Stage::Watchdog {
            flight.exec_deadline_ns = NONE_NS;
            let pod = flight.pod;
            let code = match self.config.function.watchdog.mode {
                Mode::Http => 504,
                // The process is killed; 200 was implicit, the body is empty.
                Mode::Streaming => 200,
            };
            let _ = pod;
            if self.config.function.watchdog.mode == Mode::Http {
                // The upstream call is cancelled; the child's handler runs on.
                self.flights[req as usize].in_child = false;
            }
            self.watchdog_respond(req, code, Cause::ExecTimeout);
        } else if flight.provider_deadline_ns <= now {
            self.to_provider(provider::Input::Timeout { req });
        } else if flight.upstream_deadline_ns <= now {
            self.to_gateway(gateway::Input::UpstreamTimeout { req });
        } else if flight.client_deadline_ns <= now {
            self.to_client(client::Input::Timeout { req });
        }
        if self.flights[req as usize].stage != Stage::Done {
            self.arm(req);
        }
    }

    /// A caller `hops` away from the pod gave up: whatever was on its way for the request is
    /// dropped, and the cancel travels down the chain, ending the watchdog's call when it
    /// arrives (the handler itself runs on, as Go handlers that ignore their context do).
    fn cancel_downstream(&mut self, req: RequestId, hops: u64) {
        let delay = hops * self.hop_ns;
        let flight = &mut self.flights[req as usize];
        flight.exec_deadline_ns = NONE_NS;
        flight.leg += 1;
        flight.in_child = flight.in_child && self.config.function.watchdog.mode == Mode::Http;
        flight.stage = Stage::Provider;
        if flight.in_watchdog {
            let (pod, generation) = (flight.pod, flight.generation);
            if delay == 0 {
                self.cancel_arrives(req, pod, generation);
            } else {
                self.queue
                    .push(self.now + delay, Ev::Cancel(req, pod, generation));
            }
        }
    }

    fn cancel_arrives(&mut self, req: RequestId, pod: PodId, generation: u32) {
        let flight = &mut self.flights[req as usize];
        let p = &mut self.pods[pod as usize];
        if !flight.in_watchdog || p.generation != generation {
            self.stale = true;
            return;
        }
        flight.in_watchdog = false;
        p.watchdog.active = p.watchdog.active.saturating_sub(1);
        if let Some(at) = p.active.iter().position(|r| *r == req) {
            p.active.swap_remove(at);
        }
    }

    fn finish_run(self) -> RunResult {
        let pods = self
            .cluster
            .summaries(|pod| self.pods[pod as usize].killed_with);
        RunResult {
            ledger: self.ledger,
            pods,
            events: self.events_run,
            end_ns: self.now,
            trace: self.trace,
        }
    }
}
