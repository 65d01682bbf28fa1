//! The effective configuration of one function on Kubernetes behind the OpenFaaS gateway, every
//! timer with the default the real component uses (domain.md §1), grouped by component.
//!
//! Values here are already resolved: durations are nanoseconds after each component's own parsing
//! rules (see `duration`), the grace period is derived from the edition, and fall-backs have been
//! turned into warnings by whoever built the configuration.

mod asynchronous;
pub use asynchronous::{
    AsyncConfig, Backoff, CE_ACK_WAIT_DEFAULT_NS, HELM_ACK_WAIT_NS, PRO_MAX_INFLIGHT, QueueEdition,
    QueueWorkerConfig, ce_ack_wait,
};

use std::collections::BTreeMap;

use crate::choice::{Chooser, Stream};
use crate::duration;
use crate::environment::{ChildEnv, WatchdogEnv};
use crate::sourced::Sourced;
use crate::time::{NS_PER_MS, NS_PER_S, Nanos};

/// A duration that is either fixed or drawn uniformly from `lo_ns..=hi_ns` through the chooser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Smallest value, nanoseconds.
    pub lo_ns: u64,
    /// Largest value, nanoseconds (equal to `lo_ns` when fixed).
    pub hi_ns: u64,
}

impl Span {
    /// A value in the span from `stream`: the fixed value itself without consulting the
    /// chooser (fixed values never draw, so they move no stream).
    pub fn draw(self, chooser: &mut dyn Chooser, stream: Stream) -> u64 {
        if self.is_fixed() {
            self.lo_ns
        } else {
            chooser.pick_u64(stream, self.lo_ns, self.hi_ns)
        }
    }

    /// A value in the span that belongs to the request keyed `key` (`choice::request_key`).
    pub fn draw_keyed(self, chooser: &mut dyn Chooser, stream: Stream, key: u64) -> u64 {
        if self.is_fixed() {
            self.lo_ns
        } else {
            chooser.pick_u64_keyed(stream, key, self.lo_ns, self.hi_ns)
        }
    }

    /// A fixed duration.
    pub const fn fixed(ns: u64) -> Span {
        Span {
            lo_ns: ns,
            hi_ns: ns,
        }
    }
    /// True when no choice is needed.
    pub fn is_fixed(&self) -> bool {
        self.lo_ns == self.hi_ns
    }
}

/// Which watchdog shutdown sequence the pod runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchdogKind {
    /// of-watchdog since PR #125 (2021-11): listener open for healthcheck_interval, then
    /// `Shutdown` with a write_timeout deadline (domain.md §2a).
    OfWatchdog,
    /// The pre-2021 sequence: sleep write_timeout, `Shutdown` with no deadline, sleep
    /// write_timeout again, exit (domain.md §2b).
    FixedWait,
    /// The classic watchdog (openfaas/classic-watchdog since 0.2.0, 56bf6aa): one process
    /// forked per request, `exec_timeout` 0 (no limit) by default and 408 "Killed process."
    /// when a positive one fires, `write_timeout` 0 accepted; on SIGTERM the same drain as
    /// of-watchdog, and the forks are not signalled (they die with the watchdog).
    Classic,
}

impl WatchdogKind {
    /// The scenario key's value for it (`function.watchdog`).
    pub fn name(self) -> &'static str {
        match self {
            WatchdogKind::OfWatchdog => "of-watchdog",
            WatchdogKind::FixedWait => "fixed-wait",
            WatchdogKind::Classic => "classic",
        }
    }

    /// It drains with the 2021 sequence (listener open for healthcheck_interval, then
    /// `Shutdown` with a write_timeout deadline), as of-watchdog and the classic watchdog do.
    pub fn drains_2021(self) -> bool {
        matches!(self, WatchdogKind::OfWatchdog | WatchdogKind::Classic)
    }
}

/// How the watchdog runs the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The watchdog proxies to a long-running child HTTP server on :8082.
    Http,
    /// The watchdog forks one process per request.
    Streaming,
}

impl Mode {
    /// The value of of-watchdog's `mode` that selects it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Http => "http",
            Mode::Streaming => "streaming",
        }
    }
}

