//! The gateway's pods on turmoil: one host per gateway pod (`gateway-N`, the gateway and its
//! provider in one process), with the model's own `GatewayDeployment` deciding which pod each
//! new connection goes to (kube-proxy's pick among the Service's backends, its lagging view,
//! conntrack's pin) and rolling the pods on `rolloutGateway`, so there is no second copy of
//! those rules. The step loop carries out its effects here: a host per new pod, SIGTERM as a
//! crash of the host (CE has no handler: Go's default action ends the process, and every
//! connection through it closes) or as the signal a draining gateway's accept loop waits for,
//! SIGKILL as a crash.

use std::io;
use std::time::Duration;

use faasim_model::gateway_deployment::{
    Caller, Effect, GatewayDeployment, GatewayId, Input, Timer,
};
use faasim_model::ledger::{Cause, RequestId};
use faasim_model::time::Nanos;

use crate::client::dial;
use crate::gateway::gateway_main;
use crate::shared::{GatewayState, PORT, Shared, SharedRef, now_ns};

/// Where a caller's request goes, as kube-proxy and conntrack decide it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// On the caller's open connection to this gateway pod's host (the pod it is pinned
    /// to, or, for a caller with a warm pool and no pin yet, the pod kube-proxy picks).
    Reuse(String),
    /// On a new connection to this gateway pod's host.
    Dial(String),
    /// The client's idle connection had been closed by its pod: the client takes another.
    Stale,
    /// The connection is refused: kube-proxy chose this gone pod (its host is dialled, to
    /// meet the refusal there), or the Service has no backend at all (`None`).
    Refused(Option<String>),
}

/// kube-proxy's choice for request (or execution) `id` of `caller`, which would dial a new
/// connection (`dial`) or use its open one: the model's `Input::Connect`, drawing from the
/// run's chooser as the model does (kube-proxy's pick keyed by the request).
pub(crate) fn route(shared: &SharedRef, id: usize, caller: Caller, dial: bool) -> Route {
    let now = now_ns();
    let mut out = Vec::new();
    let mut guard = shared.lock();
    let req = RequestId::try_from(id).expect("request ids fit in u32");
    let key = guard.key(id).unwrap_or_default();
    let Shared { edge, rng, .. } = &mut *guard;
    let connect = Input::Connect {
        req,
        key,
        caller,
        dial,
    };
    edge.handle(now, connect, &mut rng.0, &mut out);
    let route = out.iter().find_map(|effect| match *effect {
        Effect::Via {
            gateway,
            dial: true,
            ..
        } => Some(Route::Dial(GatewayDeployment::name(gateway))),
        Effect::Via {
            gateway,
            dial: false,
            ..
        } => Some(Route::Reuse(GatewayDeployment::name(gateway))),
        Effect::Refused { gateway, .. } => {
            Some(Route::Refused(gateway.map(GatewayDeployment::name)))
        }
        Effect::Stale { .. } => Some(Route::Stale),
        _ => None,
    });
    route.expect("a connection goes somewhere or is refused")
}

/// A new connection for request `id` to the host of `route`: a refused dial (or a Service with no backend, whose refusal takes the
/// SYN's and the RST's hops) records the cause `gateway refused` for the caller to close with.
pub(crate) async fn connect(
    shared: &SharedRef,
    id: usize,
    route: Route,
    hop: Duration,
) -> io::Result<turmoil::net::TcpStream> {
    let host = match route {
        Route::Dial(host) | Route::Reuse(host) | Route::Refused(Some(host)) => Some(host),
        Route::Refused(None) => None,
        Route::Stale => unreachable!("a stale connection is not dialled"),
    };
    let dialled = match host {
        Some(host) => dial((host.as_str(), PORT), hop).await,
        None => {
            tokio::time::sleep(2 * hop).await;
            Err(io::Error::from(io::ErrorKind::ConnectionRefused))
        }
    };
    if dialled.is_err() {
        shared.lock().hint_mut(id).cause = Some(Cause::GatewayRefused);
    }
    dialled
}

