//! Scenario loading: the contract's example maps to the right values, `{}` gives every default,
//! and each kind of bad input gives a one-line error naming file, line and key.

use std::path::Path;

use faasim_model::config::{
    Config, Edition, GraceSource, IntOrPercent, Method, Mode, OnSigterm, Span, Start, WatchdogKind,
};
use faasim_model::schedule::Action;
use faasim_model::time::{NS_PER_MS, NS_PER_S};
use faasim_sim::scenario::{Scenario, ScenarioError, load, parse};

/// The full example of scenario-format.md, verbatim.
const EXAMPLE: &str = r#"name: go-long scaled to zero with five 90 s calls in flight
seed: 7                        # optional; `--seed` overrides it
limit: 30m                     # optional cap on simulated time

function:                      # as an OpenFaaS stack.yml function entry
  name: go-long
  environment:                 # strings, as in stack.yml; a bare integer means seconds
    write_timeout: 2m30s
    read_timeout: 2m
    exec_timeout: 2m
    healthcheck_interval: 5s
    max_inflight: 0
  labels:
    com.openfaas.scale.min: 1
    com.openfaas.scale.max: 1
  watchdog: of-watchdog        # of-watchdog: drain (2021 on) | fixed-wait: the pre-2021 sequence
  mode: http                   # http: the watchdog proxies to a child server | streaming: forks per request
  upstream:                    # http mode only: the child server behind the watchdog
    onSigterm: drain           # drain: like the golang-middleware template | exit: dies at once
  handler:
    duration: 1m30s            # fixed, or a range such as 80s..100s (uniform, from the seed)
  startup: 3s                  # pod created -> listening; fixed or a range
  start: warm                  # warm: initial replicas ready at time 0 | cold: just deployed,
                               # the initial replicas are created at time 0 and need `startup`

kubernetes:
  edition: pro                 # pro: grace = write_timeout + 2s | ce: the Kubernetes default 30s
  terminationGracePeriodSeconds: 152   # when set, wins over edition
  preStop: {sleep: 0}          # seconds, as the Kubernetes sleep action
  readinessProbe: {initialDelaySeconds: 2, periodSeconds: 2, failureThreshold: 3}
  strategy: {maxSurge: 1, maxUnavailable: 0}
  endpointLag: 0s..1s          # pod deleted -> the gateway stops routing to it; fixed or range

gateway:                       # OpenFaaS Helm chart value names
  upstreamTimeout: 3m
  readTimeout: 3m5s
  writeTimeout: 3m5s
  scaleFromZero: true

load:                          # like hey: `concurrency` workers send `requests` in total
  concurrency: 5
  requests: 10
  timeout: 125s                # client timeout
  method: POST                 # POST with a body is never retried; GET may be, as Go does
  keepAlive: true
  rate: 0                      # 0: closed loop like hey; N: open loop, N requests per second

events:                        # what happens to the deployment, at simulated times
  - at: 30s
    scale: 0                   # kubectl scale --replicas=0
  - at: 4m
    rollout: {}                # a rolling update to a new revision
  - at: 6m
    drainNode: {notice: 2m}    # a spot node reclaimed: its pods are evicted, the node dies after notice
  - at: 8m
    killPod: {}                # a pod crashes (no SIGTERM)
"#;

const S: u64 = NS_PER_S;

fn ok(text: &str) -> Scenario {
    match parse(text, "scenarios/test.yaml") {
        Ok(scenario) => scenario,
        Err(error) => panic!("expected a scenario, got: {error}"),
    }
}

fn err(text: &str) -> ScenarioError {
    match parse(text, "scenarios/bad.yaml") {
        Ok(scenario) => panic!("expected an error, got {scenario:?}"),
        Err(error) => error,
    }
}

/// The error displays as one line holding the file, `:LINE:` and the key.
fn assert_error(error: &ScenarioError, line: usize, key: &str) {
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "not one line: {shown:?}");
    assert!(shown.starts_with("scenarios/bad.yaml:"), "no file: {shown}");
    assert!(
        shown.contains(&format!(":{line}:")),
        "no line {line}: {shown}"
    );
    assert!(
        shown.contains(&format!("key `{key}`")),
        "no key {key}: {shown}"
    );
    assert_eq!(error.line, Some(line), "{shown}");
    assert_eq!(error.key.as_deref(), Some(key), "{shown}");
}

