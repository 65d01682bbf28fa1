//! Finding and proving breaches: for each function, the rules its effective configuration breaks
//! under the changes every function meets (a rolling update; a scale to zero when it can scale
//! to zero), a simulated run that shows each failure (a witness), and the smallest safe value
//! found by searching with the simulator, set beside the value the inequality gives.
//!
//! A breach no witness run shows is not reported: every finding carries its counterexample.
//! Its severity is what that run shows: a request lost (dropped, refused, cut by a timer) is an
//! error, a pod killed with nothing in flight a warning. The fix is one the function's edition
//! lets its user apply (`edition.rs`): on CE, never the grace period, a preStop hook or the
//! probe, which faas-netes sets itself.
//!
//! When the inputs configure the CE queue-worker (`queueWorker.ackWait`, or `ack_wait` in its
//! Deployment), each function is judged on the asynchronous path too: `ce-ack-wait-covers-call`,
//! whose witness is an asynchronous run (`load.async: true`) in which the call runs again. On
//! Pro, when the files write the Pro queue-worker's values (`queueWorkerPro.*`,
//! `queueWorker.replicas`) or the function's retry annotations (`com.openfaas.retry.*`), the
//! same for `pro-upstream-covers-call`: the chart's Pro worker times each attempt with
//! `gateway.upstreamTimeout`, and a witness shows the call cut and run again.

use faasim_model::config::{
    AsyncConfig, Config, Edition, IngressConfig, Method, Mode, Span, Start, WatchdogKind,
};
use faasim_model::duration::format_go;
use faasim_model::ledger::{Outcome, Status};
use faasim_model::limits;
use faasim_model::rules::{self, Breach, Rule};
use faasim_model::schedule::{Action, Event};
use faasim_model::template;
use faasim_model::time::{NS_PER_MS, NS_PER_S, Nanos, stamp};

use super::{
    Counterexample, Finding, FunctionInput, Location, Origin, Report, SafeValue, Severity,
};
use faasim_sim::emit::{self, Meta};
use faasim_sim::{Run, simulate};

mod edition;
mod queue_worker;

use queue_worker::{PRO_WITNESS_ATTEMPTS, pro_queue_worker, queue_worker};

/// What the files cannot say, set by flags.
#[derive(Clone, Debug)]
pub struct Options {
    /// Concurrent callers in the witness runs (hey `-c`), 5 as in the seed article.
    pub concurrency: u32,
    /// Longest handler; default just under exec_timeout (or write_timeout when exec_timeout is 0),
    /// the longest the watchdog lets a call run.
    pub max_duration_ns: Option<Nanos>,
    /// The clients' timeout, when known; unknown skips the client rule.
    pub client_timeout_ns: Option<Nanos>,
    /// Method of the callers: POST (never retried) unless told.
    pub method: Method,
    /// Rules not to report.
    pub ignore: Vec<String>,
    /// Seed of the witness runs.
    pub seed: u64,
    /// Search the smallest safe value with the simulator.
    pub search: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 5,
            max_duration_ns: None,
            client_timeout_ns: None,
            method: Method::Post,
            ignore: Vec::new(),
            seed: 1,
            search: true,
        }
    }
}

/// When the witness runs change the deployment.
const DISRUPTION_AT_NS: Nanos = NS_PER_S;

/// What `check` assumes of the handler's duration when `--max-duration` does not say, in
/// words (for `explain --function` and the docs).
pub const LONGEST_HANDLER_ASSUMPTION: &str = "just under exec_timeout (write_timeout when \
     exec_timeout is 0): the longest call that can still succeed, as check assumes; \
     --max-duration says otherwise";

/// The configuration the rules judge: the function's, with the load and handler the files
/// cannot say.
pub fn judged_config(input: &FunctionInput, options: &Options) -> Config {
    let mut config = input.config.clone();
    let w = &config.function.watchdog;
    let longest = options.max_duration_ns.unwrap_or(if w.exec_timeout_ns > 0 {
        w.exec_timeout_ns.saturating_sub(NS_PER_MS).max(1)
    } else {
        w.write_timeout_ns
    });
    config.function.handler_ns = Span::fixed(longest);
    // Never simulate more replicas than the bounds allow or faasim's limit: a minimum above
    // the maximum, or of thousands, is an input finding (`scale-min-above-max`,
    // `replicas-over-limit`), and its runs would take minutes.
    let f = &mut config.function;
    f.scale_max = f.scale_max.min(limits::REPLICAS_MAX);
    f.scale_min = f.scale_min.min(f.scale_max);
    config.load.method = options.method;
    config.load.concurrency = options.concurrency.max(1);
    config.load.requests = u64::from(config.load.concurrency) * 2;
    config.load.rate_per_s = 0;
    config.load.timeout_ns = options.client_timeout_ns.unwrap_or(0);
    config
}

