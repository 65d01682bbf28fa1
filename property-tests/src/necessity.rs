//! Cases that break exactly one rule, with a load and schedule that exercise it: the necessity
//! half of the rules' proof. `settle` brings every other bound back inside its rule, so the
//! target is the only one broken.

use faasim_model::config::{
    AsyncConfig, Config, Edition, GatewaySigterm, IngressConfig, Method, Mode, OnSigterm,
    QueueEdition, QueueWorkerConfig, Span, Start, WatchdogKind,
};
use faasim_model::rules::{self, POLL_SLACK_NS, Rule};
use faasim_model::schedule::{Action, Event};
use faasim_model::time::{NS_PER_MS, NS_PER_S};
use proptest::prelude::*;

use crate::Case;

/// The random magnitudes a breaking case is built from.
#[derive(Clone, Debug)]
pub struct Base {
    /// Replicas before the scale-down (at least 2, so one survives).
    pub replicas: u32,
    /// Handler duration (fixed, so the boundary is met).
    pub handler_ns: u64,
    /// Endpoint lag (fixed, so it is met).
    pub lag_ns: u64,
    /// preStop sleep, seconds.
    pub pre_stop_s: u64,
    /// Open-loop rate, requests per second.
    pub rate: u32,
    /// Slack added above each bound.
    pub margin_ns: u64,
    /// When the scale-down happens.
    pub scale_at_ns: u64,
    /// HTTP or streaming.
    pub http: bool,
    /// How far past the boundary the break goes, as a fraction in thousandths.
    pub depth_permille: u64,
    /// The run's seed.
    pub seed: u64,
}

/// Magnitudes for breaking cases.
pub fn base() -> impl Strategy<Value = Base> {
    (
        2u32..=3,
        (200u64..=3000).prop_map(|ms| ms * NS_PER_MS),
        (0u64..=1500).prop_map(|ms| ms * NS_PER_MS),
        0u64..=2,
        30u32..=60,
        (1u64..=2000).prop_map(|ms| ms * NS_PER_MS),
        (5000u64..=10_000).prop_map(|ms| ms * NS_PER_MS),
        any::<bool>(),
        (100u64..=900),
        any::<u64>(),
    )
        .prop_map(
            |(
                replicas,
                handler_ns,
                lag_ns,
                pre_stop_s,
                rate,
                margin_ns,
                scale_at_ns,
                http,
                depth_permille,
                seed,
            )| {
                Base {
                    replicas,
                    handler_ns,
                    lag_ns,
                    pre_stop_s,
                    rate,
                    margin_ns,
                    scale_at_ns,
                    http,
                    depth_permille,
                    seed,
                }
            },
        )
}

/// The starting point: a warm function under open-loop load, scaled down by one replica.
fn start(base: &Base) -> (Config, Vec<Event>) {
    let mut config = Config::default();
    let f = &mut config.function;
    f.name = "necessity".to_string();
    f.watchdog.mode = if base.http {
        Mode::Http
    } else {
        Mode::Streaming
    };
    f.handler_ns = Span::fixed(base.handler_ns);
    f.scale_min = base.replicas;
    f.start = Start::Warm;
    f.startup_ns = Span::fixed(NS_PER_S);
    f.watchdog.exec_timeout_ns = 0;
    f.watchdog.write_timeout_ns = base.handler_ns;
    f.watchdog.read_timeout_ns = 30 * NS_PER_S;
    f.child.write_timeout_ns = base.handler_ns;
    f.child.read_timeout_ns = 30 * NS_PER_S;
    f.child.on_sigterm = OnSigterm::Drain;
    f.watchdog.healthcheck_interval_ns = 0;
    f.child.healthcheck_interval_ns = 0;
    let k = &mut config.kubernetes;
    k.endpoint_lag_ns = Span::fixed(base.lag_ns);
    k.pre_stop_sleep_s = base.pre_stop_s;
    k.edition = Edition::Pro;
    config.load.rate_per_s = base.rate;
    config.load.concurrency = 1;
    config.load.requests = u64::from(base.rate) * 30;
    config.load.method = Method::Post;
    config.network.rtt_ns = 500_000;
    let events = vec![Event {
        at_ns: base.scale_at_ns,
        action: Action::Scale(base.replicas - 1),
    }];
    (config, events)
}