fn check_example(scenario: &Scenario) {
    assert_eq!(
        scenario.name,
        "go-long scaled to zero with five 90 s calls in flight"
    );
    assert_eq!(scenario.seed, Some(7));
    assert_eq!(scenario.limit_ns, Some(30 * 60 * S));
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);

    let f = &scenario.config.function;
    assert_eq!(f.name, "go-long");
    assert_eq!(f.watchdog.kind, WatchdogKind::OfWatchdog);
    assert_eq!(f.watchdog.mode, Mode::Http);
    assert_eq!(f.watchdog.write_timeout_ns, 150 * S);
    assert_eq!(f.watchdog.read_timeout_ns, 120 * S);
    assert_eq!(f.watchdog.exec_timeout_ns, 120 * S);
    assert_eq!(f.watchdog.healthcheck_interval_ns, 5 * S as i64);
    assert_eq!(f.watchdog.max_inflight, 0);
    assert_eq!(f.child.on_sigterm, OnSigterm::Drain);
    assert_eq!(f.child.write_timeout_ns, 150 * S);
    assert_eq!(f.child.startup_ns, Span::fixed(0));
    assert_eq!(f.handler_ns, Span::fixed(90 * S));
    assert_eq!(f.startup_ns, Span::fixed(3 * S));
    assert_eq!(f.start, Start::Warm);
    assert_eq!((f.scale_min, f.scale_max), (1, 1));

    let k = &scenario.config.kubernetes;
    assert_eq!(k.edition, Edition::Pro);
    assert_eq!(
        (k.grace_s, k.grace_source.clone()),
        (152, GraceSource::Explicit)
    );
    assert_eq!(k.pre_stop_sleep_s, 0);
    assert_eq!(
        (
            k.readiness.initial_delay_s,
            k.readiness.period_s,
            k.readiness.failure_threshold
        ),
        (2, 2, 3)
    );
    assert_eq!(k.readiness.success_threshold, 1);
    assert_eq!(
        (k.max_surge, k.max_unavailable),
        (IntOrPercent::Int(1), IntOrPercent::Int(0))
    );
    assert_eq!(k.endpoint_lag_ns, Span { lo_ns: 0, hi_ns: S });

    let g = &scenario.config.gateway;
    assert_eq!(g.upstream_timeout_ns, 180 * S);
    assert_eq!(g.read_timeout_ns, 185 * S);
    assert_eq!(g.write_timeout_ns, 185 * S);
    assert!(g.scale_from_zero);
    // faasnetes defaults to the gateway's timeouts, as the Helm chart does.
    assert_eq!(scenario.config.provider.read_timeout_ns, 185 * S);
    assert_eq!(scenario.config.provider.write_timeout_ns, 185 * S);

    let l = &scenario.config.load;
    assert_eq!((l.concurrency, l.requests), (5, 10));
    assert_eq!(l.timeout_ns, 125 * S);
    assert_eq!(l.method, Method::Post);
    assert!(l.keep_alive);
    assert_eq!(l.rate_per_s, 0);

    let times: Vec<u64> = scenario.events.iter().map(|e| e.at_ns).collect();
    assert_eq!(times, vec![30 * S, 240 * S, 360 * S, 480 * S]);
    assert_eq!(scenario.events[0].action, Action::Scale(0));
    assert_eq!(scenario.events[1].action, Action::Rollout);
    assert_eq!(
        scenario.events[2].action,
        Action::DrainNode {
            notice_ns: 120 * S,
            node: None
        }
    );
    assert_eq!(scenario.events[3].action, Action::KillPod { pod: None });
}

#[test]
fn the_contract_example_maps_to_the_right_values() {
    let scenario = ok(EXAMPLE);
    assert_eq!(scenario.source, "scenarios/test.yaml");
    check_example(&scenario);
}

#[test]
fn an_empty_mapping_gives_every_default() {
    for text in ["{}", "", "# only a comment\n"] {
        let scenario = ok(text);
        assert_eq!(scenario.name, "test");
        assert_eq!(scenario.seed, None);
        assert_eq!(scenario.limit_ns, None);
        assert!(scenario.events.is_empty());
        assert!(scenario.warnings.is_empty());
        assert_eq!(scenario.config, Config::default());
    }
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = ok("{}").config;
    assert_eq!(c.function.handler_ns, Span::fixed(10 * NS_PER_MS));
    assert_eq!(c.function.startup_ns, Span::fixed(2 * S));
    assert_eq!((c.function.scale_min, c.function.scale_max), (1, 20));
    assert_eq!(c.function.watchdog.write_timeout_ns, 30 * S);
    assert_eq!(c.kubernetes.grace_s, 30);
    assert_eq!(c.kubernetes.nodes, 3);
    assert_eq!(c.kubernetes.endpoint_lag_ns, Span { lo_ns: 0, hi_ns: S });
    assert_eq!(c.gateway.upstream_timeout_ns, 60 * S);
    assert_eq!(c.gateway.read_timeout_ns, 65 * S);
    assert_eq!(c.provider.read_timeout_ns, 65 * S);
    assert_eq!((c.load.concurrency, c.load.requests), (50, 200));
    assert_eq!(c.load.timeout_ns, 20 * S);
    assert_eq!(c.network.rtt_ns, 500_000);
}

#[test]
fn malformed_yaml_names_line_and_key() {
    let error = err("seed: 1\nload: {concurrency: 5\n");
    assert_error(&error, 2, "load");
    assert_eq!(error.column, Some(7));
}

