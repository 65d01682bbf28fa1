//! What the pictures show, read from a run: each pod's and gateway's life (its phases, when it
//! was in the endpoint view, the lag bands), the instants worth a mark (signals, timers that
//! fired) and the scenario's events. Every picture format draws from one [`Story`].
//!
//! The run keeps no per-component state history, only its ledger, its pod summaries and the
//! timeline's lines; a life is rebuilt from the lines each component wrote (`created`,
//! `readiness probe passed`, `deleted`, `watchdog closes its listener`, the provider's
//! `endpoints view adds/drops`, ...). With the timeline off (`--no-timeline`) a pod's life is
//! only what its summary says.

use faasim_model::ledger::{Cause, Record};
use faasim_model::run::PodEnd;
use faasim_model::schedule::{Action, Event};
use faasim_model::time::Nanos;

use crate::Run;

/// A phase of a pod's or gateway's life, in the order they come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Created, the process starting, not yet passing its readiness probe.
    Starting,
    /// Passing its readiness probe (whether routed or not is [`Life::routed`]).
    Ready,
    /// Deleted (or signalled): SIGTERM received, the listener still open.
    Terminating,
    /// The listener closed; requests in flight finish.
    Draining,
}

impl Phase {
    /// Name in pictures (the CSS class and the legend).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Terminating => "terminating",
            Phase::Draining => "draining",
        }
    }
}

/// A span of simulated time, `to_ns` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub from_ns: Nanos,
    /// End.
    pub to_ns: Nanos,
}

/// What a shaded band over a lane means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// Ready, but the endpoint view has not added it yet.
    AddLag,
    /// Deleted, but the endpoint view still routes to it.
    RemoveLag,
    /// Its listener is closed while the endpoint view still routes to it: requests sent here
    /// are refused (mechanism 2).
    Gap,
}

impl BandKind {
    /// Name in pictures.
    pub fn name(self) -> &'static str {
        match self {
            BandKind::AddLag => "lag-add",
            BandKind::RemoveLag => "lag-remove",
            BandKind::Gap => "gap",
        }
    }

    /// What it means, for a tooltip.
    pub fn meaning(self) -> &'static str {
        match self {
            BandKind::AddLag => "endpoint view lag: ready, not yet routed",
            BandKind::RemoveLag => "endpoint view lag: deleted, still routed",
            BandKind::Gap => {
                "listener closed (or pod gone) while still routed: requests here are refused"
            }
        }
    }
}

/// A shaded band over a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    /// When.
    pub span: Span,
    /// What it means.
    pub kind: BandKind,
}

/// What kind of instant a mark is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A signal (SIGTERM, SIGKILL) or a fault (node lost, crash).
    Signal,
    /// A timer that fired (a timeout, the listener's close after healthcheck_interval).
    Timer,
    /// Something else the component said.
    Note,
}

impl MarkKind {
    /// Name in pictures.
    pub fn name(self) -> &'static str {
        match self {
            MarkKind::Signal => "signal",
            MarkKind::Timer => "timer",
            MarkKind::Note => "note",
        }
    }
}

/// An instant on a lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at_ns: Nanos,
    /// Which kind.
    pub kind: MarkKind,
    /// What happened, one line.
    pub label: String,
}

/// The life of one pod or gateway replica: one lane of the pictures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Life {
    /// Its name (`go-long-r1-0`, `gateway-1`, `gateway`).
    pub name: String,
    /// Its phases in order, each until the next one (the last until [`Life::end_ns`]).
    pub phases: Vec<(Nanos, Phase)>,
    /// When it was in the endpoint view (gateways: when kube-proxy routed to it).
    pub routed: Vec<Span>,
    /// The lag and gap bands.
    pub bands: Vec<Band>,
    /// Signals, timers and notes on its lane.
    pub marks: Vec<Mark>,
    /// When its life ended (`None`: still running when the run stopped).
    pub end_ns: Option<Nanos>,
    /// How it ended.
    pub end: PodEnd,
}

impl Life {
    /// A life with nothing known yet.
    fn new(name: &str) -> Life {
        Life {
            name: name.to_string(),
            phases: Vec::new(),
            routed: Vec::new(),
            bands: Vec::new(),
            marks: Vec::new(),
            end_ns: None,
            end: PodEnd::Running,
        }
    }

    /// When it was created (its first phase), if known.
    pub fn start_ns(&self) -> Option<Nanos> {
        self.phases.first().map(|(at, _)| *at)
    }

