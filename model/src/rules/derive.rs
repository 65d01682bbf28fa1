//! The quantities the rules compare, derived once from a configuration and its schedule: the
//! longest handler and response, the network's share of each timer, the cold-start hold, and
//! the drain timeline after a pod's deletion (SIGTERM, listener close, last request, exit,
//! SIGKILL).

use crate::config::{Config, Mode, Start, WatchdogKind};
use crate::schedule::{Action, Event};
use crate::time::{NS_PER_S, Nanos};

use super::POLL_SLACK_NS;

/// Quantities derived from a configuration and schedule that the rules compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    /// Longest handler.
    pub handler_max_ns: Nanos,
    /// Longest time from the watchdog accepting to its answer: min(D_max, E).
    pub response_max_ns: Nanos,
    /// One network hop: half of `network.rtt`. A dial costs three (SYN, SYN-ACK, the
    /// request), a request on a pooled connection one, an answer one per leg.
    pub hop_ns: Nanos,
    /// Longest time from the provider forwarding a request to the answer reaching it:
    /// min(D_max, E) + 2 rtt (a dial's three hops there, one back).
    pub call_max_ns: Nanos,
    /// Longest time from the ingress forwarding a request to the gateway's answer reaching
    /// it, besides a hold: `call_max_ns` + 1 rtt (a hop to the gateway on the ingress's pooled
    /// connection, one back).
    pub ingress_call_max_ns: Nanos,
    /// Longest time from the client sending to the answer reaching it, besides a hold:
    /// `call_max_ns` + 2 rtt (the client's own dial, 3 hops, and the last hop back), and
    /// 1 rtt more through an ingress (its hop to the gateway and back).
    pub client_call_max_ns: Nanos,
    /// By when, after the deletion, the last request routed to the pod reaches it: sent just
    /// before the provider's view drops it, on a new connection (d_prop + 1.5 rtt).
    pub routed_arrival_max_ns: Nanos,
    /// Longest endpoint propagation delay.
    pub lag_max_ns: Nanos,
    /// Longest cold start until the gateway sees the replica, when requests can be held.
    pub hold_max_ns: Nanos,
    /// Requests can find the view empty (cold start, scale to zero, drains, crashes).
    pub view_can_empty: bool,
    /// A rollout may take every replica down at once (maxUnavailable reaches the replicas).
    pub rollout_empties: bool,
    /// From deletion to SIGTERM.
    pub sigterm_ns: Nanos,
    /// From deletion to SIGKILL.
    pub sigkill_ns: Nanos,
    /// From deletion to the watchdog closing its listener (`None`: never).
    pub close_ns: Option<Nanos>,
    /// From deletion to the watchdog accepting the last request routed to the pod: sent just
    /// before the view drops it (or its listener closes), on a new connection.
    pub last_accept_ns: Nanos,
    /// From deletion to the last request routed to the pod ending.
    pub last_end_ns: Nanos,
    /// From deletion to the watchdog exiting (`None`: never on its own).
    pub exit_ns: Option<Nanos>,
    /// Peak concurrent requests the load can put on one pod.
    pub peak_concurrency: u64,
}

/// The schedule has an event that may delete a function pod: any but a crash, which has no
/// drain, and a gateway rollout, which deletes only the gateway's pods.
pub(super) fn deletes(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| !matches!(e.action, Action::KillPod { .. } | Action::RolloutGateway))
}

