//! The safe-configuration rules (domain.md §4 and the mechanisms of §3 the model covers), as
//! named values that carry their predicate, like stateright's `Property`: each rule has a
//! stable id, its inequality over the effective configuration (and, where the danger needs one,
//! the schedule), a paragraph on the interaction, the fix, the [`Property`] a break violates,
//! and the function that decides whether a configuration breaks it. [`check`] runs every rule
//! of [`RULES`] and returns those a configuration breaks, with the numbers that break them and
//! the smallest change that mends each.
//!
//! Code refers to a rule by its value (`&rules::GRACE_COVERS_DRAIN`) and compares rules with
//! `==`, which is identity; the id is for people: reports, docs and [`Rule::parse_id`], which
//! reads a rule named on the command line.
//!
//! The rules live beside the component whose timers they relate: `watchdog.rs`, `child.rs`,
//! `callers.rs` (gateway, provider, ingress and client), `cold_start.rs` (the gateway's
//! hold), `cluster.rs` (kubelet and nodes), `edge.rs` (the gateway's own pods) and `queue.rs`
//! (the asynchronous path's queue-worker); `derive.rs`
//! computes the quantities they compare.
//!
//! The inequalities are the model's exact boundaries, with one stated slack: a draining Go
//! server notices its last connection ending only at its next `Shutdown` poll, at most
//! `POLL_SLACK_NS` later, so the grace rules keep that margin.

use std::fmt;

use crate::config::Config;
use crate::duration::format_go;
use crate::properties::Property;
use crate::schedule::Event;
use crate::server::SHUTDOWN_POLL_MAX_NS;
use crate::time::Nanos;

mod callers;
mod child;
mod cluster;
mod cold_start;
mod derive;
mod edge;
mod queue;
mod watchdog;

pub use callers::{
    CLIENT_TIMEOUT_COVERS_RESPONSE, EXEC_WITHIN_PROVIDER_TIMEOUT, EXEC_WITHIN_PROVIDER_WRITE,
    EXEC_WITHIN_UPSTREAM, GATEWAY_WRITE_COVERS_RESPONSE, INGRESS_READ_COVERS_RESPONSE,
};
pub use child::{
    CHILD_DRAINS_ON_SIGTERM, CHILD_LISTENS_WHILE_ROUTED, CHILD_READY_BEFORE_ROUTING,
    HANDLER_WITHIN_CHILD_WRITE,
};
pub use cluster::{
    FIXED_WAIT_GRACE, GRACE_COVERS_DRAIN, SCHEDULABLE_NODE_REMAINS, SPOT_NOTICE_COVERS_DRAIN,
};
pub use cold_start::{
    COLD_START_WITHIN_GATEWAY_HOLD, NO_DISRUPTION_DURING_COLD_START, SCALE_FROM_ZERO_ENABLED,
};
pub use derive::{Derived, derive};
pub use edge::GATEWAY_DRAINS_ON_ROLLOUT;
pub use queue::{
    CE_ACK_WAIT_COVERS_CALL, CE_QUEUE_WORKER_NOT_RESTARTED, PRO_QUEUE_WORKER_GRACE_COVERS_CALL,
    PRO_UPSTREAM_COVERS_CALL,
};
pub use watchdog::{
    EXEC_WITHIN_WRITE, HANDLER_WITHIN_EXEC, HEALTHCHECK_COVERS_ENDPOINT_LAG,
    HEALTHCHECK_INTERVAL_POSITIVE, MAX_INFLIGHT_COVERS_LOAD, PROVIDER_IDLE_BELOW_WATCHDOG_IDLE,
};

/// Longest wait between a draining server's last connection ending and its noticing: the
/// 500 ms poll cap plus Go's 10 % jitter.
pub const POLL_SLACK_NS: Nanos = SHUTDOWN_POLL_MAX_NS + SHUTDOWN_POLL_MAX_NS / 10;

/// A rule's predicate: `Some` with the numbers when `config` (with its schedule) breaks the
/// rule, given the quantities `derive` computed from them.
pub type Predicate = fn(&Derived, &Config, &[Event]) -> Option<Broken>;

/// One rule: its text and its predicate. Every rule is a `static` (listed in [`RULES`]), and
/// two rules are equal only when they are the same value.
pub struct Rule {
    /// Stable id, used by `--ignore`, in reports and in docs/rules.md.
    pub id: &'static str,
    /// The inequality, in domain.md's notation.
    pub inequality: &'static str,
    /// The interaction in plain words.
    pub explanation: &'static str,
    /// How to mend it.
    pub fix: &'static str,
    /// Mechanisms of domain.md §3 it prevents.
    pub mechanisms: &'static [u8],
    /// The property a break violates.
    pub property: Property,
    /// The shipped scenario (in `scenarios/`) that shows the failure.
    pub example: &'static str,
    /// Whether a configuration breaks it, and with which numbers.
    pub check: Predicate,
}

