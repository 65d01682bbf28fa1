//! proptest strategies over configurations, workloads and schedules, shared by the property
//! tests: `case` covers the whole space, `safe_case` builds configurations that keep every rule
//! of `faasim_model::rules` with random slack, so a test can break exactly one rule.

use faasim_model::config::{
    AsyncConfig, Config, Edition, GatewaySigterm, IngressConfig, Method, Mode, OnSigterm,
    QueueWorkerConfig, Span, Start, WatchdogKind,
};
use faasim_model::rules::{self, POLL_SLACK_NS};
use faasim_model::schedule::{Action, Event};
use faasim_model::time::{NS_PER_MS, NS_PER_S};
use proptest::prelude::*;

/// A generated case: a configuration, its events and a seed.
#[derive(Clone, Debug)]
pub struct Case {
    /// The configuration.
    pub config: Config,
    /// Timed actions.
    pub events: Vec<Event>,
    /// The run's seed.
    pub seed: u64,
}

fn seconds(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = u64> {
    range.prop_map(|s| s * NS_PER_S)
}

/// Durations from zero to hours, in round units: the space users write in.
pub fn any_duration_ns() -> impl Strategy<Value = u64> {
    prop_oneof![
        (0u64..=1000).prop_map(|ms| ms * NS_PER_MS),
        (0u64..=300).prop_map(|s| s * NS_PER_S),
        (0u64..=120).prop_map(|m| m * 60 * NS_PER_S),
        (0u64..=3).prop_map(|h| h * 3600 * NS_PER_S),
    ]
}

/// A duration as people write it in a function's environment: a Go duration with units, a bare
/// integer of seconds, occasionally something invalid the watchdog silently replaces.
pub fn env_duration() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any_duration_ns().prop_map(|ns| faasim_model::duration::format_go(ns as i64)),
        2 => (0u64..=600).prop_map(|s| s.to_string()),
        1 => (0u64..=90).prop_map(|m| format!("{m}m30s")),
        1 => (1u64..=3).prop_map(|h| format!("{h}h")),
        1 => prop_oneof![Just("2 minutes".to_string()), Just("-5".to_string()), Just("0".to_string()), Just(String::new())],
    ]
}

/// Configurations over the whole space: every timer from zero to hours written with units or as
/// bare integers and read through the watchdog's and the child's own readers, both watchdogs,
/// both modes, a child that drains or exits, both editions or an explicit grace, preStop sleeps,
/// probe settings, endpoint-lag and start-up ranges, 1 to 10 replicas, closed and open loop,
/// GET and POST, keep-alive on and off, with or without an ingress in front of the gateway.
pub fn config() -> impl Strategy<Value = Config> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0u64..=600),
        ),
        (
            env_duration(),
            env_duration(),
            env_duration(),
            env_duration(),
            proptest::option::of(0u32..=6),
        ),
        (
            1u32..=10,
            seconds(0..=10),
            0u64..=3000,
            10u64..=90_000,
            0u32..=5,
            1u32..=5,
        ),
        (
            seconds(1..=180),
            any::<bool>(),
            0u64..=60,
            0u64..=5,
            proptest::option::of(seconds(1..=180)),
        ),
        (
            1u32..=8,
            1u32..=20,
            seconds(0..=200),
            any::<bool>(),
            0u32..=50,
            any::<bool>(),
        ),
    )
        .prop_map(|(flags, env, pods, cluster, load)| {
            let (fixed_wait, streaming, child_exits, pro, explicit_grace) = flags;
            let (write, read, exec, hc, max_inflight) = env;
            let (replicas, startup_ns, lag_ms, handler_ms, probe_delay_s, probe_period_s) = pods;
            let (upstream_ns, scale_from_zero, _, pre_stop_s, ingress_ns) = cluster;
            let (concurrency, per_worker, timeout_ns, post, rate, keep_alive) = load;
            let mut environment = std::collections::BTreeMap::new();
            environment.insert("write_timeout".to_string(), write);
            environment.insert("read_timeout".to_string(), read);
            environment.insert("exec_timeout".to_string(), exec);
            environment.insert("healthcheck_interval".to_string(), hc);
            if let Some(limit) = max_inflight {
                environment.insert("max_inflight".to_string(), limit.to_string());
            }
            let kind = if fixed_wait {
                WatchdogKind::FixedWait
            } else {
                WatchdogKind::OfWatchdog
            };
            let mode = if streaming {
                Mode::Streaming
            } else {
                Mode::Http
            };
            let mut config = Config::default();
            // write_timeout 0 stops the real watchdog; the scenario loader refuses it too.
            if let Ok((watchdog, _)) =
                faasim_model::config::WatchdogConfig::from_env(&environment, kind, mode)
            {
                config.function.watchdog = watchdog;
            }
            let on_sigterm = if child_exits {
                OnSigterm::Exit
            } else {
                OnSigterm::Drain
            };
            config.function.child = faasim_model::config::ChildConfig::from_env(
                &environment,
                on_sigterm,
                Span::fixed(0),
            );
            config.function.scale_min = replicas;
            config.function.startup_ns = Span {
                lo_ns: 0,
                hi_ns: startup_ns,
            };
            config.function.handler_ns = Span {
                lo_ns: handler_ms * NS_PER_MS / 2,
                hi_ns: handler_ms * NS_PER_MS,
            };
            config.function.start = if startup_ns % 2 == 0 {
                Start::Warm
            } else {
                Start::Cold
            };
            let edition = if pro { Edition::Pro } else { Edition::Ce };
            let (derived_grace, _, _) =
                faasim_model::config::edition_grace_s(edition, &environment);
            config.kubernetes.edition = edition;
            config.kubernetes.grace_s = explicit_grace.unwrap_or(derived_grace);
            config.kubernetes.pre_stop_sleep_s = pre_stop_s;
            config.kubernetes.readiness.initial_delay_s = probe_delay_s;
            config.kubernetes.readiness.period_s = probe_period_s;
            config.kubernetes.endpoint_lag_ns = Span {
                lo_ns: 0,
                hi_ns: lag_ms * NS_PER_MS,
            };
            config.gateway.upstream_timeout_ns = upstream_ns;
            config.gateway.scale_from_zero = scale_from_zero;
            config.ingress = ingress_ns.map(|read_timeout_ns| IngressConfig { read_timeout_ns });
            config.load.concurrency = concurrency;
            config.load.requests = u64::from(concurrency) * u64::from(per_worker);
            config.load.timeout_ns = timeout_ns;
            config.load.method = if post { Method::Post } else { Method::Get };
            config.load.rate_per_s = rate;
            config.load.keep_alive = keep_alive;
            config
        })
}

