//! The watchdog's rules: its own timers (exec_timeout, write_timeout, read_timeout,
//! healthcheck_interval) and its max_inflight limit, against the handler, the load and the
//! provider's view and pool.

use crate::config::{Config, Mode, WatchdogKind, server_limit_ns};
use crate::duration::format_go;
use crate::properties::Property;
use crate::schedule::Event;
use crate::time::{NS_PER_MS, NS_PER_S};

use super::derive::deletes;
use super::{Broken, Derived, Rule, go};

/// `handler-within-exec`: The watchdog's exec_timeout outlasts the longest handler.
pub static HANDLER_WITHIN_EXEC: Rule = Rule {
    id: "handler-within-exec",
    inequality: "D_max < E (E > 0)",
    explanation: "The watchdog cancels the call to the function after exec_timeout and answers 504 (HTTP mode), an empty 200 (streaming mode). A handler that can run as long as exec_timeout is cut.",
    fix: "raise exec_timeout above the longest handler, or make the handler faster",
    mechanisms: &[5],
    property: Property::NoTimeout,
    example: "mechanism-05-exec-timeout.yaml",
    check: handler_within_exec,
};
fn handler_within_exec(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let w = &config.function.watchdog;
    if !(w.exec_timeout_ns > 0 && d.handler_max_ns >= w.exec_timeout_ns) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "handler up to {} >= exec_timeout {}",
            go(d.handler_max_ns),
            go(w.exec_timeout_ns)
        ),
        fix: format!("exec_timeout: {}", go(d.handler_max_ns + NS_PER_S)),
    })
}

/// `exec-within-write`: The watchdog's write_timeout covers the response.
pub static EXEC_WITHIN_WRITE: Rule = Rule {
    id: "exec-within-write",
    inequality: "min(D_max, E) <= W",
    explanation: "write_timeout is the watchdog's http.Server WriteTimeout, counted from the request header. A response ready after it is not written: the connection closes, the provider sees EOF and answers 500 when the handler returns, not at the timeout.",
    fix: "set write_timeout at least exec_timeout (the docs add a small margin)",
    mechanisms: &[6, 12],
    property: Property::NoTimeout,
    example: "mechanism-06-write-timeout-below-exec-timeout.yaml",
    check: exec_within_write,
};
fn exec_within_write(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let w = &config.function.watchdog;
    let r = d.response_max_ns;
    // Go's server: a WriteTimeout of 0 (a negative write_timeout) is none.
    if server_limit_ns(w.write_timeout_ns).is_none_or(|limit| r <= limit) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "response after up to {} > write_timeout {}",
            go(r),
            go(w.write_timeout_ns)
        ),
        fix: format!("write_timeout: {}", go(r)),
    })
}

/// `max-inflight-covers-load`: The watchdog's max_inflight admits every request the load can put on one pod.
pub static MAX_INFLIGHT_COVERS_LOAD: Rule = Rule {
    id: "max-inflight-covers-load",
    inequality: "max_inflight = 0 or max_inflight >= peak concurrent requests",
    explanation: "The provider picks a ready endpoint at random and ignores load, so every concurrent request can land on one pod; past max_inflight it answers 429.",
    fix: "raise max_inflight to the load's concurrency, or remove it",
    mechanisms: &[21],
    property: Property::NoRejection,
    example: "rule-max-inflight-covers-load.yaml",
    check: max_inflight_covers_load,
};
fn max_inflight_covers_load(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let w = &config.function.watchdog;
    if !(w.max_inflight > 0 && u64::from(w.max_inflight) < d.peak_concurrency) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "max_inflight {} < up to {} concurrent requests",
            w.max_inflight, d.peak_concurrency
        ),
        fix: format!("max_inflight: {}", d.peak_concurrency),
    })
}

