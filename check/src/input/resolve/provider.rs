//! faas-netes as the provider: its timeouts, its own or the ones the chart passes from the
//! gateway.

use faasim_model::config::ProviderConfig;
use faasim_model::duration::{PROVIDER_DEFAULT_TIMEOUT_NS, Reading, read_int_or_duration};

use super::{INVALID_FALLBACK, Resolver, at, go, suggest_duration};
use crate::input::documents::{Platform, PlatformSource, Setting};
use crate::{Origin, Severity};

impl Resolver<'_> {
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

    pub(super) fn provider(&mut self, platform: &Platform) -> ProviderConfig {
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
}