/// Schedules of scale, rollout, drain and crash actions at arbitrary times, overlapping.
pub fn events() -> impl Strategy<Value = Vec<Event>> {
    let action = prop_oneof![
        (0u32..=6).prop_map(Action::Scale),
        Just(Action::Rollout),
        (seconds(0..=150), proptest::option::of(0u32..3))
            .prop_map(|(notice_ns, node)| Action::DrainNode { notice_ns, node }),
        Just(Action::KillPod { pod: None }),
    ];
    proptest::collection::vec((seconds(0..=120), action), 0..4).prop_map(sorted)
}

fn sorted(mut items: Vec<(u64, Action)>) -> Vec<Event> {
    items.sort_by_key(|(at_ns, _)| *at_ns);
    items
        .into_iter()
        .map(|(at_ns, action)| Event { at_ns, action })
        .collect()
}

/// A whole case over the full space.
pub fn case() -> impl Strategy<Value = Case> {
    (config(), events(), any::<u64>()).prop_map(|(config, events, seed)| Case {
        config,
        events,
        seed,
    })
}

/// Schedules without crashes (no configuration prevents a crash from dropping what is in
/// flight): scale up, down and to zero, rolling updates, node drains, overlapping. Drain
/// notices are filled in by `safe_case` to fit the configuration unless `notice_ns` is given.
fn schedule() -> impl Strategy<Value = Vec<(u64, Action)>> {
    let action = prop_oneof![
        3 => (0u32..=4).prop_map(Action::Scale),
        2 => Just(Action::Rollout),
        1 => proptest::option::of(0u32..3).prop_map(|node| Action::DrainNode { notice_ns: 0, node }),
        1 => Just(Action::RolloutGateway),
    ];
    proptest::collection::vec(
        ((0u64..=90_000).prop_map(|ms| ms * NS_PER_MS), action),
        1..4,
    )
}

