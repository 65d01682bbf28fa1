//! What happens to the deployment at given simulated times: the `events:` of a scenario.

use crate::time::Nanos;

/// One operator or infrastructure action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `kubectl scale --replicas=N`.
    Scale(u32),
    /// A rolling update to a new revision.
    Rollout,
    /// A node is reclaimed: its pods are evicted at once, and the node dies after `notice_ns`.
    DrainNode {
        /// Time between the notice and the node's death.
        notice_ns: Nanos,
        /// Which node; `None` picks the node with the most function pods (lowest index on ties).
        node: Option<u32>,
    },
    /// A pod's container crashes (no SIGTERM); the kubelet restarts it.
    KillPod {
        /// Which pod by name; `None` lets the chooser pick among running pods.
        pod: Option<String>,
    },
    /// The kubelet's graceful node shutdown (GKE spot and preemptible nodes): the node goes
    /// NotReady, its pods get SIGTERM with `grace_period_ns - critical_pods_ns` at most, and
    /// no pod is deleted through the API.
    ShutdownNode {
        /// Which node.
        node: u32,
        /// `shutdownGracePeriod`: the whole shutdown.
        grace_period_ns: Nanos,
        /// `shutdownGracePeriodCriticalPods`: its last slice, kept for critical pods.
        critical_pods_ns: Nanos,
    },
    /// The node vanishes without an API call (power loss, a spot node without a handler): no
    /// signal, no deletion; the node lifecycle controller finds out from the missing
    /// heartbeats.
    LoseNode {
        /// Which node.
        node: u32,
    },
    /// `faas-cli deploy` of the same function (an update, PUT /system/functions): faas-netes
    /// writes a new pod-template `uid` label, so every deploy is a rollout, and a
    /// `com.openfaas.scale.min` label above 0 resets the Deployment's replicas to it.
    Deploy {
        /// The `com.openfaas.scale.min` the request carries, when it carries one above 0;
        /// `None` leaves the replicas alone.
        scale_min: Option<u32>,
    },
    /// `helm upgrade` of OpenFaaS: a rolling update of the gateway's Deployment.
    RolloutGateway,
    /// `kubectl annotate pod NAME controller.kubernetes.io/pod-deletion-cost=N`: when the
    /// ReplicaSet scales down, pods of lower cost go first (after unscheduled, pending and
    /// unready ones); a pod never annotated costs 0.
    AnnotatePod {
        /// Which pod by name.
        pod: String,
        /// The annotation's value, an int32 as Kubernetes requires.
        deletion_cost: i32,
    },
    /// A rollout of the queue-worker's Deployment: each pod replaced by a new one, which gets
    /// SIGTERM once its successor runs.
    RestartQueueWorker,
}

/// An action at a simulated instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at_ns: Nanos,
    /// What.
    pub action: Action,
}