/// The changes every function meets: a rolling update, a scale to zero when it can, and on
/// CE the `helm upgrade` that rolls the gateway (the Pro gateway's shutdown is not public, so
/// it is not judged there).
pub fn judged_events(config: &Config, input: &FunctionInput) -> Vec<Event> {
    let mut events = vec![Event {
        at_ns: DISRUPTION_AT_NS,
        action: Action::Rollout,
    }];
    if config.kubernetes.edition == Edition::Ce {
        events.push(Event {
            at_ns: DISRUPTION_AT_NS,
            action: Action::RolloutGateway,
        });
    }
    let scales_to_zero = config.function.scale_min == 0
        || input
            .provenance
            .iter()
            .any(|p| p.key == "function.labels.com.openfaas.scale.zero" && p.value == "true");
    if scales_to_zero {
        events.push(Event {
            at_ns: 10 * 60 * NS_PER_S,
            action: Action::Scale(0),
        });
    }
    events
}

fn go(ns: Nanos) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

/// The key a rule's fix changes.
fn fix_key(rule: &Rule) -> &'static str {
    match rule.id {
        "handler-within-exec" => "function.environment.exec_timeout",
        "exec-within-write" | "handler-within-child-write" => "function.environment.write_timeout",
        "exec-within-upstream" => "gateway.upstreamTimeout",
        "exec-within-provider-timeout" => "faasnetes.readTimeout",
        "exec-within-provider-write" => "faasnetes.writeTimeout",
        "gateway-write-covers-response" => "gateway.writeTimeout",
        "ingress-read-covers-response" => "ingress.readTimeout",
        "client-timeout-covers-response" => "load.timeout",
        "max-inflight-covers-load" => "function.environment.max_inflight",
        "scale-from-zero-enabled" => "gateway.scaleFromZero",
        "cold-start-within-gateway-hold" => "function.startup",
        "healthcheck-covers-endpoint-lag"
        | "healthcheck-interval-positive"
        | "child-listens-while-routed" => "function.environment.healthcheck_interval",
        "grace-covers-drain" | "fixed-wait-grace" => "kubernetes.terminationGracePeriodSeconds",
        "gateway-drains-on-rollout" => "gateway.replicas",
        "child-ready-before-routing" => "kubernetes.readinessProbe.initialDelaySeconds",
        "provider-idle-below-watchdog-idle" => "function.environment.read_timeout",
        "child-drains-on-sigterm" => "function.upstream.onSigterm",
        "ce-ack-wait-covers-call" => "queueWorker.ackWait",
        "pro-upstream-covers-call" => "gateway.upstreamTimeout",
        "spot-notice-covers-drain"
        | "schedulable-node-remains"
        | "no-disruption-during-cold-start" => "events",
        _ => "",
    }
}

fn location_of(input: &FunctionInput, key: &str) -> Option<Location> {
    let found = match &input.origin(key)?.origin {
        Origin::File(location) => Some(location.clone()),
        Origin::Fallback { location, .. } => Some(location.clone()),
        _ => None,
    };
    // The chart passes the gateway's timeouts to faas-netes when its own are empty: the value
    // to change is then the gateway's.
    found.or_else(|| match key {
        "faasnetes.readTimeout" => location_of(input, "gateway.readTimeout"),
        "faasnetes.writeTimeout" => location_of(input, "gateway.writeTimeout"),
        _ => None,
    })
}

