//! The control plane on turmoil: the model's own [`Cluster`], driven from the step loop as the
//! model's world drives it. Between `Sim::step` calls the driver hands it its inputs (setup,
//! the scenario's actions, its due timers, probe answers, the pods' own exits, the gateway's
//! scale-from-zero asks) and carries out each effect on the hosts: a pod host created at its
//! container's start, SIGTERM on the pod's watch channel, SIGKILL and crashes as
//! `Sim::bounce` behind the closed start gate, a lost node as held links (`Sim::hold`: nothing
//! comes back, not even a refusal, as from a dead IP), the provider's view
//! changed when the informer's lag is over. The queue-worker Deployment (its pods, and the
//! rollout of `restartQueueWorker`) is driven from here too.

use std::collections::BTreeMap;

use faasim_model::choice::{Chooser, Stream};
use faasim_model::cluster::{Cluster, Effect, Input, Timer};
use faasim_model::config::{Config, GatewaySigterm};
use faasim_model::gateway_deployment::{self, Effect as EdgeEffect};
use faasim_model::ledger::{Cause, PodId};
use faasim_model::run::{PodEnd, PodSummary};
use faasim_model::schedule::{Action, Event};
use faasim_model::time::Nanos;

use crate::edge;
use crate::pod::pod_main;
use crate::queue::MemberId;
use crate::queue_worker::WorkerDeployment;
use crate::shared::{PodState, SharedRef};
use crate::user_server;

/// Something the driver holds until its time.
#[derive(Clone, Copy, Debug)]
enum Due {
    /// The scenario's event of this index.
    Scenario(usize),
    /// A timer the cluster armed.
    Timer(Timer),
    /// The provider's view adds (`routed`) or drops the pod.
    View {
        /// The pod.
        pod: PodId,
        /// In the view from then on.
        routed: bool,
    },
    /// A queue-worker pod the rollout created has started.
    WorkerStarted(MemberId),
    /// A timer of the gateway's Deployment.
    Edge(gateway_deployment::Timer),
}

/// The control plane and the queue of what it has armed.
pub(crate) struct Control {
    /// The model's control plane.
    cluster: Cluster,
    /// What the hosts share, with the model's chooser the cluster draws from.
    shared: SharedRef,
    /// Timers, view changes and scenario events by (due time, arming order): ties run in the
    /// order they were armed, as in the model's queue.
    queue: BTreeMap<(Nanos, u64), Due>,
    /// Arming order.
    seq: u64,
    /// The scenario's timed events.
    events: Vec<Event>,
    /// The queue-worker Deployment, when the load is asynchronous.
    workers: Option<WorkerDeployment>,
}

impl Control {
    /// The control plane of `config`, set up at time 0 (the Deployment's first pods), with
    /// the scenario's `events` queued after what setup armed, as the model queues them.
    pub(crate) fn new(
        config: &Config,
        events: &[Event],
        shared: SharedRef,
        sim: &mut turmoil::Sim<'_>,
    ) -> Control {
        let mut control = Control {
            cluster: Cluster::new(config, true),
            shared,
            queue: BTreeMap::new(),
            seq: 0,
            events: events.to_vec(),
            workers: config.asynchronous.as_ref().map(WorkerDeployment::new),
        };
        control.handle(0, Input::Setup, sim);
        if let Some(workers) = &mut control.workers {
            workers.setup(&control.shared, sim);
        }
        for (index, event) in events.iter().enumerate() {
            control.push(event.at_ns, Due::Scenario(index));
        }
        control
    }

    fn push(&mut self, at_ns: Nanos, due: Due) {
        self.seq += 1;
        self.queue.insert((at_ns, self.seq), due);
    }

