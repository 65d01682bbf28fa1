//! The gateway's timeouts, scale-from-zero, replicas and `directFunctions`, from the chart's
//! values or its Deployment.

use faasim_model::config::GatewayConfig;
use faasim_model::duration::{
    GATEWAY_DEFAULT_TIMEOUT_NS, Reading, format_go, read_int_or_duration,
};
use faasim_model::limits;

use super::{INVALID_FALLBACK, Resolver, at, go, parse_count, suggest_duration};
use crate::input::documents::{Platform, PlatformSource, Setting};
use crate::input::error::InputError;
use crate::{Origin, Severity};

impl Resolver<'_> {
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

    pub(super) fn gateway(&mut self, platform: &Platform) -> Result<GatewayConfig, InputError> {
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
        let replicas = self.gateway_replicas(platform, chart.replicas)?;
        self.direct_functions(platform)?;
        Ok(GatewayConfig {
            upstream_timeout_ns: upstream,
            read_timeout_ns: read,
            write_timeout_ns: write,
            scale_from_zero,
            replicas,
            ..chart
        })
    }

    /// `gateway.replicas` (or the gateway Deployment's `spec.replicas`): how many gateway pods a
    /// `helm upgrade` rolls, one at a time.
    fn gateway_replicas(&mut self, platform: &Platform, chart: u32) -> Result<u32, InputError> {
        const KEY: &str = "gateway.replicas";
        let Some(setting) = &platform.gateway_replicas else {
            self.record(KEY, chart.to_string(), Origin::Default);
            return Ok(chart);
        };
        let val = &setting.val;
        match parse_count(&val.raw) {
            Some(replicas) if replicas > limits::REPLICAS_MAX => Err(self.error(
                val,
                KEY,
                format!(
                    "{replicas} is above the limit of {} replicas (docs/scenario-format.md, \
                     \"Limits\")",
                    limits::REPLICAS_MAX
                ),
            )),
            Some(replicas) if replicas >= 1 => {
                self.record(
                    KEY,
                    replicas.to_string(),
                    Origin::File(val.location.clone()),
                );
                Ok(replicas)
            }
            Some(_) => Err(self.error(
                val,
                KEY,
                "0 runs no gateway: every call would be refused; faasim needs at least 1",
            )),
            None => Err(self.error(
                val,
                KEY,
                format!("`{}` is not a replica count (a whole number)", val.raw),
            )),
        }
    }

    /// `gateway.directFunctions`: recorded for the report. faasim follows faas-netes's own
    /// routing over the Endpoints (the chart's default, `false`); with `true` the gateway calls
    /// the function's Service through kube-proxy, which the model does not (docs/check.md).
    fn direct_functions(&mut self, platform: &Platform) -> Result<(), InputError> {
        const KEY: &str = "gateway.directFunctions";
        let Some(setting) = &platform.direct_functions else {
            self.record(KEY, "false", Origin::Default);
            return Ok(());
        };
        let val = &setting.val;
        match val.raw.as_str() {
            "true" | "false" => {
                self.record(KEY, val.raw.clone(), Origin::File(val.location.clone()));
                Ok(())
            }
            other => Err(self.error(val, KEY, format!("expected true or false, not `{other}`"))),
        }
    }
}
