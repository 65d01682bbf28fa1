//! The HTTP-mode child's rules: its own write_timeout, its drain on the SIGTERM the watchdog
//! forwards (healthcheck_interval, then `Shutdown` with a write_timeout deadline) and its
//! start-up, against the watchdog that calls it. Streaming mode has no child: none applies.

use crate::config::{Config, Mode, OnSigterm, WatchdogKind, server_limit_ns};
use crate::properties::Property;
use crate::schedule::Event;
use crate::time::NS_PER_S;

use super::derive::deletes;
use super::{Broken, Derived, Rule, go};

fn http(config: &Config) -> bool {
    config.function.watchdog.mode == Mode::Http
}

/// `handler-within-child-write`: The child's write_timeout outlasts the longest handler.
pub static HANDLER_WITHIN_CHILD_WRITE: Rule = Rule {
    id: "handler-within-child-write",
    inequality: "D_max <= W_child (HTTP mode)",
    explanation: "The HTTP-mode child reads write_timeout too, with its own default of 10 s when the variable is unset. A handler longer than the child's WriteTimeout loses its response between the child and the watchdog: the watchdog answers 500.",
    fix: "set write_timeout in the function's environment (the child then uses it too)",
    mechanisms: &[6],
    property: Property::NoTimeout,
    example: "rule-handler-within-child-write.yaml",
    check: handler_within_child_write,
};
fn handler_within_child_write(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let child = &config.function.child;
    // Go's server: 0 is none, as for a child that has no write timeout (node, waitress).
    let over = server_limit_ns(child.write_timeout_ns).is_some_and(|w| d.handler_max_ns > w);
    if !(http(config) && over) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "handler up to {} > the child's write_timeout {}",
            go(d.handler_max_ns),
            go(child.write_timeout_ns)
        ),
        fix: format!(
            "write_timeout: {} (in the environment, read by the child too)",
            go(d.handler_max_ns)
        ),
    })
}

/// `child-drains-on-sigterm`: The child survives the SIGTERM the watchdog forwards while requests can reach it.
pub static CHILD_DRAINS_ON_SIGTERM: Rule = Rule {
    id: "child-drains-on-sigterm",
    inequality: "HTTP mode: the child drains on SIGTERM, or d_prop + 1.5 rtt + min(D_max, E) <= preStop",
    explanation: "The watchdog forwards SIGTERM to the child at once. A child without a handler dies, its calls fail (500), and the watchdog log.Fatalf's after it, dropping everything in flight.",
    fix: "handle SIGTERM in the function's server like the golang-middleware template: sleep healthcheck_interval, then Shutdown(write_timeout)",
    mechanisms: &[13],
    property: Property::NoDroppedInFlight,
    example: "mechanism-13-child-exits-on-sigterm.yaml",
    check: child_drains_on_sigterm,
};
fn child_drains_on_sigterm(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    // The child's death matters only if a request can be in flight or arrive at SIGTERM.
    if !(deletes(events)
        && http(config)
        && config.function.child.on_sigterm == OnSigterm::Exit
        && d.routed_arrival_max_ns + d.response_max_ns > d.sigterm_ns)
    {
        return None;
    }
    Some(Broken {
        detail: "upstream.onSigterm: exit".to_string(),
        fix: "handle SIGTERM in the child (upstream.onSigterm: drain)".to_string(),
    })
}