/// The load and schedule that show a rule's failure on this configuration.
fn witness(rule: &str, config: &Config) -> Option<(Config, Vec<Event>)> {
    let mut config = config.clone();
    // The worst the propagation can be, every time.
    config.kubernetes.endpoint_lag_ns = Span::fixed(config.kubernetes.endpoint_lag_ns.hi_ns);
    // The kubelet's prober pinned where its first probe comes right at initialDelaySeconds (the
    // container starts that long before a tick): the earliest a new pod is routed, which the
    // timings below count on.
    let probe = config.kubernetes.readiness;
    let period_ns = u64::from(probe.period_s.max(1)) * NS_PER_S;
    let delay_ns = u64::from(probe.initial_delay_s) * NS_PER_S;
    config.kubernetes.readiness_phase_ns =
        Some(Span::fixed((period_ns - delay_ns % period_ns) % period_ns));
    let c = config.load.concurrency.max(1);
    let closed = |config: &mut Config, requests: u64| {
        config.load.rate_per_s = 0;
        config.load.requests = requests;
    };
    let events = match rule {
        "handler-within-exec"
        | "exec-within-write"
        | "handler-within-child-write"
        | "exec-within-upstream"
        | "exec-within-provider-timeout"
        | "exec-within-provider-write"
        | "gateway-write-covers-response"
        | "ingress-read-covers-response"
        | "client-timeout-covers-response" => {
            closed(&mut config, u64::from(c));
            Vec::new()
        }
        "gateway-drains-on-rollout" => {
            // Each worker sends one call timed to be in flight when the old gateway pod gets
            // SIGTERM: the instant its replacement is ready (its first readiness probe after
            // its start-up), half the call (and two round trips for the way there) before.
            let g = &config.gateway;
            let period_ns = g.readiness_period_ns.max(1);
            let sigterm_ns = DISRUPTION_AT_NS + g.startup_ns.div_ceil(period_ns) * period_ns;
            let lead_ns = config.function.handler_ns.hi_ns / 2 + 2 * config.network.rtt_ns;
            closed(&mut config, u64::from(c));
            config.load.start_ns = sigterm_ns.saturating_sub(lead_ns);
            vec![Event {
                at_ns: DISRUPTION_AT_NS,
                action: Action::RolloutGateway,
            }]
        }
        "max-inflight-covers-load" => {
            config.function.scale_min = 1;
            let workers = config.function.watchdog.max_inflight + 1;
            config.load.concurrency = workers;
            closed(&mut config, u64::from(workers));
            Vec::new()
        }
        "scale-from-zero-enabled" | "cold-start-within-gateway-hold" => {
            config.function.start = Start::Cold;
            closed(&mut config, u64::from(c));
            Vec::new()
        }
        "healthcheck-covers-endpoint-lag"
        | "child-listens-while-routed"
        | "child-ready-before-routing" => {
            // Steady traffic through the change, short calls so that new ones keep arriving.
            config.function.scale_min = config.function.scale_min.max(2);
            config.function.handler_ns = Span::fixed(100 * NS_PER_MS);
            config.load.rate_per_s = 20;
            config.load.start_ns = 10 * NS_PER_MS;
            let lag = config.kubernetes.endpoint_lag_ns.hi_ns;
            let startup = config.function.startup_ns.hi_ns + config.function.child.startup_ns.hi_ns;
            let busy_s = (DISRUPTION_AT_NS + lag + startup) / NS_PER_S + 40;
            config.load.requests = 20 * busy_s;
            vec![Event {
                at_ns: DISRUPTION_AT_NS,
                action: Action::Rollout,
            }]
        }
        "child-drains-on-sigterm" => {
            // Calls in flight when the old pod is deleted: the child's death at SIGTERM takes
            // the watchdog, and them, with it.
            closed(&mut config, u64::from(c));
            config.load.start_ns = 10 * NS_PER_MS;
            vec![Event {
                at_ns: DISRUPTION_AT_NS,
                action: Action::Rollout,
            }]
        }
        "healthcheck-interval-positive" | "grace-covers-drain" | "fixed-wait-grace" => {
            // The worst case: a wave of calls reaches the old pod just before the provider's
            // view drops it, so the last of them ends as late as a call can. The old pod is
            // deleted when its replacement is ready.
            closed(&mut config, u64::from(c) * 2);
            let probe = &config.kubernetes.readiness;
            let ready_ns = config.function.startup_ns.hi_ns
                + config.kubernetes.first_probe_ns().hi_ns
                + u64::from(probe.success_threshold.saturating_sub(1))
                    * u64::from(probe.period_s)
                    * NS_PER_S;
            let lag = config.kubernetes.endpoint_lag_ns.hi_ns;
            config.load.start_ns = (DISRUPTION_AT_NS + ready_ns + lag).saturating_sub(NS_PER_MS);
            vec![Event {
                at_ns: DISRUPTION_AT_NS,
                action: Action::Rollout,
            }]
        }
        "ce-ack-wait-covers-call" => {
            // One asynchronous call, no callback receiver (the files cannot say there is one),
            // on the one CE worker: held longer than ack_wait, NATS Streaming redelivers it
            // and the worker runs it again after the first run.
            config.asynchronous.get_or_insert_with(AsyncConfig::default);
            closed(&mut config, 1);
            config.load.concurrency = 1;
            Vec::new()
        }
        "pro-upstream-covers-call" => {
            // One asynchronous call on the Pro worker: each attempt is cut by its timeout and
            // retried. Three attempts show the repeats; the files' budget (100 by default)
            // would only make the run longer.
            if let Some(path) = &mut config.asynchronous {
                let worker = &mut path.queue_worker;
                worker.max_retry_attempts = worker.max_retry_attempts.min(PRO_WITNESS_ATTEMPTS);
            }
            closed(&mut config, 1);
            config.load.concurrency = 1;
            Vec::new()
        }
        "provider-idle-below-watchdog-idle" => {
            // One call a second. After a call that dialled, the next reaches the pod one hop
            // after the watchdog's idle timeout closed the connection, before the FIN is back
            // at the provider: a race. Only possible when that timeout is under a second.
            let idle = config.function.watchdog.read_timeout_ns;
            let rtt = config.network.rtt_ns.max(2 * NS_PER_MS);
            let hop = rtt / 2;
            if idle + 3 * hop >= NS_PER_S {
                return None;
            }
            config.network.rtt_ns = rtt;
            config.function.scale_min = 1;
            config.function.watchdog.mode = Mode::Streaming;
            // The pod sees 1 s − handler − 2 hops of idle after a dialled call: idle + 1 hop.
            config.function.handler_ns = Span::fixed(NS_PER_S - idle - 3 * hop);
            config.load.method = Method::Post;
            config.load.rate_per_s = 1;
            config.load.requests = 6;
            Vec::new()
        }
        _ => return None,
    };
    Some((config, events))
}

