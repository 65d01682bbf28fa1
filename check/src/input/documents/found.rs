//! What reading a document finds, before interpretation: each function as written (its
//! environment, labels, annotations and, for a Deployment, the fields only a Deployment has) and
//! the platform values, every value kept as text with its location.

use std::collections::BTreeMap;

use crate::Location;

/// A scalar as written and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Val {
    /// The text (YAML null is `""`).
    pub raw: String,
    /// Where the value is written (for null, where its key is).
    pub location: Location,
    /// Characters it spans, for carets.
    pub width: usize,
}

/// Which kind of definition a function comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FunctionKind {
    /// An entry of `functions:` in a stack file.
    Stack,
    /// An `openfaas.com` `Function` resource.
    FunctionResource,
    /// A Kubernetes Deployment running a watchdog.
    Deployment,
}

/// A `${VAR}` of a stack file that was not set, inside a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnsetVar {
    /// The variable.
    pub name: String,
    /// The expression as written.
    pub expression: String,
    /// Where it is written.
    pub location: Location,
    /// The key it is the value of, relative to the function (`environment.write_timeout`).
    pub path: String,
}

/// Readiness probe fields as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProbeVals {
    /// `initialDelaySeconds`.
    pub initial_delay: Option<Val>,
    /// `periodSeconds`.
    pub period: Option<Val>,
    /// `failureThreshold`.
    pub failure: Option<Val>,
    /// `successThreshold`.
    pub success: Option<Val>,
}

/// A container's preStop hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PreStop {
    /// No hook.
    None,
    /// `sleep: {seconds: N}`, or an exec `sleep N` (raw holds whole seconds).
    Sleep(Val),
    /// A hook whose duration cannot be read from the file.
    Unknown {
        /// Where it is.
        location: Location,
        /// What it is, for the provenance note.
        what: String,
    },
}

/// What a Deployment says that a stack file cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeploymentFields {
    /// `spec.template.spec.terminationGracePeriodSeconds`.
    pub grace: Option<Val>,
    /// The function container's preStop hook.
    pub pre_stop: PreStop,
    /// The function container's readiness probe (`None`: it has none).
    pub readiness: Option<ProbeVals>,
    /// `spec.strategy.type`.
    pub strategy_type: Option<Val>,
    /// `spec.strategy.rollingUpdate.maxSurge`.
    pub max_surge: Option<Val>,
    /// `spec.strategy.rollingUpdate.maxUnavailable`.
    pub max_unavailable: Option<Val>,
    /// `spec.replicas`.
    pub replicas: Option<Val>,
}

/// One function as found, before interpretation.
#[derive(Clone, Debug)]
pub(crate) struct RawFunction {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub location: Location,
    /// Which kind of definition.
    pub kind: FunctionKind,
    /// `lang` (stack files).
    pub lang: Option<Val>,
    /// The watchdog's environment (environment files already applied over the inline map).
    pub env: BTreeMap<String, Val>,
    /// Labels.
    pub labels: BTreeMap<String, Val>,
    /// Annotations that reach the pod.
    pub annotations: BTreeMap<String, Val>,
    /// Annotations on the object itself (a Function's or Deployment's `metadata`), read only
    /// for the ignore annotations.
    pub object_annotations: BTreeMap<String, Val>,
    /// Deployment-only fields.
    pub deployment: Option<DeploymentFields>,
    /// Unset `${VAR}`s inside the function.
    pub unset: Vec<UnsetVar>,
}

/// Which platform value a setting came from, for provenance text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlatformSource {
    /// A Helm values file.
    Values,
    /// A container's environment in a rendered Deployment.
    Env,
}

/// A platform value and what kind of file set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Setting {
    /// The value.
    pub val: Val,
    /// Values file or rendered environment.
    pub from: PlatformSource,
}

/// The gateway, provider, probe and queue-worker values, whoever set them last.
#[derive(Clone, Debug, Default)]
pub(crate) struct Platform {
    /// `gateway.upstreamTimeout` / env `upstream_timeout`.
    pub upstream_timeout: Option<Setting>,
    /// `gateway.readTimeout` / env `read_timeout`.
    pub read_timeout: Option<Setting>,
    /// `gateway.writeTimeout` / env `write_timeout`.
    pub write_timeout: Option<Setting>,
    /// `gateway.scaleFromZero` / env `scale_from_zero`.
    pub scale_from_zero: Option<Setting>,
    /// `gateway.replicas` / the gateway Deployment's `spec.replicas`.
    pub gateway_replicas: Option<Setting>,
    /// `gateway.directFunctions` / env `direct_functions`.
    pub direct_functions: Option<Setting>,
    /// `faasnetes.readTimeout` / the provider's env `read_timeout`.
    pub provider_read: Option<Setting>,
    /// `faasnetes.writeTimeout` / the provider's env `write_timeout`.
    pub provider_write: Option<Setting>,
    /// `functions.readinessProbe` / the provider's env `readiness_probe_*`.
    pub probe: ProbeVals,
    /// `queueWorker.ackWait` / the queue-worker's env `ack_wait`.
    pub ack_wait: Option<Setting>,
    /// `queueWorker.replicas`.
    pub queue_worker_replicas: Option<Setting>,
    /// The Pro queue-worker's values written in a values file (`queueWorkerPro.maxInflight`,
    /// `maxRetryAttempts`, `initialRetryWait`, `maxRetryWait`, `httpRetryCodes`), by their
    /// chart key, in that order.
    pub queue_worker_pro: Vec<(&'static str, Setting)>,
    /// The edition the platform files show: the chart's `openfaasPro`, or a rendered gateway
    /// Deployment running OpenFaaS Pro's images.
    pub edition: Option<EditionSign>,
    /// An Ingress in front of the gateway.
    pub ingress: Option<IngressFront>,
}

/// An Ingress whose backend is the gateway's Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IngressFront {
    /// Its `metadata.name`.
    pub name: String,
    /// Where it is (its name, else the document).
    pub location: Location,
    /// Its `nginx.ingress.kubernetes.io/proxy-read-timeout` annotation, when written.
    pub read_timeout: Option<Val>,
}

/// What in the files says which edition runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EditionSign {
    /// Whether it says Pro (`openfaasPro: true`, an `openfaasltd/` image) or CE
    /// (`openfaasPro: false`).
    pub pro: bool,
    /// Where it is written.
    pub location: Location,
}