/// Compute the derived quantities.
pub fn derive(config: &Config, events: &[Event]) -> Derived {
    let f = &config.function;
    let k = &config.kubernetes;
    let handler_max_ns = f.handler_ns.hi_ns;
    let exec = f.watchdog.exec_timeout_ns;
    let response_max_ns = if exec == 0 {
        handler_max_ns
    } else {
        handler_max_ns.min(exec)
    };
    let lag_max_ns = k.endpoint_lag_ns.hi_ns;
    let routed_arrival_max_ns = lag_max_ns + 3 * (config.network.rtt_ns / 2);
    let hop_ns = config.network.rtt_ns / 2;
    let call_max_ns = response_max_ns + 4 * hop_ns;
    let ingress_call_max_ns = call_max_ns + 2 * hop_ns;
    let ingress_hops = if config.ingress.is_some() { 2 } else { 0 };
    let client_call_max_ns = call_max_ns + (4 + ingress_hops) * hop_ns;
    let scales_to_zero = events.iter().any(|e| matches!(e.action, Action::Scale(0)));
    let replicas = f.scale_min;
    // A node shut down or lost takes its pods out as a drain does.
    let drains = events.iter().any(|e| {
        matches!(
            e.action,
            Action::DrainNode { .. } | Action::ShutdownNode { .. } | Action::LoseNode { .. }
        )
    });
    let crashes = events
        .iter()
        .any(|e| matches!(e.action, Action::KillPod { .. }));
    // A rollout allowed to take every replica down at once empties the view too.
    let desired_values =
        std::iter::once(replicas).chain(events.iter().filter_map(|e| match e.action {
            Action::Scale(n) if n > 0 => Some(n),
            Action::Deploy { scale_min } => scale_min,
            _ => None,
        }));
    // A deploy is a rollout too (faas-netes writes a new uid label every time).
    let rollout_empties = events
        .iter()
        .any(|e| matches!(e.action, Action::Rollout | Action::Deploy { .. }))
        && desired_values
            .into_iter()
            .any(|n| k.max_unavailable.resolve(n, false) >= n);
    // A drain or crash combined with a scale-down can take every routed pod at once, so any
    // of them may leave requests waiting for a cold start.
    let view_can_empty = f.start == Start::Cold
        || replicas == 0
        || scales_to_zero
        || drains
        || crashes
        || rollout_empties;
    let child_start_ns = if f.watchdog.mode == Mode::Http {
        f.child.startup_ns.hi_ns
    } else {
        0
    };
    // Ready after successThreshold passing probes, the first as late as the kubelet's prober
    // can come: its first tick at or after initialDelaySeconds, up to a period later.
    let probe_ns = k.first_probe_ns().hi_ns;
    let extra_probes_ns = u64::from(k.readiness.success_threshold.saturating_sub(1))
        * u64::from(k.readiness.period_s)
        * NS_PER_S;
    let ready_ns =
        f.startup_ns.hi_ns + probe_ns.max(child_start_ns.min(probe_ns)) + extra_probes_ns;
    // A crashed container waits restartDelay before it starts again.
    let restart_ns = if crashes { k.restart_delay_ns } else { 0 };
    let hold_max_ns = if view_can_empty {
        ready_ns + restart_ns + lag_max_ns + config.gateway.poll_interval_ns
    } else {
        0
    };
    let pre_stop_ns = k.pre_stop_sleep_s * NS_PER_S;
    let grace_ns = k.grace_s * NS_PER_S;
    let sigterm_ns = pre_stop_ns.min(grace_ns);
    let sigkill_ns = if pre_stop_ns >= grace_ns && grace_ns > 0 {
        grace_ns + 2 * NS_PER_S
    } else {
        grace_ns
    };
    let wait_ns = match f.watchdog.kind {
        WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
            u64::try_from(f.watchdog.healthcheck_interval_ns)
                .ok()
                .filter(|w| *w > 0)
        }
        WatchdogKind::FixedWait => Some(f.watchdog.write_timeout_ns),
    };
    let close_ns = wait_ns.map(|w| sigterm_ns + w);
    // The SYN of the last dial reaches the pod a hop after the view dropped it, and no later
    // than the listener's close; its request comes a round trip after the SYN.
    let last_syn_ns = match close_ns {
        Some(close) => (lag_max_ns + hop_ns).min(close),
        None => lag_max_ns + hop_ns,
    };
    let last_accept_ns = last_syn_ns + 2 * hop_ns;
    let last_end_ns = last_accept_ns + response_max_ns;
    let exit_ns = close_ns.map(|close| {
        let drained = if last_end_ns <= close {
            close
        } else {
            last_end_ns + POLL_SLACK_NS
        };
        match f.watchdog.kind {
            // Shutdown returns at its deadline even when the last connection ended between
            // two polls.
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                drained.min(close + f.watchdog.write_timeout_ns)
            }
            WatchdogKind::FixedWait => drained + f.watchdog.write_timeout_ns,
        }
    });
    let load = &config.load;
    let peak_concurrency = if load.rate_per_s == 0 {
        u64::from(load.concurrency)
    } else {
        let window = u128::from(hold_max_ns + response_max_ns) * u128::from(load.rate_per_s);
        (window.div_ceil(u128::from(NS_PER_S)) as u64 + 1).min(load.requests)
    };
    Derived {
        handler_max_ns,
        response_max_ns,
        hop_ns,
        call_max_ns,
        ingress_call_max_ns,
        client_call_max_ns,
        routed_arrival_max_ns,
        lag_max_ns,
        hold_max_ns,
        view_can_empty,
        rollout_empties,
        sigterm_ns,
        sigkill_ns,
        close_ns,
        last_accept_ns,
        last_end_ns,
        exit_ns,
        peak_concurrency,
    }
}
