//! What the edition lets a user change, and so which fix `check` offers.
//!
//! OpenFaaS CE's faas-netes creates a function's Deployment with no
//! `terminationGracePeriodSeconds` (Kubernetes' 30 s applies), no preStop hook, and a readiness
//! probe of its own on `/_/health` with fixed timings (openfaas/faas-netes@662ce9ce
//! `pkg/handlers/deploy.go`, `pkg/k8s/probes.go`; the grace derivation went to Pro in 09d44a46,
//! 2022-02-18). Of-watchdog's `ready_path` changes what `/_/ready` asks, not `/_/health`, so it
//! does not reach that probe either. A CE user can change only the function's environment: its
//! `healthcheck_interval` and timeouts, and the template (whose child may or may not drain). So
//! on CE a rule whose own fix is the grace period, a preStop hook or the probe gets the fix a CE
//! user can apply instead, found by the rule's inequality and checked by rerunning the witness.
//!
//! OpenFaaS Pro derives the grace period from `write_timeout + 2s` (faas-netes PR #869/#870):
//! a grace fix there says which write_timeout gives it.

use faasim_model::config::{Config, Edition, GraceSource, WatchdogKind};
use faasim_model::rules::{self, Rule};
use faasim_model::schedule::Event;
use faasim_model::time::{NS_PER_MS, NS_PER_S};

use super::{Options, go, run_witness};
use crate::SafeValue;

/// The fix offered instead of the rule's own, when the edition does not allow that one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Alternative {
    /// The dotted key to change first.
    pub key: &'static str,
    /// The fix, in one line.
    pub fix: String,
}

/// The fix a user of this edition can apply instead of the rule's own: on CE for a rule whose
/// own fix is the grace period, a preStop hook or the readiness probe; on both for a child that
/// dies on SIGTERM, whose own fix is a scenario setting. `None` when the rule's own fix is
/// applicable.
pub(super) fn alternative(
    rule: &Rule,
    config: &Config,
    events: &[Event],
    witness_config: &Config,
    witness_events: &[Event],
    options: &Options,
) -> Option<Alternative> {
    if rule == &rules::CHILD_DRAINS_ON_SIGTERM {
        return Some(child_drain_fix(config.kubernetes.edition));
    }
    if rule == &rules::GATEWAY_DRAINS_ON_ROLLOUT {
        let share = match config.gateway.replicas {
            1 => "with one gateway replica every call in flight is cut".to_string(),
            n => format!("with {n} gateway replicas each old pod cuts about 1/{n} of them"),
        };
        return Some(Alternative {
            key: "gateway.replicas",
            fix: format!(
                "no setting makes the CE gateway drain (it has no SIGTERM handling): upgrade \
                 OpenFaaS when no call is in flight, or retry calls in the client; {share}"
            ),
        });
    }
    if config.kubernetes.edition != Edition::Ce {
        return None;
    }
    let grace_s = config.kubernetes.grace_s;
    let fixed_grace = match config.kubernetes.grace_source {
        // A Deployment that sets its own: faas-netes has no setting that would keep it.
        GraceSource::Explicit => format!(
            "on OpenFaaS CE the grace is the Deployment's {grace_s} s, which no faas-netes \
             setting makes (faas-netes sets no terminationGracePeriodSeconds and no preStop hook)"
        ),
        _ => format!(
            "on OpenFaaS CE the grace is Kubernetes' {grace_s} s (faas-netes sets no \
             terminationGracePeriodSeconds and no preStop hook)"
        ),
    };
    if rule == &rules::GRACE_COVERS_DRAIN {
        let shortened = shorten(
            rule,
            config,
            events,
            witness_config,
            witness_events,
            options,
        );
        let (key, changes) = shortened.describe();
        return Some(Alternative {
            key,
            fix: format!(
                "{changes}: {fixed_grace}, so the drain must end within it; longer calls \
                 need OpenFaaS Pro (grace = write_timeout + 2s){}",
                shortened.verdict()
            ),
        });
    }
    if rule == &rules::FIXED_WAIT_GRACE {
        let shortened = shorten(
            rule,
            config,
            events,
            witness_config,
            witness_events,
            options,
        );
        let (_, changes) = shortened.describe();
        return Some(Alternative {
            key: "function.image",
            fix: format!(
                "upgrade the watchdog (of-watchdog since 31e1d32, classic-watchdog 0.2.0), whose \
                 drain is healthcheck_interval then write_timeout: {fixed_grace}, and the \
                 pre-2021 watchdog waits 2 x write_timeout; or {changes}{}",
                shortened.verdict()
            ),
        });
    }
    if rule == &rules::CHILD_READY_BEFORE_ROUTING {
        return Some(Alternative {
            key: "function.child.startup",
            fix: "make the function's server listen sooner: on OpenFaaS CE the readiness probe \
                  is faas-netes's own (/_/health, initialDelaySeconds 2, periodSeconds 2) and \
                  cannot be told to wait; ready_path changes /_/ready, which it does not call"
                .to_string(),
        });
    }
    None
}

