//! The Deployment and ReplicaSet controllers: how many pods of which revision to create, and
//! which pods to delete (scale-down victim order of domain.md §1.8, rolling update with
//! maxSurge / maxUnavailable).

use std::cmp::Reverse;

use crate::choice::{Chooser, Stream};
use crate::config::IntOrPercent;
use crate::ledger::PodId;
use crate::time::Nanos;

/// What the controllers know of one pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodView {
    /// Pod id (creation order).
    pub id: PodId,
    /// Template revision it was created from.
    pub revision: u32,
    /// Has a node.
    pub assigned: bool,
    /// Its container is running (not Pending).
    pub running: bool,
    /// Ready condition.
    pub ready: bool,
    /// When it last became ready.
    pub ready_since_ns: Option<Nanos>,
    /// Function pods on the same node.
    pub pods_on_node: u32,
    /// Container restarts.
    pub restarts: u32,
    /// Creation instant.
    pub created_ns: Nanos,
    /// `controller.kubernetes.io/pod-deletion-cost` (0 when not annotated).
    pub deletion_cost: i32,
}

/// What a world knows of one pod before the per-node counts are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodFacts {
    /// Pod id (creation order).
    pub id: PodId,
    /// Template revision.
    pub revision: u32,
    /// Its node, once scheduled.
    pub node: Option<u32>,
    /// Neither deleted nor ended: the controllers count it.
    pub active: bool,
    /// Its container is running.
    pub running: bool,
    /// Ready condition.
    pub ready: bool,
    /// When it last became ready.
    pub ready_since_ns: Option<Nanos>,
    /// Container restarts.
    pub restarts: u32,
    /// Creation instant.
    pub created_ns: Nanos,
    /// `controller.kubernetes.io/pod-deletion-cost` (0 when not annotated).
    pub deletion_cost: i32,
}

/// The controllers' view of the active pods, each with how many active pods share its node
/// (`nodes` is the number of nodes).
pub fn views(nodes: usize, pods: &[PodFacts]) -> Vec<PodView> {
    let mut on_node = vec![0u32; nodes];
    for pod in pods.iter().filter(|p| p.active) {
        if let Some(node) = pod.node
            && let Some(count) = on_node.get_mut(node as usize)
        {
            *count += 1;
        }
    }
    pods.iter()
        .filter(|p| p.active)
        .map(|p| PodView {
            id: p.id,
            revision: p.revision,
            assigned: p.node.is_some(),
            running: p.running,
            ready: p.ready,
            ready_since_ns: p.ready_since_ns,
            pods_on_node: p
                .node
                .and_then(|n| on_node.get(n as usize).copied())
                .unwrap_or(0),
            restarts: p.restarts,
            created_ns: p.created_ns,
            deletion_cost: p.deletion_cost,
        })
        .collect()
}

/// The controllers' decisions for one reconcile pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Pods of the current revision to create.
    pub create: u32,
    /// Pods to delete, in deletion order.
    pub delete: Vec<PodId>,
}

/// Sort key for deletion: smaller deletes first (`ActivePodsWithRanks.Less`, most criteria).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// Scheduled to a node (unscheduled pods delete first).
    assigned: bool,
    /// Running (pending pods delete first).
    running: bool,
    /// Ready (unready pods delete first).
    ready: bool,
    /// Lower `controller.kubernetes.io/pod-deletion-cost` first.
    deletion_cost: i32,
    /// More pods on the same node first.
    pods_on_node: Reverse<u32>,
    /// More recently ready first, by the log-scale bucket of the time since (LogarithmicScaleDown);
    /// never-ready pods were separated by `ready` already.
    ready_bucket: i64,
    /// More restarts first.
    restarts: Reverse<u32>,
    /// Newer first, by the log-scale bucket of the pod's age.
    created_bucket: i64,
}

/// kubernetes/kubernetes pkg/controller/controller_utils.go `logarithmicRankDiff`: the rank of
/// an instant is floor(log2 of the nanoseconds from it to `now`), -1 when not in the past. Two
/// pods in the same bucket are told apart by UID, which is to say at random.
fn log_bucket(now_ns: Nanos, at_ns: Nanos) -> i64 {
    match now_ns.checked_sub(at_ns) {
        Some(0) | None => -1,
        Some(d) => i64::from(d.ilog2()),
    }
}

fn rank(pod: &PodView, now_ns: Nanos) -> Rank {
    Rank {
        assigned: pod.assigned,
        running: pod.running,
        ready: pod.ready,
        deletion_cost: pod.deletion_cost,
        pods_on_node: Reverse(pod.pods_on_node),
        ready_bucket: pod.ready_since_ns.map_or(0, |at| log_bucket(now_ns, at)),
        restarts: Reverse(pod.restarts),
        created_bucket: log_bucket(now_ns, pod.created_ns),
    }
}

