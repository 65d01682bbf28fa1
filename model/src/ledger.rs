//! The request ledger: one entry follows each request from the client to the handler and back,
//! and records whichever timer or fault ended it first, where, and the outcome class.

use crate::time::Nanos;

/// Index of a request in the ledger.
pub type RequestId = u32;
/// Index of a pod in the world.
pub type PodId = u32;

/// What the client finally saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// An HTTP status code.
    Code(u16),
    /// A client-side error with no status (EOF, client timeout).
    Error,
}

impl std::fmt::Display for Status {
    /// The code, or `error` when the client got no status.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Code(code) => write!(f, "{code}"),
            Status::Error => f.write_str("error"),
        }
    }
}

/// The outcome classes of design.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The handler's response reached the client.
    Ok,
    /// A pod accepted it, then it was lost.
    Dropped,
    /// Routed to a pod (or a child) that no longer listened.
    Refused,
    /// A timer cut it.
    TimedOut,
    /// Turned away by design (429, 503 no endpoints).
    Rejected,
    /// Still running when the simulation stopped.
    Unfinished,
    /// An asynchronous invocation accepted with 202 that never completed with a 2xx and has
    /// no retry left (async runs only).
    Lost,
    /// An asynchronous invocation whose handler started more than once (async runs only).
    Duplicated,
}

impl Outcome {
    /// Every class, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::Dropped,
        Outcome::Refused,
        Outcome::TimedOut,
        Outcome::Rejected,
        Outcome::Unfinished,
    ];
    /// The classes only asynchronous runs have, listed after [`Outcome::ALL`] in their reports
    /// (a synchronous run's report keeps the six classes it always had).
    pub const ASYNC: [Outcome; 2] = [Outcome::Lost, Outcome::Duplicated];
    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Dropped => "dropped",
            Outcome::Refused => "refused",
            Outcome::TimedOut => "timed-out",
            Outcome::Rejected => "rejected",
            Outcome::Unfinished => "unfinished",
            Outcome::Lost => "lost",
            Outcome::Duplicated => "duplicated",
        }
    }
}

/// What ended a request, and therefore its status and outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// The handler answered.
    Handler,
    /// The watchdog's exec_timeout fired (504 in HTTP mode, an empty 200 in streaming mode).
    ExecTimeout,
    /// The watchdog's write_timeout had passed when the response was ready: the connection
    /// closed instead, and the provider saw EOF.
    WatchdogWriteTimeout,
    /// The child's own write_timeout had passed: the watchdog's upstream call saw EOF.
    ChildWriteTimeout,
    /// The gateway's upstream_timeout fired (502).
    UpstreamTimeout,
    /// The provider's proxy client timeout (its read_timeout) fired (500).
    ProviderTimeout,
    /// The provider's server write_timeout had passed: the gateway saw EOF (502).
    ProviderWriteTimeout,
    /// The gateway's write_timeout had passed: the client saw EOF, no status.
    GatewayWriteTimeout,
    /// The ingress's read timeout (ingress-nginx's `proxy-read-timeout`, an ALB's idle
    /// timeout) fired: the client got 504 while the call behind it ran on.
    IngressReadTimeout,
    /// The client's own timeout fired.
    ClientTimeout,
    /// max_inflight met: 429.
    MaxInflight,
    /// The provider had no endpoint: 503.
    NoEndpoints,
    /// Dialled a pod whose listener was closed or whose process was gone: 500.
    ConnectionRefused,
    /// A pooled keep-alive connection the server had just closed: 500 (no retry, or the retry
    /// was refused too).
    KeepAliveReset,
    /// The watchdog's call to the child was refused: 500.
    ChildRefused,
    /// The child died mid-request: 500.
    ChildExited,
    /// SIGKILL at the end of the grace period.
    Sigkill,
    /// The watchdog's drain deadline (healthcheck_interval + write_timeout) passed.
    DrainDeadline,
    /// The watchdog process exited under the request (`log.Fatalf` after the child died).
    WatchdogExit,
    /// The pod's node died.
    NodeLost,
    /// The pod's container crashed.
    PodCrash,
    /// The gateway process the call went through exited (CE has no SIGTERM handling): the
    /// client's connection closed with no status.
    GatewayExited,
    /// The connection to the gateway was refused: kube-proxy still routed to a gateway pod
    /// that was gone, the Service had no backend, or the gateway's listener was closed.
    GatewayRefused,
    /// The gateway's async handler queued the call and answered 202.
    Queued,
    /// The queue-worker process that made the call exited under it (its connection closed).
    QueueWorkerExited,
}