    /// The phases as spans, each ending where the next starts, the last at its end or `end_ns`.
    pub fn phase_spans(&self, run_end_ns: Nanos) -> Vec<(Span, Phase)> {
        let last = self.end_ns.unwrap_or(run_end_ns);
        // What the timeline says after its end (a dead pod deleted later) is a mark, not a phase.
        let phases: Vec<&(Nanos, Phase)> = self
            .phases
            .iter()
            .enumerate()
            .filter(|(index, (at, _))| *index == 0 || *at <= last)
            .map(|(_, phase)| phase)
            .collect();
        phases
            .iter()
            .enumerate()
            .map(|(index, (from_ns, phase))| {
                let to_ns = phases.get(index + 1).map_or(last, |(at, _)| *at).min(last);
                (
                    Span {
                        from_ns: *from_ns,
                        to_ns: to_ns.max(*from_ns),
                    },
                    *phase,
                )
            })
            .collect()
    }
}

/// A scenario event: a vertical line across every lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Happening {
    /// When.
    pub at_ns: Nanos,
    /// A short label (`scale 0`, `rollout`).
    pub label: String,
    /// The operator's or the cluster's own words for it, when the timeline has them.
    pub detail: String,
}

/// Everything the pictures show besides the requests themselves (which are the ledger's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    /// When the run stopped: the right edge of the time axis.
    pub end_ns: Nanos,
    /// How many client workers sent requests.
    pub workers: u32,
    /// The gateway as a service: its notes and timers (always present).
    pub gateway: Life,
    /// Each gateway replica, when the run rolled the gateway (empty: one gateway, always up).
    pub gateways: Vec<Life>,
    /// Each function pod, in the run's pod order (a request's `pod` indexes it).
    pub pods: Vec<Life>,
    /// Marks for components with no life of their own: the client, the ingress, the provider.
    pub others: Vec<(String, Vec<Mark>)>,
    /// The scenario's events.
    pub happenings: Vec<Happening>,
}

/// A short label for a scenario event.
pub fn action_label(action: &Action) -> String {
    match action {
        Action::Scale(replicas) => format!("scale {replicas}"),
        Action::Rollout => "rollout".to_string(),
        Action::DrainNode { node, .. } => match node {
            Some(node) => format!("drain node-{node}"),
            None => "drain node".to_string(),
        },
        Action::KillPod { pod } => match pod {
            Some(pod) => format!("kill {pod}"),
            None => "kill pod".to_string(),
        },
        Action::AnnotatePod { pod, deletion_cost } => {
            format!("annotate {pod} deletion-cost={deletion_cost}")
        }
        Action::ShutdownNode { node, .. } => format!("shutdown node-{node}"),
        Action::LoseNode { node } => format!("lose node-{node}"),
        Action::Deploy { .. } => "deploy".to_string(),
        Action::RolloutGateway => "helm upgrade".to_string(),
        Action::RestartQueueWorker => "restart queue-worker".to_string(),
    }
}

/// Which component's timer `cause` is, and whether it lives on the request's pod.
fn timer_owner(cause: Cause) -> Option<&'static str> {
    match cause {
        Cause::ExecTimeout
        | Cause::WatchdogWriteTimeout
        | Cause::ChildWriteTimeout
        | Cause::DrainDeadline => Some("pod"),
        Cause::UpstreamTimeout | Cause::GatewayWriteTimeout => Some("gateway"),
        Cause::ProviderTimeout | Cause::ProviderWriteTimeout => Some("provider"),
        Cause::IngressReadTimeout => Some("ingress"),
        Cause::ClientTimeout => Some("client"),
        _ => None,
    }
}

