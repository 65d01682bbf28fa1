//! From what the files say to a function's effective [`Config`]: each component's parsing rules
//! and defaults, the edition's grace period, with where every value came from and a finding for
//! every value a component silently replaces.
//!
//! One file per component: `template` (the function's template, or the assumption in its
//! place), `watchdog` (mode and timeouts), `child`, `function` (labels and annotations), `kubernetes`, `gateway`, `provider`, `queue_worker`, `ingress` (an Ingress in front of the
//! gateway); `ignores` (what the function asks faasim to ignore, unset `${VAR}`s) and
//! `suggest` (what to write instead). The environment
//! is read once, by the model's readers (`faasim_model::environment`), whose results carry where
//! each value came from; no default is restated here.

use std::collections::BTreeMap;

use faasim_model::config::{Config, ConfigError, Edition, FunctionConfig, KubernetesConfig, Span};
use faasim_model::duration::format_go;
use faasim_model::template::Template;

use super::FunctionSettings;
use super::documents::{Platform, RawFunction, Val};
use super::error::InputError;
use super::source::{Source, error_at_location};
use crate::{Finding, FunctionInput, Location, Origin, Provenance, Severity};

mod child;
mod function;
mod gateway;
mod ignores;
mod ingress;
mod kubernetes;
mod provider;
mod queue_worker;
mod suggest;
mod template;
mod watchdog;

pub(crate) use child::sigterm_text;
pub(crate) use suggest::suggest_duration;
pub use template::TEMPLATE_KEY;

/// Rule id of values a component silently replaces.
pub const INVALID_FALLBACK: &str = "invalid-duration-fallback";
/// Rule id of bare integers where a Go duration is required.
pub const BARE_INT: &str = "bare-int-duration";
/// Rule id of `${VAR}`s of a stack file that are not set.
pub const ENVSUBST_UNSET: &str = "envsubst-unset";

/// The rule id of a function that cannot be read or resolved (the others are still checked).
pub const INVALID_FUNCTION: &str = "invalid-function";

/// The rule id of `com.openfaas.scale.min` above `com.openfaas.scale.max`.
pub const SCALE_MIN_ABOVE_MAX: &str = "scale-min-above-max";

/// The rule id of more replicas than faasim simulates (`limits::REPLICAS_MAX`).
pub const REPLICAS_OVER_LIMIT: &str = "replicas-over-limit";

/// What the command line and `.faasim.yaml` decide for every function.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// The edition.
    pub edition: Edition,
    /// Where it came from.
    pub edition_origin: Origin,
    /// Endpoint propagation lag.
    pub endpoint_lag: Span,
    /// Where it came from.
    pub endpoint_lag_origin: Origin,
    /// `.faasim.yaml`'s `ingress.readTimeout`: an ingress in front of the gateway, winning
    /// over the manifests'.
    pub ingress_read_timeout: Option<super::Setting<u64>>,
    /// `.faasim.yaml`'s `functions`: what the user settles per function.
    pub functions: BTreeMap<String, FunctionSettings>,
}

/// One function being resolved: what it says, and what has been found so far.
struct Resolver<'a> {
    /// The function as the files say it.
    raw: &'a RawFunction,
    /// The files, for error positions.
    sources: &'a [Source],
    /// The function's own environment as text, as faas-netes reads it (the Pro grace).
    environment: BTreeMap<String, String>,
    /// What the pod's processes read: the function's environment over the template
    /// Dockerfile's `ENV`.
    image_env: BTreeMap<String, String>,
    /// The function's template, when one applies.
    template: Option<&'static Template>,
    /// Where `.faasim.yaml` sets what the child does on SIGTERM, when it does.
    on_sigterm_setting: Option<Location>,
    /// Every effective value with where it came from, in the order resolved.
    provenance: Vec<Provenance>,
    /// What the inputs show that a component silently replaces or cannot read.
    findings: Vec<Finding>,
}

/// True for what Go's `strconv.Atoi` accepts (optional sign, ASCII digits).
fn is_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A file position as `file:line`, for provenance text.
fn at(location: &Location) -> String {
    format!("{}:{}", location.file, location.line)
}

/// Nanoseconds as a Go duration.
fn go(ns: u64) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

