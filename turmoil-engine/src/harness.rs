//! The hosts (client, gateway, pods) and the control-plane step loop.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::error::Error;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use faasim_model::choice::{Chooser, Stream, request_key};
use faasim_model::config::{Config, Method, Mode, OnSigterm, Span, Start};
use faasim_model::deployment::{self, PodFacts};
use faasim_model::duration::format_go;
use faasim_model::ledger::{Cause, PodId, Record, Status};
use faasim_model::schedule::Action;
use faasim_model::time::{NS_PER_S, Nanos};
use faasim_sim::engine::SeedChooser;
use faasim_sim::scenario::Scenario;
use faasim_sim::world::{PodEnd, PodSummary, RunResult, TraceLine};
use faasim_sim::{DEFAULT_LIMIT_NS, Run};
use faasim_watchdog::memory::{self, MemoryConnector, MemoryListener};
use faasim_watchdog::{
    Accept, Connect, Fork, Forked, Invocation, Monitor, Settings, Watchdog, X_OPENFAAS_INTERNAL,
};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// turmoil's tick: every host runs this much simulated time per step. Not finer: tokio's timer
/// wheel has millisecond slots, and with a 500 µs tick on turmoil 0.7.2 a load meant to start
/// at 11.8 s started at 5.9 s.
pub const TICK: Duration = Duration::from_millis(1);

/// Port of the gateway and of every watchdog.
const PORT: u16 = 8080;

/// Header carrying the ledger id from the client through the gateway.
const X_REQUEST_ID: &str = "x-faasim-id";

type HostResult = Result<(), Box<dyn Error>>;

// ------------------------------------------------------------------------------ shared state

/// The model's chooser: one PRNG per purpose (`Stream`), seeded as the model seeds it. The
/// harness draws from the same streams in the same order as the model (start-up times, endpoint
/// lag, scale-down victims), and a request's own draws (its handler duration, its endpoint)
/// with the same key (`choice::request_key`: worker, n-th request), so one seed gives both
/// engines the same choices, whichever order same-instant requests arrive in.
struct Rng(SeedChooser);

impl Rng {
    fn span(&mut self, stream: Stream, span: Span) -> Nanos {
        if span.is_fixed() {
            span.lo_ns
        } else {
            self.0.pick_u64(stream, span.lo_ns, span.hi_ns)
        }
    }

    /// A draw of the request keyed `key` (`choice::request_key`), as the model keys it.
    fn span_for(&mut self, stream: Stream, key: u64, span: Span) -> Nanos {
        if span.is_fixed() {
            span.lo_ns
        } else {
            self.0.pick_u64_keyed(stream, key, span.lo_ns, span.hi_ns)
        }
    }

    fn index_for(&mut self, stream: Stream, key: u64, len: usize) -> usize {
        self.0.pick_index_keyed(stream, key, len)
    }

    fn index(&mut self, stream: Stream, len: usize) -> usize {
        self.0.pick_index(stream, len)
    }
}

/// What the gateway learnt about a request, for the client to close its record with.
#[derive(Clone, Copy, Debug, Default)]
struct Hint {
    cause: Option<Cause>,
    lost: Option<Cause>,
    refused: bool,
    /// The child's write_timeout cut its response.
    child_write_timeout: bool,
    /// The provider's transport retried it on a new connection.
    retried: bool,
    /// When the provider picked the pod (to tell a dial into a dead node from a request the
    /// node took down with it).
    picked_ns: Nanos,
}

struct PodState {
    name: String,
    revision: u32,
    started: bool,
    ready: bool,
    probe_successes: u32,
    deletion_ns: Option<Nanos>,
    end: PodEnd,
    end_ns: Option<Nanos>,
    killed_with: u32,
    /// Why its process went away, for requests that then see EOF.
    exit_cause: Option<Cause>,
    child_died: bool,
    child_startup_ns: Nanos,
    created_ns: Nanos,
    ready_since_ns: Option<Nanos>,
    /// `None`: Pending, no schedulable node.
    node: Option<u32>,
    /// Incarnation: bumps on a container crash so stale timers are ignored.
    generation: u32,
    restarts: u32,
    /// Its host has been created (a restart reopens the gate instead).
    host_created: bool,
    /// When its node died: traffic to it is black-holed from then on.
    black_hole_ns: Option<Nanos>,
    monitor: Option<Monitor>,
    sigterm: watch::Sender<bool>,
    /// The container may start: the pod's software waits for it (a crashed container's host is
    /// bounced at once, and listens again only after restartDelay + startup).
    gate: watch::Sender<bool>,
}

impl PodState {
    /// The pod's process is gone without exiting (SIGKILL, its node lost) at `now`, with the
    /// requests its watchdog had in flight.
    fn kill(&mut self, now: Nanos, cause: Cause) {
        self.killed_with = self
            .monitor
            .as_ref()
            .map(|m| m.requests_in_flight() as u32)
            .unwrap_or(0);
        self.end = PodEnd::Killed;
        self.end_ns = Some(now);
        self.exit_cause = Some(cause);
    }
}

struct Shared {
    config: Config,
    ledger: Vec<Record>,
    hints: Vec<Hint>,
    /// Each request's draw key (`choice::request_key`), by ledger id.
    keys: Vec<u64>,
    /// Requests each load worker has sent.
    worker_sent: Vec<u32>,
    /// The gateway's (provider's) endpoint view, sorted pod ids.
    view: Vec<PodId>,
    desired: u32,
    /// The deployment's template revision (rollouts bump it).
    revision: u32,
    node_alive: Vec<bool>,
    node_cordoned: Vec<bool>,
    /// The gateway asked for a scale from zero: the control plane reconciles.
    reconcile_needed: bool,
    pods: Vec<PodState>,
    rng: Rng,
    trace: Vec<TraceLine>,
    /// One message's time on the network.
    latency_ns: Nanos,
}

impl Shared {
    fn note(&mut self, at_ns: Nanos, who: impl Into<String>, what: impl Into<String>) {
        self.trace.push(TraceLine {
            at_ns,
            who: who.into(),
            what: what.into(),
        });
    }
}

#[derive(Clone)]
struct SharedRef(Arc<Mutex<Shared>>);