fn run_witness(config: &Config, events: &[Event], seed: u64) -> Run {
    simulate(config, events, faasim_sim::DEFAULT_LIMIT_NS, seed, true)
}

fn status_text(status: Option<Status>) -> String {
    match status {
        Some(Status::Code(code)) => code.to_string(),
        Some(Status::Error) => "an error with no status".to_string(),
        None => "no answer".to_string(),
    }
}

/// A request the caller lost: dropped in flight, refused, cut by a timer, or an asynchronous
/// call never run to its end. Turned away by design (429, 503) is not lost: the caller was
/// told to come back; an asynchronous call run twice is not lost either.
fn lost(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Dropped | Outcome::Refused | Outcome::TimedOut | Outcome::Lost
    )
}

/// The witness run of `rule` as a counterexample, when the run shows the rule's property
/// violated (`None` otherwise), and whether a request was lost in it.
fn counterexample(
    name: &str,
    rule: &Rule,
    config: &Config,
    events: &[Event],
    seed: u64,
) -> Option<(Counterexample, bool)> {
    let run = run_witness(config, events, seed);
    let violated: Vec<String> = run
        .violations
        .iter()
        .map(|v| v.property.name().to_string())
        .collect();
    if !violated.iter().any(|p| p == rule.property.name()) {
        return None;
    }
    let statuses: Vec<(String, u64)> = faasim_sim::report::status_counts(&run)
        .into_iter()
        .collect();
    let ledger = &run.result.ledger;
    let any_lost = ledger.iter().any(|r| lost(r.outcome));
    // Show a lost request first: it is what makes the finding an error.
    let failing = ledger.iter().find(|r| lost(r.outcome)).or_else(|| {
        ledger
            .iter()
            .find(|r| r.outcome != Outcome::Ok && r.outcome != Outcome::Unfinished)
    });
    let saw = match failing {
        Some(record) => {
            let pod = record
                .pod
                .and_then(|p| run.result.pods.get(p as usize))
                .map(|p| p.name.clone());
            // An asynchronous call: how many times its handler ran.
            let runs = run
                .result
                .invocations
                .as_ref()
                .and_then(|i| i.get(record.id as usize))
                .map(|i| format!(", run {} times", i.executions))
                .unwrap_or_default();
            format!(
                "request {} sent at {} got {} at {} ({}, {}{}{runs})",
                record.id,
                stamp(record.start_ns),
                status_text(record.status),
                stamp(record.end_ns.unwrap_or(0)),
                record.outcome.name(),
                record.cause.map_or("-", |c| c.name()),
                pod.map(|p| format!(", pod {p}")).unwrap_or_default()
            )
        }
        None => {
            let pods: Vec<String> = run
                .violations
                .iter()
                .flat_map(|v| v.pods.iter().cloned())
                .collect();
            let ends: Vec<String> = run
                .result
                .pods
                .iter()
                .filter(|p| pods.contains(&p.name))
                .map(|p| {
                    format!(
                        "pod {} {} at {}",
                        p.name,
                        p.end.name(),
                        stamp(p.end_ns.unwrap_or(0))
                    )
                })
                .collect();
            ends.join(", ")
        }
    };
    let meta = Meta {
        name: format!("faasim check: {name} breaks {}", rule.id),
        seed: Some(seed),
        limit_ns: None,
        comments: vec![
            format!(
                "Counterexample for rule {} on function {name}, written by faasim check.",
                rule.id
            ),
            format!("Run it: faasim run FILE  (seed {seed})"),
        ],
    };
    let scenario_yaml = emit::scenario(&meta, config, events).yaml;
    Some((
        Counterexample {
            scenario_yaml,
            seed,
            saw,
            statuses,
            violated,
        },
        any_lost,
    ))
}