    /// Before a step at `now`: the gateway's scale-from-zero asks, then everything due.
    pub(crate) fn run_due(&mut self, now: Nanos, sim: &mut turmoil::Sim<'_>) {
        let asks = std::mem::take(&mut self.shared.lock().scale_from_zero);
        for replicas in asks {
            self.handle(now, Input::ScaleFromZero { replicas }, sim);
        }
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Due::Scenario(index) => {
                    let action = self.events[index].action.clone();
                    if action == Action::RolloutGateway {
                        // The gateway's Deployment, not the function's.
                        self.edge(now, gateway_deployment::Input::Rollout, sim);
                    } else if action == Action::RestartQueueWorker {
                        // The queue-worker's Deployment, not the function's.
                        let next = match &mut self.workers {
                            Some(workers) => workers.restart(now, &self.shared),
                            None => None,
                        };
                        self.worker_due(next);
                    } else {
                        self.handle(now, Input::Action(action), sim);
                    }
                }
                Due::WorkerStarted(member) => {
                    let next = match &mut self.workers {
                        Some(workers) => workers.started(now, member, &self.shared, sim),
                        None => None,
                    };
                    self.worker_due(next);
                }
                Due::Timer(timer) => self.handle(now, Input::Timer(timer), sim),
                Due::Edge(timer) => self.edge(now, gateway_deployment::Input::Timer(timer), sim),
                Due::View { pod, routed } => self.view_set(now, pod, routed),
            }
        }
    }

    /// Queue the start of the rollout's next queue-worker pod, if any.
    fn worker_due(&mut self, next: Option<(Nanos, MemberId)>) {
        if let Some((at_ns, member)) = next {
            self.push(at_ns, Due::WorkerStarted(member));
        }
    }

    /// After a step: the pods whose process exited on their own during it, at the instant
    /// each exited.
    pub(crate) fn take_exits(&mut self, sim: &mut turmoil::Sim<'_>) {
        let exits = std::mem::take(&mut self.shared.lock().exits);
        for (pod, at_ns) in exits {
            self.handle(at_ns, Input::Exited { pod }, sim);
        }
    }

    /// Every pod asked to terminate has ended, the asynchronous path is idle (every publish
    /// arrived, no delivery waits for its ack, no worker holds a call) and nothing still queued would do anything
    /// (the model runs until its queue is empty: scenario events after the load, pod starts,
    /// probes and node deaths still change the pods). Whether a timer would act is asked of
    /// a copy of the cluster, so the driver keeps no copy of its rules.
    pub(crate) fn settled(&self) -> bool {
        let terminating = self
            .cluster
            .pods()
            .iter()
            .any(|p| p.deletion_ns.is_some() && p.end == PodEnd::Running);
        let asynchronous = self
            .shared
            .lock()
            .asynchronous
            .as_ref()
            .is_none_or(|a| a.idle());
        !terminating
            && asynchronous
            && !self.queue.values().any(|due| match *due {
                Due::Scenario(_) | Due::View { .. } | Due::WorkerStarted(_) => true,
                Due::Edge(timer) => edge::timer_acts(&self.shared, timer, &mut Lookahead),
                Due::Timer(timer) => {
                    let mut effects = Vec::new();
                    self.cluster.clone().handle(
                        0,
                        Input::Timer(timer),
                        &mut Lookahead,
                        &mut effects,
                    );
                    !effects.is_empty()
                }
            })
    }

    /// The pods for the report, with the requests each held when killed (or at its exit).
    pub(crate) fn summaries(&self) -> Vec<PodSummary> {
        let s = self.shared.lock();
        self.cluster
            .summaries(|pod| s.pods[pod as usize].killed_with)
    }

    /// Hand `input` to the gateway's Deployment at `now`, then carry out its effects in
    /// order: a host per new gateway pod, SIGTERM (CE: the host crashed; a drain: the
    /// signal its accept loop waits for), SIGKILL (the host crashed), timers queued.
    fn edge(&mut self, now: Nanos, input: gateway_deployment::Input, sim: &mut turmoil::Sim<'_>) {
        for effect in edge::handle(&self.shared, now, input) {
            match effect {
                EdgeEffect::Spawn { gateway } => {
                    let startup_ns = self.shared.lock().config.gateway.startup_ns;
                    edge::spawn(&self.shared, gateway, startup_ns, sim);
                }
                EdgeEffect::Sigterm { gateway } => {
                    // The Deployment's own note says SIGTERM was sent.
                    let s = self.shared.lock();
                    match s.config.gateway.on_sigterm {
                        GatewaySigterm::Exit => {
                            drop(s);
                            edge::kill(&self.shared, gateway, now, sim);
                        }
                        GatewaySigterm::Drain { .. } => {
                            s.gateways[usize::from(gateway)].sigterm.send_replace(true);
                        }
                    }
                }
                EdgeEffect::Sigkill { gateway } => edge::kill(&self.shared, gateway, now, sim),
                EdgeEffect::Arm { at_ns, timer } => self.push(at_ns, Due::Edge(timer)),
                EdgeEffect::Via { .. }
                | EdgeEffect::Stale { .. }
                | EdgeEffect::Refused { .. }
                | EdgeEffect::Note { .. } => {
                    unreachable!("connections are the hosts' and notes are traced: {effect:?}")
                }
            }
        }
    }

    /// Hand `input` to the cluster at `now` (its draws from the shared chooser), then carry
    /// out its effects in order.
    fn handle(&mut self, now: Nanos, input: Input, sim: &mut turmoil::Sim<'_>) {
        let mut effects = Vec::new();
        {
            let mut s = self.shared.lock();
            self.cluster.handle(now, input, &mut s.rng.0, &mut effects);
        }
        for effect in effects {
            self.apply(now, effect, sim);
        }
    }

    fn apply(&mut self, now: Nanos, effect: Effect, sim: &mut turmoil::Sim<'_>) {
        match effect {
            Effect::Created { pod, name } => {
                let mut s = self.shared.lock();
                assert_eq!(pod as usize, s.pods.len(), "pods are created in id order");
                s.pods.push(PodState::new(name));
            }
            Effect::Warm { pod } => {
                // Running, ready and routed at time 0: no child start-up to wait for.
                self.start(now, pod, 0, sim);
                let mut s = self.shared.lock();
                if let Err(at) = s.view.binary_search(&pod) {
                    s.view.insert(at, pod);
                }
            }
            Effect::Start { pod, .. } => {
                let child_startup = {
                    let mut s = self.shared.lock();
                    let span = s.config.function.child.startup_ns;
                    s.rng.span(Stream::Startup, span)
                };
                self.start(now, pod, child_startup, sim);
            }
            Effect::Probe { pod, generation } => {
                let healthy = self.healthy(pod);
                self.handle(
                    now,
                    Input::Probed {
                        pod,
                        generation,
                        healthy,
                    },
                    sim,
                );
            }
            Effect::Route { pod, routed, at_ns } => self.push(at_ns, Due::View { pod, routed }),
            Effect::Sigterm { pod } => {
                let mut s = self.shared.lock();
                let p = &s.pods[pod as usize];
                p.sigterm.send_replace(true);
                let name = p.name.clone();
                s.note(now, name, "SIGTERM");
            }
            Effect::Sigkill { pod } => {
                let mut s = self.shared.lock();
                let p = &mut s.pods[pod as usize];
                p.kill(Cause::Sigkill);
                // The bounced host's software waits at the closed gate: its IP refuses
                // connects until the pod object goes, as a killed pod's does.
                p.gate.send_replace(false);
                let (name, active, host) = (p.name.clone(), p.killed_with, p.host_created);
                s.note(
                    now,
                    name.clone(),
                    format!("SIGKILL at grace end with {active} requests active (exit 137)"),
                );
                drop(s);
                if host {
                    sim.bounce(name.as_str());
                }
            }
            Effect::Crash { pod, .. } => self.crash(now, pod, sim),
            Effect::NodeLost { pod } => {
                // Traffic between the gateway and its host is held for ever (`Sim::hold`):
                // calls in flight and new dials hang until a timer gives up, as the model's
                // black hole. A partition would drop the SYN, and turmoil answers a dropped
                // SYN with a refusal at once, which a dead IP never sends.
                let mut s = self.shared.lock();
                let p = &mut s.pods[pod as usize];
                p.kill(Cause::NodeLost);
                p.black_hole_ns = Some(now);
                let (name, count, host) = (p.name.clone(), p.killed_with, p.host_created);
                s.note(
                    now,
                    name.clone(),
                    format!("lost with the node, {count} requests hang"),
                );
                let gateways: Vec<String> = s.gateways.iter().map(|g| g.name.clone()).collect();
                drop(s);
                if host {
                    for gateway in gateways {
                        sim.hold(gateway.as_str(), name.as_str());
                    }
                }
            }
            // Never started: no process to signal (a crashed one's host waits at its closed
            // gate for ever).
            Effect::Removed { .. } => {}
            Effect::Arm { at_ns, timer } => self.push(at_ns, Due::Timer(timer)),
            Effect::Note { who, what } => self.shared.lock().note(now, who, what),
        }
    }

    /// The pod's container starts: its host is created (the first time) or its start gate
    /// opens (a restart); the child listens `child_startup_ns` after the watchdog.
    fn start(
        &mut self,
        now: Nanos,
        pod: PodId,
        child_startup_ns: Nanos,
        sim: &mut turmoil::Sim<'_>,
    ) {
        let (name, create_host) = {
            let mut s = self.shared.lock();
            let p = &mut s.pods[pod as usize];
            p.exit_cause = None;
            p.child_startup_ns = child_startup_ns;
            let create_host = !std::mem::replace(&mut p.host_created, true);
            if !create_host {
                p.gate.send_replace(true);
            }
            let name = p.name.clone();
            s.note(now, name.clone(), "watchdog starts on :8080");
            (name, create_host)
        };
        if create_host {
            let shared = self.shared.clone();
            match user_server::for_pod(pod) {
                Some((server, ready)) => sim.host(name.as_str(), move || {
                    user_server::pod_main(shared.clone(), pod, server.clone(), ready.clone())
                }),
                None => sim.host(name.as_str(), move || pod_main(shared.clone(), pod)),
            }
        }
    }

    /// The pod's `/_/health` for the readiness probe: the running watchdog's health, a user
    /// server's accepting; a watchdog started at this very instant (initialDelaySeconds 0)
    /// has not run a step yet and is healthy as it starts, as the model's is.
    fn healthy(&self, pod: PodId) -> bool {
        let s = self.shared.lock();
        match s.pods[pod as usize].monitor.as_ref() {
            Some(monitor) => monitor.healthy(),
            None if !user_server::installed() => self.cluster.pods()[pod as usize].started,
            None => user_server::ready(pod),
        }
    }

    /// The container crashes (no SIGTERM): requests in flight are dropped (the bounced host's
    /// connections close) and its software waits at the closed gate for the restart.
    fn crash(&mut self, now: Nanos, pod: PodId, sim: &mut turmoil::Sim<'_>) {
        let name = {
            let mut s = self.shared.lock();
            let p = &mut s.pods[pod as usize];
            let active = p.in_flight();
            p.exit_cause = Some(Cause::PodCrash);
            p.child_died = false;
            p.monitor = None;
            p.gate.send_replace(false);
            let name = p.name.clone();
            s.note(
                now,
                name.clone(),
                format!("container crashed with {active} requests active; restarting"),
            );
            name
        };
        sim.bounce(name.as_str());
    }

    /// The informer's lag is over: the provider's view adds or drops the pod.
    fn view_set(&mut self, now: Nanos, pod: PodId, routed: bool) {
        let mut s = self.shared.lock();
        let name = s.pods[pod as usize].name.clone();
        let change = match (s.view.binary_search(&pod), routed) {
            (Err(at), true) => Some((at, "adds")),
            (Ok(at), false) => Some((at, "drops")),
            _ => None,
        };
        if let Some((at, verb)) = change {
            if routed {
                s.view.insert(at, pod);
            } else {
                s.view.remove(at);
            }
            s.note(now, "provider", format!("endpoints view {verb} {name}"));
        }
    }
}

/// The chooser of [`Control::settled`]'s look ahead: a copy of the cluster may draw (a
/// restart's start-up time), and must not move the run's streams.
struct Lookahead;

impl Chooser for Lookahead {
    fn pick_u64(&mut self, _: Stream, lo: u64, _: u64) -> u64 {
        lo
    }

    fn pick_index(&mut self, _: Stream, _: usize) -> usize {
        0
    }
}
