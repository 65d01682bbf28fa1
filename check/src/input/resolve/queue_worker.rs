//! The queue-worker's `ack_wait`, read with plain `time.ParseDuration`; its `replicas`; the Pro
//! queue-worker's values (`queueWorkerPro.*`) and the function's per-function retry
//! annotations (`com.openfaas.retry.attempts`, `codes`, `min_wait`, `max_wait`: openfaas/docs
//! `docs/openfaas-pro/retries.md`, "Configure retries per function"), recorded as written for
//! `analyze` to judge the Pro worker with.

use faasim_model::duration::{
    CHART_ACK_WAIT_NS, QUEUE_WORKER_DEFAULT_ACK_WAIT_NS, format_go, read_strict,
};

use super::{BARE_INT, INVALID_FALLBACK, Resolver, compact_seconds, is_integer, suggest_duration};
use crate::input::documents::{Platform, PlatformSource};

/// The Pro worker's per-function retry annotations, as the docs spell them.
pub(crate) const RETRY_ANNOTATIONS: [&str; 4] = [
    "com.openfaas.retry.attempts",
    "com.openfaas.retry.codes",
    "com.openfaas.retry.min_wait",
    "com.openfaas.retry.max_wait",
];
use crate::{Origin, Severity};

impl Resolver<'_> {
    /// `queueWorker.replicas`, `queueWorkerPro.*` and the retry annotations, each recorded
    /// only where a file writes it (their defaults are the model's).
    pub(super) fn pro_queue_worker(&mut self, platform: &Platform) {
        if let Some(setting) = &platform.queue_worker_replicas {
            let val = setting.val.clone();
            self.record(
                "queueWorker.replicas",
                val.raw.clone(),
                Origin::File(val.location),
            );
        }
        for (key, setting) in &platform.queue_worker_pro {
            let val = setting.val.clone();
            self.record(
                &format!("queueWorkerPro.{key}"),
                val.raw.clone(),
                Origin::File(val.location),
            );
        }
        for name in RETRY_ANNOTATIONS {
            if let Some(val) = self.raw.annotations.get(name).cloned() {
                self.record(
                    &format!("function.annotations.{name}"),
                    val.raw.clone(),
                    Origin::File(val.location),
                );
            }
        }
    }

    pub(super) fn ack_wait(&mut self, platform: &Platform) {
        const KEY: &str = "queueWorker.ackWait";
        let Some(setting) = &platform.ack_wait else {
            self.record(KEY, format_go(CHART_ACK_WAIT_NS), Origin::Default);
            return;
        };
        let val = setting.val.clone();
        match read_strict(&val.raw) {
            Ok(ns) => self.record(KEY, format_go(ns), Origin::File(val.location.clone())),
            Err(error) => {
                self.record(
                    KEY,
                    format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: val.raw.clone(),
                    },
                );
                let written = match setting.from {
                    PlatformSource::Values => "ackWait",
                    PlatformSource::Env => "ack_wait",
                };
                let (rule, message, fix) = if is_integer(&val.raw) && !val.raw.starts_with('-') {
                    let seconds = val.raw.trim_start_matches('+').parse::<u64>().unwrap_or(0);
                    (
                        BARE_INT,
                        format!(
                            "queue-worker: ack_wait \"{}\" has no unit; it is read with \
                             time.ParseDuration, which rejects it, so the worker logs an error and \
                             uses {}",
                            val.raw,
                            format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS)
                        ),
                        format!("write `{written}: {}`", compact_seconds(seconds)),
                    )
                } else {
                    (
                        INVALID_FALLBACK,
                        format!(
                            "queue-worker: {error}; it logs an error and uses {}",
                            format_go(QUEUE_WORKER_DEFAULT_ACK_WAIT_NS)
                        ),
                        match suggest_duration(&val.raw) {
                            Some(s) => format!("write `{written}: {s}`"),
                            None => format!("write `{written}` as a Go duration such as `5m`"),
                        },
                    )
                };
                self.finding(
                    rule,
                    Severity::Warning,
                    KEY,
                    Some(val.location.clone()),
                    message,
                    fix,
                );
            }
        }
    }
}
