//! Swarm exploration: run many `swarm-v1` seeds, judge each run against the rules, and shrink
//! the ones the rules cannot explain to a small scenario file.
//!
//! Each run is classified by comparing the properties it violated with the rules its
//! configuration breaks (`faasim_model::rules::check`), whose `property` field says which
//! violation each rule predicts:
//!
//! - `pass`: no rule broken, nothing violated;
//! - `unexercised`: rules broken, but the schedule did not make them bite;
//! - `predicted`: every violated property is the `property` of a broken rule;
//! - `entailed`: some violated property is no broken rule's `property`, but every request that
//!   violates it is a known consequence of a broken rule (see [`Consequence`]): a pod SIGKILLed
//!   at the end of its grace period also drops what it holds and refuses what is still routed to
//!   it, a child that dies on SIGTERM takes its watchdog with it, and so on. A rule's `property`
//!   names one violation; breaking it can cause several.
//! - `excused`: the remaining violations are explained by an injected fault the rules do not
//!   cover: a crash (`killPod`) loses what is in flight on the crashed pod
//!   (`no-dropped-in-flight`) and what is routed to it before the view drops it
//!   (`no-refused-routing`);
//! - `fail`: a violation nothing explains: a gap in the rules or a bug in the model. The seed
//!   fails.
//!
//! The classification is written `CLASS` or `CLASS:PROPERTY,...` with every violated property in
//! report order, e.g. `fail:no-dropped-in-flight,graceful-exit`: the EXPECTED column of the
//! regression file.
//!
//! Nothing here reads the clock; `faasim explore` measures seeds per second around [`sweep`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use faasim_model::config::Config;
use faasim_model::ledger::{Cause, Outcome, Record};
use faasim_model::properties::Property;
use faasim_model::rules::{self, Breach, Rule};
use faasim_model::schedule::{Action, Event};
use faasim_model::time::{NS_PER_MS, NS_PER_S};

use crate::emit;
use crate::engine::fnv1a64;
use crate::report::{self, Header};
use crate::swarm::{self, SwarmCase};
use crate::world::{Mutation, PodEnd, PodSummary};
use crate::{Run, simulate_mutated};

/// How a run compares with the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// No rule broken, nothing violated.
    Pass,
    /// Rules broken, nothing violated.
    Unexercised,
    /// Every violated property is a broken rule's `property`.
    Predicted,
    /// Some violations are known consequences of broken rules rather than their `property`.
    Entailed,
    /// Violations not explained by the rules but by an injected fault (crashes).
    Excused,
    /// A violation nothing explains.
    Fail,
}

impl Class {
    /// Every class, in the order summaries list them.
    pub const ALL: [Class; 6] = [
        Class::Pass,
        Class::Unexercised,
        Class::Predicted,
        Class::Entailed,
        Class::Excused,
        Class::Fail,
    ];

    /// Name in reports and the regression file.
    pub fn name(self) -> &'static str {
        match self {
            Class::Pass => "pass",
            Class::Unexercised => "unexercised",
            Class::Predicted => "predicted",
            Class::Entailed => "entailed",
            Class::Excused => "excused",
            Class::Fail => "fail",
        }
    }

    /// The class by name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A run judged against the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The class.
    pub class: Class,
    /// Violated properties, in report order.
    pub violated: Vec<&'static str>,
    /// Ids of the broken rules, in `RULES` order.
    pub broken: Vec<&'static str>,
    /// Violated properties no broken rule names, each of whose requests is a consequence of one.
    pub entailed: Vec<&'static str>,
    /// Violated properties explained only by an injected fault.
    pub excused: Vec<&'static str>,
    /// Violated properties nothing explains.
    pub unexplained: Vec<&'static str>,
    /// For the unexplained violations: `property/cause` of each kind of request (or
    /// `graceful-exit/pod`), the failure's signature, which shrinking keeps.
    pub signature: Vec<String>,
}

impl Verdict {
    /// `CLASS` or `CLASS:PROPERTY,...`, the regression file's EXPECTED.
    pub fn expected(&self) -> String {
        if self.violated.is_empty() {
            self.class.name().to_string()
        } else {
            format!("{}:{}", self.class.name(), self.violated.join(","))
        }
    }
}

