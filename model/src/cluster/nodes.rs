//! The nodes: where a new pod is placed, which node a drain without a name picks, a drained
//! node's death, which takes its pods without a signal, and a node lost without an API call
//! (`loseNode`), which the API server does not see at all.

use super::{Cluster, Effect, PodRecord, Timer};
use crate::choice::{Chooser, Stream};
use crate::ledger::PodId;
use crate::run::PodEnd;
use crate::time::{Nanos, stamp};

/// One worker node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Node {
    /// It died (drained to the end of its notice, or lost).
    pub dead: bool,
    /// Cordoned: no new pod is placed on it.
    pub cordoned: bool,
    /// Its kubelet runs a graceful node shutdown: the node is NotReady and its pods are being
    /// killed.
    pub shutting_down: bool,
    /// It vanished without an API call: the control plane learns it only from the missing
    /// heartbeats.
    pub lost: bool,
}

impl Node {
    /// A new pod may be placed here. A lost node is taken out at once, although the
    /// scheduler would see it Ready until the node lifecycle controller's verdict: an
    /// assumption that matters only to a pod created in that window.
    fn schedulable(self) -> bool {
        !(self.dead || self.cordoned || self.shutting_down || self.lost)
    }
}

impl Cluster {
    /// A new pod of the current revision, placed on the schedulable node with the fewest
    /// running function pods (lowest index on ties), or Pending when none is. A warm pod at
    /// time 0 neither starts nor says so here: [`Effect::Warm`] follows.
    pub(super) fn create_pod(
        &mut self,
        now: Nanos,
        warm: bool,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) -> PodId {
        let id = self.pods.len() as PodId;
        let mut counts = vec![0u32; self.nodes.len()];
        for pod in &self.pods {
            if let (Some(node), PodEnd::Running) = (pod.node, pod.end) {
                counts[node as usize] += 1;
            }
        }
        let node = (0..counts.len())
            .filter(|&n| self.nodes[n].schedulable())
            .min_by_key(|&n| (counts[n], n))
            .map(|n| n as u32);
        let name = format!("{}-r{}-{}", self.config.function.name, self.revision, id);
        self.pods.push(PodRecord {
            name: name.clone(),
            revision: self.revision,
            node,
            created_ns: now,
            generation: 0,
            started: false,
            ready: false,
            ready_since_ns: None,
            restarts: 0,
            deletion_cost: 0,
            probe_successes: 0,
            probe_tick_ns: None,
            deletion_ns: None,
            end: PodEnd::Running,
            end_ns: None,
            unreachable: false,
        });
        out.push(Effect::Created {
            pod: id,
            name: name.clone(),
        });
        if !warm {
            match node {
                Some(node) => {
                    let startup = self
                        .config
                        .function
                        .startup_ns
                        .draw(chooser, Stream::Startup);
                    self.note(
                        out,
                        || name,
                        || format!("created on node-{node}, listening in {}", stamp(startup)),
                    );
                    out.push(Effect::Arm {
                        at_ns: now + startup,
                        timer: Timer::Start {
                            pod: id,
                            generation: 0,
                        },
                    });
                }
                None => self.note(
                    out,
                    || name,
                    || "created, Pending: no schedulable node".into(),
                ),
            }
        }
        id
    }

    /// The node with the most function pods not being deleted (lowest index on ties).
    pub(super) fn busiest_node(&self) -> usize {
        let mut counts = vec![0u32; self.nodes.len()];
        for pod in &self.pods {
            if let (Some(node), PodEnd::Running, None) = (pod.node, pod.end, pod.deletion_ns) {
                counts[node as usize] += 1;
            }
        }
        let best = counts.iter().copied().max().unwrap_or(0);
        counts.iter().position(|c| *c == best).unwrap_or(0)
    }

    /// The running pods on `node` are gone at `now` (no FIN, no signal); `unreachable` when the
    /// API server still believes in them (a node lost without an API call).
    fn pods_vanish(&mut self, now: Nanos, node: u32, unreachable: bool, out: &mut Vec<Effect>) {
        for pod in 0..self.pods.len() as PodId {
            let p = &mut self.pods[pod as usize];
            if p.node != Some(node) || p.end != PodEnd::Running {
                continue;
            }
            p.end = PodEnd::Killed;
            p.end_ns = Some(now);
            p.unreachable |= unreachable;
            out.push(Effect::NodeLost { pod });
        }
    }

    /// The node dies: its running pods vanish (no FIN, no signal) and the controllers
    /// replace them.
    pub(super) fn node_dies(
        &mut self,
        now: Nanos,
        node: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        self.nodes[node as usize].dead = true;
        self.note(
            out,
            || format!("node-{node}"),
            || "node dies: its pods vanish without a FIN".into(),
        );
        self.pods_vanish(now, node, false, out);
        self.reconcile(now, chooser, out);
    }
}

impl Cluster {
    /// The node vanishes with no API call (power loss, a spot node without a termination
    /// handler): its pods' processes are gone without a FIN or RST, so a connection to them
    /// hangs, but the API server still has them Running and Ready, in the endpoints and
    /// counted by the ReplicaSet. Only the node lifecycle controller notices, from the
    /// heartbeats that stop: its kubelet last renewed its Lease somewhere in the renewal
    /// cycle before the loss, a seeded draw ([`Stream::Nodes`]).
    pub(super) fn lose_node(
        &mut self,
        now: Nanos,
        node: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let n = &mut self.nodes[node as usize];
        if n.lost || n.dead {
            return;
        }
        n.lost = true;
        self.note(
            out,
            || format!("node-{node}"),
            || "lost: no API call, its pods vanish without a FIN, still in the endpoints".into(),
        );
        self.pods_vanish(now, node, true, out);
        let since_ns = chooser.pick_u64(Stream::Nodes, 0, super::node_lifecycle::HEARTBEAT_NS - 1);
        let last_heartbeat_ns = now.saturating_sub(since_ns);
        let at_ns = self.unknown_at_ns(now, last_heartbeat_ns);
        self.note(
            out,
            || format!("node-{node}"),
            || {
                format!(
                    "last heartbeat at {}: the node lifecycle controller marks it Unknown at {}",
                    stamp(last_heartbeat_ns),
                    stamp(at_ns)
                )
            },
        );
        out.push(Effect::Arm {
            at_ns,
            timer: Timer::NodeMonitor { node },
        });
    }
}
