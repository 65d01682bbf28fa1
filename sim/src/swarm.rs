//! The swarm generator `swarm-v1`: one seed, one case, in the manner of TigerBeetle's VOPR. A
//! seed first draws WHICH features and faults are on (a fixed-wait watchdog, streaming mode, a
//! child that exits on SIGTERM, `max_inflight`, a preStop sleep, a long endpoint lag, a cold
//! start, open or closed loop, POST or GET, scale-downs, scale to zero, rollouts, node drains,
//! crashes, ...) and how wild the timers are, then draws a configuration over the whole space and
//! a schedule. Swarm testing finds more than a uniform generator because each case leaves most
//! features out, so the ones left in get exercised hard instead of masking each other.
//!
//! Timers are either *safe*, the bound the rules of `faasim_model::rules` ask for plus a random
//! slack (as `property-tests` builds its safe cases), or *wild*, anything from zero to hours; the
//! seed's wildness (`timers:safe`, `timers:few-wild`, `timers:some-wild`, `timers:wild`) is the
//! chance of each timer being wild. So many cases break no rule and many break several.
//!
//! The watchdog's and the child's settings are written as the environment a scenario file would
//! hold and read back through the same readers the loader uses, so every case is a scenario
//! `emit` can write exactly.
//!
//! The draws come from their own xoshiro256** stream, `seed ^ fnv1a64("swarm-v1")` expanded by
//! SplitMix64, independent of the run's chooser streams (which the run draws from the same seed).
//!
//! Architecture Invariant: `swarm-v1` is frozen. The regression file pins cases by seed; any
//! change to what or in which order this generator draws must become a new generator
//! (`swarm-v2`), with `swarm-v1` kept so that old seeds keep their meaning.

use std::collections::BTreeMap;

use faasim_model::config::{
    ChildConfig, Config, Edition, GraceSource, IntOrPercent, Method, Mode, OnSigterm, Span, Start,
    WatchdogConfig, WatchdogKind, edition_grace_s,
};
use faasim_model::duration::format_go;
/// Go's Shutdown poll cap plus its jitter, as swarm-v1 was frozen with it.
const POLL_SLACK_NS: Nanos = 550 * NS_PER_MS;
use faasim_model::schedule::{Action, Event};
use faasim_model::time::{NS_PER_MS, NS_PER_S, NS_PER_US, Nanos};

use crate::engine::{Xoshiro256StarStar, fnv1a64};

/// The generator's name, as regression rows and reports spell it.
pub const GENERATOR: &str = "swarm-v1";

/// Simulated-time cap of a swarm run.
pub const LIMIT_NS: Nanos = crate::DEFAULT_LIMIT_NS;

/// Most requests one case sends.
const REQUESTS_MAX: u64 = 1000;

/// One generated case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwarmCase {
    /// The seed it was drawn from; the run uses the same seed for its chooser.
    pub seed: u64,
    /// The features and faults drawn, printable, in draw order.
    pub features: Vec<&'static str>,
    /// The configuration.
    pub config: Config,
    /// The schedule, sorted by time.
    pub events: Vec<Event>,
}

impl SwarmCase {
    /// The features as one space-separated line.
    pub fn feature_line(&self) -> String {
        self.features.join(" ")
    }
}

/// The generator's own random stream.
struct Draw(Xoshiro256StarStar);

impl Draw {
    fn new(seed: u64) -> Draw {
        Draw(Xoshiro256StarStar::seed_from(
            seed ^ fnv1a64(GENERATOR.as_bytes()),
        ))
    }

    /// True with `percent` % chance.
    fn chance(&mut self, percent: u64) -> bool {
        self.0.below(100) < percent
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.0.below(hi - lo + 1)
    }

    fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        u32::try_from(self.range(u64::from(lo), u64::from(hi))).unwrap_or(hi)
    }

    /// One of `weights.len()` options, with the given weights.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.0.below(total.max(1));
        for (index, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// A duration from zero to hours, mostly in the round units people write.
    fn any_duration(&mut self) -> Nanos {
        match self.weighted(&[25, 35, 22, 5, 13]) {
            0 => self.range(0, 1000) * NS_PER_MS,
            1 => self.range(0, 300) * NS_PER_S,
            2 => self.range(0, 120) * 60 * NS_PER_S,
            3 => self.range(0, 3) * 3600 * NS_PER_S,
            _ => self.range(0, 10_000_000) * NS_PER_US,
        }
    }

    /// Slack above a bound: none, up to a second, or up to a minute.
    fn slack(&mut self) -> Nanos {
        match self.weighted(&[20, 50, 30]) {
            0 => 0,
            1 => self.range(1, 1000) * NS_PER_MS,
            _ => self.range(1, 60) * NS_PER_S,
        }
    }

    /// `safe` unless this timer turns out wild (`wild_percent` % of the time).
    fn timer(&mut self, wild_percent: u64, safe: Nanos) -> Nanos {
        if self.chance(wild_percent) {
            self.any_duration()
        } else {
            safe
        }
    }

    /// An instant in `0..=horizon`, on whole seconds half the time.
    fn instant(&mut self, horizon_ns: Nanos) -> Nanos {
        let at = self.range(0, horizon_ns / NS_PER_MS) * NS_PER_MS;
        if self.chance(50) {
            at / NS_PER_S * NS_PER_S
        } else {
            at
        }
    }
}

/// A duration as the environment holds it: bare integer seconds when asked and whole, else Go.
fn env_value(ns: i64, bare: bool) -> String {
    if bare && ns > 0 && ns % NS_PER_S as i64 == 0 {
        (ns / NS_PER_S as i64).to_string()
    } else {
        format_go(ns)
    }
}