/// Properties an injected crash explains.
const CRASH_EXPLAINS: [Property; 2] = [Property::NoDroppedInFlight, Property::NoRefusedRouting];

/// A known consequence of breaking a rule beyond the property the rule names: which broken
/// rules cause it, and which requests it accounts for.
pub struct Consequence {
    /// Short name, for docs and messages.
    pub name: &'static str,
    /// The rules whose break causes it.
    pub rules: &'static [&'static Rule],
    /// The requests it accounts for: `(record, the pod it was routed to)`.
    pub accounts_for: fn(&Record, Option<&PodSummary>) -> bool,
}

fn lost_to(record: &Record, causes: &[Cause]) -> bool {
    record.lost.is_some_and(|c| causes.contains(&c))
        || record.cause.is_some_and(|c| causes.contains(&c))
}

/// The consequences explore accepts, each from how the model works (`ledger.rs`, `world.rs`).
pub const CONSEQUENCES: &[Consequence] = &[
    Consequence {
        // SIGKILL at the end of the grace period, or the node's death at the end of a spot
        // notice, loses whatever the pod holds; the killed pod, still in the provider's view,
        // refuses new calls (or, on a dead node, swallows them until a timer fires).
        name: "a killed pod loses, refuses or swallows what it holds or is sent",
        rules: &[
            &rules::GRACE_COVERS_DRAIN,
            &rules::FIXED_WAIT_GRACE,
            &rules::HEALTHCHECK_INTERVAL_POSITIVE,
            &rules::SPOT_NOTICE_COVERS_DRAIN,
        ],
        accounts_for: |record, pod| {
            lost_to(record, &[Cause::Sigkill, Cause::NodeLost])
                || pod.is_some_and(|p| p.end == PodEnd::Killed)
        },
    },
    Consequence {
        // A child that exits on SIGTERM, or closes before the watchdog stops routing to it,
        // fails the calls in flight; the watchdog then exits (log.Fatalf), losing the rest, and
        // refuses what is still routed to it.
        name: "a child that dies or closes early takes the watchdog's calls with it",
        rules: &[
            &rules::CHILD_DRAINS_ON_SIGTERM,
            &rules::CHILD_LISTENS_WHILE_ROUTED,
        ],
        accounts_for: |record, pod| {
            lost_to(
                record,
                &[Cause::ChildExited, Cause::WatchdogExit, Cause::ChildRefused],
            ) || (record.outcome == Outcome::Refused
                && pod.is_some_and(|p| p.end == PodEnd::Exited))
        },
    },
    Consequence {
        // The watchdog's Shutdown deadline (healthcheck_interval + write_timeout after SIGTERM)
        // cuts a response that can outlast write_timeout or that arrives late through a lagging
        // view: grace-covers-drain says the deadline follows from these two rules.
        name: "the drain deadline cuts what outlasts write_timeout",
        rules: &[
            &rules::EXEC_WITHIN_WRITE,
            &rules::HEALTHCHECK_COVERS_ENDPOINT_LAG,
            &rules::FIXED_WAIT_GRACE,
        ],
        accounts_for: |record, _| lost_to(record, &[Cause::DrainDeadline]),
    },
    Consequence {
        // With no endpoint to route to, the gateway holds requests (up to 100 s of polls): a
        // client, gateway or provider timer shorter than that cuts them before the 503.
        name: "a request held for an endpoint that does not come is cut by a timer",
        rules: &[
            &rules::SCHEDULABLE_NODE_REMAINS,
            &rules::COLD_START_WITHIN_GATEWAY_HOLD,
            &rules::SCALE_FROM_ZERO_ENABLED,
        ],
        accounts_for: |record, _| record.pod.is_none() && record.outcome == Outcome::TimedOut,
    },
    Consequence {
        // A disruption during a cold start strands the held requests (no-timeout, the rule's
        // property) until the gateway's 100 s of polls run out and it forwards them to no
        // endpoint (503), or releases them all at once to the first pod (429 past max_inflight).
        name: "requests held through a disrupted cold start are turned away when released",
        rules: &[&rules::NO_DISRUPTION_DURING_COLD_START],
        accounts_for: |record, _| {
            record.outcome == Outcome::Rejected
                && lost_to(record, &[Cause::NoEndpoints, Cause::MaxInflight])
        },
    },
    Consequence {
        // A gateway pod that exits (CE, on SIGTERM; any, at SIGKILL) cuts what goes through it,
        // and kube-proxy, whose view still lists it for up to the endpoint lag, hands it new
        // connections that are refused.
        name: "a gateway pod that exits cuts its calls and refuses what kube-proxy still sends",
        rules: &[&rules::GATEWAY_DRAINS_ON_ROLLOUT],
        accounts_for: |record, _| lost_to(record, &[Cause::GatewayExited, Cause::GatewayRefused]),
    },
    Consequence {
        // A call run more than once (redelivered by NATS Streaming) is called back once per
        // run that ended, and a cut run (the worker's SIGTERM) not at all.
        name: "a call run again calls back once per finished run",
        rules: &[
            &rules::CE_ACK_WAIT_COVERS_CALL,
            &rules::CE_QUEUE_WORKER_NOT_RESTARTED,
        ],
        accounts_for: |record, _| matches!(record.outcome, Outcome::Duplicated | Outcome::Lost),
    },
    Consequence {
        // The CE queue-worker acks whatever status a call ends with and never retries it:
        // what a broken rule does to a synchronous call (a timeout, a 429, a drop) loses an
        // async one, called back with that status.
        name: "CE acks a failed call without a retry: it is lost",
        rules: &[
            &rules::CE_ACK_WAIT_COVERS_CALL,
            &rules::EXEC_WITHIN_UPSTREAM,
            &rules::HANDLER_WITHIN_EXEC,
            &rules::EXEC_WITHIN_PROVIDER_TIMEOUT,
            &rules::MAX_INFLIGHT_COVERS_LOAD,
            &rules::GRACE_COVERS_DRAIN,
        ],
        accounts_for: |record, _| record.outcome == Outcome::Lost,
    },
    Consequence {
        // The Pro queue-worker retries an attempt cut by its own timeout until its attempts
        // run out: the call ends lost, called back with the last failure.
        name: "Pro retries a cut attempt until its attempts run out: it is lost",
        rules: &[&rules::PRO_UPSTREAM_COVERS_CALL],
        accounts_for: |record, _| record.outcome == Outcome::Lost,
    },
    Consequence {
        // The Pro queue-worker retries what a broken synchronous rule does to a call (a
        // timeout, a killed pod's 500): the handler starts again, the call is duplicated, or
        // lost once its attempts run out.
        name: "Pro retries a failed call: it runs again",
        rules: &[
            &rules::EXEC_WITHIN_UPSTREAM,
            &rules::HANDLER_WITHIN_EXEC,
            &rules::EXEC_WITHIN_PROVIDER_TIMEOUT,
            &rules::GRACE_COVERS_DRAIN,
        ],
        accounts_for: |record, _| matches!(record.outcome, Outcome::Duplicated | Outcome::Lost),
    },
];