/// The gateway pods of the run's start: each a host, ready and behind the Service.
pub(crate) fn setup(shared: &SharedRef, sim: &mut turmoil::Sim<'_>) {
    for effect in handle(shared, 0, Input::Setup) {
        match effect {
            Effect::Spawn { gateway } => spawn(shared, gateway, 0, sim),
            other => unreachable!("set-up makes pods only: {other:?}"),
        }
    }
}

/// Hand `input` to the gateway's Deployment at `now` (its draws from the run's chooser); its
/// notes go to the timeline, the other effects are returned for the caller to carry out.
pub(crate) fn handle(shared: &SharedRef, now: Nanos, input: Input) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut guard = shared.lock();
    let s = &mut *guard;
    s.edge.handle(now, input, &mut s.rng.0, &mut out);
    out.retain(|effect| match effect {
        Effect::Note { who, what } => {
            s.note(now, who.clone(), what.clone());
            false
        }
        _ => true,
    });
    out
}

/// Whether the Deployment's `timer` would do anything if it fired now (asked of a copy).
pub(crate) fn timer_acts(
    shared: &SharedRef,
    timer: Timer,
    chooser: &mut dyn faasim_model::choice::Chooser,
) -> bool {
    let mut copy = shared.lock().edge.clone();
    let mut out = Vec::new();
    copy.handle(0, Input::Timer(timer), chooser, &mut out);
    !out.is_empty()
}

/// Gateway pod `gateway` is created: its host, whose process listens `startup_ns` later
/// (the Service sends it nothing before its readiness probe passes). A node already lost
/// is as unreachable from it as from the others.
pub(crate) fn spawn(
    shared: &SharedRef,
    gateway: GatewayId,
    startup_ns: Nanos,
    sim: &mut turmoil::Sim<'_>,
) {
    let name = GatewayDeployment::name(gateway);
    let lost: Vec<String> = {
        let mut s = shared.lock();
        assert_eq!(
            usize::from(gateway),
            s.gateways.len(),
            "gateway pods are created in id order"
        );
        s.gateways.push(GatewayState::new(name.clone()));
        s.pods
            .iter()
            .filter(|p| p.black_hole_ns.is_some() && p.host_created)
            .map(|p| p.name.clone())
            .collect()
    };
    let host = shared.clone();
    sim.host(name.as_str(), move || {
        gateway_main(host.clone(), gateway, startup_ns)
    });
    for pod in lost {
        sim.hold(name.as_str(), pod.as_str());
    }
}

/// Gateway pod `gateway`'s process dies at `now` (CE's SIGTERM, or SIGKILL): its host is
/// bounced (`Sim::bounce`: every connection to and from it closes) and its software, seeing
/// the pod's process gone, never listens again, so a dial to its IP is refused as to a pod IP
/// with no listener (a crashed turmoil host would drop the SYN instead). The calls it held are
/// recorded as cut by the gateway's exit for their callers, who see their connection close
/// with no status.
pub(crate) fn kill(shared: &SharedRef, gateway: GatewayId, now: Nanos, sim: &mut turmoil::Sim<'_>) {
    let name = {
        let mut s = shared.lock();
        let g = &mut s.gateways[usize::from(gateway)];
        if g.exited {
            return;
        }
        g.exited = true;
        let cut: Vec<usize> = g.in_flight.iter().copied().collect();
        let name = g.name.clone();
        for &id in &cut {
            s.hint_mut(id).cause = Some(Cause::GatewayExited);
        }
        s.note(
            now,
            name.clone(),
            format!("process killed with {} calls in flight", cut.len()),
        );
        name
    };
    // The lock is released: the bounced host's tasks drop their in-flight guards.
    sim.bounce(name.as_str());
    let rest = handle(shared, now, Input::Exited { gateway });
    debug_assert!(rest.is_empty(), "an exit has no effect but notes");
}