/// What a user can do about a function server that dies on the SIGTERM of-watchdog forwards
/// (of-watchdog `executor/http_runner.go`): pick a template whose server drains, or make theirs
/// drain. On Pro, an asynchronous call is retried after the drop (the chart's queue-worker
/// retries 408, 429, 500, 502, 503 and 504: faas-netes@662ce9ce `chart/openfaas/values.yaml`,
/// `queueWorkerPro.httpRetryCodes`); CE's queue-worker retries nothing.
fn child_drain_fix(edition: Edition) -> Alternative {
    let retry = match edition {
        Edition::Pro => {
            "; or invoke it asynchronously: OpenFaaS Pro's queue-worker retries the 500 it gets \
             (the call may run twice)"
        }
        Edition::Ce => "",
    };
    Alternative {
        key: crate::input::TEMPLATE_KEY,
        fix: format!(
            "use a template whose server drains on SIGTERM (golang-middleware, golang-http), or \
             make the function's server drain: keep serving for healthcheck_interval, then shut \
             down within write_timeout, and exit 0{retry}"
        ),
    }
}

/// How a grace period found as the smallest safe value is set on Pro, where faas-netes
/// derives it: `write_timeout` 2 s below it. Empty otherwise.
pub(super) fn how_set(safe: &SafeValue, config: &Config) -> String {
    let derived = config.kubernetes.edition == Edition::Pro
        && config.kubernetes.grace_source == GraceSource::ProDerived
        && safe.key == "kubernetes.terminationGracePeriodSeconds";
    // ingress-nginx takes its read timeout as an annotation of whole seconds.
    if safe.key == "ingress.readTimeout"
        && let Ok(ns) = faasim_model::duration::parse_go(&safe.simulated)
        && let Ok(ns) = u64::try_from(ns)
    {
        return format!(
            "; on ingress-nginx: nginx.ingress.kubernetes.io/proxy-read-timeout: \"{}\"",
            ns.div_ceil(faasim_model::time::NS_PER_S)
        );
    }
    match safe.simulated.parse::<u64>() {
        Ok(grace_s) if derived => format!(
            "; OpenFaaS Pro sets it to write_timeout + 2s: write_timeout: {}s",
            grace_s.saturating_sub(2)
        ),
        _ => String::new(),
    }
}

/// The environment values shortened so that the drain fits a grace period that cannot change.
struct Shortened {
    /// The new `healthcheck_interval`, when it had to be shorter.
    healthcheck_ns: Option<u64>,
    /// The new longest call (`exec_timeout`, or `write_timeout` for the pre-2021 watchdog or
    /// when exec_timeout is 0) and its key, when it had to be shorter.
    call: Option<(&'static str, u64)>,
    /// Whether the values mend the rule's inequality at all.
    mends: bool,
    /// Whether the witness rerun with them violates nothing of the rule.
    confirmed: bool,
}

impl Shortened {
    /// The first key to change and the changes as `key: value and key: value`.
    fn describe(&self) -> (&'static str, String) {
        let mut keys = Vec::new();
        let mut parts = Vec::new();
        if let Some(ns) = self.healthcheck_ns {
            keys.push("function.environment.healthcheck_interval");
            parts.push(format!("healthcheck_interval: {}", go(ns)));
        }
        if let Some((name, ns)) = self.call {
            keys.push(match name {
                "write_timeout" => "function.environment.write_timeout",
                _ => "function.environment.exec_timeout",
            });
            parts.push(format!("{name}: {}", go(ns)));
        }
        let key = keys
            .first()
            .copied()
            .unwrap_or("function.environment.healthcheck_interval");
        let changes = if parts.is_empty() {
            "shorten healthcheck_interval and the longest call".to_string()
        } else {
            format!("{} (in the function's environment)", parts.join(" and "))
        };
        (key, changes)
    }

