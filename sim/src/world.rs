//! The world: the router between the model's components. It owns the event queue, the
//! network (each message a hop of half the round trip; a message of a leg a timer already
//! ended is dropped on arrival), each request's timer table, the ledger and the timeline. It
//! hands every event to the component it belongs to (the load generator, the ingress when the
//! scenario has one, the gateway, the provider, the pods, the control plane) and carries out
//! the effects each returns, in order.
//! It decides nothing: every status and every choice is a component's.

use faasim_model::choice::Chooser;
use faasim_model::client::{self, Client};
use faasim_model::cluster::{self, Cluster};
use faasim_model::config::Config;
use faasim_model::gateway::{self, Gateway};
use faasim_model::gateway_deployment::{self, Caller, GatewayDeployment, GatewayId};
use faasim_model::ingress::{self, Ingress};
use faasim_model::ledger::{Cause, PodId, Record, RequestId, Status};
use faasim_model::limits;
use faasim_model::message::Msg;
use faasim_model::pod::{self, Pods};
use faasim_model::provider::{self, Provider};
pub use faasim_model::run::{PodEnd, PodSummary, RunResult, TraceLine};
use faasim_model::schedule::{Action, Event};
use faasim_model::server::DrainPolicy;
use faasim_model::slots::Window;
use faasim_model::tally::Tally;
use faasim_model::time::{Nanos, stamp};

use crate::engine::Queue;
use crate::progress;

mod asynchronous;
mod retire;
mod timers;
use asynchronous::{AsyncHop, AsyncPath};
pub use retire::RETIRE_EVERY_EVENTS;

/// A deadline that is not armed.
const NONE_NS: Nanos = Nanos::MAX;

/// The queue's FIFO lanes: `CLIENT_LANE` the load generator's timers, then one per hop count
/// of a message on the network, from `NETWORK_LANE + 1` (a dial and its request take three
/// hops). The request timers' wake-ups have the queue's id lanes (`World::arm`).
const NETWORK_LANE: usize = 0;

/// The load generator's lane: an open loop's ticks come in time order (a closed loop's workers
/// mostly do not, and theirs go to the heap).
const CLIENT_LANE: usize = 0;

/// Everything that can be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    /// A scenario event, by index.
    Scenario(u32),
    /// A control-plane timer.
    Cluster(cluster::Timer),
    /// A timer of the load generator.
    Client(client::Timer),
    /// A timer of gateway pod `.0`.
    Gateway(GatewayId, gateway::Timer),
    /// A timer of the gateway's Deployment.
    Edge(gateway_deployment::Timer),
    /// A timer of pod `.0`'s incarnation `.1`.
    Pod(PodId, u32, pod::Timer),
    /// A request's earliest deadline may be due.
    Wake(RequestId),
    /// The provider's view of a pod changes.
    ViewSet(PodId, bool),
    /// A message of a request crosses the network; dropped when the request's `leg` moved on
    /// (a timer answered it first).
    Deliver(RequestId, u32, Msg),
    /// A caller's cancel reaches the pod (incarnation) serving the request.
    Cancel(RequestId, PodId, u32),
    /// A timer of the queue.
    Queue(faasim_model::queue::Timer),
    /// A timer of the queue-workers.
    Workers(faasim_model::queue_worker::Timer),
    /// A timer of the callback receiver.
    Receiver(faasim_model::callback::Timer),
    /// A timer of the Pro queue-workers and their stream.
    ProWorkers(faasim_model::queue_worker_pro::Timer),
    /// A message of the asynchronous path (queue, workers, receiver) crosses the network.
    Async(AsyncHop),
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

/// The router's record of one request in flight: its network leg and its timer table (one
/// deadline per component that times it, innermost first).
#[derive(Clone, Copy, Debug)]
struct Flight {
    /// Bumped whenever a timer or the client ends a leg: messages sent on an older leg are
    /// dropped on arrival.
    leg: u32,
    /// `choice::request_key`: the key of this request's own draws (handler, endpoint).
    key: u64,
    /// The gateway pod (and its provider) the request goes through.
    gateway: GatewayId,
    /// The client has its answer.
    done: bool,
    /// The request goes to the gateway's async route (`POST /async-function/NAME`).
    queued: bool,
    /// The watchdog's exec_timeout.
    exec_deadline_ns: Nanos,
    /// The provider's read_timeout.
    provider_deadline_ns: Nanos,
    /// The gateway's upstream_timeout.
    upstream_deadline_ns: Nanos,
    /// The ingress's read timeout.
    ingress_deadline_ns: Nanos,
    /// The client's timeout.
    client_deadline_ns: Nanos,
    /// When the queued wake-up is due (`NONE_NS`: none queued).
    wake_ns: Nanos,
    /// When the latest event queued that names this request (a message, a cancel, a gateway's
    /// poll, a handler's return) is due: its records are retired only after it.
    last_event_ns: Nanos,
}