/// A value of the key the search moves, in its natural unit.
#[derive(Clone, Copy)]
enum Knob {
    DurationNs(fn(&mut Config) -> &mut u64),
    /// `gateway.upstreamTimeout`, which the chart's Pro queue-worker also reads as its own
    /// `upstream_timeout` (faas-netes@662ce9ce `templates/queueworker-dep.yaml`): both move.
    ProUpstreamNs,
    HealthcheckNs,
    GraceS,
    Count(fn(&mut Config) -> &mut u32),
}

/// Which inequality of `child-listens-while-routed` a configuration breaks: the child closes
/// its listener while the watchdog still accepts (calls refused), or the child's `Shutdown`
/// deadline ends before the last call routed to the pod does (calls cut). Each has its own
/// witness and its own value to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChildPart {
    /// The child closes first: its healthcheck_interval is too short.
    Closes,
    /// The child's drain deadline is too early: its write_timeout is too short.
    Deadline,
}

fn child_part(config: &Config, events: &[Event]) -> ChildPart {
    let d = rules::derive(config, events);
    let last_accept = d
        .close_ns
        .map_or(d.routed_arrival_max_ns, |c| c.min(d.routed_arrival_max_ns));
    let child = &config.function.child;
    let child_wait = match config.function.watchdog.kind {
        // The classic watchdog forks per request and has no child server; its drain mirrors
        // of-watchdog's, so the same wait stands in.
        WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
            u64::try_from(child.healthcheck_interval_ns).unwrap_or(0)
        }
        WatchdogKind::FixedWait => child.write_timeout_ns,
    };
    if last_accept > d.sigterm_ns + child_wait {
        ChildPart::Closes
    } else {
        ChildPart::Deadline
    }
}

/// The rule whose witness shows `rule`'s failure on this configuration: its own, except for
/// the child's drain deadline, which the wave of long calls of the grace witness shows.
fn witness_rule(rule: &Rule, config: &Config, events: &[Event]) -> &'static str {
    if rule == &rules::CHILD_LISTENS_WHILE_ROUTED
        && child_part(config, events) == ChildPart::Deadline
    {
        rules::GRACE_COVERS_DRAIN.id
    } else {
        rule.id
    }
}

/// The value the search moves for `rule` on this configuration.
fn knob_of(rule: &Rule, config: &Config, events: &[Event]) -> Option<Knob> {
    if rule == &rules::CHILD_LISTENS_WHILE_ROUTED {
        return Some(match child_part(config, events) {
            ChildPart::Closes => Knob::HealthcheckNs,
            // The child reads write_timeout from the function's environment.
            ChildPart::Deadline => Knob::DurationNs(|c| &mut c.function.child.write_timeout_ns),
        });
    }
    knob_for(rule.id)
}

/// The key `rule`'s fix changes on this configuration.
fn key_of(rule: &Rule, config: &Config, events: &[Event]) -> &'static str {
    if rule == &rules::CHILD_LISTENS_WHILE_ROUTED
        && child_part(config, events) == ChildPart::Deadline
    {
        return "function.environment.write_timeout";
    }
    fix_key(rule)
}

