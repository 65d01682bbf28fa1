//! What the hosts and the step loop share: the ledger, the provider's endpoint view, the
//! pods' data plane (signals, start gate, the watchdog's monitor, how each process went away),
//! the model's chooser, the timeline, and the small helpers every host uses.

use std::collections::{BTreeSet, VecDeque};
use std::error::Error;
use std::sync::{Arc, Mutex, MutexGuard};

use faasim_model::choice::{Chooser, Stream};
use faasim_model::config::{Config, Span};
use faasim_model::ledger::{Cause, Fact, PodId, Record, RequestId, Status};
use faasim_model::run::TraceLine;
use faasim_model::time::Nanos;
use faasim_sim::engine::SeedChooser;
use faasim_watchdog::Monitor;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Port of the gateway and of every watchdog.
pub(crate) const PORT: u16 = 8080;

/// Header carrying the ledger id from the client through the gateway.
pub(crate) const X_REQUEST_ID: &str = "x-faasim-id";

/// What a host's software returns.
pub(crate) type HostResult = Result<(), Box<dyn Error>>;

/// The model's chooser: one PRNG per purpose (`Stream`), seeded as the model seeds it. The
/// control plane is the model's own cluster and draws from it as the model does (start-up
/// times, endpoint lag, scale-down victims); the hosts draw a request's own values (its
/// handler duration, its endpoint) with the model's key (`choice::request_key`: worker, n-th
/// request), so one seed gives both engines the same choices, whichever order same-instant
/// requests arrive in.
pub(crate) struct Rng(pub(crate) SeedChooser);

impl Rng {
    /// The next draw of `stream` in `span` (no draw when it is fixed).
    pub(crate) fn span(&mut self, stream: Stream, span: Span) -> Nanos {
        span.draw(&mut self.0, stream)
    }

    /// A draw of the request keyed `key` (`choice::request_key`), as the model keys it.
    pub(crate) fn span_for(&mut self, stream: Stream, key: u64, span: Span) -> Nanos {
        span.draw_keyed(&mut self.0, stream, key)
    }

    /// An index below `len` for the request keyed `key`.
    pub(crate) fn index_for(&mut self, stream: Stream, key: u64, len: usize) -> usize {
        self.0.pick_index_keyed(stream, key, len)
    }
}

/// What the gateway learnt about a request, for the client to close its record with.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hint {
    /// The cause of the status the gateway answered with.
    pub(crate) cause: Option<Cause>,
    /// What lost the request inside a pod, if anything did.
    pub(crate) lost: Option<Cause>,
    /// A dial on its way was refused (or went into a black hole).
    pub(crate) refused: bool,
    /// The child's write_timeout cut its response.
    pub(crate) child_write_timeout: bool,
    /// The provider's transport retried it on a new connection.
    pub(crate) retried: bool,
    /// When the provider picked the pod (to tell a dial into a dead node from a request the
    /// node took down with it).
    pub(crate) picked_ns: Nanos,
}

/// One pod's data plane: its host and the processes in it. Its control-plane facts (ready,
/// deleted, how it ended for the reports) are the cluster's.
pub(crate) struct PodState {
    /// Its name, which is also its host's.
    pub(crate) name: String,
    /// Requests its watchdog held when it was killed, or at its own exit.
    pub(crate) killed_with: u32,
    /// Why its process went away (its own exit, SIGKILL, a crash, its node lost), for
    /// requests that then see EOF; `None` while it runs (or has not started).
    pub(crate) exit_cause: Option<Cause>,
    /// The child process died (of SIGTERM, `onSigterm: exit`).
    pub(crate) child_died: bool,
    /// The child's start-up time in this incarnation (drawn when the container starts).
    pub(crate) child_startup_ns: Nanos,
    /// Its host has been created (a restart reopens the gate instead).
    pub(crate) host_created: bool,
    /// When its node died: traffic to it is black-holed from then on.
    pub(crate) black_hole_ns: Option<Nanos>,
    /// The running watchdog's health and requests in flight.
    pub(crate) monitor: Option<Monitor>,
    /// SIGTERM: the watchdog's shutdown future and the child's signal wait for `true`.
    pub(crate) sigterm: watch::Sender<bool>,
    /// The container may start: the pod's software waits for it (a crashed container's host is
    /// bounced at once, and listens again only after restartDelay + startup).
    pub(crate) gate: watch::Sender<bool>,
}

