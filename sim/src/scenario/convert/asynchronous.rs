//! The asynchronous path: `load.async`, `load.callback`, `load.callbackDuration` and the
//! `queueWorker` section (scenario-format.md, "Keys added for asynchronous invocations").
//! Without `load.async: true` the run is synchronous and the section is only checked.

use faasim_model::config::{
    AsyncConfig, Backoff, Edition, GatewayConfig, HELM_ACK_WAIT_NS, PRO_MAX_INFLIGHT, QueueEdition,
    QueueWorkerConfig, ce_ack_wait,
};
use faasim_model::limits;
use faasim_model::time::NS_PER_S;

use super::super::ScenarioError;
use super::super::raw::{RawLoad, RawQueueWorker};
use super::{Builder, field};

impl Builder<'_> {
    /// The asynchronous path, `None` unless `load.async` is true.
    pub(super) fn asynchronous(
        &mut self,
        load: &RawLoad,
        raw: Option<RawQueueWorker>,
        edition: Edition,
        gateway: &GatewayConfig,
    ) -> Result<Option<AsyncConfig>, ScenarioError> {
        let on = self.boolean("load.async", field(&load.asynchronous), false)?;
        if on {
            self.limited(
                "load.requests",
                field(&load.requests),
                faasim_model::config::LoadConfig::default().requests,
                1,
                limits::ASYNC_REQUESTS_MAX,
                "an asynchronous run keeps every invocation's executions to judge them at the end",
            )?;
        }
        let callback = self.boolean("load.callback", field(&load.callback), false)?;
        let callback_duration_ns =
            self.duration("load.callbackDuration", field(&load.callback_duration), 0)?;
        let callback_failures = self.limited_u32(
            "load.callbackFailures",
            field(&load.callback_failures),
            0,
            0,
            limits::CALLBACK_FAILURES_MAX,
            "each is a callback the receiver turns away, per call",
        )?;
        if callback_failures > 0 && !callback {
            self.warn(
                "load.callbackFailures",
                "ignored: load.callback is false, so no callback is posted",
            );
        }
        let section = raw.is_some();
        if !on {
            if section || callback {
                self.warn(
                    "load.async",
                    "is false: the load calls /function/NAME synchronously and the queueWorker \
                     section and load.callback are not used",
                );
            }
            return Ok(None);
        }
        let raw = raw.unwrap_or_default();
        let queue_worker = self.queue_worker(&raw, edition, gateway)?;
        Ok(Some(AsyncConfig {
            callback,
            callback_duration_ns,
            callback_failures,
            queue_worker,
        }))
    }

    fn queue_worker(
        &mut self,
        raw: &RawQueueWorker,
        edition: Edition,
        gateway: &GatewayConfig,
    ) -> Result<QueueWorkerConfig, ScenarioError> {
        let defaults = QueueWorkerConfig::default();
        let default_edition = match edition {
            Edition::Ce => QueueEdition::Ce,
            Edition::Pro => QueueEdition::Pro,
        };
        let queue_edition = self.choice(
            "queueWorker.edition",
            field(&raw.edition),
            default_edition,
            &[("ce", QueueEdition::Ce), ("pro", QueueEdition::Pro)],
            false,
        )?;
        let ack_field = field(&raw.ack_wait);
        let ack_wait_ns = match ack_field.raw {
            None => HELM_ACK_WAIT_NS,
            Some(_) if queue_edition == QueueEdition::Pro => {
                // The Pro worker's consumer: a plain duration, only how long a dead worker's
                // lease lasts (the lease is extended while a call runs).
                self.duration("queueWorker.ackWait", ack_field, HELM_ACK_WAIT_NS)?
            }
            Some(text) => {
                let (ns, warning) = ce_ack_wait(text);
                if let Some(warning) = warning {
                    self.warn("queueWorker.ackWait", warning);
                }
                if ns == 0 {
                    self.warn(
                        "queueWorker.ackWait",
                        format!(
                            "{text:?} is 0 whole seconds on the wire: NATS Streaming refuses it \
                             and the CE worker log.Panics, so no call is ever consumed"
                        ),
                    );
                }
                ns
            }
        };
        let pro = queue_edition == QueueEdition::Pro;
        let max_inflight = self.limited_u32(
            "queueWorker.maxInflight",
            field(&raw.max_inflight),
            if pro {
                PRO_MAX_INFLIGHT
            } else {
                defaults.max_inflight
            },
            1,
            limits::QUEUE_WORKER_MAX_INFLIGHT_MAX,
            "each is a call in flight the worker holds",
        )?;
        if max_inflight > 1 && !pro {
            self.warn(
                "queueWorker.maxInflight",
                format!(
                    "{max_inflight}: the CE queue-worker ignores it and runs one call at a time \
                     (nats-queue-worker 10ae9e9 hard-codes MaxInflight(1))"
                ),
            );
        }
        let codes = match field(&raw.retry_http_codes).raw {
            None => defaults.retry_http_codes.clone(),
            Some(text) => {
                let mut codes = Vec::new();
                for part in text.split(',') {
                    match part.trim().parse::<u16>() {
                        Ok(code) if (100..=599).contains(&code) => codes.push(code),
                        _ => {
                            return Err(self.error(
                                "queueWorker.retryHttpCodes",
                                field(&raw.retry_http_codes).loc,
                                format!("`{part}` is not an HTTP status code (100 to 599)"),
                            ));
                        }
                    }
                }
                codes
            }
        };
        let backoff = self.choice(
            "queueWorker.backoff",
            field(&raw.backoff),
            defaults.backoff,
            &[
                ("exponential", Backoff::Exponential),
                ("full", Backoff::Full),
                ("equal", Backoff::Equal),
            ],
            false,
        )?;
        for (key, set) in [
            (
                "queueWorker.ackBeforeCallback",
                field(&raw.ack_before_callback).raw.is_some(),
            ),
            (
                "queueWorker.callbackRetries",
                field(&raw.callback_retries).raw.is_some(),
            ),
        ] {
            if !pro && set {
                self.warn(
                    key,
                    "ignored: the CE queue-worker posts each callback once and acks when it \
                     returns (nats-queue-worker postResult)",
                );
            }
        }
        if !pro && field(&raw.backoff).raw.is_some() {
            self.warn(
                "queueWorker.backoff",
                "ignored: the CE queue-worker never retries a call",
            );
        }
        Ok(QueueWorkerConfig {
            edition: queue_edition,
            replicas: self.limited_u32(
                "queueWorker.replicas",
                field(&raw.replicas),
                defaults.replicas,
                1,
                limits::QUEUE_WORKER_REPLICAS_MAX,
                "each is a member of the queue group the queue scans at every redelivery",
            )?,
            ack_wait_ns,
            // CE: MaxInflight(1) whatever the value says.
            max_inflight: if pro { max_inflight } else { 1 },
            upstream_timeout_ns: self.duration(
                "queueWorker.upstreamTimeout",
                field(&raw.upstream_timeout),
                gateway.upstream_timeout_ns,
            )?,
            max_retry_attempts: self.int_u32(
                "queueWorker.maxRetryAttempts",
                field(&raw.max_retry_attempts),
                defaults.max_retry_attempts,
                0,
            )?,
            initial_retry_wait_ns: self.duration(
                "queueWorker.initialRetryWait",
                field(&raw.initial_retry_wait),
                defaults.initial_retry_wait_ns,
            )?,
            max_retry_wait_ns: self.duration(
                "queueWorker.maxRetryWait",
                field(&raw.max_retry_wait),
                defaults.max_retry_wait_ns,
            )?,
            retry_http_codes: codes,
            backoff,
            grace_ns: self
                .integer(
                    "queueWorker.terminationGracePeriodSeconds",
                    field(&raw.termination_grace_period_seconds),
                    defaults.grace_ns / NS_PER_S,
                    0,
                    9_223_372_036,
                )?
                .saturating_mul(NS_PER_S),
            startup_ns: self.duration(
                "queueWorker.startup",
                field(&raw.startup),
                defaults.startup_ns,
            )?,
            failed_heartbeat_ns: defaults.failed_heartbeat_ns,
            pro_ack_before_callback: self.boolean(
                "queueWorker.ackBeforeCallback",
                field(&raw.ack_before_callback),
                defaults.pro_ack_before_callback,
            )?,
            callback_retries: self.limited_u32(
                "queueWorker.callbackRetries",
                field(&raw.callback_retries),
                defaults.callback_retries,
                0,
                limits::CALLBACK_FAILURES_MAX,
                "each is a callback the worker posts again",
            )?,
        })
    }
}