fn outcome_of(property: Property) -> Option<Outcome> {
    match property {
        Property::NoDroppedInFlight => Some(Outcome::Dropped),
        Property::NoRefusedRouting => Some(Outcome::Refused),
        Property::NoTimeout => Some(Outcome::TimedOut),
        Property::NoRejection => Some(Outcome::Rejected),
        Property::NoLostInvocation => Some(Outcome::Lost),
        Property::GracefulExit | Property::NoDuplicateInvocation | Property::CallbackDelivered => {
            None
        }
    }
}

/// Judge `run` of `config` and `events` against the rules.
pub fn classify(config: &Config, events: &[Event], run: &Run) -> Verdict {
    let breaches: Vec<Breach> = rules::check(config, events);
    let broken: Vec<&'static str> = breaches.iter().map(|b| b.rule.id).collect();
    let crashes = events
        .iter()
        .any(|e| matches!(e.action, Action::KillPod { .. }));
    let active: Vec<&Consequence> = CONSEQUENCES
        .iter()
        .filter(|c| {
            c.rules
                .iter()
                .any(|rule| breaches.iter().any(|b| b.rule == *rule))
        })
        .collect();
    let pods = &run.result.pods;
    let mut violated = Vec::new();
    let mut entailed = Vec::new();
    let mut excused = Vec::new();
    let mut unexplained = Vec::new();
    let mut signature = Vec::new();
    for violation in &run.violations {
        let name = violation.property.name();
        violated.push(name);
        if breaches
            .iter()
            .any(|b| b.rule.property == violation.property)
        {
            continue;
        }
        let records: Vec<&Record> = match outcome_of(violation.property) {
            Some(outcome) => run
                .result
                .ledger
                .iter()
                .filter(|r| r.outcome == outcome)
                .collect(),
            // A property judged per request without an outcome class of its own (the async
            // path's) names its requests.
            None => violation
                .requests
                .iter()
                .filter_map(|id| run.result.ledger.get(*id as usize))
                .collect(),
        };
        let all_entailed = !records.is_empty()
            && records.iter().all(|record| {
                let pod = record.pod.and_then(|p| pods.get(p as usize));
                active.iter().any(|c| (c.accounts_for)(record, pod))
            });
        if all_entailed {
            entailed.push(name);
        } else if crashes && CRASH_EXPLAINS.contains(&violation.property) {
            excused.push(name);
        } else {
            unexplained.push(name);
            if records.is_empty() {
                signature.push(format!("{name}/pod"));
            }
            for record in records {
                let cause = record.lost.or(record.cause).map_or("none", Cause::name);
                let key = format!("{name}/{cause}");
                if !signature.contains(&key) {
                    signature.push(key);
                }
            }
        }
    }
    let class = if !unexplained.is_empty() {
        Class::Fail
    } else if !excused.is_empty() {
        Class::Excused
    } else if !entailed.is_empty() {
        Class::Entailed
    } else if !violated.is_empty() {
        Class::Predicted
    } else if !broken.is_empty() {
        Class::Unexercised
    } else {
        Class::Pass
    };
    Verdict {
        class,
        violated,
        broken,
        entailed,
        excused,
        unexplained,
        signature,
    }
}