    /// What the inequality and the rerun say of the values.
    fn verdict(&self) -> &'static str {
        match (self.mends, self.confirmed) {
            (true, true) => "; rerun with these values, the witness loses nothing",
            (true, false) => {
                "; the rule's inequality holds with these values, but the rerun still fails"
            }
            (false, _) => "; no call short enough keeps the rule: the work does not fit CE's grace",
        }
    }
}

fn set_healthcheck(config: &mut Config, ns: u64) {
    let ns = i64::try_from(ns).unwrap_or(i64::MAX);
    config.function.watchdog.healthcheck_interval_ns = ns;
    // The child reads the same variable.
    config.function.child.healthcheck_interval_ns = ns;
}

/// Sets the longest call to `ns` by its key; the handler follows when `check` assumes it runs
/// to just under the limit (no `--max-duration`).
fn set_call(config: &mut Config, name: &str, ns: u64, handler_follows: bool) {
    let w = &mut config.function.watchdog;
    match name {
        "write_timeout" => {
            w.write_timeout_ns = ns;
            w.exec_timeout_ns = w.exec_timeout_ns.min(ns);
            config.function.child.write_timeout_ns = ns;
        }
        _ => w.exec_timeout_ns = ns,
    }
    if handler_follows {
        let limit = match config.function.watchdog.exec_timeout_ns {
            0 => config.function.watchdog.write_timeout_ns,
            exec => exec.saturating_sub(NS_PER_MS).max(1),
        };
        config.function.handler_ns = faasim_model::config::Span::fixed(limit);
    }
}

fn breaks(rule: &Rule, config: &Config, events: &[Event]) -> bool {
    rules::check(config, events).iter().any(|b| b.rule == rule)
}

/// The longest call, and if need be a shorter healthcheck_interval, that keep `rule` with the
/// grace fixed. The longest call (`exec_timeout`, or `write_timeout`) comes down in whole
/// seconds until the rule's inequality holds; only when no call is short enough (the listener's
/// open window alone outlasts the grace) does healthcheck_interval come down too, to what the
/// endpoints' lag needs (the healthcheck rule's bound, whole seconds). The witness is then
/// rerun with the values found.
fn shorten(
    rule: &Rule,
    config: &Config,
    events: &[Event],
    witness_config: &Config,
    witness_events: &[Event],
    options: &Options,
) -> Shortened {
    let mut judged = config.clone();
    let mut witness = witness_config.clone();
    let handler_follows = options.max_duration_ns.is_none();
    let mut out = Shortened {
        healthcheck_ns: None,
        call: None,
        mends: false,
        confirmed: false,
    };
    let fixed_wait = config.function.watchdog.kind == WatchdogKind::FixedWait;
    let w = &config.function.watchdog;
    let (name, now) = if fixed_wait || w.exec_timeout_ns == 0 {
        ("write_timeout", w.write_timeout_ns)
    } else {
        ("exec_timeout", w.exec_timeout_ns)
    };
    // With --max-duration the calls are what they are: a limit below them is no fix.
    let floor_s = match options.max_duration_ns {
        Some(handler) => handler / NS_PER_S + 1,
        None => 1,
    };
    let longest_call = |judged: &Config| -> Option<u64> {
        if !breaks(rule, judged, events) {
            return None;
        }
        (floor_s..now.div_ceil(NS_PER_S)).rev().find(|s| {
            let mut c = judged.clone();
            set_call(&mut c, name, s * NS_PER_S, handler_follows);
            !breaks(rule, &c, events)
        })
    };
    let mut call_s = longest_call(&judged);
    if call_s.is_none() && !fixed_wait {
        let d = rules::derive(config, events);
        let need = d
            .routed_arrival_max_ns
            .saturating_sub(d.sigterm_ns)
            .saturating_add(1)
            .div_ceil(NS_PER_S)
            .max(1)
            * NS_PER_S;
        let hc = config.function.watchdog.healthcheck_interval_ns;
        if hc <= 0 || u64::try_from(hc).unwrap_or(0) > need {
            set_healthcheck(&mut judged, need);
            set_healthcheck(&mut witness, need);
            out.healthcheck_ns = Some(need);
            call_s = longest_call(&judged);
        }
    }
    if let Some(s) = call_s {
        set_call(&mut judged, name, s * NS_PER_S, handler_follows);
        set_call(&mut witness, name, s * NS_PER_S, handler_follows);
        out.call = Some((name, s * NS_PER_S));
    }
    out.mends = !breaks(rule, &judged, events);
    if out.mends {
        let run = run_witness(&witness, witness_events, options.seed);
        out.confirmed = !run.violations.iter().any(|v| v.property == rule.property);
    }
    out
}
