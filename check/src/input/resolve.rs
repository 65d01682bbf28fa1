//! From what the files say to a function's effective [`Config`]: each component's parsing rules
//! and defaults, the edition's grace period, with where every value came from and a finding for
//! every value a component silently replaces.

use std::collections::BTreeMap;

use faasim_model::config::{
    ChildConfig, Config, ConfigError, Edition, FunctionConfig, GatewayConfig, GraceSource,
    IntOrPercent, KUBERNETES_DEFAULT_GRACE_S, KUBERNETES_DEFAULT_REPLICAS,
    KUBERNETES_DEFAULT_STRATEGY, KubernetesConfig, Mode, OnSigterm, ProbeConfig, ProviderConfig,
    Span, WatchdogConfig, WatchdogKind, edition_grace_s,
};
use faasim_model::duration::{
    CHART_ACK_WAIT_NS, GATEWAY_DEFAULT_TIMEOUT_NS, NS_PER_SECOND,
    PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS, PRO_GRACE_JITTER_SECONDS, PROVIDER_DEFAULT_TIMEOUT_NS,
    QUEUE_WORKER_DEFAULT_ACK_WAIT_NS, Reading, format_go, read_int_or_duration, read_strict,
};
use faasim_model::environment::{ChildEnv, WatchdogEnv, read_mode};
use faasim_model::sourced::{Source as From, Sourced};

use super::documents::{
    FunctionKind, Platform, PlatformSource, PreStop, ProbeVals, RawFunction, Setting, Val,
};
use super::error::InputError;
use super::source::{Source, error_at_location};
use crate::{Finding, FunctionInput, Location, Origin, Provenance, Severity};

/// Rule id of values a component silently replaces.
pub const INVALID_FALLBACK: &str = "invalid-duration-fallback";
/// Rule id of bare integers where a Go duration is required.
pub const BARE_INT: &str = "bare-int-duration";
/// Rule id of `${VAR}`s of a stack file that are not set.
pub const ENVSUBST_UNSET: &str = "envsubst-unset";

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
}

struct Resolver<'a> {
    /// The function as the files say it.
    raw: &'a RawFunction,
    /// The files, for error positions.
    sources: &'a [Source],
    /// The function's environment as text, as the pod's processes read it.
    environment: BTreeMap<String, String>,
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

fn at(location: &Location) -> String {
    format!("{}:{}", location.file, location.line)
}

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