/// FNV-1a 64 of a JSON report with the timeline: the hash of the full trace and ledger.
pub fn trace_hash(run: &Run, header: &Header) -> u64 {
    fnv1a64(report::json(run, header).as_bytes())
}

/// The report header of a swarm run, fixed so that its hash does not depend on where it ran.
pub fn swarm_header(seed: u64) -> Header {
    Header {
        name: format!("{} seed {seed}", swarm::GENERATOR),
        source: swarm::GENERATOR.to_string(),
        warnings: Vec::new(),
    }
}

/// How to run each seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Run each seed twice with tracing and compare the trace hashes.
    pub check_determinism: bool,
    /// Shrink failing seeds.
    pub shrink: bool,
    /// A planted bug (mutation testing of the explorer).
    pub mutation: Mutation,
}

/// A failing case made small.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The configuration.
    pub config: Config,
    /// The schedule.
    pub events: Vec<Event>,
    /// Its verdict.
    pub verdict: Verdict,
    /// Simulations the shrinking ran.
    pub runs: u32,
}

/// What one seed gave.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// The features it drew.
    pub features: Vec<&'static str>,
    /// The verdict.
    pub verdict: Verdict,
    /// Simulated events run.
    pub events: u64,
    /// With `check_determinism`: the two trace hashes.
    pub hashes: Option<(u64, u64)>,
    /// For a failing seed with `shrink`: the shrunk case.
    pub shrunk: Option<Shrunk>,
}

impl SeedReport {
    /// True when the two runs of `check_determinism` differ.
    pub fn nondeterministic(&self) -> bool {
        self.hashes.is_some_and(|(a, b)| a != b)
    }

    /// True when the seed fails: a violation nothing explains, or two different runs.
    pub fn failed(&self) -> bool {
        self.verdict.class == Class::Fail || self.nondeterministic()
    }
}