impl Rule {
    /// The rule whose id a user typed (`faasim explain RULE`, `--ignore RULE`): for parsing
    /// input at the boundary only. Code names rules by their values.
    pub fn parse_id(id: &str) -> Option<&'static Rule> {
        RULES.iter().copied().find(|rule| rule.id == id)
    }

    /// This rule's breach by `config` (with `events`), if it breaks it; `derived` is
    /// `derive(config, events)`.
    pub fn breach(
        &'static self,
        derived: &Derived,
        config: &Config,
        events: &[Event],
    ) -> Option<Breach> {
        (self.check)(derived, config, events).map(|Broken { detail, fix }| Breach {
            rule: self,
            detail,
            fix,
        })
    }
}

/// Identity: a rule equals only itself.
impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Rule {}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("property", &self.property)
            .finish_non_exhaustive()
    }
}

/// Every rule, in the order reports list them.
pub static RULES: &[&Rule] = &[
    &HANDLER_WITHIN_EXEC,
    &EXEC_WITHIN_WRITE,
    &HANDLER_WITHIN_CHILD_WRITE,
    &EXEC_WITHIN_UPSTREAM,
    &EXEC_WITHIN_PROVIDER_TIMEOUT,
    &EXEC_WITHIN_PROVIDER_WRITE,
    &GATEWAY_WRITE_COVERS_RESPONSE,
    &INGRESS_READ_COVERS_RESPONSE,
    &CLIENT_TIMEOUT_COVERS_RESPONSE,
    &MAX_INFLIGHT_COVERS_LOAD,
    &SCALE_FROM_ZERO_ENABLED,
    &COLD_START_WITHIN_GATEWAY_HOLD,
    &NO_DISRUPTION_DURING_COLD_START,
    &HEALTHCHECK_COVERS_ENDPOINT_LAG,
    &HEALTHCHECK_INTERVAL_POSITIVE,
    &GRACE_COVERS_DRAIN,
    &FIXED_WAIT_GRACE,
    &CHILD_DRAINS_ON_SIGTERM,
    &CHILD_LISTENS_WHILE_ROUTED,
    &CHILD_READY_BEFORE_ROUTING,
    &SPOT_NOTICE_COVERS_DRAIN,
    &PROVIDER_IDLE_BELOW_WATCHDOG_IDLE,
    &SCHEDULABLE_NODE_REMAINS,
    &GATEWAY_DRAINS_ON_ROLLOUT,
    &CE_ACK_WAIT_COVERS_CALL,
    &CE_QUEUE_WORKER_NOT_RESTARTED,
    &PRO_UPSTREAM_COVERS_CALL,
    &PRO_QUEUE_WORKER_GRACE_COVERS_CALL,
];

/// What a predicate reports of a broken rule: the numbers, without the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The inequality with this configuration's values.
    pub detail: String,
    /// The smallest change that mends it, with the value.
    pub fix: String,
}

/// One broken rule, with the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The rule.
    pub rule: &'static Rule,
    /// The inequality with this configuration's values.
    pub detail: String,
    /// The smallest change that mends it, with the value.
    pub fix: String,
}

/// A duration as Go prints it, saturating at Go's largest.
fn go(ns: Nanos) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

/// Every rule `config` (with `events`) breaks, in `RULES` order.
pub fn check(config: &Config, events: &[Event]) -> Vec<Breach> {
    let derived = derive(config, events);
    RULES
        .iter()
        .filter_map(|rule| rule.breach(&derived, config, events))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back_to_the_same_value() {
        let ids: std::collections::BTreeSet<&str> = RULES.iter().map(|rule| rule.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for rule in RULES {
            assert_eq!(Rule::parse_id(rule.id), Some(*rule));
        }
        assert_eq!(Rule::parse_id("no-such-rule"), None);
    }

    #[test]
    fn rules_are_equal_only_to_themselves() {
        assert_eq!(&GRACE_COVERS_DRAIN, RULES[15]);
        assert_ne!(&GRACE_COVERS_DRAIN, &FIXED_WAIT_GRACE);
    }

    #[test]
    fn check_reports_each_rule_through_its_own_value() {
        let mut config = Config::default();
        config.function.watchdog.write_timeout_ns = 1;
        let breaches = check(&config, &[]);
        assert!(breaches.iter().any(|b| b.rule == &EXEC_WITHIN_WRITE));
        let derived = derive(&config, &[]);
        for breach in &breaches {
            assert_eq!(
                breach.rule.breach(&derived, &config, &[]).as_ref(),
                Some(breach)
            );
        }
    }
}
