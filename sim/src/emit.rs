//! Writing a configuration and schedule back as a scenario YAML that [`crate::scenario::parse`]
//! reads into the same [`Config`] and events: how a generated or shrunk case becomes a file a
//! person can run with `faasim run`.
//!
//! Every key is written out, defaults included, so the file says everything the run used.
//! Durations are printed as Go prints them (`format_go`), which Go's and faasim's parsers read
//! back exactly.
//!
//! The watchdog and the HTTP-mode child are configured through one environment, each reading it
//! with its own defaults (30 s for the watchdog, 10 s for the child, `healthcheck_interval`
//! defaulting to each one's own `write_timeout`). So a key is written when both read the same
//! value, and left out when each holds its own default. A configuration where the two differ in
//! any other way cannot be written in the scenario format; neither can the gateway's poll
//! settings or the provider's idle timeout, which the format does not expose. For those the
//! emitter writes the closest file (the watchdog's value, the format's fixed value) and lists
//! each difference in [`Emitted::approximations`], so a caller can refuse it or warn. An OpenFaaS
//! Pro grace period is written as the edition when the `write_timeout` that is written derives it
//! (a bare integer reproduces the bare-integer trap), and as `terminationGracePeriodSeconds`
//! otherwise.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use faasim_model::config::{
    ChildConfig, Config, Edition, GatewayConfig, GatewaySigterm, GraceSource, IntOrPercent,
    KubernetesConfig, Method, Mode, OnSigterm, ProviderConfig, Span, Start, edition_grace_s,
};
use faasim_model::duration::format_go;
use faasim_model::schedule::{Action, Event};
use faasim_model::template::{self, ChildTimeouts};
use faasim_model::time::NS_PER_S;

/// The watchdog's default for its three timeouts (of-watchdog `config.go`).
const WATCHDOG_DEFAULT_NS: u64 = 30 * NS_PER_S;
/// The golang-middleware child's default for its timeouts.
const CHILD_DEFAULT_NS: u64 = 10 * NS_PER_S;

/// A scenario file's text and what it could not say exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emitted {
    /// The YAML.
    pub yaml: String,
    /// Each way the file differs from the configuration it was written from (empty when the
    /// file reads back into the same configuration).
    pub approximations: Vec<String>,
}

impl Emitted {
    /// True when the file reads back into exactly the configuration and events given.
    pub fn is_exact(&self) -> bool {
        self.approximations.is_empty()
    }
}

/// What to write besides the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `name`.
    pub name: String,
    /// `seed`, when the file should pin one.
    pub seed: Option<u64>,
    /// `limit`, when the file should cap simulated time.
    pub limit_ns: Option<u64>,
    /// Comment lines written at the top (without the `# `).
    pub comments: Vec<String>,
}

fn go(ns: u64) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

fn span(s: Span) -> String {
    if s.is_fixed() {
        go(s.lo_ns)
    } else {
        format!("{}..{}", go(s.lo_ns), go(s.hi_ns))
    }
}

/// A YAML double-quoted scalar (JSON's escapes are a subset of YAML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

fn int_or_percent(value: IntOrPercent) -> String {
    match value {
        IntOrPercent::Int(n) => n.to_string(),
        IntOrPercent::Percent(p) => quoted(&format!("{p}%")),
    }
}