/// What the HTTP-mode child does on the SIGTERM the watchdog forwards to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSigterm {
    /// Like the golang-middleware template: sleep healthcheck_interval, then `Shutdown(write_timeout)`.
    Drain,
    /// No handler: the process dies at once, and the watchdog `log.Fatalf`s after it.
    Exit,
    /// Stops accepting at once, lets in-flight requests finish for up to
    /// `shutdown_timeout_ns`, then exits 0, so the watchdog keeps listening with nothing
    /// behind it and later calls get 500 (an ASP.NET Core child: ConsoleLifetime and Kestrel;
    /// the exit status 0 is inferred, see `template.rs`).
    Stop {
        /// How long in-flight requests may run after SIGTERM before the child exits anyway.
        shutdown_timeout_ns: u64,
    },
}

impl OnSigterm {
    /// The scenario key's value for it (`function.upstream.onSigterm`).
    pub fn name(self) -> &'static str {
        match self {
            OnSigterm::Drain => "drain",
            OnSigterm::Exit => "exit",
            OnSigterm::Stop { .. } => "stop",
        }
    }
}

/// The OpenFaaS edition, which decides the grace period when none is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edition {
    /// OpenFaaS Pro: grace = write_timeout + 2s (faas-netes f0a81e64).
    Pro,
    /// OpenFaaS CE since 2022-02: grace left to the Kubernetes default of 30 s.
    Ce,
}

/// Whether the initial replicas exist at time 0 or are being created then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Initial replicas are running, ready and routed at time 0.
    Warm,
    /// Initial replicas are created at time 0, as right after `faas-cli deploy`.
    Cold,
}

/// HTTP method of the load, which decides Go's transparent retry (domain.md §1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// No body: replayable, retried once on a reused connection that the server closed.
    Get,
    /// With a body whose `GetBody` is nil through the gateway: never retried.
    Post,
}

impl Method {
    /// Go's `isReplayable` for the requests the gateway and provider build.
    pub fn is_replayable(self) -> bool {
        matches!(self, Method::Get)
    }
}

/// of-watchdog settings, as `config/config.go` reads them from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogConfig {
    /// Which shutdown sequence.
    pub kind: WatchdogKind,
    /// http or streaming.
    pub mode: Mode,
    /// `write_timeout`: server WriteTimeout and the drain deadline. of-watchdog refuses 0, so
    /// 0 here is a negative value (the classic watchdog also takes 0): Go's server then has no
    /// WriteTimeout, and `Shutdown`'s context is already expired.
    pub write_timeout_ns: u64,
    /// `read_timeout`: server ReadTimeout, and the keep-alive idle timeout (IdleTimeout unset);
    /// 0 (or less) is none.
    pub read_timeout_ns: u64,
    /// `exec_timeout`: 0 disables it.
    pub exec_timeout_ns: u64,
    /// `healthcheck_interval`: the listener stays open this long after SIGTERM. Zero or less
    /// means forever (`time.Tick` returns nil), mechanism 25.
    pub healthcheck_interval_ns: i64,
    /// `max_inflight`: 0 is unlimited.
    pub max_inflight: u32,
}

impl Default for WatchdogConfig {
    fn default() -> Self {
        WatchdogConfig {
            kind: WatchdogKind::OfWatchdog,
            mode: Mode::Http,
            write_timeout_ns: 30 * NS_PER_S,
            read_timeout_ns: 30 * NS_PER_S,
            exec_timeout_ns: 30 * NS_PER_S,
            healthcheck_interval_ns: 30 * NS_PER_S as i64,
            max_inflight: 0,
        }
    }
}