/// The knobs a safe case is built from; every timer is the bound it must keep plus a slack.
#[derive(Clone, Debug)]
struct Knobs {
    /// The pre-2021 fixed-wait watchdog (else of-watchdog).
    fixed_wait: bool,
    /// Streaming mode (else HTTP mode with a child).
    streaming: bool,
    /// The shortest handler run, ms.
    handler_lo_ms: u64,
    /// The longest handler run, ms.
    handler_hi_ms: u64,
    /// No exec_timeout (0).
    exec_off: bool,
    /// Slack over the bounds, ms: 0 exec, 1 write, 2 read, 3 probe, 4 drain, 5-7 callers.
    slack_ms: [u64; 8],
    /// The shortest endpoint lag, ms.
    lag_lo_ms: u64,
    /// The longest endpoint lag, ms.
    lag_hi_ms: u64,
    /// The preStop sleep, s.
    pre_stop_s: u64,
    /// Replicas (`com.openfaas.scale.min`).
    replicas: u32,
    /// Nodes.
    nodes: u32,
    /// The start-up time's range, ms.
    startup_ms: (u64, u64),
    /// Start cold (else warm).
    cold: bool,
    /// The readiness probe's initial delay, s.
    probe_delay_s: u32,
    /// POST requests (else GET).
    post: bool,
    /// A closed loop (else an open loop at `rate`).
    closed: bool,
    /// Workers of a closed loop.
    concurrency: u32,
    /// Requests per worker of a closed loop.
    per_worker: u64,
    /// Requests per second of an open loop.
    rate: u32,
    /// No client timeout.
    client_timeout_off: bool,
    /// A watchdog max_inflight limit.
    max_inflight_on: bool,
    /// The network round trip, µs.
    rtt_us: u64,
    /// How long an open loop sends, s.
    load_s: u64,
    /// An ingress in front of the gateway.
    ingress_on: bool,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            1u64..=2000,
            0u64..=60_000,
            any::<bool>(),
        ),
        proptest::array::uniform8(0u64..=20_000),
        (0u64..=2000, 0u64..=3000, 0u64..=3, 1u32..=10, 1u32..=4),
        ((0u64..=3000), (0u64..=2000), any::<bool>(), 0u32..=3),
        (
            any::<bool>(),
            any::<bool>(),
            1u32..=8,
            1u64..=4,
            1u32..=20,
            any::<bool>(),
            any::<bool>(),
            0u64..=5000,
        ),
        1u64..=40,
        any::<bool>(),
    )
        .prop_map(|(a, slack_ms, b, c, d, load_s, ingress_on)| Knobs {
            fixed_wait: a.0 && a.4,
            streaming: a.1,
            handler_lo_ms: a.2,
            handler_hi_ms: a.2 + a.3,
            exec_off: a.4,
            slack_ms,
            lag_lo_ms: b.0,
            lag_hi_ms: b.0 + b.1,
            pre_stop_s: b.2,
            replicas: b.3,
            nodes: b.4,
            startup_ms: (c.0, c.0 + c.1),
            cold: c.2,
            probe_delay_s: c.3,
            post: d.0,
            closed: d.1,
            concurrency: d.2,
            per_worker: d.3,
            rate: d.4,
            client_timeout_off: d.5,
            max_inflight_on: d.6,
            rtt_us: d.7,
            load_s,
            ingress_on,
        })
}

fn ms(value: u64) -> u64 {
    value * NS_PER_MS
}