/// `healthcheck-covers-endpoint-lag`: The watchdog's listener stays open until the provider's view drops the pod.
pub static HEALTHCHECK_COVERS_ENDPOINT_LAG: Rule = Rule {
    id: "healthcheck-covers-endpoint-lag",
    inequality: "d_prop + 1.5 rtt <= preStop + hc (fixed-wait: preStop + W)",
    explanation: "SIGTERM and endpoint removal start together; the provider keeps routing to the pod until its view catches up. The watchdog keeps its listener open for healthcheck_interval after SIGTERM for exactly this; if the view is slower, requests meet a closed listener (connection refused, 500) or a pooled connection it just closed.",
    fix: "raise healthcheck_interval (or add a preStop sleep) above the endpoint propagation delay",
    mechanisms: &[2, 3, 18],
    property: Property::NoRefusedRouting,
    example: "mechanism-02-routed-after-listener-closed.yaml",
    check: healthcheck_covers_endpoint_lag,
};
fn healthcheck_covers_endpoint_lag(
    d: &Derived,
    config: &Config,
    events: &[Event],
) -> Option<Broken> {
    if !deletes(events) {
        return None;
    }
    let w = &config.function.watchdog;
    // The last request the provider sends before its view drops the pod reaches it up to a
    // dial (3 hops) later; one whose SYN beat the close but whose request did not is served by
    // the watchdog (a new connection survives Shutdown) but meets the child's closed listener
    // when the child closes with it.
    let close = d.close_ns?;
    if d.routed_arrival_max_ns <= close {
        return None;
    }
    let what = if w.kind == WatchdogKind::FixedWait {
        "write_timeout"
    } else {
        "healthcheck_interval"
    };
    Some(Broken {
        detail: format!(
            "endpoint lag up to {} and a dial {} > preStop + {what} {}",
            go(d.lag_max_ns),
            go(3 * d.hop_ns),
            go(close)
        ),
        fix: format!(
            "{what}: {}",
            go(d.routed_arrival_max_ns.saturating_sub(d.sigterm_ns))
        ),
    })
}

/// `healthcheck-interval-positive`: The watchdog's healthcheck_interval is positive, so that it closes and exits.
pub static HEALTHCHECK_INTERVAL_POSITIVE: Rule = Rule {
    id: "healthcheck-interval-positive",
    inequality: "hc > 0",
    explanation: "The watchdog waits with time.Tick(healthcheck_interval), which is nil for zero or less: it never closes its listener and never exits, and every termination ends in SIGKILL with whatever is in flight.",
    fix: "set healthcheck_interval to a positive duration at least the endpoint propagation delay",
    mechanisms: &[25],
    property: Property::GracefulExit,
    example: "mechanism-25-healthcheck-interval-zero.yaml",
    check: healthcheck_interval_positive,
};
fn healthcheck_interval_positive(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    let w = &config.function.watchdog;
    if !(deletes(events) && w.kind == WatchdogKind::OfWatchdog && d.close_ns.is_none()) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "healthcheck_interval {}",
            format_go(w.healthcheck_interval_ns)
        ),
        fix: format!("healthcheck_interval: {}", go(d.lag_max_ns.max(NS_PER_S))),
    })
}

/// `provider-idle-below-watchdog-idle`: The watchdog's (and the child's) idle timeout outlasts its client's.
pub static PROVIDER_IDLE_BELOW_WATCHDOG_IDLE: Rule = Rule {
    id: "provider-idle-below-watchdog-idle",
    inequality: "POST: provider IdleConnTimeout (5s) + rtt <= watchdog R, and watchdog's (500ms) <= child R",
    explanation: "A server whose keep-alive idle timeout (its read_timeout) is shorter than its client's closes pooled connections the client is about to reuse; Go retries only bodiless GETs, so a POST meeting the close fails (500).",
    fix: "raise read_timeout above 5 s",
    mechanisms: &[4],
    property: Property::NoRefusedRouting,
    example: "rule-provider-idle-below-watchdog-idle.yaml",
    check: provider_idle_below_watchdog_idle,
};
fn provider_idle_below_watchdog_idle(_: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let w = &config.function.watchdog;
    let http = w.mode == Mode::Http;
    if config.load.method.is_replayable() {
        // GETs are retried on a fresh dial to a listening server: the idle race is harmless.
        return None;
    }
    // The server's idle timer starts a hop before the client's, and the client's last request
    // takes a hop to arrive: the server must wait a round trip longer.
    // A read_timeout of 0 is no idle timeout at all (Go: IdleTimeout falls back to it).
    let shorter =
        |timeout_ns: u64, than_ns: u64| server_limit_ns(timeout_ns).is_some_and(|t| t < than_ns);
    if !(config.network.rtt_ns > 0
        && (shorter(
            w.read_timeout_ns,
            config.provider.idle_conn_timeout_ns + config.network.rtt_ns,
        ) || (http && shorter(config.function.child.read_timeout_ns, 500 * NS_PER_MS))))
    {
        return None;
    }
    Some(Broken {
        detail: format!(
            "watchdog read_timeout {} < the provider's IdleConnTimeout {} + rtt {}",
            go(w.read_timeout_ns),
            go(config.provider.idle_conn_timeout_ns),
            go(config.network.rtt_ns)
        ),
        fix: format!(
            "read_timeout: {}",
            go(config.provider.idle_conn_timeout_ns + config.network.rtt_ns)
        ),
    })
}