/// The HTTP-mode child server (golang-middleware template), which reads the same environment
/// with its own defaults (10 s, domain.md §1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildConfig {
    /// What it does on SIGTERM.
    pub on_sigterm: OnSigterm,
    /// Its own WriteTimeout and drain deadline; 0 is no WriteTimeout (Go's `<= 0`, or a
    /// child that has none, such as node's or waitress's).
    pub write_timeout_ns: u64,
    /// Its own ReadTimeout, which is also its keep-alive idle timeout; 0 is none.
    pub read_timeout_ns: u64,
    /// Its wait between SIGTERM and `Shutdown`. Zero or less means forever: the template waits
    /// with `<-time.Tick`, which is a nil channel for d <= 0, as in the watchdog.
    pub healthcheck_interval_ns: i64,
    /// Time from the watchdog listening to the child listening on :8082 (mechanism 17).
    pub startup_ns: Span,
}

impl Default for ChildConfig {
    fn default() -> Self {
        ChildConfig {
            on_sigterm: OnSigterm::Drain,
            write_timeout_ns: 10 * NS_PER_S,
            read_timeout_ns: 10 * NS_PER_S,
            healthcheck_interval_ns: 10 * NS_PER_S as i64,
            startup_ns: Span::fixed(0),
        }
    }
}

/// The function: its watchdog, child, handler and scaling labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionConfig {
    /// Function name, used in pod names.
    pub name: String,
    /// Watchdog settings.
    pub watchdog: WatchdogConfig,
    /// Child settings (HTTP mode only).
    pub child: ChildConfig,
    /// How long the handler works.
    pub handler_ns: Span,
    /// Streaming mode: how long after exec_timeout's kill the process's own children keep
    /// its stdout open (a shell script's command in progress, such as `sleep`), capped by the
    /// handler's end. of-watchdog kills the process alone (`exec.CommandContext`), and Go's
    /// `cmd.Wait` waits for the pipe to close, so the response ends only then. 0: nothing
    /// outlives the process, the response ends at the kill.
    pub stdout_held_after_kill_ns: Nanos,
    /// Pod created to watchdog listening (image pull and container start).
    pub startup_ns: Span,
    /// Warm or cold initial replicas.
    pub start: Start,
    /// `com.openfaas.scale.min`: initial replicas and the scale-from-zero target.
    pub scale_min: u32,
    /// `com.openfaas.scale.max`.
    pub scale_max: u32,
    /// The faas-cli `lang` the watchdog and child settings were taken from
    /// (`template::template`), if any: kept so that a report can name it and a scenario can
    /// be written back with it.
    pub template: Option<&'static str>,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        FunctionConfig {
            name: "fn".to_string(),
            watchdog: WatchdogConfig::default(),
            child: ChildConfig::default(),
            handler_ns: Span::fixed(10 * NS_PER_MS),
            stdout_held_after_kill_ns: 0,
            startup_ns: Span::fixed(2 * NS_PER_S),
            start: Start::Warm,
            scale_min: 1,
            scale_max: 20,
            template: None,
        }
    }
}

/// `terminationGracePeriodSeconds` when nothing sets it (Kubernetes' default, which OpenFaaS CE
/// leaves in place).
pub const KUBERNETES_DEFAULT_GRACE_S: u64 = 30;

/// A Deployment's `spec.replicas` when it sets none.
pub const KUBERNETES_DEFAULT_REPLICAS: u32 = 1;

/// A Deployment's rolling update `maxSurge` and `maxUnavailable` when it sets none.
pub const KUBERNETES_DEFAULT_STRATEGY: (IntOrPercent, IntOrPercent) =
    (IntOrPercent::Percent(25), IntOrPercent::Percent(25));

/// A readiness probe as the kubelet runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Delay from container start to the first probe, seconds.
    pub initial_delay_s: u32,
    /// Period between probes, seconds (at least 1).
    pub period_s: u32,
    /// Consecutive failures that make a ready pod unready.
    pub failure_threshold: u32,
    /// Consecutive successes that make an unready pod ready.
    pub success_threshold: u32,
}

impl Default for ProbeConfig {
    /// What faas-netes CE hard-codes (domain.md §1.5).
    fn default() -> Self {
        ProbeConfig {
            initial_delay_s: 2,
            period_s: 2,
            failure_threshold: 3,
            success_threshold: 1,
        }
    }
}