/// Build a configuration from knobs and a schedule that keeps every rule.
fn build(k: &Knobs, raw_events: &[(u64, Action)]) -> (Config, Vec<Event>) {
    let mut config = Config::default();
    let s = |i: usize| ms(k.slack_ms[i]);
    let f = &mut config.function;
    f.name = "prop".to_string();
    f.watchdog.kind = if k.fixed_wait {
        WatchdogKind::FixedWait
    } else {
        WatchdogKind::OfWatchdog
    };
    f.watchdog.mode = if k.streaming {
        Mode::Streaming
    } else {
        Mode::Http
    };
    f.handler_ns = Span {
        lo_ns: ms(k.handler_lo_ms),
        hi_ns: ms(k.handler_hi_ms),
    };
    let handler_max = ms(k.handler_hi_ms);
    f.watchdog.exec_timeout_ns = if k.exec_off {
        0
    } else {
        handler_max + ms(1) + s(0)
    };
    let response = handler_max;
    // One network hop; a request routed just before the view drops a pod reaches it up to a
    // dial (3 hops) later, and timers outside the pod see the answer up to 4 hops later.
    let hop = k.rtt_us * 1000 / 2;
    let lag_beyond_pre_stop = (ms(k.lag_hi_ms) + 3 * hop).saturating_sub(k.pre_stop_s * NS_PER_S);
    f.watchdog.write_timeout_ns = (response + s(1)).max(ms(1));
    if k.fixed_wait {
        // The fixed wait keeps the listener open for write_timeout instead of hc.
        f.watchdog.write_timeout_ns = f.watchdog.write_timeout_ns.max(lag_beyond_pre_stop);
    }
    f.watchdog.read_timeout_ns = 5 * NS_PER_S + k.rtt_us * 1000 + s(2);
    f.child.write_timeout_ns = f.watchdog.write_timeout_ns;
    f.child.read_timeout_ns = f.watchdog.read_timeout_ns;
    f.scale_min = k.replicas;
    f.scale_max = 20;
    f.start = if k.cold { Start::Cold } else { Start::Warm };
    f.startup_ns = Span {
        lo_ns: ms(k.startup_ms.0),
        hi_ns: ms(k.startup_ms.1),
    };
    let kube = &mut config.kubernetes;
    kube.nodes = k.nodes;
    kube.endpoint_lag_ns = Span {
        lo_ns: ms(k.lag_lo_ms),
        hi_ns: ms(k.lag_hi_ms),
    };
    kube.pre_stop_sleep_s = k.pre_stop_s;
    kube.readiness.initial_delay_s = k.probe_delay_s;
    // The child may start up to the first probe plus the shortest lag after the watchdog.
    config.function.child.startup_ns =
        Span::fixed((u64::from(k.probe_delay_s) * NS_PER_S).min(s(3)));
    let pre_stop = k.pre_stop_s * NS_PER_S;
    let lag_max = ms(k.lag_hi_ms);
    let hc = (lag_max + 3 * hop).saturating_sub(pre_stop).max(ms(1)) + s(4) / 4;
    config.function.watchdog.healthcheck_interval_ns = hc as i64;
    config.function.child.healthcheck_interval_ns = hc as i64;
    config.load.method = if k.post { Method::Post } else { Method::Get };
    config.network.rtt_ns = k.rtt_us * 1000;
    if k.closed {
        config.load.concurrency = k.concurrency;
        config.load.requests = u64::from(k.concurrency) * k.per_worker;
        config.load.rate_per_s = 0;
    } else {
        config.load.concurrency = 1;
        config.load.rate_per_s = k.rate;
        config.load.requests = u64::from(k.rate) * k.load_s;
    }
    config.gateway.scale_from_zero = true;
    // Its read timeout is set below, from the derived response; being there adds its hops to
    // the client's way.
    config.ingress = k.ingress_on.then(IngressConfig::default);
    let mut events: Vec<Event> = raw_events
        .iter()
        .map(|(at_ns, action)| Event {
            at_ns: *at_ns,
            action: action.clone(),
        })
        .collect();
    events.sort_by_key(|e| e.at_ns);
    // Now the bounds that depend on derived quantities.
    let mut derived = rules::derive(&config, &events);
    let hold = derived.hold_max_ns;
    let call = derived.call_max_ns;
    config.gateway.upstream_timeout_ns = call + ms(1) + s(5);
    config.provider.read_timeout_ns = call + ms(1) + s(6);
    config.provider.write_timeout_ns = call + s(6);
    config.gateway.write_timeout_ns = hold + call + s(7);
    config.gateway.read_timeout_ns = config.gateway.write_timeout_ns;
    if let Some(ingress) = &mut config.ingress {
        ingress.read_timeout_ns = hold + derived.ingress_call_max_ns + ms(1) + s(7);
    }
    config.load.timeout_ns = if k.client_timeout_off {
        0
    } else {
        hold + derived.client_call_max_ns + ms(1) + s(7)
    };
    derived = rules::derive(&config, &events);
    config.function.watchdog.max_inflight = if k.max_inflight_on {
        u32::try_from(derived.peak_concurrency).unwrap_or(u32::MAX)
    } else {
        0
    };
    let exit = derived.exit_ns.unwrap_or(0);
    let grace_ns = exit.max(derived.last_end_ns) + POLL_SLACK_NS + ms(1) + s(4) / 2;
    config.kubernetes.grace_s = grace_ns.div_ceil(NS_PER_S).max(k.pre_stop_s + 1);
    config.kubernetes.edition = Edition::Pro;
    // The gateway's own pods, rolled by a helm upgrade: one that drains, accepting until
    // kube-proxy's view has dropped it (a dial after the longest lag), its grace above its
    // last call; a closed loop, or an ingress, reusing its connections across a hop races the
    // listener's close, so no upgrade then.
    config.gateway.replicas = k.replicas.max(1);
    let delay_ns = lag_max + 3 * hop + s(4) / 4;
    config.gateway.on_sigterm = GatewaySigterm::Drain { delay_ns };
    config.provider.stops_informers_on_sigterm = false;
    config.gateway.grace_ns =
        delay_ns + hold + call.min(config.gateway.upstream_timeout_ns) + ms(1) + s(4) / 2;
    let reuses =
        (config.load.keep_alive && config.load.rate_per_s == 0) || config.ingress.is_some();
    if reuses && hop > 0 {
        events.retain(|e| e.action != Action::RolloutGateway);
    }
    derived = rules::derive(&config, &events);
    let notice = derived.exit_ns.unwrap_or(0) + NS_PER_S + s(3);
    let mut drains = 0;
    events.retain(|e| {
        if matches!(e.action, Action::DrainNode { .. }) {
            drains += 1;
            drains < k.nodes
        } else {
            true
        }
    });
    for event in &mut events {
        if let Action::DrainNode { notice_ns, node } = &mut event.action {
            *notice_ns = notice;
            if let Some(n) = node {
                *n %= k.nodes;
            }
        }
    }
    // A disruption while a request may wait for a cold start strands it or starts the wait
    // over: keep only the events the rule allows.
    let mut kept: Vec<Event> = Vec::new();
    for event in events {
        kept.push(event.clone());
        if rules::check(&config, &kept)
            .iter()
            .any(|b| b.rule == &rules::NO_DISRUPTION_DURING_COLD_START)
        {
            kept.pop();
        }
    }
    (config, kept)
}