impl SharedRef {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Simulated time inside a host.
/// The ledger id a request carries (`x-faasim-id`), from the client through every hop.
fn request_id(headers: &hyper::HeaderMap) -> Option<usize> {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The handler duration of the request `id`: the model's keyed draw. A request without an id
/// (none reach a handler in a run) takes the handler stream's next draw.
fn handler_duration_ns(shared: &SharedRef, id: Option<usize>, handler: Span) -> Nanos {
    let mut s = shared.lock();
    match id.and_then(|id| s.keys.get(id).copied()) {
        Some(key) => s.rng.span_for(Stream::Handler, key, handler),
        None => s.rng.span(Stream::Handler, handler),
    }
}

fn now_ns() -> Nanos {
    turmoil::sim_elapsed()
        .map(|d| d.as_nanos() as Nanos)
        .unwrap_or(0)
}

/// Aborts a spawned task when dropped, so a cancelled caller also closes its connection.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ------------------------------------------------------------------------------ entry points

/// Run `scenario` on turmoil with `seed`, at the default tick ([`TICK`]).
pub fn run_turmoil(scenario: &Scenario, seed: u64) -> Result<Run, String> {
    run_turmoil_with(scenario, seed, TICK)
}

/// How long one message takes on turmoil's network: half the scenario's round trip, rounded
/// up to whole ticks and at least one (turmoil delivers on ticks). The model's hop is the
/// exact half.
fn one_way_latency(rtt_ns: Nanos, tick: Duration) -> Duration {
    let tick_ns = tick.as_nanos() as Nanos;
    let half_ns = (rtt_ns / 2).div_ceil(tick_ns) * tick_ns;
    Duration::from_nanos(half_ns.max(tick_ns))
}

/// The round trip turmoil simulates for a scenario's `rtt_ns` at [`TICK`]: two whole-tick hops.
/// The model given this round trip sees the same network as turmoil (for the default 500 µs,
/// turmoil's is 2 ms).
pub fn turmoil_rtt_ns(rtt_ns: Nanos) -> Nanos {
    2 * one_way_latency(rtt_ns, TICK).as_nanos() as Nanos
}

/// The warning `faasim run --engine turmoil` adds to the report when the scenario's round trip
/// is not whole 1 ms hops: the round trip turmoil runs instead, and the model's equivalent.
pub fn rtt_warning(rtt_ns: Nanos) -> Option<String> {
    let simulated_ns = turmoil_rtt_ns(rtt_ns);
    (simulated_ns != rtt_ns).then(|| {
        format!(
            "network.rtt: {} runs as {} on turmoil, whose messages move on whole 1 ms ticks; \
             the model with rtt: {} sees the same network",
            go(rtt_ns),
            go(simulated_ns),
            go(simulated_ns)
        )
    })
}

/// Go's `Duration.String()` of a time in nanoseconds.
fn go(ns: Nanos) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

/// Run `scenario` on turmoil with `seed` and turmoil tick `tick`.
pub fn run_turmoil_with(scenario: &Scenario, seed: u64, tick: Duration) -> Result<Run, String> {
    check_supported(scenario)?;
    let config = scenario.config.clone();
    let limit_ns = scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS);
    let latency = one_way_latency(config.network.rtt_ns, tick);
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_nanos(limit_ns) + Duration::from_secs(60))
        .tick_duration(tick)
        .min_message_latency(latency)
        .max_message_latency(latency)
        .tcp_capacity(4096)
        .rng_seed(seed)
        .build();
    let shared = SharedRef(Arc::new(Mutex::new(Shared {
        config: config.clone(),
        ledger: Vec::new(),
        hints: Vec::new(),
        keys: Vec::new(),
        worker_sent: vec![0; config.load.concurrency.max(1) as usize],
        view: Vec::new(),
        desired: config.function.scale_min,
        revision: 1,
        node_alive: vec![true; config.kubernetes.nodes.max(1) as usize],
        node_cordoned: vec![false; config.kubernetes.nodes.max(1) as usize],
        reconcile_needed: false,
        pods: Vec::new(),
        rng: Rng(SeedChooser::new(seed)),
        trace: Vec::new(),
        latency_ns: latency.as_nanos() as Nanos,
    })));
    {
        let shared = shared.clone();
        sim.host("gateway", move || gateway_main(shared.clone()));
    }
    sim.client("client", client_main(shared.clone()));

    let mut plane = ControlPlane {
        shared: shared.clone(),
        queue: BTreeMap::new(),
        seq: 0,
        view_last_ns: 0,
        events: Vec::new(),
    };
    plane.setup(&mut sim, &scenario.events);
    let mut steps: u64 = 0;
    let end_ns = loop {
        let now = sim.elapsed().as_nanos() as Nanos;
        plane.run_due(now, &mut sim);
        let client_done = sim.step().map_err(|e| e.to_string())?;
        steps += 1;
        let now = sim.elapsed().as_nanos() as Nanos;
        if now >= limit_ns || (client_done && plane.settled()) {
            break now.min(limit_ns);
        }
    };
    drop(sim);

    let mut guard = shared.lock();
    let state = &mut *guard;
    let pods: Vec<PodSummary> = state
        .pods
        .iter()
        .map(|p| PodSummary {
            name: p.name.clone(),
            revision: p.revision,
            end: p.end,
            end_ns: p.end_ns,
            terminating: p.deletion_ns.is_some(),
            killed_with: p.killed_with,
            restarts: p.restarts,
        })
        .collect();
    let ledger = std::mem::take(&mut state.ledger);
    let mut trace = std::mem::take(&mut state.trace);
    trace.sort_by_key(|t| t.at_ns);
    Ok(Run::judged(
        seed,
        RunResult {
            ledger,
            pods,
            events: steps,
            end_ns,
            trace,
        },
    ))
}

/// What this engine implements; anything else is refused rather than run wrongly.
fn check_supported(scenario: &Scenario) -> Result<(), String> {
    let config = &scenario.config;
    if config.load.concurrency == 0 && config.load.rate_per_s == 0 {
        return Err("turmoil engine: load.concurrency must be positive".into());
    }
    Ok(())
}

// ------------------------------------------------------------------------------ control plane

#[derive(Clone, Copy, Debug)]
enum Plan {
    Scenario(usize),
    Start(PodId, u32),
    Probe(PodId, u32),
    Restart(PodId, u32),
    NodeDies(u32),
    ViewSet(PodId, bool),
    Sigterm(PodId),
    Sigkill(PodId),
}

/// The deployment controller, the endpoints controller and the kubelets, run between steps.
struct ControlPlane {
    shared: SharedRef,
    queue: BTreeMap<(Nanos, u64), Plan>,
    seq: u64,
    view_last_ns: Nanos,
    events: Vec<faasim_model::schedule::Event>,
}

impl ControlPlane {
    fn push(&mut self, at_ns: Nanos, plan: Plan) {
        self.seq += 1;
        self.queue.insert((at_ns, self.seq), plan);
    }

    fn setup(&mut self, sim: &mut turmoil::Sim<'_>, events: &[faasim_model::schedule::Event]) {
        let (min, warm) = {
            let s = self.shared.lock();
            (
                s.config.function.scale_min,
                s.config.function.start == Start::Warm,
            )
        };
        for _ in 0..min {
            let pod = self.create_pod(0, !warm);
            if warm {
                self.start_pod(pod, 0, 0, false, sim);
                let mut s = self.shared.lock();
                s.pods[pod as usize].ready = true;
                s.pods[pod as usize].ready_since_ns = Some(0);
                s.view.push(pod);
            }
        }
        for (index, event) in events.iter().enumerate() {
            self.push(event.at_ns, Plan::Scenario(index));
        }
        self.events = events.to_vec();
    }

