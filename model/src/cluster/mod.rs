//! The control plane as one sans-IO component: the Deployment and ReplicaSet controllers
//! (scale, rollout, scale from zero), the kubelet (container start, readiness probes, preStop,
//! SIGTERM, the grace timer and SIGKILL, crash restarts), the endpoints controller with the
//! informer's lag, and the nodes (placement, cordon, death). Both engines drive it: the
//! model's world and the turmoil harness hand it each input and carry out its effects, so
//! the control plane is written once.
//!
//! It owns the pods' control-plane facts (name, revision, node, ready, deletion, how they
//! ended) and nothing of their data plane: what a pod's processes do with a signal, and the
//! requests they hold, belong to the engine's pod. The pod tells the cluster when its process
//! exits ([`Input::Exited`]) and answers its probes ([`Input::Probed`]).

mod deploy;
mod kubelet;
mod node_lifecycle;
mod node_shutdown;
mod nodes;

use crate::choice::{Chooser, Stream};
use crate::config::{Config, Start};
use crate::deployment::{self, PodFacts};
use crate::ledger::PodId;
use crate::run::{PodEnd, PodSummary};
use crate::schedule::Action;
use crate::time::{Nanos, stamp};

pub use nodes::Node;

/// Reconcile passes in one go: every shipped and generated case converges in two; a ninth
/// pass with work left is a controller bug, and the run stops with the state.
const RECONCILE_ROUNDS_MAX: usize = 8;

/// A timer of the control plane, armed through [`Effect::Arm`] and handed back as
/// [`Input::Timer`] when due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// A pod's container starts (incarnation `generation`).
    Start {
        /// The pod.
        pod: PodId,
        /// Its incarnation when the timer was armed.
        generation: u32,
    },
    /// The kubelet probes a pod's readiness.
    Probe {
        /// The pod.
        pod: PodId,
        /// Its incarnation when the timer was armed.
        generation: u32,
    },
    /// A crashed container's restart delay is over.
    Restart {
        /// The pod.
        pod: PodId,
        /// Its incarnation after the crash.
        generation: u32,
    },
    /// A drained node dies.
    NodeDies {
        /// The node.
        node: u32,
    },
    /// The node lifecycle controller's pass that finds `node` not Ready (its kubelet said so,
    /// or its heartbeats stopped past the grace period).
    NodeMonitor {
        /// The node.
        node: u32,
    },
    /// The pods of an unreachable node have outlived their `tolerationSeconds` for the
    /// NoExecute taint: the taint manager deletes them.
    TaintEviction {
        /// The node.
        node: u32,
    },
    /// preStop is over: the kubelet sends SIGTERM.
    Sigterm {
        /// The pod.
        pod: PodId,
    },
    /// The grace period is over: the kubelet sends SIGKILL.
    Sigkill {
        /// The pod.
        pod: PodId,
    },
}

/// One input to the control plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Time 0: the Deployment's `scale_min` pods (started and routed at once when the
    /// function starts warm).
    Setup,
    /// A scenario event.
    Action(Action),
    /// A timer armed earlier is due.
    Timer(Timer),
    /// A pod answered the probe asked by [`Effect::Probe`].
    Probed {
        /// The pod.
        pod: PodId,
        /// Its incarnation when probed.
        generation: u32,
        /// `/_/health` answered 200.
        healthy: bool,
    },
    /// A pod's process exited on its own (drained, deadline, its child's death).
    Exited {
        /// The pod.
        pod: PodId,
    },
    /// The gateway asks for `replicas` because it saw none available (scale from zero); the
    /// Deployment takes it only while it wants zero.
    ScaleFromZero {
        /// The replicas asked for.
        replicas: u32,
    },
}

