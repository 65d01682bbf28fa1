//! The raw scenario file, mirroring the YAML key for key (`deny_unknown_fields`). Every leaf is
//! text with its location; `None` is "absent" (or YAML null), which means "the default".

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

/// A scalar as written, with where it was written. Numbers and booleans arrive as their text.
pub(super) type Text = Option<Spanned<String>>;

/// A `map[string]string` as in stack.yml: unquoted numbers and booleans become their text
/// (`65` → `"65"`), YAML null becomes `""`, as Go's yaml does.
pub(super) type StringMap = BTreeMap<String, Option<Spanned<String>>>;

/// Deserializes a field that is present, even as YAML null, into `Some`, so that `rollout:`
/// (null) is told apart from no `rollout` key at all.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The whole file. An empty file, or `{}`, is a valid scenario of defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    /// Default: the file name without its extension.
    pub(super) name: Text,
    /// Default: none (the run's `--seed`, or the runner's own default).
    pub(super) seed: Text,
    /// Cap on simulated time: a Go duration or bare integer seconds. Default: no cap.
    pub(super) limit: Text,
    /// Default: every `function` default.
    pub(super) function: Option<RawFunction>,
    /// Default: every `kubernetes` default.
    pub(super) kubernetes: Option<RawKubernetes>,
    /// Default: every `gateway` default (the OpenFaaS Helm chart's values).
    pub(super) gateway: Option<RawGateway>,
    /// Added section: the provider's own timeouts, as the Helm chart's `faasnetes` values.
    /// Default: the gateway's, as the chart does.
    pub(super) faasnetes: Option<RawFaasnetes>,
    /// Default: every `load` default (hey's).
    pub(super) load: Option<RawLoad>,
    /// Added section: the network between components (every message takes `rtt / 2`).
    /// Default: `rtt: 500us`.
    pub(super) network: Option<RawNetwork>,
    /// Added section: an ingress controller or load balancer in front of the gateway; present
    /// (even as `ingress:` or `ingress: {}`) puts one there. Default: none, the client calls
    /// the gateway directly.
    #[serde(default, deserialize_with = "present")]
    pub(super) ingress: Option<Spanned<Option<RawIngress>>>,
    /// The queue-worker of the asynchronous path (read only with `load.async: true`).
    /// Default: every `queueWorker` default.
    #[serde(rename = "queueWorker")]
    pub(super) queue_worker: Option<RawQueueWorker>,
    /// Default: no events.
    pub(super) events: Option<Vec<Spanned<RawEvent>>>,
}

/// `queueWorker`: the Helm chart's `queueWorker` and `queueWorkerPro` values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueueWorker {
    /// `ce` or `pro`. Default: `kubernetes.edition`.
    pub(super) edition: Text,
    /// Worker pods, >= 1. Default: 1.
    pub(super) replicas: Text,
    /// The ack wait; CE reads it with Go's `time.ParseDuration`. Default: `60s`.
    #[serde(rename = "ackWait")]
    pub(super) ack_wait: Text,
    /// Calls one worker runs at once (CE: always 1). Default: CE 1, Pro 50.
    #[serde(rename = "maxInflight")]
    pub(super) max_inflight: Text,
    /// Pro: the worker's own call timeout. Default: `gateway.upstreamTimeout`.
    #[serde(rename = "upstreamTimeout")]
    pub(super) upstream_timeout: Text,
    /// Pro: attempts at most. Default: 100.
    #[serde(rename = "maxRetryAttempts")]
    pub(super) max_retry_attempts: Text,
    /// Pro: the first retry's wait. Default: `10s`.
    #[serde(rename = "initialRetryWait")]
    pub(super) initial_retry_wait: Text,
    /// Pro: the longest retry wait. Default: `120s`.
    #[serde(rename = "maxRetryWait")]
    pub(super) max_retry_wait: Text,
    /// Pro: the statuses retried, comma-separated. Default: `408,429,500,502,503,504`.
    #[serde(rename = "retryHttpCodes")]
    pub(super) retry_http_codes: Text,
    /// Added key, Pro: the worker acknowledges a call before its final callback (`true`) or
    /// after the callback returns (`false`). Not public; default `false`.
    #[serde(rename = "ackBeforeCallback")]
    pub(super) ack_before_callback: Text,
    /// Added key, Pro: how many times the worker posts a callback again after the receiver
    /// failed it. Not public; default 0.
    #[serde(rename = "callbackRetries")]
    pub(super) callback_retries: Text,
    /// Added key, Pro: `exponential`, `full` or `equal` (the chart's `queueWorkerPro.backoff`).
    /// Default: `exponential`.
    pub(super) backoff: Text,
    /// The worker pods' grace period, integer seconds. Default: 30.
    #[serde(rename = "terminationGracePeriodSeconds")]
    pub(super) termination_grace_period_seconds: Text,
    /// Added key: a new worker pod's creation to its subscription. Default: `2s`.
    pub(super) startup: Text,
}