impl PodState {
    /// A pod whose container has not started.
    pub(crate) fn new(name: String) -> PodState {
        PodState {
            name,
            killed_with: 0,
            exit_cause: None,
            child_died: false,
            child_startup_ns: 0,
            host_created: false,
            black_hole_ns: None,
            monitor: None,
            sigterm: watch::channel(false).0,
            gate: watch::channel(true).0,
        }
    }

    /// Requests the running watchdog holds now.
    pub(crate) fn in_flight(&self) -> u32 {
        self.monitor
            .as_ref()
            .map(|m| m.requests_in_flight() as u32)
            .unwrap_or(0)
    }

    /// The pod's process is gone without exiting (SIGKILL, its node lost), with the requests
    /// its watchdog had in flight.
    pub(crate) fn kill(&mut self, cause: Cause) {
        self.killed_with = self.in_flight();
        self.exit_cause = Some(cause);
    }
}

/// Everything the hosts and the step loop share.
pub(crate) struct Shared {
    /// The scenario's configuration.
    pub(crate) config: Config,
    /// One record per request, by id.
    pub(crate) ledger: Vec<Record>,
    /// What the gateway learnt about each request, by id.
    pub(crate) hints: Vec<Hint>,
    /// Each request's draw key (`choice::request_key`), by ledger id.
    pub(crate) keys: Vec<u64>,
    /// Requests each load worker has sent.
    pub(crate) worker_sent: Vec<u32>,
    /// The gateway's (provider's) endpoint view, sorted pod ids.
    pub(crate) view: Vec<PodId>,
    /// The pods' data plane, by id (the cluster's ids).
    pub(crate) pods: Vec<PodState>,
    /// Scale-from-zero asks (replicas) the gateway made since the step loop last looked.
    pub(crate) scale_from_zero: Vec<u32>,
    /// Pods whose process exited on its own since the step loop last looked, and when.
    pub(crate) exits: Vec<(PodId, Nanos)>,
    /// The model's chooser.
    pub(crate) rng: Rng,
    /// The timeline.
    pub(crate) trace: Vec<TraceLine>,
    /// One message's time on the network.
    pub(crate) latency_ns: Nanos,
    /// The asynchronous path's records, when the load is asynchronous.
    pub(crate) asynchronous: Option<AsyncLedger>,
}

/// What the asynchronous path adds to the ledger: the queue-workers' executions (requests of
/// their own, numbered from `first_exec` as the model numbers them), the callbacks received, and
/// what the queue and the workers still hold, to judge each invocation at the end of the run.
#[derive(Debug, Default)]
pub(crate) struct AsyncLedger {
    /// The first execution's id: the load's request count.
    pub(crate) first_exec: usize,
    /// One record per execution, by `exec - first_exec`.
    pub(crate) execs: Vec<Record>,
    /// What the gateway learnt about each execution, by `exec - first_exec`.
    pub(crate) exec_hints: Vec<Hint>,
    /// Each execution's invocation, by `exec - first_exec`.
    pub(crate) exec_inv: Vec<RequestId>,
    /// The `X-Function-Status` of each callback received, by invocation.
    pub(crate) callbacks: Vec<Vec<Status>>,
    /// Callbacks the receiver failed (`load.callbackFailures`), by invocation.
    pub(crate) callbacks_failed: Vec<u32>,
    /// The gateway's `X-Call-Id` of each invocation, by invocation.
    pub(crate) call_ids: Vec<Option<String>>,
    /// Calls the gateway published / the queue received (a publish on the wire is not idle).
    pub(crate) published: u64,
    /// Calls the queue received.
    pub(crate) received: u64,
    /// Invocations whose message the queue holds unacknowledged (published, not acked).
    pub(crate) unacked: BTreeSet<RequestId>,
    /// Deliveries the queue sent and has not seen acknowledged (their ack timers run).
    pub(crate) outstanding: u32,
    /// Each queue-worker pod's state, by member id.
    pub(crate) workers: Vec<WorkerState>,
}

/// One queue-worker pod as the harness sees it (the worker task keeps it up to date).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WorkerState {
    /// Its process runs (created and not yet SIGTERMed).
    pub(crate) alive: bool,
    /// Invocations delivered to it and not yet taken up, oldest first.
    pub(crate) waiting: VecDeque<RequestId>,
    /// The invocation it handles, and the execution while the call to the gateway runs.
    pub(crate) current: Option<(RequestId, Option<RequestId>)>,
}

impl AsyncLedger {
    /// Nothing in the asynchronous path will act again: every publish reached the queue, no
    /// delivery waits for its ack, and no live worker holds a call.
    pub(crate) fn idle(&self) -> bool {
        self.published == self.received
            && self.outstanding == 0
            && self
                .workers
                .iter()
                .all(|w| !w.alive || (w.current.is_none() && w.waiting.is_empty()))
    }