/// What the control plane asks its engine to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A pod object exists: the engine makes its pod (not started).
    Created {
        /// The new pod's id (creation order).
        pod: PodId,
        /// Its name: function, revision, id.
        name: String,
    },
    /// A pod of a warm start at time 0: running, ready and in the provider's view at once.
    Warm {
        /// The pod.
        pod: PodId,
    },
    /// The pod's container starts: its processes begin to listen.
    Start {
        /// The pod.
        pod: PodId,
        /// Its incarnation.
        generation: u32,
    },
    /// Probe the pod's readiness now and answer with [`Input::Probed`].
    Probe {
        /// The pod.
        pod: PodId,
        /// Its incarnation.
        generation: u32,
    },
    /// The provider's endpoint view adds (`routed`) or drops the pod at `at_ns` (the
    /// informer's lag already counted).
    Route {
        /// The pod.
        pod: PodId,
        /// In the view from then on.
        routed: bool,
        /// When the provider sees the change.
        at_ns: Nanos,
    },
    /// Send SIGTERM to the pod's processes.
    Sigterm {
        /// The pod.
        pod: PodId,
    },
    /// SIGKILL: the pod's processes are gone at once, with whatever they held.
    Sigkill {
        /// The pod.
        pod: PodId,
    },
    /// The container crashed (no signal): its processes are gone, it is unready, and it
    /// will start again as incarnation `generation`.
    Crash {
        /// The pod.
        pod: PodId,
        /// The incarnation it restarts as.
        generation: u32,
    },
    /// The pod's node died: its processes vanish without closing anything.
    NodeLost {
        /// The pod.
        pod: PodId,
    },
    /// The pod was deleted before its container ever ran: nothing to signal.
    Removed {
        /// The pod.
        pod: PodId,
    },
    /// Arm a control-plane timer.
    Arm {
        /// When it is due.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
    /// A line for the timeline (only when tracing).
    Note {
        /// Which component.
        who: String,
        /// What happened.
        what: String,
    },
}

/// The control plane's record of one pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodRecord {
    /// Pod name: function, revision, id.
    pub name: String,
    /// Template revision it was created from.
    pub revision: u32,
    /// Its node; `None`: Pending, no schedulable node.
    pub node: Option<u32>,
    /// Creation instant.
    pub created_ns: Nanos,
    /// Incarnation: bumps on a container crash so stale timers are ignored.
    pub generation: u32,
    /// Its container runs (this incarnation started).
    pub started: bool,
    /// Ready condition.
    pub ready: bool,
    /// When it last became ready.
    pub ready_since_ns: Option<Nanos>,
    /// Container restarts.
    pub restarts: u32,
    /// `controller.kubernetes.io/pod-deletion-cost`: 0 until an `annotatePod` sets it.
    pub deletion_cost: i32,
    /// Consecutive successful probes.
    pub probe_successes: u32,
    /// Where the readiness prober's ticker falls: its ticks come at instants congruent to
    /// this modulo the probe period. Its worker starts with the pod and outlives container
    /// restarts, so this is drawn at the first container start and kept; `None` before.
    pub probe_tick_ns: Option<Nanos>,
    /// When its deletion was asked.
    pub deletion_ns: Option<Nanos>,
    /// How its life ended, so far.
    pub end: PodEnd,
    /// When it ended.
    pub end_ns: Option<Nanos>,
    /// Its node was lost: its processes are gone, but the API server still has it (Running,
    /// and Ready until the node lifecycle controller marks it otherwise), so the ReplicaSet
    /// counts it until it is deleted.
    pub unreachable: bool,
}

/// The control plane's whole state: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// The scenario's configuration (Kubernetes and the function's start-up).
    config: Config,
    /// Whether notes are wanted (formatting them costs).
    tracing: bool,
    /// Replicas the Deployment wants.
    desired: u32,
    /// The Deployment's template revision (rollouts bump it).
    revision: u32,
    /// Every pod ever created, by id.
    pods: Vec<PodRecord>,
    /// The worker nodes.
    nodes: Vec<Node>,
    /// When the last endpoint change reaches the provider: changes never overtake each other.
    view_last_ns: Nanos,
}

