//! `faasim explain --function NAME`: one function's timeout chain from the client to its
//! handler, with effective values, where each came from and which limit fires first, and its
//! termination budget.

use std::fmt::Write as _;

use faasim_model::config::{
    Edition, GraceSource, Mode, OnSigterm, Span, WatchdogKind, server_limit_ns,
};
use faasim_model::duration::format_go;
use faasim_model::template;

use super::origin_text;
use crate::{FunctionInput, Origin, Provenance};

/// One limit or delay on the way from the client to the handler and back, or in termination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLink {
    /// Which component (`client`, `gateway`, `provider`, `watchdog`, `child`, `kubelet`,
    /// `endpoints`, `handler`).
    pub component: &'static str,
    /// The setting, as users name it (`upstream_timeout`, `terminationGracePeriodSeconds`).
    pub setting: &'static str,
    /// The dotted provenance key it is recorded under, when there is one.
    pub key: Option<String>,
    /// The effective value, as a user writes it (`1m0s`, `0s..1s`, `unlimited`).
    pub value: String,
    /// Where it came from (`stack.yml:8:22`, `default`, `flag --edition`, `derived: …`).
    pub origin: String,
    /// Nanoseconds when the value is a time limit that ends a call (for "fires first").
    pub bounds_call_ns: Option<u64>,
    /// What the client sees when this limit fires first.
    pub outcome: &'static str,
}

fn span_text(span: Span) -> String {
    if span.is_fixed() {
        go(span.lo_ns)
    } else {
        format!("{}..{}", go(span.lo_ns), go(span.hi_ns))
    }
}

fn go(ns: u64) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

fn go_signed(ns: i64) -> String {
    format_go(ns)
}

/// Find the first recorded key among `keys`.
fn lookup<'i>(input: &'i FunctionInput, keys: &[&str]) -> Option<&'i Provenance> {
    keys.iter().find_map(|k| input.origin(k))
}

