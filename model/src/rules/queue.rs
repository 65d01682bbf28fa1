//! The asynchronous path's rules: for the CE queue-worker (openfaas/nats-queue-worker@ed54141
//! on NATS Streaming), the ack wait against the time a worker holds a call, and its restart;
//! for the Pro queue-worker (`queue_worker_pro`), its own call timeout against the call.

use crate::config::{Config, QueueEdition};
use crate::properties::Property;
use crate::schedule::{Action, Event};
use crate::time::NS_PER_S;

use super::{Broken, Derived, Rule, go};

/// Network hops between NATS sending a call and receiving its ack, besides the call's own: the
/// delivery, the worker's answer from the gateway, the callback there and back, the ack.
const HOLD_HOPS: u64 = 5;

/// `ce-ack-wait-covers-call`: NATS Streaming never redelivers a call the CE worker is running.
pub static CE_ACK_WAIT_COVERS_CALL: Rule = Rule {
    id: "ce-ack-wait-covers-call",
    inequality: "CE: 1s <= ack_wait and hold_max + min(call_max, GWu) + callbackDuration + 5 hops < ack_wait (ack_wait as the worker reads it: time.ParseDuration, whole seconds; hold_max: the gateway's scale-from-zero hold)",
    explanation: "The CE queue-worker acknowledges a call only when the call and its callback have returned, whatever their status; NATS Streaming starts the ack timer when it sends the call and redelivers it every ack_wait while it is unacknowledged. A call held longer than ack_wait runs again: on one worker after the first run, once per ack_wait it waited (and more for calls queued behind it, whose timers start while the worker runs the copies); on several, at once on the idle workers, until the first run's ack, which counts for the group. The gateway's upstream_timeout caps the call (the worker's HTTP client has none), so the Helm defaults (ack_wait 60s, upstream_timeout 1m) break it for any call that reaches the cap. A bare integer such as \"600\" has no unit and leaves the worker at 30s.",
    fix: "set queueWorker.ackWait, with a unit, above the longest call plus its callback (the gateway's upstream_timeout bounds the call)",
    mechanisms: &[],
    property: Property::NoDuplicateInvocation,
    example: "async-ce-ack-wait-below-call.yaml",
    check: ce_ack_wait_covers_call,
};
fn ce_ack_wait_covers_call(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let path = config.asynchronous.as_ref()?;
    let worker = &path.queue_worker;
    if worker.edition != QueueEdition::Ce {
        return None;
    }
    if worker.ack_wait_ns < NS_PER_S {
        return Some(Broken {
            detail: "ack_wait is below one second, 0 on the wire: NATS Streaming refuses the \
                     subscription and the worker never consumes"
                .to_string(),
            fix: "queueWorker.ackWait of at least 1s".to_string(),
        });
    }
    let call_ns = d
        .call_max_ns
        .min(config.gateway.upstream_timeout_ns + 2 * d.hop_ns);
    let hold_ns = d.hold_max_ns + call_ns + path.callback_duration_ns + HOLD_HOPS * d.hop_ns;
    if hold_ns < worker.ack_wait_ns {
        return None;
    }
    Some(Broken {
        detail: format!(
            "a call is held up to {} before its ack, ack_wait is {}",
            go(hold_ns),
            go(worker.ack_wait_ns)
        ),
        fix: format!("queueWorker.ackWait: {}s", hold_ns / NS_PER_S + 1),
    })
}

/// `ce-queue-worker-not-restarted`: no CE queue-worker gets SIGTERM while it may run a call.
pub static CE_QUEUE_WORKER_NOT_RESTARTED: Rule = Rule {
    id: "ce-queue-worker-not-restarted",
    inequality: "CE: no restartQueueWorker (nor any SIGTERM of a worker) while calls are queued or running",
    explanation: "The CE queue-worker handles only SIGINT: SIGTERM, which Kubernetes sends at every rollout, scale-down or eviction of its pod, ends it at once without an acknowledgement and without closing its connection. The call it was running is cut (no callback) and NATS Streaming redelivers it after ack_wait to another worker, which runs it again: the function's side effects happen twice.",
    fix: "restart the queue-worker only when the queue is empty and no call runs, or make the function idempotent",
    mechanisms: &[],
    property: Property::NoDuplicateInvocation,
    example: "async-ce-restart-queue-worker.yaml",
    check: ce_queue_worker_not_restarted,
};
fn ce_queue_worker_not_restarted(_: &Derived, config: &Config, events: &[Event]) -> Option<Broken> {
    let path = config.asynchronous.as_ref()?;
    if path.queue_worker.edition != QueueEdition::Ce {
        return None;
    }
    let at_ns = events
        .iter()
        .find(|e| e.action == Action::RestartQueueWorker)?
        .at_ns;
    Some(Broken {
        detail: format!(
            "the queue-worker is restarted at {}: SIGTERM ends it without an ack",
            go(at_ns)
        ),
        fix: "no restartQueueWorker while calls are in flight".to_string(),
    })
}