fn knob_for(rule: &str) -> Option<Knob> {
    Some(match rule {
        "handler-within-exec" => Knob::DurationNs(|c| &mut c.function.watchdog.exec_timeout_ns),
        "exec-within-write" => Knob::DurationNs(|c| &mut c.function.watchdog.write_timeout_ns),
        "handler-within-child-write" => {
            Knob::DurationNs(|c| &mut c.function.child.write_timeout_ns)
        }
        "exec-within-upstream" => Knob::DurationNs(|c| &mut c.gateway.upstream_timeout_ns),
        "exec-within-provider-timeout" => Knob::DurationNs(|c| &mut c.provider.read_timeout_ns),
        "exec-within-provider-write" => Knob::DurationNs(|c| &mut c.provider.write_timeout_ns),
        "gateway-write-covers-response" => Knob::DurationNs(|c| &mut c.gateway.write_timeout_ns),
        "ingress-read-covers-response" => Knob::DurationNs(|c| {
            &mut c
                .ingress
                .get_or_insert_with(IngressConfig::default)
                .read_timeout_ns
        }),
        "client-timeout-covers-response" => Knob::DurationNs(|c| &mut c.load.timeout_ns),
        "provider-idle-below-watchdog-idle" => {
            Knob::DurationNs(|c| &mut c.function.watchdog.read_timeout_ns)
        }
        "healthcheck-covers-endpoint-lag" => Knob::HealthcheckNs,
        "grace-covers-drain" | "fixed-wait-grace" => Knob::GraceS,
        "max-inflight-covers-load" => Knob::Count(|c| &mut c.function.watchdog.max_inflight),
        "ce-ack-wait-covers-call" => Knob::DurationNs(|c| {
            &mut c
                .asynchronous
                .get_or_insert_with(AsyncConfig::default)
                .queue_worker
                .ack_wait_ns
        }),
        "pro-upstream-covers-call" => Knob::ProUpstreamNs,
        _ => return None,
    })
}

fn set(config: &mut Config, knob: Knob, value: u64) {
    match knob {
        Knob::DurationNs(field) => *field(config) = value,
        Knob::ProUpstreamNs => {
            config.gateway.upstream_timeout_ns = value;
            if let Some(path) = &mut config.asynchronous {
                path.queue_worker.upstream_timeout_ns = value;
            }
        }
        Knob::HealthcheckNs => {
            let ns = i64::try_from(value).unwrap_or(i64::MAX);
            config.function.watchdog.healthcheck_interval_ns = ns;
            // The child reads the same variable.
            config.function.child.healthcheck_interval_ns = ns;
        }
        Knob::GraceS => config.kubernetes.grace_s = value,
        Knob::Count(field) => *field(config) = u32::try_from(value).unwrap_or(u32::MAX),
    }
}

/// A value as a user writes it: durations rounded up to a whole second (the search runs in
/// milliseconds; nobody writes `1m59.999s`).
fn show(knob: Knob, value: u64) -> String {
    match knob {
        Knob::DurationNs(_) | Knob::HealthcheckNs | Knob::ProUpstreamNs => {
            go(value.div_ceil(NS_PER_S) * NS_PER_S)
        }
        Knob::GraceS | Knob::Count(_) => value.to_string(),
    }
}

fn step(knob: Knob) -> u64 {
    match knob {
        Knob::DurationNs(_) | Knob::HealthcheckNs | Knob::ProUpstreamNs => NS_PER_MS,
        Knob::GraceS | Knob::Count(_) => 1,
    }
}

/// The smallest value of `knob` with which the rule holds (the inequality's), found upward
/// from `from` in the knob's unit by doubling then bisection on `holds`.
fn smallest(from: u64, unit: u64, holds: &dyn Fn(u64) -> bool) -> Option<u64> {
    let mut low = from;
    let mut high = from.max(unit);
    let mut tries = 0;
    while !holds(high) {
        low = high;
        high = high.saturating_mul(2);
        tries += 1;
        if tries > 60 {
            return None;
        }
    }
    // holds(high), !holds(low) unless low == from and it holds.
    if holds(low) {
        return Some(low);
    }
    while high - low > unit {
        let mid = low + (high - low) / 2 / unit * unit;
        let mid = if mid == low { low + unit } else { mid };
        if holds(mid) { high = mid } else { low = mid }
    }
    Some(high)
}

/// The smallest value of a rule's knob that satisfies its inequality.
fn smallest_by_rule(rule: &Rule, config: &Config, events: &[Event]) -> Option<(Knob, u64)> {
    let knob = knob_of(rule, config, events)?;
    let unit = step(knob);
    let start = current(knob, config).max(unit);
    let value = smallest(start, unit, &|value| {
        let mut c = config.clone();
        set(&mut c, knob, value);
        !rules::check(&c, events).iter().any(|b| b.rule == rule)
    })?;
    Some((knob, value))
}