/// The case `seed` draws. Deterministic: the same seed gives the same case, on any machine.
pub fn case(seed: u64) -> SwarmCase {
    let mut d = Draw::new(seed);
    let mut features: Vec<&'static str> = Vec::new();
    let on = |flag: bool, name: &'static str, features: &mut Vec<&'static str>| {
        if flag {
            features.push(name);
        }
        flag
    };

    // 1. Which features and faults are on.
    let fixed_wait = on(d.chance(20), "fixed-wait", &mut features);
    let streaming = on(d.chance(30), "streaming", &mut features);
    let child_exits = on(!streaming && d.chance(15), "child-exits", &mut features);
    let child_startup = on(!streaming && d.chance(10), "child-startup", &mut features);
    let env_defaults = on(d.chance(20), "env-defaults", &mut features);
    let bare_integers = on(d.chance(20), "bare-integers", &mut features);
    let hc_nonpositive = on(
        !fixed_wait && !env_defaults && d.chance(5),
        "hc-nonpositive",
        &mut features,
    );
    let exec_off = on(d.chance(15), "exec-off", &mut features);
    let max_inflight = on(d.chance(20), "max-inflight", &mut features);
    let pre_stop = on(d.chance(25), "pre-stop", &mut features);
    let long_lag = on(d.chance(20), "long-lag", &mut features);
    let cold_start = on(d.chance(20), "cold-start", &mut features);
    let slow_startup = on(d.chance(15), "slow-startup", &mut features);
    let long_handler = on(d.chance(15), "long-handler", &mut features);
    let open_loop = d.chance(50);
    features.push(if open_loop {
        "open-loop"
    } else {
        "closed-loop"
    });
    let post = d.chance(50);
    features.push(if post { "post" } else { "get" });
    let no_keep_alive = on(d.chance(15), "no-keep-alive", &mut features);
    let no_scale_from_zero = on(d.chance(10), "no-scale-from-zero", &mut features);
    let no_client_timeout = on(d.chance(15), "no-client-timeout", &mut features);
    let grace_kind = d.weighted(&[40, 30, 30]);
    features.push(["grace-explicit", "edition-pro", "edition-ce"][grace_kind]);
    let wildness = d.weighted(&[40, 20, 20, 20]);
    features.push(
        [
            "timers:safe",
            "timers:few-wild",
            "timers:some-wild",
            "timers:wild",
        ][wildness],
    );
    let wild = [0, 5, 25, 100][wildness];
    let scale_down = on(d.chance(40), "scale-down", &mut features);
    let scale_up = on(d.chance(25), "scale-up", &mut features);
    let scale_to_zero = on(d.chance(20), "scale-to-zero", &mut features);
    let rollout = on(d.chance(40), "rollout", &mut features);
    let drain = on(d.chance(25), "drain", &mut features);
    let crash = on(d.chance(15), "crash", &mut features);
    let many_events = on(d.chance(30), "many-events", &mut features);

    // 2. Magnitudes.
    let mut config = Config::default();
    let handler_hi = if long_handler {
        d.range(60, 1200) * NS_PER_S
    } else if d.chance(60) {
        d.range(1, 2000) * NS_PER_MS
    } else {
        d.range(1, 90) * NS_PER_S
    };
    let handler_lo = if d.chance(30) {
        handler_hi
    } else {
        handler_hi / 100 * d.range(0, 100)
    };
    let (lag_lo, lag_hi) = if long_lag {
        let lo = d.range(0, 5000) * NS_PER_MS;
        (lo, lo + d.range(5, 180) * NS_PER_S)
    } else {
        let lo = d.range(0, 1000) * NS_PER_MS;
        (lo, lo + d.range(0, 2000) * NS_PER_MS)
    };
    let pre_stop_s = if pre_stop { d.range(1, 30) } else { 0 };
    let (startup_lo, startup_hi) = if slow_startup {
        let lo = d.range(0, 30) * NS_PER_S;
        (lo, lo + d.range(0, 150) * NS_PER_S)
    } else {
        let lo = d.range(0, 2000) * NS_PER_MS;
        (lo, lo + d.range(0, 3000) * NS_PER_MS)
    };
    let probe = &mut config.kubernetes.readiness;
    if d.chance(50) {
        probe.initial_delay_s = d.range_u32(0, 5);
        probe.period_s = d.range_u32(1, 5);
        probe.failure_threshold = d.range_u32(1, 3);
        probe.success_threshold = d.range_u32(1, 2);
    }
    let scale_min = if d.chance(5) { 0 } else { d.range_u32(1, 5) };
    let scale_max = if d.chance(80) {
        20
    } else {
        d.range_u32(scale_min.max(1), scale_min + 5)
    };
    let nodes = d.range_u32(1, 4);
    let kube = &mut config.kubernetes;
    if d.chance(30) {
        kube.max_surge = if d.chance(50) {
            IntOrPercent::Int(d.range_u32(0, 3))
        } else {
            IntOrPercent::Percent(d.range_u32(0, 4) * 25)
        };
        kube.max_unavailable = if d.chance(50) {
            IntOrPercent::Int(d.range_u32(0, 2))
        } else {
            IntOrPercent::Percent(d.range_u32(0, 2) * 25)
        };
        let zero = |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
        if zero(kube.max_surge) && zero(kube.max_unavailable) {
            kube.max_surge = IntOrPercent::Int(1);
        }
    }
    kube.nodes = nodes;
    kube.endpoint_lag_ns = Span {
        lo_ns: lag_lo,
        hi_ns: lag_hi,
    };
    kube.pre_stop_sleep_s = pre_stop_s;
    kube.restart_delay_ns = if crash && d.chance(30) {
        d.range(1, 30) * NS_PER_S
    } else {
        0
    };
    config.network.rtt_ns = match d.weighted(&[20, 50, 30]) {
        0 => 0,
        1 => 500 * NS_PER_US,
        _ => d.range(0, 5000) * NS_PER_US,
    };
    let load = &mut config.load;
    if open_loop {
        load.rate_per_s = d.range_u32(1, 50);
        let seconds = d.range(1, 60);
        load.requests = (u64::from(load.rate_per_s) * seconds).min(REQUESTS_MAX);
        load.concurrency = d.range_u32(1, 50);
    } else {
        load.rate_per_s = 0;
        load.concurrency = d.range_u32(1, 20);
        load.requests = u64::from(load.concurrency) * d.range(1, 8);
    }
    load.start_ns = if d.chance(70) {
        0
    } else {
        d.range(0, 10_000) * NS_PER_MS
    };
    load.method = if post { Method::Post } else { Method::Get };
    load.keep_alive = !no_keep_alive;

    let f = &mut config.function;
    f.name = "swarm".to_string();
    f.handler_ns = Span {
        lo_ns: handler_lo,
        hi_ns: handler_hi,
    };
    f.startup_ns = Span {
        lo_ns: startup_lo,
        hi_ns: startup_hi,
    };
    f.start = if cold_start { Start::Cold } else { Start::Warm };
    f.scale_min = scale_min;
    f.scale_max = scale_max;
    let child_startup_ns = if child_startup {
        let lo = d.range(0, 2000) * NS_PER_MS;
        Span {
            lo_ns: lo,
            hi_ns: lo + d.range(0, 8000) * NS_PER_MS,
        }
    } else {
        Span::fixed(0)
    };

    // 3. The schedule, over the time the load runs.
    let handler_mean = (handler_lo + handler_hi) / 2;
    let load_span = if open_loop {
        config.load.requests * NS_PER_S / u64::from(config.load.rate_per_s.max(1))
    } else {
        (config.load.requests / u64::from(config.load.concurrency.max(1))) * handler_mean
    };
    let horizon = (config.load.start_ns + load_span + 5 * NS_PER_S).min(1800 * NS_PER_S);
    let mut drawn: Vec<(Nanos, Action)> = Vec::new();
    let kinds = [
        (scale_down, 0u8),
        (scale_up, 1),
        (scale_to_zero, 2),
        (rollout, 3),
        (drain, 4),
        (crash, 5),
    ];
    for (enabled, kind) in kinds {
        if !enabled {
            continue;
        }
        let count = if many_events { d.range(1, 3) } else { 1 };
        for _ in 0..count {
            let at = d.instant(horizon);
            let action = match kind {
                0 => Action::Scale(d.range_u32(1, scale_min.saturating_sub(1).max(1))),
                1 => Action::Scale(d.range_u32(scale_min + 1, scale_min + 4)),
                2 => Action::Scale(0),
                3 => Action::Rollout,
                4 => Action::DrainNode {
                    notice_ns: 0,
                    node: if d.chance(50) {
                        None
                    } else {
                        Some(d.range_u32(0, nodes - 1))
                    },
                },
                _ => Action::KillPod { pod: None },
            };
            drawn.push((at, action));
        }
    }
    drawn.sort_by_key(|(at, _)| *at);
    let mut events: Vec<Event> = drawn
        .into_iter()
        .map(|(at_ns, action)| Event { at_ns, action })
        .collect();

    // 4. The watchdog's timers, safe or wild, written as the environment.
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
    let exec = if exec_off {
        0
    } else {
        let slack = d.slack();
        d.timer(wild, handler_hi + NS_PER_MS + slack)
    };
    let response = if exec == 0 {
        handler_hi
    } else {
        handler_hi.min(exec)
    };
    let pre_stop_ns = pre_stop_s * NS_PER_S;
    let lag_beyond_pre_stop = lag_hi.saturating_sub(pre_stop_ns);
    let mut write_safe = (response + d.slack()).max(NS_PER_MS);
    if fixed_wait {
        write_safe = write_safe.max(lag_beyond_pre_stop);
    }
    let write = d.timer(wild, write_safe).max(NS_PER_MS);
    let hc: i64 = if hc_nonpositive {
        -(i64::try_from(d.range(0, 10)).unwrap_or(0)) * NS_PER_S as i64
    } else {
        let safe = lag_beyond_pre_stop.max(NS_PER_MS) + d.slack() / 4;
        i64::try_from(d.timer(wild, safe)).unwrap_or(i64::MAX)
    };
    let read = {
        let safe = 5 * NS_PER_S + d.slack();
        d.timer(wild, safe)
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if !env_defaults {
        let w = i64::try_from(write).unwrap_or(i64::MAX);
        let r = i64::try_from(read).unwrap_or(i64::MAX);
        env.insert("write_timeout".to_string(), env_value(w, bare_integers));
        env.insert("read_timeout".to_string(), env_value(r, bare_integers));
        env.insert(
            "healthcheck_interval".to_string(),
            env_value(hc, bare_integers),
        );
    }
    let e = i64::try_from(exec).unwrap_or(i64::MAX);
    env.insert("exec_timeout".to_string(), env_value(e, bare_integers));
    let (watchdog, _) = WatchdogConfig::from_env(&env, kind, mode)
        .unwrap_or_else(|_| (WatchdogConfig::default(), Vec::new()));
    config.function.watchdog = watchdog;
    let on_sigterm = if child_exits {
        OnSigterm::Exit
    } else {
        OnSigterm::Drain
    };
    config.function.child = ChildConfig::from_env(&env, on_sigterm, child_startup_ns);
    let response = derive(&config, &events).response_max_ns;

    // 5. The timers around the pod, which depend on the cold starts the schedule can cause.
    let hold = derive(&config, &events).hold_max_ns;
    let g = &mut config.gateway;
    let slack = d.slack();
    g.upstream_timeout_ns = d.timer(wild, response + NS_PER_MS + slack);
    g.scale_from_zero = !no_scale_from_zero;
    let slack = d.slack();
    let provider_read = d.timer(wild, response + NS_PER_MS + slack);
    let slack = d.slack();
    let provider_write = d.timer(wild, response + slack);
    let slack = d.slack();
    g.write_timeout_ns = d.timer(wild, hold + response + slack);
    g.read_timeout_ns = g.write_timeout_ns;
    config.provider.read_timeout_ns = provider_read;
    config.provider.write_timeout_ns = provider_write;
    config.load.timeout_ns = if no_client_timeout {
        0
    } else {
        let slack = d.slack();
        d.timer(wild, hold + response + NS_PER_MS + slack)
    };
    let derived = derive(&config, &events);
    if max_inflight {
        let peak = u32::try_from(derived.peak_concurrency.max(1)).unwrap_or(u32::MAX);
        config.function.watchdog.max_inflight = if d.chance(wild) {
            d.range_u32(1, peak)
        } else {
            peak
        };
    }
    let (grace_s, grace_source, edition) = match grace_kind {
        0 => {
            let exit = derived.exit_ns.unwrap_or(0);
            let safe = exit.max(derived.last_end_ns) + POLL_SLACK_NS + NS_PER_MS + d.slack() / 2;
            let grace_ns = d.timer(wild, safe);
            let grace_s = grace_ns.div_ceil(NS_PER_S).min(4 * 3600);
            let grace_s = if grace_ns == safe {
                grace_s.max(pre_stop_s + 1)
            } else {
                grace_s
            };
            (grace_s, GraceSource::Explicit, Edition::Pro)
        }
        1 => {
            let (grace_s, source, _) = edition_grace_s(Edition::Pro, &env);
            (grace_s, source, Edition::Pro)
        }
        _ => {
            let (grace_s, source, _) = edition_grace_s(Edition::Ce, &env);
            (grace_s, source, Edition::Ce)
        }
    };
    config.kubernetes.grace_s = grace_s;
    config.kubernetes.grace_source = grace_source;
    config.kubernetes.edition = edition;
    let exit = derive(&config, &events).exit_ns.unwrap_or(0);
    for event in &mut events {
        if let Action::DrainNode { notice_ns, .. } = &mut event.action {
            let slack = d.slack();
            *notice_ns = d.timer(wild, exit + NS_PER_S + slack);
        }
    }

    SwarmCase {
        seed,
        features,
        config,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit;
    use crate::scenario::parse;

    #[test]
    fn the_same_seed_draws_the_same_case() {
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(case(seed), case(seed));
        }
        assert_ne!(case(1).config, case(2).config);
    }

    #[test]
    fn every_case_is_a_scenario_file_that_reads_back_the_same() {
        for seed in 0..300 {
            let case = case(seed);
            let meta = emit::Meta {
                name: format!("swarm-v1 seed {seed}"),
                seed: Some(seed),
                limit_ns: Some(LIMIT_NS),
                comments: vec![case.feature_line()],
            };
            let emitted = emit::scenario(&meta, &case.config, &case.events);
            assert!(
                emitted.is_exact(),
                "seed {seed}: {:?}",
                emitted.approximations
            );
            let back = parse(&emitted.yaml, "swarm.yaml")
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", emitted.yaml));
            assert_eq!(back.config, case.config, "seed {seed}\n{}", emitted.yaml);
            assert_eq!(back.events, case.events, "seed {seed}");
        }
    }

    #[test]
    fn features_vary_across_seeds() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            seen.extend(case(seed).features);
        }
        for name in [
            "fixed-wait",
            "streaming",
            "child-exits",
            "max-inflight",
            "pre-stop",
            "long-lag",
            "cold-start",
            "open-loop",
            "closed-loop",
            "post",
            "get",
            "scale-down",
            "scale-to-zero",
            "rollout",
            "drain",
            "crash",
            "timers:safe",
            "timers:wild",
        ] {
            assert!(seen.contains(name), "no seed drew {name}");
        }
    }
}