/// `child-listens-while-routed`: The child's drain timers outlast the watchdog's routing to it.
pub static CHILD_LISTENS_WHILE_ROUTED: Rule = Rule {
    id: "child-listens-while-routed",
    inequality: "HTTP mode: d_prop + 1.5 rtt <= preStop + hc_child, and d_prop + 1.5 rtt + D_max <= preStop + hc_child + W_child",
    explanation: "The child runs its own drain timer from the forwarded SIGTERM. If it closes its listener, or hits its own deadline, while the watchdog still accepts, the watchdog's calls are refused or cut (500).",
    fix: "give the child the same healthcheck_interval and write_timeout as the watchdog (set both in the environment)",
    mechanisms: &[14],
    property: Property::NoRefusedRouting,
    example: "rule-child-listens-while-routed.yaml",
    check: child_listens_while_routed,
};
fn child_listens_while_routed(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    let f = &config.function;
    let w = &f.watchdog;
    if !(deletes(events) && http(config)) {
        return None;
    }
    // A child that stops (an ASP.NET Core child) closes at SIGTERM and drains on its own
    // deadline; one that dies is `child-drains-on-sigterm`'s.
    let (child_wait, stop_deadline) = match f.child.on_sigterm {
        OnSigterm::Exit => return None,
        OnSigterm::Stop {
            shutdown_timeout_ns,
        } => (0, Some(shutdown_timeout_ns)),
        OnSigterm::Drain => {
            let wait = match w.kind {
                WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                    u64::try_from(f.child.healthcheck_interval_ns)
                        .ok()
                        .filter(|x| *x > 0)
                }
                WatchdogKind::FixedWait => Some(f.child.write_timeout_ns),
            }?;
            (wait, None)
        }
    };
    let child_close = d.sigterm_ns + child_wait;
    // What reaches the watchdog after its own close is the healthcheck rule's.
    let watchdog_last_accept = d
        .close_ns
        .map_or(d.routed_arrival_max_ns, |c| c.min(d.routed_arrival_max_ns));
    let child_deadline = match (stop_deadline, w.kind) {
        (Some(stop), _) => Some(child_close + stop),
        (None, WatchdogKind::OfWatchdog | WatchdogKind::Classic) => {
            Some(child_close + f.child.write_timeout_ns)
        }
        (None, WatchdogKind::FixedWait) => None,
    };
    let child_last_end = watchdog_last_accept + d.handler_max_ns;
    if !(watchdog_last_accept > child_close || child_deadline.is_some_and(|dl| child_last_end > dl))
    {
        return None;
    }
    Some(Broken {
        detail: format!(
            "the watchdog may accept until {} but the child closes at {}",
            go(watchdog_last_accept),
            go(child_close)
        ),
        fix: if stop_deadline.is_some() {
            "a child that keeps listening for healthcheck_interval after SIGTERM, like the \
             golang-middleware template (upstream.onSigterm: drain)"
                .to_string()
        } else {
            format!(
                "healthcheck_interval: {} (read by the child too)",
                go(watchdog_last_accept.saturating_sub(d.sigterm_ns))
            )
        },
    })
}

/// `child-ready-before-routing`: The child listens before the provider routes to its pod.
pub static CHILD_READY_BEFORE_ROUTING: Rule = Rule {
    id: "child-ready-before-routing",
    inequality: "HTTP mode: child start-up <= initialDelaySeconds + d_prop_min",
    explanation: "/_/health is 200 as soon as the watchdog writes its lock file, before the child listens; requests routed to the new pod before the child listens are refused (500).",
    fix: "use ready_path so readiness follows the function, or raise the readiness probe's initialDelaySeconds",
    mechanisms: &[17],
    property: Property::NoRefusedRouting,
    example: "rule-child-ready-before-routing.yaml",
    check: child_ready_before_routing,
};
fn child_ready_before_routing(_: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    if !http(config) {
        return None;
    }
    let k = &config.kubernetes;
    let child = &config.function.child;
    // Routed as early as can be: the prober's first tick can fall right at initialDelaySeconds.
    let probe_ns = k.first_probe_ns().lo_ns;
    let routed_ns = probe_ns + k.endpoint_lag_ns.lo_ns;
    if child.startup_ns.hi_ns <= routed_ns {
        return None;
    }
    Some(Broken {
        detail: format!(
            "the child listens up to {} after the watchdog, routed from {}",
            go(child.startup_ns.hi_ns),
            go(routed_ns)
        ),
        fix: format!(
            "readinessProbe.initialDelaySeconds: {}",
            child.startup_ns.hi_ns.div_ceil(NS_PER_S)
        ),
    })
}
