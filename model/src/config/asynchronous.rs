//! The asynchronous path's settings: the async client's callback receiver, the queue (NATS
//! Streaming in CE) and the queue-worker. Present only when the load is asynchronous
//! (`load.async: true`); a synchronous run has none and runs exactly as before.
//!
//! Sources: openfaas/nats-queue-worker@ed54141 (`readconfig.go`: `ack_wait` read with
//! `time.ParseDuration`, a parse error logged and the code default 30 s kept; `max_inflight`
//! ignored since commit 10ae9e9, the subscription's `MaxInflight(1)` hard-coded in `types.go`),
//! nats-io/stan.go@270c0a5 `sub.go` (`int32(AckWait / time.Second)` on the wire: truncated to
//! whole seconds), openfaas/faas-netes@662ce9c `chart/openfaas/values.yaml`
//! (`queueWorker.ackWait: "60s"`, the Pro worker's `maxRetryAttempts`, `initialRetryWait`,
//! `maxRetryWait`, `httpRetryCodes`).

use crate::duration::{CHART_ACK_WAIT_NS, QUEUE_WORKER_DEFAULT_ACK_WAIT_NS, parse_go};
use crate::time::{NS_PER_S, Nanos};

/// Which queue-worker consumes the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QueueEdition {
    /// The NATS Streaming worker of OpenFaaS CE (openfaas/nats-queue-worker).
    #[default]
    Ce,
    /// The JetStream worker of OpenFaaS Pro (closed source: its docs and chart).
    Pro,
}

impl QueueEdition {
    /// Name in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            QueueEdition::Ce => "ce",
            QueueEdition::Pro => "pro",
        }
    }
}

/// The Pro worker's backoff algorithm: `queueWorkerPro.backoff`, passed as the env `backoff`
/// (openfaas/faas-netes@662ce9ce `chart/openfaas/README.md` and
/// `templates/queueworker-dep.yaml`: one of `exponential`, `full`, `equal`; default
/// `exponential`). The docs name Marc Brooker's "Exponential Backoff And Jitter" as the
/// inspiration (openfaas/docs `docs/openfaas-pro/retries.md`); the formula itself is not
/// public, so faasim takes that article's: full jitter draws the wait from 0 to the
/// exponential wait, equal jitter from half of it to all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backoff {
    /// `min(max_wait, initial_wait · 2^(n−1))`, no jitter.
    #[default]
    Exponential,
    /// Uniform in `0..=` the exponential wait.
    Full,
    /// Half the exponential wait plus a uniform draw up to the other half.
    Equal,
}

impl Backoff {
    /// Name in scenarios, the chart and reports.
    pub fn name(self) -> &'static str {
        match self {
            Backoff::Exponential => "exponential",
            Backoff::Full => "full",
            Backoff::Equal => "equal",
        }
    }
}

/// The code default of the CE worker's `ack_wait` (nats-queue-worker `readconfig.go`), kept
/// when the value does not parse: `duration::QUEUE_WORKER_DEFAULT_ACK_WAIT_NS`, which
/// `faasim check` reads too.
pub const CE_ACK_WAIT_DEFAULT_NS: Nanos = QUEUE_WORKER_DEFAULT_ACK_WAIT_NS as Nanos;

/// The Pro worker's `maxInflight` in the main chart (`queueWorkerPro.maxInflight`).
pub const PRO_MAX_INFLIGHT: u32 = 50;

/// The Helm chart's `queueWorker.ackWait`: `duration::CHART_ACK_WAIT_NS`.
pub const HELM_ACK_WAIT_NS: Nanos = CHART_ACK_WAIT_NS as Nanos;

/// The CE worker's `ack_wait` as its code reads the text: `time.ParseDuration`, a parse error
/// (a bare `"60"` has no unit) or a negative value keeps the code default 30 s with the
/// worker's log line as a warning; then truncated to whole seconds, as stan.go sends it.
/// Returns the effective ack wait and the warning, if any. An effective 0 (below one second)
/// is what the streaming server refuses: the worker `log.Panic`s and never consumes.
pub fn ce_ack_wait(text: &str) -> (Nanos, Option<String>) {
    let (ns, warning) = match parse_go(text) {
        Ok(ns) if ns >= 0 => (ns as u64, None),
        Ok(_) => (
            CE_ACK_WAIT_DEFAULT_NS,
            Some(format!(
                "{text:?} is negative; faasim keeps the worker's default 30s"
            )),
        ),
        Err(error) => (
            CE_ACK_WAIT_DEFAULT_NS,
            Some(format!(
                "the CE queue-worker reads it with time.ParseDuration: {error}; it logs the \
                 error and keeps its default 30s"
            )),
        ),
    };
    (ns / NS_PER_S * NS_PER_S, warning)
}