    fn run_due(&mut self, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        if std::mem::take(&mut self.shared.lock().reconcile_needed) {
            self.reconcile(now);
        }
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let plan = entry.remove();
            self.dispatch(plan, now, sim);
        }
    }

    /// Every pod asked to terminate has ended and nothing the control plane still has queued
    /// would do anything (the model runs until its queue is empty: scenario events after the
    /// load, pod starts, probes and node deaths still change the pods).
    fn settled(&self) -> bool {
        let s = self.shared.lock();
        let live = |pod: PodId, generation: Option<u32>| {
            let p = &s.pods[pod as usize];
            p.end == PodEnd::Running
                && generation.is_none_or(|g| g == p.generation && p.deletion_ns.is_none())
        };
        let pending = self.queue.values().any(|plan| match *plan {
            Plan::Scenario(_) | Plan::NodeDies(_) | Plan::ViewSet(..) => true,
            Plan::Start(pod, g) | Plan::Probe(pod, g) | Plan::Restart(pod, g) => live(pod, Some(g)),
            Plan::Sigterm(pod) | Plan::Sigkill(pod) => live(pod, None),
        });
        !pending
            && s.pods
                .iter()
                .all(|p| p.deletion_ns.is_none() || p.end != PodEnd::Running)
    }

    /// The pod is running in this incarnation.
    fn current(&self, pod: PodId, generation: u32) -> bool {
        let s = self.shared.lock();
        let p = &s.pods[pod as usize];
        p.generation == generation && p.end == PodEnd::Running
    }

    fn dispatch(&mut self, plan: Plan, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        match plan {
            Plan::Scenario(index) => self.scenario_event(index, now, sim),
            Plan::Start(pod, generation) => self.start_pod(pod, generation, now, true, sim),
            Plan::Probe(pod, generation) => self.probe(pod, generation, now),
            Plan::Restart(pod, generation) => {
                if !self.current(pod, generation) {
                    return;
                }
                let startup = {
                    let mut s = self.shared.lock();
                    if s.pods[pod as usize].deletion_ns.is_some() {
                        return;
                    }
                    let span = s.config.function.startup_ns;
                    s.rng.span(Stream::Startup, span)
                };
                self.push(now + startup, Plan::Start(pod, generation));
            }
            Plan::NodeDies(node) => self.node_dies(node, now, sim),
            Plan::ViewSet(pod, routed) => {
                let mut s = self.shared.lock();
                let name = s.pods[pod as usize].name.clone();
                match (s.view.binary_search(&pod), routed) {
                    (Err(at), true) => {
                        s.view.insert(at, pod);
                        s.note(now, "provider", format!("endpoints view adds {name}"));
                    }
                    (Ok(at), false) => {
                        s.view.remove(at);
                        s.note(now, "provider", format!("endpoints view drops {name}"));
                    }
                    _ => {}
                }
            }
            Plan::Sigterm(pod) => {
                let mut s = self.shared.lock();
                let p = &s.pods[pod as usize];
                if p.end == PodEnd::Running {
                    p.sigterm.send_replace(true);
                    let name = p.name.clone();
                    s.note(now, name, "SIGTERM");
                }
            }
            Plan::Sigkill(pod) => {
                let name = {
                    let mut s = self.shared.lock();
                    let p = &mut s.pods[pod as usize];
                    if p.end != PodEnd::Running {
                        return;
                    }
                    p.kill(now, Cause::Sigkill);
                    // The bounced host's software waits at the closed gate: its IP refuses
                    // connects until the pod object goes, as a killed pod's does.
                    p.gate.send_replace(false);
                    let (name, active, host) = (p.name.clone(), p.killed_with, p.host_created);
                    s.note(
                        now,
                        name.clone(),
                        format!("SIGKILL at grace end with {active} requests active (exit 137)"),
                    );
                    host.then_some(name)
                };
                if let Some(name) = name {
                    sim.bounce(name.as_str());
                }
            }
        }
    }

    /// A scenario event, as the model's `World::scenario_event` runs it (same draws, same order).
    fn scenario_event(&mut self, index: usize, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        let Some(action) = self.events.get(index).map(|e| e.action.clone()) else {
            return;
        };
        match action {
            Action::Scale(replicas) => {
                {
                    let mut s = self.shared.lock();
                    s.desired = replicas;
                    s.note(
                        now,
                        "operator",
                        format!("kubectl scale --replicas={replicas}"),
                    );
                }
                self.reconcile(now);
            }
            Action::Rollout => {
                {
                    let mut s = self.shared.lock();
                    s.revision += 1;
                    let revision = s.revision;
                    s.note(now, "operator", format!("rollout to revision {revision}"));
                }
                self.reconcile(now);
            }
            Action::DrainNode { notice_ns, node } => {
                let (node, evicted): (usize, Vec<PodId>) = {
                    let mut s = self.shared.lock();
                    let node = node.map(|n| n as usize).unwrap_or_else(|| busiest_node(&s));
                    if node >= s.node_alive.len() {
                        return;
                    }
                    s.node_cordoned[node] = true;
                    s.note(
                        now,
                        format!("node-{node}"),
                        format!(
                            "reclaim notice: cordoned, pods evicted, node dies in {:.3}s",
                            notice_ns as f64 / 1e9
                        ),
                    );
                    let evicted = s
                        .pods
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| {
                            p.node == Some(node as u32)
                                && p.deletion_ns.is_none()
                                && p.end == PodEnd::Running
                        })
                        .map(|(id, _)| id as PodId)
                        .collect();
                    (node, evicted)
                };
                for pod in evicted {
                    self.delete_pod(pod, now);
                }
                // After the evictions' signals, as the model queues it (same instant: FIFO).
                self.push(now + notice_ns, Plan::NodeDies(node as u32));
                self.reconcile(now);
            }
            Action::KillPod { pod } => {
                let target = {
                    let mut s = self.shared.lock();
                    let candidates: Vec<PodId> = s
                        .pods
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| {
                            p.started && p.end == PodEnd::Running && p.deletion_ns.is_none()
                        })
                        .map(|(id, _)| id as PodId)
                        .collect();
                    match pod {
                        Some(name) => candidates
                            .iter()
                            .copied()
                            .find(|&p| s.pods[p as usize].name == name),
                        None if candidates.is_empty() => None,
                        None => Some(candidates[s.rng.index(Stream::Deployment, candidates.len())]),
                    }
                };
                if let Some(target) = target {
                    self.crash(target, now, sim);
                }
            }
        }
    }

    /// The container crashes (no SIGTERM): requests in flight are dropped (the bounced host's
    /// connections close), the pod is unready at once, and it listens again after
    /// restartDelay + startup (model: `World::crash`).
    fn crash(&mut self, pod: PodId, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        let (name, generation, delay) = {
            let mut s = self.shared.lock();
            let delay = s.config.kubernetes.restart_delay_ns;
            let p = &mut s.pods[pod as usize];
            let active = p
                .monitor
                .as_ref()
                .map(|m| m.requests_in_flight())
                .unwrap_or(0);
            p.exit_cause = Some(Cause::PodCrash);
            p.child_died = false;
            p.generation += 1;
            p.restarts += 1;
            p.started = false;
            p.ready = false;
            p.probe_successes = 0;
            p.monitor = None;
            p.gate.send_replace(false);
            let (name, generation) = (p.name.clone(), p.generation);
            s.note(
                now,
                name.clone(),
                format!("container crashed with {active} requests active; restarting"),
            );
            (name, generation, delay)
        };
        sim.bounce(name.as_str());
        self.view_change(pod, false, now);
        self.push(now + delay, Plan::Restart(pod, generation));
        self.reconcile(now);
    }

    /// The node dies at the end of its notice: its pods vanish without a FIN. Traffic between
    /// the gateway and their hosts is dropped (a partition), so calls in flight and new dials
    /// hang until a timer gives up, as the model's black hole.
    fn node_dies(&mut self, node: u32, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        let lost: Vec<String> = {
            let mut s = self.shared.lock();
            s.node_alive[node as usize] = false;
            s.note(
                now,
                format!("node-{node}"),
                "node dies: its pods vanish without a FIN",
            );
            let mut lost = Vec::new();
            for i in 0..s.pods.len() {
                let p = &mut s.pods[i];
                if p.node != Some(node) || p.end != PodEnd::Running {
                    continue;
                }
                p.kill(now, Cause::NodeLost);
                p.black_hole_ns = Some(now);
                let (name, count, host) = (p.name.clone(), p.killed_with, p.host_created);
                s.note(
                    now,
                    name.clone(),
                    format!("lost with the node, {count} requests hang"),
                );
                if host {
                    lost.push(name);
                }
            }
            lost
        };
        for name in lost {
            sim.partition("gateway", name.as_str());
        }
        self.reconcile(now);
    }

    fn create_pod(&mut self, now: Nanos, schedule_start: bool) -> PodId {
        let mut s = self.shared.lock();
        let id = s.pods.len() as PodId;
        // Pods are named as the model names them: function, revision, id.
        let revision = s.revision;
        let name = format!("{}-r{}-{}", s.config.function.name, revision, id);
        let (sigterm, _) = watch::channel(false);
        let (gate, _) = watch::channel(true);
        let mut counts = vec![0u32; s.node_alive.len()];
        for p in s.pods.iter().filter(|p| p.end == PodEnd::Running) {
            if let Some(node) = p.node {
                counts[node as usize] += 1;
            }
        }
        let node = (0..counts.len())
            .filter(|&n| s.node_alive[n] && !s.node_cordoned[n])
            .min_by_key(|&n| (counts[n], n))
            .map(|n| n as u32);
        s.pods.push(PodState {
            name: name.clone(),
            revision,
            child_startup_ns: 0,
            created_ns: now,
            ready_since_ns: None,
            node,
            generation: 0,
            restarts: 0,
            host_created: false,
            black_hole_ns: None,
            started: false,
            ready: false,
            probe_successes: 0,
            deletion_ns: None,
            end: PodEnd::Running,
            end_ns: None,
            killed_with: 0,
            exit_cause: None,
            child_died: false,
            monitor: None,
            sigterm,
            gate,
        });
        if schedule_start {
            let Some(node) = node else {
                s.note(now, name, "created, Pending: no schedulable node");
                return id;
            };
            let span = s.config.function.startup_ns;
            let startup = s.rng.span(Stream::Startup, span);
            s.note(
                now,
                name,
                format!(
                    "created on node-{node}, listening in {:.3}s",
                    startup as f64 / 1e9
                ),
            );
            drop(s);
            self.push(now + startup, Plan::Start(id, 0));
        }
        id
    }

    /// The pod's watchdog starts (its host is created, or a restarted container's gate opens).
    /// `draw_child`: draw the child's start-up delay, as the model does for every pod start but
    /// the warm ones at time 0.
    fn start_pod(
        &mut self,
        pod: PodId,
        generation: u32,
        now: Nanos,
        draw_child: bool,
        sim: &mut turmoil::Sim<'_>,
    ) {
        let (name, delay, create_host) = {
            let mut s = self.shared.lock();
            let p = &mut s.pods[pod as usize];
            if p.deletion_ns.is_some() || p.end != PodEnd::Running || p.generation != generation {
                return;
            }
            p.started = true;
            p.exit_cause = None;
            let create_host = !std::mem::replace(&mut p.host_created, true);
            let name = p.name.clone();
            let span = s.config.function.child.startup_ns;
            let child_startup = if draw_child {
                s.rng.span(Stream::Startup, span)
            } else {
                0
            };
            let p = &mut s.pods[pod as usize];
            p.child_startup_ns = child_startup;
            if !create_host {
                p.gate.send_replace(true);
            }
            let delay = u64::from(s.config.kubernetes.readiness.initial_delay_s) * NS_PER_S;
            s.note(now, name.clone(), "watchdog starts on :8080");
            (name, delay, create_host)
        };
        if create_host {
            let shared = self.shared.clone();
            match user_server::for_pod(pod) {
                Some((server, ready)) => sim.host(name.as_str(), move || {
                    user_server::pod_main(shared.clone(), pod, server.clone(), ready.clone())
                }),
                None => sim.host(name.as_str(), move || pod_main(shared.clone(), pod)),
            }
        }
        self.push(now + delay, Plan::Probe(pod, generation));
    }

    fn probe(&mut self, pod: PodId, generation: u32, now: Nanos) {
        let (passed, period) = {
            let mut s = self.shared.lock();
            let probe = s.config.kubernetes.readiness;
            let p = &mut s.pods[pod as usize];
            if p.deletion_ns.is_some()
                || p.end != PodEnd::Running
                || p.ready
                || p.generation != generation
            {
                return;
            }
            let healthy = match p.monitor.as_ref() {
                Some(monitor) => monitor.healthy(),
                // Started at this instant (initialDelaySeconds 0): the watchdog has not run a
                // step yet; it is healthy as it starts, as the model's is.
                None if !user_server::installed() => p.started,
                None => user_server::ready(pod),
            };
            if healthy {
                p.probe_successes += 1;
            } else {
                p.probe_successes = 0;
            }
            let passed = p.probe_successes >= probe.success_threshold;
            if passed {
                p.ready = true;
                p.ready_since_ns = Some(now);
                let name = p.name.clone();
                s.note(now, name, "readiness probe passed: Ready");
            }
            (passed, u64::from(probe.period_s) * NS_PER_S)
        };
        if passed {
            self.view_change(pod, true, now);
            self.reconcile(now);
        } else {
            self.push(now + period, Plan::Probe(pod, generation));
        }
    }

    fn view_change(&mut self, pod: PodId, routed: bool, now: Nanos) {
        let lag = {
            let mut s = self.shared.lock();
            let span = s.config.kubernetes.endpoint_lag_ns;
            s.rng.span(Stream::Endpoints, span)
        };
        let at = (now + lag).max(self.view_last_ns);
        self.view_last_ns = at;
        self.push(at, Plan::ViewSet(pod, routed));
    }

    /// The Deployment and ReplicaSet controllers: the model's own `deployment::reconcile`
    /// (scale, rolling update within maxSurge / maxUnavailable), repeated as the model repeats
    /// it, creating and deleting pods in its order.
    fn reconcile(&mut self, now: Nanos) {
        for _ in 0..8 {
            let plan = {
                let mut guard = self.shared.lock();
                let s = &mut *guard;
                let facts: Vec<PodFacts> = s
                    .pods
                    .iter()
                    .enumerate()
                    .map(|(id, p)| PodFacts {
                        id: id as PodId,
                        revision: p.revision,
                        node: p.node,
                        active: p.deletion_ns.is_none() && p.end == PodEnd::Running,
                        running: p.started,
                        ready: p.ready,
                        ready_since_ns: p.ready_since_ns,
                        restarts: p.restarts,
                        created_ns: p.created_ns,
                    })
                    .collect();
                let views = deployment::views(s.node_alive.len(), &facts);
                let k8s = &s.config.kubernetes;
                deployment::reconcile(
                    s.desired,
                    s.revision,
                    &views,
                    k8s.max_surge,
                    k8s.max_unavailable,
                    &mut s.rng.0,
                )
            };
            if plan.create == 0 && plan.delete.is_empty() {
                return;
            }
            for _ in 0..plan.create {
                self.create_pod(now, true);
            }
            for pod in plan.delete {
                self.delete_pod(pod, now);
            }
        }
    }

    fn delete_pod(&mut self, pod: PodId, now: Nanos) {
        let (grace_ns, pre_stop_ns) = {
            let mut s = self.shared.lock();
            let (grace_s, pre_stop_s) = (
                s.config.kubernetes.grace_s,
                s.config.kubernetes.pre_stop_sleep_s,
            );
            let p = &mut s.pods[pod as usize];
            if p.deletion_ns.is_some() || p.end != PodEnd::Running {
                return;
            }
            p.deletion_ns = Some(now);
            p.ready = false;
            let name = p.name.clone();
            if !p.started {
                p.end = PodEnd::Exited;
                p.end_ns = Some(now);
                s.note(now, name, "deleted before it started");
                return;
            }
            s.note(
                now,
                name,
                format!("deleted: grace {grace_s}s, preStop sleep {pre_stop_s}s"),
            );
            (grace_s * NS_PER_S, pre_stop_s * NS_PER_S)
        };
        self.view_change(pod, false, now);
        if pre_stop_ns < grace_ns {
            self.push(now + pre_stop_ns, Plan::Sigterm(pod));
            self.push(now + grace_ns, Plan::Sigkill(pod));
        } else {
            self.push(now + grace_ns, Plan::Sigterm(pod));
            self.push(now + grace_ns + 2 * NS_PER_S, Plan::Sigkill(pod));
        }
    }
}