#[test]
fn an_unknown_key_is_named_with_its_section() {
    let error = err("seed: 1\nload: {concurency: 5}\n");
    assert_error(&error, 2, "load.concurency");
    assert!(
        error.message.contains("unknown key `concurency` in `load`"),
        "{error}"
    );

    let error = err("name: x\nlimits: 5m\n");
    assert_error(&error, 2, "limits");
    assert!(error.message.contains("at the top level"), "{error}");

    let error = err("events:\n  - at: 1s\n    drainNode:\n      notice: 1m\n      nodes: 2\n");
    assert_error(&error, 5, "events[0].drainNode.nodes");
}

#[test]
fn a_structural_type_error_names_the_key() {
    let error = err("function:\n  handler:\n    duration: [1s, 2s]\n");
    assert_error(&error, 3, "function.handler.duration");
    let error = err("load: 5\n");
    assert_error(&error, 1, "load");
}

#[test]
fn write_timeout_zero_is_refused_at_its_line() {
    let error = err("function:\n  environment:\n    exec_timeout: 10s\n    write_timeout: 0\n");
    assert_error(&error, 4, "function.environment.write_timeout");
}

#[test]
fn a_negative_count_is_refused_with_key_and_line() {
    let error = err("load:\n  requests: 10\n  concurrency: -1\n");
    assert_error(&error, 3, "load.concurrency");
    assert!(error.message.contains("-1"), "{error}");
}

#[test]
fn a_duration_with_a_space_is_refused() {
    let error = err("function:\n  handler: {duration: 2m 30s}\n");
    assert_error(&error, 2, "function.handler.duration");
    assert!(error.message.contains("2m 30s"), "{error}");
}

#[test]
fn two_actions_in_one_event_are_refused() {
    let error =
        err("events:\n  - at: 1s\n    scale: 0\n  - at: 2s\n    scale: 1\n    rollout: {}\n");
    assert_error(&error, 4, "events[1]");
    assert!(error.message.contains("scale, rollout"), "{error}");
    let error = err("events:\n  - at: 1s\n");
    assert_error(&error, 2, "events[0]");
}

#[test]
fn a_missing_file_names_the_file() {
    let error = load(Path::new("scenarios/no-such-file.yaml")).unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.starts_with("scenarios/no-such-file.yaml: cannot read file: "),
        "{shown}"
    );
    assert!(!shown.contains('\n'));
}