/// The queue-worker's settings, as the scenario's `queueWorker` section gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueWorkerConfig {
    /// CE (NATS Streaming) or Pro (JetStream).
    pub edition: QueueEdition,
    /// Worker pods: members of the queue group.
    pub replicas: u32,
    /// The effective ack wait, whole seconds (CE: after its parse and truncation). 0: the CE
    /// worker crash-loops (the server refuses an ack wait of 0) and never consumes.
    pub ack_wait_ns: Nanos,
    /// Calls one worker runs at once (CE: always 1, whatever the value says).
    pub max_inflight: u32,
    /// Pro: the worker's own timeout on a call (CE's HTTP client has none).
    pub upstream_timeout_ns: Nanos,
    /// Pro: attempts at most.
    pub max_retry_attempts: u32,
    /// Pro: the first retry's wait.
    pub initial_retry_wait_ns: Nanos,
    /// Pro: the longest retry wait.
    pub max_retry_wait_ns: Nanos,
    /// Pro: the statuses retried.
    pub retry_http_codes: Vec<u16>,
    /// Pro: how the wait before a retry is drawn.
    pub backoff: Backoff,
    /// The worker pods' `terminationGracePeriodSeconds`, in nanoseconds.
    pub grace_ns: Nanos,
    /// [inferred] How long a new worker pod takes from its creation to its subscription (the
    /// chart sets no probe: it counts as ready when it runs).
    pub startup_ns: Nanos,
    /// [inferred from nats-streaming-server's defaults: a 30 s heartbeat interval] How long
    /// after a worker died without closing its connection the server stops choosing it for
    /// redeliveries (its first failed heartbeat: `hasFailedHB`).
    pub failed_heartbeat_ns: Nanos,
    /// Pro, [unknown: not public] the worker acknowledges a call before posting its final
    /// callback (true) or after the callback returns (false, the default, as CE does). It
    /// shows only when the worker dies during the callback: acked first, the call is not run
    /// again.
    pub pro_ack_before_callback: bool,
    /// Pro, [unknown: not public] how many times the worker posts a callback again, at once,
    /// after the receiver failed it (a non-2xx or no answer). CE posts once and logs the error
    /// (nats-queue-worker@ed54141 `postResult`).
    pub callback_retries: u32,
}

impl Default for QueueWorkerConfig {
    /// The CE worker with the chart's values.
    fn default() -> Self {
        QueueWorkerConfig {
            edition: QueueEdition::Ce,
            replicas: 1,
            ack_wait_ns: HELM_ACK_WAIT_NS,
            max_inflight: 1,
            upstream_timeout_ns: 60 * NS_PER_S,
            max_retry_attempts: 100,
            initial_retry_wait_ns: 10 * NS_PER_S,
            max_retry_wait_ns: 120 * NS_PER_S,
            retry_http_codes: vec![408, 429, 500, 502, 503, 504],
            backoff: Backoff::Exponential,
            grace_ns: 30 * NS_PER_S,
            startup_ns: 2 * NS_PER_S,
            failed_heartbeat_ns: 30 * NS_PER_S,
            pro_ack_before_callback: false,
            callback_retries: 0,
        }
    }
}

/// The asynchronous path of a run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// The client sets `X-Callback-Url`: the worker posts every result to a receiver.
    pub callback: bool,
    /// How long the receiver takes to answer a callback.
    pub callback_duration_ns: Nanos,
    /// How many callbacks of each call the receiver fails (500, not recorded) before it takes
    /// one.
    pub callback_failures: u32,
    /// The queue-worker.
    pub queue_worker: QueueWorkerConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_integer_falls_back_to_thirty_seconds_with_a_warning() {
        let (ns, warning) = ce_ack_wait("60");
        assert_eq!(ns, 30 * NS_PER_S);
        assert!(warning.is_some_and(|w| w.contains("missing unit")));
    }

    #[test]
    fn a_duration_is_truncated_to_whole_seconds() {
        assert_eq!(ce_ack_wait("90s"), (90 * NS_PER_S, None));
        assert_eq!(ce_ack_wait("1m30.9s"), (90 * NS_PER_S, None));
        assert_eq!(ce_ack_wait("500ms"), (0, None));
        assert_eq!(ce_ack_wait("5m"), (300 * NS_PER_S, None));
    }
}