/// `function`: as an OpenFaaS stack.yml function entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFunction {
    /// Function name, used in pod names; a DNS-1123 label. Default: `fn`.
    pub(super) name: Text,
    /// The watchdog's environment, read as of-watchdog reads it (bare integers are seconds,
    /// invalid values silently become the default and are reported as warnings). Default:
    /// empty, so every watchdog default (30 s timeouts, `healthcheck_interval` =
    /// `write_timeout`, no `max_inflight`).
    pub(super) environment: Option<StringMap>,
    /// Labels; `com.openfaas.scale.min` (default 1) and `com.openfaas.scale.max` (default 20)
    /// are read, others ignored. Default: none.
    pub(super) labels: Option<StringMap>,
    /// The faas-cli `lang` (`node20`, `python3-http`, `golang-middleware`, ...): implies the
    /// watchdog, the mode, the child's SIGTERM behaviour and timeouts, and the watchdog
    /// environment the template's Dockerfile sets (`model::template`). Explicit `watchdog`,
    /// `mode`, `upstream.onSigterm` and environment keys win. Default: none.
    pub(super) template: Text,
    /// `of-watchdog` (drain, 2021 on), `fixed-wait` (the pre-2021 sequence) or `classic` (the
    /// classic watchdog, fork per request). Default: the template's, else `of-watchdog`.
    pub(super) watchdog: Text,
    /// `http` (proxy to a child server) or `streaming` (fork per request). Default: the
    /// template's, `streaming` for the classic watchdog, else `http`.
    pub(super) mode: Text,
    /// The child server behind the watchdog (http mode only). Default: every upstream default.
    pub(super) upstream: Option<RawUpstream>,
    /// The handler. Default: `duration: 10ms`.
    pub(super) handler: Option<RawHandler>,
    /// Pod created → watchdog listening; a duration or a range `A..B`. Default: `2s`.
    pub(super) startup: Text,
    /// `warm` (initial replicas ready at time 0) or `cold` (created at time 0). Default: `warm`.
    pub(super) start: Text,
}

/// `function.upstream`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    /// `drain` (like the golang-middleware template), `exit` (dies at once) or `stop` (stops
    /// accepting at once, drains for `shutdownTimeout`, exits 0). Default: the template's,
    /// else `drain`.
    #[serde(rename = "onSigterm")]
    pub(super) on_sigterm: Text,
    /// Added key: with `onSigterm: stop`, how long in-flight calls may run before the child
    /// exits anyway. Default: the template's, else `30s`.
    #[serde(rename = "shutdownTimeout")]
    pub(super) shutdown_timeout: Text,
    /// Added key: watchdog listening → child listening; a duration or a range. Default: `0s`.
    pub(super) startup: Text,
}

