//! The entry points and the step loop: a scenario becomes a turmoil simulation with a client
//! host, a host per gateway pod (an ingress host in front when asked) and a host per pod, and between `Sim::step` calls the control plane
//! (`crate::control`) runs what is due.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use faasim_model::config::{QueueEdition, WatchdogKind};
use faasim_model::duration::format_go;
use faasim_model::gateway_deployment::GatewayDeployment;
use faasim_model::invocation::{self, Invocation};
use faasim_model::ledger::{Record, RequestId};
use faasim_model::limits;
use faasim_model::run::RunResult;
use faasim_model::schedule::Action;
use faasim_model::time::Nanos;
use faasim_sim::engine::SeedChooser;
use faasim_sim::scenario::Scenario;
use faasim_sim::{DEFAULT_LIMIT_NS, Run};

use crate::callback::{self, callback_main};
use crate::client::client_main;
use crate::control::Control;
use crate::edge;
use crate::ingress::{self, ingress_main};
use crate::queue::{self, nats_main};
use crate::shared::{AsyncLedger, Rng, Shared, SharedRef};

/// turmoil's tick: every host runs this much simulated time per step. Not finer: tokio's timer
/// wheel has millisecond slots, and with a 500 µs tick on turmoil 0.7.2 a load meant to start
/// at 11.8 s started at 5.9 s.
pub const TICK: Duration = Duration::from_millis(1);

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
        pods: Vec::new(),
        scale_from_zero: Vec::new(),
        exits: Vec::new(),
        rng: Rng(SeedChooser::new(seed)),
        trace: Vec::new(),
        latency_ns: latency.as_nanos() as Nanos,
        asynchronous: config.asynchronous.as_ref().map(|_| AsyncLedger {
            first_exec: usize::try_from(config.load.requests).unwrap_or(usize::MAX),
            ..AsyncLedger::default()
        }),
        edge: GatewayDeployment::new(&config.gateway, config.kubernetes.endpoint_lag_ns),
        gateways: Vec::new(),
    })));
    // The gateway pods of the start, each a host (`gateway-N`), registered first as the one
    // gateway host always was.
    edge::setup(&shared, &mut sim);
    if config.asynchronous.is_some() {
        // NATS Streaming and the callback receiver; the queue-workers are the control
        // plane's (their Deployment rolls).
        let nats = shared.clone();
        sim.host(queue::HOST, move || nats_main(nats.clone()));
        let receiver = shared.clone();
        sim.host(callback::HOST, move || callback_main(receiver.clone()));
    }
    if config.ingress.is_some() {
        // The ingress controller in front of the gateway: the client's calls go through it.
        let proxy = shared.clone();
        sim.host(ingress::HOST, move || ingress_main(proxy.clone()));
    }
    sim.client("client", client_main(shared.clone()));

    let mut control = Control::new(&config, &scenario.events, shared.clone(), &mut sim);
    let mut steps: u64 = 0;
    let end_ns = loop {
        let now = sim.elapsed().as_nanos() as Nanos;
        control.run_due(now, &mut sim);
        let client_done = sim.step().map_err(|e| e.to_string())?;
        steps += 1;
        control.take_exits(&mut sim);
        let now = sim.elapsed().as_nanos() as Nanos;
        if now >= limit_ns || (client_done && control.settled()) {
            break now.min(limit_ns);
        }
    };
    drop(sim);

    let pods = control.summaries();
    let mut guard = shared.lock();
    let state = &mut *guard;
    let mut ledger = std::mem::take(&mut state.ledger);
    let mut trace = std::mem::take(&mut state.trace);
    trace.sort_by_key(|t| t.at_ns);
    let callback = config.asynchronous.as_ref().is_some_and(|a| a.callback);
    let invocations = state
        .asynchronous
        .take()
        .map(|a| judge_invocations(&mut ledger, &a, callback));
    Ok(Run::judged(
        seed,
        RunResult {
            ledger,
            pods,
            events: steps,
            end_ns,
            trace,
            invocations,
            tally: None,
        },
    ))
}

/// Judge every invocation from its executions and callbacks, as the model does
/// (`faasim_model::invocation::judge`, with the executions in the order they started and
/// `pending` when the queue or a live worker still holds the call).
fn judge_invocations(ledger: &mut [Record], a: &AsyncLedger, callback: bool) -> Vec<Invocation> {
    let mut executions: Vec<Vec<&Record>> = vec![Vec::new(); ledger.len()];
    for (record, &inv) in a.execs.iter().zip(&a.exec_inv) {
        executions[inv as usize].push(record);
    }
    ledger
        .iter_mut()
        .enumerate()
        .map(|(index, record)| {
            let inv = index as RequestId;
            let mut invocation = Invocation {
                callback,
                callbacks: a.callbacks.get(index).cloned().unwrap_or_default(),
                ..Invocation::default()
            };
            let pending = a.unacked.contains(&inv) || a.held(inv);
            invocation::judge(record, &executions[index], &mut invocation, pending);
            invocation
        })
        .collect()
}