impl ProbeConfig {
    /// Kubernetes' defaults for the fields a Deployment's readinessProbe leaves out.
    pub const KUBERNETES: ProbeConfig = ProbeConfig {
        initial_delay_s: 0,
        period_s: 10,
        failure_threshold: 3,
        success_threshold: 1,
    };
    /// The OpenFaaS Pro operator's probe: the chart's `functions.readinessProbe` defaults.
    pub const PRO_CHART: ProbeConfig = ProbeConfig {
        initial_delay_s: 0,
        period_s: 2,
        failure_threshold: 3,
        success_threshold: 1,
    };
    /// A Deployment without a readinessProbe: ready as soon as its container starts, modelled
    /// as a probe every second from 0 s that one success makes ready.
    pub const NONE: ProbeConfig = ProbeConfig {
        initial_delay_s: 0,
        period_s: 1,
        failure_threshold: 1,
        success_threshold: 1,
    };
}

/// An integer or a percentage of the desired replicas, as in a Deployment strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute count.
    Int(u32),
    /// A percentage of desired replicas.
    Percent(u32),
}

impl IntOrPercent {
    /// Kubernetes resolves maxSurge rounding up and maxUnavailable rounding down.
    pub fn resolve(self, desired: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let scaled = u64::from(desired) * u64::from(p);
                let value = if round_up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                };
                u32::try_from(value).unwrap_or(u32::MAX)
            }
        }
    }
}

impl std::fmt::Display for IntOrPercent {
    /// As a Deployment writes it: `1`, `25%`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(n) => write!(f, "{n}"),
            IntOrPercent::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Where the effective grace period came from, for reports and warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraceSource {
    /// `terminationGracePeriodSeconds` given explicitly.
    Explicit,
    /// Pro: write_timeout + 2s.
    ProDerived,
    /// CE: the Kubernetes default.
    KubernetesDefault,
}

/// Kubernetes: termination, probes, rollout strategy, endpoints propagation, nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubernetesConfig {
    /// The edition the grace period was derived for.
    pub edition: Edition,
    /// Effective `terminationGracePeriodSeconds`.
    pub grace_s: u64,
    /// Where `grace_s` came from.
    pub grace_source: GraceSource,
    /// preStop `sleep` seconds (0: no hook, as faas-netes sets none).
    pub pre_stop_sleep_s: u64,
    /// Readiness probe.
    pub readiness: ProbeConfig,
    /// How far into the prober's ticker period a pod's container first starts
    /// (`kubernetes.readinessProbe.phase`), taken modulo the period; `None`: anywhere in it,
    /// a draw from `0s..period`.
    pub readiness_phase_ns: Option<Span>,
    /// Rolling update maxSurge.
    pub max_surge: IntOrPercent,
    /// Rolling update maxUnavailable.
    pub max_unavailable: IntOrPercent,
    /// Pod deleted or ready -> the provider's view of the endpoints changes.
    pub endpoint_lag_ns: Span,
    /// Worker nodes the pods spread over.
    pub nodes: u32,
    /// Delay before a crashed container is started again.
    pub restart_delay_ns: u64,
    /// The node lifecycle controller's `node-monitor-period`: how often it looks at the
    /// nodes' health (default 5 s).
    pub node_monitor_period_ns: Nanos,
    /// Its `node-monitor-grace-period`: a node whose kubelet has not renewed its Lease or
    /// status for longer is Unknown (40 s; 50 s from Kubernetes 1.32, kubernetes PR #126287).
    pub node_monitor_grace_period_ns: Nanos,
    /// The `tolerationSeconds` every pod gets for the `unreachable` and `not-ready`
    /// NoExecute taints (the DefaultTolerationSeconds admission plugin: 300).
    pub toleration_s: u64,
}