impl Cause {
    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Handler => "handler",
            Cause::ExecTimeout => "exec_timeout",
            Cause::WatchdogWriteTimeout => "watchdog write_timeout",
            Cause::ChildWriteTimeout => "child write_timeout",
            Cause::UpstreamTimeout => "gateway upstream_timeout",
            Cause::ProviderTimeout => "provider read_timeout",
            Cause::ProviderWriteTimeout => "provider write_timeout",
            Cause::GatewayWriteTimeout => "gateway write_timeout",
            Cause::IngressReadTimeout => "ingress proxy-read-timeout",
            Cause::ClientTimeout => "client timeout",
            Cause::MaxInflight => "max_inflight",
            Cause::NoEndpoints => "no endpoints",
            Cause::ConnectionRefused => "connection refused",
            Cause::KeepAliveReset => "keep-alive connection reset",
            Cause::ChildRefused => "child refused",
            Cause::ChildExited => "child exited",
            Cause::Sigkill => "SIGKILL",
            Cause::DrainDeadline => "drain deadline",
            Cause::WatchdogExit => "watchdog exited",
            Cause::NodeLost => "node lost",
            Cause::PodCrash => "pod crashed",
            Cause::GatewayExited => "gateway exited",
            Cause::GatewayRefused => "gateway refused",
            Cause::Queued => "queued",
            Cause::QueueWorkerExited => "queue-worker exited",
        }
    }

    /// Faults that lose a request a pod had accepted.
    pub fn is_loss(self) -> bool {
        matches!(
            self,
            Cause::ChildExited
                | Cause::Sigkill
                | Cause::DrainDeadline
                | Cause::WatchdogExit
                | Cause::NodeLost
                | Cause::PodCrash
                | Cause::GatewayExited
                | Cause::QueueWorkerExited
        )
    }
}

/// One request's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Id, in order of sending.
    pub id: RequestId,
    /// Which client worker sent it (open loop: 0).
    pub worker: u32,
    /// Sent by the client.
    pub start_ns: Nanos,
    /// Answered at the client (None: unfinished).
    pub end_ns: Option<Nanos>,
    /// What the client saw.
    pub status: Option<Status>,
    /// What ended it.
    pub cause: Option<Cause>,
    /// Outcome class.
    pub outcome: Outcome,
    /// The pod it was routed to, if any.
    pub pod: Option<PodId>,
    /// A pod accepted it and then lost it (decides `dropped` even when a timer ends it later).
    pub lost: Option<Cause>,
    /// It was refused by a pod before being accepted.
    pub refused: bool,
    /// Go's transport retried it once on a new connection.
    pub retried: bool,
    /// The function's handler started on it.
    pub started: bool,
}

/// A fact a component learns about a request on its way, for the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact {
    /// The provider routed it to this pod.
    Routed(PodId),
    /// A pod refused it (or its dial hangs) before accepting it.
    Refused,
    /// Go's transport retried it on a new connection.
    Retried,
    /// A pod accepted it and then lost it.
    Lost(Cause),
    /// The function's handler started on it (an execution of an asynchronous invocation).
    Started,
}

impl Record {
    /// Record `fact`.
    pub fn learn(&mut self, fact: Fact) {
        match fact {
            Fact::Routed(pod) => self.pod = Some(pod),
            Fact::Refused => self.refused = true,
            Fact::Retried => self.retried = true,
            Fact::Lost(cause) => self.lost = Some(cause),
            Fact::Started => self.started = true,
        }
    }