/// A pod's or a gateway replica's line, applied to its life.
fn apply_line(life: &mut Life, at_ns: Nanos, what: &str, removal: &mut Option<Nanos>) {
    if life.phases.is_empty() && !what.starts_with("created") {
        // Its first line is not its creation: it was there, ready and routed, from the start
        // (a warm pod, a gateway replica of the initial rollout).
        life.phases.push((0, Phase::Ready));
        life.routed.push(Span {
            from_ns: 0,
            to_ns: Nanos::MAX,
        });
    }
    let phase = |life: &mut Life, phase: Phase| {
        // Phases only move forward: a second SIGTERM line does not restart terminating.
        if life.phases.last().is_none_or(|(_, last)| *last < phase) {
            life.phases.push((at_ns, phase));
        }
    };
    if what.starts_with("created") {
        phase(life, Phase::Starting);
        life.marks.push(Mark {
            at_ns,
            kind: MarkKind::Note,
            label: what.to_string(),
        });
    } else if what.starts_with("readiness probe passed") || what == "ready" {
        phase(life, Phase::Ready);
    } else if what.starts_with("deleted") {
        phase(life, Phase::Terminating);
        removal.get_or_insert(at_ns);
        life.marks.push(Mark {
            at_ns,
            kind: MarkKind::Signal,
            label: what.to_string(),
        });
    } else if what.starts_with("SIGTERM") || what.starts_with("SIGKILL") {
        if what.starts_with("SIGTERM") {
            phase(life, Phase::Terminating);
            removal.get_or_insert(at_ns);
        }
        life.marks.push(Mark {
            at_ns,
            kind: MarkKind::Signal,
            label: what.to_string(),
        });
    } else if what.starts_with("watchdog closes its listener")
        || what.starts_with("listener closed")
    {
        phase(life, Phase::Draining);
        life.marks.push(Mark {
            at_ns,
            kind: MarkKind::Timer,
            label: what.to_string(),
        });
    } else if what.starts_with("kube-proxy routes") {
        life.routed.push(Span {
            from_ns: at_ns,
            to_ns: Nanos::MAX,
        });
    } else if what.starts_with("kube-proxy stops") {
        if let Some(span) = life.routed.last_mut().filter(|s| s.to_ns == Nanos::MAX) {
            span.to_ns = at_ns;
        }
    } else if what.starts_with("gateway process exited") {
        life.end_ns.get_or_insert(at_ns);
        life.end = PodEnd::Exited;
        life.marks.push(Mark {
            at_ns,
            kind: MarkKind::Note,
            label: what.to_string(),
        });
    } else {
        let kind = if what.contains("killed") || what.contains("lost") || what.contains("dies") {
            MarkKind::Signal
        } else {
            MarkKind::Note
        };
        life.marks.push(Mark {
            at_ns,
            kind,
            label: what.to_string(),
        });
    }
}

/// Close the open spans at the end of a life and derive its bands.
fn finish_life(life: &mut Life, run_end_ns: Nanos, removal: Option<Nanos>) {
    let last = life.end_ns.unwrap_or(run_end_ns);
    for span in &mut life.routed {
        if span.to_ns == Nanos::MAX {
            span.to_ns = last.max(span.from_ns);
        }
    }
    if let (Some(ready), Some(first)) = (
        life.phases
            .iter()
            .find(|(_, p)| *p == Phase::Ready)
            .map(|(at, _)| *at),
        life.routed.first(),
    ) && first.from_ns > ready
    {
        life.bands.push(Band {
            span: Span {
                from_ns: ready,
                to_ns: first.from_ns,
            },
            kind: BandKind::AddLag,
        });
    }
    if let Some(removal) = removal
        && let Some(routed) = life.routed.iter().find(|s| s.to_ns > removal)
    {
        let from_ns = removal.max(routed.from_ns);
        if routed.to_ns > from_ns {
            life.bands.push(Band {
                span: Span {
                    from_ns,
                    to_ns: routed.to_ns,
                },
                kind: BandKind::RemoveLag,
            });
        }
    }
    // Closed (its listener, or the whole pod) while still routed: the gap of mechanism 2.
    let draining = life
        .phases
        .iter()
        .find(|(_, p)| *p == Phase::Draining)
        .map(|(at, _)| *at);
    let closed = match (draining, life.end_ns) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(closed) = closed
        && let Some(routed) = life
            .routed
            .iter()
            .find(|s| s.from_ns <= closed && closed < s.to_ns)
    {
        life.bands.push(Band {
            span: Span {
                from_ns: closed,
                to_ns: routed.to_ns,
            },
            kind: BandKind::Gap,
        });
    }
    life.marks.sort_by_key(|m| m.at_ns);
}