impl KubernetesConfig {
    /// When the readiness prober's first probe can come after a container starts, earliest
    /// and latest (kubernetes/kubernetes pkg/kubelet/prober/worker.go, `run` and `doProbe`):
    /// the ticker's first tick at or after `initialDelaySeconds`, so within `delay..delay +
    /// period` unless the phase is pinned; at the start itself with no delay (the status
    /// sync's manual trigger). Bounds for the rules' worst cases.
    pub fn first_probe_ns(&self) -> Span {
        let delay_ns = u64::from(self.readiness.initial_delay_s) * NS_PER_S;
        let period_ns = u64::from(self.readiness.period_s.max(1)) * NS_PER_S;
        if delay_ns == 0 {
            return Span::fixed(0);
        }
        match self.readiness_phase_ns {
            Some(phase) if phase.is_fixed() => {
                // Ticks fall `phase` before the start and every period after.
                let gap_ns =
                    (period_ns - (delay_ns + phase.lo_ns % period_ns) % period_ns) % period_ns;
                Span::fixed(delay_ns + gap_ns)
            }
            _ => Span {
                lo_ns: delay_ns,
                hi_ns: delay_ns + period_ns,
            },
        }
    }
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        KubernetesConfig {
            edition: Edition::Ce,
            grace_s: KUBERNETES_DEFAULT_GRACE_S,
            grace_source: GraceSource::KubernetesDefault,
            pre_stop_sleep_s: 0,
            readiness: ProbeConfig::default(),
            readiness_phase_ns: None,
            max_surge: IntOrPercent::Int(1),
            max_unavailable: IntOrPercent::Int(0),
            endpoint_lag_ns: Span {
                lo_ns: 0,
                hi_ns: NS_PER_S,
            },
            nodes: 3,
            restart_delay_ns: 0,
            node_monitor_period_ns: 5 * NS_PER_S,
            node_monitor_grace_period_ns: 40 * NS_PER_S,
            toleration_s: 300,
        }
    }
}

/// The gateway, with the OpenFaaS Helm chart's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayConfig {
    /// `upstream_timeout`: the deadline of the call to the provider (502). 0 (or less) is an
    /// immediate 502: `context.WithTimeout` with it is expired before the call starts.
    pub upstream_timeout_ns: u64,
    /// `read_timeout` of the gateway server; 0 is none.
    pub read_timeout_ns: u64,
    /// `write_timeout` of the gateway server: past it the client gets EOF, no status; 0 (Go's
    /// `<= 0`) is none.
    pub write_timeout_ns: u64,
    /// `scale_from_zero`: hold requests while scaling 0 -> min.
    pub scale_from_zero: bool,
    /// Poll interval while holding a request (100 ms in the gateway).
    pub poll_interval_ns: u64,
    /// Polls before forwarding anyway (1000 in the gateway).
    pub poll_attempts: u32,
    /// `gateway.replicas`: gateway pods behind their Service (the chart's values.yaml: 1;
    /// values-pro.yaml: 3).
    pub replicas: u32,
    /// What a gateway pod does on SIGTERM.
    pub on_sigterm: GatewaySigterm,
    /// The gateway Deployment's `terminationGracePeriodSeconds`, in ns: the chart sets none
    /// (the line is commented out in gateway-dep.yaml), so Kubernetes's 30 s.
    pub grace_ns: Nanos,
    /// From a new gateway pod's creation until it answers `/healthz` (image present, Go
    /// start-up, informers synced) [inferred: 2 s].
    pub startup_ns: Nanos,
    /// The gateway's readiness probe period: the chart leaves `gateway.readinessProbe` unset
    /// by default, so Kubernetes's 10 s; a new pod is ready at the first probe after it starts.
    pub readiness_period_ns: Nanos,
}

/// What a gateway pod does on SIGTERM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatewaySigterm {
    /// CE: no signal handling (`log.Fatal(s.ListenAndServe())`, openfaas/faas@8d803bf9
    /// gateway/main.go): Go's default action ends the process and every call in flight is cut.
    Exit,
    /// An edition that drains [inferred; the Pro gateway's shutdown is not public]: it keeps
    /// accepting for `delay_ns` (for the Service's view to drop it), then closes its listener
    /// and finishes the calls in flight, exiting when none is left.
    Drain {
        /// From SIGTERM until the listener closes.
        delay_ns: Nanos,
    },
}