/// Network hops of a Pro attempt besides the call's own: the worker's dial (it opens a new
/// connection for each call, a round trip).
const PRO_DIAL_HOPS: u64 = 2;

/// `pro-upstream-covers-call`: the Pro queue-worker's own timeout never cuts a call.
pub static PRO_UPSTREAM_COVERS_CALL: Rule = Rule {
    id: "pro-upstream-covers-call",
    inequality: "Pro: hold_max + min(call_max, GWu + 2 hops) + 2 hops < queueWorker.upstreamTimeout (the worker's own timeout on each attempt; hold_max: the gateway's scale-from-zero hold)",
    explanation: "The Pro queue-worker times each attempt with its own upstreamTimeout (the chart sets it to the gateway's upstream timeout; a dedicated queue-worker needs its own). A call that outlives it is cut while the handler runs on, and the cut counts as a failure with no status, which the worker always retries: each attempt is cut again, so the handler starts up to maxRetryAttempts times and the call ends lost with a callback of the last failure. The lease extension keeps JetStream from redelivering the call; the worker's own timeout does it instead.",
    fix: "set queueWorker.upstreamTimeout (queueWorkerPro's upstream_timeout) above the longest call",
    mechanisms: &[],
    property: Property::NoDuplicateInvocation,
    example: "async-pro-upstream-below-call.yaml",
    check: pro_upstream_covers_call,
};
fn pro_upstream_covers_call(d: &Derived, config: &Config, _: &[Event]) -> Option<Broken> {
    let path = config.asynchronous.as_ref()?;
    let worker = &path.queue_worker;
    if worker.edition != QueueEdition::Pro {
        return None;
    }
    let call_ns = d
        .call_max_ns
        .min(config.gateway.upstream_timeout_ns + 2 * d.hop_ns);
    let attempt_ns = d.hold_max_ns + call_ns + PRO_DIAL_HOPS * d.hop_ns;
    if attempt_ns < worker.upstream_timeout_ns {
        return None;
    }
    Some(Broken {
        detail: format!(
            "an attempt takes up to {}, the queue-worker's upstreamTimeout is {}",
            go(attempt_ns),
            go(worker.upstream_timeout_ns)
        ),
        fix: format!(
            "queueWorker.upstreamTimeout: {}s",
            attempt_ns / NS_PER_S + 1
        ),
    })
}

