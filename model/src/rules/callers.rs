//! The callers' rules: the timers outside the pod that wait for its answer (the gateway's
//! upstream_timeout and write_timeout, faas-netes's read and write timeouts, an ingress's read
//! timeout, the client's own timeout), each against the longest response plus the network's
//! way there and back.

use crate::config::{Config, server_limit_ns};
use crate::properties::Property;
use crate::schedule::Event;
use crate::time::NS_PER_S;

use super::{Broken, Derived, Rule, go};

// Timers outside the pod see the answer a network path later than the watchdog sends it:
// `Derived::call_max_ns` and `Derived::client_call_max_ns` count it.

/// `exec-within-upstream`: The gateway's upstream_timeout outlasts the call to the provider.
pub static EXEC_WITHIN_UPSTREAM: Rule = Rule {
    id: "exec-within-upstream",
    inequality: "min(D_max, E) + 2 rtt < U",
    explanation: "The gateway's upstream_timeout bounds the call to the provider; when it fires first the client gets 502 with an empty body, while the function keeps running.",
    fix: "raise gateway.upstreamTimeout above exec_timeout (and gateway read/write timeouts above that)",
    mechanisms: &[8],
    property: Property::NoTimeout,
    example: "mechanism-08-gateway-upstream-timeout.yaml",
    check: exec_within_upstream,
};
fn exec_within_upstream(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let call = d.call_max_ns;
    let upstream = config.gateway.upstream_timeout_ns;
    if call < upstream {
        return None;
    }
    Some(Broken {
        detail: format!(
            "response after up to {} >= upstream_timeout {}",
            go(call),
            go(upstream)
        ),
        fix: format!("gateway.upstreamTimeout: {}", go(call + NS_PER_S)),
    })
}

/// `exec-within-provider-timeout`: faas-netes's proxy timeout (its read_timeout) outlasts the call to the pod.
pub static EXEC_WITHIN_PROVIDER_TIMEOUT: Rule = Rule {
    id: "exec-within-provider-timeout",
    inequality: "min(D_max, E) + 2 rtt < PR",
    explanation: "faas-netes uses its read_timeout as the proxy client's timeout; when it fires first the client gets 500 \"Can't reach service\".",
    fix: "raise faasnetes.readTimeout (the chart defaults it to gateway.readTimeout) above exec_timeout",
    mechanisms: &[10],
    property: Property::NoTimeout,
    example: "rule-exec-within-provider-timeout.yaml",
    check: exec_within_provider_timeout,
};
fn exec_within_provider_timeout(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let call = d.call_max_ns;
    // faas-provider's GetReadTimeout: 0 or less is its 10 s default.
    let read = config.provider.proxy_timeout_ns();
    if call < read {
        return None;
    }
    Some(Broken {
        detail: format!(
            "response after up to {} >= faas-netes read_timeout {}",
            go(call),
            go(read)
        ),
        fix: format!("faasnetes.readTimeout: {}", go(call + NS_PER_S)),
    })
}

/// `exec-within-provider-write`: faas-netes's server write_timeout covers the response.
pub static EXEC_WITHIN_PROVIDER_WRITE: Rule = Rule {
    id: "exec-within-provider-write",
    inequality: "min(D_max, E) + 2 rtt <= PW",
    explanation: "faas-netes's server WriteTimeout: a response ready after it is not written and the gateway sees EOF (502).",
    fix: "raise faasnetes.writeTimeout (the chart defaults it to gateway.writeTimeout) above exec_timeout",
    mechanisms: &[10],
    property: Property::NoTimeout,
    example: "rule-exec-within-provider-write.yaml",
    check: exec_within_provider_write,
};
fn exec_within_provider_write(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let call = d.call_max_ns;
    // Go's server: a WriteTimeout of 0 is none.
    let write = server_limit_ns(config.provider.write_timeout_ns)?;
    if call <= write {
        return None;
    }
    Some(Broken {
        detail: format!(
            "response after up to {} > faas-netes write_timeout {}",
            go(call),
            go(write)
        ),
        fix: format!("faasnetes.writeTimeout: {}", go(call)),
    })
}