#[test]
fn a_file_on_disk_loads_with_its_stem_as_name() {
    let dir = std::env::temp_dir().join(format!("faasim-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scale-down.yaml");
    std::fs::write(&path, "load: {concurrency: 2, requests: 4}\n").unwrap();
    let scenario = load(&path).unwrap();
    assert_eq!(scenario.name, "scale-down");
    assert_eq!(scenario.source, path.display().to_string());
    assert_eq!(scenario.config.load.concurrency, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_invalid_watchdog_timeout_falls_back_with_a_warning() {
    let scenario = ok("function:\n  environment:\n    exec_timeout: abc\n");
    assert_eq!(scenario.config.function.watchdog.exec_timeout_ns, 30 * S);
    assert_eq!(scenario.warnings.len(), 1, "{:?}", scenario.warnings);
    assert_eq!(
        scenario.warnings[0].key,
        "function.environment.exec_timeout"
    );
}

#[test]
fn a_watchdog_variable_in_the_wrong_case_is_ignored_with_a_warning() {
    let scenario = ok("function:\n  environment:\n    EXEC_TIMEOUT: 5s\n");
    // of-watchdog reads `exec_timeout` only: the default stays.
    assert_eq!(scenario.config.function.watchdog.exec_timeout_ns, 30 * S);
    assert_eq!(scenario.warnings.len(), 1, "{:?}", scenario.warnings);
    assert_eq!(
        scenario.warnings[0].key,
        "function.environment.EXEC_TIMEOUT"
    );
    assert!(
        scenario.warnings[0]
            .message
            .contains("reads `exec_timeout`")
    );
    let fine = ok("function:\n  environment:\n    exec_timeout: 5s\n    MY_VAR: x\n");
    assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
}

#[test]
fn a_bare_integer_in_the_environment_is_seconds() {
    let scenario = ok("function:\n  environment:\n    read_timeout: 65\n");
    assert_eq!(scenario.config.function.watchdog.read_timeout_ns, 65 * S);
    assert!(scenario.warnings.is_empty());
}

#[test]
fn pro_grace_is_write_timeout_plus_two_seconds() {
    let scenario =
        ok("function:\n  environment:\n    write_timeout: 2m30s\nkubernetes:\n  edition: pro\n");
    let k = &scenario.config.kubernetes;
    assert_eq!(
        (k.grace_s, k.grace_source.clone()),
        (152, GraceSource::ProDerived)
    );
    assert!(scenario.warnings.is_empty());
}

#[test]
fn pro_grace_with_a_bare_integer_write_timeout_is_two_seconds_and_warned() {
    let scenario =
        ok("function:\n  environment:\n    write_timeout: \"60\"\nkubernetes:\n  edition: pro\n");
    assert_eq!(scenario.config.kubernetes.grace_s, 2);
    assert_eq!(scenario.config.function.watchdog.write_timeout_ns, 60 * S);
    assert_eq!(scenario.warnings.len(), 1, "{:?}", scenario.warnings);
    assert_eq!(scenario.warnings[0].key, "kubernetes.edition");
}

#[test]
fn ranges_labels_and_added_keys() {
    let scenario = ok(r#"
function:
  handler: {duration: 80s..100s}
  startup: 1s..3s
  start: cold
  mode: http
  upstream: {onSigterm: exit, startup: 6s}
  labels: {com.openfaas.scale.min: 2, com.openfaas.scale.max: "4"}
kubernetes:
  nodes: 5
  restartDelay: 10s
  strategy: {maxSurge: 25%, maxUnavailable: "10%"}
  endpointLag: 250ms
faasnetes: {readTimeout: 10s}
network: {rtt: 2ms}
load: {method: post, rate: 20, requests: 5, start: 1m, timeout: 0, keepAlive: false}
events:
  - at: 90
    drainNode: {node: 4}
  - at: 1m
    killPod: {pod: fn-r1-0}
  - at: 1m
    scale: 3
"#);
    let c = &scenario.config;
    assert_eq!(
        c.function.handler_ns,
        Span {
            lo_ns: 80 * S,
            hi_ns: 100 * S
        }
    );
    assert_eq!(
        c.function.startup_ns,
        Span {
            lo_ns: S,
            hi_ns: 3 * S
        }
    );
    assert_eq!(c.function.start, Start::Cold);
    assert_eq!(c.function.child.on_sigterm, OnSigterm::Exit);
    assert_eq!(c.function.child.startup_ns, Span::fixed(6 * S));
    assert_eq!((c.function.scale_min, c.function.scale_max), (2, 4));
    assert_eq!(c.kubernetes.nodes, 5);
    assert_eq!(c.kubernetes.restart_delay_ns, 10 * S);
    assert_eq!(c.kubernetes.max_surge, IntOrPercent::Percent(25));
    assert_eq!(c.kubernetes.max_unavailable, IntOrPercent::Percent(10));
    assert_eq!(c.kubernetes.endpoint_lag_ns, Span::fixed(250 * NS_PER_MS));
    assert_eq!(c.provider.read_timeout_ns, 10 * S);
    assert_eq!(c.provider.write_timeout_ns, 65 * S);
    assert_eq!(c.network.rtt_ns, 2 * NS_PER_MS);
    assert_eq!(c.load.method, Method::Post);
    assert_eq!((c.load.rate_per_s, c.load.requests), (20, 5));
    assert_eq!(
        (c.load.start_ns, c.load.timeout_ns, c.load.keep_alive),
        (60 * S, 0, false)
    );
    // Sorted by time, stable among equal times.
    let actions: Vec<&Action> = scenario.events.iter().map(|e| &e.action).collect();
    assert_eq!(
        actions,
        vec![
            &Action::KillPod {
                pod: Some("fn-r1-0".to_string())
            },
            &Action::Scale(3),
            &Action::DrainNode {
                notice_ns: 120 * S,
                node: Some(4)
            },
        ]
    );
}

#[test]
fn other_checks_name_their_key() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "function:\n  handler: {duration: 100s..80s}\n",
            2,
            "function.handler.duration",
        ),
        ("function:\n  startup: -1s\n", 2, "function.startup"),
        (
            "function:\n  labels:\n    com.openfaas.scale.min: 3\n    com.openfaas.scale.max: 2\n",
            3,
            "function.labels.com.openfaas.scale.min",
        ),
        (
            "function:\n  labels:\n    com.openfaas.scale.max: many\n",
            3,
            "function.labels.com.openfaas.scale.max",
        ),
        (
            "function:\n  watchdog: faas-watchdog\n",
            2,
            "function.watchdog",
        ),
        ("function:\n  name: Go_Long\n", 2, "function.name"),
        (
            "kubernetes:\n  readinessProbe: {periodSeconds: 0}\n",
            2,
            "kubernetes.readinessProbe.periodSeconds",
        ),
        (
            "kubernetes:\n  strategy: {maxSurge: 0}\n",
            2,
            "kubernetes.strategy.maxSurge",
        ),
        (
            "kubernetes:\n  terminationGracePeriodSeconds: 30s\n",
            2,
            "kubernetes.terminationGracePeriodSeconds",
        ),
        ("kubernetes:\n  nodes: 0\n", 2, "kubernetes.nodes"),
        (
            "gateway:\n  scaleFromZero: maybe\n",
            2,
            "gateway.scaleFromZero",
        ),
        (
            "load:\n  concurrency: 10\n  requests: 5\n",
            3,
            "load.requests",
        ),
        ("load:\n  method: PUT\n", 2, "load.method"),
        (
            "events:\n  - at: soon\n    rollout: {}\n",
            2,
            "events[0].at",
        ),
        (
            "events:\n  - at: 1s\n    drainNode: {notice: 2 min}\n",
            3,
            "events[0].drainNode.notice",
        ),
        (
            "events:\n  - at: 1s\n    drainNode: {node: 3}\n",
            3,
            "events[0].drainNode.node",
        ),
        ("events:\n  - at: 1s\n    scale:\n", 3, "events[0].scale"),
        ("limit: forever\n", 1, "limit"),
        ("seed: -3\n", 1, "seed"),
        (
            "load: {concurrency: 1, concurrency: 2}\n",
            1,
            "load.concurrency",
        ),
    ];
    for (text, line, key) in cases {
        let error = err(text);
        assert_error(&error, *line, key);
    }
}

#[test]
fn null_sections_and_empty_actions_are_defaults() {
    let scenario =
        ok("function:\nload:\nevents:\n  - at: 1s\n    rollout:\n  - at: 2s\n    killPod:\n");
    assert_eq!(scenario.config, Config::default());
    assert_eq!(scenario.events[0].action, Action::Rollout);
    assert_eq!(scenario.events[1].action, Action::KillPod { pod: None });
}

#[test]
fn streaming_mode_with_an_upstream_warns() {
    let scenario = ok("function:\n  mode: streaming\n  upstream: {onSigterm: exit}\n");
    assert_eq!(scenario.config.function.watchdog.mode, Mode::Streaming);
    assert_eq!(scenario.warnings.len(), 1);
    assert_eq!(scenario.warnings[0].key, "function.upstream");
}

/// No input panics: every prefix of the example, and the example with each line dropped,
/// either parses or gives a one-line error naming the file.
#[test]
fn no_input_panics() {
    let mut inputs: Vec<String> = Vec::new();
    for (index, _) in EXAMPLE.char_indices() {
        inputs.push(EXAMPLE[..index].to_string());
    }
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        inputs.push(text.join("\n"));
    }
    inputs.extend(
        [
            "- 1",
            "a: b\n---\nc: d\n",
            "\u{feff}seed: 1",
            "{",
            "[",
            "*x",
            "&a {a: *a}",
            "? [a]\n: b\n",
            "load: {concurrency: 99999999999999999999}",
        ]
        .map(String::from),
    );
    for text in inputs {
        if let Err(error) = parse(&text, "scenarios/bad.yaml") {
            let shown = error.to_string();
            assert!(!shown.contains('\n'), "{shown:?}");
            assert!(shown.starts_with("scenarios/bad.yaml"), "{shown}");
        }
    }
}