// ---------------------------------------------------------------- frozen bounds

// swarm-v1 builds its "safe" timers from the rules' derived quantities. The rules keep
// improving, so the generator keeps its own copy, frozen with it: the same seed draws the same
// case for ever (a change here is swarm-v2).

#[allow(dead_code)]
/// Quantities derived from a configuration and schedule that the rules compare.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Derived {
    /// Longest handler.
    handler_max_ns: Nanos,
    /// Longest time from the watchdog accepting to its answer: min(D_max, E).
    response_max_ns: Nanos,
    /// Longest endpoint propagation delay.
    lag_max_ns: Nanos,
    /// Longest cold start until the gateway sees the replica, when requests can be held.
    hold_max_ns: Nanos,
    /// Requests can find the view empty (cold start, scale to zero, drains, crashes).
    view_can_empty: bool,
    /// A rollout may take every replica down at once (maxUnavailable reaches the replicas).
    rollout_empties: bool,
    /// From deletion to SIGTERM.
    sigterm_ns: Nanos,
    /// From deletion to SIGKILL.
    sigkill_ns: Nanos,
    /// From deletion to the watchdog closing its listener (`None`: never).
    close_ns: Option<Nanos>,
    /// From deletion to the last request routed to the pod ending.
    last_end_ns: Nanos,
    /// From deletion to the watchdog exiting (`None`: never on its own).
    exit_ns: Option<Nanos>,
    /// Peak concurrent requests the load can put on one pod.
    peak_concurrency: u64,
}