/// `function.handler`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHandler {
    /// How long the handler works; a duration or a range `80s..100s` (uniform, from the seed).
    /// Default: `10ms`.
    pub(super) duration: Text,
    /// Added key, streaming mode: how long the process's children keep its stdout open after
    /// exec_timeout kills it (capped by the handler's end), a duration. Default: `0s`.
    #[serde(rename = "stdoutHeldAfterKill")]
    pub(super) stdout_held_after_kill: Text,
}

/// `kubernetes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKubernetes {
    /// `pro` (grace = write_timeout + 2s) or `ce` (Kubernetes default 30 s). Default: `ce`.
    pub(super) edition: Text,
    /// Integer seconds; when set it wins over `edition`. Default: from `edition`.
    #[serde(rename = "terminationGracePeriodSeconds")]
    pub(super) termination_grace_period_seconds: Text,
    /// Default: `{sleep: 0}` (no hook, as faas-netes sets none).
    #[serde(rename = "preStop")]
    pub(super) pre_stop: Option<RawPreStop>,
    /// Default: faas-netes CE's hard-coded probe `{initialDelaySeconds: 2, periodSeconds: 2,
    /// failureThreshold: 3, successThreshold: 1}`.
    #[serde(rename = "readinessProbe")]
    pub(super) readiness_probe: Option<RawProbe>,
    /// Default: `{maxSurge: 1, maxUnavailable: 0}`, as faas-netes sets.
    pub(super) strategy: Option<RawStrategy>,
    /// Pod deleted or ready → the provider's view changes; a duration or a range.
    /// Default: `0s..1s`.
    #[serde(rename = "endpointLag")]
    pub(super) endpoint_lag: Text,
    /// Added key: worker nodes the pods spread over, at least 1. Default: 3.
    pub(super) nodes: Text,
    /// Added key: delay before a crashed container is started again (a duration).
    /// Default: `0s`.
    #[serde(rename = "restartDelay")]
    pub(super) restart_delay: Text,
    /// The node lifecycle controller's `node-monitor-period`, a duration. Default: `5s`.
    #[serde(rename = "nodeMonitorPeriod")]
    pub(super) node_monitor_period: Text,
    /// Its `node-monitor-grace-period`, a duration. Default: `40s` (50 s from Kubernetes
    /// 1.32).
    #[serde(rename = "nodeMonitorGracePeriod")]
    pub(super) node_monitor_grace_period: Text,
    /// Seconds a pod tolerates the unreachable and not-ready NoExecute taints. Default: 300.
    #[serde(rename = "tolerationSeconds")]
    pub(super) toleration_seconds: Text,
}

/// `kubernetes.preStop`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPreStop {
    /// Seconds of the Kubernetes sleep action: an integer, or a Go duration of whole seconds
    /// (`5s`). Default: 0 (no hook).
    pub(super) sleep: Text,
}

/// `kubernetes.readinessProbe`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    /// Integer seconds, >= 0. Default: 2.
    #[serde(rename = "initialDelaySeconds")]
    pub(super) initial_delay_seconds: Text,
    /// Integer seconds, >= 1. Default: 2.
    #[serde(rename = "periodSeconds")]
    pub(super) period_seconds: Text,
    /// >= 1. Default: 3.
    #[serde(rename = "failureThreshold")]
    pub(super) failure_threshold: Text,
    /// >= 1. Default: 1.
    #[serde(rename = "successThreshold")]
    pub(super) success_threshold: Text,
    /// Added key: how far into the prober's ticker period the container starts, a duration
    /// or a range, modulo `periodSeconds`. Default: the whole period, a draw per pod.
    pub(super) phase: Text,
}

/// `kubernetes.strategy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStrategy {
    /// An integer or `"N%"` (rounded up). Default: 1.
    #[serde(rename = "maxSurge")]
    pub(super) max_surge: Text,
    /// An integer or `"N%"` (rounded down), at most 100%. Default: 0. Both 0 is an error, as
    /// Kubernetes rejects it.
    #[serde(rename = "maxUnavailable")]
    pub(super) max_unavailable: Text,
}