#[test]
fn a_template_sets_the_watchdog_the_child_and_the_dockerfile_env() {
    let node = ok("function:\n  template: node20\n");
    let f = &node.config.function;
    assert_eq!(f.template, Some("node20"));
    assert_eq!(
        (f.watchdog.kind, f.watchdog.mode),
        (WatchdogKind::OfWatchdog, Mode::Http)
    );
    assert_eq!(f.child.on_sigterm, OnSigterm::Exit);
    assert_eq!(
        f.watchdog.exec_timeout_ns,
        10 * S,
        "the Dockerfile's exec_timeout"
    );
    assert_eq!(f.watchdog.write_timeout_ns, 15 * S);
    assert_eq!(f.child.write_timeout_ns, 0, "node has no write timeout");
    // Explicit keys win over the template.
    let own = ok(
        "function:\n  template: node20\n  environment:\n    write_timeout: 1m\n  \
                  upstream:\n    onSigterm: drain\n",
    );
    assert_eq!(own.config.function.watchdog.write_timeout_ns, 60 * S);
    assert_eq!(own.config.function.child.on_sigterm, OnSigterm::Drain);
    // faas-netes derives Pro's grace from the function's environment, not the image's.
    let pro = ok("function:\n  template: node20\nkubernetes:\n  edition: pro\n");
    let plain = ok("kubernetes:\n  edition: pro\n");
    assert_eq!(
        pro.config.kubernetes.grace_s,
        plain.config.kubernetes.grace_s
    );
    let dotnet = ok("function:\n  template: dotnet8-csharp\n");
    assert_eq!(
        dotnet.config.function.child.on_sigterm,
        OnSigterm::Stop {
            shutdown_timeout_ns: 30 * S
        }
    );
}

#[test]
fn an_unknown_template_is_refused_at_its_line() {
    let error = err("function:\n  name: f\n  template: cobol\n");
    assert_error(&error, 3, "function.template");
    assert!(error.message.contains("cobol"), "{}", error.message);
}

