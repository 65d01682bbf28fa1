//! The safe-configuration rules (domain.md §4 and the mechanisms of §3 the model covers), as
//! data and code: each rule has a stable id, its inequality over the effective configuration
//! (and, where the danger needs one, the schedule), a paragraph on the interaction, and the fix.
//! `check` returns the rules a configuration breaks, with the numbers that break them and the
//! smallest change that mends each.
//!
//! The inequalities are the model's exact boundaries, with one stated slack: a draining Go
//! server notices its last connection ending only at its next `Shutdown` poll, at most
//! `POLL_SLACK_NS` later, so the grace rules keep that margin. `derive.rs` computes the
//! quantities the rules compare.

use crate::config::{Config, Mode, OnSigterm, Start, WatchdogKind};
use crate::duration::format_go;
use crate::schedule::{Action, Event};
use crate::server::SHUTDOWN_POLL_MAX_NS;
use crate::time::{NS_PER_S, Nanos};

mod derive;

use derive::deleting_events;
pub use derive::{Derived, derive};

/// Longest wait between a draining server's last connection ending and its noticing: the
/// 500 ms poll cap plus Go's 10 % jitter.
pub const POLL_SLACK_NS: Nanos = SHUTDOWN_POLL_MAX_NS + SHUTDOWN_POLL_MAX_NS / 10;

/// One rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub property: &'static str,
    /// The shipped scenario (in `scenarios/`) that shows the failure.
    pub example: &'static str,
}