/// Bring every bound except the `target` rule's inside its rule, with `margin_ns` of slack.
pub fn settle(config: &mut Config, events: &[Event], target: &Rule, margin_ns: u64) {
    let keep = |rule: &Rule| rule != target;
    let pre_stop = config.kubernetes.pre_stop_sleep_s * NS_PER_S;
    let lag = config.kubernetes.endpoint_lag_ns.hi_ns;
    let handler = config.function.handler_ns.hi_ns;
    let http = config.function.watchdog.mode == Mode::Http;
    // A request routed just before the view drops a pod reaches it up to a dial (3 hops)
    // later; timers outside the pod see the answer up to 4 hops after the watchdog's.
    let hop = config.network.rtt_ns / 2;
    let w = &mut config.function.watchdog;
    if keep(&rules::HANDLER_WITHIN_EXEC) && w.exec_timeout_ns != 0 && w.exec_timeout_ns <= handler {
        w.exec_timeout_ns = handler + margin_ns;
    }
    let response = if w.exec_timeout_ns == 0 {
        handler
    } else {
        handler.min(w.exec_timeout_ns)
    };
    if keep(&rules::EXEC_WITHIN_WRITE) {
        w.write_timeout_ns = w.write_timeout_ns.max(response);
    }
    if keep(&rules::HANDLER_WITHIN_CHILD_WRITE) && http {
        config.function.child.write_timeout_ns =
            config.function.child.write_timeout_ns.max(handler);
    }
    let w = &mut config.function.watchdog;
    let hc_needed = (lag + 3 * hop).saturating_sub(pre_stop) + margin_ns;
    if w.kind == WatchdogKind::OfWatchdog
        && keep(&rules::HEALTHCHECK_COVERS_ENDPOINT_LAG)
        && keep(&rules::HEALTHCHECK_INTERVAL_POSITIVE)
        && (w.healthcheck_interval_ns <= 0 || (w.healthcheck_interval_ns as u64) < hc_needed)
    {
        w.healthcheck_interval_ns = hc_needed as i64;
    }
    if w.kind == WatchdogKind::FixedWait && keep(&rules::HEALTHCHECK_COVERS_ENDPOINT_LAG) {
        w.write_timeout_ns = w.write_timeout_ns.max(hc_needed);
    }
    if http && keep(&rules::CHILD_LISTENS_WHILE_ROUTED) {
        let child = &mut config.function.child;
        let needed = (lag + 3 * hop + handler)
            .saturating_sub(pre_stop + child.write_timeout_ns)
            .max(hc_needed);
        match config.function.watchdog.kind {
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                if child.healthcheck_interval_ns >= 0
                    && (child.healthcheck_interval_ns as u64) < needed
                {
                    child.healthcheck_interval_ns = needed as i64;
                }
            }
            WatchdogKind::FixedWait => {
                child.write_timeout_ns = child.write_timeout_ns.max(hc_needed)
            }
        }
    }
    let call = response + 4 * hop;
    if keep(&rules::EXEC_WITHIN_UPSTREAM) {
        config.gateway.upstream_timeout_ns =
            config.gateway.upstream_timeout_ns.max(call + margin_ns);
    }
    if keep(&rules::EXEC_WITHIN_PROVIDER_TIMEOUT) {
        config.provider.read_timeout_ns = config.provider.read_timeout_ns.max(call + margin_ns);
    }
    if keep(&rules::EXEC_WITHIN_PROVIDER_WRITE) {
        config.provider.write_timeout_ns = config.provider.write_timeout_ns.max(call);
    }
    let derived = rules::derive(config, events);
    if keep(&rules::GATEWAY_WRITE_COVERS_RESPONSE) {
        config.gateway.write_timeout_ns = config
            .gateway
            .write_timeout_ns
            .max(derived.hold_max_ns + call);
    }
    if keep(&rules::INGRESS_READ_COVERS_RESPONSE)
        && let Some(ingress) = &mut config.ingress
    {
        ingress.read_timeout_ns = ingress
            .read_timeout_ns
            .max(derived.hold_max_ns + derived.ingress_call_max_ns + margin_ns);
    }
    if keep(&rules::CLIENT_TIMEOUT_COVERS_RESPONSE) && config.load.timeout_ns != 0 {
        config.load.timeout_ns = config
            .load
            .timeout_ns
            .max(derived.hold_max_ns + derived.client_call_max_ns + margin_ns);
    }
    if keep(&rules::MAX_INFLIGHT_COVERS_LOAD) && config.function.watchdog.max_inflight != 0 {
        config.function.watchdog.max_inflight = config
            .function
            .watchdog
            .max_inflight
            .max(u32::try_from(derived.peak_concurrency).unwrap_or(u32::MAX));
    }
    if keep(&rules::PROVIDER_IDLE_BELOW_WATCHDOG_IDLE) {
        let idle = config.provider.idle_conn_timeout_ns;
        config.function.watchdog.read_timeout_ns = config
            .function
            .watchdog
            .read_timeout_ns
            .max(idle + config.network.rtt_ns);
        config.function.child.read_timeout_ns =
            config.function.child.read_timeout_ns.max(500 * NS_PER_MS);
    }
    if keep(&rules::CHILD_READY_BEFORE_ROUTING) && http {
        let routed =
            config.kubernetes.first_probe_ns().lo_ns + config.kubernetes.endpoint_lag_ns.lo_ns;
        let child = &mut config.function.child.startup_ns;
        child.hi_ns = child.hi_ns.min(routed);
        child.lo_ns = child.lo_ns.min(child.hi_ns);
    }
    if keep(&rules::SCALE_FROM_ZERO_ENABLED) && derived.view_can_empty {
        config.gateway.scale_from_zero = true;
    }
    let derived = rules::derive(config, events);
    if keep(&rules::GRACE_COVERS_DRAIN) && keep(&rules::FIXED_WAIT_GRACE) {
        let exit = derived.exit_ns.unwrap_or(0).max(derived.last_end_ns);
        let grace_ns = exit + POLL_SLACK_NS + margin_ns;
        let k = &mut config.kubernetes;
        k.grace_s = k
            .grace_s
            .max(grace_ns.div_ceil(NS_PER_S))
            .max(k.pre_stop_sleep_s + 1);
    }
}