#[test]
fn the_classic_watchdog_forks_and_has_no_exec_limit() {
    let classic = ok("function:\n  watchdog: classic\n  environment:\n    write_timeout: 0\n");
    let w = &classic.config.function.watchdog;
    assert_eq!((w.kind, w.mode), (WatchdogKind::Classic, Mode::Streaming));
    assert_eq!(w.exec_timeout_ns, 0);
    assert_eq!(w.write_timeout_ns, 0, "the classic watchdog takes 0");
    let python3 = ok("function:\n  template: python3\n");
    assert_eq!(python3.config.function.watchdog.kind, WatchdogKind::Classic);
    let error = err("function:\n  watchdog: classic\n  mode: http\n");
    assert_error(&error, 3, "function.mode");
}

#[test]
fn a_stopping_child_takes_its_shutdown_timeout() {
    let stop = ok("function:\n  upstream:\n    onSigterm: stop\n    shutdownTimeout: 5s\n");
    assert_eq!(
        stop.config.function.child.on_sigterm,
        OnSigterm::Stop {
            shutdown_timeout_ns: 5 * S
        }
    );
    let ignored = ok("function:\n  upstream:\n    shutdownTimeout: 5s\n");
    assert_eq!(ignored.warnings.len(), 1);
    assert_eq!(ignored.warnings[0].key, "function.upstream.shutdownTimeout");
}

#[test]
fn gateway_timeouts_keep_gos_zero_and_negative_values() {
    let zero = ok("gateway:\n  writeTimeout: \"0\"\n  upstreamTimeout: 0\n");
    assert_eq!(zero.config.gateway.write_timeout_ns, 0);
    assert_eq!(zero.config.gateway.upstream_timeout_ns, 0);
    assert_eq!(
        zero.config.provider.write_timeout_ns, 0,
        "the chart passes it on"
    );
    assert!(zero.warnings.is_empty());
    let negative = ok("faasnetes:\n  readTimeout: -1s\n");
    assert_eq!(negative.config.provider.read_timeout_ns, 0);
    assert_eq!(negative.config.provider.proxy_timeout_ns(), 10 * S);
    assert_eq!(negative.warnings[0].key, "faasnetes.readTimeout");
    let error = err("gateway:\n  readTimeout: -5\n");
    assert_error(&error, 2, "gateway.readTimeout");
}

#[test]
fn of_watchdog_refuses_only_a_write_timeout_of_exactly_zero() {
    // `-1s` passes of-watchdog's `writeTimeout == 0` check: Go's server then has no
    // WriteTimeout, and healthcheck_interval, following it, waits forever.
    let negative = ok("function:\n  environment:\n    write_timeout: -1s\n");
    let w = &negative.config.function.watchdog;
    assert_eq!(w.write_timeout_ns, 0);
    assert_eq!(w.healthcheck_interval_ns, -(S as i64));
    assert!(negative.warnings.is_empty());
}

#[test]
fn pre_stop_sleep_takes_integer_seconds_or_a_go_duration_of_whole_seconds() {
    for (text, seconds) in [("5", 5), ("5s", 5), ("1m", 60), ("0s", 0)] {
        let scenario = ok(&format!("kubernetes:\n  preStop: {{sleep: {text}}}\n"));
        assert_eq!(
            scenario.config.kubernetes.pre_stop_sleep_s, seconds,
            "{text}"
        );
    }
    let error = err("kubernetes:\n  preStop: {sleep: 1.5s}\n");
    assert_eq!(error.key.as_deref(), Some("kubernetes.preStop.sleep"));
    assert_eq!(error.line, Some(2));
    assert!(error.message.contains("whole number of seconds"), "{error}");
    let error = err("kubernetes:\n  preStop: {sleep: soon}\n");
    assert_eq!(error.key.as_deref(), Some("kubernetes.preStop.sleep"));
}

#[test]
fn the_node_events_name_their_bad_keys() {
    let error = err("events:\n  - at: 1s\n    loseNode: {}\n");
    assert_error(&error, 3, "events[0].loseNode.node");
    let error = err("events:\n  - at: 1s\n    loseNode: {node: 3}\n");
    assert_error(&error, 3, "events[0].loseNode.node");
    let error = err(
        "events:\n  - at: 1s\n    shutdownNode:\n      node: 0\n      gracePeriod: 10s\n      criticalPods: 20s\n",
    );
    assert_error(&error, 6, "events[0].shutdownNode.criticalPods");
    let error = err("kubernetes:\n  nodeMonitorPeriod: 0s\n");
    assert_error(&error, 2, "kubernetes.nodeMonitorPeriod");
    let error = err("kubernetes:\n  tolerationSeconds: -1\n");
    assert_error(&error, 2, "kubernetes.tolerationSeconds");
    let error = err("events:\n  - at: 1s\n    deploy: {replicas: 2}\n");
    assert_error(&error, 3, "events[0].deploy.replicas");
}