/// Read the story of `run`, with the scenario's `events`.
pub fn read(run: &Run, events: &[Event]) -> Story {
    let result = &run.result;
    let end_ns = result.end_ns;
    let workers = result
        .ledger
        .iter()
        .map(|r| r.worker + 1)
        .max()
        .unwrap_or(0);
    let mut pods: Vec<Life> = result.pods.iter().map(|p| Life::new(&p.name)).collect();
    let mut removals: Vec<Option<Nanos>> = vec![None; pods.len()];
    let pod_index = |name: &str, pods: &[Life]| pods.iter().position(|p| p.name == name);
    let mut gateway = Life::new("gateway");
    let mut gateways: Vec<Life> = Vec::new();
    let mut gateway_removals: Vec<Option<Nanos>> = Vec::new();
    let mut others: Vec<(String, Vec<Mark>)> = Vec::new();
    let mut other = |who: &str, mark: Mark| match others.iter_mut().find(|(name, _)| name == who) {
        Some((_, marks)) => marks.push(mark),
        None => others.push((who.to_string(), vec![mark])),
    };
    let mut happenings: Vec<Happening> = events
        .iter()
        .filter(|e| e.at_ns <= end_ns)
        .map(|e| Happening {
            at_ns: e.at_ns,
            label: action_label(&e.action),
            detail: String::new(),
        })
        .collect();
    for line in &result.trace {
        let at_ns = line.at_ns;
        let what = line.what.as_str();
        if let Some(index) = pod_index(&line.who, &pods) {
            apply_line(&mut pods[index], at_ns, what, &mut removals[index]);
        } else if line.who.starts_with("gateway-") {
            let index = match gateways.iter().position(|g| g.name == line.who) {
                Some(index) => index,
                None => {
                    gateways.push(Life::new(&line.who));
                    gateway_removals.push(None);
                    gateways.len() - 1
                }
            };
            apply_line(
                &mut gateways[index],
                at_ns,
                what,
                &mut gateway_removals[index],
            );
        } else if line.who == "provider" {
            let adds = what.strip_prefix("endpoints view adds ");
            let drops = what.strip_prefix("endpoints view drops ");
            if let Some(index) = adds.and_then(|name| pod_index(name, &pods)) {
                if pods[index]
                    .routed
                    .last()
                    .is_some_and(|s| s.to_ns == Nanos::MAX)
                {
                    continue;
                }
                pods[index].routed.push(Span {
                    from_ns: at_ns,
                    to_ns: Nanos::MAX,
                });
            } else if let Some(index) = drops.and_then(|name| pod_index(name, &pods)) {
                if let Some(span) = pods[index]
                    .routed
                    .last_mut()
                    .filter(|s| s.to_ns == Nanos::MAX)
                {
                    span.to_ns = at_ns;
                }
            } else {
                other(
                    "provider",
                    Mark {
                        at_ns,
                        kind: MarkKind::Note,
                        label: what.to_string(),
                    },
                );
            }
        } else if line.who == "gateway" {
            gateway.marks.push(Mark {
                at_ns,
                kind: MarkKind::Note,
                label: what.to_string(),
            });
        } else if line.who == "client" {
            // One line per request: the ledger draws them.
        } else if let Some(happening) = happenings
            .iter_mut()
            .find(|h| h.at_ns == at_ns && h.detail.is_empty())
            .filter(|_| line.who == "operator" || line.who.starts_with("node"))
        {
            happening.detail = format!("{}: {what}", line.who);
        } else {
            let kind = if line.who == "ingress" {
                MarkKind::Timer
            } else {
                MarkKind::Signal
            };
            other(
                &line.who,
                Mark {
                    at_ns,
                    kind,
                    label: what.to_string(),
                },
            );
        }
    }
    for record in &result.ledger {
        timer_mark(record, &mut pods, &mut gateway, &mut other);
    }
    for (index, summary) in result.pods.iter().enumerate() {
        let life = &mut pods[index];
        life.end = summary.end;
        life.end_ns = summary.end_ns;
        if life.phases.is_empty() {
            // No timeline: all that is known is that it lived until its end. With one, a pod
            // that wrote no line was there, ready and routed, all along.
            life.phases.push((0, Phase::Ready));
            if !result.trace.is_empty() {
                life.routed.push(Span {
                    from_ns: 0,
                    to_ns: Nanos::MAX,
                });
            }
        }
        finish_life(life, end_ns, removals[index]);
    }
    for (index, life) in gateways.iter_mut().enumerate() {
        finish_life(life, end_ns, gateway_removals[index]);
    }
    // gateway-0, gateway-1, ..., gateway-10 in the order of their numbers.
    let number = |life: &Life| {
        life.name
            .rsplit('-')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    };
    gateways.sort_by(|a, b| number(a).cmp(&number(b)).then(a.name.cmp(&b.name)));
    gateway.phases.push((0, Phase::Ready));
    gateway.routed.push(Span {
        from_ns: 0,
        to_ns: end_ns,
    });
    gateway.marks.sort_by_key(|m| m.at_ns);
    for (_, marks) in &mut others {
        marks.sort_by_key(|m| m.at_ns);
    }
    others.sort_by(|a, b| a.0.cmp(&b.0));
    Story {
        end_ns,
        workers,
        gateway,
        gateways,
        pods,
        others,
        happenings,
    }
}