/// Run one swarm seed.
pub fn run_seed(seed: u64, options: &Options) -> SeedReport {
    let case = swarm::case(seed);
    let tracing = options.check_determinism;
    let run = simulate_mutated(
        &case.config,
        &case.events,
        swarm::LIMIT_NS,
        seed,
        tracing,
        options.mutation,
    );
    let verdict = classify(&case.config, &case.events, &run);
    let hashes = if options.check_determinism {
        let again = simulate_mutated(
            &case.config,
            &case.events,
            swarm::LIMIT_NS,
            seed,
            true,
            options.mutation,
        );
        let header = swarm_header(seed);
        Some((trace_hash(&run, &header), trace_hash(&again, &header)))
    } else {
        None
    };
    let shrunk = (options.shrink && verdict.class == Class::Fail)
        .then(|| shrink(&case, &verdict, options.mutation));
    SeedReport {
        seed,
        features: case.features,
        verdict,
        events: run.result.events,
        hashes,
        shrunk,
    }
}

/// Most simulations one shrink may run.
const SHRINK_RUNS_MAX: u32 = 600;

/// A candidate change to a case; `None` when it does not apply.
type Step = fn(&Config, &[Event], usize) -> Option<(Config, Vec<Event>)>;

fn round_s(ns: u64) -> u64 {
    (ns + NS_PER_S / 2) / NS_PER_S * NS_PER_S
}

/// Shrink a failing case greedily: drop events, fewer requests, workers, replicas and nodes,
/// features back to their defaults, durations rounded to whole seconds, while a violation of the
/// same unexplained property with the same cause persists and the case stays writable as a scenario file.
pub fn shrink(case: &SwarmCase, verdict: &Verdict, mutation: Mutation) -> Shrunk {
    let target = verdict.signature.clone();
    let mut runs = 0u32;
    let mut config = case.config.clone();
    let mut events = case.events.clone();
    let mut best = verdict.clone();
    let still_fails = |config: &Config, events: &[Event], runs: &mut u32| -> Option<Verdict> {
        if !emit::scenario(&emit::Meta::default(), config, events).is_exact() {
            return None;
        }
        *runs += 1;
        let run = simulate_mutated(config, events, swarm::LIMIT_NS, case.seed, false, mutation);
        let verdict = classify(config, events, &run);
        let keeps =
            verdict.class == Class::Fail && verdict.signature.iter().any(|p| target.contains(p));
        keeps.then_some(verdict)
    };
    // A Pro grace derived from write_timeout ties the two; make it explicit (same value, same
    // run) so durations can be rounded one at a time.
    if config.kubernetes.grace_source != faasim_model::config::GraceSource::Explicit {
        let mut explicit = config.clone();
        explicit.kubernetes.grace_source = faasim_model::config::GraceSource::Explicit;
        if let Some(v) = still_fails(&explicit, &events, &mut runs) {
            config = explicit;
            best = v;
        }
    }
    let steps: &[(Step, usize)] = &[
        (drop_event, 64),
        (fewer_requests, 4),
        (fewer_replicas, 2),
        (defaults, DEFAULTS),
        (round_duration, DURATIONS),
        (round_event, 128),
    ];
    let mut progress = true;
    while progress && runs < SHRINK_RUNS_MAX {
        progress = false;
        for (step, variants) in steps {
            let mut variant = 0;
            while variant < *variants && runs < SHRINK_RUNS_MAX {
                match step(&config, &events, variant) {
                    Some((c, e)) if (c != config || e != events) => {
                        if let Some(v) = still_fails(&c, &e, &mut runs) {
                            config = c;
                            events = e;
                            best = v;
                            progress = true;
                            // Same variant again: it may apply once more (the next event
                            // slid into this index, or a count halves again).
                            continue;
                        }
                    }
                    _ => {}
                }
                variant += 1;
            }
        }
    }
    Shrunk {
        config,
        events,
        verdict: best,
        runs,
    }
}