impl Flight {
    fn earliest_deadline(&self) -> Nanos {
        self.client_deadline_ns
            .min(self.ingress_deadline_ns)
            .min(self.upstream_deadline_ns)
            .min(self.provider_deadline_ns)
            .min(self.exec_deadline_ns)
    }
}

/// The simulated system.
pub struct World<'a> {
    /// The scenario's configuration.
    config: Config,
    /// The scenario's events.
    events: Vec<Event>,
    /// Every nondeterministic choice.
    chooser: &'a mut dyn Chooser,
    /// The event queue.
    queue: Queue<Ev>,
    /// Simulated time.
    now: Nanos,
    /// The run stops here.
    limit_ns: Nanos,
    /// The control plane.
    cluster: Cluster,
    /// The load generator.
    client: Client,
    /// The ingress in front of the gateway, when the scenario has one.
    ingress: Option<Ingress>,
    /// The gateway's Deployment and Service.
    edge: GatewayDeployment,
    /// Each gateway pod's gateway, by pod.
    gateways: Vec<Gateway>,
    /// Each gateway pod's provider (faas-netes beside the gateway), by pod.
    providers: Vec<Provider>,
    /// The pods' data plane.
    pods: Pods,
    /// Effects buffers, reused (a nested call takes a fresh one).
    client_out: Vec<client::Effect>,
    /// The ingress's effects buffer.
    ingress_out: Vec<ingress::Effect>,
    /// The gateway's effects buffer.
    gateway_out: Vec<gateway::Effect>,
    /// The gateway Deployment's effects buffer.
    edge_out: Vec<gateway_deployment::Effect>,
    /// The provider's effects buffer.
    provider_out: Vec<provider::Effect>,
    /// The pods' effects buffer.
    pods_out: Vec<pod::Effect>,
    /// The record of each request not yet retired.
    ledger: Window<Record>,
    /// The records retired so far, oldest first (a run that keeps its whole ledger).
    retired: Vec<Record>,
    /// A streamed run's retired records, folded (`None`: the run keeps them in `retired`).
    tally: Option<Tally>,
    /// Retire settled requests every this many events (0: never; an asynchronous run keeps
    /// every record, since its invocations are judged at the end).
    retire_every: u64,
    /// The count of events at which the next retirement runs (`u64::MAX`: never). A counter,
    /// not `events_run % retire_every`: a division at every event costs more than the
    /// retirement it schedules.
    next_retire: u64,
    /// One flight per request not yet retired.
    flights: Window<Flight>,
    /// One network hop: half the round trip.
    hop_ns: Nanos,
    /// Whether the timeline is recorded.
    tracing: bool,
    /// The event being dispatched turned out to be a stale timer or message.
    stale: bool,
    /// When the last event that did something ran.
    last_effective_ns: Nanos,
    /// The timeline.
    trace: Vec<TraceLine>,
    /// Events run.
    events_run: u64,
    /// Told how far the run has got every [`progress::EVERY_EVENTS`] events (a progress bar);
    /// it only reads.
    observer: Option<progress::Observer<'a>>,
    /// The asynchronous path, when the load is asynchronous.
    asynchronous: Option<Box<AsyncPath>>,
    /// The first execution's id: every id from here on is a queue-worker's call.
    first_exec: RequestId,
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
        let first_exec = RequestId::try_from(config.load.requests).unwrap_or(RequestId::MAX);
        let config_async = config.asynchronous.is_some();
        // Past the ledger's limit a run folds its records as they retire, and keeps no
        // timeline (a few lines per request).
        let streamed = !config_async && config.load.requests > limits::LEDGER_KEPT_MAX;
        let tracing = tracing && !streamed;
        World {
            tally: streamed.then(|| Tally::new(limits::STREAMED_LISTED_MAX)),
            asynchronous: config
                .asynchronous
                .as_ref()
                .map(|a| Box::new(AsyncPath::new(a, first_exec, tracing))),
            first_exec,
            cluster: Cluster::new(&config, tracing),
            client: Client::new(&config.load),
            ingress: config
                .ingress
                .as_ref()
                .map(|ingress| Ingress::new(ingress, tracing)),
            edge: GatewayDeployment::new(&config.gateway, config.kubernetes.endpoint_lag_ns),
            gateways: Vec::new(),
            providers: Vec::new(),
            pods: Self::pods(&config, Mutation::None, tracing),
            client_out: Vec::new(),
            ingress_out: Vec::new(),
            gateway_out: Vec::new(),
            edge_out: Vec::new(),
            provider_out: Vec::new(),
            pods_out: Vec::new(),
            config,
            events,
            chooser,
            queue: Queue::new(Ev::Wake),
            now: 0,
            limit_ns,
            ledger: Window::default(),
            retired: Vec::new(),
            retire_every: if config_async { 0 } else { RETIRE_EVERY_EVENTS },
            next_retire: if config_async {
                u64::MAX
            } else {
                RETIRE_EVERY_EVENTS
            },
            flights: Window::default(),
            hop_ns,
            tracing,
            stale: false,
            last_effective_ns: 0,
            trace: Vec::new(),
            events_run: 0,
            observer: None,
        }
    }

    /// Stream the run whatever its size: fold each record as it retires and keep none, as a
    /// run past `limits::LEDGER_KEPT_MAX` requests does (tests compare the two). A streamed
    /// run keeps no timeline, so the world must be made without one.
    pub fn streamed(mut self) -> Self {
        assert!(!self.tracing, "a streamed run keeps no timeline");
        if self.asynchronous.is_none() {
            self.tally = Some(Tally::new(limits::STREAMED_LISTED_MAX));
        }
        self
    }

    /// Retire settled requests every `every` events (a synchronous run; at least 1).
    pub fn retiring_every(mut self, every: u64) -> Self {
        assert!(every > 0, "retiring every 0 events");
        if self.retire_every > 0 {
            self.retire_every = every;
            self.next_retire = every;
        }
        self
    }

    /// Tell `observer` how far the run has got while it runs.
    pub fn with_observer(mut self, observer: progress::Observer<'a>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn pods(config: &Config, mutation: Mutation, tracing: bool) -> Pods {
        let mut policy = DrainPolicy::watchdog(&config.function.watchdog);
        if mutation == Mutation::WatchdogClosesListenerAtSigterm {
            policy.wait_ns = Some(0);
        }
        Pods::new(
            &config.function,
            policy,
            config.load.method.is_replayable(),
            config.network.rtt_ns,
            tracing,
        )
    }

    /// Plant a deliberate bug, to show the property tests catch it.
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.pods = Self::pods(&self.config, mutation, self.tracing);
        self
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

    /// Run to completion (no events left) or to the limit.
    pub fn run(mut self) -> RunResult {
        self.setup();
        while let Some((at_ns, event)) = self.queue.pop(self.chooser) {
            if at_ns > self.limit_ns {
                self.now = self.limit_ns;
                break;
            }
            assert!(at_ns >= self.now, "time runs forward");
            self.now = at_ns;
            self.events_run += 1;
            if self.events_run.is_multiple_of(progress::EVERY_EVENTS)
                && let Some(observer) = self.observer.as_mut()
            {
                observer(progress::Progress {
                    sent: u64::from(self.ledger.end()),
                    total: self.config.load.requests,
                    now_ns: at_ns,
                });
            }
            self.stale = false;
            self.dispatch(event);
            if self.events_run == self.next_retire {
                self.next_retire += self.retire_every;
                self.retire();
            }
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
        // A streamed run's open tables hold the requests in flight, not the requests sent.
        let kept = if self.tally.is_some() {
            1 << 16
        } else {
            self.config.load.requests
        };
        let expected = usize::try_from(kept.min(1 << 22)).unwrap_or(0);
        self.ledger.reserve(expected);
        self.retired.reserve(expected);
        self.flights.reserve(expected);
        self.client.reserve(expected);
        if let Some(ingress) = &mut self.ingress {
            ingress.reserve(expected);
        }
        self.pods.reserve(expected);
        // The gateway pods first: the control plane's set-up tells their providers of the
        // function's pods.
        self.feed_edge(gateway_deployment::Input::Setup);
        self.gateways[0].reserve(expected);
        self.providers[0].reserve(expected);
        self.feed_cluster(cluster::Input::Setup);
        for (index, event) in self.events.iter().enumerate() {
            self.queue.push(event.at_ns, Ev::Scenario(index as u32));
        }
        if self.asynchronous.is_some() {
            self.start_workers();
        }
        self.feed_client(client::Input::Start);
    }

    fn dispatch(&mut self, event: Ev) {
        match event {
            Ev::Scenario(index) => {
                let action = self.events[index as usize].action.clone();
                if action == Action::RolloutGateway {
                    self.feed_edge(gateway_deployment::Input::Rollout);
                } else if action == Action::RestartQueueWorker {
                    self.restart_workers();
                } else {
                    self.feed_cluster(cluster::Input::Action(action));
                }
            }
            Ev::Cluster(timer) => self.feed_cluster(cluster::Input::Timer(timer)),
            Ev::Client(timer) => self.feed_client(client::Input::Timer(timer)),
            Ev::Gateway(gateway, timer) => self.feed_gateway(gateway, gateway::Input::Timer(timer)),
            Ev::Edge(timer) => self.feed_edge(gateway_deployment::Input::Timer(timer)),
            Ev::Pod(pod, generation, timer) => self.feed_pods(pod::Input::Timer {
                pod,
                generation,
                timer,
            }),
            Ev::Wake(req) => self.wake(req),
            Ev::ViewSet(pod, routed) => self.feed_providers(provider::Input::Route { pod, routed }),
            Ev::Deliver(req, leg, msg) => self.deliver(req, leg, msg),
            Ev::Cancel(req, pod, generation) => self.feed_pods(pod::Input::Cancel {
                req,
                pod,
                generation,
            }),
            Ev::Queue(timer) => self.feed_queue(faasim_model::queue::Input::Timer(timer)),
            Ev::Workers(timer) => {
                self.feed_workers(faasim_model::queue_worker::Input::Timer(timer))
            }
            Ev::Receiver(timer) => self.feed_receiver(faasim_model::callback::Input::Timer(timer)),
            Ev::Async(hop) => self.hop_arrives(hop),
            Ev::ProWorkers(timer) => {
                self.feed_pro(faasim_model::queue_worker_pro::Input::Timer(timer))
            }
        }
    }

    // ---------------------------------------------------------------- components

    /// Hand `input` to the control plane and carry out its effects in order.
    fn feed_cluster(&mut self, input: cluster::Input) {
        let mut effects = Vec::new();
        self.cluster
            .handle(self.now, input, &mut *self.chooser, &mut effects);
        for effect in effects {
            match effect {
                cluster::Effect::Created { pod, name } => {
                    let created = provider::Input::PodCreated {
                        pod,
                        name: name.clone(),
                    };
                    self.feed_providers(created);
                    self.feed_pods(pod::Input::Created { pod, name });
                }
                cluster::Effect::Warm { pod } => {
                    // Running, ready and routed at time 0.
                    self.feed_pods(pod::Input::Warm { pod });
                    self.feed_providers(provider::Input::Warm { pod });
                }
                cluster::Effect::Start { pod, generation } => {
                    self.feed_pods(pod::Input::Start { pod, generation })
                }
                cluster::Effect::Probe { pod, generation } => {
                    let healthy = self.pods.healthy(pod);
                    self.feed_cluster(cluster::Input::Probed {
                        pod,
                        generation,
                        healthy,
                    });
                }
                cluster::Effect::Route { pod, routed, at_ns } => {
                    self.queue.push(at_ns, Ev::ViewSet(pod, routed))
                }
                cluster::Effect::Sigterm { pod } => self.feed_pods(pod::Input::Sigterm { pod }),
                cluster::Effect::Sigkill { pod } => self.feed_pods(pod::Input::Sigkill { pod }),
                cluster::Effect::Crash { pod, generation } => {
                    self.feed_pods(pod::Input::Crash { pod, generation })
                }
                cluster::Effect::NodeLost { pod } => self.feed_pods(pod::Input::NodeLost { pod }),
                cluster::Effect::Removed { pod } => self.feed_pods(pod::Input::Removed { pod }),
                cluster::Effect::Arm { at_ns, timer } => self.queue.push(at_ns, Ev::Cluster(timer)),
                cluster::Effect::Note { who, what } => self.note(|| who, || what),
            }
        }
    }

    /// Hand `input` to the load generator and carry out its effects in order.
    fn feed_client(&mut self, input: client::Input) {
        let mut out = std::mem::take(&mut self.client_out);
        self.client.handle(self.now, input, &mut out);
        for effect in out.drain(..) {
            match effect {
                client::Effect::Request {
                    req,
                    worker,
                    key,
                    conn,
                    dial,
                    deadline_ns,
                } => {
                    assert_eq!(req, self.ledger.end(), "requests are numbered in order");
                    self.ledger.push(Record::new(req, worker, self.now));
                    self.flights.push(Flight {
                        leg: 0,
                        key,
                        gateway: 0,
                        done: false,
                        queued: self.asynchronous.is_some(),
                        exec_deadline_ns: NONE_NS,
                        provider_deadline_ns: NONE_NS,
                        upstream_deadline_ns: NONE_NS,
                        ingress_deadline_ns: NONE_NS,
                        client_deadline_ns: deadline_ns.unwrap_or(NONE_NS),
                        wake_ns: NONE_NS,
                        last_event_ns: 0,
                    });
                    self.arm(req);
                    if self.ingress.is_some() {
                        // The client's connection is to the ingress; a dial costs a round trip
                        // before the request goes out.
                        let hops = if dial { 3 } else { 1 };
                        self.send(req, hops, Msg::ToIngress);
                    } else {
                        self.connect_client(req, conn, dial);
                    }
                }
                client::Effect::Connect { req, conn, dial } => self.connect_client(req, conn, dial),
                client::Effect::Abandon { req } => {
                    // The cancel goes down the chain, a hop further through an ingress.
                    let ingress = self.ingress.is_some();
                    self.abandon(req, if ingress { 3 } else { 2 });
                    if ingress {
                        self.feed_ingress(ingress::Input::Abandoned { req });
                    }
                    let gateway = self.flight(req).gateway;
                    self.feed_gateway(gateway, gateway::Input::Abandoned { req });
                    self.feed_provider(gateway, provider::Input::Abandoned { req });
                }
                client::Effect::Finish { req, status, cause } => self.finish(req, status, cause),
                client::Effect::Arm { at_ns, timer } => {
                    self.queue.push_lane(CLIENT_LANE, at_ns, Ev::Client(timer))
                }
            }
        }
        self.client_out = out;
    }

    /// The client's request `req` goes out on its transport's connection `conn` (`dial`: a
    /// new one): kube-proxy and conntrack pick the gateway pod.
    fn connect_client(&mut self, req: RequestId, conn: u32, dial: bool) {
        let key = self.flight(req).key;
        self.feed_edge(gateway_deployment::Input::Connect {
            req,
            key,
            caller: Caller::Client { conn },
            dial,
        });
    }

    /// Hand `input` to the gateway Deployment and carry out its effects in order.
    fn feed_edge(&mut self, input: gateway_deployment::Input) {
        let mut out = std::mem::take(&mut self.edge_out);
        self.edge
            .handle(self.now, input, &mut *self.chooser, &mut out);
        for effect in out.drain(..) {
            match effect {
                gateway_deployment::Effect::Spawn { gateway } => self.spawn(gateway),
                gateway_deployment::Effect::Via { req, gateway, dial } => {
                    self.flight(req).gateway = gateway;
                    // A dial costs a round trip before the request goes out.
                    let hops = if dial { 3 } else { 1 };
                    self.send(req, hops, Msg::ToGateway);
                }
                gateway_deployment::Effect::Stale { req, conn } => {
                    self.note(
                        || "client".into(),
                        || format!("request {req}: idle connection {conn} was closed by its gateway pod, takes another"),
                    );
                    self.feed_client(client::Input::Stale { req })
                }
                gateway_deployment::Effect::Refused { req, .. } => {
                    // The SYN out and the RST back, to the client or to the ingress in front.
                    let (status, cause) = (Status::Error, Cause::GatewayRefused);
                    let refused = if self.ingress.is_some() && req < self.first_exec {
                        Msg::FromGateway { status, cause }
                    } else {
                        Msg::ToClient { status, cause }
                    };
                    self.send(req, 2, refused);
                }
                gateway_deployment::Effect::Sigterm { gateway } => {
                    // Both containers of the pod get it.
                    self.feed_provider(gateway, provider::Input::Sigterm);
                    self.feed_gateway(gateway, gateway::Input::Sigterm);
                }
                gateway_deployment::Effect::Sigkill { gateway } => {
                    self.feed_gateway(gateway, gateway::Input::Sigkill)
                }
                gateway_deployment::Effect::Arm { at_ns, timer } => {
                    self.queue.push(at_ns, Ev::Edge(timer))
                }
                gateway_deployment::Effect::Note { who, what } => self.note(|| who, || what),
            }
        }
        self.edge_out = out;
    }

    /// A gateway pod comes to be: its gateway, and its provider with the endpoints its
    /// informer lists at start (the first one's from the control plane's set-up).
    fn spawn(&mut self, gateway: GatewayId) {
        assert_eq!(
            usize::from(gateway),
            self.gateways.len(),
            "gateway pods are created in id order"
        );
        let provider = match self.providers.first() {
            Some(first) => first.fresh(),
            None => Provider::new(
                &self.config.provider,
                self.config.function.watchdog.read_timeout_ns,
                self.config.load.method.is_replayable(),
                self.hop_ns,
                self.tracing,
            ),
        };
        let mut fresh = Gateway::new(&self.config.gateway, self.config.function.scale_min);
        let count = provider.endpoints();
        let mut out = Vec::new();
        fresh.handle(self.now, gateway::Input::Endpoints { count }, &mut out);
        assert!(out.is_empty(), "learning the endpoints has no effect");
        self.gateways.push(fresh);
        self.providers.push(provider);
    }

    /// Hand `input` to the ingress and carry out its effects in order.
    fn feed_ingress(&mut self, input: ingress::Input) {
        let Some(component) = &mut self.ingress else {
            unreachable!("an ingress input without an ingress");
        };
        let mut out = std::mem::take(&mut self.ingress_out);
        component.handle(self.now, input, &mut out);
        for effect in out.drain(..) {
            match effect {
                ingress::Effect::Forward {
                    req,
                    read_deadline_ns,
                } => {
                    // Upstream keep-alive: the ingress's pooled connection to a gateway pod,
                    // one hop (a new one when that pod closed it; kept per client worker).
                    self.flight(req).ingress_deadline_ns = read_deadline_ns;
                    self.arm(req);
                    let worker = self.ledger[req].worker;
                    let key = self.flight(req).key;
                    let connect = gateway_deployment::Input::Connect {
                        req,
                        key,
                        caller: Caller::Ingress { worker },
                        dial: false,
                    };
                    self.feed_edge(connect);
                }
                ingress::Effect::Abandon { req } => {
                    // The gateway's request context is cancelled when the ingress closes its
                    // connection; the cancel goes on down to the pod.
                    self.abandon(req, 2);
                    let gateway = self.flight(req).gateway;
                    self.feed_gateway(gateway, gateway::Input::Abandoned { req });
                    self.feed_provider(gateway, provider::Input::Abandoned { req });
                }
                ingress::Effect::Respond { req, status, cause } => {
                    let flight = self.flight(req);
                    flight.ingress_deadline_ns = NONE_NS;
                    flight.upstream_deadline_ns = NONE_NS;
                    flight.provider_deadline_ns = NONE_NS;
                    self.send(req, 1, Msg::ToClient { status, cause });
                }
                ingress::Effect::Note { what } => self.note(|| "ingress".into(), || what),
            }
        }
        self.ingress_out = out;
    }

    /// Hand `input` to gateway pod `gateway`'s gateway and carry out its effects in order.
    fn feed_gateway(&mut self, gateway: GatewayId, input: gateway::Input) {
        let mut out = std::mem::take(&mut self.gateway_out);
        self.gateways[usize::from(gateway)].handle(self.now, input, &mut out);
        for effect in out.drain(..) {
            match effect {
                gateway::Effect::ScaleFromZero { replicas } => {
                    self.feed_cluster(cluster::Input::ScaleFromZero { replicas })
                }
                gateway::Effect::Forward {
                    req,
                    upstream_deadline_ns,
                } => {
                    // The provider is in the gateway's pod: no hop. Its own deadline, armed
                    // at once, arms the gateway's with it.
                    let flight = self.flight(req);
                    flight.upstream_deadline_ns = upstream_deadline_ns;
                    let key = flight.key;
                    self.feed_provider(gateway, provider::Input::Forward { req, key });
                }
                gateway::Effect::Abandon { req } => {
                    self.abandon(req, 1);
                    self.feed_provider(gateway, provider::Input::Abandoned { req });
                }
                gateway::Effect::Respond { req, status, cause } => {
                    let flight = self.flight(req);
                    flight.upstream_deadline_ns = NONE_NS;
                    flight.provider_deadline_ns = NONE_NS;
                    let msg = if self.ingress.is_some() && req < self.first_exec {
                        Msg::FromGateway { status, cause }
                    } else {
                        Msg::ToClient { status, cause }
                    };
                    self.send(req, 1, msg);
                }
                gateway::Effect::Arm { at_ns, timer } => {
                    self.schedule(at_ns, Ev::Gateway(gateway, timer))
                }
                gateway::Effect::Publish { req } => {
                    self.publish(req);
                }
                gateway::Effect::ListenerClosed => {
                    self.feed_edge(gateway_deployment::Input::Closed { gateway })
                }
                gateway::Effect::Exited => {
                    self.feed_edge(gateway_deployment::Input::Exited { gateway })
                }
            }
        }
        self.gateway_out = out;
    }

    /// Hand `input` to every gateway pod's provider: what each informer sees or each pool
    /// hears of a pod.
    fn feed_providers(&mut self, input: provider::Input) {
        let last = self.providers.len() - 1;
        for gateway in 0..last {
            self.feed_provider(gateway as GatewayId, input.clone());
        }
        self.feed_provider(last as GatewayId, input);
    }

    /// Hand `input` to gateway pod `gateway`'s provider and carry out its effects in order.
    fn feed_provider(&mut self, gateway: GatewayId, input: provider::Input) {
        let mut out = std::mem::take(&mut self.provider_out);
        self.providers[usize::from(gateway)].handle(self.now, input, &mut *self.chooser, &mut out);
        for effect in out.drain(..) {
            match effect {
                provider::Effect::Deadline { req, at_ns } => {
                    self.flight(req).provider_deadline_ns = at_ns;
                    self.arm(req);
                }
                provider::Effect::Learn { req, fact } => self.record(req).learn(fact),
                provider::Effect::Send { req, hops, msg } => self.send(req, hops, msg),
                provider::Effect::Abandon { req } => self.abandon(req, 1),
                provider::Effect::Answer { req, code, cause } => {
                    self.feed_gateway(gateway, gateway::Input::Answer { req, code, cause })
                }
                provider::Effect::Endpoints { count } => {
                    self.feed_gateway(gateway, gateway::Input::Endpoints { count })
                }
                provider::Effect::Note { what } => {
                    // The first gateway pod's provider keeps the name one provider had.
                    let who = move || match gateway {
                        0 => "provider".to_string(),
                        n => format!("provider-{n}"),
                    };
                    self.note(who, || what)
                }
            }
        }
        self.provider_out = out;
    }

    /// Hand `input` to the pods and carry out their effects in order.
    fn feed_pods(&mut self, input: pod::Input) {
        let mut out = std::mem::take(&mut self.pods_out);
        self.pods
            .handle(self.now, input, &mut *self.chooser, &mut out);
        for effect in out.drain(..) {
            match effect {
                pod::Effect::Arm {
                    at_ns,
                    pod,
                    generation,
                    timer,
                } => self.schedule(at_ns, Ev::Pod(pod, generation, timer)),
                pod::Effect::Send { req, hops, msg } => self.send(req, hops, msg),
                pod::Effect::Cancel {
                    req,
                    pod,
                    generation,
                    hops,
                } => {
                    let delay_ns = hops * self.hop_ns;
                    if delay_ns == 0 {
                        self.feed_pods(pod::Input::Cancel {
                            req,
                            pod,
                            generation,
                        });
                    } else {
                        self.schedule(self.now + delay_ns, Ev::Cancel(req, pod, generation));
                    }
                }
                pod::Effect::Learn { req, fact } => self.record(req).learn(fact),
                pod::Effect::ExecDeadline { req, at_ns } => {
                    self.flight(req).exec_deadline_ns = at_ns.unwrap_or(NONE_NS);
                    if at_ns.is_some() {
                        self.arm(req);
                    }
                }
                pod::Effect::ServerClosed { pod } => {
                    self.feed_providers(provider::Input::ServerClosed { pod })
                }
                pod::Effect::Vanished { pod } => {
                    self.feed_providers(provider::Input::Vanished { pod })
                }
                pod::Effect::Exited { pod } => self.feed_cluster(cluster::Input::Exited { pod }),
                pod::Effect::Stale => self.stale = true,
                pod::Effect::Note { pod, what } => {
                    let name = self.pods.name(pod).to_string();
                    self.note(|| name, || what);
                }
            }
        }
        self.pods_out = out;
    }

    // ---------------------------------------------------------------- network

    /// Put `msg` on the network for `req`, arriving `hops` hops from now (at once when the
    /// scenario's round trip is zero).
    fn send(&mut self, req: RequestId, hops: u64, msg: Msg) {
        let delay_ns = hops * self.hop_ns;
        let at_ns = self.now + delay_ns;
        let flight = self.flight(req);
        let leg = flight.leg;
        if delay_ns == 0 {
            self.deliver(req, leg, msg);
        } else {
            // What `schedule` notes of an event that names a request (`Ev::request`), on the
            // flight already at hand.
            flight.last_event_ns = flight.last_event_ns.max(at_ns);
            // A message `hops` hops away arrives a fixed delay after an instant that only moves
            // forward, so the messages of one hop count arrive in the order they were sent:
            // one FIFO lane per hop count spares the heap half of all events.
            // (A lane past the queue's last goes to the heap.)
            let lane = usize::try_from(hops)
                .ok()
                .and_then(|hops| NETWORK_LANE.checked_add(hops))
                .unwrap_or(usize::MAX);
            self.queue
                .push_lane(lane, at_ns, Ev::Deliver(req, leg, msg));
        }
    }

    fn deliver(&mut self, req: RequestId, leg: u32, msg: Msg) {
        if self.flight(req).leg != leg {
            self.stale = true;
            return;
        }
        let gateway = self.flight(req).gateway;
        match msg {
            Msg::ToIngress => self.feed_ingress(ingress::Input::Request { req }),
            Msg::ToGateway if self.flight(req).queued => {
                self.feed_gateway(gateway, gateway::Input::Queue { req })
            }
            Msg::ToGateway => self.feed_gateway(gateway, gateway::Input::Request { req }),
            Msg::Syn { pod, retry } => self.feed_pods(pod::Input::Syn { req, pod, retry }),
            Msg::ToPod {
                pod,
                reused,
                retry,
                generation,
            } => {
                let key = self.flight(req).key;
                self.feed_pods(pod::Input::Request {
                    req,
                    pod,
                    reused,
                    retry,
                    generation,
                    key,
                });
            }
            Msg::Reset { pod } => self.feed_provider(gateway, provider::Input::Reset { req, pod }),
            Msg::ToProvider { code, cause, reuse } => self.feed_provider(
                gateway,
                provider::Input::Answer {
                    req,
                    code,
                    cause,
                    reuse,
                },
            ),
            Msg::FromGateway { status, cause } => {
                self.feed_ingress(ingress::Input::Answer { req, status, cause })
            }
            Msg::ToClient { status, cause } if req >= self.first_exec => {
                self.worker_answer(req, status, cause)
            }
            Msg::ToClient { status, cause } => {
                self.feed_client(client::Input::Answer { req, status, cause })
            }
        }
    }

    /// A caller `hops` away from the pod gave up on `req`: whatever was on its way for it is
    /// dropped, and the pod hears of it (the cancel travels down the chain).
    fn abandon(&mut self, req: RequestId, hops: u64) {
        self.flight(req).leg += 1;
        self.feed_pods(pod::Input::Orphaned { req, hops });
    }

    // ---------------------------------------------------------------- ledger

    /// The ledger closes `req`'s record.
    fn finish(&mut self, req: RequestId, status: Status, cause: Cause) {
        let flight = self.flight(req);
        assert!(!flight.done, "request {req} finishes once");
        flight.done = true;
        flight.leg += 1;
        let now = self.now;
        self.record(req).finish(now, status, cause);
        if req >= self.first_exec {
            self.trace_execution(req);
            return;
        }
        if self.tracing {
            let record = &self.ledger[req];
            let pod = record
                .pod
                .map(|p| self.pods.name(p).to_string())
                .unwrap_or_else(|| "-".into());
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

    fn finish_run(mut self) -> RunResult {
        let pods = self.cluster.summaries(|pod| self.pods.killed_with(pod));
        if let Some(tally) = &mut self.tally {
            // The records still open at the end count towards the peak too.
            tally.open_peak = tally.open_peak.max(self.ledger.len() as u64);
        }
        let mut ledger = std::mem::take(&mut self.retired);
        ledger.extend(self.ledger.take_all());
        if let Some(tally) = &mut self.tally {
            for record in ledger.drain(..) {
                tally.add(&record);
            }
        }
        let invocations = self.judge_invocations(&mut ledger);
        RunResult {
            invocations,
            ledger,
            tally: self.tally,
            pods,
            events: self.events_run,
            end_ns: self.now,
            trace: self.trace,
        }
    }
}