    /// A request just sent.
    pub fn new(id: RequestId, worker: u32, start_ns: Nanos) -> Record {
        Record {
            id,
            worker,
            start_ns,
            end_ns: None,
            status: None,
            cause: None,
            outcome: Outcome::Unfinished,
            pod: None,
            lost: None,
            refused: false,
            retried: false,
            started: false,
        }
    }

    /// Close the entry: the client saw `status` at `now`, and `cause` decided it.
    pub fn finish(&mut self, now: Nanos, status: Status, cause: Cause) {
        self.end_ns = Some(now);
        self.status = Some(status);
        self.cause = Some(cause);
        self.outcome = classify(cause, self.lost, self.refused);
    }
}

/// The outcome class of a request given what ended it. A loss or a refusal earlier on the path
/// wins over the timer that later reported it, because that is where the request was lost.
pub fn classify(cause: Cause, lost: Option<Cause>, refused: bool) -> Outcome {
    if lost.is_some() || cause.is_loss() {
        return Outcome::Dropped;
    }
    if refused {
        return Outcome::Refused;
    }
    match cause {
        Cause::Handler | Cause::Queued => Outcome::Ok,
        Cause::ConnectionRefused
        | Cause::KeepAliveReset
        | Cause::ChildRefused
        | Cause::GatewayRefused => Outcome::Refused,
        Cause::MaxInflight | Cause::NoEndpoints => Outcome::Rejected,
        Cause::ExecTimeout
        | Cause::WatchdogWriteTimeout
        | Cause::ChildWriteTimeout
        | Cause::UpstreamTimeout
        | Cause::ProviderTimeout
        | Cause::ProviderWriteTimeout
        | Cause::GatewayWriteTimeout
        | Cause::IngressReadTimeout
        | Cause::ClientTimeout => Outcome::TimedOut,
        Cause::ChildExited
        | Cause::Sigkill
        | Cause::DrainDeadline
        | Cause::WatchdogExit
        | Cause::NodeLost
        | Cause::PodCrash
        | Cause::GatewayExited
        | Cause::QueueWorkerExited => Outcome::Dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_reported_later_by_a_timer_is_still_a_drop() {
        assert_eq!(
            classify(Cause::ProviderTimeout, Some(Cause::NodeLost), false),
            Outcome::Dropped
        );
        assert_eq!(
            classify(Cause::UpstreamTimeout, None, true),
            Outcome::Refused
        );
        assert_eq!(
            classify(Cause::UpstreamTimeout, None, false),
            Outcome::TimedOut
        );
        assert_eq!(classify(Cause::Handler, None, false), Outcome::Ok);
    }

    #[test]
    fn a_request_refused_once_then_lost_where_it_was_retried_is_a_drop() {
        // Refused by one pod, retried on another that accepted it and was then killed: the
        // request was lost there, which outweighs the earlier refusal.
        for cause in [
            Cause::ChildExited,
            Cause::Sigkill,
            Cause::DrainDeadline,
            Cause::WatchdogExit,
            Cause::NodeLost,
        ] {
            assert!(cause.is_loss());
            assert_eq!(classify(cause, None, true), Outcome::Dropped, "{cause:?}");
        }
        assert!(!Cause::ConnectionRefused.is_loss());
        assert_eq!(
            classify(Cause::ConnectionRefused, None, true),
            Outcome::Refused
        );
    }

    #[test]
    fn reports_name_outcomes_and_statuses_as_the_report_contract_does() {
        let names: Vec<&str> = Outcome::ALL
            .iter()
            .chain(Outcome::ASYNC.iter())
            .map(|o| o.name())
            .collect();
        assert_eq!(
            names,
            [
                "ok",
                "dropped",
                "refused",
                "timed-out",
                "rejected",
                "unfinished",
                "lost",
                "duplicated"
            ]
        );
        assert_eq!(Status::Code(502).to_string(), "502");
        assert_eq!(Status::Error.to_string(), "error");
    }
}