impl GatewaySigterm {
    /// How long the scenario format's draining gateway keeps accepting after SIGTERM: until
    /// kube-proxy's view has surely dropped it (the endpoint lag's upper end) and the last
    /// connection handed to it before that has arrived (a dial: 1.5 round trips).
    pub fn drain_delay_ns(endpoint_lag: Span, rtt_ns: Nanos) -> Nanos {
        endpoint_lag.hi_ns + 3 * (rtt_ns / 2)
    }

    /// Its name in the scenario format (`gateway.onSigterm`).
    pub fn name(self) -> &'static str {
        match self {
            GatewaySigterm::Exit => "exit",
            GatewaySigterm::Drain { .. } => "drain",
        }
    }
}

impl Default for GatewayConfig {
    /// The chart's values (domain.md §1.4).
    fn default() -> Self {
        GatewayConfig {
            upstream_timeout_ns: 60 * NS_PER_S,
            read_timeout_ns: 65 * NS_PER_S,
            write_timeout_ns: 65 * NS_PER_S,
            scale_from_zero: true,
            poll_interval_ns: 100 * NS_PER_MS,
            poll_attempts: 1000,
            replicas: 1,
            on_sigterm: GatewaySigterm::Exit,
            grace_ns: KUBERNETES_DEFAULT_GRACE_S * NS_PER_S,
            startup_ns: 2 * NS_PER_S,
            readiness_period_ns: 10 * NS_PER_S,
        }
    }
}

/// faas-netes as the provider: its server and its proxy client to pod IPs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `read_timeout`: also the proxy `http.Client.Timeout` (500 "Can't reach service"); 0 (or
    /// less) makes the proxy use faas-provider's 10 s default (see `proxy_timeout_ns`).
    pub read_timeout_ns: u64,
    /// `write_timeout` of the provider server: past it the gateway sees EOF (502); 0 is none.
    pub write_timeout_ns: u64,
    /// Keep-alive pool idle timeout to pod IPs.
    pub idle_conn_timeout_ns: u64,
    /// On SIGTERM its informers stop and its view no longer changes: faas-netes's signal
    /// handler only closes stopCh (openfaas/faas-netes@662ce9ce main.go 175-177). The provider
    /// beside a gateway that drains (`GatewaySigterm::Drain`, an edition whose provider is not
    /// public) is assumed to keep watching.
    pub stops_informers_on_sigterm: bool,
}

impl Default for ProviderConfig {
    /// The chart passes the gateway's read and write timeouts.
    fn default() -> Self {
        ProviderConfig {
            read_timeout_ns: 65 * NS_PER_S,
            write_timeout_ns: 65 * NS_PER_S,
            idle_conn_timeout_ns: 5 * NS_PER_S,
            stops_informers_on_sigterm: true,
        }
    }
}

/// faas-provider's proxy client timeout when its `read_timeout` is 0 or less
/// (openfaas/faas-provider types/config.go @f53fe63 `GetReadTimeout`: `defaultReadTimeout`).
pub const PROVIDER_PROXY_DEFAULT_TIMEOUT_NS: u64 = 10 * NS_PER_S;

impl ProviderConfig {
    /// The proxy `http.Client.Timeout` for calls to pods: `read_timeout`, or 10 s when it is
    /// 0 or less (`GetReadTimeout`, used by `proxy.NewProxyClientFromConfig`).
    pub fn proxy_timeout_ns(&self) -> u64 {
        if self.read_timeout_ns == 0 {
            PROVIDER_PROXY_DEFAULT_TIMEOUT_NS
        } else {
            self.read_timeout_ns
        }
    }
}

/// A Go `http.Server` ReadTimeout or WriteTimeout as a limit: 0 (Go's `<= 0`) is none.
pub fn server_limit_ns(timeout_ns: u64) -> Option<u64> {
    (timeout_ns > 0).then_some(timeout_ns)
}