#[test]
fn annotate_pod_takes_a_pod_of_the_run_and_an_int32() {
    let s = ok(
        "function: {name: fn}\nevents:\n  - at: 1s\n    annotatePod: {pod: fn-r1-0, deletionCost: -5}\n",
    );
    assert_eq!(
        s.events[0].action,
        Action::AnnotatePod {
            pod: "fn-r1-0".into(),
            deletion_cost: -5
        }
    );
    let error =
        err("function: {name: fn}\nevents:\n  - at: 1s\n    annotatePod: {deletionCost: 1}\n");
    assert_error(&error, 4, "events[0].annotatePod.pod");
    let error = err(
        "function: {name: fn}\nevents:\n  - at: 1s\n    annotatePod: {pod: other-r1-0, deletionCost: 1}\n",
    );
    assert_error(&error, 4, "events[0].annotatePod.pod");
    let error = err("function: {name: fn}\nevents:\n  - at: 1s\n    annotatePod: {pod: fn-r1-0}\n");
    assert_error(&error, 4, "events[0].annotatePod.deletionCost");
    for bad in ["2147483648", "1.5", "ten", "-"] {
        let error = err(&format!(
            "function: {{name: fn}}\nevents:\n  - at: 1s\n    annotatePod: {{pod: fn-r1-0, deletionCost: \"{bad}\"}}\n"
        ));
        assert_error(&error, 4, "events[0].annotatePod.deletionCost");
    }
}

#[test]
fn an_ingress_is_there_only_when_its_section_is() {
    assert_eq!(ok("").config.ingress, None);
    for text in [
        "ingress:\n",
        "ingress: {}\n",
        "ingress:\n  readTimeout: 1m\n",
    ] {
        let ingress = ok(text).config.ingress.expect("an ingress");
        assert_eq!(ingress.read_timeout_ns, 60 * S, "{text}");
    }
    let bare = ok("ingress:\n  readTimeout: 300\n");
    assert_eq!(bare.config.ingress.unwrap().read_timeout_ns, 300 * S);
}

#[test]
fn a_bad_ingress_read_timeout_names_its_key_and_line() {
    let zero = err("name: x\ningress:\n  readTimeout: 0s\n");
    assert_error(&zero, 3, "ingress.readTimeout");
    assert!(zero.message.contains("must be over 0s"), "{zero}");
    let negative = err("ingress:\n  readTimeout: -60s\n");
    assert_error(&negative, 2, "ingress.readTimeout");
    let words = err("ingress:\n  readTimeout: 60 seconds\n");
    assert_error(&words, 2, "ingress.readTimeout");
    assert!(words.message.contains("Go duration"), "{words}");
    let unknown = err("ingress:\n  idleTimeout: 60s\n");
    assert!(unknown.to_string().contains("idleTimeout"), "{unknown}");
}

/// Every limit of `faasim_model::limits` is an error naming the line, the key and the limit,
/// and the limit itself is accepted.
#[test]
fn values_over_a_limit_name_the_key_and_the_limit() {
    use faasim_model::limits;
    let cases = [
        (
            format!("load:\n  requests: {}\n", limits::REQUESTS_MAX + 1),
            2,
            "load.requests",
            limits::REQUESTS_MAX.to_string(),
        ),
        (
            "load:\n  requests: 99999999999999999999999\n".to_string(),
            2,
            "load.requests",
            limits::REQUESTS_MAX.to_string(),
        ),
        (
            format!(
                "load:\n  requests: 500000\n  concurrency: {}\n",
                limits::CONCURRENCY_MAX + 1
            ),
            3,
            "load.concurrency",
            limits::CONCURRENCY_MAX.to_string(),
        ),
        (
            format!("load:\n  rate: {}\n", limits::RATE_MAX_PER_S + 1),
            2,
            "load.rate",
            limits::RATE_MAX_PER_S.to_string(),
        ),
        (
            format!(
                "function:\n  labels:\n    com.openfaas.scale.max: {}\n",
                limits::REPLICAS_MAX + 1
            ),
            3,
            "function.labels.com.openfaas.scale.max",
            limits::REPLICAS_MAX.to_string(),
        ),
        (
            format!(
                "function:\n  labels:\n    com.openfaas.scale.min: {}\n",
                limits::REPLICAS_MAX + 1
            ),
            3,
            "function.labels.com.openfaas.scale.min",
            limits::REPLICAS_MAX.to_string(),
        ),
        (
            format!("kubernetes:\n  nodes: {}\n", limits::NODES_MAX + 1),
            2,
            "kubernetes.nodes",
            limits::NODES_MAX.to_string(),
        ),
        (
            format!(
                "events:\n  - at: 1s\n    scale: {}\n",
                limits::REPLICAS_MAX + 1
            ),
            3,
            "events[0].scale",
            limits::REPLICAS_MAX.to_string(),
        ),
        (
            format!(
                "function:\n  environment:\n    big: {}\n",
                "x".repeat(limits::ENV_BYTES_MAX)
            ),
            3,
            "function.environment.big",
            limits::ENV_BYTES_MAX.to_string(),
        ),
    ];
    for (text, line, key, limit) in cases {
        let error = err(&text);
        assert_error(&error, line, key);
        assert!(error.message.contains(&limit), "{error}");
        assert!(error.message.contains("Limits"), "{error}");
    }

    let mut many = String::from("events:\n");
    for _ in 0..=limits::EVENTS_MAX {
        many.push_str("  - {at: 1s, rollout: {}}\n");
    }
    let error = err(&many);
    assert_error(
        &error,
        limits::EVENTS_MAX + 2,
        &format!("events[{}]", limits::EVENTS_MAX),
    );

    let mut env = String::from("function:\n  environment:\n");
    for index in 0..=limits::ENV_VARS_MAX {
        env.push_str(&format!("    v{index:05}: x\n"));
    }
    let error = err(&env);
    assert!(
        error.message.contains(&limits::ENV_VARS_MAX.to_string()),
        "{error}"
    );

    // At the limits, the file loads.
    let at = format!(
        "function:\n  labels:\n    com.openfaas.scale.min: {r}\n    com.openfaas.scale.max: {r}\n\
         load:\n  requests: {}\n  concurrency: {}\n  rate: {}\n",
        limits::REQUESTS_MAX,
        limits::CONCURRENCY_MAX,
        limits::RATE_MAX_PER_S,
        r = limits::REPLICAS_MAX,
    );
    parse(&at, "scenarios/at-the-limits.yaml").expect("the limits themselves are accepted");
}