/// `rules::derive` as it stood when swarm-v1 was frozen: its draws must never change.
fn derive(config: &Config, events: &[Event]) -> Derived {
    let f = &config.function;
    let k = &config.kubernetes;
    let handler_max_ns = f.handler_ns.hi_ns;
    let exec = f.watchdog.exec_timeout_ns;
    let response_max_ns = if exec == 0 {
        handler_max_ns
    } else {
        handler_max_ns.min(exec)
    };
    let lag_max_ns = k.endpoint_lag_ns.hi_ns;
    let scales_to_zero = events.iter().any(|e| matches!(e.action, Action::Scale(0)));
    let replicas = f.scale_min;
    let drains = events
        .iter()
        .any(|e| matches!(e.action, Action::DrainNode { .. }));
    let crashes = events
        .iter()
        .any(|e| matches!(e.action, Action::KillPod { .. }));
    // A rollout allowed to take every replica down at once empties the view too.
    let desired_values =
        std::iter::once(replicas).chain(events.iter().filter_map(|e| match e.action {
            Action::Scale(n) if n > 0 => Some(n),
            _ => None,
        }));
    let rollout_empties = events.iter().any(|e| matches!(e.action, Action::Rollout))
        && desired_values
            .into_iter()
            .any(|n| k.max_unavailable.resolve(n, false) >= n);
    // A drain or crash combined with a scale-down can take every routed pod at once, so any
    // of them may leave requests waiting for a cold start.
    let view_can_empty = f.start == Start::Cold
        || replicas == 0
        || scales_to_zero
        || drains
        || crashes
        || rollout_empties;
    let child_start_ns = if f.watchdog.mode == Mode::Http {
        f.child.startup_ns.hi_ns
    } else {
        0
    };
    let probe_ns = u64::from(k.readiness.initial_delay_s) * NS_PER_S;
    // Ready after successThreshold passing probes, the first at initialDelaySeconds.
    let extra_probes_ns = u64::from(k.readiness.success_threshold.saturating_sub(1))
        * u64::from(k.readiness.period_s)
        * NS_PER_S;
    let ready_ns =
        f.startup_ns.hi_ns + probe_ns.max(child_start_ns.min(probe_ns)) + extra_probes_ns;
    // A crashed container waits restartDelay before it starts again.
    let restart_ns = if crashes { k.restart_delay_ns } else { 0 };
    let hold_max_ns = if view_can_empty {
        ready_ns + restart_ns + lag_max_ns + config.gateway.poll_interval_ns
    } else {
        0
    };
    let pre_stop_ns = k.pre_stop_sleep_s * NS_PER_S;
    let grace_ns = k.grace_s * NS_PER_S;
    let sigterm_ns = pre_stop_ns.min(grace_ns);
    let sigkill_ns = if pre_stop_ns >= grace_ns && grace_ns > 0 {
        grace_ns + 2 * NS_PER_S
    } else {
        grace_ns
    };
    let wait_ns = match f.watchdog.kind {
        WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
            u64::try_from(f.watchdog.healthcheck_interval_ns)
                .ok()
                .filter(|w| *w > 0)
        }
        WatchdogKind::FixedWait => Some(f.watchdog.write_timeout_ns),
    };
    let close_ns = wait_ns.map(|w| sigterm_ns + w);
    let last_accept_ns = match close_ns {
        Some(close) => lag_max_ns.min(close),
        None => lag_max_ns,
    };
    let last_end_ns = last_accept_ns + response_max_ns;
    let exit_ns = close_ns.map(|close| {
        let drained = if last_end_ns <= close {
            close
        } else {
            last_end_ns + POLL_SLACK_NS
        };
        match f.watchdog.kind {
            // Shutdown returns at its deadline even when the last connection ended between
            // two polls.
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                drained.min(close + f.watchdog.write_timeout_ns)
            }
            WatchdogKind::FixedWait => drained + f.watchdog.write_timeout_ns,
        }
    });
    let load = &config.load;
    let peak_concurrency = if load.rate_per_s == 0 {
        u64::from(load.concurrency)
    } else {
        let window = u128::from(hold_max_ns + response_max_ns) * u128::from(load.rate_per_s);
        (window.div_ceil(u128::from(NS_PER_S)) as u64 + 1).min(load.requests)
    };
    Derived {
        handler_max_ns,
        response_max_ns,
        lag_max_ns,
        hold_max_ns,
        view_can_empty,
        rollout_empties,
        sigterm_ns,
        sigkill_ns,
        close_ns,
        last_end_ns,
        exit_ns,
        peak_concurrency,
    }
}
