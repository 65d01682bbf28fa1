//! The cluster's rules: the kubelet's grace period (SIGKILL) against the watchdog's drain, a
//! spot node's notice against the same drain, and the nodes left to schedule replacements on.

use crate::config::{Config, WatchdogKind};
use crate::properties::Property;
use crate::schedule::{Action, Event};
use crate::time::{NS_PER_S, Nanos};

use super::derive::deletes;
use super::{Broken, Derived, Rule, go};

/// `grace-covers-drain`: The grace period outlasts the watchdog's drain.
pub static GRACE_COVERS_DRAIN: Rule = Rule {
    id: "grace-covers-drain",
    inequality: "max(preStop + hc, d_prop + 1.5 rtt + min(D_max, E) + poll) < G",
    explanation: "After SIGTERM the watchdog serves for healthcheck_interval, then waits for active requests up to write_timeout. Requests keep arriving until the provider's view drops the pod; the last one must finish, and the watchdog notice it (poll <= 550 ms), before the kubelet's SIGKILL at the end of the grace period. Whatever is still in flight then is dropped (500). (The drain deadline itself, d_prop + min(D_max, E) <= preStop + hc + W, follows from healthcheck-covers-endpoint-lag and exec-within-write.)",
    fix: "raise terminationGracePeriodSeconds (OpenFaaS Pro derives write_timeout + 2s; CE keeps 30 s) or shorten healthcheck_interval",
    mechanisms: &[1, 12, 16, 20],
    property: Property::GracefulExit,
    example: "go-long-ce.yaml",
    check: grace_covers_drain,
};
fn grace_covers_drain(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    if !(deletes(events) && config.function.watchdog.kind.drains_2021()) {
        return None;
    }
    let (Some(_), Some(exit)) = (d.close_ns, d.exit_ns) else {
        return None;
    };
    if exit < d.sigkill_ns {
        return None;
    }
    let need_s = exit / NS_PER_S + 1;
    Some(Broken {
        detail: format!(
            "drain ends by {} after deletion (last request by {}), SIGKILL at {}",
            go(exit),
            go(d.last_end_ns),
            go(d.sigkill_ns)
        ),
        fix: format!("terminationGracePeriodSeconds: {need_s}"),
    })
}

/// `fixed-wait-grace`: The grace period outlasts the pre-2021 watchdog's fixed waits.
pub static FIXED_WAIT_GRACE: Rule = Rule {
    id: "fixed-wait-grace",
    inequality: "max(preStop + W, d_prop + 1.5 rtt + min(D_max, E) + poll) + W < G",
    explanation: "The pre-2021 watchdog sleeps write_timeout with its listener open, shuts down without a deadline, then sleeps write_timeout again: it needs twice write_timeout after SIGTERM even with nothing in flight.",
    fix: "upgrade the watchdog (of-watchdog >= 31e1d32), or set the grace period above 2 x write_timeout",
    mechanisms: &[15],
    property: Property::GracefulExit,
    example: "go-long-fixed-wait.yaml",
    check: fixed_wait_grace,
};
fn fixed_wait_grace(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    if !(deletes(events) && config.function.watchdog.kind == WatchdogKind::FixedWait) {
        return None;
    }
    let exit = d.exit_ns?;
    if exit < d.sigkill_ns {
        return None;
    }
    Some(Broken {
        detail: format!(
            "the fixed-wait watchdog exits {} after deletion, SIGKILL at {}",
            go(exit),
            go(d.sigkill_ns)
        ),
        fix: format!("terminationGracePeriodSeconds: {}", exit / NS_PER_S + 1),
    })
}

/// `spot-notice-covers-drain`: A reclaimed node's notice outlasts the drain of its pods.
pub static SPOT_NOTICE_COVERS_DRAIN: Rule = Rule {
    id: "spot-notice-covers-drain",
    inequality: "drain time after eviction < notice",
    explanation: "A reclaimed node dies when its notice runs out, whatever the grace period: the pods on it must have drained and exited by then.",
    fix: "use async invocation with redelivery for work longer than the notice, or shorten healthcheck_interval and the work",
    mechanisms: &[22],
    property: Property::GracefulExit,
    example: "mechanism-22-spot-node.yaml",
    check: spot_notice_covers_drain,
};
fn spot_notice_covers_drain(d: &Derived, _: &Config, events: &[Event]) -> Option<Broken> {
    for event in events {
        if let Action::DrainNode { notice_ns, .. } = event.action {
            let exit = d.exit_ns.unwrap_or(Nanos::MAX);
            if exit >= notice_ns {
                return Some(Broken {
                    detail: format!(
                        "drain takes {} after eviction, the node dies after {}",
                        go(exit.min(Nanos::MAX / 2)),
                        go(notice_ns)
                    ),
                    fix: "shorten healthcheck_interval and the work, or use async invocations"
                        .to_string(),
                });
            }
        }
    }
    None
}

/// `schedulable-node-remains`: Some node stays schedulable after the schedule's drains.
pub static SCHEDULABLE_NODE_REMAINS: Rule = Rule {
    id: "schedulable-node-remains",
    inequality: "nodes drained < nodes",
    explanation: "Replacements for evicted pods need a node; with every node drained they stay Pending and the function has no endpoint.",
    fix: "keep capacity on other nodes",
    mechanisms: &[22],
    property: Property::NoRejection,
    example: "rule-schedulable-node-remains.yaml",
    check: schedulable_node_remains,
};
fn schedulable_node_remains(_: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    let nodes = config.kubernetes.nodes;
    let drain_count = events
        .iter()
        .filter(|e| matches!(e.action, Action::DrainNode { .. }))
        .count() as u32;
    if drain_count < nodes {
        return None;
    }
    Some(Broken {
        detail: format!("{drain_count} node drains with {nodes} nodes"),
        fix: format!("kubernetes.nodes: {}", drain_count + 1),
    })
}