fn drop_event(config: &Config, events: &[Event], index: usize) -> Option<(Config, Vec<Event>)> {
    if index >= events.len() {
        return None;
    }
    let mut events = events.to_vec();
    events.remove(index);
    Some((config.clone(), events))
}

fn fewer_requests(
    config: &Config,
    events: &[Event],
    variant: usize,
) -> Option<(Config, Vec<Event>)> {
    let mut c = config.clone();
    let load = &mut c.load;
    match variant {
        0 => load.requests = (load.requests / 2).max(1),
        1 => load.requests = load.requests.saturating_sub(1).max(1),
        2 => load.concurrency = (load.concurrency / 2).max(1),
        _ => load.concurrency = load.concurrency.saturating_sub(1).max(1),
    }
    if load.rate_per_s == 0 {
        // Closed loop: every worker sends requests / concurrency, at least one.
        load.requests = load.requests.max(u64::from(load.concurrency));
    } else if variant >= 2 {
        load.rate_per_s = (load.rate_per_s / 2).max(1);
    }
    Some((c, events.to_vec()))
}

fn fewer_replicas(
    config: &Config,
    events: &[Event],
    variant: usize,
) -> Option<(Config, Vec<Event>)> {
    let mut c = config.clone();
    match variant {
        0 => c.function.scale_min = c.function.scale_min.checked_sub(1)?,
        _ => {
            c.kubernetes.nodes = c.kubernetes.nodes.checked_sub(1).filter(|n| *n >= 1)?;
            let fits = events.iter().all(|e| match e.action {
                Action::DrainNode {
                    node: Some(node), ..
                } => node < c.kubernetes.nodes,
                _ => true,
            });
            if !fits {
                return None;
            }
        }
    }
    Some((c, events.to_vec()))
}

/// How many features `defaults` can reset.
const DEFAULTS: usize = 14;

fn defaults(config: &Config, events: &[Event], variant: usize) -> Option<(Config, Vec<Event>)> {
    use faasim_model::config::{Method, Mode, OnSigterm, ProbeConfig, Span, Start, WatchdogKind};
    let d = Config::default();
    let mut c = config.clone();
    match variant {
        0 => c.function.watchdog.max_inflight = 0,
        1 => c.kubernetes.pre_stop_sleep_s = 0,
        2 => c.kubernetes.readiness = ProbeConfig::default(),
        3 => {
            c.kubernetes.max_surge = d.kubernetes.max_surge;
            c.kubernetes.max_unavailable = d.kubernetes.max_unavailable;
        }
        4 => c.network.rtt_ns = 0,
        5 => c.load.start_ns = 0,
        6 => c.load.keep_alive = true,
        7 => c.kubernetes.restart_delay_ns = 0,
        8 => c.function.child.startup_ns = Span::fixed(0),
        9 => c.function.child.on_sigterm = OnSigterm::Drain,
        10 => c.function.watchdog.kind = WatchdogKind::OfWatchdog,
        11 => c.function.watchdog.mode = Mode::Http,
        12 => c.function.start = Start::Warm,
        _ => c.load.method = Method::Get,
    }
    Some((c, events.to_vec()))
}

/// How many (duration, rounding) pairs `round_duration` tries.
const DURATIONS: usize = 17 * 3;