/// The node with the most function pods (lowest index on ties), as the model picks it.
fn busiest_node(s: &Shared) -> usize {
    let mut counts = vec![0u32; s.node_alive.len()];
    for p in &s.pods {
        if let (Some(node), PodEnd::Running, None) = (p.node, p.end, p.deletion_ns) {
            counts[node as usize] += 1;
        }
    }
    let best = counts.iter().copied().max().unwrap_or(0);
    counts.iter().position(|c| *c == best).unwrap_or(0)
}

// ------------------------------------------------------------------------------ pod host

/// turmoil's listener as the watchdog's `Accept`.
struct TurmoilListener(turmoil::net::TcpListener);

impl Accept for TurmoilListener {
    type Io = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        let (stream, _) = self.0.accept().await?;
        Ok(stream)
    }
}

/// The watchdog's dial to the child on :8082: refused until the child listens and after it
/// closed its listener (an in-memory pipe inside the pod host).
struct ChildConnector {
    inner: MemoryConnector,
    up: Arc<AtomicBool>,
}

impl Connect for ChildConnector {
    type Io = tokio::io::DuplexStream;

    async fn connect(&self) -> io::Result<Self::Io> {
        if !self.up.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "child not listening",
            ));
        }
        self.inner.dial()
    }
}

/// One pod: the real watchdog on :8080, in HTTP mode in front of a child HTTP server, or in
/// streaming mode forking one simulated process per request. SIGTERM is the watchdog's
/// shutdown future (and the child's own signal); SIGKILL bounces the host behind a closed start gate.
async fn pod_main(shared: SharedRef, pod: PodId) -> HostResult {
    // A crashed container's host is bounced at once; its software waits for the restart.
    let mut gate = shared.lock().pods[pod as usize].gate.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    let (watchdog_config, child, handler, sigterm) = {
        let s = shared.lock();
        (
            s.config.function.watchdog.clone(),
            s.config.function.child.clone(),
            s.config.function.handler_ns,
            s.pods[pod as usize].sigterm.subscribe(),
        )
    };
    let listener = TurmoilListener(turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?);
    let shutdown = {
        let mut rx = sigterm.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let exit_of = |exit: faasim_watchdog::Exit| {
        let cause = if exit.drained {
            Cause::WatchdogExit
        } else {
            Cause::DrainDeadline
        };
        (cause, exit.requests_at_exit as u32)
    };
    let (cause, at_exit) = if watchdog_config.mode == Mode::Streaming {
        let watchdog = Watchdog::streaming(
            Settings::streaming(watchdog_config, "faasim-handler"),
            handler_process(shared.clone(), handler),
        );
        shared.lock().pods[pod as usize].monitor = Some(watchdog.monitor());
        exit_of(watchdog.run(listener, shutdown).await)
    } else {
        let settings = Settings::new(watchdog_config, "http://127.0.0.1:8082");
        let (child_listener, connector) = memory::listener();
        let up = Arc::new(AtomicBool::new(false));
        let watchdog = Watchdog::new(
            settings,
            ChildConnector {
                inner: connector,
                up: up.clone(),
            },
        );
        shared.lock().pods[pod as usize].monitor = Some(watchdog.monitor());
        let exits_on_sigterm = child.on_sigterm == OnSigterm::Exit;
        let mut child_task = AbortOnDrop(tokio::task::spawn_local(child_main(
            shared.clone(),
            pod,
            child_listener,
            up,
            child,
            handler,
            sigterm,
        )));
        let run = watchdog.run(listener, shutdown);
        tokio::select! {
            exit = run => exit_of(exit),
            _ = &mut child_task.0, if exits_on_sigterm => {
                // The child died of the signal: of-watchdog's cmd.Wait fails and it log.Fatalfs.
                (Cause::ChildExited, 0)
            }
        }
    };
    {
        let now = now_ns();
        let mut s = shared.lock();
        let p = &mut s.pods[pod as usize];
        if p.end == PodEnd::Running {
            p.end = PodEnd::Exited;
            p.end_ns = Some(now);
            p.exit_cause = Some(cause);
            p.killed_with = at_exit;
            let name = p.name.clone();
            s.note(now, name, format!("watchdog exits ({})", cause.name()));
        }
    }
    // The pod's IP stays until the pod object goes: connects are refused, not black-holed.
    std::future::pending::<()>().await;
    Ok(())
}

/// Streaming mode's `fprocess`: each request's process sleeps the handler duration (drawn from
/// the model's handler stream when the watchdog forks it, where the model draws it), writes
/// "done\n" and exits 0. Killed at exec_timeout, it has written nothing.
fn handler_process(shared: SharedRef, handler: Span) -> impl Fork {
    move |invocation: Invocation| {
        let id = request_id(&invocation.headers);
        let duration_ns = handler_duration_ns(&shared, id, handler);
        let (mut stdout, read_end) = tokio::io::duplex(64);
        // The process runs on its own whether or not the watchdog polls its exit; the exit
        // future owns its abort guard, so dropping it kills the process.
        let process = AbortOnDrop(tokio::task::spawn(async move {
            tokio::time::sleep(Duration::from_nanos(duration_ns)).await;
            let _ = stdout.write_all(b"done\n").await;
        }));
        Ok(Forked::new(read_end, async move {
            let mut process = process;
            (&mut process.0).await.map_err(io::Error::other)
        }))
    }
}

/// The child: an HTTP server whose handler sleeps the handler duration, then answers 200.
/// On SIGTERM it drains like the golang-middleware template (listens on for its
/// healthcheck_interval, then closes its listener; requests in flight finish), or dies at once.
async fn child_main(
    shared: SharedRef,
    pod: PodId,
    mut listener: MemoryListener,
    up: Arc<AtomicBool>,
    config: faasim_model::config::ChildConfig,
    handler: Span,
    mut sigterm: watch::Receiver<bool>,
) {
    let startup = shared.lock().pods[pod as usize].child_startup_ns;
    if startup > 0 {
        tokio::time::sleep(Duration::from_nanos(startup)).await;
    }
    up.store(true, Ordering::Release);
    let mut connections: Vec<AbortOnDrop> = Vec::new();
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut close_at: Option<tokio::time::Instant> = None;
    let mut signalled = false;
    loop {
        let close = async {
            match close_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok(io) = accepted else { break };
                let shared = shared.clone();
                let write_timeout_ns = config.write_timeout_ns;
                let service = service_fn(move |req: Request<Incoming>| {
                    let id = request_id(req.headers());
                    let d = handler_duration_ns(&shared, id, handler);
                    let shared = shared.clone();
                    async move {
                        tokio::time::sleep(Duration::from_nanos(d)).await;
                        if d > write_timeout_ns {
                            // Go's WriteTimeout passed: the write fails, the connection closes.
                            if let Some(id) = id {
                                shared.lock().hints[id].child_write_timeout = true;
                            }
                            return Err(io::Error::other("child write_timeout"));
                        }
                        Ok::<_, io::Error>(Response::new(Full::new(Bytes::from_static(b"done\n"))))
                    }
                });
                let mut closing = closing_rx.clone();
                connections.push(AbortOnDrop(tokio::task::spawn_local(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(io), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = closing.wait_for(|c| *c) => {
                            // Go's Shutdown: idle connections close now, active ones after
                            // their response.
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                })));
            }
            _ = sigterm.wait_for(|s| *s), if !signalled => {
                signalled = true;
                match config.on_sigterm {
                    OnSigterm::Exit => {
                        up.store(false, Ordering::Release);
                        shared.lock().pods[pod as usize].child_died = true;
                        // Dropping `connections` kills every request the child serves.
                        return;
                    }
                    OnSigterm::Drain if config.healthcheck_interval_ns > 0 => {
                        close_at = Some(
                            tokio::time::Instant::now()
                                + Duration::from_nanos(config.healthcheck_interval_ns as u64),
                        );
                    }
                    // `<-time.Tick(d <= 0)` never fires: the child listens on.
                    OnSigterm::Drain => {}
                }
            }
            _ = close => break,
        }
    }
    // Listener closed; requests in flight finish (the child's drain deadline is not modelled).
    up.store(false, Ordering::Release);
    drop(listener);
    closing_tx.send_replace(true);
    std::future::pending::<()>().await;
}