/// `gateway-write-covers-response`: The gateway's write_timeout covers the cold-start hold and the response.
pub static GATEWAY_WRITE_COVERS_RESPONSE: Rule = Rule {
    id: "gateway-write-covers-response",
    inequality: "T_hold + min(D_max, E) + 2 rtt <= GWw",
    explanation: "The gateway's WriteTimeout counts from the client's request, scale-from-zero hold included. Past it the client gets an empty reply with no status.",
    fix: "raise gateway.writeTimeout above upstreamTimeout plus the cold start",
    mechanisms: &[9],
    property: Property::NoTimeout,
    example: "rule-gateway-write-covers-response.yaml",
    check: gateway_write_covers_response,
};
fn gateway_write_covers_response(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let call = d.call_max_ns;
    // Go's server: a WriteTimeout of 0 is none.
    let write = server_limit_ns(config.gateway.write_timeout_ns)?;
    if d.hold_max_ns + call <= write {
        return None;
    }
    Some(Broken {
        detail: format!(
            "hold {} + response {} > gateway write_timeout {}",
            go(d.hold_max_ns),
            go(call),
            go(write)
        ),
        fix: format!("gateway.writeTimeout: {}", go(d.hold_max_ns + call)),
    })
}

/// `ingress-read-covers-response`: An ingress's read timeout outlasts the cold-start hold and
/// the response.
pub static INGRESS_READ_COVERS_RESPONSE: Rule = Rule {
    id: "ingress-read-covers-response",
    inequality: "T_hold + min(D_max, E) + 3 rtt < IR",
    explanation: "An ingress controller or load balancer in front of the gateway (ingress-nginx's proxy-read-timeout, an ALB's idle timeout, both 60 s by default) waits for the gateway's answer, scale-from-zero hold included. When it fires first the client gets 504 from the ingress, and the ingress closes its connection to the gateway: the cancel goes down the chain, but the function's handler runs on to its end. Above gateway.upstreamTimeout (which exec-within-upstream keeps above the response) it also lets the gateway's own 502 reach the client.",
    fix: "raise the ingress's read timeout (nginx.ingress.kubernetes.io/proxy-read-timeout, in seconds) above the cold start plus the longest handler, and above gateway.upstreamTimeout",
    mechanisms: &[],
    property: Property::NoTimeout,
    example: "ingress-read-timeout.yaml",
    check: ingress_read_covers_response,
};
fn ingress_read_covers_response(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    // An async client waits through the ingress only for the gateway's 202; the queue-worker
    // calls the gateway from inside the cluster.
    if config.asynchronous.is_some() {
        return None;
    }
    let read = config.ingress.as_ref()?.read_timeout_ns;
    let call = d.ingress_call_max_ns;
    if d.hold_max_ns + call < read {
        return None;
    }
    // nginx reads the annotation in whole seconds: the fix is one.
    let needed = d.hold_max_ns + call + NS_PER_S;
    let fix_s = needed.div_ceil(NS_PER_S);
    Some(Broken {
        detail: format!(
            "hold {} + response {} >= ingress read timeout {}",
            go(d.hold_max_ns),
            go(call),
            go(read)
        ),
        fix: format!("ingress.readTimeout: {}", go(fix_s * NS_PER_S)),
    })
}

/// `client-timeout-covers-response`: The client's timeout outlasts the cold-start hold and the response.
pub static CLIENT_TIMEOUT_COVERS_RESPONSE: Rule = Rule {
    id: "client-timeout-covers-response",
    inequality: "T_hold + min(D_max, E) + 4 rtt < Tc",
    explanation: "The client's own timeout counts the cold start the gateway holds it for, then the handler.",
    fix: "raise the client timeout above the cold start plus the longest handler",
    mechanisms: &[11],
    property: Property::NoTimeout,
    example: "mechanism-11-client-timeout-cold-start.yaml",
    check: client_timeout_covers_response,
};
fn client_timeout_covers_response(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    // An async client waits only for the gateway's 202.
    if config.asynchronous.is_some() {
        return None;
    }
    let client = config.load.timeout_ns;
    let client_call = d.client_call_max_ns;
    if !(client > 0 && d.hold_max_ns + client_call >= client) {
        return None;
    }
    Some(Broken {
        detail: format!(
            "hold {} + response {} >= client timeout {}",
            go(d.hold_max_ns),
            go(client_call),
            go(client)
        ),
        fix: format!(
            "load.timeout: {}",
            go(d.hold_max_ns + client_call + NS_PER_S)
        ),
    })
}
