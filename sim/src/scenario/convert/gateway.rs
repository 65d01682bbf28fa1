//! The `gateway` and `faasnetes` sections: the gateway's timeouts and scale from zero, and the
//! provider's timeouts (the gateway's when not given). Each timeout keeps Go's meaning of 0
//! (see `GatewayConfig` and `ProviderConfig`): no server read or write timeout, an immediate
//! 502 for `upstreamTimeout`, faas-provider's 10 s proxy timeout for `faasnetes.readTimeout`.

use faasim_model::config::{GatewayConfig, GatewaySigterm, ProviderConfig};
use faasim_model::limits;
use faasim_model::time::NS_PER_S;

use super::super::ScenarioError;
use super::super::raw::{RawFaasnetes, RawGateway};
use super::{Builder, field};

impl Builder<'_> {
    /// The `gateway` section; a draining gateway closes its listener `drain_delay_ns` after
    /// SIGTERM ([`GatewaySigterm::drain_delay_ns`]).
    pub(super) fn gateway(
        &mut self,
        raw: RawGateway,
        drain_delay_ns: u64,
    ) -> Result<GatewayConfig, ScenarioError> {
        let defaults = GatewayConfig::default();
        let drain = GatewaySigterm::Drain {
            delay_ns: drain_delay_ns,
        };
        Ok(GatewayConfig {
            replicas: self.limited_u32(
                "gateway.replicas",
                field(&raw.replicas),
                defaults.replicas,
                1,
                limits::GATEWAY_REPLICAS_MAX,
                "each gateway pod keeps its own per-request records",
            )?,
            on_sigterm: self.choice(
                "gateway.onSigterm",
                field(&raw.on_sigterm),
                defaults.on_sigterm,
                &[("exit", GatewaySigterm::Exit), ("drain", drain)],
                false,
            )?,
            grace_ns: self
                .integer(
                    "gateway.terminationGracePeriodSeconds",
                    field(&raw.termination_grace_period_seconds),
                    defaults.grace_ns / NS_PER_S,
                    0,
                    // What fits Kubernetes's int64 nanoseconds, as for the function's grace.
                    9_223_372_036,
                )?
                .saturating_mul(NS_PER_S),
            startup_ns: self.duration(
                "gateway.startup",
                field(&raw.startup),
                defaults.startup_ns,
            )?,
            readiness_period_ns: self.readiness_period(&raw, defaults.readiness_period_ns)?,
            upstream_timeout_ns: self.go_timeout(
                "gateway.upstreamTimeout",
                field(&raw.upstream_timeout),
                defaults.upstream_timeout_ns,
            )?,
            read_timeout_ns: self.go_timeout(
                "gateway.readTimeout",
                field(&raw.read_timeout),
                defaults.read_timeout_ns,
            )?,
            write_timeout_ns: self.go_timeout(
                "gateway.writeTimeout",
                field(&raw.write_timeout),
                defaults.write_timeout_ns,
            )?,
            scale_from_zero: self.boolean(
                "gateway.scaleFromZero",
                field(&raw.scale_from_zero),
                defaults.scale_from_zero,
            )?,
            ..defaults
        })
    }

    /// The gateway's readiness probe period: above 0 (the prober ticks every period).
    fn readiness_period(&self, raw: &RawGateway, default_ns: u64) -> Result<u64, ScenarioError> {
        let f = field(&raw.readiness_period);
        let period_ns = self.duration("gateway.readinessPeriod", f, default_ns)?;
        if period_ns == 0 {
            return Err(self.error(
                "gateway.readinessPeriod",
                f.loc,
                "must be above 0: the kubelet probes every period",
            ));
        }
        Ok(period_ns)
    }

    pub(super) fn provider(
        &mut self,
        raw: RawFaasnetes,
        gateway: &GatewayConfig,
    ) -> Result<ProviderConfig, ScenarioError> {
        Ok(ProviderConfig {
            read_timeout_ns: self.go_timeout(
                "faasnetes.readTimeout",
                field(&raw.read_timeout),
                gateway.read_timeout_ns,
            )?,
            write_timeout_ns: self.go_timeout(
                "faasnetes.writeTimeout",
                field(&raw.write_timeout),
                gateway.write_timeout_ns,
            )?,
            // faas-netes beside the CE gateway stops its informers on SIGTERM; the provider of
            // a gateway that drains is assumed to keep watching (ProviderConfig).
            stops_informers_on_sigterm: gateway.on_sigterm == GatewaySigterm::Exit,
            ..ProviderConfig::default()
        })
    }
}
