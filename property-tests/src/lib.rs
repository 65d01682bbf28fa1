//! proptest strategies over configurations, workloads and schedules, shared by the property
//! tests. They start narrow here and widen with the property-test issue.

use faasim_model::config::{Config, Edition, Method, Mode, OnSigterm, Span, Start, WatchdogKind};
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

/// Configurations across both watchdogs, both modes, both child behaviours, both editions,
/// and timers from zero to minutes.
pub fn config() -> impl Strategy<Value = Config> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (seconds(1..=120), seconds(0..=120), -5i64..=60, 0u32..=4),
        (1u32..=5, seconds(0..=10), 0u64..=3000, 10u64..=90_000),
        (seconds(1..=180), any::<bool>(), 0u64..=60, 0u64..=5),
        (
            1u32..=8,
            1u32..=20,
            seconds(0..=200),
            any::<bool>(),
            0u32..=50,
        ),
    )
        .prop_map(|(flags, timers, pods, cluster, load)| {
            let (fixed_wait, streaming, child_exits, pro) = flags;
            let (write_ns, exec_ns, hc_s, max_inflight) = timers;
            let (replicas, startup_ns, lag_ms, handler_ms) = pods;
            let (upstream_ns, scale_from_zero, grace_s, pre_stop_s) = cluster;
            let (concurrency, per_worker, timeout_ns, post, rate) = load;
            let mut config = Config::default();
            let watchdog = &mut config.function.watchdog;
            watchdog.kind = if fixed_wait {
                WatchdogKind::FixedWait
            } else {
                WatchdogKind::OfWatchdog
            };
            watchdog.mode = if streaming {
                Mode::Streaming
            } else {
                Mode::Http
            };
            watchdog.write_timeout_ns = write_ns;
            watchdog.exec_timeout_ns = exec_ns;
            watchdog.healthcheck_interval_ns = hc_s * NS_PER_S as i64;
            watchdog.max_inflight = max_inflight;
            config.function.child.on_sigterm = if child_exits {
                OnSigterm::Exit
            } else {
                OnSigterm::Drain
            };
            config.function.child.write_timeout_ns = write_ns;
            config.function.child.healthcheck_interval_ns = hc_s * NS_PER_S as i64;
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
            config.kubernetes.edition = if pro { Edition::Pro } else { Edition::Ce };
            config.kubernetes.grace_s = grace_s;
            config.kubernetes.pre_stop_sleep_s = pre_stop_s;
            config.kubernetes.endpoint_lag_ns = Span {
                lo_ns: 0,
                hi_ns: lag_ms * NS_PER_MS,
            };
            config.gateway.upstream_timeout_ns = upstream_ns;
            config.gateway.scale_from_zero = scale_from_zero;
            config.load.concurrency = concurrency;
            config.load.requests = u64::from(concurrency) * u64::from(per_worker);
            config.load.timeout_ns = timeout_ns;
            config.load.method = if post { Method::Post } else { Method::Get };
            config.load.rate_per_s = rate;
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
    proptest::collection::vec((seconds(0..=120), action), 0..4).prop_map(|mut items| {
        items.sort_by_key(|(at_ns, _)| *at_ns);
        items
            .into_iter()
            .map(|(at_ns, action)| Event { at_ns, action })
            .collect()
    })
}

/// A whole case.
pub fn case() -> impl Strategy<Value = Case> {
    (config(), events(), any::<u64>()).prop_map(|(config, events, seed)| Case {
        config,
        events,
        seed,
    })
}