// ------------------------------------------------------------------------------ user server hook

/// The hook `crate::server` uses to run a user's server in every pod instead of the watchdog
/// and its child. Installed for one run on the calling thread (turmoil runs every host on it),
/// so [`run_turmoil_with`] needs no parameter for it.
pub(crate) mod user_server {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use faasim_model::ledger::{Cause, PodId};
    use faasim_sim::world::PodEnd;
    use tokio::sync::watch;

    use super::{HostResult, PORT, SharedRef, now_ns};

    /// What a pod gets: its listener on :8080, its SIGTERM, its readiness flag (set while the
    /// server accepts) and the handler duration of a request (the model's draw for it).
    pub(crate) struct PodIo {
        pub(crate) listener: turmoil::net::TcpListener,
        pub(crate) sigterm: watch::Receiver<bool>,
        pub(crate) ready: Arc<AtomicBool>,
        pub(crate) handler_delay: HandlerDelay,
    }

    /// A request's handler duration, from its headers.
    pub(crate) type HandlerDelay = Rc<dyn Fn(&hyper::HeaderMap) -> Duration>;

    /// The user's server, type-erased: runs until the process exits.
    pub(crate) type PodServer = Rc<dyn Fn(PodIo) -> Pin<Box<dyn Future<Output = ()>>>>;