/// Order pods for deletion at `now_ns`, breaking full ties through the chooser (Kubernetes
/// compares UIDs: "otherwise random").
pub fn victims(
    pods: &[PodView],
    count: usize,
    now_ns: Nanos,
    chooser: &mut dyn Chooser,
) -> Vec<PodId> {
    let mut remaining: Vec<PodView> = pods.to_vec();
    remaining.sort_by_key(|p| (rank(p, now_ns), p.id));
    let mut chosen = Vec::new();
    while chosen.len() < count && !remaining.is_empty() {
        let best = rank(&remaining[0], now_ns);
        let tied = remaining
            .iter()
            .take_while(|p| rank(p, now_ns) == best)
            .count();
        let index = if tied > 1 {
            chooser.pick_index(Stream::Deployment, tied)
        } else {
            0
        };
        chosen.push(remaining.remove(index).id);
    }
    chosen
}

/// One reconcile pass over the non-terminating pods at `now_ns`.
pub fn reconcile(
    now_ns: Nanos,
    desired: u32,
    revision: u32,
    pods: &[PodView],
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    chooser: &mut dyn Chooser,
) -> Plan {
    let (current, old): (Vec<PodView>, Vec<PodView>) =
        pods.iter().partition(|p| p.revision == revision);
    let mut plan = Plan::default();
    if old.is_empty() {
        let have = current.len() as u32;
        if have < desired {
            plan.create = desired - have;
        } else if have > desired {
            plan.delete = victims(&current, (have - desired) as usize, now_ns, chooser);
        }
        return plan;
    }
    // Rolling update (deployment/rolling.go): grow the new ReplicaSet within the surge, then
    // shrink the old one within the availability budget, unhealthy old pods first.
    let surge = max_surge.resolve(desired, true);
    let unavailable = max_unavailable.resolve(desired, false);
    let total = pods.len() as u32;
    let current_count = current.len() as u32;
    let room = (desired + surge).saturating_sub(total);
    plan.create = room.min(desired.saturating_sub(current_count));

    let available = pods.iter().filter(|p| p.ready).count() as u32;
    let min_available = desired.saturating_sub(unavailable);
    let (old_unready, old_ready): (Vec<PodView>, Vec<PodView>) = old.iter().partition(|p| !p.ready);
    plan.delete
        .extend(victims(&old_unready, old_unready.len(), now_ns, chooser));
    let budget = available.saturating_sub(min_available) as usize;
    plan.delete.extend(victims(
        &old_ready,
        budget.min(old_ready.len()),
        now_ns,
        chooser,
    ));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::choice::First;

    fn pod(id: PodId, revision: u32, ready: bool, created_ns: Nanos) -> PodView {
        PodView {
            id,
            revision,
            assigned: true,
            running: true,
            ready,
            ready_since_ns: ready.then_some(created_ns),
            pods_on_node: 1,
            restarts: 0,
            created_ns,
            deletion_cost: 0,
        }
    }

    #[test]
    fn a_lower_deletion_cost_goes_first_after_readiness_and_before_age() {
        // The newest pod would go first; its cost of 1 keeps it over the older pods at 0,
        // and an older pod's cost of -1 makes it the first victim.
        let mut pods = [
            pod(0, 1, true, 0),
            pod(1, 1, true, 1 << 40),
            pod(2, 1, true, 1 << 41),
        ];
        pods[2].deletion_cost = 1;
        pods[0].deletion_cost = -1;
        let now = 1 << 42;
        assert_eq!(victims(&pods, 2, now, &mut First), vec![0, 1]);
        // Readiness is compared before cost: an unready pod goes first whatever its cost.
        pods[1].ready = false;
        pods[1].ready_since_ns = None;
        pods[1].deletion_cost = i32::MAX;
        assert_eq!(victims(&pods, 1, now, &mut First), vec![1]);
    }

    #[test]
    fn scale_down_deletes_unready_then_newest() {
        let pods = [pod(0, 1, true, 0), pod(1, 1, true, 10), pod(2, 1, false, 5)];
        let plan = reconcile(
            20,
            1,
            1,
            &pods,
            IntOrPercent::Int(1),
            IntOrPercent::Int(0),
            &mut First,
        );
        assert_eq!(
            plan,
            Plan {
                create: 0,
                delete: vec![2, 1]
            }
        );
    }

    #[test]
    fn surge_one_unavailable_zero_waits_for_the_new_pod() {
        let pods = [pod(0, 1, true, 0), pod(1, 1, true, 0)];
        let plan = reconcile(
            10,
            2,
            2,
            &pods,
            IntOrPercent::Int(1),
            IntOrPercent::Int(0),
            &mut First,
        );
        assert_eq!(
            plan,
            Plan {
                create: 1,
                delete: vec![]
            }
        );
        let pods = [pod(0, 1, true, 0), pod(1, 1, true, 0), pod(2, 2, true, 9)];
        let plan = reconcile(
            10,
            2,
            2,
            &pods,
            IntOrPercent::Int(1),
            IntOrPercent::Int(0),
            &mut First,
        );
        assert_eq!(plan.create, 0);
        assert_eq!(plan.delete.len(), 1);
    }

    #[test]
    fn ready_times_in_the_same_log_bucket_are_a_coin_toss() {
        use crate::time::NS_PER_S;
        let now = 100 * NS_PER_S;
        // Ready 12 s and 10 s ago: both in bucket floor(log2(1e10 ns)) = 33, so the more
        // recent one is not preferred; the chooser (Kubernetes: the UIDs) decides, and `First`
        // takes the lower id, the one ready longer.
        let pods = [
            pod(0, 1, true, now - 12 * NS_PER_S),
            pod(1, 1, true, now - 10 * NS_PER_S),
        ];
        assert_eq!(victims(&pods, 1, now, &mut First), vec![0]);
        // Ready 3 s and 1 s ago: buckets 31 and 29, so the more recent one goes first.
        let pods = [
            pod(0, 1, true, now - 3 * NS_PER_S),
            pod(1, 1, true, now - NS_PER_S),
        ];
        assert_eq!(victims(&pods, 1, now, &mut First), vec![1]);
        assert_eq!(log_bucket(now, now), -1);
        assert_eq!(log_bucket(now, now - 1), 0);
        assert_eq!(log_bucket(now, now - 10 * NS_PER_S), 33);
    }

    /// A chooser that takes the last of each draw and remembers how many it drew among.
    #[derive(Default)]
    struct Last {
        /// The `n` of each `pick_index`, in order.
        draws: Vec<usize>,
    }

    impl Chooser for Last {
        fn pick_u64(&mut self, _: Stream, _: u64, hi: u64) -> u64 {
            hi
        }

        fn pick_index(&mut self, _: Stream, n: usize) -> usize {
            self.draws.push(n);
            n - 1
        }
    }

    #[test]
    fn the_chooser_breaks_full_ties_only_and_only_among_the_tied() {
        use crate::time::NS_PER_S;
        let now = 100 * NS_PER_S;
        // 0 and 1 were ready 12 s and 10 s ago (one log bucket: a tie); 2 became ready 1 s ago
        // and goes first alone.
        let pods = [
            pod(0, 1, true, now - 12 * NS_PER_S),
            pod(1, 1, true, now - 10 * NS_PER_S),
            pod(2, 1, true, now - NS_PER_S),
        ];
        let mut last = Last::default();
        assert_eq!(victims(&pods, 3, now, &mut last), vec![2, 1, 0]);
        assert_eq!(last.draws, vec![2], "one draw, between the two tied pods");
    }

    #[test]
    fn without_a_rollout_the_deployment_creates_the_missing_pods() {
        // Scaling down without a rollout: `scale_down_deletes_unready_then_newest`.
        let plan = reconcile(
            10,
            3,
            1,
            &[pod(0, 1, true, 0)],
            IntOrPercent::Int(1),
            IntOrPercent::Int(0),
            &mut First,
        );
        assert_eq!(
            plan,
            Plan {
                create: 2,
                delete: Vec::new()
            }
        );
    }

    #[test]
    fn each_view_counts_the_active_pods_on_its_node() {
        let facts = |id: PodId, node: Option<u32>, active: bool| PodFacts {
            id,
            revision: 1,
            node,
            active,
            running: true,
            ready: true,
            ready_since_ns: Some(0),
            restarts: 0,
            created_ns: 0,
            deletion_cost: 0,
        };
        let pods = [
            facts(0, Some(0), true),
            facts(1, Some(0), true),
            facts(2, Some(1), true),
            facts(3, Some(1), false),
            facts(4, None, true),
        ];
        let on_node: Vec<(PodId, u32)> = views(2, &pods)
            .iter()
            .map(|v| (v.id, v.pods_on_node))
            .collect();
        assert_eq!(on_node, vec![(0, 2), (1, 2), (2, 1), (4, 0)]);
    }
}
