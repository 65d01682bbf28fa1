//! The node lifecycle controller (kube-controller-manager; kubernetes/kubernetes@003e8629
//! pkg/controller/nodelifecycle/node_lifecycle_controller.go): every `node-monitor-period`
//! (`kubernetes.nodeMonitorPeriod`, 5 s) `monitorNodeHealth` looks at each node.
//!
//! - A node whose kubelet reported NotReady (a graceful node shutdown) is seen at the next
//!   pass; a node whose kubelet stopped renewing its Lease and status is set Unknown at the
//!   first pass with `now > probeTimestamp + node-monitor-grace-period`
//!   (`kubernetes.nodeMonitorGracePeriod`, 40 s; 50 s from Kubernetes 1.32,
//!   `tryUpdateNodeHealth`). The kubelet renews about every 10 s ([`HEARTBEAT_NS`]).
//! - On a Ready to not-Ready transition the same pass calls `MarkPodsNotReady`: each pod's
//!   Ready condition becomes False, and the endpoints controller moves it to
//!   `notReadyAddresses`, which faas-netes does not read (plus the endpoint lag).
//! - An Unknown node gets the `node.kubernetes.io/unreachable:NoExecute` taint; every pod
//!   tolerates it for `tolerationSeconds` (`kubernetes.tolerationSeconds`, 300, the
//!   DefaultTolerationSeconds admission plugin), then the taint manager deletes it. Its
//!   kubelet cannot confirm, so it stays Terminating; the ReplicaSet replaces it as soon as
//!   it has a deletionTimestamp (domain.md marks that last step inferred). The taint queue's
//!   rate limit is not modelled.
//!
//! Assumptions, stated: the controller's passes fall on multiples of `nodeMonitorPeriod` from
//! time 0 (its start); the lost node's last renewal is a seeded draw over one renewal cycle
//! before the loss ([`crate::choice::Stream::Nodes`]); a shutting-down node's pods leave the
//! endpoints at the next pass, or when their container ends if that comes first (the
//! kubelet's status update of the terminated pod).

use super::{Cluster, Effect, Timer};
use crate::choice::Chooser;
use crate::ledger::PodId;
use crate::run::PodEnd;
use crate::time::{NS_PER_S, Nanos, stamp};

/// How often a kubelet renews its node Lease and status: `nodeLeaseDurationSeconds` 40 s
/// times the renew fraction 0.25 (kubernetes pkg/kubelet/kubelet.go), "about every 10 s".
pub(super) const HEARTBEAT_NS: Nanos = 10 * NS_PER_S;

impl Cluster {
    /// The controller's first pass strictly after `now`.
    pub(super) fn next_look_ns(&self, now: Nanos) -> Nanos {
        let period = self.config.kubernetes.node_monitor_period_ns.max(1);
        (now / period + 1) * period
    }

    /// The pass that finds a node silent since `last_heartbeat_ns` past the grace period
    /// (`now > probeTimestamp + grace`), and never before the loss at `now`.
    pub(super) fn unknown_at_ns(&self, now: Nanos, last_heartbeat_ns: Nanos) -> Nanos {
        let period = self.config.kubernetes.node_monitor_period_ns.max(1);
        let deadline = last_heartbeat_ns + self.config.kubernetes.node_monitor_grace_period_ns;
        let at_ns = (deadline / period + 1) * period;
        let at_ns = at_ns.max(self.next_look_ns(now.saturating_sub(1)));
        assert!(
            at_ns > deadline && at_ns >= now,
            "the verdict follows the grace"
        );
        at_ns
    }

    /// The pass that sees `node` not Ready: Unknown for a lost node (then the NoExecute taint
    /// and its eviction timer), NotReady for one shutting down; `MarkPodsNotReady` either way.
    pub(super) fn node_monitor(
        &mut self,
        now: Nanos,
        node: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let n = self.nodes[node as usize];
        assert!(
            n.lost || n.shutting_down,
            "node-{node}: the controller looks only at a node that changed"
        );
        let verdict = if n.lost { "Unknown" } else { "NotReady" };
        self.note(
            out,
            || "node-lifecycle".into(),
            || format!("node-{node} Ready={verdict}: MarkPodsNotReady"),
        );
        for pod in 0..self.pods.len() as PodId {
            if self.pods[pod as usize].node == Some(node) {
                self.unready(now, pod, chooser, out);
            }
        }
        if n.lost {
            let toleration_s = self.config.kubernetes.toleration_s;
            self.note(
                out,
                || "node-lifecycle".into(),
                || {
                    format!(
                        "node-{node} tainted unreachable:NoExecute, pods evicted in \
                         {toleration_s}s"
                    )
                },
            );
            out.push(Effect::Arm {
                at_ns: now + toleration_s * NS_PER_S,
                timer: Timer::TaintEviction { node },
            });
        }
    }

    /// A pod's Ready condition becomes False: it leaves the endpoints (after the lag).
    pub(super) fn unready(
        &mut self,
        now: Nanos,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let p = &mut self.pods[pod as usize];
        if !p.ready {
            return;
        }
        p.ready = false;
        self.route(now, pod, false, chooser, out);
    }

    /// The taint manager deletes the lost node's pods; the ReplicaSet replaces them.
    pub(super) fn taint_eviction(
        &mut self,
        now: Nanos,
        node: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        self.note(
            out,
            || "node-lifecycle".into(),
            || {
                format!(
                    "node-{node}: tolerationSeconds over at {}, its pods deleted (Terminating: \
                     no kubelet to confirm)",
                    stamp(now)
                )
            },
        );
        for pod in 0..self.pods.len() as PodId {
            let p = &self.pods[pod as usize];
            if p.node == Some(node) && p.unreachable {
                self.delete_pod(now, pod, chooser, out);
            }
        }
        self.reconcile(now, chooser, out);
    }

    /// A pod's container ended without a deletion: on a node shutting down its phase is
    /// Failed (reason Shutdown), so the kubelet's status update takes it out of the endpoints
    /// and the ReplicaSet replaces it. Elsewhere nothing follows here.
    pub(super) fn ended(
        &mut self,
        now: Nanos,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let p = &self.pods[pod as usize];
        assert!(p.end != PodEnd::Running, "{} has not ended", p.name);
        let shutting_down = p.node.is_some_and(|n| self.nodes[n as usize].shutting_down);
        if !shutting_down || p.deletion_ns.is_some() {
            return;
        }
        self.unready(now, pod, chooser, out);
        self.reconcile(now, chooser, out);
    }
}
