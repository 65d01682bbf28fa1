//! What a long run tells while it runs, for a progress bar: how many of the load's requests it
//! has sent. Read-only: the report never sees it, so a run with an observer gives the same bytes
//! as one without.

use faasim_model::time::Nanos;

/// How far a run has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Requests sent so far (the load's, and on the asynchronous path the queue-worker's calls).
    pub sent: u64,
    /// The load's requests (`load.requests`).
    pub total: u64,
    /// Simulated time now.
    pub now_ns: Nanos,
}

/// Events between two reports to the observer: often enough for a bar drawn a few times a
/// second (a long run simulates millions of events a second), rare enough to cost nothing.
pub const EVERY_EVENTS: u64 = 1 << 14;

/// An observer of a run's progress.
pub type Observer<'a> = &'a mut dyn FnMut(Progress);