/// `gateway`: the OpenFaaS Helm chart's value names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGateway {
    /// Deadline of the call to the provider. Default: `1m`.
    #[serde(rename = "upstreamTimeout")]
    pub(super) upstream_timeout: Text,
    /// Gateway server read timeout. Default: `1m5s`.
    #[serde(rename = "readTimeout")]
    pub(super) read_timeout: Text,
    /// Gateway server write timeout. Default: `1m5s`.
    #[serde(rename = "writeTimeout")]
    pub(super) write_timeout: Text,
    /// Hold requests while scaling from zero. Default: `true`.
    #[serde(rename = "scaleFromZero")]
    pub(super) scale_from_zero: Text,
    /// Gateway pods behind their Service. Default: `1` (the chart).
    pub(super) replicas: Text,
    /// `exit` (CE: no SIGTERM handling, calls in flight cut) or `drain`. Default: `exit`.
    #[serde(rename = "onSigterm")]
    pub(super) on_sigterm: Text,
    /// The gateway Deployment's grace, whole seconds. Default: `30`.
    #[serde(rename = "terminationGracePeriodSeconds")]
    pub(super) termination_grace_period_seconds: Text,
    /// (added) From a gateway pod's creation until it answers /healthz. Default: `2s`.
    pub(super) startup: Text,
    /// (added) The gateway's readiness probe period. Default: `10s`.
    #[serde(rename = "readinessPeriod")]
    pub(super) readiness_period: Text,
}

/// `faasnetes` (added): the Helm chart's provider values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFaasnetes {
    /// Provider server read timeout and proxy client timeout. Default: `gateway.readTimeout`.
    #[serde(rename = "readTimeout")]
    pub(super) read_timeout: Text,
    /// Provider server write timeout. Default: `gateway.writeTimeout`.
    #[serde(rename = "writeTimeout")]
    pub(super) write_timeout: Text,
}

/// `load`: like hey.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoad {
    /// Workers, >= 1. Default: 50.
    pub(super) concurrency: Text,
    /// Requests in total, >= 1; in closed loop at least `concurrency`. Default: 200.
    pub(super) requests: Text,
    /// Client timeout, a duration; 0 means none. Default: `20s`.
    pub(super) timeout: Text,
    /// `GET` or `POST`, any case. Default: `GET`.
    pub(super) method: Text,
    /// Client keep-alive to the gateway. Default: `true`.
    #[serde(rename = "keepAlive")]
    pub(super) keep_alive: Text,
    /// 0: closed loop like hey; N: open loop, N requests per second. Default: 0.
    pub(super) rate: Text,
    /// hey's `-q`: requests per second per closed-loop worker, at most. Default: none (0).
    pub(super) qps: Text,
    /// Added key: when the load starts, a duration. Default: `0s`.
    pub(super) start: Text,
    /// `POST /async-function/NAME` instead of `/function/NAME`. Default: `false`.
    #[serde(rename = "async")]
    pub(super) asynchronous: Text,
    /// The calls carry an `X-Callback-Url`. Default: `false`.
    pub(super) callback: Text,
    /// How long the callback receiver takes to answer. Default: `0s`.
    #[serde(rename = "callbackDuration")]
    pub(super) callback_duration: Text,
    /// Added key: how many callbacks of each call the receiver fails (500, not recorded)
    /// before it takes one. Default: 0.
    #[serde(rename = "callbackFailures")]
    pub(super) callback_failures: Text,
}

/// `network` (added).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    /// Round-trip time (the keep-alive race window). Default: `500us`.
    pub(super) rtt: Text,
}

/// `ingress` (added).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIngress {
    /// The longest wait between two reads of the gateway's response (ingress-nginx's
    /// `proxy-read-timeout`, an ALB's idle timeout), a duration over 0; past it the client
    /// gets 504. Default: `60s`.
    #[serde(rename = "readTimeout")]
    pub(super) read_timeout: Text,
}