/// A `killPod` naming what can never be a pod is an error at its line; events after the limit
/// are a warning, not silently dropped.
#[test]
fn impossible_pods_and_late_events_are_told() {
    let error = err("events:\n  - at: 1s\n    killPod: {pod: nope}\n");
    assert_error(&error, 3, "events[0].killPod.pod");
    assert!(error.message.contains("fn-r1-0"), "{error}");
    let named = parse(
        "function: {name: api}\nevents:\n  - {at: 1s, killPod: {pod: api-r12-3}}\n",
        "scenarios/named.yaml",
    )
    .expect("a pod name of the function's form loads");
    assert!(matches!(
        &named.events[0].action,
        Action::KillPod { pod: Some(name) } if name == "api-r12-3"
    ));
    let late = parse(
        "limit: 10s\nevents:\n  - {at: 5s, rollout: {}}\n  - {at: 20s, rollout: {}}\n",
        "scenarios/late.yaml",
    )
    .expect("loads");
    let warning = late
        .warnings
        .iter()
        .find(|w| w.key == "events")
        .expect("a warning about the late event");
    assert!(
        warning
            .message
            .contains("1 event after the run's limit (10s)"),
        "{warning:?}"
    );
}

/// hey's `-q` per worker, whole numbers, and not with an open loop.
#[test]
fn load_qps_is_hey_q_for_closed_loops_only() {
    assert_eq!(ok("load:\n  qps: 2\n").config.load.qps_per_worker, 2);
    assert_eq!(ok("").config.load.qps_per_worker, 0);
    let both = err("load:\n  rate: 5\n  qps: 2\n");
    assert_error(&both, 3, "load.qps");
    let fraction = err("load:\n  qps: 0.5\n");
    assert_error(&fraction, 2, "load.qps");
}

/// Found by `fuzz_scenario` (a flow mapping whose plain key ran over a blank line): a key with
/// a line break in it is named in the error, and the break used to split the one-line error.
#[test]
fn a_multi_line_key_stays_on_the_error_line() {
    let error = err("\"a\\nb\": 1\n");
    let key = error.key.as_deref().expect("the error names the key");
    assert!(
        key.contains('\n'),
        "the key as written spans lines: {key:?}"
    );
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "{shown:?}");
    assert!(shown.starts_with("scenarios/bad.yaml:1:"), "{shown}");
}

/// Found by `fuzz_scenario`: a key given twice, the second time with a tag (`!tag seed: 2`),
/// slips past serde-saphyr's check of equal keys and fails in serde's derived struct as
/// "duplicate field", which had no place at the top level and the mapping's place below it.
/// The error now names the second key's line, column and path.
#[test]
fn a_tagged_duplicate_key_is_named_at_its_line() {
    let error = err("seed: 1\n!tag seed: 2\n");
    assert_error(&error, 2, "seed");
    assert_eq!(error.column, Some(6), "{error}");
    assert!(error.message.contains("given twice"), "{error}");
    assert!(error.message.contains("first at line 1"), "{error}");
    let nested = err("function:\n  name: a\n  !tag name: b\n");
    assert_error(&nested, 3, "function.name");
}