/// Every rule, in the order reports list them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "handler-within-exec",
        inequality: "D_max < E (E > 0)",
        explanation: "The watchdog cancels the call to the function after exec_timeout and answers 504 (HTTP mode), an empty 200 (streaming mode). A handler that can run as long as exec_timeout is cut.",
        fix: "raise exec_timeout above the longest handler, or make the handler faster",
        mechanisms: &[5],
        property: "no-timeout",
        example: "mechanism-05-exec-timeout.yaml",
    },
    Rule {
        id: "exec-within-write",
        inequality: "min(D_max, E) <= W",
        explanation: "write_timeout is the watchdog's http.Server WriteTimeout, counted from the request header. A response ready after it is not written: the connection closes, the provider sees EOF and answers 500 when the handler returns, not at the timeout.",
        fix: "set write_timeout at least exec_timeout (the docs add a small margin)",
        mechanisms: &[6, 12],
        property: "no-timeout",
        example: "mechanism-06-write-timeout-below-exec-timeout.yaml",
    },
    Rule {
        id: "handler-within-child-write",
        inequality: "D_max <= W_child (HTTP mode)",
        explanation: "The HTTP-mode child reads write_timeout too, with its own default of 10 s when the variable is unset. A handler longer than the child's WriteTimeout loses its response between the child and the watchdog: the watchdog answers 500.",
        fix: "set write_timeout in the function's environment (the child then uses it too)",
        mechanisms: &[6],
        property: "no-timeout",
        example: "rule-handler-within-child-write.yaml",
    },
    Rule {
        id: "exec-within-upstream",
        inequality: "min(D_max, E) + 2 rtt < U",
        explanation: "The gateway's upstream_timeout bounds the call to the provider; when it fires first the client gets 502 with an empty body, while the function keeps running.",
        fix: "raise gateway.upstreamTimeout above exec_timeout (and gateway read/write timeouts above that)",
        mechanisms: &[8],
        property: "no-timeout",
        example: "mechanism-08-gateway-upstream-timeout.yaml",
    },
    Rule {
        id: "exec-within-provider-timeout",
        inequality: "min(D_max, E) + 2 rtt < PR",
        explanation: "faas-netes uses its read_timeout as the proxy client's timeout; when it fires first the client gets 500 \"Can't reach service\".",
        fix: "raise faasnetes.readTimeout (the chart defaults it to gateway.readTimeout) above exec_timeout",
        mechanisms: &[10],
        property: "no-timeout",
        example: "rule-exec-within-provider-timeout.yaml",
    },
    Rule {
        id: "exec-within-provider-write",
        inequality: "min(D_max, E) + 2 rtt <= PW",
        explanation: "faas-netes's server WriteTimeout: a response ready after it is not written and the gateway sees EOF (502).",
        fix: "raise faasnetes.writeTimeout (the chart defaults it to gateway.writeTimeout) above exec_timeout",
        mechanisms: &[10],
        property: "no-timeout",
        example: "rule-exec-within-provider-write.yaml",
    },
    Rule {
        id: "gateway-write-covers-response",
        inequality: "T_hold + min(D_max, E) + 2 rtt <= GWw",
        explanation: "The gateway's WriteTimeout counts from the client's request, scale-from-zero hold included. Past it the client gets an empty reply with no status.",
        fix: "raise gateway.writeTimeout above upstreamTimeout plus the cold start",
        mechanisms: &[9],
        property: "no-timeout",
        example: "rule-gateway-write-covers-response.yaml",
    },
    Rule {
        id: "client-timeout-covers-response",
        inequality: "T_hold + min(D_max, E) + 4 rtt < Tc",
        explanation: "The client's own timeout counts the cold start the gateway holds it for, then the handler.",
        fix: "raise the client timeout above the cold start plus the longest handler",
        mechanisms: &[11],
        property: "no-timeout",
        example: "mechanism-11-client-timeout-cold-start.yaml",
    },
    Rule {
        id: "max-inflight-covers-load",
        inequality: "max_inflight = 0 or max_inflight >= peak concurrent requests",
        explanation: "The provider picks a ready endpoint at random and ignores load, so every concurrent request can land on one pod; past max_inflight it answers 429.",
        fix: "raise max_inflight to the load's concurrency, or remove it",
        mechanisms: &[21],
        property: "no-rejection",
        example: "rule-max-inflight-covers-load.yaml",
    },
    Rule {
        id: "scale-from-zero-enabled",
        inequality: "scaleFromZero = true when requests can find no endpoint",
        explanation: "With scale_from_zero off, a request that finds no ready endpoint (cold start, scaled to zero, its only pod evicted) gets 503 \"No endpoints available\".",
        fix: "set gateway.scaleFromZero: true, or keep com.openfaas.scale.min replicas that are never all deleted at once",
        mechanisms: &[19],
        property: "no-rejection",
        example: "mechanism-19-scale-to-zero-no-endpoints.yaml",
    },
    Rule {
        id: "cold-start-within-gateway-hold",
        inequality: "T_cold <= 1000 x 100ms",
        explanation: "The gateway polls every 100 ms, at most 1000 times, for an available replica, then forwards anyway and the provider answers 503.",
        fix: "make the pod start faster (image size, readiness probe delay)",
        mechanisms: &[19],
        property: "no-rejection",
        example: "rule-cold-start-within-gateway-hold.yaml",
    },
    Rule {
        id: "no-disruption-during-cold-start",
        inequality: "no scale to 0, rollout, drain or crash while a request may be held for a cold start",
        explanation: "The gateway scales a function from zero once, when a request finds it at zero replicas, then only polls for an available replica. Scaled to zero again while requests wait, nothing brings it back: they wait for the client timeout or the gateway's 100 s of polls (then 503), unless a later request triggers a new scale-up. A rollout, drain or crash during the cold start replaces the starting pod and starts the wait over.",
        fix: "leave a cold start alone: no scale to zero, rollout or drain until the function has come back (autoscaler: a longer com.openfaas.scale.zero-duration)",
        mechanisms: &[19],
        property: "no-timeout",
        example: "rule-no-disruption-during-cold-start.yaml",
    },
    Rule {
        id: "healthcheck-covers-endpoint-lag",
        inequality: "d_prop + 1.5 rtt <= preStop + hc (fixed-wait: preStop + W)",
        explanation: "SIGTERM and endpoint removal start together; the provider keeps routing to the pod until its view catches up. The watchdog keeps its listener open for healthcheck_interval after SIGTERM for exactly this; if the view is slower, requests meet a closed listener (connection refused, 500) or a pooled connection it just closed.",
        fix: "raise healthcheck_interval (or add a preStop sleep) above the endpoint propagation delay",
        mechanisms: &[2, 3, 18],
        property: "no-refused-routing",
        example: "mechanism-02-routed-after-listener-closed.yaml",
    },
    Rule {
        id: "healthcheck-interval-positive",
        inequality: "hc > 0",
        explanation: "The watchdog waits with time.Tick(healthcheck_interval), which is nil for zero or less: it never closes its listener and never exits, and every termination ends in SIGKILL with whatever is in flight.",
        fix: "set healthcheck_interval to a positive duration at least the endpoint propagation delay",
        mechanisms: &[25],
        property: "graceful-exit",
        example: "mechanism-25-healthcheck-interval-zero.yaml",
    },
    Rule {
        id: "grace-covers-drain",
        inequality: "max(preStop + hc, d_prop + 1.5 rtt + min(D_max, E) + poll) < G",
        explanation: "After SIGTERM the watchdog serves for healthcheck_interval, then waits for active requests up to write_timeout. Requests keep arriving until the provider's view drops the pod; the last one must finish, and the watchdog notice it (poll <= 550 ms), before the kubelet's SIGKILL at the end of the grace period. Whatever is still in flight then is dropped (500). (The drain deadline itself, d_prop + min(D_max, E) <= preStop + hc + W, follows from healthcheck-covers-endpoint-lag and exec-within-write.)",
        fix: "raise terminationGracePeriodSeconds (OpenFaaS Pro derives write_timeout + 2s; CE keeps 30 s) or shorten healthcheck_interval",
        mechanisms: &[1, 12, 16, 20],
        property: "graceful-exit",
        example: "go-long-ce.yaml",
    },
    Rule {
        id: "fixed-wait-grace",
        inequality: "max(preStop + W, d_prop + 1.5 rtt + min(D_max, E) + poll) + W < G",
        explanation: "The pre-2021 watchdog sleeps write_timeout with its listener open, shuts down without a deadline, then sleeps write_timeout again: it needs twice write_timeout after SIGTERM even with nothing in flight.",
        fix: "upgrade the watchdog (of-watchdog >= 31e1d32), or set the grace period above 2 x write_timeout",
        mechanisms: &[15],
        property: "graceful-exit",
        example: "go-long-fixed-wait.yaml",
    },
    Rule {
        id: "child-drains-on-sigterm",
        inequality: "HTTP mode: the child drains on SIGTERM, or d_prop + 1.5 rtt + min(D_max, E) <= preStop",
        explanation: "The watchdog forwards SIGTERM to the child at once. A child without a handler dies, its calls fail (500), and the watchdog log.Fatalf's after it, dropping everything in flight.",
        fix: "handle SIGTERM in the function's server like the golang-middleware template: sleep healthcheck_interval, then Shutdown(write_timeout)",
        mechanisms: &[13],
        property: "no-dropped-in-flight",
        example: "mechanism-13-child-exits-on-sigterm.yaml",
    },
    Rule {
        id: "child-listens-while-routed",
        inequality: "HTTP mode: d_prop + 1.5 rtt <= preStop + hc_child, and d_prop + 1.5 rtt + D_max <= preStop + hc_child + W_child",
        explanation: "The child runs its own drain timer from the forwarded SIGTERM. If it closes its listener, or hits its own deadline, while the watchdog still accepts, the watchdog's calls are refused or cut (500).",
        fix: "give the child the same healthcheck_interval and write_timeout as the watchdog (set both in the environment)",
        mechanisms: &[14],
        property: "no-refused-routing",
        example: "rule-child-listens-while-routed.yaml",
    },
    Rule {
        id: "child-ready-before-routing",
        inequality: "HTTP mode: child start-up <= initialDelaySeconds + d_prop_min",
        explanation: "/_/health is 200 as soon as the watchdog writes its lock file, before the child listens; requests routed to the new pod before the child listens are refused (500).",
        fix: "use ready_path so readiness follows the function, or raise the readiness probe's initialDelaySeconds",
        mechanisms: &[17],
        property: "no-refused-routing",
        example: "rule-child-ready-before-routing.yaml",
    },
    Rule {
        id: "spot-notice-covers-drain",
        inequality: "drain time after eviction < notice",
        explanation: "A reclaimed node dies when its notice runs out, whatever the grace period: the pods on it must have drained and exited by then.",
        fix: "use async invocation with redelivery for work longer than the notice, or shorten healthcheck_interval and the work",
        mechanisms: &[22],
        property: "graceful-exit",
        example: "mechanism-22-spot-node.yaml",
    },
    Rule {
        id: "provider-idle-below-watchdog-idle",
        inequality: "POST: provider IdleConnTimeout (5s) + rtt <= watchdog R, and watchdog's (500ms) <= child R",
        explanation: "A server whose keep-alive idle timeout (its read_timeout) is shorter than its client's closes pooled connections the client is about to reuse; Go retries only bodiless GETs, so a POST meeting the close fails (500).",
        fix: "raise read_timeout above 5 s",
        mechanisms: &[4],
        property: "no-refused-routing",
        example: "rule-provider-idle-below-watchdog-idle.yaml",
    },
    Rule {
        id: "schedulable-node-remains",
        inequality: "nodes drained < nodes",
        explanation: "Replacements for evicted pods need a node; with every node drained they stay Pending and the function has no endpoint.",
        fix: "keep capacity on other nodes",
        mechanisms: &[22],
        property: "no-rejection",
        example: "rule-schedulable-node-remains.yaml",
    },
];

