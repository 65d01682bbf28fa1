//! The cold-start rules: the gateway's hold of requests that find no endpoint (scale from zero,
//! then up to 1000 polls of 100 ms for an available replica) against the start-up and the
//! schedule's disruptions.

use crate::config::{Config, Start};
use crate::properties::Property;
use crate::schedule::{Action, Event};
use crate::time::Nanos;

use super::{Broken, Derived, Rule, go};

/// `scale-from-zero-enabled`: The gateway scales from zero whenever requests can find no endpoint.
pub static SCALE_FROM_ZERO_ENABLED: Rule = Rule {
    id: "scale-from-zero-enabled",
    inequality: "scaleFromZero = true when requests can find no endpoint",
    explanation: "With scale_from_zero off, a request that finds no ready endpoint (cold start, scaled to zero, its only pod evicted) gets 503 \"No endpoints available\".",
    fix: "set gateway.scaleFromZero: true, or keep com.openfaas.scale.min replicas that are never all deleted at once",
    mechanisms: &[19],
    property: Property::NoRejection,
    example: "mechanism-19-scale-to-zero-no-endpoints.yaml",
    check: scale_from_zero_enabled,
};
fn scale_from_zero_enabled(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    if !d.view_can_empty || config.gateway.scale_from_zero {
        return None;
    }
    Some(Broken {
        detail: "requests can find no endpoint and scale_from_zero is off".to_string(),
        fix: "gateway.scaleFromZero: true".to_string(),
    })
}

/// `cold-start-within-gateway-hold`: A cold start ends within the gateway's hold.
pub static COLD_START_WITHIN_GATEWAY_HOLD: Rule = Rule {
    id: "cold-start-within-gateway-hold",
    inequality: "T_cold <= 1000 x 100ms",
    explanation: "The gateway polls every 100 ms, at most 1000 times, for an available replica, then forwards anyway and the provider answers 503.",
    fix: "make the pod start faster (image size, readiness probe delay)",
    mechanisms: &[19],
    property: Property::NoRejection,
    example: "rule-cold-start-within-gateway-hold.yaml",
    check: cold_start_within_gateway_hold,
};
fn cold_start_within_gateway_hold(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let g = &config.gateway;
    let hold_cap = u64::from(g.poll_attempts) * g.poll_interval_ns;
    if !(d.view_can_empty && g.scale_from_zero && d.hold_max_ns > hold_cap) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "cold start up to {} > the gateway's hold {}",
            go(d.hold_max_ns),
            go(hold_cap)
        ),
        fix: "shorten the start-up or the readiness probe delay".to_string(),
    })
}

/// `no-disruption-during-cold-start`: The schedule leaves a cold start alone while requests may wait for it.
pub static NO_DISRUPTION_DURING_COLD_START: Rule = Rule {
    id: "no-disruption-during-cold-start",
    inequality: "no scale to 0, rollout, drain or crash while a request may be held for a cold start",
    explanation: "The gateway scales a function from zero once, when a request finds it at zero replicas, then only polls for an available replica. Scaled to zero again while requests wait, nothing brings it back: they wait for the client timeout or the gateway's 100 s of polls (then 503), unless a later request triggers a new scale-up. A rollout, drain or crash during the cold start replaces the starting pod and starts the wait over.",
    fix: "leave a cold start alone: no scale to zero, rollout or drain until the function has come back (autoscaler: a longer com.openfaas.scale.zero-duration)",
    mechanisms: &[19],
    property: Property::NoTimeout,
    example: "rule-no-disruption-during-cold-start.yaml",
    check: no_disruption_during_cold_start,
};
fn no_disruption_during_cold_start(
    d: &Derived,
    config: &Config,
    events: &[Event],
) -> Option<Broken> {
    let f = &config.function;
    // Requests wait for a cold start from the moment one finds no endpoint: right after a
    // cold start begins (at time 0, or at the first request when there is no replica to start
    // with), or once those in flight at a disruption have ended and their clients send again
    // (not before the load starts).
    let cold_from = if f.scale_min == 0 {
        Some(config.load.start_ns)
    } else if f.start == Start::Cold {
        Some(0)
    } else {
        None
    };
    let mut emptying: Vec<Nanos> = cold_from.into_iter().collect();
    // A request reaches the gateway up to a dial (3 hops) after it is sent, and a closed-loop
    // client learns of an answer a hop after the gateway sends it: 4 rtt bounds the network.
    let window_end = |start: Nanos| {
        if Some(start) == cold_from {
            start.saturating_add(d.hold_max_ns + 8 * d.hop_ns)
        } else {
            start
                .max(config.load.start_ns)
                .saturating_add(d.last_end_ns + d.hold_max_ns + 8 * d.hop_ns)
        }
    };
    for event in events {
        if matches!(
            event.action,
            Action::Scale(0)
                | Action::Rollout
                | Action::Deploy { .. }
                | Action::DrainNode { .. }
                | Action::ShutdownNode { .. }
                | Action::LoseNode { .. }
                | Action::KillPod { .. }
        ) && let Some(start) = emptying
            .iter()
            .copied()
            .find(|&e| e <= event.at_ns && event.at_ns <= window_end(e))
        {
            return Some(Broken {
                detail: format!(
                    "a disruption at {} while requests may wait for the cold start begun at {}",
                    go(event.at_ns),
                    go(start)
                ),
                fix: format!("wait until {}", go(window_end(start) + 1)),
            });
        }
        let empties = matches!(
            event.action,
            Action::Scale(0)
                | Action::DrainNode { .. }
                | Action::ShutdownNode { .. }
                | Action::LoseNode { .. }
                | Action::KillPod { .. }
        ) || (d.rollout_empties
            && matches!(event.action, Action::Rollout | Action::Deploy { .. }));
        if empties {
            emptying.push(event.at_ns);
        }
    }
    None
}
