//! The function's labels and annotations: its scaling bounds and the durations read with plain
//! `time.ParseDuration`.

use faasim_model::config::{FunctionConfig, KUBERNETES_DEFAULT_REPLICAS};
use faasim_model::duration::read_strict;
use faasim_model::limits;

use super::{
    BARE_INT, INVALID_FALLBACK, REPLICAS_OVER_LIMIT, Resolver, SCALE_MIN_ABOVE_MAX, at,
    compact_seconds, is_integer, parse_count, suggest_duration,
};
use crate::input::documents::{FunctionKind, Val};
use crate::input::error::InputError;
use crate::{Origin, Severity};

impl Resolver<'_> {
    /// `com.openfaas.scale.min` / `max` (a Deployment's replicas stand for min when unlabelled).
    pub(super) fn scale(&mut self) -> Result<(u32, u32), InputError> {
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
        // Where the minimum is written: its label, else the Deployment's replicas.
        let min_location = self
            .raw
            .labels
            .get(MIN)
            .map(|val| val.location.clone())
            .or_else(|| {
                self.raw
                    .deployment
                    .as_ref()
                    .and_then(|d| d.replicas.as_ref())
                    .map(|val| val.location.clone())
            });
        if min > max {
            let max_from = if self.raw.labels.contains_key(MAX) {
                ""
            } else {
                ", the default"
            };
            self.finding(
                SCALE_MIN_ABOVE_MAX,
                Severity::Warning,
                &min_key,
                min_location.clone(),
                format!(
                    "{MIN} is {min}, above {MAX} ({max}{max_from}): the autoscaler keeps the \
                     replicas within min..max, which is empty, and `faasim run` refuses the \
                     pair; the simulated runs use {}",
                    max.min(limits::REPLICAS_MAX)
                ),
                format!("set {MAX} to at least {min}, or lower {MIN} to at most {max}"),
            );
        } else if min > limits::REPLICAS_MAX {
            self.finding(
                REPLICAS_OVER_LIMIT,
                Severity::Note,
                &min_key,
                min_location,
                format!(
                    "{min} replicas is above faasim's limit of {} (docs/check.md, \"Limits\"): \
                     the simulated runs use {}, which the timeouts' interactions do not depend on",
                    limits::REPLICAS_MAX,
                    limits::REPLICAS_MAX
                ),
                "nothing to change in the files; the finding says what was simulated",
            );
        }
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
    pub(super) fn strict_durations(&mut self) {
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
}
