//! The kubelet's graceful node shutdown (kubernetes.io/docs/concepts/cluster-administration/
//! node-shutdown; domain.md §8.5): when the node is told to shut down (GKE spot and
//! preemptible nodes: ACPI soft-off with 30 s notice), the kubelet sets the Node NotReady
//! ("node is shutting down") and at once kills its pods through the normal termination
//! (preStop, SIGTERM, SIGKILL at the end of the grace), each with
//! `shutdownGracePeriod - shutdownGracePeriodCriticalPods` at most, or its own
//! `terminationGracePeriodSeconds` when shorter. The last slice is for critical pods (priority
//! at least 2000000000), which a function's pods are not. No pod is deleted through the API:
//! the endpoints drop the pods when the node lifecycle controller's next pass sees the node
//! NotReady (`node_lifecycle.rs`), and the ReplicaSet replaces each pod once it has ended
//! (phase Failed, reason Shutdown). GKE 1.20 on: 30 s with 5 s for system pods, so 25 s for
//! the rest.

use super::{Cluster, Effect, Timer};
use crate::choice::Chooser;
use crate::ledger::PodId;
use crate::run::PodEnd;
use crate::time::{NS_PER_S, Nanos, stamp};

impl Cluster {
    /// `node` starts a graceful shutdown of `grace_period_ns`, `critical_pods_ns` of it kept
    /// for critical pods.
    pub(super) fn shutdown_node(
        &mut self,
        now: Nanos,
        node: u32,
        grace_period_ns: Nanos,
        critical_pods_ns: Nanos,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        assert!(
            critical_pods_ns <= grace_period_ns,
            "the critical pods' slice is part of the shutdown grace period"
        );
        let n = &mut self.nodes[node as usize];
        if n.shutting_down || n.lost || n.dead {
            return;
        }
        n.shutting_down = true;
        let regular_ns = grace_period_ns - critical_pods_ns;
        let pod_grace_ns = self.config.kubernetes.grace_s * NS_PER_S;
        let grace_ns = regular_ns.min(pod_grace_ns);
        let look_ns = self.next_look_ns(now);
        self.note(
            out,
            || format!("node-{node}"),
            || {
                format!(
                    "graceful shutdown: NotReady, pods killed with grace {} (no API delete), \
                     endpoints at the controller's pass at {}",
                    stamp(grace_ns),
                    stamp(look_ns)
                )
            },
        );
        for pod in 0..self.pods.len() as PodId {
            let p = &mut self.pods[pod as usize];
            if p.node != Some(node) || p.end != PodEnd::Running || p.deletion_ns.is_some() {
                // Gone, or already terminating on its own timers.
                continue;
            }
            if !p.started {
                // Its container never ran: nothing to signal, and it counts no more.
                p.end = PodEnd::Exited;
                p.end_ns = Some(now);
                out.push(Effect::Removed { pod });
                self.ended(now, pod, chooser, out);
                continue;
            }
            let name = p.name.clone();
            self.note(out, || name, || "killed by the node's shutdown".into());
            self.signal_termination(now, pod, grace_ns, out);
        }
        out.push(Effect::Arm {
            at_ns: look_ns,
            timer: Timer::NodeMonitor { node },
        });
    }
}