impl Cluster {
    /// The control plane of `config` before time 0.
    pub fn new(config: &Config, tracing: bool) -> Cluster {
        let nodes = config.kubernetes.nodes.max(1) as usize;
        Cluster {
            config: config.clone(),
            tracing,
            desired: 0,
            revision: 1,
            pods: Vec::new(),
            nodes: vec![Node::default(); nodes],
            view_last_ns: 0,
        }
    }

    /// Every pod, by id.
    pub fn pods(&self) -> &[PodRecord] {
        &self.pods
    }

    /// Pod `pod`'s name.
    pub fn name(&self, pod: PodId) -> &str {
        &self.pods[pod as usize].name
    }

    /// Replicas the Deployment wants now.
    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// The pods for reports; `killed_with(pod)` is how many requests the engine's pod held
    /// when it was killed.
    pub fn summaries(&self, killed_with: impl Fn(PodId) -> u32) -> Vec<PodSummary> {
        self.pods
            .iter()
            .enumerate()
            .map(|(id, p)| PodSummary {
                name: p.name.clone(),
                revision: p.revision,
                end: p.end,
                end_ns: p.end_ns,
                terminating: p.deletion_ns.is_some(),
                killed_with: killed_with(id as PodId),
                restarts: p.restarts,
            })
            .collect()
    }

    /// Take one input at `now`; the effects go to `out`, in the order the engine must carry
    /// them out (timers armed in that order keep their order among equal instants).
    pub fn handle(
        &mut self,
        now: Nanos,
        input: Input,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match input {
            Input::Setup => self.setup(now, chooser, out),
            Input::Action(action) => self.action(now, action, chooser, out),
            Input::Timer(timer) => self.timer(now, timer, chooser, out),
            Input::Probed {
                pod,
                generation,
                healthy,
            } => self.probed(now, pod, generation, healthy, chooser, out),
            Input::Exited { pod } => {
                let p = &mut self.pods[pod as usize];
                assert_eq!(p.end, PodEnd::Running, "{} exits twice", p.name);
                p.end = PodEnd::Exited;
                p.end_ns = Some(now);
                self.ended(now, pod, chooser, out);
            }
            Input::ScaleFromZero { replicas } => {
                if self.desired == 0 {
                    self.note(
                        out,
                        || "gateway".into(),
                        || format!("scale from zero: SetReplicas({replicas}), holding requests"),
                    );
                    self.desired = replicas;
                    self.reconcile(now, chooser, out);
                }
            }
        }
    }

    fn note(
        &self,
        out: &mut Vec<Effect>,
        who: impl FnOnce() -> String,
        what: impl FnOnce() -> String,
    ) {
        if self.tracing {
            out.push(Effect::Note {
                who: who(),
                what: what(),
            });
        }
    }

    /// The pod runs in incarnation `generation`.
    fn current(&self, pod: PodId, generation: u32) -> bool {
        let p = &self.pods[pod as usize];
        p.generation == generation && p.end == PodEnd::Running
    }

    fn setup(&mut self, now: Nanos, chooser: &mut dyn Chooser, out: &mut Vec<Effect>) {
        assert!(self.pods.is_empty(), "the cluster is set up once");
        let min = self.config.function.scale_min;
        let warm = self.config.function.start == Start::Warm;
        self.desired = min;
        for _ in 0..min {
            let pod = self.create_pod(now, warm, chooser, out);
            if warm {
                let p = &mut self.pods[pod as usize];
                p.started = true;
                p.ready = true;
                p.ready_since_ns = Some(now);
                out.push(Effect::Warm { pod });
            }
        }
    }