/// A mark where a timer ended `record`, on the lane of the component that owns the timer.
fn timer_mark(
    record: &Record,
    pods: &mut [Life],
    gateway: &mut Life,
    other: &mut impl FnMut(&str, Mark),
) {
    let (Some(cause), Some(at_ns)) = (record.cause, record.end_ns) else {
        return;
    };
    let Some(owner) = timer_owner(cause) else {
        return;
    };
    let mark = Mark {
        at_ns,
        kind: MarkKind::Timer,
        label: format!("{} fired: request {}", cause.name(), record.id),
    };
    match owner {
        "pod" => match record.pod.and_then(|p| pods.get_mut(p as usize)) {
            Some(pod) => pod.marks.push(mark),
            None => other("pod", mark),
        },
        "gateway" => gateway.marks.push(mark),
        owner => other(owner, mark),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_model::run::{PodSummary, RunResult, TraceLine};
    use faasim_model::time::NS_PER_S;

    fn line(at_s: u64, who: &str, what: &str) -> TraceLine {
        TraceLine {
            at_ns: at_s * NS_PER_S,
            who: who.to_string(),
            what: what.to_string(),
        }
    }

    fn pod(name: &str, end: PodEnd, end_s: Option<u64>) -> PodSummary {
        PodSummary {
            name: name.to_string(),
            revision: 1,
            end,
            end_ns: end_s.map(|s| s * NS_PER_S),
            terminating: end_s.is_some(),
            killed_with: 0,
            restarts: 0,
        }
    }

    #[test]
    fn a_pods_life_is_read_from_its_lines() {
        let result = RunResult {
            ledger: Vec::new(),
            pods: vec![
                pod("fn-r1-0", PodEnd::Killed, Some(60)),
                pod("fn-r1-1", PodEnd::Running, None),
            ],
            events: 0,
            end_ns: 100 * NS_PER_S,
            invocations: None,
            tally: None,
            trace: vec![
                line(0, "fn-r1-0", "created on node-0, listening in 2.000s"),
                line(4, "fn-r1-0", "readiness probe passed: Ready"),
                line(5, "provider", "endpoints view adds fn-r1-0"),
                line(30, "operator", "kubectl scale --replicas=1"),
                line(30, "fn-r1-0", "deleted: endpoints removal starts"),
                line(
                    30,
                    "fn-r1-0",
                    "SIGTERM: unhealthy, listener open for 2.000s",
                ),
                line(
                    32,
                    "fn-r1-0",
                    "watchdog closes its listener, draining 1 requests",
                ),
                line(35, "provider", "endpoints view drops fn-r1-0"),
                line(
                    60,
                    "fn-r1-0",
                    "SIGKILL at grace end with 1 requests active (exit 137)",
                ),
            ],
        };
        let run = Run::judged(1, result);
        let events = [Event {
            at_ns: 30 * NS_PER_S,
            action: Action::Scale(1),
        }];
        let story = read(&run, &events);
        let life = &story.pods[0];
        let phases: Vec<Phase> = life.phases.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            phases,
            [
                Phase::Starting,
                Phase::Ready,
                Phase::Terminating,
                Phase::Draining
            ]
        );
        assert_eq!(
            life.routed,
            [Span {
                from_ns: 5 * NS_PER_S,
                to_ns: 35 * NS_PER_S
            }]
        );
        let bands: Vec<(BandKind, u64, u64)> = life
            .bands
            .iter()
            .map(|b| (b.kind, b.span.from_ns / NS_PER_S, b.span.to_ns / NS_PER_S))
            .collect();
        assert_eq!(
            bands,
            [
                (BandKind::AddLag, 4, 5),
                (BandKind::RemoveLag, 30, 35),
                (BandKind::Gap, 32, 35)
            ]
        );
        assert_eq!(life.end, PodEnd::Killed);
        assert!(
            life.marks
                .iter()
                .any(|m| m.kind == MarkKind::Signal && m.label.starts_with("SIGKILL"))
        );
        // The pod that wrote nothing was there, ready and routed, all along.
        let warm = &story.pods[1];
        assert_eq!(warm.phases, [(0, Phase::Ready)]);
        assert_eq!(warm.routed[0].to_ns, 100 * NS_PER_S);
        assert_eq!(story.happenings[0].label, "scale 1");
        assert_eq!(
            story.happenings[0].detail,
            "operator: kubectl scale --replicas=1"
        );
    }
}