/// The load generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadConfig {
    /// Workers (closed loop).
    pub concurrency: u32,
    /// Requests in total.
    pub requests: u64,
    /// Client timeout, 0 for none.
    pub timeout_ns: u64,
    /// GET or POST.
    pub method: Method,
    /// Client keep-alive to the gateway.
    pub keep_alive: bool,
    /// 0: closed loop; N: open loop at N requests per second.
    pub rate_per_s: u32,
    /// hey's `-q`: each closed-loop worker waits for a tick of its own `time.Tick` (one every
    /// `1e6 / qps` µs, the first a period after the start) before each request; 0 for none.
    pub qps_per_worker: u32,
    /// When the load starts.
    pub start_ns: u64,
}

impl Default for LoadConfig {
    /// hey's defaults: -c 50 -n 200 -t 20.
    fn default() -> Self {
        LoadConfig {
            concurrency: 50,
            requests: 200,
            timeout_ns: 20 * NS_PER_S,
            method: Method::Get,
            keep_alive: true,
            rate_per_s: 0,
            qps_per_worker: 0,
            start_ns: 0,
        }
    }
}

impl LoadConfig {
    /// The period of a worker's `-q` ticker: hey's `time.Duration(1e6/QPS) * time.Microsecond`
    /// (rakyll/hey requester.go), `None` without `-q`.
    pub fn qps_period_ns(&self) -> Option<Nanos> {
        (self.qps_per_worker > 0).then(|| u64::from(1_000_000 / self.qps_per_worker) * 1_000)
    }
}

/// The network between components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Round-trip time: how long after a server closes an idle keep-alive connection the client
    /// still believes it usable (the keep-alive race window, mechanisms 3 and 4).
    pub rtt_ns: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig { rtt_ns: 500_000 }
    }
}

/// An ingress controller or load balancer in front of the gateway: ingress-nginx, or an AWS
/// ALB. It forwards each request to the gateway on a pooled keep-alive connection and waits
/// for the answer under its read timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressConfig {
    /// ingress-nginx's `proxy-read-timeout` (annotation
    /// `nginx.ingress.kubernetes.io/proxy-read-timeout`, 60 s by default), or an ALB's idle
    /// timeout (60 s): the longest wait between two successive reads of the gateway's
    /// response, not a bound on the whole response. The model's answers come in one piece, so
    /// it runs from the request's forwarding to the answer. Past it the client gets 504 and
    /// the ingress closes its connection to the gateway. Always over 0.
    pub read_timeout_ns: u64,
}

/// ingress-nginx's `proxy-read-timeout` when nothing sets it (and an ALB's idle timeout).
pub const INGRESS_DEFAULT_READ_TIMEOUT_NS: u64 = 60 * NS_PER_S;

impl Default for IngressConfig {
    fn default() -> Self {
        IngressConfig {
            read_timeout_ns: INGRESS_DEFAULT_READ_TIMEOUT_NS,
        }
    }
}

/// Everything a run needs besides the scenario's events.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// The function.
    pub function: FunctionConfig,
    /// Kubernetes.
    pub kubernetes: KubernetesConfig,
    /// The gateway.
    pub gateway: GatewayConfig,
    /// The provider.
    pub provider: ProviderConfig,
    /// The load.
    pub load: LoadConfig,
    /// The network.
    pub network: NetworkConfig,
    /// An ingress in front of the gateway (`None`: the client calls the gateway directly).
    pub ingress: Option<IngressConfig>,
    /// The asynchronous path (`None`: the load calls `/function/NAME` synchronously).
    pub asynchronous: Option<AsyncConfig>,
}

/// Something a component silently replaced, reported instead of hidden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The key, e.g. `function.environment.exec_timeout`.
    pub key: String,
    /// What happened.
    pub message: String,
}

/// A configuration the real component refuses to start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment key at fault.
    pub key: String,
    /// Why.
    pub message: String,
}

/// Clamp a possibly negative duration to a time span: Go treats negative timeouts as already
/// expired for deadlines, which for these servers means "no time at all".
fn non_negative(ns: i64) -> u64 {
    u64::try_from(ns).unwrap_or(0)
}

