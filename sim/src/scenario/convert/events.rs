//! The `events` list: each event's time and its one action (scale, rollout, drainNode, killPod,
//! annotatePod, shutdownNode, loseNode, deploy, rolloutGateway, restartQueueWorker).

use faasim_model::limits;
use faasim_model::schedule::{Action, Event};
use faasim_model::time::NS_PER_S;
use serde_saphyr::Spanned;

use super::super::ScenarioError;
use super::super::raw::RawEvent;
use super::{Builder, Field, Loc, field, field_opt, spanned_loc};

/// What an event's conversion needs from the other sections.
#[derive(Clone, Copy, Debug)]
pub(super) struct EventContext<'a> {
    /// `function.name`: every pod is named `NAME-rREVISION-INDEX` after it.
    pub(super) function: &'a str,
    /// `kubernetes.nodes`: a node index must be below it.
    pub(super) nodes: u32,
    /// The `com.openfaas.scale.min` a deploy request carries: the label's value when
    /// `function.labels` sets it above 0 (faas-netes's `getMinReplicaCount`), else `None`.
    pub(super) deploy_scale_min: Option<u32>,
    /// `load.async: true`: the run has queue-workers (`restartQueueWorker` needs them).
    pub(super) asynchronous: bool,
}

impl Builder<'_> {
    pub(super) fn event(
        &self,
        index: usize,
        item: Spanned<RawEvent>,
        context: EventContext<'_>,
    ) -> Result<Event, ScenarioError> {
        let nodes = context.nodes;
        let base = format!("events[{index}]");
        let item_loc = spanned_loc(&item);
        let raw = item.value;
        let at_field = field(&raw.at);
        if at_field.raw.is_none() {
            return Err(self.error(
                &base,
                item_loc,
                "missing `at`: when the event happens (e.g. `at: 30s`)",
            ));
        }
        let at_ns = self.duration(&format!("{base}.at"), at_field, 0)?;

        let mut given = Vec::new();
        if raw.scale.is_some() {
            given.push("scale");
        }
        if raw.rollout.is_some() {
            given.push("rollout");
        }
        if raw.drain_node.is_some() {
            given.push("drainNode");
        }
        if raw.kill_pod.is_some() {
            given.push("killPod");
        }
        if raw.annotate_pod.is_some() {
            given.push("annotatePod");
        }
        if raw.shutdown_node.is_some() {
            given.push("shutdownNode");
        }
        if raw.lose_node.is_some() {
            given.push("loseNode");
        }
        if raw.deploy.is_some() {
            given.push("deploy");
        }
        if raw.rollout_gateway.is_some() {
            given.push("rolloutGateway");
        }
        if raw.restart_queue_worker.is_some() {
            given.push("restartQueueWorker");
        }
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                format!("{} ({})", given.len(), given.join(", "))
            };
            return Err(self.error(
                &base,
                item_loc,
                format!(
                    "an event needs exactly one action (scale, rollout, drainNode, killPod, \
                     annotatePod, shutdownNode, loseNode, deploy, rolloutGateway or restartQueueWorker); found {found}"
                ),
            ));
        }

        let action = if let Some(scale) = &raw.scale {
            let key = format!("{base}.scale");
            let f = field_opt(scale);
            if f.raw.is_none() {
                return Err(self.error(&key, f.loc, "needs a replica count, e.g. `scale: 0`"));
            }
            Action::Scale(self.limited_u32(
                &key,
                f,
                0,
                0,
                limits::REPLICAS_MAX,
                super::function::REPLICAS_WHY,
            )?)
        } else if raw.rollout.is_some() {
            Action::Rollout
        } else if let Some(shutdown) = raw.shutdown_node {
            let key = format!("{base}.shutdownNode");
            let loc = spanned_loc(&shutdown);
            let shutdown = shutdown.value.unwrap_or_default();
            let node = self.required_node(&key, loc, field(&shutdown.node), nodes)?;
            let grace_period_ns = self.duration(
                &format!("{key}.gracePeriod"),
                field(&shutdown.grace_period),
                30 * NS_PER_S,
            )?;
            let critical_field = field(&shutdown.critical_pods);
            let critical_pods_ns =
                self.duration(&format!("{key}.criticalPods"), critical_field, 5 * NS_PER_S)?;
            if critical_pods_ns > grace_period_ns {
                return Err(self.error(
                    &format!("{key}.criticalPods"),
                    critical_field.loc.or(loc),
                    "is a slice of gracePeriod and must not be longer than it",
                ));
            }
            Action::ShutdownNode {
                node,
                grace_period_ns,
                critical_pods_ns,
            }
        } else if let Some(lose) = raw.lose_node {
            let key = format!("{base}.loseNode");
            let loc = spanned_loc(&lose);
            let lose = lose.value.unwrap_or_default();
            let node = self.required_node(&key, loc, field(&lose.node), nodes)?;
            Action::LoseNode { node }
        } else if raw.rollout_gateway.is_some() {
            Action::RolloutGateway
        } else if let Some(restart) = &raw.restart_queue_worker {
            if !context.asynchronous {
                // A synchronous run has no queue-worker: the world would meet an execution it
                // has no asynchronous path for (found by fuzz_scenario).
                return Err(self.error(
                    &format!("{base}.restartQueueWorker"),
                    spanned_loc(restart),
                    "needs `load.async: true`: a synchronous run has no queue-worker to restart",
                ));
            }
            Action::RestartQueueWorker
        } else if raw.deploy.is_some() {
            Action::Deploy {
                scale_min: context.deploy_scale_min,
            }
        } else if let Some(drain) = raw.drain_node {
            let drain = drain.value.unwrap_or_default();
            let notice_ns = self.duration(
                &format!("{base}.drainNode.notice"),
                field(&drain.notice),
                120 * NS_PER_S,
            )?;
            let node_field = field(&drain.node);
            let node = match node_field.raw {
                None => None,
                Some(_) => {
                    let key = format!("{base}.drainNode.node");
                    let node = self.int_u32(&key, node_field, 0, 0)?;
                    if node >= nodes {
                        return Err(self.error(
                            &key,
                            node_field.loc,
                            format!(
                                "node {node} does not exist: nodes are numbered from 0 and \
                                 kubernetes.nodes is {nodes}"
                            ),
                        ));
                    }
                    Some(node)
                }
            };
            Action::DrainNode { notice_ns, node }
        } else if let Some(annotate) = raw.annotate_pod {
            let key = format!("{base}.annotatePod");
            let loc = spanned_loc(&annotate);
            let annotate = annotate.value.unwrap_or_default();
            let pod_field = field(&annotate.pod);
            let pod = match pod_field.raw {
                None | Some("") => {
                    return Err(self.error(
                        &format!("{key}.pod"),
                        pod_field.loc.or(loc),
                        "missing `pod`: which pod to annotate (e.g. `pod: NAME-r1-0`)",
                    ));
                }
                Some(name) => self.pod_name(&format!("{key}.pod"), pod_field, name, context)?,
            };
            let cost_field = field(&annotate.deletion_cost);
            let Some(raw_cost) = cost_field.raw else {
                return Err(self.error(
                    &format!("{key}.deletionCost"),
                    cost_field.loc.or(loc),
                    "missing `deletionCost`: the controller.kubernetes.io/pod-deletion-cost \
                     value, an int32 (e.g. `deletionCost: 100`)",
                ));
            };
            let digits = raw_cost.strip_prefix(['-', '+']).unwrap_or(raw_cost);
            let deletion_cost = match raw_cost.parse::<i32>() {
                Ok(cost) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    cost
                }
                _ => {
                    return Err(self.error(
                        &format!("{key}.deletionCost"),
                        cost_field.loc,
                        format!(
                            "`{raw_cost}` is not an int32 (a whole number from {} to {}), which \
                             Kubernetes requires of controller.kubernetes.io/pod-deletion-cost",
                            i32::MIN,
                            i32::MAX
                        ),
                    ));
                }
            };
            Action::AnnotatePod { pod, deletion_cost }
        } else if let Some(kill) = raw.kill_pod {
            let kill = kill.value.unwrap_or_default();
            let pod_field = field(&kill.pod);
            let pod = match pod_field.raw {
                Some("") => {
                    return Err(self.error(
                        &format!("{base}.killPod.pod"),
                        pod_field.loc,
                        "must be a pod name, or left out to pick one",
                    ));
                }
                Some(name) => {
                    Some(self.pod_name(&format!("{base}.killPod.pod"), pod_field, name, context)?)
                }
                None => None,
            };
            Action::KillPod { pod }
        } else {
            // Unreachable: exactly one action was found above.
            return Err(self.error(&base, item_loc, "no action"));
        };
        Ok(Event { at_ns, action })
    }
}