/// The environment both the watchdog and the child read, chosen so that each reads back its
/// own value where the format allows.
fn environment(config: &Config, approximations: &mut Vec<String>) -> BTreeMap<String, String> {
    let w = &config.function.watchdog;
    // A template's child that is not a Go server takes its timeouts from the template, not
    // from the environment: written back with `template`, only the watchdog's values matter.
    let own_timeouts = config
        .function
        .template
        .and_then(template::template)
        .is_some_and(|t| matches!(t.child_timeouts, ChildTimeouts::NoWrite { .. }));
    let template_child;
    let c = if own_timeouts {
        template_child = ChildConfig {
            write_timeout_ns: w.write_timeout_ns,
            read_timeout_ns: w.read_timeout_ns,
            healthcheck_interval_ns: w.healthcheck_interval_ns,
            ..config.function.child.clone()
        };
        &template_child
    } else {
        &config.function.child
    };
    let mut env = BTreeMap::new();
    let mut pair = |key: &str, watchdog_ns: u64, child_ns: u64, env: &mut BTreeMap<_, _>| {
        if watchdog_ns == child_ns {
            env.insert(key.to_string(), go(watchdog_ns));
        } else if watchdog_ns == WATCHDOG_DEFAULT_NS && child_ns == CHILD_DEFAULT_NS {
            // Left out: each reads its own default.
        } else {
            env.insert(key.to_string(), go(watchdog_ns));
            approximations.push(format!(
                "function.environment.{key}: the child's {} cannot differ from the watchdog's {} \
                 in a scenario file (both read the same environment); wrote the watchdog's",
                go(child_ns),
                go(watchdog_ns)
            ));
        }
    };
    pair(
        "write_timeout",
        w.write_timeout_ns,
        c.write_timeout_ns,
        &mut env,
    );
    pair(
        "read_timeout",
        w.read_timeout_ns,
        c.read_timeout_ns,
        &mut env,
    );
    // healthcheck_interval defaults to each one's own write_timeout as read above.
    let write_given = env.contains_key("write_timeout");
    let (w_write, c_write) = if write_given {
        (w.write_timeout_ns, w.write_timeout_ns)
    } else {
        (WATCHDOG_DEFAULT_NS, CHILD_DEFAULT_NS)
    };
    let hc_default_fits = i64::try_from(w_write).ok() == Some(w.healthcheck_interval_ns)
        && i64::try_from(c_write).ok() == Some(c.healthcheck_interval_ns);
    if !hc_default_fits {
        env.insert(
            "healthcheck_interval".to_string(),
            format_go(w.healthcheck_interval_ns),
        );
        if w.healthcheck_interval_ns != c.healthcheck_interval_ns {
            approximations.push(format!(
                "function.environment.healthcheck_interval: the child's {} cannot differ from \
                 the watchdog's {} in a scenario file; wrote the watchdog's",
                format_go(c.healthcheck_interval_ns),
                format_go(w.healthcheck_interval_ns)
            ));
        }
    }
    env.insert("exec_timeout".to_string(), go(w.exec_timeout_ns));
    env.insert("max_inflight".to_string(), w.max_inflight.to_string());
    env
}

/// How the grace period is written: the edition alone when it derives the same value, else
/// `terminationGracePeriodSeconds`. May rewrite `write_timeout` as bare integer seconds when
/// that is how the Pro derivation reaches the configuration's grace (the bare-integer trap).
fn grace(
    config: &Config,
    env: &mut BTreeMap<String, String>,
    approximations: &mut Vec<String>,
) -> Option<u64> {
    let k = &config.kubernetes;
    if k.grace_source == GraceSource::Explicit {
        return Some(k.grace_s);
    }
    let derives = |env: &BTreeMap<String, String>| {
        let (seconds, source, _) = edition_grace_s(k.edition, env);
        seconds == k.grace_s && source == k.grace_source
    };
    if derives(env) {
        return None;
    }
    let w = &config.function.watchdog;
    if k.edition == Edition::Pro
        && env.contains_key("write_timeout")
        && w.write_timeout_ns.is_multiple_of(NS_PER_S)
    {
        let mut bare = env.clone();
        bare.insert(
            "write_timeout".to_string(),
            (w.write_timeout_ns / NS_PER_S).to_string(),
        );
        if derives(&bare) {
            *env = bare;
            return None;
        }
    }
    approximations.push(format!(
        "kubernetes.terminationGracePeriodSeconds: {} s does not follow from the edition and \
         write_timeout written; wrote it explicitly (its source becomes `explicit`)",
        k.grace_s
    ));
    Some(k.grace_s)
}

