//! From the raw file to the model's types: every value checked and converted, with the file,
//! line, column and dotted key of what is wrong, and the warnings of values a component would
//! silently replace.
//!
//! This file owns the [`Builder`] and the whole scenario's conversion; the leaves every section
//! reads (durations, ranges, integers, choices) are in `leaf.rs`, and each section of the file
//! has its own: `function.rs`, `kubernetes.rs`, `gateway.rs` (the gateway and faas-netes),
//! `load.rs` (the load and the network) and `events.rs`.

mod asynchronous;
mod events;
mod function;
mod gateway;
mod kubernetes;
mod leaf;
mod load;

use std::path::Path;

use faasim_model::config::{Config, ConfigWarning, GatewaySigterm};
use faasim_model::limits;
use faasim_model::schedule::{Action, Event};
use serde_saphyr::{Location, Spanned};

use super::raw::{RawScenario, Text};
use super::{Scenario, ScenarioError};

/// 1-based line and column.
type Loc = Option<(usize, usize)>;

/// A serde-saphyr location as a 1-based line and column (`None` when it has no place).
pub(super) fn loc_of(location: &Location) -> Loc {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then_some((line, column.max(1)))
}

/// Where a spanned value is written.
fn spanned_loc<T>(value: &Spanned<T>) -> Loc {
    loc_of(&value.referenced)
}

/// A leaf as written (or absent) and where.
#[derive(Clone, Copy)]
struct Field<'a> {
    /// The text as written (`None`: the key is absent or null).
    raw: Option<&'a str>,
    /// Where it is written, when known.
    loc: Loc,
}

/// An optional leaf as a field.
fn field(text: &Text) -> Field<'_> {
    match text {
        Some(spanned) => Field {
            raw: Some(spanned.value.as_str()),
            loc: spanned_loc(spanned),
        },
        None => Field {
            raw: None,
            loc: None,
        },
    }
}

/// A leaf that is present but may be null, as a field.
fn field_opt(text: &Spanned<Option<String>>) -> Field<'_> {
    Field {
        raw: text.value.as_deref(),
        loc: spanned_loc(text),
    }
}

/// Converts one raw file, collecting warnings on the way.
pub(super) struct Builder<'a> {
    /// The file name used in errors.
    pub(super) file: &'a str,
    /// Values a real component would silently replace, and other things worth telling.
    pub(super) warnings: Vec<ConfigWarning>,
}

impl Builder<'_> {
    /// The whole scenario, checked and converted.
    pub(super) fn scenario(mut self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let name = match field(&raw.name).raw {
            Some(name) => name.to_string(),
            None => default_name(self.file),
        };
        let seed = match field(&raw.seed).raw {
            None => None,
            Some(_) => Some(self.integer("seed", field(&raw.seed), 0, 0, u64::MAX)?),
        };
        let limit_ns = match field(&raw.limit).raw {
            None => None,
            Some(_) => Some(self.duration("limit", field(&raw.limit), 0)?),
        };

        // A deploy resets the replicas only when the label is written out, not from its
        // default (faas-netes reads the request's labels).
        let scale_min_given = raw
            .function
            .as_ref()
            .and_then(|f| f.labels.as_ref())
            .is_some_and(|labels| labels.contains_key("com.openfaas.scale.min"));
        let (function, env) = self.function(raw.function.unwrap_or_default())?;
        let kubernetes = self.kubernetes(raw.kubernetes.unwrap_or_default(), &env)?;
        let raw_network = raw.network.unwrap_or_default();
        let network = self.network(raw_network)?;
        let gateway = self.gateway(
            raw.gateway.unwrap_or_default(),
            GatewaySigterm::drain_delay_ns(kubernetes.endpoint_lag_ns, network.rtt_ns),
        )?;
        let provider = self.provider(raw.faasnetes.unwrap_or_default(), &gateway)?;
        let raw_load = raw.load.unwrap_or_default();
        let asynchronous =
            self.asynchronous(&raw_load, raw.queue_worker, kubernetes.edition, &gateway)?;
        let load = self.load(raw_load)?;
        let ingress = match raw.ingress {
            None => None,
            Some(section) => Some(self.ingress(section.value)?),
        };

        let raw_events = raw.events.unwrap_or_default();
        if let Some(first_over) = raw_events.get(limits::EVENTS_MAX) {
            return Err(self.error(
                &format!("events[{}]", limits::EVENTS_MAX),
                spanned_loc(first_over),
                format!(
                    "{} events is above the limit of {} per scenario (every event may create \
                     or delete every pod; docs/scenario-format.md, \"Limits\")",
                    raw_events.len(),
                    limits::EVENTS_MAX
                ),
            ));
        }
        let mut events = Vec::new();
        for (index, item) in raw_events.into_iter().enumerate() {
            let context = events::EventContext {
                function: &function.name,
                nodes: kubernetes.nodes,
                deploy_scale_min: (scale_min_given && function.scale_min > 0)
                    .then_some(function.scale_min),
                asynchronous: asynchronous.is_some(),
            };
            events.push(self.event(index, item, context)?);
        }
        events.sort_by_key(|event: &Event| event.at_ns);
        let rollouts = events
            .iter()
            .filter(|e| e.action == Action::RolloutGateway)
            .count();
        let gateway_pods = u64::from(gateway.replicas) * (rollouts as u64 + 1);
        if gateway_pods > u64::from(limits::GATEWAY_PODS_MAX) {
            return Err(self.error(
                "events",
                None,
                format!(
                    "{} gateway replicas and {rollouts} rolloutGateway events create {gateway_pods} \
                     gateway pods, above the limit of {} per run (each keeps its own \
                     per-request records; docs/scenario-format.md, \"Limits\")",
                    gateway.replicas,
                    limits::GATEWAY_PODS_MAX
                ),
            ));
        }
        // The run stops at its limit: an event after it never happens.
        let limit = limit_ns.unwrap_or(crate::DEFAULT_LIMIT_NS);
        let late = events.iter().filter(|event| event.at_ns > limit).count();
        if late > 0 {
            self.warn(
                "events",
                format!(
                    "{late} event{} after the run's limit ({}) never happen{}: the run stops \
                     at its limit",
                    if late == 1 { "" } else { "s" },
                    faasim_model::duration::format_go(i64::try_from(limit).unwrap_or(i64::MAX)),
                    if late == 1 { "s" } else { "" },
                ),
            );
        }

        Ok(Scenario {
            name,
            seed,
            limit_ns,
            config: Config {
                function,
                kubernetes,
                gateway,
                provider,
                load,
                network,
                ingress,
                asynchronous,
            },
            events,
            warnings: self.warnings,
            source: self.file.to_string(),
        })
    }
}

/// The file stem of `source`, or `scenario` when it has none.
fn default_name(source: &str) -> String {
    Path::new(source)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "scenario".to_string())
}