    fn action(
        &mut self,
        now: Nanos,
        action: Action,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match action {
            Action::Scale(replicas) => {
                self.note(
                    out,
                    || "operator".into(),
                    || format!("kubectl scale --replicas={replicas}"),
                );
                self.desired = replicas;
                self.reconcile(now, chooser, out);
            }
            Action::Rollout => {
                self.revision += 1;
                let revision = self.revision;
                self.note(
                    out,
                    || "operator".into(),
                    || format!("rollout to revision {revision}"),
                );
                self.reconcile(now, chooser, out);
            }
            Action::DrainNode { notice_ns, node } => {
                let node = node
                    .map(|n| n as usize)
                    .unwrap_or_else(|| self.busiest_node());
                if node >= self.nodes.len() {
                    return;
                }
                self.nodes[node].cordoned = true;
                self.note(
                    out,
                    || format!("node-{node}"),
                    || {
                        format!(
                            "reclaim notice: cordoned, pods evicted, node dies in {}",
                            stamp(notice_ns)
                        )
                    },
                );
                let evicted: Vec<PodId> = (0..self.pods.len() as PodId)
                    .filter(|&p| {
                        let pod = &self.pods[p as usize];
                        pod.node == Some(node as u32)
                            && pod.deletion_ns.is_none()
                            && pod.end == PodEnd::Running
                    })
                    .collect();
                for pod in evicted {
                    self.delete_pod(now, pod, chooser, out);
                }
                out.push(Effect::Arm {
                    at_ns: now + notice_ns,
                    timer: Timer::NodeDies { node: node as u32 },
                });
                self.reconcile(now, chooser, out);
            }
            Action::Deploy { scale_min } => self.deploy(now, scale_min, chooser, out),
            // The gateway's own Deployment takes it (`gateway_deployment`).
            Action::RolloutGateway | Action::RestartQueueWorker => {}
            Action::ShutdownNode {
                node,
                grace_period_ns,
                critical_pods_ns,
            } => self.shutdown_node(now, node, grace_period_ns, critical_pods_ns, chooser, out),
            Action::LoseNode { node } => self.lose_node(now, node, chooser, out),
            Action::AnnotatePod { pod, deletion_cost } => {
                // Only the API's pods take an annotation; one already deleted keeps what it had.
                let target = self.pods.iter().position(|p| {
                    p.name == pod && p.deletion_ns.is_none() && p.end == PodEnd::Running
                });
                if let Some(target) = target {
                    self.pods[target].deletion_cost = deletion_cost;
                    self.note(
                        out,
                        || "operator".into(),
                        || {
                            format!(
                                "kubectl annotate pod {pod} \
                                 controller.kubernetes.io/pod-deletion-cost={deletion_cost}"
                            )
                        },
                    );
                }
            }
            Action::KillPod { pod } => {
                let candidates: Vec<PodId> = (0..self.pods.len() as PodId)
                    .filter(|&p| {
                        let q = &self.pods[p as usize];
                        q.started && q.end == PodEnd::Running && q.deletion_ns.is_none()
                    })
                    .collect();
                let target = match pod {
                    Some(name) => candidates
                        .iter()
                        .copied()
                        .find(|&p| self.pods[p as usize].name == name),
                    None if candidates.is_empty() => None,
                    None => {
                        Some(candidates[chooser.pick_index(Stream::Deployment, candidates.len())])
                    }
                };
                if let Some(target) = target {
                    self.crash(now, target, chooser, out);
                }
            }
        }
    }