/// An async load of two calls through CE queue-workers (one or two, from the seed) with
/// `ack_wait_ns`, calling back.
fn asynchronous(config: &mut Config, ack_wait_ns: u64, seed: u64) {
    config.load.rate_per_s = 0;
    config.load.concurrency = 1;
    config.load.requests = 2;
    config.asynchronous = Some(AsyncConfig {
        callback: true,
        callback_duration_ns: 0,
        callback_failures: 0,
        queue_worker: QueueWorkerConfig {
            replicas: 1 + u32::from(seed.is_multiple_of(2)),
            ack_wait_ns,
            ..QueueWorkerConfig::default()
        },
    });
}

fn fraction(value: u64, permille: u64) -> u64 {
    value / 1000 * permille + value % 1000 * permille / 1000
}

/// A case that breaks `rule` alone (when the base allows it) with a schedule that exercises it.
pub fn breaking_case(rule: &Rule, base: &Base) -> Case {
    let (mut config, mut events) = start(base);
    let d = base.handler_ns;
    let depth = base.depth_permille;
    let margin = base.margin_ns;
    if rule == &rules::HANDLER_WITHIN_EXEC {
        config.function.watchdog.exec_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::EXEC_WITHIN_WRITE {
        config.function.watchdog.mode = Mode::Streaming;
        config.function.watchdog.write_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::HANDLER_WITHIN_CHILD_WRITE {
        config.function.watchdog.mode = Mode::Http;
        config.function.child.write_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::EXEC_WITHIN_UPSTREAM {
        config.gateway.upstream_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::EXEC_WITHIN_PROVIDER_TIMEOUT {
        config.provider.read_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::EXEC_WITHIN_PROVIDER_WRITE {
        config.provider.write_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::GATEWAY_WRITE_COVERS_RESPONSE {
        config.gateway.write_timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::INGRESS_READ_COVERS_RESPONSE {
        config.ingress = Some(IngressConfig {
            read_timeout_ns: d - fraction(d, depth) / 2,
        });
    } else if rule == &rules::CLIENT_TIMEOUT_COVERS_RESPONSE {
        config.load.timeout_ns = d - fraction(d, depth) / 2;
    } else if rule == &rules::MAX_INFLIGHT_COVERS_LOAD {
        // Closed loop: every worker starts at once on the single pod.
        config.function.scale_min = 1;
        config.load.rate_per_s = 0;
        config.load.concurrency = 2 + (base.rate % 6);
        config.load.requests = u64::from(config.load.concurrency) * 2;
        config.function.watchdog.max_inflight = config.load.concurrency - 1;
        events.clear();
    } else if rule == &rules::SCALE_FROM_ZERO_ENABLED {
        config.gateway.scale_from_zero = false;
        events = vec![Event {
            at_ns: base.scale_at_ns,
            action: Action::Scale(0),
        }];
    } else if rule == &rules::COLD_START_WITHIN_GATEWAY_HOLD {
        config.function.start = Start::Cold;
        config.function.scale_min = 1;
        config.function.startup_ns = Span::fixed(100 * NS_PER_S + margin);
        config.load.timeout_ns = 0;
        config.load.requests = u64::from(base.rate) * 2;
        events.clear();
    } else if rule == &rules::NO_DISRUPTION_DURING_COLD_START {
        // Scaled to zero again while the first requests wait for the cold start.
        config.function.start = Start::Cold;
        config.function.scale_min = 1;
        config.load.rate_per_s = 0;
        config.load.concurrency = 2;
        config.load.requests = 2;
        config.function.startup_ns = Span::fixed(2 * NS_PER_S);
        events = vec![Event {
            at_ns: NS_PER_S,
            action: Action::Scale(0),
        }];
    } else if rule == &rules::HEALTHCHECK_COVERS_ENDPOINT_LAG {
        config.function.watchdog.mode = Mode::Streaming;
        let lag = NS_PER_S + base.lag_ns;
        config.kubernetes.endpoint_lag_ns = Span::fixed(lag);
        config.kubernetes.pre_stop_sleep_s = 0;
        config.function.watchdog.healthcheck_interval_ns =
            (lag - NS_PER_S / 2 - fraction(lag / 2, depth)) as i64;
    } else if rule == &rules::HEALTHCHECK_INTERVAL_POSITIVE {
        config.function.watchdog.healthcheck_interval_ns = -(fraction(NS_PER_S, depth) as i64);
    } else if rule == &rules::GRACE_COVERS_DRAIN {
        // SIGKILL lands before the listener even closes.
        let close_s = (base.lag_ns + margin) / NS_PER_S + 1;
        config.function.watchdog.healthcheck_interval_ns = (close_s * NS_PER_S) as i64;
        config.function.child.healthcheck_interval_ns = (close_s * NS_PER_S) as i64;
        config.kubernetes.pre_stop_sleep_s = 0;
        config.kubernetes.grace_s = close_s.saturating_sub(1).max(1).min(close_s);
        config.kubernetes.endpoint_lag_ns =
            Span::fixed(base.lag_ns.min(close_s * NS_PER_S - NS_PER_MS));
    } else if rule == &rules::FIXED_WAIT_GRACE {
        config.function.watchdog.kind = WatchdogKind::FixedWait;
        config.function.watchdog.write_timeout_ns = d.max(base.lag_ns + margin).max(NS_PER_S);
        let needed = config.kubernetes.pre_stop_sleep_s * NS_PER_S
            + 2 * config.function.watchdog.write_timeout_ns;
        config.kubernetes.grace_s =
            (fraction(needed, depth) / NS_PER_S).max(config.kubernetes.pre_stop_sleep_s + 1);
    } else if rule == &rules::CHILD_DRAINS_ON_SIGTERM {
        // Something is in flight at SIGTERM: no preStop, and handlers of at least a second.
        config.function.watchdog.mode = Mode::Http;
        config.function.child.on_sigterm = OnSigterm::Exit;
        config.kubernetes.pre_stop_sleep_s = 0;
        config.function.handler_ns = Span::fixed(d.max(NS_PER_S));
    } else if rule == &rules::CHILD_LISTENS_WHILE_ROUTED {
        config.function.watchdog.mode = Mode::Http;
        let lag = NS_PER_S + base.lag_ns;
        config.kubernetes.endpoint_lag_ns = Span::fixed(lag);
        config.kubernetes.pre_stop_sleep_s = 0;
        config.function.watchdog.healthcheck_interval_ns = (lag + margin) as i64;
        config.function.child.healthcheck_interval_ns =
            (lag - NS_PER_S / 2 - fraction(lag / 2, depth)) as i64;
    } else if rule == &rules::CHILD_READY_BEFORE_ROUTING {
        config.function.watchdog.mode = Mode::Http;
        // The kubelet's prober pinned where its first probe comes right at
        // initialDelaySeconds, the earliest the rule counts on: any later phase may let the
        // child listen first, so the case would only sometimes fail.
        let probe = config.kubernetes.readiness;
        let period_ns = u64::from(probe.period_s.max(1)) * NS_PER_S;
        let delay_ns = u64::from(probe.initial_delay_s) * NS_PER_S;
        config.kubernetes.readiness_phase_ns =
            Some(Span::fixed((period_ns - delay_ns % period_ns) % period_ns));
        let routed = config.kubernetes.first_probe_ns().lo_ns + base.lag_ns;
        config.function.child.startup_ns =
            Span::fixed(routed + NS_PER_S + fraction(NS_PER_S, depth));
        events = vec![Event {
            at_ns: base.scale_at_ns,
            action: Action::Rollout,
        }];
    } else if rule == &rules::SPOT_NOTICE_COVERS_DRAIN {
        config.kubernetes.nodes = 3;
        events = vec![Event {
            at_ns: base.scale_at_ns,
            action: Action::DrainNode {
                notice_ns: 0,
                node: None,
            },
        }];
    } else if rule == &rules::PROVIDER_IDLE_BELOW_WATCHDOG_IDLE {
        // One pod, one request a second: each reuses the connection 1 s - D after the last,
        // half a round trip after the server's idle timeout closed it.
        config.function.scale_min = 1;
        config.function.watchdog.mode = Mode::Streaming;
        let handler = NS_PER_S / 10;
        config.function.handler_ns = Span::fixed(handler);
        config.network.rtt_ns = 10 * NS_PER_MS;
        config.load.rate_per_s = 1;
        config.load.requests = 10;
        config.function.watchdog.read_timeout_ns = NS_PER_S - handler - config.network.rtt_ns / 2;
        events.clear();
    } else if rule == &rules::SCHEDULABLE_NODE_REMAINS {
        config.kubernetes.nodes = 1;
        config.load.timeout_ns = 0;
        config.gateway.write_timeout_ns = 200 * NS_PER_S;
        events = vec![Event {
            at_ns: base.scale_at_ns,
            action: Action::DrainNode {
                notice_ns: 0,
                node: Some(0),
            },
        }];
    } else if rule == &rules::GATEWAY_DRAINS_ON_ROLLOUT {
        // A helm upgrade under load: the old gateway pod gets SIGTERM when its replacement is
        // ready (about 10 s later). Half the cases run the CE gateway, which exits; the others
        // a gateway that drains but whose grace ends before its last call does.
        events = vec![Event {
            at_ns: base.scale_at_ns,
            action: Action::RolloutGateway,
        }];
        if base.seed.is_multiple_of(2) {
            config.gateway.on_sigterm = GatewaySigterm::Exit;
        } else {
            // The open loop dials every call: the last reaches the pod a dial after kube-proxy
            // dropped it, and its call outlives the grace.
            let last_dial_ns = base.lag_ns + 3 * config.network.rtt_ns / 2;
            config.gateway.on_sigterm = GatewaySigterm::Drain {
                delay_ns: last_dial_ns + margin,
            };
            config.provider.stops_informers_on_sigterm = false;
            config.gateway.grace_ns = last_dial_ns + fraction(d, depth) / 2;
        }
    } else if rule == &rules::CE_ACK_WAIT_COVERS_CALL {
        // Two async calls of a handler over a second on one or two CE workers, ack_wait the
        // whole seconds below it: the first call is redelivered while it runs.
        let handler = d + NS_PER_S;
        config.function.handler_ns = Span::fixed(handler);
        asynchronous(&mut config, handler / NS_PER_S * NS_PER_S, base.seed);
        events.clear();
    } else if rule == &rules::CE_QUEUE_WORKER_NOT_RESTARTED {
        // One async call running when the restarted worker's successor subscribes (2 s after
        // the restart): the old worker exits without an ack, the call runs again after
        // ack_wait (60 s, above the call).
        let handler = d + 3 * NS_PER_S;
        config.function.handler_ns = Span::fixed(handler);
        asynchronous(&mut config, 60 * NS_PER_S, base.seed);
        config.load.requests = 1;
        events = vec![Event {
            at_ns: fraction(NS_PER_S, depth),
            action: Action::RestartQueueWorker,
        }];
    } else if rule == &rules::PRO_UPSTREAM_COVERS_CALL {
        // Two async calls on one Pro worker whose own timeout falls a fraction of the handler
        // short of it: each attempt is cut while the handler runs, and retried 10 s later.
        let handler = d + NS_PER_S;
        config.function.handler_ns = Span::fixed(handler);
        asynchronous(&mut config, 60 * NS_PER_S, base.seed);
        if let Some(path) = &mut config.asynchronous {
            let worker = &mut path.queue_worker;
            worker.edition = QueueEdition::Pro;
            worker.max_inflight = 1;
            worker.replicas = 1;
            worker.max_retry_attempts = 3;
            worker.upstream_timeout_ns = handler - fraction(handler, depth) / 2;
        }
        events.clear();
    } else if rule == &rules::PRO_QUEUE_WORKER_GRACE_COVERS_CALL {
        // One async call on a Pro worker restarted under it: the new worker fetches 2 s after
        // the restart and the old one gets SIGTERM then, with a grace that ends a fraction of
        // the remaining call before it does; its lease runs out 60 s after the kill.
        let handler = d + 4 * NS_PER_S;
        config.function.handler_ns = Span::fixed(handler);
        asynchronous(&mut config, 60 * NS_PER_S, base.seed);
        config.load.requests = 1;
        let restart_ns = fraction(NS_PER_S, depth);
        let remaining = handler - restart_ns - 2 * NS_PER_S;
        if let Some(path) = &mut config.asynchronous {
            let worker = &mut path.queue_worker;
            worker.edition = QueueEdition::Pro;
            worker.replicas = 1;
            worker.max_inflight = 1;
            worker.upstream_timeout_ns = 10 * handler;
            worker.grace_ns = remaining - fraction(remaining, depth.max(1)) / 2 - NS_PER_MS;
        }
        events = vec![Event {
            at_ns: restart_ns,
            action: Action::RestartQueueWorker,
        }];
    } else {
        panic!("no breaking case for rule {}", rule.id);
    }
    settle(&mut config, &events, rule, margin);
    if rule == &rules::SPOT_NOTICE_COVERS_DRAIN || rule == &rules::SCHEDULABLE_NODE_REMAINS {
        let derived = rules::derive(&config, &events);
        let exit = derived.exit_ns.unwrap_or(0);
        // Near the boundary the last request's arrival and Shutdown's poll blur it by up to a
        // poll interval plus an arrival gap; break it clearly: the node dies before the
        // listener would even close.
        let close = derived.close_ns.unwrap_or(exit).min(exit);
        let notice = if rule == &rules::SPOT_NOTICE_COVERS_DRAIN {
            fraction(close, depth)
        } else {
            exit + NS_PER_S
        };
        for event in &mut events {
            if let Action::DrainNode { notice_ns, .. } = &mut event.action {
                *notice_ns = notice;
            }
        }
    }
    Case {
        config,
        events,
        seed: base.seed,
    }
}
