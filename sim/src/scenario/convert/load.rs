//! The `load` section (hey's concurrency, requests, `-q`, rate, timeout, method and keep-alive), the
//! `network` section (the round trip) and the `ingress` section (an ingress in front of the
//! gateway).

use faasim_model::config::{IngressConfig, LoadConfig, Method, NetworkConfig};
use faasim_model::limits;

use super::super::ScenarioError;
use super::super::raw::{RawIngress, RawLoad, RawNetwork};
use super::{Builder, field};

impl Builder<'_> {
    pub(super) fn load(&self, raw: RawLoad) -> Result<LoadConfig, ScenarioError> {
        let defaults = LoadConfig::default();
        let concurrency = self.limited_u32(
            "load.concurrency",
            field(&raw.concurrency),
            defaults.concurrency,
            1,
            limits::CONCURRENCY_MAX,
            "every worker holds a connection and a slot in the client",
        )?;
        let requests = self.limited(
            "load.requests",
            field(&raw.requests),
            defaults.requests,
            1,
            limits::REQUESTS_MAX,
            "a run keeps only its open requests, but its time grows with the requests",
        )?;
        let rate_per_s = self.limited_u32(
            "load.rate",
            field(&raw.rate),
            defaults.rate_per_s,
            0,
            limits::RATE_MAX_PER_S,
            "one request every 10 µs, finer than the network's round trip",
        )?;
        if rate_per_s == 0 && requests < u64::from(concurrency) {
            let (key, loc) = if raw.requests.is_some() {
                ("load.requests", field(&raw.requests).loc)
            } else {
                ("load.concurrency", field(&raw.concurrency).loc)
            };
            return Err(self.error(
                key,
                loc,
                format!(
                    "requests ({requests}) is less than concurrency ({concurrency}) in a closed \
                     loop (rate 0); hey refuses this: \"-n cannot be less than -c\""
                ),
            ));
        }
        let qps_per_worker = self.limited_u32(
            "load.qps",
            field(&raw.qps),
            defaults.qps_per_worker,
            0,
            1_000_000,
            "hey's ticker ticks every 1e6/qps µs, which is 0 above a million",
        )?;
        if qps_per_worker > 0 && rate_per_s > 0 {
            return Err(self.error(
                "load.qps",
                field(&raw.qps).loc,
                "limits hey's closed-loop workers; an open loop (`rate`) has its own rate",
            ));
        }
        Ok(LoadConfig {
            concurrency,
            requests,
            qps_per_worker,
            timeout_ns: self.duration("load.timeout", field(&raw.timeout), defaults.timeout_ns)?,
            method: self.choice(
                "load.method",
                field(&raw.method),
                defaults.method,
                &[("GET", Method::Get), ("POST", Method::Post)],
                true,
            )?,
            keep_alive: self.boolean(
                "load.keepAlive",
                field(&raw.keep_alive),
                defaults.keep_alive,
            )?,
            rate_per_s,
            start_ns: self.duration("load.start", field(&raw.start), defaults.start_ns)?,
        })
    }

    /// An ingress is there when the section is (`ingress:` alone takes every default).
    pub(super) fn ingress(&self, raw: Option<RawIngress>) -> Result<IngressConfig, ScenarioError> {
        let raw = raw.unwrap_or_default();
        let defaults = IngressConfig::default();
        let key = "ingress.readTimeout";
        let read_timeout_ns =
            self.duration(key, field(&raw.read_timeout), defaults.read_timeout_ns)?;
        if read_timeout_ns == 0 {
            // nginx arms its read timer with 0 and times out at once; no one runs that.
            return Err(self.error(
                key,
                field(&raw.read_timeout).loc,
                "must be over 0s (ingress-nginx's proxy-read-timeout is whole seconds, 60 by                  default)",
            ));
        }
        Ok(IngressConfig { read_timeout_ns })
    }

    pub(super) fn network(&self, raw: RawNetwork) -> Result<NetworkConfig, ScenarioError> {
        let defaults = NetworkConfig::default();
        Ok(NetworkConfig {
            rtt_ns: self.duration("network.rtt", field(&raw.rtt), defaults.rtt_ns)?,
        })
    }
}