    fn timer(
        &mut self,
        now: Nanos,
        timer: Timer,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match timer {
            Timer::Start { pod, generation } => self.start(now, pod, generation, chooser, out),
            Timer::Probe { pod, generation } => {
                let p = &self.pods[pod as usize];
                // A node shutting down runs no pod to readiness.
                let node_up = p.node.is_none_or(|n| !self.nodes[n as usize].shutting_down);
                if self.current(pod, generation) && p.deletion_ns.is_none() && !p.ready && node_up {
                    out.push(Effect::Probe { pod, generation });
                }
            }
            Timer::Restart { pod, generation } => {
                if self.current(pod, generation) && self.pods[pod as usize].deletion_ns.is_none() {
                    let startup = self
                        .config
                        .function
                        .startup_ns
                        .draw(chooser, Stream::Startup);
                    out.push(Effect::Arm {
                        at_ns: now + startup,
                        timer: Timer::Start { pod, generation },
                    });
                }
            }
            Timer::NodeDies { node } => self.node_dies(now, node, chooser, out),
            Timer::NodeMonitor { node } => self.node_monitor(now, node, chooser, out),
            Timer::TaintEviction { node } => self.taint_eviction(now, node, chooser, out),
            Timer::Sigterm { pod } => {
                if self.pods[pod as usize].end == PodEnd::Running {
                    out.push(Effect::Sigterm { pod });
                }
            }
            Timer::Sigkill { pod } => {
                let p = &mut self.pods[pod as usize];
                if p.end == PodEnd::Running {
                    p.end = PodEnd::Killed;
                    p.end_ns = Some(now);
                    out.push(Effect::Sigkill { pod });
                    self.ended(now, pod, chooser, out);
                }
            }
        }
    }

    /// The endpoints controller: the provider sees the change after the informer's lag, and
    /// never before an earlier change (one Endpoints object, one informer, in order).
    fn route(
        &mut self,
        now: Nanos,
        pod: PodId,
        routed: bool,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let lag = self
            .config
            .kubernetes
            .endpoint_lag_ns
            .draw(chooser, Stream::Endpoints);
        let at_ns = (now + lag).max(self.view_last_ns);
        self.view_last_ns = at_ns;
        out.push(Effect::Route { pod, routed, at_ns });
    }

    /// The Deployment and ReplicaSet controllers, pass after pass until they have nothing to
    /// do.
    fn reconcile(&mut self, now: Nanos, chooser: &mut dyn Chooser, out: &mut Vec<Effect>) {
        for _ in 0..RECONCILE_ROUNDS_MAX {
            let plan = self.plan(now, chooser);
            if plan.create == 0 && plan.delete.is_empty() {
                return;
            }
            for _ in 0..plan.create {
                self.create_pod(now, false, chooser, out);
            }
            for pod in plan.delete {
                self.delete_pod(now, pod, chooser, out);
            }
        }
        // Out of passes: one more, on a chooser of its own so the run's draws stay as they
        // are, must find nothing left to do.
        let plan = self.plan(now, &mut FirstChoice);
        assert!(
            plan.create == 0 && plan.delete.is_empty(),
            "the controllers do not converge after {RECONCILE_ROUNDS_MAX} passes: {plan:?} \
             left, desired {} revision {}, pods {:?}",
            self.desired,
            self.revision,
            self.pods
        );
    }

    fn plan(&self, now: Nanos, chooser: &mut dyn Chooser) -> deployment::Plan {
        let facts: Vec<PodFacts> = self
            .pods
            .iter()
            .enumerate()
            .map(|(id, p)| PodFacts {
                id: id as PodId,
                revision: p.revision,
                node: p.node,
                active: p.deletion_ns.is_none() && (p.end == PodEnd::Running || p.unreachable),
                running: p.started,
                ready: p.ready,
                ready_since_ns: p.ready_since_ns,
                restarts: p.restarts,
                created_ns: p.created_ns,
                deletion_cost: p.deletion_cost,
            })
            .collect();
        let views = deployment::views(self.nodes.len(), &facts);
        let k8s = &self.config.kubernetes;
        deployment::reconcile(
            now,
            self.desired,
            self.revision,
            &views,
            k8s.max_surge,
            k8s.max_unavailable,
            chooser,
        )
    }
}

/// A chooser that always takes the first: for a look ahead that must not move the run's
/// streams.
struct FirstChoice;

impl Chooser for FirstChoice {
    fn pick_u64(&mut self, _: Stream, lo: u64, _: u64) -> u64 {
        lo
    }

    fn pick_index(&mut self, _: Stream, _: usize) -> usize {
        0
    }
}

#[cfg(test)]
mod tests;
