//! The `kubernetes` section: the edition and the grace period it derives, preStop, the
//! readiness probe, the rolling-update strategy, endpoint lag, nodes, the restart delay and
//! the node lifecycle controller's timers.

use std::collections::BTreeMap;

use faasim_model::config::{
    Edition, GraceSource, IntOrPercent, KubernetesConfig, ProbeConfig, Span, edition_grace_s,
};
use faasim_model::limits;

use faasim_model::time::NS_PER_S;

use super::super::ScenarioError;
use super::super::raw::RawKubernetes;
use super::{Builder, field};

impl Builder<'_> {
    pub(super) fn kubernetes(
        &mut self,
        raw: RawKubernetes,
        env: &BTreeMap<String, String>,
    ) -> Result<KubernetesConfig, ScenarioError> {
        let defaults = KubernetesConfig::default();
        let edition = self.choice(
            "kubernetes.edition",
            field(&raw.edition),
            Edition::Ce,
            &[("ce", Edition::Ce), ("pro", Edition::Pro)],
            false,
        )?;
        let grace_field = field(&raw.termination_grace_period_seconds);
        let (grace_s, grace_source) = match grace_field.raw {
            Some(_) => {
                let seconds = self.integer(
                    "kubernetes.terminationGracePeriodSeconds",
                    grace_field,
                    0,
                    0,
                    9_223_372_036,
                )?;
                (seconds, GraceSource::Explicit)
            }
            None => {
                let (seconds, source, warning) = edition_grace_s(edition, env);
                if let Some(warning) = warning {
                    self.warn("kubernetes.edition", warning);
                }
                (seconds, source)
            }
        };
        let pre_stop = raw.pre_stop.unwrap_or_default();
        let sleep = field(&pre_stop.sleep);
        let pre_stop_sleep_s = match sleep.raw {
            // Kubernetes' sleep action takes integer seconds; a Go duration of whole seconds
            // (`5s`, `1m`) says the same and is read like every other duration here.
            Some(raw) if raw.trim().parse::<i64>().is_err() => {
                let ns = self.duration("kubernetes.preStop.sleep", sleep, 0)?;
                if ns % NS_PER_S != 0 {
                    return Err(self.error(
                        "kubernetes.preStop.sleep",
                        sleep.loc,
                        format!(
                            "`{raw}` is not a whole number of seconds, which the Kubernetes \
                             sleep action takes"
                        ),
                    ));
                }
                ns / NS_PER_S
            }
            _ => self.integer(
                "kubernetes.preStop.sleep",
                sleep,
                defaults.pre_stop_sleep_s,
                0,
                9_223_372_036,
            )?,
        };
        let probe = raw.readiness_probe.unwrap_or_default();
        let probe_defaults = ProbeConfig::default();
        let readiness = ProbeConfig {
            initial_delay_s: self.int_u32(
                "kubernetes.readinessProbe.initialDelaySeconds",
                field(&probe.initial_delay_seconds),
                probe_defaults.initial_delay_s,
                0,
            )?,
            period_s: self.int_u32(
                "kubernetes.readinessProbe.periodSeconds",
                field(&probe.period_seconds),
                probe_defaults.period_s,
                1,
            )?,
            failure_threshold: self.int_u32(
                "kubernetes.readinessProbe.failureThreshold",
                field(&probe.failure_threshold),
                probe_defaults.failure_threshold,
                1,
            )?,
            success_threshold: self.int_u32(
                "kubernetes.readinessProbe.successThreshold",
                field(&probe.success_threshold),
                probe_defaults.success_threshold,
                1,
            )?,
        };
        let phase_field = field(&probe.phase);
        let readiness_phase_ns = match phase_field.raw {
            Some(_) => Some(self.span(
                "kubernetes.readinessProbe.phase",
                phase_field,
                Span::fixed(0),
            )?),
            None => None,
        };
        let strategy = raw.strategy.unwrap_or_default();
        let surge_field = field(&strategy.max_surge);
        let unavailable_field = field(&strategy.max_unavailable);
        let max_surge = self.int_or_percent(
            "kubernetes.strategy.maxSurge",
            surge_field,
            defaults.max_surge,
        )?;
        let max_unavailable = self.int_or_percent(
            "kubernetes.strategy.maxUnavailable",
            unavailable_field,
            defaults.max_unavailable,
        )?;
        if let IntOrPercent::Percent(p) = max_unavailable
            && p > 100
        {
            return Err(self.error(
                "kubernetes.strategy.maxUnavailable",
                unavailable_field.loc,
                format!("must not be greater than 100%, got {p}%"),
            ));
        }
        let is_zero =
            |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
        if is_zero(max_surge) && is_zero(max_unavailable) {
            let (key, loc) = if unavailable_field.raw.is_some() {
                ("kubernetes.strategy.maxUnavailable", unavailable_field.loc)
            } else {
                ("kubernetes.strategy.maxSurge", surge_field.loc)
            };
            return Err(self.error(
                key,
                loc,
                "maxSurge and maxUnavailable are both 0: Kubernetes rejects this Deployment \
                 (\"may not be 0 when `maxSurge` is 0\")",
            ));
        }
        let endpoint_lag_ns = self.span(
            "kubernetes.endpointLag",
            field(&raw.endpoint_lag),
            defaults.endpoint_lag_ns,
        )?;
        let nodes = self.limited_u32(
            "kubernetes.nodes",
            field(&raw.nodes),
            defaults.nodes,
            1,
            limits::NODES_MAX,
            "Kubernetes supports clusters of at most 5000 nodes",
        )?;
        let restart_delay_ns = self.duration(
            "kubernetes.restartDelay",
            field(&raw.restart_delay),
            defaults.restart_delay_ns,
        )?;
        let node_monitor_period_ns = self.duration(
            "kubernetes.nodeMonitorPeriod",
            field(&raw.node_monitor_period),
            defaults.node_monitor_period_ns,
        )?;
        if node_monitor_period_ns == 0 {
            return Err(self.error(
                "kubernetes.nodeMonitorPeriod",
                field(&raw.node_monitor_period).loc,
                "must be above 0: the node lifecycle controller looks every period",
            ));
        }
        let node_monitor_grace_period_ns = self.duration(
            "kubernetes.nodeMonitorGracePeriod",
            field(&raw.node_monitor_grace_period),
            defaults.node_monitor_grace_period_ns,
        )?;
        let toleration_s = self.integer(
            "kubernetes.tolerationSeconds",
            field(&raw.toleration_seconds),
            defaults.toleration_s,
            0,
            9_223_372_036,
        )?;
        Ok(KubernetesConfig {
            edition,
            grace_s,
            grace_source,
            pre_stop_sleep_s,
            readiness,
            readiness_phase_ns,
            max_surge,
            max_unavailable,
            endpoint_lag_ns,
            nodes,
            restart_delay_ns,
            node_monitor_period_ns,
            node_monitor_grace_period_ns,
            toleration_s,
        })
    }
}