impl Builder<'_> {
    /// A pod name at `key`: one this run can have (`FUNCTION-rREVISION-INDEX`).
    fn pod_name(
        &self,
        key: &str,
        f: Field<'_>,
        name: &str,
        context: EventContext<'_>,
    ) -> Result<String, ScenarioError> {
        if is_pod_name(name, context.function) {
            return Ok(name.to_string());
        }
        Err(self.error(
            key,
            f.loc,
            format!(
                "`{name}` can never be a pod of this run: pods are named \
                 `{f}-rREVISION-INDEX` (e.g. `{f}-r1-0`)",
                f = context.function
            ),
        ))
    }

    /// The `node` key of `key`: required, 0-based, below `kubernetes.nodes`.
    fn required_node(
        &self,
        key: &str,
        loc: Loc,
        f: Field<'_>,
        nodes: u32,
    ) -> Result<u32, ScenarioError> {
        let node_key = format!("{key}.node");
        if f.raw.is_none() {
            return Err(self.error(&node_key, loc, "missing `node`: which node (0-based)"));
        }
        let node = self.int_u32(&node_key, f, 0, 0)?;
        if node >= nodes {
            return Err(self.error(
                &node_key,
                f.loc,
                format!(
                    "node {node} does not exist: nodes are numbered from 0 and kubernetes.nodes \
                     is {nodes}"
                ),
            ));
        }
        Ok(node)
    }
}

/// Whether `name` has the form every pod of function `function` has: `FUNCTION-rN-M`, with N
/// and M decimal numbers (`model::cluster` names them so).
fn is_pod_name(name: &str, function: &str) -> bool {
    let decimal = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix(function)
        .and_then(|rest| rest.strip_prefix("-r"))
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(revision, index)| decimal(revision) && decimal(index))
}