    /// A live worker holds `inv`: it runs it or will.
    pub(crate) fn held(&self, inv: RequestId) -> bool {
        self.workers.iter().any(|w| {
            w.alive && (w.current.is_some_and(|(i, _)| i == inv) || w.waiting.contains(&inv))
        })
    }
}

impl Shared {
    /// The ledger record of request or execution `id`.
    pub(crate) fn record(&self, id: usize) -> &Record {
        match &self.asynchronous {
            Some(a) if id >= a.first_exec => &a.execs[id - a.first_exec],
            _ => &self.ledger[id],
        }
    }

    /// What the gateway learnt about request or execution `id`.
    pub(crate) fn hint(&self, id: usize) -> Hint {
        match &self.asynchronous {
            Some(a) if id >= a.first_exec => a.exec_hints[id - a.first_exec],
            _ => self.hints[id],
        }
    }

    /// The ledger record of request or execution `id`, to change.
    pub(crate) fn record_mut(&mut self, id: usize) -> &mut Record {
        match &mut self.asynchronous {
            Some(a) if id >= a.first_exec => &mut a.execs[id - a.first_exec],
            _ => &mut self.ledger[id],
        }
    }

    /// What the gateway learnt about request or execution `id`, to change.
    pub(crate) fn hint_mut(&mut self, id: usize) -> &mut Hint {
        match &mut self.asynchronous {
            Some(a) if id >= a.first_exec => &mut a.exec_hints[id - a.first_exec],
            _ => &mut self.hints[id],
        }
    }

    /// The draw key of request or execution `id`: an execution's is the model's
    /// (`(1 << 63) | exec`, `sim/src/world/asynchronous.rs`), a request's `choice::request_key`.
    pub(crate) fn key(&self, id: usize) -> Option<u64> {
        match &self.asynchronous {
            Some(a) if id >= a.first_exec => Some((1 << 63) | id as u64),
            _ => self.keys.get(id).copied(),
        }
    }

    /// Pod `pod`'s process exited on its own at `now` (drained, deadline, its child's death)
    /// with `at_exit` requests: recorded for the step loop to tell the cluster, unless the
    /// process had already gone another way (SIGKILL, a crash, its node lost: the cluster's
    /// doing, which it knows).
    pub(crate) fn exited(
        &mut self,
        pod: PodId,
        now: Nanos,
        cause: Cause,
        at_exit: u32,
        what: String,
    ) {
        let p = &mut self.pods[pod as usize];
        if p.exit_cause.is_some() {
            return;
        }
        p.exit_cause = Some(cause);
        p.killed_with = at_exit;
        let name = p.name.clone();
        self.exits.push((pod, now));
        self.note(now, name, what);
    }

    /// A line of the timeline.
    pub(crate) fn note(&mut self, at_ns: Nanos, who: impl Into<String>, what: impl Into<String>) {
        self.trace.push(TraceLine {
            at_ns,
            who: who.into(),
            what: what.into(),
        });
    }
}

/// The shared state, as every host holds it.
#[derive(Clone)]
pub(crate) struct SharedRef(pub(crate) Arc<Mutex<Shared>>);

impl SharedRef {
    /// The state (a panicked host does not poison it for the others).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The ledger id a request carries (`x-faasim-id`), from the client through every hop.
pub(crate) fn request_id(headers: &hyper::HeaderMap) -> Option<usize> {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The handler duration of the request `id`: the model's keyed draw. A request without an id
/// (none reach a handler in a run) takes the handler stream's next draw.
pub(crate) fn handler_duration_ns(shared: &SharedRef, id: Option<usize>, handler: Span) -> Nanos {
    let mut s = shared.lock();
    if let Some(id) = id {
        // The model's pod learns `Fact::Started` where it draws the duration.
        s.record_mut(id).learn(Fact::Started);
    }
    match id.and_then(|id| s.key(id)) {
        Some(key) => s.rng.span_for(Stream::Handler, key, handler),
        None => s.rng.span(Stream::Handler, handler),
    }
}

/// Simulated time inside a host.
pub(crate) fn now_ns() -> Nanos {
    turmoil::sim_elapsed()
        .map(|d| d.as_nanos() as Nanos)
        .unwrap_or(0)
}

/// Aborts a spawned task when dropped, so a cancelled caller also closes its connection.
pub(crate) struct AbortOnDrop(pub(crate) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