/// Rounds one duration of the configuration: `variant / 3` picks it, `variant % 3` how
/// (nearest whole second, a range made fixed at its top, at its bottom).
fn round_duration(
    config: &Config,
    events: &[Event],
    variant: usize,
) -> Option<(Config, Vec<Event>)> {
    use faasim_model::config::Span;
    let mut c = config.clone();
    let how = variant % 3;
    let span = |s: &mut Span| match how {
        0 => {
            s.lo_ns = round_s(s.lo_ns);
            s.hi_ns = round_s(s.hi_ns).max(s.lo_ns);
        }
        1 => s.lo_ns = s.hi_ns,
        _ => s.hi_ns = s.lo_ns,
    };
    let value = |ns: &mut u64| {
        if how == 0 {
            *ns = round_s(*ns);
        }
    };
    let f = &mut c.function;
    match variant / 3 {
        0 => span(&mut f.handler_ns),
        1 => span(&mut f.startup_ns),
        2 => span(&mut f.child.startup_ns),
        3 => span(&mut c.kubernetes.endpoint_lag_ns),
        4 => value(&mut f.watchdog.exec_timeout_ns),
        5 => {
            // The child reads the same variable: round both when they agree.
            let same = f.watchdog.write_timeout_ns == f.child.write_timeout_ns;
            value(&mut f.watchdog.write_timeout_ns);
            f.watchdog.write_timeout_ns = f.watchdog.write_timeout_ns.max(NS_PER_MS);
            if same {
                f.child.write_timeout_ns = f.watchdog.write_timeout_ns;
            }
        }
        6 => {
            let same = f.watchdog.read_timeout_ns == f.child.read_timeout_ns;
            value(&mut f.watchdog.read_timeout_ns);
            if same {
                f.child.read_timeout_ns = f.watchdog.read_timeout_ns;
            }
        }
        7 => {
            if how == 0 {
                let same = f.watchdog.healthcheck_interval_ns == f.child.healthcheck_interval_ns;
                let hc = f.watchdog.healthcheck_interval_ns;
                let rounded = if hc >= 0 {
                    i64::try_from(round_s(hc.unsigned_abs())).unwrap_or(i64::MAX)
                } else {
                    -i64::try_from(round_s(hc.unsigned_abs())).unwrap_or(i64::MAX)
                };
                f.watchdog.healthcheck_interval_ns = rounded;
                if same {
                    f.child.healthcheck_interval_ns = rounded;
                }
            }
        }
        8 => value(&mut c.gateway.upstream_timeout_ns),
        9 => value(&mut c.gateway.read_timeout_ns),
        10 => value(&mut c.gateway.write_timeout_ns),
        11 => value(&mut c.provider.read_timeout_ns),
        12 => value(&mut c.provider.write_timeout_ns),
        13 => value(&mut c.load.timeout_ns),
        14 => value(&mut c.load.start_ns),
        15 => value(&mut c.kubernetes.restart_delay_ns),
        _ => value(&mut c.network.rtt_ns),
    }
    Some((c, events.to_vec()))
}

/// Rounds an event's time (even variants) or a drain's notice (odd) to whole seconds.
fn round_event(config: &Config, events: &[Event], variant: usize) -> Option<(Config, Vec<Event>)> {
    let index = variant / 2;
    let mut events = events.to_vec();
    let event = events.get_mut(index)?;
    if variant.is_multiple_of(2) {
        event.at_ns = round_s(event.at_ns);
    } else if let Action::DrainNode { notice_ns, .. } = &mut event.action {
        *notice_ns = round_s(*notice_ns);
    } else {
        return None;
    }
    // Keep the schedule sorted, as the loader would.
    events.sort_by_key(|e| e.at_ns);
    Some((config.clone(), events))
}

/// A scenario file for a shrunk case, with what it shows in its comments.
pub fn shrunk_scenario(report: &SeedReport, shrunk: &Shrunk, mutation: Mutation) -> String {
    let mut comments = vec![
        format!(
            "Found by `faasim explore`: {} seed {}, shrunk in {} runs.",
            swarm::GENERATOR,
            report.seed,
            shrunk.runs
        ),
        format!("Features drawn: {}", report.features.join(" ")),
        format!(
            "Unshrunk: {} (rules broken: {})",
            report.verdict.expected(),
            list(&report.verdict.broken)
        ),
        format!(
            "Shrunk: {} (rules broken: {}); explained by nothing: {}",
            shrunk.verdict.expected(),
            list(&shrunk.verdict.broken),
            list(
                &shrunk
                    .verdict
                    .signature
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            )
        ),
    ];
    if mutation != Mutation::None {
        comments.push(format!(
            "Found with the planted bug {mutation:?}: `faasim run` without it may pass."
        ));
    }
    let meta = emit::Meta {
        name: format!("{} seed {} shrunk", swarm::GENERATOR, report.seed),
        seed: Some(report.seed),
        limit_ns: Some(swarm::LIMIT_NS),
        comments,
    };
    emit::scenario(&meta, &shrunk.config, &shrunk.events).yaml
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Counts per class over a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Per class, in `Class::ALL` order.
    pub per_class: [u64; 6],
    /// Seeds whose two runs differed.
    pub nondeterministic: u64,
    /// Simulated events, all seeds.
    pub events: u64,
    /// Failing seeds, in seed order.
    pub failures: Vec<u64>,
}