/// The shortest Go duration for whole seconds: `90s`, `2m`, `1h`.
fn compact_seconds(seconds: u64) -> String {
    if seconds > 0 && seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds > 0 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

impl Resolver<'_> {
    fn record(&mut self, key: &str, value: impl Into<String>, origin: Origin) {
        let value = value.into();
        if let Some(existing) = self.provenance.iter_mut().find(|p| p.key == key) {
            existing.value = value;
            existing.origin = origin;
        } else {
            self.provenance.push(Provenance {
                key: key.to_string(),
                value,
                origin,
            });
        }
    }

    fn finding(
        &mut self,
        rule: &str,
        severity: Severity,
        key: &str,
        location: Option<Location>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule: rule.to_string(),
            severity,
            function: self.raw.name.clone(),
            key: key.to_string(),
            location,
            message: message.into(),
            fix: fix.into(),
            counterexample: None,
            safe_value: None,
        });
    }

    fn error(&self, val: &Val, key: &str, message: impl Into<String>) -> InputError {
        error_at_location(
            self.sources,
            &val.location,
            val.width,
            Some(key.to_string()),
            message,
        )
    }

    fn env(&self, name: &str) -> Option<&Val> {
        self.raw.env.get(name)
    }

    /// An error of a reader of the environment, at the variable at fault.
    fn env_error(&self, error: ConfigError) -> InputError {
        let key = format!("function.environment.{}", error.key);
        match self.env(&error.key) {
            Some(val) => self.error(val, &key, error.message),
            // Not written in the function's own environment (the template's image sets it):
            // the function's entry is the place to look.
            None => error_at_location(
                self.sources,
                &self.raw.location,
                self.raw.name.chars().count(),
                Some(key),
                error.message,
            ),
        }
    }
}

/// A whole number, 0 or more, that fits u32 (Kubernetes integer fields).
fn parse_count(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok()
}

/// Resolves one function.
pub(crate) fn resolve(
    raw: &RawFunction,
    platform: &Platform,
    context: &Context,
    sources: &[Source],
) -> Result<FunctionInput, InputError> {
    let environment: BTreeMap<String, String> = raw
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.raw.clone()))
        .collect();
    let mut r = Resolver {
        raw,
        sources,
        image_env: environment.clone(),
        environment,
        template: None,
        on_sigterm_setting: None,
        provenance: Vec::new(),
        findings: Vec::new(),
    };
    let chosen = r.template(context.functions.get(&raw.name));
    if let Some(t) = chosen.template {
        r.image_env = t.environment(&r.environment);
    }
    let mode = r.mode(chosen.kind)?;
    let watchdog = r.watchdog(mode, chosen.kind)?;
    let child = r.child(mode, chosen.on_sigterm);
    let (scale_min, scale_max) = r.scale()?;
    r.strict_durations();

    let edition = context.edition;
    r.record(
        "kubernetes.edition",
        match edition {
            Edition::Ce => "ce",
            Edition::Pro => "pro",
        },
        context.edition_origin.clone(),
    );
    let (grace_s, grace_source) = r.grace(edition, &watchdog)?;
    let pre_stop_sleep_s = r.pre_stop()?;
    let readiness = r.readiness(edition, platform)?;
    let (max_surge, max_unavailable) = r.strategy()?;
    let lag = context.endpoint_lag;
    let lag_text = if lag.is_fixed() {
        go(lag.lo_ns)
    } else {
        format!("{}..{}", go(lag.lo_ns), go(lag.hi_ns))
    };
    r.record(
        "kubernetes.endpointLag",
        lag_text,
        context.endpoint_lag_origin.clone(),
    );

    let gateway = r.gateway(platform)?;
    let provider = r.provider(platform);
    r.ack_wait(platform);
    r.pro_queue_worker(platform);
    let ingress = r.ingress(platform, context.ingress_read_timeout.as_ref())?;
    r.unset_variables();
    let ignored_rules = r.ignored_rules()?;

    let config = Config {
        function: FunctionConfig {
            name: raw.name.clone(),
            watchdog,
            child,
            scale_min,
            scale_max,
            template: chosen.template.map(|t| t.lang),
            ..FunctionConfig::default()
        },
        kubernetes: KubernetesConfig {
            edition,
            grace_s,
            grace_source,
            pre_stop_sleep_s,
            readiness,
            max_surge,
            max_unavailable,
            endpoint_lag_ns: lag,
            ..KubernetesConfig::default()
        },
        gateway,
        provider,
        ingress,
        ..Config::default()
    };
    Ok(FunctionInput {
        name: raw.name.clone(),
        location: raw.location.clone(),
        config,
        provenance: r.provenance,
        ignored_rules,
        input_findings: r.findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact() {
        assert_eq!(compact_seconds(60), "1m");
        assert_eq!(compact_seconds(90), "90s");
        assert_eq!(compact_seconds(7200), "2h");
        assert_eq!(compact_seconds(0), "0s");
    }
}