/// `pro-queue-worker-grace-covers-call`: a Pro queue-worker told to stop finishes its calls.
pub static PRO_QUEUE_WORKER_GRACE_COVERS_CALL: Rule = Rule {
    id: "pro-queue-worker-grace-covers-call",
    inequality: "Pro, when the queue-worker is restarted (restartQueueWorker): hold_max + min(call_max, GWu + 2 hops, upstreamTimeout) + callbackDuration + 4 hops < queueWorker.terminationGracePeriodSeconds",
    explanation: "On SIGTERM the Pro queue-worker stops fetching and lets the calls it holds finish, each with its callback, within its pod's grace period; neither chart sets one, so it is Kubernetes' 30 s. A call that needs longer is cut by SIGKILL without an ack; its lease, no longer extended, runs out ack_wait later and another worker runs it again: the function's side effects happen twice, and the call ends late.",
    fix: "set the queue-worker's terminationGracePeriodSeconds above the longest call plus its callback",
    mechanisms: &[],
    property: Property::NoDuplicateInvocation,
    example: "async-pro-restart-sigkill-redelivers.yaml",
    check: pro_queue_worker_grace_covers_call,
};
fn pro_queue_worker_grace_covers_call(
    d: &Derived,
    config: &Config,
    events: &[Event],
) -> Option<Broken> {
    let path = config.asynchronous.as_ref()?;
    let worker = &path.queue_worker;
    if worker.edition != QueueEdition::Pro {
        return None;
    }
    let at_ns = events
        .iter()
        .find(|e| e.action == Action::RestartQueueWorker)?
        .at_ns;
    let call_ns = d
        .call_max_ns
        .min(config.gateway.upstream_timeout_ns + 2 * d.hop_ns)
        .min(worker.upstream_timeout_ns);
    let hold_ns = d.hold_max_ns + call_ns + path.callback_duration_ns + 4 * d.hop_ns;
    if hold_ns < worker.grace_ns {
        return None;
    }
    Some(Broken {
        detail: format!(
            "the queue-worker is restarted at {}: a call is held up to {}, its grace is {}",
            go(at_ns),
            go(hold_ns),
            go(worker.grace_ns)
        ),
        fix: format!(
            "queueWorker.terminationGracePeriodSeconds: {}",
            hold_ns / NS_PER_S + 1
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AsyncConfig, QueueWorkerConfig};
    use crate::rules::derive;

    fn config(ack_wait_s: u64, handler_s: u64, callback_s: u64) -> Config {
        let mut config = Config::default();
        config.function.handler_ns = crate::config::Span::fixed(handler_s * NS_PER_S);
        config.function.watchdog.exec_timeout_ns = 10 * 60 * NS_PER_S;
        config.asynchronous = Some(AsyncConfig {
            callback: true,
            callback_duration_ns: callback_s * NS_PER_S,
            callback_failures: 0,
            queue_worker: QueueWorkerConfig {
                ack_wait_ns: ack_wait_s * NS_PER_S,
                ..QueueWorkerConfig::default()
            },
        });
        config
    }

    fn broken(config: &Config, events: &[Event]) -> bool {
        CE_ACK_WAIT_COVERS_CALL
            .breach(&derive(config, events), config, events)
            .is_some()
    }

    #[test]
    fn the_ack_wait_must_cover_the_call_capped_by_the_gateway_plus_the_callback() {
        assert!(broken(&config(30, 50, 0), &[]));
        assert!(!broken(&config(300, 50, 0), &[]));
        // A 90 s call is cut by the gateway's 1m upstream_timeout, which 60 s does not cover.
        assert!(broken(&config(60, 90, 0), &[]));
        assert!(!broken(&config(61, 90, 0), &[]));
        // The receiver's 40 s count too.
        assert!(broken(&config(60, 30, 40), &[]));
        assert!(broken(&config(0, 1, 0), &[]));
        // A synchronous run has no queue.
        let mut sync = config(30, 50, 0);
        sync.asynchronous = None;
        assert!(!broken(&sync, &[]));
    }

    #[test]
    fn the_pro_workers_timeout_must_cover_the_call_and_only_pro_is_judged() {
        let pro = |upstream_s: u64| {
            let mut c = config(60, 50, 0);
            let worker = &mut c.asynchronous.as_mut().expect("async").queue_worker;
            worker.edition = QueueEdition::Pro;
            worker.upstream_timeout_ns = upstream_s * NS_PER_S;
            c
        };
        let breaks = |c: &Config| {
            PRO_UPSTREAM_COVERS_CALL
                .breach(&derive(c, &[]), c, &[])
                .is_some()
        };
        assert!(breaks(&pro(50)));
        assert!(!breaks(&pro(51)));
        assert!(!breaks(&config(60, 50, 0)), "CE has no timeout of its own");
        assert!(!broken(&pro(51), &[]), "the CE ack rule skips Pro");
    }

    #[test]
    fn a_pro_restart_breaks_the_grace_rule_only_when_the_grace_is_below_a_call() {
        let events = [Event {
            at_ns: 10 * NS_PER_S,
            action: Action::RestartQueueWorker,
        }];
        let pro = |grace_s: u64| {
            let mut c = config(60, 50, 0);
            let worker = &mut c.asynchronous.as_mut().expect("async").queue_worker;
            worker.edition = QueueEdition::Pro;
            worker.upstream_timeout_ns = 300 * NS_PER_S;
            worker.grace_ns = grace_s * NS_PER_S;
            c
        };
        let breaks = |c: &Config, events: &[Event]| {
            PRO_QUEUE_WORKER_GRACE_COVERS_CALL
                .breach(&derive(c, events), c, events)
                .is_some()
        };
        assert!(breaks(&pro(30), &events));
        assert!(!breaks(&pro(51), &events));
        assert!(!breaks(&pro(30), &[]), "no restart, no SIGTERM");
        assert!(
            !breaks(&config(60, 50, 0), &events),
            "the CE worker has its own rule"
        );
    }

    #[test]
    fn a_restart_breaks_the_restart_rule_only_on_an_async_run() {
        let events = [Event {
            at_ns: 10 * NS_PER_S,
            action: Action::RestartQueueWorker,
        }];
        let on = config(300, 50, 0);
        let d = derive(&on, &events);
        assert!(
            CE_QUEUE_WORKER_NOT_RESTARTED
                .breach(&d, &on, &events)
                .is_some()
        );
        assert!(CE_QUEUE_WORKER_NOT_RESTARTED.breach(&d, &on, &[]).is_none());
    }
}