/// The timeout chain of one function from the client to the handler, then its termination.
pub fn timeout_chain(input: &FunctionInput) -> Vec<ChainLink> {
    let c = &input.config;
    let wd = &c.function.watchdog;
    let link = |component: &'static str,
                setting: &'static str,
                keys: &[&str],
                value: String,
                fallback_origin: &str,
                bounds_call_ns: Option<u64>,
                outcome: &'static str| {
        let found = lookup(input, keys);
        ChainLink {
            component,
            setting,
            key: found
                .map(|p| p.key.clone())
                .or_else(|| keys.first().map(|k| k.to_string())),
            value,
            origin: found
                .map(|p| origin_text(&p.origin))
                .unwrap_or_else(|| fallback_origin.to_string()),
            bounds_call_ns,
            outcome,
        }
    };
    let env = |name: &str| format!("function.environment.{name}");
    let mut chain = Vec::new();

    // The client is rarely in the files: its timeout counts only when something set it.
    let client_timeout = c.load.timeout_ns;
    let client_known = lookup(input, &["load.timeout", "client.timeout"]).is_some();
    chain.push(link(
        "client",
        "timeout",
        &["load.timeout", "client.timeout"],
        if client_timeout == 0 {
            "none".to_string()
        } else {
            go(client_timeout)
        },
        "not known (the simulated client's; not counted below)",
        (client_known && client_timeout > 0).then_some(client_timeout),
        "the client gives up",
    ));
    // An ingress sits between the client and the gateway, when the manifests have one.
    if let Some(ingress) = &c.ingress {
        chain.push(link(
            "ingress",
            "proxy-read-timeout",
            &["ingress.readTimeout"],
            go(ingress.read_timeout_ns),
            "default (ingress-nginx)",
            Some(ingress.read_timeout_ns),
            "504 from the ingress (the call behind it runs on)",
        ));
    }
    chain.push(link(
        "gateway",
        "write_timeout",
        &["gateway.writeTimeout", "gateway.write_timeout"],
        go(c.gateway.write_timeout_ns),
        "default (chart)",
        Some(c.gateway.write_timeout_ns),
        "empty reply, no status",
    ));
    chain.push(link(
        "gateway",
        "read_timeout",
        &["gateway.readTimeout", "gateway.read_timeout"],
        go(c.gateway.read_timeout_ns),
        "default (chart)",
        None,
        "",
    ));
    chain.push(link(
        "gateway",
        "upstream_timeout",
        &["gateway.upstreamTimeout", "gateway.upstream_timeout"],
        go(c.gateway.upstream_timeout_ns),
        "default (chart)",
        Some(c.gateway.upstream_timeout_ns),
        "502 from the gateway",
    ));
    chain.push(link(
        "provider",
        "read_timeout",
        &["faasnetes.readTimeout", "provider.readTimeout"],
        go(c.provider.read_timeout_ns),
        "default (gateway.readTimeout, as the chart does)",
        Some(c.provider.read_timeout_ns),
        "500 \"Can't reach service\" from the provider",
    ));
    chain.push(link(
        "provider",
        "write_timeout",
        &["faasnetes.writeTimeout", "provider.writeTimeout"],
        go(c.provider.write_timeout_ns),
        "default (gateway.writeTimeout, as the chart does)",
        Some(c.provider.write_timeout_ns),
        "502 (the gateway sees EOF)",
    ));
    let exec = env("exec_timeout");
    chain.push(link(
        "watchdog",
        "exec_timeout",
        &[exec.as_str()],
        if wd.exec_timeout_ns == 0 {
            "0s (disabled)".to_string()
        } else {
            go(wd.exec_timeout_ns)
        },
        "default",
        (wd.exec_timeout_ns > 0).then_some(wd.exec_timeout_ns),
        "504 from the watchdog",
    ));
    let write = env("write_timeout");
    chain.push(link(
        "watchdog",
        "write_timeout",
        &[write.as_str()],
        go(wd.write_timeout_ns),
        "default",
        Some(wd.write_timeout_ns),
        "500 when the handler returns (the response is not written)",
    ));
    let read = env("read_timeout");
    chain.push(link(
        "watchdog",
        "read_timeout",
        &[read.as_str()],
        go(wd.read_timeout_ns),
        "default",
        None,
        "",
    ));
    let hc = env("healthcheck_interval");
    chain.push(link(
        "watchdog",
        "healthcheck_interval",
        &[hc.as_str()],
        if wd.healthcheck_interval_ns <= 0 {
            format!("{} (never closes)", go_signed(wd.healthcheck_interval_ns))
        } else {
            go_signed(wd.healthcheck_interval_ns)
        },
        "default (write_timeout)",
        None,
        "",
    ));
    let inflight = env("max_inflight");
    chain.push(link(
        "watchdog",
        "max_inflight",
        &[inflight.as_str()],
        if wd.max_inflight == 0 {
            "0 (unlimited)".to_string()
        } else {
            wd.max_inflight.to_string()
        },
        "default",
        None,
        "",
    ));
    if wd.mode == Mode::Http {
        let child = &c.function.child;
        // The child reads the same variables; one that is not validly written leaves it at
        // its own default.
        let child_origin = |env_name: &str| match input.origin(&env(env_name)) {
            Some(Provenance {
                origin: Origin::File(_),
                ..
            }) => "the function's environment (as the watchdog's)",
            _ => "the child's own default",
        };
        // A child server with no write timeout (node, waitress, the JVM's), or one of 0 (Go's
        // http.Server: none), bounds nothing.
        let child_write = server_limit_ns(child.write_timeout_ns);
        chain.push(link(
            "child",
            "write_timeout",
            &[
                "function.upstream.write_timeout",
                "function.child.write_timeout",
            ],
            child_write.map_or_else(|| "none".to_string(), go),
            child_origin("write_timeout"),
            child_write,
            "500 from the watchdog (the child's response is lost)",
        ));
        // Only a Go child reads healthcheck_interval; a child with no write timeout of its own
        // (node, waitress, the JVM, or no template) has no such wait.
        let go_child = input
            .origin("function.upstream.write_timeout")
            .is_none_or(|p| p.value != "none");
        if go_child {
            chain.push(link(
                "child",
                "healthcheck_interval",
                &[
                    "function.upstream.healthcheck_interval",
                    "function.child.healthcheck_interval",
                ],
                go_signed(child.healthcheck_interval_ns),
                child_origin("healthcheck_interval"),
                None,
                "",
            ));
        }
        chain.push(link(
            "child",
            "on SIGTERM",
            &["function.upstream.onSigterm"],
            match child.on_sigterm {
                OnSigterm::Drain => "drain".to_string(),
                OnSigterm::Exit => "exit at once".to_string(),
                OnSigterm::Stop {
                    shutdown_timeout_ns,
                } => format!("stop, drain up to {}, exit 0", go(shutdown_timeout_ns)),
            },
            "assumed (a child that drains)",
            None,
            "",
        ));
    }
    chain.push(link(
        "handler",
        "duration",
        &["function.handler.duration"],
        span_text(c.function.handler_ns),
        "assumed (not in the files)",
        None,
        "",
    ));
    let k = &c.kubernetes;
    chain.push(link(
        "kubelet",
        "terminationGracePeriodSeconds",
        &["kubernetes.terminationGracePeriodSeconds"],
        format!("{}s", k.grace_s),
        match (k.grace_source.clone(), k.edition) {
            (GraceSource::Explicit, _) => "explicit",
            (GraceSource::ProDerived, _) => "derived: Pro, write_timeout + 2s",
            (GraceSource::KubernetesDefault, Edition::Ce) => "default: Kubernetes 30 s (CE)",
            (GraceSource::KubernetesDefault, Edition::Pro) => "default: Kubernetes 30 s",
        },
        None,
        "",
    ));
    chain.push(link(
        "kubelet",
        "preStop sleep",
        &["kubernetes.preStop.sleep", "kubernetes.preStop"],
        format!("{}s", k.pre_stop_sleep_s),
        "default (no hook)",
        None,
        "",
    ));
    chain.push(link(
        "endpoints",
        "propagation lag",
        &["kubernetes.endpointLag"],
        span_text(k.endpoint_lag_ns),
        "default (assumed)",
        None,
        "",
    ));
    chain
}