/// What this engine implements; anything else is refused rather than run wrongly.
fn check_supported(scenario: &Scenario) -> Result<(), String> {
    let config = &scenario.config;
    if config.load.concurrency == 0 && config.load.rate_per_s == 0 {
        return Err("turmoil engine: load.concurrency must be positive".into());
    }
    // turmoil's practical limits (`faasim_model::limits::turmoil`), before anything starts:
    // past them it panics, hangs or allocates gigabytes.
    let load = &config.load;
    if load.rate_per_s == 0 && load.concurrency > limits::turmoil::CONCURRENCY_MAX {
        return Err(format!(
            "turmoil engine: load.concurrency is {}, above this engine's limit of {} (every \
             worker holds a connection on the simulated network, whose buffers and ports run \
             out); use the model engine",
            load.concurrency,
            limits::turmoil::CONCURRENCY_MAX
        ));
    }
    if load.rate_per_s > limits::turmoil::RATE_MAX_PER_S {
        return Err(format!(
            "turmoil engine: load.rate is {}, above this engine's limit of {} per second (every \
             request in flight holds a connection on the simulated network); use the model \
             engine",
            load.rate_per_s,
            limits::turmoil::RATE_MAX_PER_S
        ));
    }
    let replicas = scenario
        .events
        .iter()
        .filter_map(|e| match e.action {
            Action::Scale(count) => Some(count),
            Action::Deploy { scale_min } => scale_min,
            _ => None,
        })
        .chain([config.function.scale_min])
        .max()
        .unwrap_or(0);
    if replicas > limits::turmoil::REPLICAS_MAX {
        return Err(format!(
            "turmoil engine: the run asks for {replicas} replicas, above this engine's limit of \
             {} (every pod is a host run on every tick); use the model engine",
            limits::turmoil::REPLICAS_MAX
        ));
    }
    if config.function.watchdog.kind == WatchdogKind::Classic {
        return Err(
            "turmoil engine: the classic watchdog is modelled only (the real watchdog \
                    here is of-watchdog's); use the model engine"
                .into(),
        );
    }
    // The gateway's own pods are hosts: every one runs on every tick.
    if config.gateway.replicas > limits::turmoil::REPLICAS_MAX {
        return Err(format!(
            "turmoil engine: gateway.replicas is {}, above this engine's limit of {} (every \
             gateway pod is a host run on every tick); use the model engine",
            config.gateway.replicas,
            limits::turmoil::REPLICAS_MAX
        ));
    }
    // The asynchronous path runs the CE queue-worker only.
    if let Some(a) = &config.asynchronous
        && a.queue_worker.edition != QueueEdition::Ce
    {
        return Err(
            "turmoil engine: the Pro queue-worker (`queueWorker.edition: pro`) is modelled \
             only (this engine runs the CE worker); use the model engine"
                .into(),
        );
    }
    if let Some(a) = &config.asynchronous
        && a.queue_worker.replicas > limits::turmoil::REPLICAS_MAX
    {
        return Err(format!(
            "turmoil engine: queueWorker.replicas is {}, above this engine's limit of {} (every \
             worker pod is a host run on every tick); use the model engine",
            a.queue_worker.replicas,
            limits::turmoil::REPLICAS_MAX
        ));
    }
    if config.asynchronous.is_none()
        && scenario
            .events
            .iter()
            .any(|e| matches!(e.action, Action::RestartQueueWorker))
    {
        return Err(
            "turmoil engine: `restartQueueWorker` without `load.async`: no queue-worker runs"
                .into(),
        );
    }
    // Go's meaning of a zero timeout (no server timeout, the provider's 10 s proxy default) is
    // in the model; this engine's timers would fire at once. (An upstream_timeout of 0 is an
    // immediate 502 on both.)
    let zeros = [
        ("gateway.writeTimeout", config.gateway.write_timeout_ns),
        ("faasnetes.readTimeout", config.provider.read_timeout_ns),
        ("faasnetes.writeTimeout", config.provider.write_timeout_ns),
        ("write_timeout", config.function.watchdog.write_timeout_ns),
        (
            "the child's write timeout",
            config.function.child.write_timeout_ns,
        ),
    ];
    if let Some((key, _)) = zeros.iter().find(|(_, ns)| *ns == 0) {
        return Err(format!(
            "turmoil engine: {key} is 0, whose Go meaning only the model engine has; use the \
             model engine"
        ));
    }
    Ok(())
}