/// A rule by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
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

fn go(ns: Nanos) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

/// Every rule `config` (with `events`) breaks, in `RULES` order.
pub fn check(config: &Config, events: &[Event]) -> Vec<Breach> {
    let d = derive(config, events);
    let f = &config.function;
    let w = &f.watchdog;
    let k = &config.kubernetes;
    let g = &config.gateway;
    let http = w.mode == Mode::Http;
    let deletes = deleting_events(events).next().is_some();
    let mut out = Vec::new();
    let mut breach = |id: &str, detail: String, fix: String| {
        if let Some(rule) = rule(id) {
            out.push(Breach { rule, detail, fix });
        }
    };
    let r = d.response_max_ns;
    if w.exec_timeout_ns > 0 && d.handler_max_ns >= w.exec_timeout_ns {
        breach(
            "handler-within-exec",
            format!(
                "handler up to {} >= exec_timeout {}",
                go(d.handler_max_ns),
                go(w.exec_timeout_ns)
            ),
            format!("exec_timeout: {}", go(d.handler_max_ns + NS_PER_S)),
        );
    }
    if r > w.write_timeout_ns {
        breach(
            "exec-within-write",
            format!(
                "response after up to {} > write_timeout {}",
                go(r),
                go(w.write_timeout_ns)
            ),
            format!("write_timeout: {}", go(r)),
        );
    }
    if http && d.handler_max_ns > f.child.write_timeout_ns {
        breach(
            "handler-within-child-write",
            format!(
                "handler up to {} > the child's write_timeout {}",
                go(d.handler_max_ns),
                go(f.child.write_timeout_ns)
            ),
            format!(
                "write_timeout: {} (in the environment, read by the child too)",
                go(d.handler_max_ns)
            ),
        );
    }
    // Timers outside the pod see the answer a network path later than the watchdog sends it.
    let call = d.call_max_ns;
    if call >= g.upstream_timeout_ns {
        breach(
            "exec-within-upstream",
            format!(
                "response after up to {} >= upstream_timeout {}",
                go(call),
                go(g.upstream_timeout_ns)
            ),
            format!("gateway.upstreamTimeout: {}", go(call + NS_PER_S)),
        );
    }
    if call >= config.provider.read_timeout_ns {
        breach(
            "exec-within-provider-timeout",
            format!(
                "response after up to {} >= faas-netes read_timeout {}",
                go(call),
                go(config.provider.read_timeout_ns)
            ),
            format!("faasnetes.readTimeout: {}", go(call + NS_PER_S)),
        );
    }
    if call > config.provider.write_timeout_ns {
        breach(
            "exec-within-provider-write",
            format!(
                "response after up to {} > faas-netes write_timeout {}",
                go(call),
                go(config.provider.write_timeout_ns)
            ),
            format!("faasnetes.writeTimeout: {}", go(call)),
        );
    }
    if d.hold_max_ns + call > g.write_timeout_ns {
        breach(
            "gateway-write-covers-response",
            format!(
                "hold {} + response {} > gateway write_timeout {}",
                go(d.hold_max_ns),
                go(call),
                go(g.write_timeout_ns)
            ),
            format!("gateway.writeTimeout: {}", go(d.hold_max_ns + call)),
        );
    }
    let client = config.load.timeout_ns;
    let client_call = d.client_call_max_ns;
    if client > 0 && d.hold_max_ns + client_call >= client {
        breach(
            "client-timeout-covers-response",
            format!(
                "hold {} + response {} >= client timeout {}",
                go(d.hold_max_ns),
                go(client_call),
                go(client)
            ),
            format!(
                "load.timeout: {}",
                go(d.hold_max_ns + client_call + NS_PER_S)
            ),
        );
    }
    if w.max_inflight > 0 && u64::from(w.max_inflight) < d.peak_concurrency {
        breach(
            "max-inflight-covers-load",
            format!(
                "max_inflight {} < up to {} concurrent requests",
                w.max_inflight, d.peak_concurrency
            ),
            format!("max_inflight: {}", d.peak_concurrency),
        );
    }
    if d.view_can_empty && !g.scale_from_zero {
        breach(
            "scale-from-zero-enabled",
            "requests can find no endpoint and scale_from_zero is off".to_string(),
            "gateway.scaleFromZero: true".to_string(),
        );
    }
    let hold_cap = u64::from(g.poll_attempts) * g.poll_interval_ns;
    if d.view_can_empty && g.scale_from_zero && d.hold_max_ns > hold_cap {
        breach(
            "cold-start-within-gateway-hold",
            format!(
                "cold start up to {} > the gateway's hold {}",
                go(d.hold_max_ns),
                go(hold_cap)
            ),
            "shorten the start-up or the readiness probe delay".to_string(),
        );
    }
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
            Action::Scale(0) | Action::Rollout | Action::DrainNode { .. } | Action::KillPod { .. }
        ) && let Some(start) = emptying
            .iter()
            .copied()
            .find(|&e| e <= event.at_ns && event.at_ns <= window_end(e))
        {
            breach(
                "no-disruption-during-cold-start",
                format!(
                    "a disruption at {} while requests may wait for the cold start begun at {}",
                    go(event.at_ns),
                    go(start)
                ),
                format!("wait until {}", go(window_end(start) + 1)),
            );
            break;
        }
        let empties = matches!(
            event.action,
            Action::Scale(0) | Action::DrainNode { .. } | Action::KillPod { .. }
        ) || (d.rollout_empties && matches!(event.action, Action::Rollout));
        if empties {
            emptying.push(event.at_ns);
        }
    }
    if deletes {
        let wait_ns = d.close_ns.map(|c| c - d.sigterm_ns);
        // The last request the provider sends before its view drops the pod reaches it up to
        // a dial (3 hops) later; one whose SYN beat the close but whose request did not is
        // served by the watchdog (a new connection survives Shutdown) but meets the child's
        // closed listener when the child closes with it.
        if let Some(close) = d.close_ns
            && d.routed_arrival_max_ns > close
        {
            let what = if w.kind == WatchdogKind::FixedWait {
                "write_timeout"
            } else {
                "healthcheck_interval"
            };
            breach(
                "healthcheck-covers-endpoint-lag",
                format!(
                    "endpoint lag up to {} and a dial {} > preStop + {what} {}",
                    go(d.lag_max_ns),
                    go(3 * d.hop_ns),
                    go(close)
                ),
                format!(
                    "{what}: {}",
                    go(d.routed_arrival_max_ns.saturating_sub(d.sigterm_ns))
                ),
            );
        }
        if w.kind == WatchdogKind::OfWatchdog && wait_ns.is_none() {
            breach(
                "healthcheck-interval-positive",
                format!(
                    "healthcheck_interval {}",
                    format_go(w.healthcheck_interval_ns)
                ),
                format!("healthcheck_interval: {}", go(d.lag_max_ns.max(NS_PER_S))),
            );
        }
        if w.kind == WatchdogKind::OfWatchdog
            && let (Some(_), Some(exit)) = (d.close_ns, d.exit_ns)
            && exit >= d.sigkill_ns
        {
            let need_s = exit / NS_PER_S + 1;
            breach(
                "grace-covers-drain",
                format!(
                    "drain ends by {} after deletion (last request by {}), SIGKILL at {}",
                    go(exit),
                    go(d.last_end_ns),
                    go(d.sigkill_ns)
                ),
                format!("terminationGracePeriodSeconds: {need_s}"),
            );
        }
        if w.kind == WatchdogKind::FixedWait
            && let Some(exit) = d.exit_ns
            && exit >= d.sigkill_ns
        {
            breach(
                "fixed-wait-grace",
                format!(
                    "the fixed-wait watchdog exits {} after deletion, SIGKILL at {}",
                    go(exit),
                    go(d.sigkill_ns)
                ),
                format!("terminationGracePeriodSeconds: {}", exit / NS_PER_S + 1),
            );
        }
        // The child's death matters only if a request can be in flight or arrive at SIGTERM.
        if http
            && f.child.on_sigterm == OnSigterm::Exit
            && d.routed_arrival_max_ns + r > d.sigterm_ns
        {
            breach(
                "child-drains-on-sigterm",
                "upstream.onSigterm: exit".to_string(),
                "handle SIGTERM in the child (upstream.onSigterm: drain)".to_string(),
            );
        }
        if http && f.child.on_sigterm == OnSigterm::Drain {
            let child_wait = match w.kind {
                WatchdogKind::OfWatchdog => u64::try_from(f.child.healthcheck_interval_ns)
                    .ok()
                    .filter(|x| *x > 0),
                WatchdogKind::FixedWait => Some(f.child.write_timeout_ns),
            };
            if let Some(child_wait) = child_wait {
                let child_close = d.sigterm_ns + child_wait;
                // What reaches the watchdog after its own close is the healthcheck rule's.
                let watchdog_last_accept = d
                    .close_ns
                    .map_or(d.routed_arrival_max_ns, |c| c.min(d.routed_arrival_max_ns));
                let child_deadline = match w.kind {
                    WatchdogKind::OfWatchdog => Some(child_close + f.child.write_timeout_ns),
                    WatchdogKind::FixedWait => None,
                };
                let child_last_end = watchdog_last_accept + d.handler_max_ns;
                if watchdog_last_accept > child_close
                    || child_deadline.is_some_and(|dl| child_last_end > dl)
                {
                    breach(
                        "child-listens-while-routed",
                        format!(
                            "the watchdog may accept until {} but the child closes at {}",
                            go(watchdog_last_accept),
                            go(child_close)
                        ),
                        format!(
                            "healthcheck_interval: {} (read by the child too)",
                            go(watchdog_last_accept.saturating_sub(d.sigterm_ns))
                        ),
                    );
                }
            }
        }
    }
    if http {
        let probe_ns = u64::from(k.readiness.initial_delay_s) * NS_PER_S;
        let routed_ns = probe_ns + k.endpoint_lag_ns.lo_ns;
        if f.child.startup_ns.hi_ns > routed_ns {
            breach(
                "child-ready-before-routing",
                format!(
                    "the child listens up to {} after the watchdog, routed from {}",
                    go(f.child.startup_ns.hi_ns),
                    go(routed_ns)
                ),
                format!(
                    "readinessProbe.initialDelaySeconds: {}",
                    f.child.startup_ns.hi_ns.div_ceil(NS_PER_S)
                ),
            );
        }
    }
    for event in events {
        if let Action::DrainNode { notice_ns, .. } = event.action {
            let exit = d.exit_ns.unwrap_or(Nanos::MAX);
            if exit >= notice_ns {
                breach(
                    "spot-notice-covers-drain",
                    format!(
                        "drain takes {} after eviction, the node dies after {}",
                        go(exit.min(Nanos::MAX / 2)),
                        go(notice_ns)
                    ),
                    "shorten healthcheck_interval and the work, or use async invocations"
                        .to_string(),
                );
                break;
            }
        }
    }
    if config.load.method.is_replayable() {
        // GETs are retried on a fresh dial to a listening server: the idle race is harmless.
    } else if config.network.rtt_ns > 0
        // The server's idle timer starts a hop before the client's, and the client's last
        // request takes a hop to arrive: the server must wait a round trip longer.
        && (w.read_timeout_ns < config.provider.idle_conn_timeout_ns + config.network.rtt_ns
            || (http && f.child.read_timeout_ns < 500 * crate::time::NS_PER_MS))
    {
        breach(
            "provider-idle-below-watchdog-idle",
            format!(
                "watchdog read_timeout {} < the provider's IdleConnTimeout {} + rtt {}",
                go(w.read_timeout_ns),
                go(config.provider.idle_conn_timeout_ns),
                go(config.network.rtt_ns)
            ),
            format!(
                "read_timeout: {}",
                go(config.provider.idle_conn_timeout_ns + config.network.rtt_ns)
            ),
        );
    }
    let drain_count = events
        .iter()
        .filter(|e| matches!(e.action, Action::DrainNode { .. }))
        .count() as u32;
    if drain_count >= k.nodes {
        breach(
            "schedulable-node-remains",
            format!("{drain_count} node drains with {} nodes", k.nodes),
            format!("kubernetes.nodes: {}", drain_count + 1),
        );
    }
    out
}