/// Writes `config` and `events` as a scenario file.
pub fn scenario(meta: &Meta, config: &Config, events: &[Event]) -> Emitted {
    let mut approximations = Vec::new();
    let mut env = environment(config, &mut approximations);
    let grace_s = grace(config, &mut env, &mut approximations);
    let f = &config.function;
    let k = &config.kubernetes;
    let g = &config.gateway;
    let p = &config.provider;
    let l = &config.load;

    let gateway_defaults = GatewayConfig::default();
    if g.poll_interval_ns != gateway_defaults.poll_interval_ns
        || g.poll_attempts != gateway_defaults.poll_attempts
    {
        approximations.push(format!(
            "gateway: polls every {} up to {} times, which the scenario format cannot set \
             (the file gives the gateway's 100ms x 1000)",
            go(g.poll_interval_ns),
            g.poll_attempts
        ));
    }
    if p.idle_conn_timeout_ns != ProviderConfig::default().idle_conn_timeout_ns {
        approximations.push(format!(
            "faasnetes: IdleConnTimeout {} cannot be set in the scenario format (the file gives 5s)",
            go(p.idle_conn_timeout_ns)
        ));
    }

    let mut y = String::new();
    for line in &meta.comments {
        let _ = writeln!(y, "# {line}");
    }
    let _ = writeln!(y, "name: {}", quoted(&meta.name));
    if let Some(seed) = meta.seed {
        let _ = writeln!(y, "seed: {seed}");
    }
    if let Some(limit) = meta.limit_ns {
        let _ = writeln!(y, "limit: {}", go(limit));
    }

    y.push_str("\nfunction:\n");
    let _ = writeln!(y, "  name: {}", quoted(&f.name));
    y.push_str("  environment:\n");
    for (key, value) in &env {
        let _ = writeln!(y, "    {key}: {}", quoted(value));
    }
    y.push_str("  labels:\n");
    let _ = writeln!(y, "    com.openfaas.scale.min: {}", f.scale_min);
    let _ = writeln!(y, "    com.openfaas.scale.max: {}", f.scale_max);
    if let Some(lang) = f.template {
        let _ = writeln!(y, "  template: {}", quoted(lang));
    }
    let _ = writeln!(y, "  watchdog: {}", f.watchdog.kind.name());
    let _ = writeln!(y, "  mode: {}", f.watchdog.mode.name());
    let child_defaults = ChildConfig::default();
    // In streaming mode an `upstream` section only draws a warning; write it only when it
    // carries something the configuration holds.
    if f.watchdog.mode == Mode::Http
        || f.child.on_sigterm != child_defaults.on_sigterm
        || f.child.startup_ns != child_defaults.startup_ns
    {
        y.push_str("  upstream:\n");
        let _ = writeln!(y, "    onSigterm: {}", f.child.on_sigterm.name());
        if let OnSigterm::Stop {
            shutdown_timeout_ns,
        } = f.child.on_sigterm
        {
            let _ = writeln!(y, "    shutdownTimeout: {}", go(shutdown_timeout_ns));
        }
        let _ = writeln!(y, "    startup: {}", span(f.child.startup_ns));
    }
    y.push_str("  handler:\n");
    let _ = writeln!(y, "    duration: {}", span(f.handler_ns));
    if f.stdout_held_after_kill_ns > 0 {
        let _ = writeln!(
            y,
            "    stdoutHeldAfterKill: {}",
            go(f.stdout_held_after_kill_ns)
        );
    }
    let _ = writeln!(y, "  startup: {}", span(f.startup_ns));
    let start = match f.start {
        Start::Warm => "warm",
        Start::Cold => "cold",
    };
    let _ = writeln!(y, "  start: {start}");

    y.push_str("\nkubernetes:\n");
    let edition = match k.edition {
        Edition::Pro => "pro",
        Edition::Ce => "ce",
    };
    let _ = writeln!(y, "  edition: {edition}");
    if let Some(grace_s) = grace_s {
        let _ = writeln!(y, "  terminationGracePeriodSeconds: {grace_s}");
    }
    let _ = writeln!(y, "  preStop: {{sleep: {}}}", k.pre_stop_sleep_s);
    let r = &k.readiness;
    // The phase only when set, so files of before keep their text.
    let phase = k
        .readiness_phase_ns
        .map(|p| format!(", phase: {}", span(p)))
        .unwrap_or_default();
    let _ = writeln!(
        y,
        "  readinessProbe: {{initialDelaySeconds: {}, periodSeconds: {}, failureThreshold: {}, \
         successThreshold: {}{phase}}}",
        r.initial_delay_s, r.period_s, r.failure_threshold, r.success_threshold
    );
    let _ = writeln!(
        y,
        "  strategy: {{maxSurge: {}, maxUnavailable: {}}}",
        int_or_percent(k.max_surge),
        int_or_percent(k.max_unavailable)
    );
    let _ = writeln!(y, "  endpointLag: {}", span(k.endpoint_lag_ns));
    let _ = writeln!(y, "  nodes: {}", k.nodes);
    let _ = writeln!(y, "  restartDelay: {}", go(k.restart_delay_ns));
    // The node lifecycle controller's keys only when they differ from their defaults, so files
    // of before keep their text.
    let k_defaults = KubernetesConfig::default();
    if k.node_monitor_period_ns != k_defaults.node_monitor_period_ns {
        let _ = writeln!(y, "  nodeMonitorPeriod: {}", go(k.node_monitor_period_ns));
    }
    if k.node_monitor_grace_period_ns != k_defaults.node_monitor_grace_period_ns {
        let _ = writeln!(
            y,
            "  nodeMonitorGracePeriod: {}",
            go(k.node_monitor_grace_period_ns)
        );
    }
    if k.toleration_s != k_defaults.toleration_s {
        let _ = writeln!(y, "  tolerationSeconds: {}", k.toleration_s);
    }

    y.push_str("\ngateway:\n");
    let _ = writeln!(y, "  upstreamTimeout: {}", go(g.upstream_timeout_ns));
    let _ = writeln!(y, "  readTimeout: {}", go(g.read_timeout_ns));
    let _ = writeln!(y, "  writeTimeout: {}", go(g.write_timeout_ns));
    let _ = writeln!(y, "  scaleFromZero: {}", g.scale_from_zero);
    if g.replicas != gateway_defaults.replicas {
        let _ = writeln!(y, "  replicas: {}", g.replicas);
    }
    if g.on_sigterm != gateway_defaults.on_sigterm {
        let _ = writeln!(y, "  onSigterm: {}", g.on_sigterm.name());
        let delay_ns = GatewaySigterm::drain_delay_ns(k.endpoint_lag_ns, config.network.rtt_ns);
        let written = GatewaySigterm::Drain { delay_ns };
        if g.on_sigterm != written && g.on_sigterm != GatewaySigterm::Exit {
            approximations.push(format!(
                "gateway.onSigterm: drains after {:?}, but the file's endpoint lag and round \
                 trip make it close its listener after {}",
                g.on_sigterm,
                go(delay_ns)
            ));
        }
    }
    if g.grace_ns != gateway_defaults.grace_ns {
        let _ = writeln!(
            y,
            "  terminationGracePeriodSeconds: {}",
            g.grace_ns / NS_PER_S
        );
        if !g.grace_ns.is_multiple_of(NS_PER_S) {
            approximations.push(format!(
                "gateway.terminationGracePeriodSeconds: {} is not whole seconds",
                go(g.grace_ns)
            ));
        }
    }
    if g.startup_ns != gateway_defaults.startup_ns {
        let _ = writeln!(y, "  startup: {}", go(g.startup_ns));
    }
    if g.readiness_period_ns != gateway_defaults.readiness_period_ns {
        let _ = writeln!(y, "  readinessPeriod: {}", go(g.readiness_period_ns));
    }

    y.push_str("\nfaasnetes:\n");
    let _ = writeln!(y, "  readTimeout: {}", go(p.read_timeout_ns));
    let _ = writeln!(y, "  writeTimeout: {}", go(p.write_timeout_ns));

    y.push_str("\nload:\n");
    let _ = writeln!(y, "  concurrency: {}", l.concurrency);
    let _ = writeln!(y, "  requests: {}", l.requests);
    let _ = writeln!(y, "  timeout: {}", go(l.timeout_ns));
    let method = match l.method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    let _ = writeln!(y, "  method: {method}");
    let _ = writeln!(y, "  keepAlive: {}", l.keep_alive);
    let _ = writeln!(y, "  rate: {}", l.rate_per_s);
    if l.qps_per_worker > 0 {
        let _ = writeln!(y, "  qps: {}", l.qps_per_worker);
    }
    let _ = writeln!(y, "  start: {}", go(l.start_ns));
    // Only in an asynchronous run: its absence is a synchronous load.
    if let Some(a) = &config.asynchronous {
        let _ = writeln!(y, "  async: true");
        let _ = writeln!(y, "  callback: {}", a.callback);
        let _ = writeln!(y, "  callbackDuration: {}", go(a.callback_duration_ns));
        // Added keys, only when set, so that files written before them stay the same.
        if a.callback_failures > 0 {
            let _ = writeln!(y, "  callbackFailures: {}", a.callback_failures);
        }
    }

    y.push_str("\nnetwork:\n");
    let _ = writeln!(y, "  rtt: {}", go(config.network.rtt_ns));

    // Only with an ingress: its absence is the section's absence.
    if let Some(ingress) = &config.ingress {
        y.push_str("\ningress:\n");
        let _ = writeln!(y, "  readTimeout: {}", go(ingress.read_timeout_ns));
    }

    if let Some(a) = &config.asynchronous {
        let q = &a.queue_worker;
        y.push_str("\nqueueWorker:\n");
        let _ = writeln!(y, "  edition: {}", q.edition.name());
        let _ = writeln!(y, "  replicas: {}", q.replicas);
        // The effective ack wait is whole seconds, which reads back unchanged; 0 only comes
        // from a value below a second.
        let pro = q.edition == faasim_model::config::QueueEdition::Pro;
        let ack_wait = if q.ack_wait_ns == 0 && !pro {
            "500ms".to_string()
        } else {
            go(q.ack_wait_ns)
        };
        let _ = writeln!(y, "  ackWait: {ack_wait}");
        let _ = writeln!(y, "  upstreamTimeout: {}", go(q.upstream_timeout_ns));
        // The Pro worker's own keys (CE ignores them: its output stays as it was).
        if pro {
            let _ = writeln!(y, "  maxInflight: {}", q.max_inflight);
            let _ = writeln!(y, "  maxRetryAttempts: {}", q.max_retry_attempts);
            let _ = writeln!(y, "  initialRetryWait: {}", go(q.initial_retry_wait_ns));
            let _ = writeln!(y, "  maxRetryWait: {}", go(q.max_retry_wait_ns));
            let codes: Vec<String> = q.retry_http_codes.iter().map(u16::to_string).collect();
            let _ = writeln!(y, "  retryHttpCodes: \"{}\"", codes.join(","));
            // Only when set, so that files written before the key existed stay the same.
            if q.backoff != faasim_model::config::Backoff::Exponential {
                let _ = writeln!(y, "  backoff: {}", q.backoff.name());
            }
            if q.pro_ack_before_callback {
                let _ = writeln!(y, "  ackBeforeCallback: true");
            }
            if q.callback_retries > 0 {
                let _ = writeln!(y, "  callbackRetries: {}", q.callback_retries);
            }
        }
        let _ = writeln!(
            y,
            "  terminationGracePeriodSeconds: {}",
            q.grace_ns / NS_PER_S
        );
        let _ = writeln!(y, "  startup: {}", go(q.startup_ns));
    }

    if events.is_empty() {
        y.push_str("\nevents: []\n");
    } else {
        y.push_str("\nevents:\n");
    }
    let mut sorted = true;
    for (index, event) in events.iter().enumerate() {
        if index > 0 && events[index - 1].at_ns > event.at_ns {
            sorted = false;
        }
        let _ = writeln!(y, "  - at: {}", go(event.at_ns));
        match &event.action {
            Action::Scale(n) => {
                let _ = writeln!(y, "    scale: {n}");
            }
            Action::Rollout => y.push_str("    rollout: {}\n"),
            Action::DrainNode { notice_ns, node } => match node {
                Some(node) => {
                    let _ = writeln!(
                        y,
                        "    drainNode: {{notice: {}, node: {node}}}",
                        go(*notice_ns)
                    );
                }
                None => {
                    let _ = writeln!(y, "    drainNode: {{notice: {}}}", go(*notice_ns));
                }
            },
            Action::KillPod { pod } => match pod {
                Some(pod) => {
                    let _ = writeln!(y, "    killPod: {{pod: {}}}", quoted(pod));
                }
                None => y.push_str("    killPod: {}\n"),
            },
            Action::AnnotatePod { pod, deletion_cost } => {
                let _ = writeln!(
                    y,
                    "    annotatePod: {{pod: {}, deletionCost: {deletion_cost}}}",
                    quoted(pod)
                );
            }
            Action::ShutdownNode {
                node,
                grace_period_ns,
                critical_pods_ns,
            } => {
                let _ = writeln!(
                    y,
                    "    shutdownNode: {{node: {node}, gracePeriod: {}, criticalPods: {}}}",
                    go(*grace_period_ns),
                    go(*critical_pods_ns)
                );
            }
            Action::LoseNode { node } => {
                let _ = writeln!(y, "    loseNode: {{node: {node}}}");
            }
            Action::RolloutGateway => y.push_str("    rolloutGateway: {}\n"),
            Action::RestartQueueWorker => y.push_str("    restartQueueWorker: {}\n"),
            Action::Deploy { scale_min } => {
                y.push_str("    deploy: {}\n");
                // The file always writes the label, so a deploy reads it back whenever it
                // is above 0.
                let read_back = (f.scale_min > 0).then_some(f.scale_min);
                if *scale_min != read_back {
                    approximations.push(format!(
                        "events[{index}].deploy: resets the replicas to {scale_min:?}, but the \
                         written label makes it {read_back:?}"
                    ));
                }
            }
        }
    }
    if !sorted {
        approximations.push(
            "events: not in time order; the loader sorts them (stable), so they run sorted"
                .to_string(),
        );
    }
    Emitted {
        yaml: y,
        approximations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use faasim_model::config::WatchdogKind;
    use faasim_model::time::NS_PER_MS;

    fn round_trip(config: &Config, events: &[Event]) {
        let meta = Meta {
            name: "round \"trip\"".to_string(),
            seed: Some(9),
            limit_ns: Some(600 * NS_PER_S),
            comments: vec!["written by a test".to_string()],
        };
        let emitted = scenario(&meta, config, events);
        assert!(emitted.is_exact(), "{:?}", emitted.approximations);
        let back = parse(&emitted.yaml, "emitted.yaml")
            .unwrap_or_else(|e| panic!("{e}\n{}", emitted.yaml));
        assert_eq!(&back.config, config, "{}", emitted.yaml);
        assert_eq!(back.events, events);
        assert_eq!(back.name, meta.name);
        assert_eq!(back.seed, Some(9));
        assert_eq!(back.limit_ns, Some(600 * NS_PER_S));
    }

    #[test]
    fn every_shipped_scenario_round_trips() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("scenarios/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 10);
        for path in paths {
            let loaded = crate::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            let meta = Meta {
                name: loaded.name.clone(),
                seed: loaded.seed,
                limit_ns: loaded.limit_ns,
                comments: Vec::new(),
            };
            let emitted = scenario(&meta, &loaded.config, &loaded.events);
            let file = path.display();
            assert!(emitted.is_exact(), "{file}: {:?}", emitted.approximations);
            let back = parse(&emitted.yaml, "emitted.yaml")
                .unwrap_or_else(|e| panic!("{file}: {e}\n{}", emitted.yaml));
            assert_eq!(back.config, loaded.config, "{file}\n{}", emitted.yaml);
            assert_eq!(back.events, loaded.events, "{file}");
            assert_eq!(back.name, loaded.name, "{file}");
            assert_eq!(back.seed, loaded.seed, "{file}");
            assert_eq!(back.limit_ns, loaded.limit_ns, "{file}");
        }
    }

    #[test]
    fn defaults_round_trip() {
        round_trip(&Config::default(), &[]);
    }

    #[test]
    fn child_defaults_differ_from_the_watchdog_and_are_left_out() {
        let mut config = Config::default();
        config.function.watchdog.exec_timeout_ns = 0;
        config.function.watchdog.healthcheck_interval_ns = -3 * NS_PER_S as i64;
        config.function.child.healthcheck_interval_ns = -3 * NS_PER_S as i64;
        config.kubernetes.edition = Edition::Pro;
        config.kubernetes.grace_s = 32;
        config.kubernetes.grace_source = GraceSource::ProDerived;
        round_trip(&config, &[]);
    }

    #[test]
    fn the_bare_integer_trap_is_written_as_a_bare_integer() {
        let mut config = Config::default();
        let ns = 60 * NS_PER_S;
        config.function.watchdog.write_timeout_ns = ns;
        config.function.child.write_timeout_ns = ns;
        config.function.watchdog.healthcheck_interval_ns = ns as i64;
        config.function.child.healthcheck_interval_ns = ns as i64;
        config.kubernetes.edition = Edition::Pro;
        config.kubernetes.grace_s = 2;
        config.kubernetes.grace_source = GraceSource::ProDerived;
        round_trip(&config, &[]);
        let emitted = scenario(&Meta::default(), &config, &[]);
        assert!(emitted.yaml.contains("write_timeout: \"60\""));
    }

    #[test]
    fn everything_else_round_trips() {
        let mut config = Config::default();
        let f = &mut config.function;
        f.name = "batch-2".to_string();
        f.watchdog.kind = WatchdogKind::FixedWait;
        f.watchdog.mode = Mode::Streaming;
        f.watchdog.write_timeout_ns = 1500 * NS_PER_MS;
        f.child.write_timeout_ns = 1500 * NS_PER_MS;
        f.watchdog.read_timeout_ns = 7 * NS_PER_S;
        f.child.read_timeout_ns = 7 * NS_PER_S;
        f.watchdog.healthcheck_interval_ns = 250_000;
        f.child.healthcheck_interval_ns = 250_000;
        f.watchdog.max_inflight = 4;
        f.child.on_sigterm = OnSigterm::Exit;
        f.child.startup_ns = Span {
            lo_ns: 1,
            hi_ns: 3 * NS_PER_S,
        };
        f.handler_ns = Span {
            lo_ns: 2 * 3600 * NS_PER_S,
            hi_ns: 3 * 3600 * NS_PER_S + 1,
        };
        f.startup_ns = Span::fixed(0);
        f.start = Start::Cold;
        f.scale_min = 0;
        f.scale_max = 3;
        config.ingress = Some(faasim_model::config::IngressConfig {
            read_timeout_ns: 90 * NS_PER_S + 500 * NS_PER_MS,
        });
        let k = &mut config.kubernetes;
        k.grace_s = 0;
        k.grace_source = GraceSource::Explicit;
        k.pre_stop_sleep_s = 12;
        k.readiness.initial_delay_s = 0;
        k.readiness.period_s = 9;
        k.max_surge = IntOrPercent::Percent(25);
        k.max_unavailable = IntOrPercent::Int(0);
        k.endpoint_lag_ns = Span::fixed(90 * NS_PER_S);
        k.nodes = 1;
        k.restart_delay_ns = 4 * NS_PER_S;
        config.gateway.upstream_timeout_ns = 0;
        config.gateway.scale_from_zero = false;
        config.provider.read_timeout_ns = 3 * NS_PER_S;
        config.provider.write_timeout_ns = 3600 * NS_PER_S;
        config.load.concurrency = 3;
        config.load.requests = 1;
        config.load.rate_per_s = 7;
        config.load.timeout_ns = 0;
        config.load.method = Method::Post;
        config.load.keep_alive = false;
        config.load.start_ns = 1234 * NS_PER_MS;
        config.network.rtt_ns = 0;
        let events = vec![
            Event {
                at_ns: 0,
                action: Action::Scale(0),
            },
            Event {
                at_ns: NS_PER_S,
                action: Action::Rollout,
            },
            Event {
                at_ns: NS_PER_S,
                action: Action::DrainNode {
                    notice_ns: 0,
                    node: Some(0),
                },
            },
            Event {
                at_ns: 2 * NS_PER_S,
                action: Action::DrainNode {
                    notice_ns: 5 * NS_PER_MS,
                    node: None,
                },
            },
            Event {
                at_ns: 3 * NS_PER_S,
                action: Action::KillPod {
                    pod: Some("batch-2-r1-0".to_string()),
                },
            },
            Event {
                at_ns: 3 * NS_PER_S,
                action: Action::KillPod { pod: None },
            },
        ];
        round_trip(&config, &events);
    }

    #[test]
    fn what_the_format_cannot_say_is_reported() {
        let mut config = Config::default();
        config.function.child.write_timeout_ns = 11 * NS_PER_S;
        config.gateway.poll_attempts = 5;
        config.kubernetes.grace_s = 31;
        let emitted = scenario(&Meta::default(), &config, &[]);
        assert_eq!(
            emitted.approximations.len(),
            4,
            "{:?}",
            emitted.approximations
        );
        let back = parse(&emitted.yaml, "x.yaml").unwrap();
        assert_eq!(back.config.kubernetes.grace_s, 31);
        assert_eq!(back.config.function.child.write_timeout_ns, 30 * NS_PER_S);
    }
}
