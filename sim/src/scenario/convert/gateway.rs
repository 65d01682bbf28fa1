//! The `gateway` and `faasnetes` sections: the gateway's timeouts and scale from zero, and the
//! provider's timeouts (the gateway's when not given). Each timeout keeps Go's meaning of 0
//! (see `GatewayConfig` and `ProviderConfig`): no server read or write timeout, an immediate
//! 502 for `upstreamTimeout`, faas-provider's 10 s proxy timeout for `faasnetes.readTimeout`.

use faasim_model::config::{GatewayConfig, ProviderConfig};

use super::super::ScenarioError;
use super::super::raw::{RawFaasnetes, RawGateway};
use super::{Builder, field};

impl Builder<'_> {
    pub(super) fn gateway(&mut self, raw: RawGateway) -> Result<GatewayConfig, ScenarioError> {
        let defaults = GatewayConfig::default();
        Ok(GatewayConfig {
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
            ..ProviderConfig::default()
        })
    }
}