    struct Installed {
        server: PodServer,
        ready: BTreeMap<PodId, Arc<AtomicBool>>,
    }

    thread_local! {
        static INSTALLED: RefCell<Option<Installed>> = const { RefCell::new(None) };
    }

    /// Uninstalls on drop, so a panicking run leaves no server behind for the next.
    struct Uninstall;

    impl Drop for Uninstall {
        fn drop(&mut self) {
            INSTALLED.with(|i| i.borrow_mut().take());
        }
    }

    /// Run `run` (a `run_turmoil_with`) with `server` in every pod.
    pub(crate) fn with<T>(server: PodServer, run: impl FnOnce() -> T) -> T {
        INSTALLED.with(|i| {
            *i.borrow_mut() = Some(Installed {
                server,
                ready: BTreeMap::new(),
            })
        });
        let _uninstall = Uninstall;
        run()
    }

    /// The installed server and a fresh readiness flag for `pod`, if a user server is installed.
    pub(super) fn for_pod(pod: PodId) -> Option<(PodServer, Arc<AtomicBool>)> {
        INSTALLED.with(|i| {
            let mut i = i.borrow_mut();
            let installed = i.as_mut()?;
            let ready = Arc::new(AtomicBool::new(false));
            installed.ready.insert(pod, ready.clone());
            Some((installed.server.clone(), ready))
        })
    }

    /// A user server is installed for this run.
    pub(super) fn installed() -> bool {
        INSTALLED.with(|i| i.borrow().is_some())
    }

    /// The readiness probe of a user-server pod: its server is accepting on :8080.
    pub(super) fn ready(pod: PodId) -> bool {
        INSTALLED.with(|i| {
            i.borrow()
                .as_ref()
                .and_then(|i| i.ready.get(&pod))
                .is_some_and(|r| r.load(Ordering::Acquire))
        })
    }

    /// One pod running the user's server. Its return is the process exiting.
    pub(super) async fn pod_main(
        shared: SharedRef,
        pod: PodId,
        server: PodServer,
        ready: Arc<AtomicBool>,
    ) -> HostResult {
        let (sigterm, handler) = {
            let s = shared.lock();
            (
                s.pods[pod as usize].sigterm.subscribe(),
                s.config.function.handler_ns,
            )
        };
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
        let draw = shared.clone();
        let handler_delay: HandlerDelay = Rc::new(move |headers: &hyper::HeaderMap| {
            let id = super::request_id(headers);
            Duration::from_nanos(super::handler_duration_ns(&draw, id, handler))
        });
        server(PodIo {
            listener,
            sigterm,
            ready: ready.clone(),
            handler_delay,
        })
        .await;
        ready.store(false, Ordering::Release);
        {
            let now = now_ns();
            let mut s = shared.lock();
            let p = &mut s.pods[pod as usize];
            if p.end == PodEnd::Running {
                p.end = PodEnd::Exited;
                p.end_ns = Some(now);
                p.exit_cause = Some(Cause::WatchdogExit);
                let name = p.name.clone();
                s.note(now, name, "server exits");
            }
        }
        // As for the watchdog: the pod's IP stays, connects are refused.
        std::future::pending::<()>().await;
        Ok(())
    }
}

// ------------------------------------------------------------------------------ gateway host