fn current(knob: Knob, config: &Config) -> u64 {
    let mut tmp = config.clone();
    match knob {
        Knob::DurationNs(field) => *field(&mut tmp),
        Knob::ProUpstreamNs => config
            .asynchronous
            .as_ref()
            .map_or(config.gateway.upstream_timeout_ns, |a| {
                a.queue_worker.upstream_timeout_ns
            }),
        Knob::HealthcheckNs => {
            u64::try_from(config.function.watchdog.healthcheck_interval_ns).unwrap_or(0)
        }
        Knob::GraceS => config.kubernetes.grace_s,
        Knob::Count(field) => u64::from(*field(&mut tmp)),
    }
}

/// `config` with every other broken rule mended by its inequality, so the search sees this
/// rule alone.
fn others_mended(rule: &Rule, config: &Config, events: &[Event]) -> Config {
    let mut mended = config.clone();
    for other in rules::check(config, events) {
        if other.rule == rule {
            continue;
        }
        if let Some((knob, value)) = smallest_by_rule(other.rule, config, events) {
            set(&mut mended, knob, value);
        }
    }
    mended
}

fn safe_value(
    rule: &Rule,
    config: &Config,
    events: &[Event],
    witness_config: &Config,
    witness_events: &[Event],
    seed: u64,
) -> Option<SafeValue> {
    let knob = knob_of(rule, config, events)?;
    let unit = step(knob);
    let start = current(knob, config).max(unit);
    let (_, by_rule) = smallest_by_rule(rule, config, events)?;
    // The witness's own load stays; every other broken rule's knob takes its mended value, so
    // the search sees this rule alone.
    let mended = others_mended(rule, config, events);
    let mut base = witness_config.clone();
    for other in rules::check(config, events) {
        if other.rule != rule
            && let Some(other_knob) = knob_of(other.rule, config, events)
        {
            set(&mut base, other_knob, current(other_knob, &mended));
        }
    }
    let by_run = smallest(start, unit, &|value| {
        let mut c = base.clone();
        set(&mut c, knob, value);
        let run = run_witness(&c, witness_events, seed);
        !run.violations.iter().any(|v| v.property == rule.property)
    })?;
    Some(SafeValue {
        key: key_of(rule, config, events).to_string(),
        simulated: show(knob, by_run),
        inequality: show(knob, by_rule),
        differs: show(knob, by_run) != show(knob, by_rule),
    })
}