/// A Go duration for a value people write by mistake (`2 minutes`, `90 sec`, `1d`).
pub(crate) fn suggest_duration(raw: &str) -> Option<String> {
    let mut text: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for (words, unit) in [
        (&["milliseconds", "millisecond", "millis", "msec"][..], "ms"),
        (&["minutes", "minute", "mins", "min"][..], "m"),
        (&["seconds", "second", "secs", "sec"][..], "s"),
        (&["hours", "hour", "hrs", "hr"][..], "h"),
    ] {
        for word in words {
            text = text.replace(word, unit);
        }
    }
    // Days: Go has no unit for them.
    let mut days_total: Option<i64> = None;
    if let Some((number, rest)) = text
        .split_once("days")
        .or_else(|| text.split_once("day"))
        .or_else(|| text.split_once('d'))
        && let Ok(days) = number.parse::<i64>()
    {
        days_total = Some(days);
        text = rest.to_string();
    }
    let mut ns = if text.is_empty() {
        Some(0)
    } else {
        read_strict(&text).ok()
    }?;
    if let Some(days) = days_total {
        ns = ns.checked_add(days.checked_mul(24 * 3600 * NS_PER_SECOND)?)?;
    }
    (ns > 0 && raw.trim() != format_go(ns)).then(|| format_go(ns))
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
            None => InputError::file(self.raw.location.file.clone(), error.message),
        }
    }

    // -----------------------------------------------------------------------------------------
    // The function
    // -----------------------------------------------------------------------------------------

    /// The watchdog mode: from the environment, else from the template (`lang`), else
    /// of-watchdog's own default (streaming).
    fn mode(&mut self) -> Result<Mode, InputError> {
        const KEY: &str = "function.mode";
        let mode = read_mode(&self.environment).map_err(|error| self.env_error(error))?;
        let mode_name = mode.value.name();
        if let From::Env { raw, .. } = &mode.from
            && let Some(val) = self.env("mode").cloned()
        {
            let origin = if raw == mode_name {
                Origin::File(val.location.clone())
            } else {
                Origin::Derived(format!(
                    "`mode: {raw}` at {}: no child server behind the watchdog, modelled as \
                     {mode_name}",
                    at(&val.location)
                ))
            };
            self.record(KEY, mode_name, origin);
            return Ok(mode.value);
        }
        if let Some(lang) = self.raw.lang.clone() {
            let name = lang.raw.to_lowercase();
            let http_template = name.contains("http")
                || name.contains("middleware")
                || name.contains("flask")
                || name.contains("express")
                || ["node", "java", "bun"].iter().any(|prefix| {
                    name.strip_prefix(prefix).is_some_and(|rest| {
                        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                    })
                });
            if http_template {
                self.record(
                    KEY,
                    "http",
                    Origin::Derived(format!(
                        "lang `{}` at {}: the template's Dockerfile sets mode=http, which the \
                         stack file does not show",
                        lang.raw,
                        at(&lang.location)
                    )),
                );
                return Ok(Mode::Http);
            }
            self.record(
                KEY,
                mode_name,
                Origin::Derived(format!(
                    "lang `{}` at {}: not a known HTTP-mode template, so of-watchdog's default \
                     ({mode_name}); set `mode` in environment to say otherwise",
                    lang.raw,
                    at(&lang.location)
                )),
            );
            return Ok(mode.value);
        }
        self.record(
            KEY,
            mode_name,
            Origin::Derived(format!(
                "no `mode` in the environment: of-watchdog's default ({mode_name}); the image's \
                 Dockerfile may set another"
            )),
        );
        Ok(mode.value)
    }

    /// A finding for a watchdog duration the watchdog silently replaces.
    fn watchdog_fallback(&mut self, name: &str, val: &Val, warning: &str, extra: &str) {
        let key = format!("function.environment.{name}");
        let message = format!("of-watchdog: {warning}{extra}");
        let fix = match suggest_duration(&val.raw) {
            Some(suggestion) => format!("write `{name}: {suggestion}`"),
            None => format!(
                "write `{name}` as a Go duration such as `30s` or `2m30s`, or as whole seconds \
                 (`150`)"
            ),
        };
        self.finding(
            INVALID_FALLBACK,
            Severity::Warning,
            &key,
            Some(val.location.clone()),
            message,
            fix,
        );
    }

    /// Provenance (and a finding on fallback) of one of of-watchdog's four durations.
    fn watchdog_duration(&mut self, name: &str, value: &Sourced<i64>, extra: &str) {
        let key = format!("function.environment.{name}");
        let text = format_go(value.value);
        match (&value.from, self.env(name).cloned()) {
            (From::Env { .. }, Some(val)) => {
                self.record(&key, text, Origin::File(val.location.clone()));
            }
            (From::Fallback { raw, warning, .. }, Some(val)) => {
                self.record(
                    &key,
                    text,
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                self.watchdog_fallback(name, &val, warning, extra);
            }
            (From::Default { empty: true } | From::Derived { empty: true, .. }, Some(val)) => self
                .record(
                    &key,
                    text,
                    Origin::Derived(format!("empty at {}: the default", at(&val.location))),
                ),
            (From::Derived { from, .. }, _) => {
                let origin = Origin::Derived(format!("defaults to {from} ({text})"));
                self.record(&key, text, origin);
            }
            _ => self.record(&key, text, Origin::Default),
        }
    }

    fn watchdog(&mut self, mode: Mode) -> Result<WatchdogConfig, InputError> {
        let reading = WatchdogEnv::read(&self.environment);
        let (watchdog, _warnings) =
            WatchdogConfig::from_reading(&reading, WatchdogKind::OfWatchdog, mode)
                .map_err(|error| self.env_error(error))?;
        for (name, value) in [
            ("write_timeout", &reading.write_timeout),
            ("read_timeout", &reading.read_timeout),
            ("exec_timeout", &reading.exec_timeout),
        ] {
            if value.is_set()
                && value.value < 0
                && let Some(val) = self.env(name)
            {
                return Err(self.error(
                    val,
                    &format!("function.environment.{name}"),
                    format!(
                        "{name} is negative ({}): every request would fail at once; faasim does \
                         not model it",
                        format_go(value.value)
                    ),
                ));
            }
        }
        // The child's own defaults: what it reads from an empty environment.
        let child_defaults = ChildEnv::read(&BTreeMap::new());
        let child_note = |name: &str| {
            let default = child_defaults
                .durations()
                .into_iter()
                .find(|(child_name, _)| *child_name == name);
            match default {
                Some((_, default)) if mode == Mode::Http => format!(
                    " (the child server behind the watchdog, reading the same variable, uses its \
                     own default {})",
                    format_go(default.value)
                ),
                _ => String::new(),
            }
        };
        for (name, value) in reading.durations() {
            self.watchdog_duration(name, value, &child_note(name));
        }

        const INFLIGHT: &str = "function.environment.max_inflight";
        let inflight = &reading.max_inflight;
        match (&inflight.from, self.env("max_inflight").cloned()) {
            (From::Env { .. }, Some(val)) => self.record(
                INFLIGHT,
                inflight.value.to_string(),
                Origin::File(val.location.clone()),
            ),
            (From::Fallback { raw, .. }, Some(val)) => {
                self.record(
                    INFLIGHT,
                    inflight.value.to_string(),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                self.finding(
                    INVALID_FALLBACK,
                    Severity::Warning,
                    INFLIGHT,
                    Some(val.location.clone()),
                    format!(
                        "of-watchdog: \"{raw}\" is not an integer, so it silently uses {} (no \
                         concurrency limit)",
                        inflight.value
                    ),
                    "write `max_inflight` as a whole number of requests (e.g. `10`)",
                );
            }
            _ => self.record(INFLIGHT, inflight.value.to_string(), Origin::Default),
        }
        Ok(watchdog)
    }

    /// The child server's reading of the same environment (golang-middleware: its own defaults).
    fn child(&mut self) -> ChildConfig {
        let reading = ChildEnv::read(&self.environment);
        let child = ChildConfig::from_reading(
            &reading,
            OnSigterm::Drain,
            ChildConfig::default().startup_ns,
        );
        for (name, value) in reading.durations() {
            let key = format!("function.upstream.{name}");
            let text = format_go(value.value);
            let origin = match (&value.from, self.env(name)) {
                (From::Env { .. }, Some(val)) => Origin::File(val.location.clone()),
                (From::Fallback { raw, .. }, Some(val)) => Origin::Fallback {
                    location: val.location.clone(),
                    raw: raw.clone(),
                },
                (From::Derived { from, .. }, _) => {
                    Origin::Derived(format!("defaults to the child's {from} ({text})"))
                }
                _ => Origin::Default,
            };
            self.record(&key, text, origin);
        }
        self.record(
            "function.upstream.onSigterm",
            "drain",
            Origin::Derived(
                "assumed: the child drains on SIGTERM like the golang-middleware template; the \
                 files cannot show what the image does"
                    .to_string(),
            ),
        );
        child
    }

    /// `com.openfaas.scale.min` / `max` (a Deployment's replicas stand for min when unlabelled).
    fn scale(&mut self) -> Result<(u32, u32), InputError> {
        const MIN: &str = "com.openfaas.scale.min";
        const MAX: &str = "com.openfaas.scale.max";
        let min_key = format!("function.labels.{MIN}");
        let max_key = format!("function.labels.{MAX}");
        let label = |resolver: &mut Self, name: &str, key: &str, default: u32| -> Option<u32> {
            let val = resolver.raw.labels.get(name)?.clone();
            match val.raw.trim().parse::<i64>() {
                Ok(n) if n >= 1 => {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    resolver.record(key, n.to_string(), Origin::File(val.location.clone()));
                    Some(n)
                }
                Ok(_) => {
                    resolver.record(
                        key,
                        default.to_string(),
                        Origin::Derived(format!(
                            "`{name}: {}` at {}: faas-netes only uses values of 1 or more, so {default}",
                            val.raw,
                            at(&val.location)
                        )),
                    );
                    Some(default)
                }
                Err(_) => {
                    resolver.record(
                        key,
                        default.to_string(),
                        Origin::Fallback {
                            location: val.location.clone(),
                            raw: val.raw.clone(),
                        },
                    );
                    resolver.finding(
                        INVALID_FALLBACK,
                        Severity::Warning,
                        key,
                        Some(val.location.clone()),
                        format!(
                            "\"{}\" is not an integer: OpenFaaS ignores the label without an error \
                             and uses {default}",
                            val.raw
                        ),
                        format!("write `{name}` as a whole number of replicas (e.g. `{default}`)"),
                    );
                    Some(default)
                }
            }
        };
        let defaults = FunctionConfig::default();
        let min = match label(self, MIN, &min_key, defaults.scale_min) {
            Some(min) => min,
            None => {
                let replicas = self
                    .raw
                    .deployment
                    .as_ref()
                    .and_then(|d| d.replicas.clone());
                match replicas {
                    Some(val) => {
                        let n = parse_count(&val.raw).ok_or_else(|| {
                            self.error(
                                &val,
                                "spec.replicas",
                                "replicas must be a whole number, 0 or more",
                            )
                        })?;
                        self.record(&min_key, n.to_string(), Origin::File(val.location.clone()));
                        n
                    }
                    None if self.raw.kind == FunctionKind::Deployment => {
                        self.record(
                            &min_key,
                            KUBERNETES_DEFAULT_REPLICAS.to_string(),
                            Origin::Derived(format!(
                                "no label and no `spec.replicas`: Kubernetes starts \
                                 {KUBERNETES_DEFAULT_REPLICAS}"
                            )),
                        );
                        KUBERNETES_DEFAULT_REPLICAS
                    }
                    None => {
                        self.record(&min_key, defaults.scale_min.to_string(), Origin::Default);
                        defaults.scale_min
                    }
                }
            }
        };
        let max = match label(self, MAX, &max_key, defaults.scale_max) {
            Some(max) => max,
            None => {
                self.record(&max_key, defaults.scale_max.to_string(), Origin::Default);
                defaults.scale_max
            }
        };
        if let Some(val) = self.raw.labels.get("com.openfaas.scale.zero").cloned() {
            self.record(
                "function.labels.com.openfaas.scale.zero",
                val.raw.trim().to_lowercase(),
                Origin::File(val.location.clone()),
            );
        }
        Ok((min, max))
    }

    /// Labels and annotations read with plain `time.ParseDuration`: a bare integer is rejected.
    fn strict_durations(&mut self) {
        let candidates: Vec<(String, String, Val, &str)> = [
            (
                "labels",
                "com.openfaas.scale.zero-duration",
                "the OpenFaaS Pro autoscaler",
            ),
            (
                "labels",
                "com.openfaas.scale.down.window",
                "the OpenFaaS Pro autoscaler",
            ),
            (
                "annotations",
                "com.openfaas.health.http.initialDelay",
                "faas-netes",
            ),
        ]
        .into_iter()
        .filter_map(|(map, name, reader)| {
            let source = if map == "labels" {
                &self.raw.labels
            } else {
                &self.raw.annotations
            };
            source.get(name).map(|val| {
                (
                    format!("function.{map}.{name}"),
                    name.to_string(),
                    val.clone(),
                    reader,
                )
            })
        })
        .collect();
        for (key, name, val, reader) in candidates {
            self.record(&key, val.raw.clone(), Origin::File(val.location.clone()));
            if is_integer(&val.raw) && !val.raw.starts_with('-') {
                let seconds = val.raw.trim_start_matches('+').parse::<u64>().unwrap_or(0);
                self.finding(
                    BARE_INT,
                    Severity::Note,
                    &key,
                    Some(val.location.clone()),
                    format!(
                        "`{name}: {}` has no unit: {reader} reads it with time.ParseDuration, \
                         which rejects a bare integer (unlike the watchdog's timeouts)",
                        val.raw
                    ),
                    format!("write `{name}: {}`", compact_seconds(seconds)),
                );
            } else if let Err(error) = read_strict(&val.raw) {
                self.finding(
                    INVALID_FALLBACK,
                    Severity::Note,
                    &key,
                    Some(val.location.clone()),
                    format!("{reader} cannot read it: {error}"),
                    match suggest_duration(&val.raw) {
                        Some(s) => format!("write `{name}: {s}`"),
                        None => format!("write `{name}` as a Go duration such as `15m`"),
                    },
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Kubernetes
    // -----------------------------------------------------------------------------------------

    fn grace(
        &mut self,
        edition: Edition,
        write: &WatchdogConfig,
    ) -> Result<(u64, GraceSource), InputError> {
        const KEY: &str = "kubernetes.terminationGracePeriodSeconds";
        if let Some(deployment) = &self.raw.deployment {
            return match deployment.grace.clone() {
                Some(val) => {
                    let seconds = parse_count(&val.raw).ok_or_else(|| {
                        self.error(
                            &val,
                            "spec.template.spec.terminationGracePeriodSeconds",
                            "terminationGracePeriodSeconds must be a whole number of seconds, 0 or more",
                        )
                    })?;
                    self.record(KEY, seconds.to_string(), Origin::File(val.location.clone()));
                    Ok((u64::from(seconds), GraceSource::Explicit))
                }
                None => {
                    let seconds = KUBERNETES_DEFAULT_GRACE_S;
                    self.record(KEY, seconds.to_string(), Origin::Default);
                    Ok((seconds, GraceSource::KubernetesDefault))
                }
            };
        }
        let (seconds, source, warning) = edition_grace_s(edition, &self.environment);
        match edition {
            Edition::Ce => self.record(
                KEY,
                seconds.to_string(),
                Origin::Derived(
                    "edition ce: OpenFaaS CE sets no terminationGracePeriodSeconds, so the \
                     Kubernetes default"
                        .to_string(),
                ),
            ),
            Edition::Pro => {
                let written = match self.env("write_timeout") {
                    Some(val) if !val.raw.is_empty() => {
                        format!("\"{}\" at {}", val.raw, at(&val.location))
                    }
                    _ => format!("unset, {PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS}s"),
                };
                self.record(
                    KEY,
                    seconds.to_string(),
                    Origin::Derived(format!(
                        "edition pro: faas-netes sets write_timeout ({written}) + \
                         {PRO_GRACE_JITTER_SECONDS}s"
                    )),
                );
            }
        }
        if let Some(warning) = warning
            && let Some(val) = self.env("write_timeout").cloned()
        {
            let key = "function.environment.write_timeout";
            if is_integer(&val.raw) && !val.raw.starts_with('-') {
                let seconds_written = val.raw.trim_start_matches('+').parse::<u64>().unwrap_or(0);
                self.finding(
                    BARE_INT,
                    Severity::Warning,
                    key,
                    Some(val.location.clone()),
                    warning,
                    format!(
                        "write `write_timeout: {}`: of-watchdog reads it the same ({}), and \
                         faas-netes then derives a grace period of {} s",
                        compact_seconds(seconds_written),
                        go(write.write_timeout_ns),
                        seconds_written
                            .saturating_add(u64::try_from(PRO_GRACE_JITTER_SECONDS).unwrap_or(0))
                    ),
                );
            } else if let Some(existing) = self
                .findings
                .iter_mut()
                .find(|f| f.rule == INVALID_FALLBACK && f.key == key)
            {
                existing.message.push_str(&format!(
                    "; under OpenFaaS Pro faas-netes rejects it too and sets \
                     terminationGracePeriodSeconds = {seconds}"
                ));
            }
        }
        Ok((seconds, source))
    }

    fn pre_stop(&mut self) -> Result<u64, InputError> {
        const KEY: &str = "kubernetes.preStop.sleep";
        let hook = self.raw.deployment.as_ref().map(|d| d.pre_stop.clone());
        match hook {
            None | Some(PreStop::None) => {
                let seconds = KubernetesConfig::default().pre_stop_sleep_s;
                self.record(KEY, seconds.to_string(), Origin::Default);
                Ok(seconds)
            }
            Some(PreStop::Sleep(val)) => {
                let seconds = parse_count(&val.raw).ok_or_else(|| {
                    self.error(
                        &val,
                        "lifecycle.preStop.sleep.seconds",
                        "preStop sleep seconds must be a whole number, 0 or more",
                    )
                })?;
                self.record(KEY, seconds.to_string(), Origin::File(val.location.clone()));
                Ok(u64::from(seconds))
            }
            Some(PreStop::Unknown { location, what }) => {
                self.record(
                    KEY,
                    "0",
                    Origin::Derived(format!(
                        "{what} at {}: how long it takes cannot be read from the file; counted as 0s",
                        at(&location)
                    )),
                );
                Ok(0)
            }
        }
    }

    fn probe_field(
        &mut self,
        name: &str,
        val: Option<&Val>,
        fallback: u32,
        fallback_origin: Origin,
        minimum: u32,
        zero_means_default: bool,
    ) -> Result<u32, InputError> {
        let key = format!("kubernetes.readinessProbe.{name}");
        let Some(val) = val else {
            self.record(&key, fallback.to_string(), fallback_origin);
            return Ok(fallback);
        };
        let n = parse_count(&val.raw).ok_or_else(|| {
            self.error(
                val,
                &key,
                format!("{name} must be a whole number, {minimum} or more"),
            )
        })?;
        if n == 0 && zero_means_default {
            self.record(
                &key,
                fallback.to_string(),
                Origin::Derived(format!(
                    "0 at {}: Kubernetes uses its default",
                    at(&val.location)
                )),
            );
            return Ok(fallback);
        }
        if n < minimum {
            return Err(self.error(val, &key, format!("{name} must be {minimum} or more")));
        }
        self.record(&key, n.to_string(), Origin::File(val.location.clone()));
        Ok(n)
    }

    fn readiness(
        &mut self,
        edition: Edition,
        platform: &Platform,
    ) -> Result<ProbeConfig, InputError> {
        if let Some(deployment) = self.raw.deployment.clone() {
            let Some(probe) = deployment.readiness else {
                let origin = Origin::Derived(
                    "the Deployment has no readinessProbe: the pod is ready as soon as its \
                     container starts (modelled as a probe every 1s from 0s)"
                        .to_string(),
                );
                let none = ProbeConfig::NONE;
                for (name, value) in probe_fields(&none) {
                    self.record(
                        &format!("kubernetes.readinessProbe.{name}"),
                        value.to_string(),
                        origin.clone(),
                    );
                }
                return Ok(none);
            };
            // Kubernetes defaults for fields the probe leaves out (0 also means the default).
            let defaults = ProbeConfig::KUBERNETES;
            return Ok(ProbeConfig {
                initial_delay_s: self.probe_field(
                    "initialDelaySeconds",
                    probe.initial_delay.as_ref(),
                    defaults.initial_delay_s,
                    Origin::Default,
                    0,
                    false,
                )?,
                period_s: self.probe_field(
                    "periodSeconds",
                    probe.period.as_ref(),
                    defaults.period_s,
                    Origin::Default,
                    1,
                    true,
                )?,
                failure_threshold: self.probe_field(
                    "failureThreshold",
                    probe.failure.as_ref(),
                    defaults.failure_threshold,
                    Origin::Default,
                    1,
                    true,
                )?,
                success_threshold: self.probe_field(
                    "successThreshold",
                    probe.success.as_ref(),
                    defaults.success_threshold,
                    Origin::Default,
                    1,
                    true,
                )?,
            });
        }
        let ce = ProbeConfig::default();
        match edition {
            Edition::Ce => {
                let given = [
                    (
                        "initialDelaySeconds",
                        ce.initial_delay_s,
                        &platform.probe.initial_delay,
                    ),
                    ("periodSeconds", ce.period_s, &platform.probe.period),
                    (
                        "failureThreshold",
                        ce.failure_threshold,
                        &platform.probe.failure,
                    ),
                    (
                        "successThreshold",
                        ce.success_threshold,
                        &platform.probe.success,
                    ),
                ];
                for (name, value, val) in given {
                    let origin = match val {
                        Some(val) => Origin::Derived(format!(
                            "OpenFaaS CE hard-codes the function probe; `{name}: {}` at {} only \
                             reaches the Pro operator",
                            val.raw,
                            at(&val.location)
                        )),
                        None => Origin::Default,
                    };
                    self.record(
                        &format!("kubernetes.readinessProbe.{name}"),
                        value.to_string(),
                        origin,
                    );
                }
                Ok(ce)
            }
            Edition::Pro => {
                // The Pro operator reads the chart's functions.readinessProbe (defaults 0/2/3/1);
                // the function's com.openfaas.ready.http.* annotations override it.
                let annotation = |resolver: &Self, name: &str| {
                    resolver
                        .raw
                        .annotations
                        .get(&format!("com.openfaas.ready.http.{name}"))
                        .cloned()
                };
                let pick = |resolver: &Self, name: &str, chart: &Option<Val>| {
                    annotation(resolver, name).or_else(|| chart.clone())
                };
                let probe: ProbeVals = platform.probe.clone();
                let initial = pick(self, "initialDelaySeconds", &probe.initial_delay);
                let period = pick(self, "periodSeconds", &probe.period);
                let failure = pick(self, "failureThreshold", &probe.failure);
                let success = pick(self, "successThreshold", &probe.success);
                let defaults = ProbeConfig::PRO_CHART;
                Ok(ProbeConfig {
                    initial_delay_s: self.probe_field(
                        "initialDelaySeconds",
                        initial.as_ref(),
                        defaults.initial_delay_s,
                        Origin::Default,
                        0,
                        false,
                    )?,
                    period_s: self.probe_field(
                        "periodSeconds",
                        period.as_ref(),
                        defaults.period_s,
                        Origin::Default,
                        1,
                        false,
                    )?,
                    failure_threshold: self.probe_field(
                        "failureThreshold",
                        failure.as_ref(),
                        defaults.failure_threshold,
                        Origin::Default,
                        1,
                        false,
                    )?,
                    success_threshold: self.probe_field(
                        "successThreshold",
                        success.as_ref(),
                        defaults.success_threshold,
                        Origin::Default,
                        1,
                        false,
                    )?,
                })
            }
        }
    }

    fn int_or_percent(&mut self, key: &str, val: &Val) -> Result<IntOrPercent, InputError> {
        let raw = val.raw.trim();
        let parsed = match raw.strip_suffix('%') {
            Some(number) => parse_count(number).map(IntOrPercent::Percent),
            None => parse_count(raw).map(IntOrPercent::Int),
        };
        let value = parsed.ok_or_else(|| {
            self.error(
                val,
                key,
                format!("`{raw}` is not a whole number or a percentage like \"25%\""),
            )
        })?;
        self.record(key, raw.to_string(), Origin::File(val.location.clone()));
        Ok(value)
    }

    fn strategy(&mut self) -> Result<(IntOrPercent, IntOrPercent), InputError> {
        const SURGE: &str = "kubernetes.strategy.maxSurge";
        const UNAVAILABLE: &str = "kubernetes.strategy.maxUnavailable";
        let Some(deployment) = self.raw.deployment.clone() else {
            let faas_netes = KubernetesConfig::default();
            let (surge, unavailable) = (faas_netes.max_surge, faas_netes.max_unavailable);
            let origin = Origin::Derived(format!(
                "faas-netes sets maxSurge {surge}, maxUnavailable {unavailable}"
            ));
            self.record(SURGE, surge.to_string(), origin.clone());
            self.record(UNAVAILABLE, unavailable.to_string(), origin);
            return Ok((surge, unavailable));
        };
        if let Some(kind) = &deployment.strategy_type
            && kind.raw == "Recreate"
        {
            let origin = Origin::Derived(format!(
                "`type: Recreate` at {}: every old pod stops before new ones start (modelled as \
                 maxSurge 0, maxUnavailable 100%)",
                at(&kind.location)
            ));
            self.record(SURGE, "0", origin.clone());
            self.record(UNAVAILABLE, "100%", origin);
            return Ok((IntOrPercent::Int(0), IntOrPercent::Percent(100)));
        }
        let (default_surge, default_unavailable) = KUBERNETES_DEFAULT_STRATEGY;
        let surge = match &deployment.max_surge {
            Some(val) => self.int_or_percent(SURGE, val)?,
            None => {
                self.record(SURGE, default_surge.to_string(), Origin::Default);
                default_surge
            }
        };
        let unavailable = match &deployment.max_unavailable {
            Some(val) => {
                let value = self.int_or_percent(UNAVAILABLE, val)?;
                if let IntOrPercent::Percent(p) = value
                    && p > 100
                {
                    return Err(self.error(
                        val,
                        UNAVAILABLE,
                        format!("must not be over 100%, got {p}%"),
                    ));
                }
                value
            }
            None => {
                self.record(
                    UNAVAILABLE,
                    default_unavailable.to_string(),
                    Origin::Default,
                );
                default_unavailable
            }
        };
        let zero = |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
        if zero(surge) && zero(unavailable) {
            let val = deployment
                .max_unavailable
                .as_ref()
                .or(deployment.max_surge.as_ref())
                .cloned();
            if let Some(val) = val {
                return Err(self.error(
                    &val,
                    UNAVAILABLE,
                    "maxSurge and maxUnavailable are both 0: Kubernetes rejects this Deployment",
                ));
            }
        }
        Ok((surge, unavailable))
    }

    // -----------------------------------------------------------------------------------------
    // Gateway, provider, queue-worker
    // -----------------------------------------------------------------------------------------

    fn gateway_duration(
        &mut self,
        key: &str,
        env: &str,
        setting: Option<&Setting>,
        chart_ns: u64,
    ) -> Result<u64, InputError> {
        let Some(setting) = setting else {
            self.record(key, go(chart_ns), Origin::Default);
            return Ok(chart_ns);
        };
        let val = &setting.val;
        let reading = read_int_or_duration(Some(&val.raw), GATEWAY_DEFAULT_TIMEOUT_NS);
        match &reading {
            Reading::Set { ns } if *ns < 0 => Err(self.error(
                val,
                key,
                format!("negative ({}): the gateway would fail every request at once; faasim does not model it", format_go(*ns)),
            )),
            Reading::Set { ns } => {
                self.record(key, format_go(*ns), Origin::File(val.location.clone()));
                Ok(u64::try_from(*ns).unwrap_or(0))
            }
            Reading::Unset { default_ns } => {
                self.record(
                    key,
                    format_go(*default_ns),
                    Origin::Derived(format!(
                        "empty at {}: the gateway uses its built-in default",
                        at(&val.location)
                    )),
                );
                Ok(u64::try_from(*default_ns).unwrap_or(0))
            }
            Reading::Fallback { default_ns, raw, .. } => {
                self.record(
                    key,
                    format_go(*default_ns),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                let name = key.rsplit('.').next().unwrap_or(key);
                let written = match setting.from {
                    PlatformSource::Values => name.to_string(),
                    PlatformSource::Env => env.to_string(),
                };
                self.finding(
                    INVALID_FALLBACK,
                    Severity::Warning,
                    key,
                    Some(val.location.clone()),
                    format!("gateway: {}", reading.warning().unwrap_or_default()),
                    match suggest_duration(&val.raw) {
                        Some(s) => format!("write `{written}: {s}`"),
                        None => format!("write `{written}` as a Go duration such as `1m30s`, or whole seconds"),
                    },
                );
                Ok(u64::try_from(*default_ns).unwrap_or(0))
            }
        }
    }

    fn gateway(&mut self, platform: &Platform) -> Result<GatewayConfig, InputError> {
        let chart = GatewayConfig::default();
        let upstream = self.gateway_duration(
            "gateway.upstreamTimeout",
            "upstream_timeout",
            platform.upstream_timeout.as_ref(),
            chart.upstream_timeout_ns,
        )?;
        let read = self.gateway_duration(
            "gateway.readTimeout",
            "read_timeout",
            platform.read_timeout.as_ref(),
            chart.read_timeout_ns,
        )?;
        let write = self.gateway_duration(
            "gateway.writeTimeout",
            "write_timeout",
            platform.write_timeout.as_ref(),
            chart.write_timeout_ns,
        )?;
        const SCALE: &str = "gateway.scaleFromZero";
        let scale_from_zero = match &platform.scale_from_zero {
            None => {
                self.record(SCALE, chart.scale_from_zero.to_string(), Origin::Default);
                chart.scale_from_zero
            }
            Some(setting) => {
                let val = &setting.val;
                match val.raw.as_str() {
                    "true" | "false" => {
                        self.record(SCALE, val.raw.clone(), Origin::File(val.location.clone()));
                        val.raw == "true"
                    }
                    _ => {
                        self.record(
                            SCALE,
                            "false",
                            Origin::Fallback {
                                location: val.location.clone(),
                                raw: val.raw.clone(),
                            },
                        );
                        self.finding(
                            INVALID_FALLBACK,
                            Severity::Warning,
                            SCALE,
                            Some(val.location.clone()),
                            format!(
                                "gateway: scale_from_zero \"{}\" is not exactly `true`, so the \
                                 gateway silently turns scaling from zero off",
                                val.raw
                            ),
                            "write `scaleFromZero: true` (or `false`)",
                        );
                        false
                    }
                }
            }
        };
        Ok(GatewayConfig {
            upstream_timeout_ns: upstream,
            read_timeout_ns: read,
            write_timeout_ns: write,
            scale_from_zero,
            ..chart
        })
    }

    fn provider_duration(
        &mut self,
        key: &str,
        own: Option<&Setting>,
        gateway_key: &str,
        gateway: Option<&Setting>,
        chart_ns: u64,
    ) -> u64 {
        let (val, inherited, from) = match (own, gateway.filter(|g| !g.val.raw.is_empty())) {
            (Some(own), _) => (own.val.clone(), false, own.from),
            (None, Some(gateway)) => (gateway.val.clone(), true, gateway.from),
            (None, None) => {
                self.record(
                    key,
                    go(chart_ns),
                    Origin::Derived(format!(
                        "unset: the chart passes {gateway_key} (default {})",
                        go(chart_ns)
                    )),
                );
                return chart_ns;
            }
        };
        let reading = read_int_or_duration(Some(&val.raw), PROVIDER_DEFAULT_TIMEOUT_NS);
        let ns = u64::try_from(reading.ns()).unwrap_or(0);
        match (&reading, inherited) {
            (Reading::Fallback { raw, .. }, _) => {
                self.record(
                    key,
                    go(ns),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                if !inherited {
                    self.finding(
                        INVALID_FALLBACK,
                        Severity::Warning,
                        key,
                        Some(val.location.clone()),
                        format!("faas-netes: {}", reading.warning().unwrap_or_default()),
                        {
                            let written = match from {
                                PlatformSource::Values => key.rsplit('.').next().unwrap_or(key),
                                PlatformSource::Env if key.ends_with("readTimeout") => {
                                    "read_timeout"
                                }
                                PlatformSource::Env => "write_timeout",
                            };
                            match suggest_duration(&val.raw) {
                                Some(s) => format!("write `{written}: {s}`"),
                                None => format!(
                                    "write `{written}` as a Go duration such as `1m30s`, or \
                                     whole seconds"
                                ),
                            }
                        },
                    );
                }
            }
            (_, false) => self.record(key, go(ns), Origin::File(val.location.clone())),
            (_, true) => self.record(
                key,
                go(ns),
                Origin::Derived(format!(
                    "unset: the chart passes {gateway_key} (at {})",
                    at(&val.location)
                )),
            ),
        }
        ns
    }

    fn provider(&mut self, platform: &Platform) -> ProviderConfig {
        let chart = ProviderConfig::default();
        let read = self.provider_duration(
            "faasnetes.readTimeout",
            platform.provider_read.as_ref(),
            "gateway.readTimeout",
            platform.read_timeout.as_ref(),
            chart.read_timeout_ns,
        );
        let write = self.provider_duration(
            "faasnetes.writeTimeout",
            platform.provider_write.as_ref(),
            "gateway.writeTimeout",
            platform.write_timeout.as_ref(),
            chart.write_timeout_ns,
        );
        ProviderConfig {
            read_timeout_ns: read,
            write_timeout_ns: write,
            ..chart
        }
    }

    fn ack_wait(&mut self, platform: &Platform) {
        const KEY: &str = "queueWorker.ackWait";
        let Some(setting) = &platform.ack_wait else {
            self.record(KEY, format_go(CHART_ACK_WAIT_NS), Origin::Default);
            return;
        };
        let val = setting.val.clone();
        match read_strict(&val.raw) {
            Ok(ns) => self.record(KEY, format_go(ns), Origin::File(val.location.clone())),
            Err(error) => {
                self.record(
                    KEY,
                    format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: val.raw.clone(),
                    },
                );
                let written = match setting.from {
                    PlatformSource::Values => "ackWait",
                    PlatformSource::Env => "ack_wait",
                };
                let (rule, message, fix) = if is_integer(&val.raw) && !val.raw.starts_with('-') {
                    let seconds = val.raw.trim_start_matches('+').parse::<u64>().unwrap_or(0);
                    (
                        BARE_INT,
                        format!(
                            "queue-worker: ack_wait \"{}\" has no unit; it is read with \
                             time.ParseDuration, which rejects it, so the worker logs an error and \
                             uses {}",
                            val.raw,
                            format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS)
                        ),
                        format!("write `{written}: {}`", compact_seconds(seconds)),
                    )
                } else {
                    (
                        INVALID_FALLBACK,
                        format!(
                            "queue-worker: {error}; it logs an error and uses {}",
                            format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS)
                        ),
                        match suggest_duration(&val.raw) {
                            Some(s) => format!("write `{written}: {s}`"),
                            None => format!("write `{written}` as a Go duration such as `5m`"),
                        },
                    )
                };
                self.finding(
                    rule,
                    Severity::Warning,
                    KEY,
                    Some(val.location.clone()),
                    message,
                    fix,
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Ignores and envsubst
    // -----------------------------------------------------------------------------------------

    fn ignored_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        let mut add = |rule: &str| {
            let rule = rule.trim();
            if !rule.is_empty() && !rules.iter().any(|r| r == rule) {
                rules.push(rule.to_string());
            }
        };
        for map in [
            &self.raw.object_annotations,
            &self.raw.annotations,
            &self.raw.labels,
        ] {
            for (key, val) in map {
                if key == "faasim.dev/ignore" {
                    val.raw.split(',').for_each(&mut add);
                } else if let Some(rule) = key.strip_prefix("ignore-check.faasim.dev/") {
                    add(rule);
                }
            }
        }
        rules
    }

    fn unset_variables(&mut self) {
        for unset in self.raw.unset.clone() {
            let key = if unset.path.is_empty() {
                "function".to_string()
            } else {
                format!("function.{}", unset.path)
            };
            self.finding(
                ENVSUBST_UNSET,
                Severity::Warning,
                &key,
                Some(unset.location.clone()),
                format!(
                    "`{}` is not set: faas-cli substitutes an empty string, so the value is empty \
                     and the component uses its default",
                    unset.expression
                ),
                format!(
                    "set {} in the environment, or give a default: `${{{}:-VALUE}}`",
                    unset.name, unset.name
                ),
            );
        }
    }
}

/// A probe's four fields under their names in a Deployment.
fn probe_fields(probe: &ProbeConfig) -> [(&'static str, u32); 4] {
    [
        ("initialDelaySeconds", probe.initial_delay_s),
        ("periodSeconds", probe.period_s),
        ("failureThreshold", probe.failure_threshold),
        ("successThreshold", probe.success_threshold),
    ]
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
    let mut r = Resolver {
        raw,
        sources,
        environment: raw
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.raw.clone()))
            .collect(),
        provenance: Vec::new(),
        findings: Vec::new(),
    };
    let mode = r.mode()?;
    let watchdog = r.watchdog(mode)?;
    let child = r.child();
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
    r.unset_variables();
    let ignored_rules = r.ignored_rules();

    let config = Config {
        function: FunctionConfig {
            name: raw.name.clone(),
            watchdog,
            child,
            scale_min,
            scale_max,
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
    fn suggestions() {
        assert_eq!(suggest_duration("2 minutes").as_deref(), Some("2m0s"));
        assert_eq!(suggest_duration("90 sec").as_deref(), Some("1m30s"));
        assert_eq!(suggest_duration("1h30min").as_deref(), Some("1h30m0s"));
        assert_eq!(suggest_duration("1d").as_deref(), Some("24h0m0s"));
        assert_eq!(suggest_duration("2m 30s").as_deref(), Some("2m30s"));
        assert_eq!(suggest_duration("lots"), None);
        assert_eq!(suggest_duration("2m0s"), None);
    }

    #[test]
    fn compact() {
        assert_eq!(compact_seconds(60), "1m");
        assert_eq!(compact_seconds(90), "90s");
        assert_eq!(compact_seconds(7200), "2h");
        assert_eq!(compact_seconds(0), "0s");
    }
}