impl WatchdogConfig {
    /// Read the watchdog's settings from the function's environment exactly as of-watchdog's
    /// `config.New` does: bare integers are seconds, invalid values fall back to the default
    /// (reported as warnings), `write_timeout` 0 is fatal, `healthcheck_interval` defaults to
    /// `write_timeout`, `max_inflight` falls back to 0 on a non-integer.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        kind: WatchdogKind,
        mode: Mode,
    ) -> Result<(WatchdogConfig, Vec<ConfigWarning>), ConfigError> {
        let reading = match kind {
            WatchdogKind::Classic => WatchdogEnv::read_classic(env),
            WatchdogKind::OfWatchdog | WatchdogKind::FixedWait => WatchdogEnv::read(env),
        };
        WatchdogConfig::from_reading(&reading, kind, mode)
    }

    /// The settings of one reading of the environment (see [`WatchdogEnv`]), with a warning
    /// for every value of-watchdog silently replaced; `write_timeout` 0 is fatal to
    /// of-watchdog (not to the classic watchdog).
    pub fn from_reading(
        reading: &WatchdogEnv,
        kind: WatchdogKind,
        mode: Mode,
    ) -> Result<(WatchdogConfig, Vec<ConfigWarning>), ConfigError> {
        let write = reading.write_timeout.value;
        // of-watchdog checks `HTTPWriteTimeout == 0` only; the classic watchdog checks nothing
        // (openfaas/classic-watchdog main.go @23db914 hands it to http.Server as it is).
        if write == 0 && kind != WatchdogKind::Classic {
            return Err(ConfigError {
                key: "write_timeout".to_string(),
                message: "of-watchdog refuses to start: HTTP write timeout must be over 0s"
                    .to_string(),
            });
        }
        let mut warnings: Vec<ConfigWarning> = reading
            .durations()
            .iter()
            .filter_map(|(name, value)| warning(name, value))
            .collect();
        warnings.extend(warning("max_inflight", &reading.max_inflight));
        let config = WatchdogConfig {
            kind,
            mode,
            write_timeout_ns: non_negative(write),
            read_timeout_ns: non_negative(reading.read_timeout.value),
            exec_timeout_ns: non_negative(reading.exec_timeout.value),
            healthcheck_interval_ns: reading.healthcheck_interval.value,
            max_inflight: reading.max_inflight.value,
        };
        Ok((config, warnings))
    }
}

/// The warning of a value the component silently replaced, under its variable's name.
fn warning<T>(name: &str, value: &Sourced<T>) -> Option<ConfigWarning> {
    value.warning().map(|message| ConfigWarning {
        key: name.to_string(),
        message: message.to_string(),
    })
}

impl ChildConfig {
    /// The golang-middleware template's reading of the same environment: 10 s defaults, and
    /// healthcheck_interval defaulting to its own write timeout.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        on_sigterm: OnSigterm,
        startup_ns: Span,
    ) -> ChildConfig {
        ChildConfig::from_reading(&ChildEnv::read(env), on_sigterm, startup_ns)
    }

    /// The settings of one reading of the environment (see [`ChildEnv`]).
    pub fn from_reading(
        reading: &ChildEnv,
        on_sigterm: OnSigterm,
        startup_ns: Span,
    ) -> ChildConfig {
        ChildConfig {
            on_sigterm,
            write_timeout_ns: non_negative(reading.write_timeout.value),
            read_timeout_ns: non_negative(reading.read_timeout.value),
            healthcheck_interval_ns: reading.healthcheck_interval.value,
            startup_ns,
        }
    }
}

/// The grace period the edition gives when the scenario sets none, with a warning when
/// faas-netes would derive it from an unparseable write_timeout (the bare-integer trap).
pub fn edition_grace_s(
    edition: Edition,
    env: &BTreeMap<String, String>,
) -> (u64, GraceSource, Option<String>) {
    match edition {
        Edition::Ce => (
            KUBERNETES_DEFAULT_GRACE_S,
            GraceSource::KubernetesDefault,
            None,
        ),
        Edition::Pro => {
            let (seconds, warning) =
                duration::pro_grace_seconds(env.get("write_timeout").map(String::as_str));
            (
                u64::try_from(seconds).unwrap_or(0),
                GraceSource::ProDerived,
                warning,
            )
        }
    }
}

#[cfg(test)]
mod tests;
