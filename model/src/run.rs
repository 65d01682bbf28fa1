//! What a run produces, whichever engine ran it: the ledger, one summary per pod and the
//! timeline. The model's world and the turmoil harness both build a [`RunResult`].

use crate::ledger::Record;
use crate::time::Nanos;

/// How a pod's life ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PodEnd {
    /// Still running when the run stopped.
    Running,
    /// The process exited on its own.
    Exited,
    /// SIGKILL or the node's death.
    Killed,
}

impl PodEnd {
    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            PodEnd::Running => "running",
            PodEnd::Exited => "exited",
            PodEnd::Killed => "killed",
        }
    }
}

/// A summary of one pod for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSummary {
    /// Pod name.
    pub name: String,
    /// Template revision.
    pub revision: u32,
    /// How it ended.
    pub end: PodEnd,
    /// When.
    pub end_ns: Option<Nanos>,
    /// Deletion was requested (scale-down, rollout, eviction).
    pub terminating: bool,
    /// Requests active when it was killed.
    pub killed_with: u32,
    /// Container restarts.
    pub restarts: u32,
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// When.
    pub at_ns: Nanos,
    /// Which component.
    pub who: String,
    /// What happened.
    pub what: String,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// One record per request.
    pub ledger: Vec<Record>,
    /// One summary per pod.
    pub pods: Vec<PodSummary>,
    /// Events run.
    pub events: u64,
    /// Simulated time when the run stopped.
    pub end_ns: Nanos,
    /// The timeline (empty when tracing is off).
    pub trace: Vec<TraceLine>,
    /// An asynchronous run's invocations, one per request of the ledger (`None`: a
    /// synchronous run).
    pub invocations: Option<Vec<crate::invocation::Invocation>>,
    /// A streamed run's ledger, folded as its requests settled (`None`: the run kept every
    /// record in `ledger`).
    pub tally: Option<crate::tally::Tally>,
}