/// One item of `events`: `at` and exactly one action.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    /// When, a duration from the start of the run. Required.
    pub(super) at: Text,
    /// `kubectl scale --replicas=N`, N >= 0.
    #[serde(default, deserialize_with = "present")]
    pub(super) scale: Option<Spanned<Option<String>>>,
    /// A rolling update to a new revision: `rollout: {}`.
    #[serde(default, deserialize_with = "present")]
    pub(super) rollout: Option<Spanned<Option<RawRollout>>>,
    /// A node reclaimed: its pods are evicted, the node dies after `notice`.
    #[serde(default, rename = "drainNode", deserialize_with = "present")]
    pub(super) drain_node: Option<Spanned<Option<RawDrainNode>>>,
    /// A pod crashes (no SIGTERM).
    #[serde(default, rename = "killPod", deserialize_with = "present")]
    pub(super) kill_pod: Option<Spanned<Option<RawKillPod>>>,
    /// `kubectl annotate pod NAME controller.kubernetes.io/pod-deletion-cost=N`.
    #[serde(default, rename = "annotatePod", deserialize_with = "present")]
    pub(super) annotate_pod: Option<Spanned<Option<RawAnnotatePod>>>,
    /// The kubelet's graceful node shutdown.
    #[serde(default, rename = "shutdownNode", deserialize_with = "present")]
    pub(super) shutdown_node: Option<Spanned<Option<RawShutdownNode>>>,
    /// A node lost without an API call.
    #[serde(default, rename = "loseNode", deserialize_with = "present")]
    pub(super) lose_node: Option<Spanned<Option<RawLoseNode>>>,
    /// `faas-cli deploy` of the same function: `deploy: {}`.
    #[serde(default, deserialize_with = "present")]
    pub(super) deploy: Option<Spanned<Option<RawDeploy>>>,
    /// `helm upgrade`: a rolling update of the gateway pods, `rolloutGateway: {}`.
    #[serde(default, rename = "rolloutGateway", deserialize_with = "present")]
    pub(super) rollout_gateway: Option<Spanned<Option<RawRollout>>>,
    /// A rollout of the queue-worker's Deployment: `restartQueueWorker: {}`.
    #[serde(default, rename = "restartQueueWorker", deserialize_with = "present")]
    pub(super) restart_queue_worker: Option<Spanned<Option<RawRollout>>>,
}

/// `shutdownNode`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShutdownNode {
    /// Node index, 0-based, below `kubernetes.nodes`. Required.
    pub(super) node: Text,
    /// `shutdownGracePeriod`, a duration. Default: `30s` (GKE).
    #[serde(rename = "gracePeriod")]
    pub(super) grace_period: Text,
    /// `shutdownGracePeriodCriticalPods`, a duration, at most `gracePeriod`. Default: `5s`
    /// (GKE).
    #[serde(rename = "criticalPods")]
    pub(super) critical_pods: Text,
}

/// `loseNode`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoseNode {
    /// Node index, 0-based, below `kubernetes.nodes`. Required.
    pub(super) node: Text,
}

/// `deploy`: takes no keys (the request's labels are `function.labels`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeploy {}

/// `rollout`: takes no keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRollout {}

/// `drainNode`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDrainNode {
    /// Notice before the node dies, a duration. Default: `2m`.
    pub(super) notice: Text,
    /// Node index, 0-based, below `kubernetes.nodes`. Default: the node with the most
    /// function pods.
    pub(super) node: Text,
}

/// `annotatePod`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnnotatePod {
    /// Pod name (`FUNCTION-rREVISION-INDEX`). Required.
    pub(super) pod: Text,
    /// `controller.kubernetes.io/pod-deletion-cost`, an int32. Required.
    #[serde(rename = "deletionCost")]
    pub(super) deletion_cost: Text,
}

/// `killPod`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKillPod {
    /// Pod name. Default: one of the running pods, picked by the seed.
    pub(super) pod: Text,
}
