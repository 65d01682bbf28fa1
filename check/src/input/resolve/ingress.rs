//! An Ingress in front of the gateway: ingress-nginx's `proxy-read-timeout` annotation, read as
//! the controller reads it (kubernetes/ingress-nginx@10a05259
//! `internal/ingress/annotations/proxy/main.go`: `parser.GetIntAnnotation`, whole seconds;
//! a value it cannot read is dropped for the controller's default, 60 s unless its ConfigMap
//! says otherwise, which faasim does not read).

use faasim_model::config::{INGRESS_DEFAULT_READ_TIMEOUT_NS, IngressConfig};
use faasim_model::duration;
use faasim_model::time::NS_PER_S;

use super::{INVALID_FALLBACK, Resolver, at, go};
use crate::input::Setting;
use crate::input::documents::{PROXY_READ_TIMEOUT, Platform};
use crate::input::error::InputError;
use crate::{Origin, Severity};

/// The provenance key of the ingress's read timeout (the scenario key).
pub(crate) const KEY: &str = "ingress.readTimeout";

/// The longest read timeout read, whole seconds: Go's longest duration (`1<<63 - 1` ns), as
/// for a scenario's `ingress.readTimeout`.
const MAX_SECONDS: i64 = i64::MAX / NS_PER_S as i64;

impl Resolver<'_> {
    /// The ingress in front of the gateway, when `.faasim.yaml` (`setting`, which wins) or the
    /// manifests have one; nothing is recorded without one.
    pub(super) fn ingress(
        &mut self,
        platform: &Platform,
        setting: Option<&Setting<u64>>,
    ) -> Result<Option<IngressConfig>, InputError> {
        if let Some(setting) = setting {
            self.record(
                KEY,
                go(setting.value),
                Origin::File(setting.location.clone()),
            );
            return Ok(Some(IngressConfig {
                read_timeout_ns: setting.value,
            }));
        }
        let Some(front) = &platform.ingress else {
            return Ok(None);
        };
        let default = || IngressConfig {
            read_timeout_ns: INGRESS_DEFAULT_READ_TIMEOUT_NS,
        };
        let Some(val) = &front.read_timeout else {
            self.record(
                KEY,
                go(INGRESS_DEFAULT_READ_TIMEOUT_NS),
                Origin::Derived(format!(
                    "Ingress {} at {} has no {PROXY_READ_TIMEOUT}: ingress-nginx's default \
                     (an ALB's idle timeout is 60s too)",
                    front.name,
                    at(&front.location)
                )),
            );
            return Ok(Some(default()));
        };
        // Go's strconv.Atoi: an optional sign and ASCII digits.
        let digits = val.raw.strip_prefix(['+', '-']).unwrap_or(&val.raw);
        let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        match val.raw.parse::<i64>() {
            // Past Go's longest duration the nanoseconds overflow the timers of a run (found by
            // fuzz_inputs: a read deadline of `now + u64::MAX`).
            Ok(seconds) if integer && seconds > MAX_SECONDS => Err(self.error(
                val,
                KEY,
                format!(
                    "{PROXY_READ_TIMEOUT} {seconds} is longer than faasim models (at most \
                     {MAX_SECONDS} s, the longest Go duration)"
                ),
            )),
            Ok(seconds) if integer && seconds > 0 => {
                let ns = u64::try_from(seconds).unwrap_or(0).saturating_mul(NS_PER_S);
                self.record(KEY, go(ns), Origin::File(val.location.clone()));
                Ok(Some(IngressConfig {
                    read_timeout_ns: ns,
                }))
            }
            Ok(seconds) if integer => Err(self.error(
                val,
                KEY,
                format!(
                    "{PROXY_READ_TIMEOUT} {seconds}: nginx would time out every read at once, \
                     or refuse the configuration; faasim does not model it"
                ),
            )),
            _ => {
                self.record(
                    KEY,
                    go(INGRESS_DEFAULT_READ_TIMEOUT_NS),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: val.raw.clone(),
                    },
                );
                // `1800s` meant 1800 seconds: say so in the fix.
                let meant = duration::parse_go(&val.raw)
                    .ok()
                    .and_then(|ns| u64::try_from(ns).ok())
                    .filter(|ns| *ns > 0)
                    .map(|ns| ns.div_ceil(NS_PER_S));
                self.finding(
                    INVALID_FALLBACK,
                    Severity::Warning,
                    KEY,
                    Some(val.location.clone()),
                    format!(
                        "ingress-nginx: {PROXY_READ_TIMEOUT} \"{}\" is not whole seconds; the \
                         controller drops the annotation and uses its default, {}",
                        val.raw,
                        go(INGRESS_DEFAULT_READ_TIMEOUT_NS)
                    ),
                    match meant {
                        Some(seconds) => {
                            format!("write `{PROXY_READ_TIMEOUT}: \"{seconds}\"`")
                        }
                        None => format!(
                            "write `{PROXY_READ_TIMEOUT}` as whole seconds, quoted: \"300\""
                        ),
                    },
                );
                Ok(Some(default()))
            }
        }
    }
}
