//! Kubernetes: the grace period (explicit, or the edition's), the preStop hook, the readiness
//! probe and the rolling update strategy.

use faasim_model::config::{
    Edition, GraceSource, IntOrPercent, KUBERNETES_DEFAULT_GRACE_S, KUBERNETES_DEFAULT_STRATEGY,
    KubernetesConfig, ProbeConfig, WatchdogConfig, edition_grace_s,
};
use faasim_model::duration::{PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS, PRO_GRACE_JITTER_SECONDS};

use super::{
    BARE_INT, INVALID_FALLBACK, Resolver, at, compact_seconds, go, is_integer, parse_count,
};
use crate::input::documents::{Platform, PreStop, ProbeVals, Val};
use crate::input::error::InputError;
use crate::{Origin, Severity};

impl Resolver<'_> {
    pub(super) fn grace(
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

    pub(super) fn pre_stop(&mut self) -> Result<u64, InputError> {
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

    pub(super) fn readiness(
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

    pub(super) fn strategy(&mut self) -> Result<(IntOrPercent, IntOrPercent), InputError> {
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
