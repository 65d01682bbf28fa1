//! The nodes: where a new pod is placed, which node a drain without a name picks, and a
//! node's death, which takes its pods without a signal.

use super::{Cluster, Effect, PodRecord, Timer};
use crate::choice::{Chooser, Stream};
use crate::ledger::PodId;
use crate::run::PodEnd;
use crate::time::{Nanos, stamp};

/// One worker node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Node {
    /// It died (drained to the end of its notice).
    pub dead: bool,
    /// Cordoned: no new pod is placed on it.
    pub cordoned: bool,
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
            .filter(|&n| !self.nodes[n].dead && !self.nodes[n].cordoned)
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
            probe_successes: 0,
            deletion_ns: None,
            end: PodEnd::Running,
            end_ns: None,
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
        for pod in 0..self.pods.len() as PodId {
            let p = &mut self.pods[pod as usize];
            if p.node != Some(node) || p.end != PodEnd::Running {
                continue;
            }
            p.end = PodEnd::Killed;
            p.end_ns = Some(now);
            out.push(Effect::NodeLost { pod });
        }
        self.reconcile(now, chooser, out);
    }
}
