//! The queue-workers the inputs configure, as the asynchronous path's configuration to judge a
//! function with: the CE worker (`queueWorker.ackWait`) and the Pro worker (`queueWorkerPro.*`,
//! `queueWorker.replicas`, the function's `com.openfaas.retry.*` annotations).

use faasim_model::config::{
    AsyncConfig, Backoff, Config, Edition, PRO_MAX_INFLIGHT, QueueEdition, QueueWorkerConfig,
    ce_ack_wait,
};
use faasim_model::limits;

use crate::{FunctionInput, Origin};

/// The CE queue-worker the inputs configure: `queueWorker.ackWait` written in a values file or
/// `ack_wait` in a rendered queue-worker Deployment (the chart's default alone configures
/// nothing: a function checked without its platform's files is not judged on the async path).
/// One worker, no callback receiver: the files say neither; the CE worker runs one call at a
/// time whatever `maxInflight` says. Pro's worker (`queueWorkerPro`) is not judged.
pub(super) fn queue_worker(input: &FunctionInput, config: &Config) -> Option<AsyncConfig> {
    if config.kubernetes.edition != Edition::Ce {
        return None;
    }
    let written = input.origin("queueWorker.ackWait")?;
    if !matches!(written.origin, Origin::File(_) | Origin::Fallback { .. }) {
        return None;
    }
    // The effective value (the fall-back when it did not parse), truncated to whole seconds
    // as the worker sends it.
    let (ack_wait_ns, _) = ce_ack_wait(&written.value);
    Some(AsyncConfig {
        callback: false,
        callback_duration_ns: 0,
        callback_failures: 0,
        queue_worker: QueueWorkerConfig {
            ack_wait_ns,
            ..QueueWorkerConfig::default()
        },
    })
}

/// Attempts at most in the witness of `pro-upstream-covers-call`.
pub(super) const PRO_WITNESS_ATTEMPTS: u32 = 3;

/// The keys that show the files configure the Pro queue-worker.
const PRO_QUEUE_WORKER_KEYS: [&str; 11] = [
    "queueWorker.replicas",
    "queueWorkerPro.maxInflight",
    "queueWorkerPro.maxRetryAttempts",
    "queueWorkerPro.initialRetryWait",
    "queueWorkerPro.maxRetryWait",
    "queueWorkerPro.httpRetryCodes",
    "queueWorkerPro.backoff",
    "function.annotations.com.openfaas.retry.attempts",
    "function.annotations.com.openfaas.retry.codes",
    "function.annotations.com.openfaas.retry.min_wait",
    "function.annotations.com.openfaas.retry.max_wait",
];

/// The Pro queue-worker the inputs configure, on Pro, when a file writes one of its values
/// (`queueWorkerPro.*`, `queueWorker.replicas`) or one of the function's retry annotations,
/// which win over the chart's values for that function (openfaas/docs
/// `docs/openfaas-pro/retries.md`). Its own timeout is the gateway's `upstreamTimeout`, as the
/// chart passes it. A value that does not read keeps the chart's default (the docs: an
/// invalid annotation falls back to the default). No callback receiver: the files say none.
pub(super) fn pro_queue_worker(input: &FunctionInput, config: &Config) -> Option<AsyncConfig> {
    if config.kubernetes.edition != Edition::Pro {
        return None;
    }
    let written = |key: &str| {
        input
            .origin(key)
            .filter(|p| matches!(p.origin, Origin::File(_)))
            .map(|p| p.value.trim().to_string())
    };
    if !PRO_QUEUE_WORKER_KEYS.iter().any(|k| written(k).is_some()) {
        return None;
    }
    let count = |key: &str| written(key).and_then(|v| v.parse::<u32>().ok());
    let duration = |key: &str| {
        written(key)
            .and_then(|v| faasim_model::duration::parse_go(&v).ok())
            .and_then(|ns| u64::try_from(ns).ok())
            .filter(|ns| *ns > 0)
    };
    let codes = |key: &str| {
        let text = written(key)?;
        text.split(',')
            .map(|c| {
                c.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|c| (100..=599).contains(c))
            })
            .collect::<Option<Vec<u16>>>()
    };
    let annotation = |name: &str| format!("function.annotations.com.openfaas.retry.{name}");
    let defaults = QueueWorkerConfig::default();
    let worker = QueueWorkerConfig {
        edition: QueueEdition::Pro,
        replicas: count("queueWorker.replicas")
            .filter(|r| *r >= 1)
            .unwrap_or(defaults.replicas)
            .min(limits::QUEUE_WORKER_REPLICAS_MAX),
        max_inflight: count("queueWorkerPro.maxInflight")
            .filter(|m| *m >= 1)
            .unwrap_or(PRO_MAX_INFLIGHT)
            .min(limits::QUEUE_WORKER_MAX_INFLIGHT_MAX),
        upstream_timeout_ns: config.gateway.upstream_timeout_ns,
        max_retry_attempts: count(&annotation("attempts"))
            .or_else(|| count("queueWorkerPro.maxRetryAttempts"))
            .unwrap_or(defaults.max_retry_attempts),
        initial_retry_wait_ns: duration(&annotation("min_wait"))
            .or_else(|| duration("queueWorkerPro.initialRetryWait"))
            .unwrap_or(defaults.initial_retry_wait_ns),
        max_retry_wait_ns: duration(&annotation("max_wait"))
            .or_else(|| duration("queueWorkerPro.maxRetryWait"))
            .unwrap_or(defaults.max_retry_wait_ns),
        retry_http_codes: codes(&annotation("codes"))
            .or_else(|| codes("queueWorkerPro.httpRetryCodes"))
            .unwrap_or(defaults.retry_http_codes.clone()),
        // The chart's README: one of exponential, full or equal; anything else is the default.
        backoff: match written("queueWorkerPro.backoff").as_deref() {
            Some("full") => Backoff::Full,
            Some("equal") => Backoff::Equal,
            _ => defaults.backoff,
        },
        ..defaults
    };
    Some(AsyncConfig {
        callback: false,
        callback_duration_ns: 0,
        callback_failures: 0,
        queue_worker: worker,
    })
}