/// The gateway and the provider (faas-netes) as one process on :8080.
async fn gateway_main(shared: SharedRef) -> HostResult {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
    let pool = ProviderPool::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let shared = shared.clone();
        let pool = pool.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                let pool = pool.clone();
                async move { gateway_request(shared, pool, req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn gateway_request(
    shared: SharedRef,
    pool: ProviderPool,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, io::Error> {
    let id: usize = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no request id"))?;
    let method = req.method().clone();
    drop(req);
    let arrive = now_ns();
    let config = shared.lock().config.clone();
    let gateway = &config.gateway;
    if gateway.scale_from_zero && shared.lock().view.is_empty() {
        {
            let mut s = shared.lock();
            if s.desired == 0 {
                let target = s.config.function.scale_min.max(1);
                s.desired = target;
                s.reconcile_needed = true;
                s.note(
                    arrive,
                    "gateway",
                    format!("scale from zero: SetReplicas({target}), holding requests"),
                );
            }
        }
        let mut polls = 1;
        loop {
            tokio::time::sleep(Duration::from_nanos(gateway.poll_interval_ns)).await;
            if !shared.lock().view.is_empty() || polls >= gateway.poll_attempts {
                break;
            }
            polls += 1;
        }
    }
    let forward_ns = now_ns();
    let (mut code, mut cause, lost, refused) =
        forward(&shared, &pool, &config, id, method, forward_ns).await;
    let now = now_ns();
    if now - forward_ns > config.provider.write_timeout_ns {
        (code, cause) = (502, Cause::ProviderWriteTimeout);
    }
    let write_timed_out = now - arrive > gateway.write_timeout_ns;
    {
        let mut s = shared.lock();
        let hint = &mut s.hints[id];
        hint.cause = Some(if write_timed_out {
            Cause::GatewayWriteTimeout
        } else {
            cause
        });
        hint.lost = lost;
        hint.refused = refused;
    }
    if write_timed_out {
        return Err(io::Error::other("gateway write_timeout"));
    }
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
    Ok(response)
}

/// How one call from the provider to a pod ended.
enum Call {
    /// The dial was refused.
    Refused,
    /// A reused connection met a close the provider could not yet see, and the request was
    /// not retried (or its retry's dial was refused).
    KeepAliveReset,
    /// The connection closed before a whole response came.
    Eof,
    /// A whole response: its status, whether the watchdog made it itself
    /// (`X-OpenFaaS-Internal`), and whether its body was empty.
    Answered(u16, bool, bool),
}

/// The provider: pick a ready endpoint from its (lagging) view and proxy to it.
async fn forward(
    shared: &SharedRef,
    pool: &ProviderPool,
    config: &Config,
    id: usize,
    method: hyper::Method,
    forward_ns: Nanos,
) -> (u16, Cause, Option<Cause>, bool) {
    let picked = {
        let mut s = shared.lock();
        if s.view.is_empty() {
            None
        } else {
            let len = s.view.len();
            let key = s.keys[id];
            let index = s.rng.index_for(Stream::Provider, key, len);
            let pod = s.view[index];
            s.ledger[id].pod = Some(pod);
            s.hints[id].picked_ns = forward_ns;
            Some((pod, s.pods[pod as usize].name.clone()))
        }
    };
    let Some((pod, name)) = picked else {
        return (503, Cause::NoEndpoints, None, false);
    };
    let upstream = config.gateway.upstream_timeout_ns;
    let provider = config.provider.read_timeout_ns;
    let first = upstream.min(provider);
    let deadline = tokio::time::Instant::now() + Duration::from_nanos(first);
    let call = tokio::time::timeout_at(deadline, pool.call(shared, pod, name, id, method)).await;
    match call {
        Err(_) => {
            let (lost, refused) = black_hole_fate(&shared.lock(), id);
            if provider <= upstream {
                (500, Cause::ProviderTimeout, lost, refused)
            } else {
                (502, Cause::UpstreamTimeout, lost, refused)
            }
        }
        Ok(Call::Refused) => (500, Cause::ConnectionRefused, None, true),
        Ok(Call::KeepAliveReset) => (500, Cause::KeepAliveReset, None, true),
        // Every handler writes "done\n" as it ends; in streaming mode an empty 200 is a process
        // killed at exec_timeout before it wrote anything (the status was implicit).
        Ok(Call::Answered(200, false, true))
            if config.function.watchdog.mode == Mode::Streaming =>
        {
            (200, Cause::ExecTimeout, None, false)
        }
        Ok(Call::Answered(200, _, _)) => (200, Cause::Handler, None, false),
        Ok(Call::Answered(504, _, _)) => (504, Cause::ExecTimeout, None, false),
        Ok(Call::Answered(429, _, _)) => (429, Cause::MaxInflight, None, false),
        Ok(Call::Answered(code, false, _)) => (code, Cause::Handler, None, false),
        Ok(Call::Answered(code, true, _)) if shared.lock().hints[id].child_write_timeout => {
            (code, Cause::ChildWriteTimeout, None, false)
        }
        Ok(Call::Answered(code, true, _)) => {
            let child_died = shared.lock().pods[pod as usize].child_died;
            if child_died {
                (code, Cause::ChildExited, Some(Cause::ChildExited), false)
            } else {
                (code, Cause::ChildRefused, None, true)
            }
        }
        Ok(Call::Eof) => {
            let now = now_ns();
            let s = shared.lock();
            let p = &s.pods[pod as usize];
            let cause = if p.child_died {
                Cause::ChildExited
            } else if let Some(cause) = p.exit_cause {
                cause
            } else if now - forward_ns > config.function.watchdog.write_timeout_ns {
                return (500, Cause::WatchdogWriteTimeout, None, false);
            } else {
                Cause::WatchdogExit
            };
            (500, cause, Some(cause), false)
        }
    }
}

/// A request that hangs on a pod whose node died: lost with the node when it was there before
/// the node died, refused (a dial into the black hole) when it was sent after.
fn black_hole_fate(s: &Shared, id: usize) -> (Option<Cause>, bool) {
    let Some(pod) = s.ledger[id].pod else {
        return (None, false);
    };
    match s.pods[pod as usize].black_hole_ns {
        Some(at) if s.hints[id].picked_ns >= at => (None, true),
        Some(_) => (Some(Cause::NodeLost), false),
        None => (None, false),
    }
}

/// The provider's keep-alive connections to the pods (faas-netes' proxy `http.Transport`),
/// with the rules of the model's `pool::Pool`: the newest idle connection first, idle ones
/// closed after `IdleConnTimeout`, one whose FIN has arrived skipped, and a request that meets
/// a close it could not see yet retried once on a new dial only when it is replayable (a GET
/// without a body: `shouldRetryRequest`), else 500.
#[derive(Clone, Default)]
struct ProviderPool(Rc<RefCell<BTreeMap<PodId, Vec<Pooled>>>>);

/// One idle keep-alive connection to a pod.
struct Pooled {
    sender: Sender,
    idle_since: tokio::time::Instant,
    _connection: AbortOnDrop,
}

/// One exchange on one connection.
enum Exchange {
    /// A whole response (status, made by the watchdog itself, empty body); the connection
    /// can go back to the pool.
    Answered(u16, bool, bool, Pooled),
    /// No response at all: the connection closed (or reset) before one came.
    NoResponse,
    /// The response began and its body broke off.
    BrokenBody,
}

impl ProviderPool {
    /// A usable idle connection to `pod`, newest first, if any.
    fn checkout(&self, pod: PodId, idle_timeout: Duration) -> Option<Pooled> {
        let mut pools = self.0.borrow_mut();
        let idle = pools.entry(pod).or_default();
        let now = tokio::time::Instant::now();
        while let Some(conn) = idle.pop() {
            if now >= conn.idle_since + idle_timeout {
                // The transport's idle timer closed it; every older one is older still.
                idle.clear();
                return None;
            }
            if !conn.sender.is_closed() {
                return Some(conn);
            }
            // Its FIN arrived: Go's readLoop removed it from the pool.
        }
        None
    }

    fn checkin(&self, pod: PodId, mut conn: Pooled) {
        if conn.sender.is_closed() {
            return;
        }
        conn.idle_since = tokio::time::Instant::now();
        self.0.borrow_mut().entry(pod).or_default().push(conn);
    }

    /// The call to `pod` for request `id`, on a pooled connection or a new one.
    async fn call(
        &self,
        shared: &SharedRef,
        pod: PodId,
        name: String,
        id: usize,
        method: hyper::Method,
    ) -> Call {
        let (idle_timeout, round_trip, replayable, hop) = {
            let s = shared.lock();
            (
                Duration::from_nanos(s.config.provider.idle_conn_timeout_ns),
                Duration::from_nanos(2 * s.latency_ns),
                // The load's method, not the wire's: the POST here carries no body, but
                // stands for one with a body (never replayable through the gateway).
                s.config.load.method.is_replayable(),
                Duration::from_nanos(s.latency_ns),
            )
        };
        if let Some(conn) = self.checkout(pod, idle_timeout) {
            let sent_at = tokio::time::Instant::now();
            match exchange(conn, &name, id, method.clone()).await {
                Exchange::Answered(code, internal, empty, conn) => {
                    self.checkin(pod, conn);
                    return Call::Answered(code, internal, empty);
                }
                Exchange::BrokenBody => return Call::Eof,
                // Within one round trip of sending, the close crossed the request: the server
                // closed the connection before it read anything (idle timeout or Shutdown).
                Exchange::NoResponse if sent_at.elapsed() <= round_trip => {
                    if !replayable {
                        return Call::KeepAliveReset;
                    }
                    shared.lock().hints[id].retried = true;
                    return match self.dial_and_call(pod, &name, id, method, hop).await {
                        Call::Refused => Call::KeepAliveReset,
                        other => other,
                    };
                }
                Exchange::NoResponse => return Call::Eof,
            }
        }
        self.dial_and_call(pod, &name, id, method, hop).await
    }

    async fn dial_and_call(
        &self,
        pod: PodId,
        name: &str,
        id: usize,
        method: hyper::Method,
        hop: Duration,
    ) -> Call {
        let Ok(stream) = dial((name, PORT), hop).await else {
            return Call::Refused;
        };
        let Ok((sender, conn)) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
        else {
            return Call::Eof;
        };
        let connection = AbortOnDrop(tokio::task::spawn_local(async move {
            let _ = conn.await;
        }));
        let fresh = Pooled {
            sender,
            idle_since: tokio::time::Instant::now(),
            _connection: connection,
        };
        match exchange(fresh, name, id, method).await {
            Exchange::Answered(code, internal, empty, conn) => {
                self.checkin(pod, conn);
                Call::Answered(code, internal, empty)
            }
            Exchange::NoResponse | Exchange::BrokenBody => Call::Eof,
        }
    }
}

/// Send one request on `conn` and read the whole response.
async fn exchange(mut conn: Pooled, name: &str, id: usize, method: hyper::Method) -> Exchange {
    let request = Request::builder()
        .method(method)
        .uri("/")
        .header(hyper::header::HOST, name)
        .header(X_REQUEST_ID, id.to_string())
        .body(Empty::new());
    let Ok(request) = request else {
        return Exchange::NoResponse;
    };
    let Ok(response) = conn.sender.send_request(request).await else {
        return Exchange::NoResponse;
    };
    let code = response.status().as_u16();
    let internal = response.headers().contains_key(X_OPENFAAS_INTERNAL);
    match response.into_body().collect().await {
        Ok(body) => Exchange::Answered(code, internal, body.to_bytes().is_empty(), conn),
        Err(_) => Exchange::BrokenBody,
    }
}

// ------------------------------------------------------------------------------ client host

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// hey: `concurrency` workers in a closed loop, or an open loop at `rate`.
async fn client_main(shared: SharedRef) -> HostResult {
    let load = shared.lock().config.load.clone();
    if load.start_ns > 0 {
        tokio::time::sleep(Duration::from_nanos(load.start_ns)).await;
    }
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    if load.rate_per_s == 0 {
        let per_worker = load.requests / u64::from(load.concurrency.max(1));
        for worker in 0..load.concurrency {
            let shared = shared.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut conn = None;
                for _ in 0..per_worker {
                    send_one(&shared, worker, &mut conn).await;
                }
            }));
        }
    } else {
        for k in 0..load.requests {
            let offset =
                (u128::from(k) * u128::from(NS_PER_S) / u128::from(load.rate_per_s)) as u64;
            tokio::time::sleep_until(start + Duration::from_nanos(offset)).await;
            let shared = shared.clone();
            tasks.push(tokio::task::spawn_local(async move {
                send_one(&shared, 0, &mut None).await;
            }));
        }
    }
    for task in tasks {
        task.await?;
    }
    Ok(())
}

/// A TCP dial as on a real network. turmoil completes `connect` the moment the server's host
/// takes the SYN (or refuses it), handing the SYN-ACK or the RST back without latency; a real
/// one comes back a hop later, and only then can the request go out.
async fn dial(to: (&str, u16), hop: Duration) -> io::Result<turmoil::net::TcpStream> {
    let connected = turmoil::net::TcpStream::connect(to).await;
    tokio::time::sleep(hop).await;
    connected
}

async fn connect_gateway(hop: Duration) -> Result<(Sender, AbortOnDrop), Box<dyn Error>> {
    let stream = dial(("gateway", PORT), hop).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let task = AbortOnDrop(tokio::task::spawn_local(async move {
        let _ = conn.await;
    }));
    Ok((sender, task))
}

/// One request: record it, send it (reusing the worker's keep-alive connection), close it.
async fn send_one(shared: &SharedRef, worker: u32, conn: &mut Option<(Sender, AbortOnDrop)>) {
    let (id, load, hop) = {
        let mut s = shared.lock();
        let id = s.ledger.len();
        let now = now_ns();
        s.ledger.push(Record::new(id as u32, worker, now));
        s.hints.push(Hint::default());
        let sent = s.worker_sent[worker as usize];
        s.worker_sent[worker as usize] += 1;
        s.keys.push(request_key(worker, sent));
        (
            id,
            s.config.load.clone(),
            Duration::from_nanos(s.latency_ns),
        )
    };
    let method = match load.method {
        Method::Get => hyper::Method::GET,
        Method::Post => hyper::Method::POST,
    };
    let attempt = async {
        let reusable = match conn.as_mut() {
            Some((sender, _)) => load.keep_alive && sender.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            *conn = Some(connect_gateway(hop).await?);
        }
        let Some((sender, _)) = conn.as_mut() else {
            return Err::<u16, Box<dyn Error>>("no connection".into());
        };
        let request = Request::builder()
            .method(method)
            .uri("/function/fn")
            .header(hyper::header::HOST, "gateway")
            .header(X_REQUEST_ID, id.to_string())
            .body(Empty::new())?;
        let response = sender.send_request(request).await?;
        let code = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(code)
    };
    let result = if load.timeout_ns > 0 {
        tokio::time::timeout(Duration::from_nanos(load.timeout_ns), attempt).await
    } else {
        Ok(attempt.await)
    };
    let now = now_ns();
    let mut s = shared.lock();
    let hint = s.hints[id];
    let (lost, refused) = match (&result, hint.cause) {
        // The client gave up first: what a dead node did to the request still counts.
        (Err(_), None) => black_hole_fate(&s, id),
        _ => (hint.lost, hint.refused),
    };
    let record = &mut s.ledger[id];
    record.lost = lost;
    record.refused = refused;
    record.retried = hint.retried;
    match result {
        Err(_) => {
            *conn = None;
            record.finish(now, Status::Error, Cause::ClientTimeout);
        }
        Ok(Ok(code)) => {
            record.finish(
                now,
                Status::Code(code),
                hint.cause.unwrap_or(Cause::Handler),
            );
        }
        Ok(Err(_)) => {
            *conn = None;
            record.finish(
                now,
                Status::Error,
                hint.cause.unwrap_or(Cause::GatewayWriteTimeout),
            );
        }
    }
}
