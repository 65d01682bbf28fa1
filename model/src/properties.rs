//! The named properties a run is judged by, and their evaluation over the ledger and the pods.

use std::fmt;

use crate::ledger::{Outcome, Record, RequestId};
use crate::tally::Tally;

/// A property every run should keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Property {
    /// No request a pod accepted is lost.
    NoDroppedInFlight,
    /// No request is routed to a pod (or child) that no longer listens.
    NoRefusedRouting,
    /// No timer cuts a request.
    NoTimeout,
    /// No request is turned away by design (429, 503).
    NoRejection,
    /// Every terminating pod exits before SIGKILL.
    GracefulExit,
    /// No asynchronous invocation accepted with 202 is lost (async runs only).
    NoLostInvocation,
    /// No asynchronous invocation runs more than once (async runs only).
    NoDuplicateInvocation,
    /// Every accepted invocation with a callback URL gets exactly one callback (async runs
    /// only).
    CallbackDelivered,
}

impl Property {
    /// Every property, in report order.
    pub const ALL: [Property; 5] = [
        Property::NoDroppedInFlight,
        Property::NoRefusedRouting,
        Property::NoTimeout,
        Property::NoRejection,
        Property::GracefulExit,
    ];

    /// The properties only asynchronous runs are judged by, after [`Property::ALL`] (a
    /// synchronous run's report keeps the five it always had).
    pub const ASYNC: [Property; 3] = [
        Property::NoLostInvocation,
        Property::NoDuplicateInvocation,
        Property::CallbackDelivered,
    ];

    /// The name printed in reports and asserted in tests.
    pub fn name(self) -> &'static str {
        match self {
            Property::NoDroppedInFlight => "no-dropped-in-flight",
            Property::NoRefusedRouting => "no-refused-routing",
            Property::NoTimeout => "no-timeout",
            Property::NoRejection => "no-rejection",
            Property::GracefulExit => "graceful-exit",
            Property::NoLostInvocation => "no-lost-invocation",
            Property::NoDuplicateInvocation => "no-duplicate-invocation",
            Property::CallbackDelivered => "callback-delivered",
        }
    }

    /// The property by name.
    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL
            .into_iter()
            .chain(Property::ASYNC)
            .find(|p| p.name() == name)
    }

    /// The outcome class a request violates it with, for request properties.
    fn outcome(self) -> Option<Outcome> {
        match self {
            Property::NoDroppedInFlight => Some(Outcome::Dropped),
            Property::NoRefusedRouting => Some(Outcome::Refused),
            Property::NoTimeout => Some(Outcome::TimedOut),
            Property::NoRejection => Some(Outcome::Rejected),
            Property::NoLostInvocation => Some(Outcome::Lost),
            Property::GracefulExit
            | Property::NoDuplicateInvocation
            | Property::CallbackDelivered => None,
        }
    }
}

/// Its name, padded as asked.
impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// What the properties need to know about a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFate {
    /// Pod name.
    pub name: String,
    /// Deletion was requested before it ended.
    pub terminating: bool,
    /// It ended by SIGKILL or its node's death.
    pub killed: bool,
}

/// One violated property and what violated it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// Requests that violate it (the first ones, in a streamed run).
    pub requests: Vec<RequestId>,
    /// Requests that violate it and are not listed (a streamed run lists the first ones).
    pub omitted: u64,
    /// Pods that violate it.
    pub pods: Vec<String>,
}

/// Every violated property, in `Property::ALL` order, from the run's folded ledger.
pub fn evaluate(tally: &Tally, pods: &[PodFate]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for property in Property::ALL {
        let (requests, omitted, pods) = match property.outcome() {
            Some(outcome) => {
                let listed = tally.listed.get(&outcome).cloned().unwrap_or_default();
                (listed.ids, listed.omitted, Vec::new())
            }
            None => (
                Vec::new(),
                0,
                pods.iter()
                    .filter(|p| p.terminating && p.killed)
                    .map(|p| p.name.clone())
                    .collect(),
            ),
        };
        if !requests.is_empty() || !pods.is_empty() {
            violations.push(Violation {
                property,
                requests,
                omitted,
                pods,
            });
        }
    }
    violations
}

/// The violations of [`Property::ASYNC`] in an asynchronous run, each invocation judged
/// ([`crate::invocation::judge`]).
pub fn evaluate_async(
    ledger: &[Record],
    invocations: &[crate::invocation::Invocation],
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for property in Property::ASYNC {
        let requests: Vec<RequestId> = ledger
            .iter()
            .zip(invocations)
            .filter(|(record, inv)| match property {
                Property::NoLostInvocation => record.outcome == Outcome::Lost,
                Property::NoDuplicateInvocation => inv.executions > 1,
                _ => {
                    inv.callback
                        && inv.accepted
                        && record.outcome != Outcome::Unfinished
                        && inv.callbacks.len() != 1
                }
            })
            .map(|(record, _)| record.id)
            .collect();
        if !requests.is_empty() {
            violations.push(Violation {
                property,
                requests,
                omitted: 0,
                pods: Vec::new(),
            });
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::Property;

    #[test]
    fn a_property_prints_as_its_name_padded_for_the_reports_columns() {
        assert_eq!(Property::NoTimeout.to_string(), "no-timeout");
        assert_eq!(format!("{:<12}|", Property::NoTimeout), "no-timeout  |");
        assert_eq!(
            format!("{:>22}", Property::NoDroppedInFlight),
            "  no-dropped-in-flight"
        );
    }
}