/// A case that breaks no rule, over the whole space the rules speak of.
pub fn safe_case() -> impl Strategy<Value = Case> {
    (knobs(), schedule(), any::<u64>()).prop_map(|(knobs, schedule, seed)| {
        let (config, events) = build(&knobs, &schedule);
        Case {
            config,
            events,
            seed,
        }
    })
}

/// A case that breaks no rule with an asynchronous load: a safe case whose requests go through
/// CE queue-workers (one to three, no more than the function's `max_inflight` allows), calling
/// back or not, with an ack wait in whole seconds above the longest hold of a call.
pub fn safe_async_case() -> impl Strategy<Value = Case> {
    (safe_case(), 1u32..=3, any::<bool>(), 0u64..=3000, 1u64..=20).prop_map(
        |(mut case, replicas, callback, callback_ms, slack_s)| {
            let max_inflight = case.config.function.watchdog.max_inflight;
            let replicas = if max_inflight > 0 {
                replicas.min(max_inflight)
            } else {
                replicas
            };
            case.events
                .retain(|e| e.action != Action::RestartQueueWorker);
            let callback_duration_ns = if callback { callback_ms * NS_PER_MS } else { 0 };
            case.config.asynchronous = Some(AsyncConfig {
                callback,
                callback_duration_ns,
                callback_failures: 0,
                queue_worker: QueueWorkerConfig {
                    replicas,
                    ..QueueWorkerConfig::default()
                },
            });
            let d = rules::derive(&case.config, &case.events);
            let call = d
                .call_max_ns
                .min(case.config.gateway.upstream_timeout_ns + 2 * d.hop_ns);
            let hold = d.hold_max_ns + call + callback_duration_ns + 5 * d.hop_ns;
            if let Some(path) = &mut case.config.asynchronous {
                path.queue_worker.ack_wait_ns = (hold / NS_PER_S + slack_s) * NS_PER_S;
            }
            case
        },
    )
}

/// A case that breaks no rule with an asynchronous load through Pro queue-workers (one to
/// three, each fetching up to `maxInflight` calls, together no more than the function's
/// `max_inflight` allows, so no 429 is retried), calling back or not, with the worker's own
/// upstreamTimeout whole seconds above the longest attempt; half the cases restart the workers
/// at some instant, their grace whole seconds above a call and its callback.
pub fn safe_pro_async_case() -> impl Strategy<Value = Case> {
    (safe_async_case(), 1u32..=3, 1u32..=60, 1u64..=20).prop_map(
        |(mut case, replicas, max_inflight, slack_s)| {
            let function_max = case.config.function.watchdog.max_inflight;
            let (replicas, max_inflight) = if function_max > 0 {
                let replicas = replicas.min(function_max);
                (replicas, max_inflight.min(function_max / replicas).max(1))
            } else {
                (replicas, max_inflight)
            };
            let d = rules::derive(&case.config, &case.events);
            let call = d
                .call_max_ns
                .min(case.config.gateway.upstream_timeout_ns + 2 * d.hop_ns);
            let attempt = d.hold_max_ns + call + 2 * d.hop_ns;
            if let Some(path) = &mut case.config.asynchronous {
                let worker = &mut path.queue_worker;
                worker.edition = faasim_model::config::QueueEdition::Pro;
                worker.replicas = replicas;
                worker.max_inflight = max_inflight;
                worker.upstream_timeout_ns = (attempt / NS_PER_S + slack_s) * NS_PER_S;
            }
            case
        },
    )
}

pub mod necessity;
