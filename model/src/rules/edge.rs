//! The edge's rules: the gateway's own pods against a `helm upgrade` that rolls them.

use crate::config::{Config, GatewaySigterm};
use crate::properties::Property;
use crate::schedule::{Action, Event};
use crate::time::NS_PER_S;

use super::derive::deletes;
use super::{Broken, Derived, Rule, go};

/// `gateway-drains-on-rollout`: A rolled gateway pod finishes the calls going through it.
pub static GATEWAY_DRAINS_ON_ROLLOUT: Rule = Rule {
    id: "gateway-drains-on-rollout",
    inequality: "onSigterm = drain, lag_max + 3 hops <= listener delay, last accept + hold_max + min(call_max, GWu) < gateway grace (last accept: lag_max + 3 hops, or the listener delay for a closed loop on kept-alive connections), its provider keeps watching the endpoints while it drains, and no kept-alive connection reused across the close",
    explanation: "Every helm upgrade rolls the gateway's pods. The CE gateway does not handle SIGTERM: the process ends at once and every call going through it is cut, the client seeing its connection close with no status while the function runs on unobserved. A gateway that drains must keep accepting until kube-proxy has stopped sending it new connections, then finish its calls before the grace period's SIGKILL; a call sent on a kept-alive connection as the listener closes it meets a closed connection.",
    fix: "upgrade OpenFaaS when no call is in flight, or run a gateway that drains with a grace period above its longest call; put retries in the client",
    mechanisms: &[],
    property: Property::NoDroppedInFlight,
    example: "gateway-rollout-ce.yaml",
    check: gateway_drains_on_rollout,
};
fn gateway_drains_on_rollout(d: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    if !events
        .iter()
        .any(|e| matches!(e.action, Action::RolloutGateway))
    {
        return None;
    }
    let gateway = &config.gateway;
    let delay_ns = match gateway.on_sigterm {
        GatewaySigterm::Exit => {
            return Some(Broken {
                detail: "the gateway exits on SIGTERM (no signal handling in CE): the calls \
                         through each old pod are cut"
                    .to_string(),
                fix: "gateway.onSigterm: drain (an edition that drains), or upgrade when no call \
                      is in flight"
                    .to_string(),
            });
        }
        GatewaySigterm::Drain { delay_ns } => delay_ns,
    };
    // A connection kube-proxy hands the pod just before its view drops it arrives a dial
    // (three hops) later.
    let last_dial_ns = d.lag_max_ns + 3 * d.hop_ns;
    if delay_ns < last_dial_ns {
        return Some(Broken {
            detail: format!(
                "the listener closes {} after SIGTERM, new connections arrive until {}",
                go(delay_ns),
                go(last_dial_ns)
            ),
            fix: format!("kubernetes.endpointLag below {}", go(delay_ns)),
        });
    }
    // Its last call: on a new connection, one kube-proxy handed it just before its view
    // dropped it; on a kept-alive one (a closed loop, or an ingress in front, which keeps its
    // upstream connections alive whatever the client does), one sent just before the close.
    // Held while scaling from zero, then the call.
    let reuses =
        (config.load.keep_alive && config.load.rate_per_s == 0) || config.ingress.is_some();
    let last_accept_ns = if reuses { delay_ns } else { last_dial_ns };
    let call_ns = d.call_max_ns.min(gateway.upstream_timeout_ns);
    let drain_ns = last_accept_ns + d.hold_max_ns + call_ns;
    if drain_ns >= gateway.grace_ns {
        return Some(Broken {
            detail: format!(
                "the gateway drains for up to {} after SIGTERM, SIGKILL at {}",
                go(drain_ns),
                go(gateway.grace_ns)
            ),
            fix: format!(
                "gateway.terminationGracePeriodSeconds: {}",
                drain_ns / NS_PER_S + 1
            ),
        });
    }
    // A provider whose informers stopped at SIGTERM routes the drain's calls with the view it
    // had: a pod deleted or added since (a scale, a rollout, a cold start) is missed.
    if config.provider.stops_informers_on_sigterm && (deletes(events) || d.view_can_empty) {
        return Some(Broken {
            detail: "the draining gateway's provider stops its informers at SIGTERM while the \
                     function's endpoints can change"
                .to_string(),
            fix: "a provider that keeps watching while its gateway drains".to_string(),
        });
    }
    // A closed loop reuses its connection, and so does an ingress: a call sent less than a hop
    // before the close arrives on a connection the gateway has just closed (an open loop
    // without an ingress dials every call).
    if reuses && d.hop_ns > 0 {
        let fix = if config.ingress.is_some() {
            "retries in the ingress (ingress-nginx proxy-next-upstream) or in the client"
        } else {
            "load.keepAlive: false, or retries in the client"
        };
        return Some(Broken {
            detail: format!(
                "kept-alive connections with a {} hop: a call can cross the listener's close",
                go(d.hop_ns)
            ),
            fix: fix.to_string(),
        });
    }
    None
}