/// How serious a proven breach is, by what its witness run shows: a request lost (dropped,
/// refused, cut by a timer) is an error; a pod killed with nothing in flight, or requests
/// turned away by design, a warning.
fn severity(lost_a_request: bool) -> Severity {
    if lost_a_request {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// The finding for one breach, or `None` when no run shows it. The witness runs with every
/// other broken rule mended; a breach it cannot show is one the other rules' fixes mend too
/// (`child-listens-while-routed` beside `handler-within-child-write` when the child's
/// write_timeout is left at its default), and is not reported on its own.
fn finding(
    input: &FunctionInput,
    breach: &Breach,
    config: &Config,
    events: &[Event],
    options: &Options,
) -> Option<Finding> {
    let rule = breach.rule;
    // The other broken rules are mended in the witness, so that it shows this rule's failure
    // rather than whichever timer fires first.
    let (wc, we) = witness(
        witness_rule(rule, config, events),
        &others_mended(rule, config, events),
    )?;
    let (counterexample, lost_a_request) =
        counterexample(&input.name, rule, &wc, &we, options.seed)?;
    let mut key = key_of(rule, config, events).to_string();
    let (safe_value, fix) = match edition::alternative(rule, config, events, &wc, &we, options) {
        // The edition does not let the user change the rule's own value: its alternative.
        Some(alternative) => {
            key = alternative.key.to_string();
            (None, alternative.fix)
        }
        None => {
            let safe_value = options
                .search
                .then(|| safe_value(rule, config, events, &wc, &we, options.seed))
                .flatten();
            let fix = match &safe_value {
                Some(safe) => format!(
                    "{}: {} (the smallest safe value){}",
                    safe.key,
                    safe.simulated,
                    edition::how_set(safe, config)
                ),
                None => breach.fix.clone(),
            };
            (safe_value, fix)
        }
    };
    let location = location_of(input, &key).or_else(|| Some(input.location.clone()));
    let message = if rule == &rules::CHILD_DRAINS_ON_SIGTERM {
        child_death(input, config)
    } else {
        breach.detail.clone()
    };
    Some(Finding {
        rule: rule.id.to_string(),
        severity: severity(lost_a_request),
        function: input.name.clone(),
        key,
        location,
        message,
        fix,
        counterexample: Some(counterexample),
        safe_value,
    })
}

/// What a child that dies on SIGTERM does to the calls in flight, in the words of its
/// template (or of the setting that says it dies).
fn child_death(input: &FunctionInput, config: &Config) -> String {
    let lang = input
        .origin(crate::input::TEMPLATE_KEY)
        .map(|p| p.value.as_str())
        .filter(|lang| *lang != "none");
    let who = match (lang, config.function.template.and_then(template::template)) {
        (Some(lang), Some(t)) => format!(
            "the {lang} template's child ({}) has no SIGTERM handler",
            t.process
        ),
        _ => "the function's child server exits on SIGTERM (onSigterm: exit)".to_string(),
    };
    format!(
        "{who}: it dies at once when of-watchdog forwards the signal, of-watchdog exits with it \
         (log.Fatalf), and every call in flight is dropped, at each rollout and scale-down; a \
         longer grace period does not help"
    )
}

/// One function's findings: its input findings, then each rule it breaks, proven by a run.
fn function_findings(input: &FunctionInput, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    let config = judged_config(input, options);
    let events = judged_events(&config, input);
    for found in &input.input_findings {
        if !ignored(input, options, &found.rule) {
            findings.push(found.clone());
        }
    }
    for breach in rules::check(&config, &events) {
        if ignored(input, options, breach.rule.id) {
            continue;
        }
        if breach.rule == &rules::CLIENT_TIMEOUT_COVERS_RESPONSE
            && options.client_timeout_ns.is_none()
        {
            continue;
        }
        findings.extend(finding(input, &breach, &config, &events, options));
    }
    if let Some(asynchronous) = queue_worker(input, &config)
        && !ignored(input, options, rules::CE_ACK_WAIT_COVERS_CALL.id)
    {
        // Any function can be called on /async-function/NAME: when the inputs configure the
        // CE queue-worker, its ack_wait is judged against each function's longest call, as an
        // asynchronous run with no disruption.
        let mut config = config.clone();
        config.asynchronous = Some(asynchronous);
        let breach = rules::check(&config, &[])
            .into_iter()
            .find(|b| b.rule == &rules::CE_ACK_WAIT_COVERS_CALL);
        if let Some(breach) = breach {
            findings.extend(finding(input, &breach, &config, &[], options));
        }
    }
    if let Some(asynchronous) = pro_queue_worker(input, &config)
        && !ignored(input, options, rules::PRO_UPSTREAM_COVERS_CALL.id)
    {
        // The same on Pro: its worker's own timeout judged against the function's longest
        // call, as an asynchronous run with no disruption.
        let mut config = config.clone();
        config.asynchronous = Some(asynchronous);
        let breach = rules::check(&config, &[])
            .into_iter()
            .find(|b| b.rule == &rules::PRO_UPSTREAM_COVERS_CALL);
        if let Some(breach) = breach {
            findings.extend(finding(input, &breach, &config, &[], options));
        }
    }
    findings
}

/// Check every function. Functions are independent (each is its own simulated runs, from the
/// same seed), so they are checked on every available core, in contiguous parts joined in
/// input order: the report is the same, byte for byte, whatever the number of cores.
pub fn analyze(inputs: &[FunctionInput], options: &Options) -> Report {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len())
        .max(1);
    let part = inputs.len().div_ceil(threads).max(1);
    let findings: Vec<Finding> = if threads == 1 {
        inputs
            .iter()
            .flat_map(|input| function_findings(input, options))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .chunks(part)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .flat_map(|input| function_findings(input, options))
                            .collect::<Vec<Finding>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| match handle.join() {
                    Ok(findings) => findings,
                    // A panic in a part is the panic it would have been on one thread.
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    // Rules ignored by flag or .faasim.yaml are silenced on every function, so no format shows
    // the input findings it would otherwise list beside the report's.
    let functions = inputs
        .iter()
        .map(|input| {
            let mut input = input.clone();
            for rule in &options.ignore {
                if !input.ignored_rules.contains(rule) {
                    input.ignored_rules.push(rule.clone());
                }
            }
            input
        })
        .collect();
    Report {
        functions,
        findings,
    }
}

fn ignored(input: &FunctionInput, options: &Options, rule: &str) -> bool {
    options.ignore.iter().any(|r| r == rule) || input.ignored_rules.iter().any(|r| r == rule)
}

/// The kind of watchdog, for `explain --function`.
pub fn watchdog_kind_name(config: &Config) -> &'static str {
    match config.function.watchdog.kind {
        WatchdogKind::OfWatchdog => "of-watchdog",
        WatchdogKind::FixedWait => "fixed-wait",
        WatchdogKind::Classic => "classic",
    }
}