impl Summary {
    /// Count one seed.
    pub fn add(&mut self, report: &SeedReport) {
        self.seeds += 1;
        self.events += report.events;
        if let Some(index) = Class::ALL.iter().position(|c| *c == report.verdict.class) {
            self.per_class[index] += 1;
        }
        if report.nondeterministic() {
            self.nondeterministic += 1;
        }
        if report.failed() {
            self.failures.push(report.seed);
        }
    }

    /// `pass 10, unexercised 3, ...` in class order.
    pub fn class_line(&self) -> String {
        let mut parts: Vec<String> = Class::ALL
            .iter()
            .zip(self.per_class)
            .map(|(class, n)| format!("{} {n}", class.name()))
            .collect();
        if self.nondeterministic > 0 {
            parts.push(format!("nondeterministic {}", self.nondeterministic));
        }
        parts.join(", ")
    }
}

/// The seeds of `from..from + count` that shard `index` of `shards` takes: those with
/// `(seed - from) % shards == index`, so the shards cover the range with no overlap.
pub fn shard_seeds(from: u64, count: u64, index: u64, shards: u64) -> impl Iterator<Item = u64> {
    let shards = shards.max(1);
    (0..count)
        .skip(usize::try_from(index).unwrap_or(usize::MAX))
        .step_by(usize::try_from(shards).unwrap_or(usize::MAX))
        .map(move |offset| from + offset)
}

/// One line for a seed: seed, classification, broken rules and features.
pub fn seed_line(report: &SeedReport) -> String {
    let mut line = format!(
        "seed {} {}",
        report.seed,
        if report.nondeterministic() {
            "nondeterministic".to_string()
        } else {
            report.verdict.expected()
        }
    );
    if !report.verdict.broken.is_empty() {
        line.push_str(&format!(" broken={}", report.verdict.broken.join(",")));
    }
    line.push_str(&format!(" features={}", report.features.join(",")));
    line
}

/// Run `seeds` on `jobs` threads and hand each report to `on_report` in the order of `seeds`,
/// whatever order the threads finish in, so the output is the same for any `jobs`.
pub fn sweep(seeds: &[u64], jobs: usize, options: &Options, mut on_report: impl FnMut(SeedReport)) {
    let jobs = jobs.clamp(1, seeds.len().max(1));
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, SeedReport)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(seed) = seeds.get(index) else { break };
                    if sender.send((index, run_seed(*seed, options))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending: BTreeMap<usize, SeedReport> = BTreeMap::new();
        let mut due = 0usize;
        for (index, report) in receiver {
            pending.insert(index, report);
            while let Some(report) = pending.remove(&due) {
                on_report(report);
                due += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_range() {
        let all: Vec<u64> = shard_seeds(10, 7, 0, 1).collect();
        assert_eq!(all, (10..17).collect::<Vec<_>>());
        let mut union: Vec<u64> = shard_seeds(10, 7, 0, 3)
            .chain(shard_seeds(10, 7, 1, 3))
            .chain(shard_seeds(10, 7, 2, 3))
            .collect();
        union.sort_unstable();
        assert_eq!(union, all);
        assert_eq!(shard_seeds(10, 7, 1, 3).collect::<Vec<_>>(), vec![11, 14]);
    }

    #[test]
    fn expected_lists_every_violated_property() {
        let verdict = Verdict {
            class: Class::Fail,
            violated: vec!["no-dropped-in-flight", "graceful-exit"],
            broken: vec![],
            entailed: vec![],
            excused: vec![],
            unexplained: vec!["no-dropped-in-flight"],
            signature: vec![],
        };
        assert_eq!(
            verdict.expected(),
            "fail:no-dropped-in-flight,graceful-exit"
        );
    }
}