/// What the function's template implies, with its source, or the assumption in its place.
fn template_lines(out: &mut String, input: &FunctionInput) {
    let Some(p) = input.origin(crate::input::TEMPLATE_KEY) else {
        return;
    };
    let _ = writeln!(out, "template {} ({})", p.value, origin_text(&p.origin));
    if let Some(t) = input.config.function.template.and_then(template::template) {
        let child = match t.on_sigterm {
            Some(on_sigterm) => format!("; child {}", crate::input::sigterm_text(on_sigterm)),
            None => String::new(),
        };
        let env: Vec<String> = t.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  implies: {}, mode {}, {}{child}",
            t.watchdog.name(),
            t.mode.name(),
            t.process
        );
        if !env.is_empty() {
            let _ = writeln!(
                out,
                "  its Dockerfile sets {} (the function's environment wins)",
                env.join(", ")
            );
        }
        let _ = writeln!(out, "  source: {}", t.source);
        if !t.assumption.is_empty() {
            let _ = writeln!(out, "  not read in code: {}", t.assumption);
        }
    }
    out.push('\n');
}

/// `faasim explain --function NAME`: the timeout chain from client to handler with effective
/// values and origins, which limit fires first, and the termination budget.
pub fn explain_function(input: &FunctionInput) -> String {
    let chain = timeout_chain(input);
    let c = &input.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}:{}): timeout chain, client to handler",
        input.name, input.location.file, input.location.line
    );
    let edition_from = input
        .origin("kubernetes.edition")
        .map(|p| format!(" (from {})", origin_text(&p.origin)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "edition {}{edition_from}, watchdog {}, mode {}\n",
        match c.kubernetes.edition {
            Edition::Ce => "ce",
            Edition::Pro => "pro",
        },
        match c.function.watchdog.kind {
            WatchdogKind::OfWatchdog => "of-watchdog",
            WatchdogKind::FixedWait => "fixed-wait (pre-2021)",
            WatchdogKind::Classic => "classic",
        },
        match c.function.watchdog.mode {
            Mode::Http => "http",
            Mode::Streaming => "streaming",
        }
    );
    template_lines(&mut out, input);
    let width_setting = chain
        .iter()
        .map(|l| l.component.len() + 1 + l.setting.len())
        .max()
        .unwrap_or(0);
    let width_value = chain.iter().map(|l| l.value.len()).max().unwrap_or(0);
    for l in &chain {
        let name = format!("{} {}", l.component, l.setting);
        let _ = writeln!(
            out,
            "  {name:<width_setting$}  {:<width_value$}  {}",
            l.value, l.origin
        );
    }
    // The edition is in the header, with where it came from.
    let used: Vec<&str> = chain
        .iter()
        .filter_map(|l| l.key.as_deref())
        .chain(["kubernetes.edition"])
        .collect();
    let others: Vec<&Provenance> = input
        .provenance
        .iter()
        .filter(|p| !used.contains(&p.key.as_str()))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\nother values:");
        for p in others {
            let _ = writeln!(out, "  {}  {}  {}", p.key, p.value, origin_text(&p.origin));
        }
    }

    // Which limit ends a call first.
    let mut bounds: Vec<&ChainLink> = chain
        .iter()
        .filter(|l| l.bounds_call_ns.is_some())
        .collect();
    bounds.sort_by_key(|l| l.bounds_call_ns);
    if let Some(first) = bounds.first() {
        let first_ns = first.bounds_call_ns.unwrap_or_default();
        let tied: Vec<String> = bounds
            .iter()
            .skip(1)
            .filter(|l| l.bounds_call_ns == Some(first_ns))
            .map(|l| format!("{} {}", l.component, l.setting))
            .collect();
        let _ = writeln!(
            out,
            "\nfires first: {} {} at {} -> {}",
            first.component, first.setting, first.value, first.outcome
        );
        if !tied.is_empty() {
            let _ = writeln!(out, "  tied with {}", tied.join(", "));
        }
        if let Some(next) = bounds
            .iter()
            .find(|l| l.bounds_call_ns.unwrap_or_default() > first_ns)
        {
            let _ = writeln!(
                out,
                "  then {} {} at {} -> {}",
                next.component, next.setting, next.value, next.outcome
            );
        }
        let handler_max = c.function.handler_ns.hi_ns;
        if handler_max >= first_ns {
            let _ = writeln!(
                out,
                "  a handler of {} does not finish before it",
                go(handler_max)
            );
        }
    }

    // Termination budget.
    let k = &c.kubernetes;
    let wd = &c.function.watchdog;
    let pre_stop_ns = k
        .pre_stop_sleep_s
        .saturating_mul(faasim_model::time::NS_PER_S);
    let grace_ns = k.grace_s.saturating_mul(faasim_model::time::NS_PER_S);
    let _ = writeln!(out, "\ntermination (grace counts from the pod's deletion):");
    if wd.mode == Mode::Http && c.function.child.on_sigterm == OnSigterm::Exit {
        let _ = writeln!(
            out,
            "  preStop {}, then the watchdog forwards SIGTERM to its child, which dies at once: \
             the watchdog exits with it (log.Fatalf) and every call in flight is dropped, \
             whatever the grace ({}s)",
            go(pre_stop_ns),
            k.grace_s
        );
        return out;
    }
    if wd.healthcheck_interval_ns <= 0 {
        let _ = writeln!(
            out,
            "  healthcheck_interval {} never ends: the watchdog never closes its listener and \
             every termination ends in SIGKILL at {}s",
            go_signed(wd.healthcheck_interval_ns),
            k.grace_s
        );
        return out;
    }
    // The fixed-wait watchdog keeps its listener open for write_timeout, not
    // healthcheck_interval, and sleeps write_timeout again after draining.
    let (open_name, open_ns, tail_ns) = match wd.kind {
        WatchdogKind::OfWatchdog | WatchdogKind::Classic => (
            "healthcheck_interval",
            u64::try_from(wd.healthcheck_interval_ns).unwrap_or_default(),
            wd.write_timeout_ns,
        ),
        WatchdogKind::FixedWait => (
            "write_timeout",
            wd.write_timeout_ns,
            wd.write_timeout_ns.saturating_mul(2),
        ),
    };
    let listen_ns = pre_stop_ns.saturating_add(open_ns);
    let wait_ns = listen_ns.saturating_add(tail_ns);
    let _ = writeln!(
        out,
        "  listener open until preStop {} + {open_name} {} = {}",
        go(pre_stop_ns),
        go(open_ns),
        go(listen_ns)
    );
    let _ = writeln!(
        out,
        "  endpoints lag up to {}: {}",
        go(k.endpoint_lag_ns.hi_ns),
        if k.endpoint_lag_ns.hi_ns <= listen_ns {
            "routing stops before the listener closes"
        } else {
            "requests can still be routed after the listener closes (refused, 500)"
        }
    );
    let _ = writeln!(
        out,
        "  drain deadline {} (listener closes, then up to {}) vs grace {}s: {}",
        go(wait_ns),
        match wd.kind {
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                format!("write_timeout {}", go(wd.write_timeout_ns))
            }
            WatchdogKind::FixedWait => format!("2 x write_timeout {}", go(tail_ns)),
        },
        k.grace_s,
        if listen_ns >= grace_ns {
            "SIGKILL comes before the listener even closes".to_string()
        } else if wait_ns < grace_ns {
            "fits".to_string()
        } else {
            format!(
                "a request still running at {} is cut by SIGKILL",
                go(grace_ns)
            )
        }
    );
    out
}
