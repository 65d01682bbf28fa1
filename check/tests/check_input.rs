//! `faasim check`'s input side: reading stack files, Function resources, Helm values and
//! rendered manifests (fixtures under `tests/fixtures/check`) into each function's effective
//! configuration, with where every value came from and the input findings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use faasim_check::input::{
    BARE_INT, ENVSUBST_UNSET, INVALID_FALLBACK, InputError, InputRequest, find_config_file,
    parse_config, parse_span, read_inputs,
};
use faasim_check::{FunctionInput, Location, Origin, Provenance, Severity};
use faasim_model::config::{Edition, GraceSource, IntOrPercent, Mode, ProbeConfig, Span};
use faasim_model::time::{NS_PER_MS, NS_PER_S};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn request(paths: &[&str]) -> InputRequest {
    InputRequest {
        paths: paths.iter().map(|p| p.to_string()).collect(),
        cwd: fixtures(),
        ..InputRequest::default()
    }
}

fn read(paths: &[&str]) -> Vec<FunctionInput> {
    read_inputs(&request(paths)).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn only(mut functions: Vec<FunctionInput>) -> FunctionInput {
    assert_eq!(
        functions.len(),
        1,
        "{:?}",
        functions.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    functions.remove(0)
}

fn prov<'a>(function: &'a FunctionInput, key: &str) -> &'a Provenance {
    function
        .origin(key)
        .unwrap_or_else(|| panic!("no provenance for {key}: {:#?}", function.provenance))
}

/// The location of `value` on the first line of `file` containing `line_has`.
fn at(file: &str, line_has: &str, value: &str) -> Location {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
    for (index, line) in text.lines().enumerate() {
        if line.contains(line_has) {
            let byte = line
                .find(value)
                .unwrap_or_else(|| panic!("{value:?} not on {line:?}"));
            return Location {
                file: file.to_string(),
                line: index + 1,
                column: line[..byte].chars().count() + 1,
            };
        }
    }
    panic!("{line_has:?} not in {file}");
}

/// The location of `value` on 1-based line `line` of `file`.
fn at_line(file: &str, line: usize, value: &str) -> Location {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
    let text_line = text.lines().nth(line - 1).unwrap();
    let byte = text_line
        .find(value)
        .unwrap_or_else(|| panic!("{value:?} not on {text_line:?}"));
    Location {
        file: file.to_string(),
        line,
        column: text_line[..byte].chars().count() + 1,
    }
}

fn file_origin(function: &FunctionInput, key: &str) -> Location {
    match &prov(function, key).origin {
        Origin::File(location) => location.clone(),
        other => panic!("{key}: expected a file origin, got {other:?}"),
    }
}

fn rules(function: &FunctionInput) -> Vec<(&str, Severity, &str)> {
    function
        .input_findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.key.as_str()))
        .collect()
}

#[test]
fn go_long_with_the_charts_default_values() {
    let f = only(read(&["go-long/stack.yml", "chart-values.yaml"]));
    assert_eq!(f.name, "go-long");
    assert_eq!(f.location, at("go-long/stack.yml", "go-long:", "go-long"));
    let w = &f.config.function.watchdog;
    assert_eq!(w.write_timeout_ns, 120 * NS_PER_S);
    assert_eq!(w.read_timeout_ns, 120 * NS_PER_S);
    assert_eq!(w.exec_timeout_ns, 120 * NS_PER_S);
    assert_eq!(w.healthcheck_interval_ns, 5 * NS_PER_S as i64);
    assert_eq!(w.mode, Mode::Http);
    assert_eq!(f.config.function.child.write_timeout_ns, 120 * NS_PER_S);
    assert_eq!(
        f.config.function.child.healthcheck_interval_ns,
        5 * NS_PER_S as i64
    );
    assert_eq!(
        (f.config.function.scale_min, f.config.function.scale_max),
        (1, 1)
    );

    // Where each value is written.
    assert_eq!(
        file_origin(&f, "function.environment.exec_timeout"),
        at("go-long/stack.yml", "exec_timeout", "2m")
    );
    assert_eq!(prov(&f, "function.environment.exec_timeout").value, "2m0s");
    assert_eq!(
        file_origin(&f, "function.labels.com.openfaas.scale.min"),
        at("go-long/stack.yml", "scale.min", "1")
    );
    assert!(
        matches!(&prov(&f, "function.mode").origin, Origin::Derived(why) if why.contains("golang-middleware"))
    );
    assert_eq!(
        prov(&f, "function.environment.max_inflight").origin,
        Origin::Default
    );

    // The chart's gateway values, and the provider falling back to them.
    assert_eq!(f.config.gateway.upstream_timeout_ns, 60 * NS_PER_S);
    assert_eq!(f.config.gateway.read_timeout_ns, 65 * NS_PER_S);
    assert_eq!(f.config.gateway.write_timeout_ns, 65 * NS_PER_S);
    assert!(f.config.gateway.scale_from_zero);
    assert_eq!(
        file_origin(&f, "gateway.upstreamTimeout"),
        at("chart-values.yaml", "upstreamTimeout", "\"1m\"")
    );
    assert_eq!(prov(&f, "gateway.upstreamTimeout").value, "1m0s");
    assert_eq!(f.config.provider.read_timeout_ns, 65 * NS_PER_S);
    assert!(
        matches!(&prov(&f, "faasnetes.readTimeout").origin, Origin::Derived(why) if why.contains("gateway.readTimeout"))
    );
    assert_eq!(prov(&f, "queueWorker.ackWait").value, "1m0s");

    // CE, as the values' `openfaasPro: false` says: the Kubernetes grace period and CE's
    // hard-coded probe.
    assert_eq!(f.config.kubernetes.edition, Edition::Ce);
    assert_eq!(
        prov(&f, "kubernetes.edition").origin,
        Origin::File(at("chart-values.yaml", "openfaasPro", "false"))
    );
    assert_eq!(f.config.kubernetes.grace_s, 30);
    assert_eq!(
        f.config.kubernetes.grace_source,
        GraceSource::KubernetesDefault
    );
    assert!(
        matches!(&prov(&f, "kubernetes.terminationGracePeriodSeconds").origin, Origin::Derived(why) if why.contains("edition ce"))
    );
    assert_eq!(f.config.kubernetes.readiness, ProbeConfig::default());
    assert!(matches!(
        &prov(&f, "kubernetes.readinessProbe.initialDelaySeconds").origin,
        Origin::Derived(why) if why.contains("only reaches the Pro operator")
    ));
    assert_eq!(f.config.kubernetes.pre_stop_sleep_s, 0);
    assert_eq!(f.config.kubernetes.max_surge, IntOrPercent::Int(1));
    assert_eq!(f.config.kubernetes.max_unavailable, IntOrPercent::Int(0));
    assert_eq!(
        f.config.kubernetes.endpoint_lag_ns,
        Span {
            lo_ns: 0,
            hi_ns: NS_PER_S
        }
    );
    assert_eq!(prov(&f, "kubernetes.endpointLag").value, "0s..1s");
    assert!(f.input_findings.is_empty(), "{:#?}", f.input_findings);
    assert!(f.ignored_rules.is_empty());

    // Every value the rules read is recorded.
    for key in [
        "function.environment.write_timeout",
        "function.environment.read_timeout",
        "function.environment.healthcheck_interval",
        "function.upstream.write_timeout",
        "function.upstream.healthcheck_interval",
        "function.upstream.onSigterm",
        "kubernetes.preStop.sleep",
        "gateway.readTimeout",
        "gateway.writeTimeout",
        "gateway.scaleFromZero",
        "faasnetes.writeTimeout",
        "function.labels.com.openfaas.scale.max",
        "kubernetes.strategy.maxSurge",
    ] {
        prov(&f, key);
    }
}

#[test]
fn without_values_the_charts_defaults_apply() {
    let f = only(read(&["go-long/stack.yml"]));
    assert_eq!(f.config.gateway.upstream_timeout_ns, 60 * NS_PER_S);
    assert_eq!(prov(&f, "gateway.upstreamTimeout").origin, Origin::Default);
    assert_eq!(f.config.provider.write_timeout_ns, 65 * NS_PER_S);
}

#[test]
fn the_timeout_tutorials_values_on_pro() {
    let mut req = request(&["go-long/stack.yml", "timeout-tutorial/values.yaml"]);
    req.edition = Some(Edition::Pro);
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.config.gateway.upstream_timeout_ns, 30 * 60 * NS_PER_S);
    assert_eq!(f.config.gateway.read_timeout_ns, (30 * 60 + 1) * NS_PER_S);
    assert_eq!(f.config.provider.read_timeout_ns, (30 * 60 + 1) * NS_PER_S);
    assert_eq!(
        file_origin(&f, "faasnetes.readTimeout"),
        at_line("timeout-tutorial/values.yaml", 8, "30m1s")
    );
    assert_eq!(f.config.kubernetes.edition, Edition::Pro);
    assert_eq!(
        prov(&f, "kubernetes.edition").origin,
        Origin::Flag("--edition pro".into())
    );
    assert_eq!(f.config.kubernetes.grace_s, 122);
    assert_eq!(f.config.kubernetes.grace_source, GraceSource::ProDerived);
    // Pro: the chart's function probe (not faas-netes CE's hard-coded one).
    assert_eq!(f.config.kubernetes.readiness.initial_delay_s, 0);
    assert_eq!(prov(&f, "queueWorker.ackWait").value, "30m1s");
    assert!(f.input_findings.is_empty(), "{:#?}", f.input_findings);

    // The tutorial's own stack file, values given first: platform values apply anyway.
    let mut req = request(&[
        "timeout-tutorial/values.yaml",
        "timeout-tutorial/stack.yaml",
    ]);
    req.edition = Some(Edition::Pro);
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.name, "my-function");
    assert_eq!(f.config.kubernetes.grace_s, 30 * 60 + 1 + 2);
    assert_eq!(
        f.config.function.watchdog.exec_timeout_ns,
        30 * 60 * NS_PER_S
    );

    // CE: the Kubernetes default.
    let f = only(read(&["go-long/stack.yml", "timeout-tutorial/values.yaml"]));
    assert_eq!(f.config.kubernetes.grace_s, 30);
}

#[test]
fn a_function_resource() {
    let f = only(read(&["function-crd.yaml"]));
    assert_eq!(f.name, "go-long");
    // spec.name (line 11), not metadata.name.
    assert_eq!(f.location, at_line("function-crd.yaml", 11, "go-long"));
    assert_eq!(f.config.function.watchdog.mode, Mode::Http);
    assert_eq!(
        file_origin(&f, "function.mode"),
        at("function-crd.yaml", "mode: http", "http")
    );
    assert_eq!(f.config.function.watchdog.write_timeout_ns, 150 * NS_PER_S);
    assert_eq!(
        (f.config.function.scale_min, f.config.function.scale_max),
        (2, 4)
    );
    assert_eq!(
        f.ignored_rules,
        vec!["grace-covers-drain", "exec-within-upstream"]
    );
}

#[test]
fn a_helm_template_manifest() {
    let f = only(read(&["helm-template.yaml"]));
    assert_eq!(f.name, "go-long");
    let file = "helm-template.yaml";
    assert_eq!(f.location, at(file, "  name: go-long", "go-long"));
    // The gateway Deployment's env is the gateway's configuration.
    assert_eq!(f.config.gateway.upstream_timeout_ns, 120 * NS_PER_S);
    assert_eq!(
        file_origin(&f, "gateway.upstreamTimeout"),
        at(file, "value: \"2m\"", "\"2m\"")
    );
    assert_eq!(f.config.gateway.read_timeout_ns, 125 * NS_PER_S);
    assert_eq!(f.config.provider.read_timeout_ns, 125 * NS_PER_S);
    assert_eq!(f.config.provider.write_timeout_ns, 125 * NS_PER_S);
    // The function Deployment.
    let w = &f.config.function.watchdog;
    assert_eq!(w.mode, Mode::Http);
    assert_eq!(w.write_timeout_ns, 150 * NS_PER_S);
    assert_eq!(w.healthcheck_interval_ns, 5 * NS_PER_S as i64);
    let k = &f.config.kubernetes;
    assert_eq!(k.grace_s, 152);
    assert_eq!(k.grace_source, GraceSource::Explicit);
    assert_eq!(
        file_origin(&f, "kubernetes.terminationGracePeriodSeconds"),
        at(file, "terminationGracePeriodSeconds", "152")
    );
    assert_eq!(k.pre_stop_sleep_s, 5);
    assert_eq!(
        file_origin(&f, "kubernetes.preStop.sleep"),
        at(file, "sleep 5", "\"sleep 5\"")
    );
    assert_eq!(k.readiness.initial_delay_s, 2);
    assert_eq!(k.readiness.period_s, 2);
    assert_eq!(k.readiness.failure_threshold, 3);
    assert_eq!(
        prov(&f, "kubernetes.readinessProbe.failureThreshold").origin,
        Origin::Default
    );
    assert_eq!(k.max_surge, IntOrPercent::Int(1));
    assert_eq!(k.max_unavailable, IntOrPercent::Int(0));
    assert_eq!(f.config.function.scale_min, 2);
    assert_eq!(
        file_origin(&f, "function.labels.com.openfaas.scale.min"),
        at(file, "replicas: 2", "2")
    );
    assert_eq!(f.config.function.scale_max, 4);
    assert_eq!(f.ignored_rules, vec!["scale-from-zero-enabled"]);
    // The queue-worker's bare-integer ack_wait: rejected by time.ParseDuration, 30 s instead.
    assert_eq!(prov(&f, "queueWorker.ackWait").value, "30s");
    assert_eq!(
        rules(&f),
        vec![(BARE_INT, Severity::Warning, "queueWorker.ackWait")]
    );
    assert_eq!(
        f.input_findings[0].location,
        Some(at(file, "value: \"60\"", "\"60\""))
    );
}

#[test]
fn standard_input() {
    let text = std::fs::read_to_string(fixtures().join("helm-template.yaml")).unwrap();
    let mut req = request(&["-"]);
    req.stdin = Some(text);
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.location.file, "<stdin>");
    assert_eq!(
        file_origin(&f, "kubernetes.terminationGracePeriodSeconds").file,
        "<stdin>"
    );
    let mut req = request(&["-"]);
    req.stdin = None;
    assert!(read_inputs(&req).is_err());
}

#[test]
fn envsubst_with_and_without_defaults() {
    let mut req = request(&["envsubst.yml"]);
    req.env = BTreeMap::from([("READ_TIMEOUT".to_string(), "45s".to_string())]);
    let f = only(read_inputs(&req).unwrap());
    let w = &f.config.function.watchdog;
    assert_eq!(
        w.write_timeout_ns,
        120 * NS_PER_S,
        "the default of ${{WRITE_TIMEOUT:-2m}}"
    );
    assert_eq!(w.read_timeout_ns, 45 * NS_PER_S);
    assert_eq!(
        w.exec_timeout_ns,
        30 * NS_PER_S,
        "unset: empty, so the watchdog's default"
    );
    // Locations point at the placeholders as written.
    assert_eq!(
        file_origin(&f, "function.environment.write_timeout"),
        at("envsubst.yml", "write_timeout", "${WRITE_TIMEOUT:-2m}")
    );
    assert_eq!(
        file_origin(&f, "function.environment.read_timeout"),
        at("envsubst.yml", "read_timeout", "${READ_TIMEOUT}")
    );
    // The unset variable without a default is a finding, at its line.
    assert_eq!(
        rules(&f),
        vec![(
            ENVSUBST_UNSET,
            Severity::Warning,
            "function.environment.exec_timeout"
        )]
    );
    let finding = &f.input_findings[0];
    assert_eq!(
        finding.location,
        Some(at("envsubst.yml", "exec_timeout", "${EXEC_TIMEOUT}"))
    );
    assert!(
        finding.message.contains("${EXEC_TIMEOUT}"),
        "{}",
        finding.message
    );
    assert!(finding.fix.contains("${EXEC_TIMEOUT:-"), "{}", finding.fix);

    // Everything set: no finding.
    let mut req = request(&["envsubst.yml"]);
    req.env = BTreeMap::from([
        ("READ_TIMEOUT".to_string(), "45s".to_string()),
        ("EXEC_TIMEOUT".to_string(), "40s".to_string()),
        ("WRITE_TIMEOUT".to_string(), "50s".to_string()),
    ]);
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.config.function.watchdog.exec_timeout_ns, 40 * NS_PER_S);
    assert_eq!(f.config.function.watchdog.write_timeout_ns, 50 * NS_PER_S);
    assert!(f.input_findings.is_empty());

    // --envsubst=false: the placeholders are values, which the watchdog silently replaces.
    let mut req = request(&["envsubst.yml"]);
    req.envsubst = false;
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.config.function.watchdog.write_timeout_ns, 30 * NS_PER_S);
    assert!(
        rules(&f)
            .iter()
            .all(|(rule, _, _)| *rule == INVALID_FALLBACK)
    );
    assert_eq!(rules(&f).len(), 3);
}

#[test]
fn bad_substitution_is_an_error_at_its_place() {
    let mut req = request(&["-"]);
    req.stdin = Some("provider:\n  name: openfaas\nfunctions:\n  f:\n    environment:\n      write_timeout: ${ WT}\n".into());
    let error = read_inputs(&req).unwrap_err();
    assert_eq!(
        (error.file.as_str(), error.line, error.column),
        ("<stdin>", Some(6), Some(22))
    );
    assert!(error.message.contains("bad substitution"), "{error}");
}

#[test]
fn filter_and_regex_like_faas_cli() {
    let names = |req: &InputRequest| -> Vec<String> {
        read_inputs(req)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect()
    };
    let mut req = request(&["several.yml"]);
    assert_eq!(
        names(&req),
        vec!["go-long", "go-short", "python-fn", "node-fn"]
    );
    req.filter = Some("go-*".into());
    assert_eq!(names(&req), vec!["go-long", "go-short"]);
    req.filter = Some("*-fn".into());
    assert_eq!(names(&req), vec!["python-fn", "node-fn"]);
    req.filter = None;
    req.regex = Some("^p|short$".into());
    assert_eq!(names(&req), vec!["go-short", "python-fn"]);
    req.regex = Some("nothing-matches".into());
    let error = read_inputs(&req).unwrap_err();
    assert!(error.message.contains("no functions matching"), "{error}");
    req.regex = Some("(".into());
    assert!(
        read_inputs(&req)
            .unwrap_err()
            .message
            .contains("invalid --regex")
    );
    req.regex = Some("go".into());
    req.filter = Some("go".into());
    assert!(read_inputs(&req).unwrap_err().message.contains("not both"));
}

#[test]
fn mode_from_the_template() {
    let functions = read(&["several.yml"]);
    let mode = |name: &str| {
        functions
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .config
            .function
            .watchdog
            .mode
    };
    assert_eq!(mode("go-long"), Mode::Http);
    assert_eq!(mode("go-short"), Mode::Http);
    assert_eq!(mode("node-fn"), Mode::Http);
    assert_eq!(mode("python-fn"), Mode::Streaming);
    // python3 is a classic-watchdog template: one process forked per request.
    let python = functions.iter().find(|f| f.name == "python-fn").unwrap();
    assert_eq!(
        python.config.function.watchdog.kind,
        faasim_model::config::WatchdogKind::Classic
    );
    assert!(
        matches!(&prov(python, "function.mode").origin, Origin::Derived(why) if why.contains("classic watchdog"))
    );
    assert!(matches!(
        &prov(python, "function.template").origin,
        Origin::File(l) if l.line == 10
    ));
    let node = functions.iter().find(|f| f.name == "node-fn").unwrap();
    assert!(
        matches!(&prov(node, "function.mode").origin, Origin::Derived(why) if why.contains("node20 template"))
    );
}

#[test]
fn discovery_of_stack_yaml_then_stack_yml() {
    let mut req = request(&[]);
    req.cwd = fixtures().join("discovery/both");
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.name, "from-stack-yaml");
    assert_eq!(f.location.file, "stack.yaml");
    req.cwd = fixtures().join("discovery/yml-only");
    assert_eq!(only(read_inputs(&req).unwrap()).name, "from-stack-yml");
    req.cwd = fixtures().join("discovery");
    let error = read_inputs(&req).unwrap_err();
    assert!(
        error.message.contains("no stack.yaml or stack.yml"),
        "{error}"
    );
}

#[test]
fn environment_files_take_priority() {
    // faas-cli opens environment_file names relative to the working directory.
    let mut req = request(&["stack.yml"]);
    req.cwd = fixtures().join("env-file");
    let f = only(read_inputs(&req).unwrap_or_else(|e| panic!("{}", e.render())));
    let w = &f.config.function.watchdog;
    assert_eq!(w.write_timeout_ns, 150 * NS_PER_S);
    assert_eq!(w.read_timeout_ns, 10 * NS_PER_S);
    assert_eq!(w.exec_timeout_ns, 120 * NS_PER_S);
    let location = file_origin(&f, "function.environment.write_timeout");
    assert_eq!(location.file, "env/timeouts.yml");
    assert_eq!((location.line, location.column), (2, 18));
    assert_eq!(
        file_origin(&f, "function.environment.read_timeout").file,
        "stack.yml"
    );
}

#[test]
fn environment_files_are_not_read_relative_to_the_stack_file() {
    // From the parent directory, `env/timeouts.yml` is not there, as for faas-cli run there.
    let error = read_inputs(&request(&["env-file/stack.yml"])).unwrap_err();
    let text = error.render();
    assert!(
        text.contains("cannot read environment file `env/timeouts.yml`")
            && text.contains("relative to the working directory")
            && text.contains("env-file/stack.yml:11:"),
        "{text}"
    );
    assert!(text.contains("environment_file[0]"), "{text}");
}

#[test]
fn an_invalid_duration_falls_back_with_a_finding_at_its_line() {
    let f = only(read(&["invalid/exec-words.yml"]));
    let file = "invalid/exec-words.yml";
    assert_eq!(f.config.function.watchdog.exec_timeout_ns, 30 * NS_PER_S);
    let p = prov(&f, "function.environment.exec_timeout");
    assert_eq!(p.value, "30s");
    assert_eq!(
        p.origin,
        Origin::Fallback {
            location: at(file, "exec_timeout", "2 minutes"),
            raw: "2 minutes".into()
        }
    );
    assert_eq!(
        rules(&f),
        vec![
            (
                INVALID_FALLBACK,
                Severity::Warning,
                "function.environment.exec_timeout"
            ),
            (
                INVALID_FALLBACK,
                Severity::Warning,
                "function.environment.max_inflight"
            ),
            (
                BARE_INT,
                Severity::Note,
                "function.labels.com.openfaas.scale.zero-duration"
            ),
        ]
    );
    let exec = &f.input_findings[0];
    assert_eq!(exec.location, Some(at(file, "exec_timeout", "2 minutes")));
    assert_eq!(exec.function, "wordy");
    assert!(exec.message.contains("30s"), "{}", exec.message);
    assert_eq!(exec.fix, "write `exec_timeout: 2m0s`");
    assert_eq!(
        f.input_findings[2].fix,
        "write `com.openfaas.scale.zero-duration: 15m`"
    );
}

#[test]
fn gateway_values_silently_replaced() {
    let f = only(read(&["go-long/stack.yml", "invalid/gateway-values.yaml"]));
    assert_eq!(f.config.gateway.upstream_timeout_ns, 60 * NS_PER_S);
    assert!(!f.config.gateway.scale_from_zero);
    assert_eq!(
        rules(&f),
        vec![
            (
                INVALID_FALLBACK,
                Severity::Warning,
                "gateway.upstreamTimeout"
            ),
            (INVALID_FALLBACK, Severity::Warning, "gateway.scaleFromZero"),
        ]
    );
    assert_eq!(f.input_findings[0].fix, "write `upstreamTimeout: 2m0s`");
    assert_eq!(
        f.input_findings[0].location,
        Some(at(
            "invalid/gateway-values.yaml",
            "upstreamTimeout",
            "2 minutes"
        ))
    );
}

#[test]
fn the_bare_integer_trap_under_pro() {
    let mut req = request(&["invalid/bare-int.yml"]);
    req.edition = Some(Edition::Pro);
    let f = only(read_inputs(&req).unwrap());
    // The watchdog reads 60 as 60 s; faas-netes' time.ParseDuration rejects it: grace 0 + 2.
    assert_eq!(f.config.function.watchdog.write_timeout_ns, 60 * NS_PER_S);
    assert_eq!(f.config.kubernetes.grace_s, 2);
    assert_eq!(
        rules(&f),
        vec![(
            BARE_INT,
            Severity::Warning,
            "function.environment.write_timeout"
        )]
    );
    let finding = &f.input_findings[0];
    assert_eq!(
        finding.location,
        Some(at("invalid/bare-int.yml", "write_timeout", "60"))
    );
    assert!(
        finding
            .message
            .contains("terminationGracePeriodSeconds = 2"),
        "{}",
        finding.message
    );
    assert!(finding.fix.contains("write_timeout: 1m"), "{}", finding.fix);
    assert!(finding.fix.contains("62 s"), "{}", finding.fix);

    // CE does not derive the grace period: nothing to report.
    let f = only(read(&["invalid/bare-int.yml"]));
    assert_eq!(f.config.kubernetes.grace_s, 30);
    assert!(f.input_findings.is_empty(), "{:#?}", f.input_findings);
}

#[test]
fn ignore_annotations() {
    let f = only(read(&["ignore.yml"]));
    assert_eq!(
        f.ignored_rules,
        vec![
            "exec-within-upstream",
            "grace-covers-drain",
            "healthcheck-covers-endpoint-lag"
        ]
    );
}

#[test]
fn faasim_yaml() {
    let dir = fixtures().join("config");
    let (path, config) = find_config_file(&dir).unwrap().expect("found");
    assert_eq!(path, dir.join(".faasim.yaml"));
    assert_eq!(config.ignore.len(), 1);
    assert_eq!(config.ignore[0].value, "provider-idle-below-watchdog-idle");
    assert_eq!(
        config.fail_on.as_ref().map(|s| s.value),
        Some(Severity::Warning)
    );
    let edition = config.edition.clone().unwrap();
    assert_eq!(edition.value, Edition::Pro);
    assert_eq!(
        (
            edition.location.file.as_str(),
            edition.location.line,
            edition.location.column
        ),
        (".faasim.yaml", 5, 10)
    );
    assert_eq!(
        config.endpoint_lag.as_ref().map(|s| s.value),
        Some(Span {
            lo_ns: 200 * NS_PER_MS,
            hi_ns: 2 * NS_PER_S
        })
    );
    assert_eq!(find_config_file(&fixtures()).unwrap(), None);

    // Its edition and endpoint lag apply when the flags do not say.
    let mut req = request(&[]);
    req.cwd = dir.clone();
    req.config = Some(config.clone());
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.config.kubernetes.edition, Edition::Pro);
    assert_eq!(f.config.kubernetes.grace_s, 122);
    assert_eq!(
        prov(&f, "kubernetes.edition").origin,
        Origin::File(edition.location.clone())
    );
    assert_eq!(prov(&f, "kubernetes.endpointLag").value, "200ms..2s");
    assert!(matches!(
        prov(&f, "kubernetes.endpointLag").origin,
        Origin::File(_)
    ));
    // Flags win.
    req.edition = Some(Edition::Ce);
    req.endpoint_lag = Some(parse_span("500ms").unwrap());
    let f = only(read_inputs(&req).unwrap());
    assert_eq!(f.config.kubernetes.grace_s, 30);
    assert_eq!(
        f.config.kubernetes.endpoint_lag_ns,
        Span::fixed(500 * NS_PER_MS)
    );
    assert_eq!(
        prov(&f, "kubernetes.endpointLag").origin,
        Origin::Flag("--endpoint-lag".into())
    );

    // Unknown keys and bad values are errors with their place.
    let error = parse_config(
        "ignore: [grace-covers-drain]\nfailon: error\n",
        ".faasim.yaml",
    )
    .unwrap_err();
    assert_eq!((error.line, error.column), (Some(2), Some(1)));
    assert!(error.message.contains("unknown key `failon`"), "{error}");
    assert!(error.message.contains("failOn"), "{error}");
    let error = parse_config("edition: enterprise\n", ".faasim.yaml").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(".faasim.yaml:1:10: key `edition`"),
        "{error}"
    );
    assert_eq!(
        parse_config("", ".faasim.yaml").unwrap(),
        Default::default()
    );
}

fn error_of(paths: &[&str]) -> InputError {
    read_inputs(&request(paths)).unwrap_err()
}

#[test]
fn malformed_yaml_points_at_file_line_and_column() {
    let error = error_of(&["invalid/malformed.yml"]);
    assert_eq!(error.file, "invalid/malformed.yml");
    assert!(error.line.is_some() && error.column.is_some(), "{error}");
    let one_line = error.to_string();
    assert!(one_line.starts_with("invalid/malformed.yml:"), "{one_line}");
    assert!(!one_line.contains('\n'));
    let rendered = error.render();
    assert!(rendered.starts_with("error: invalid YAML"), "{rendered}");
    assert!(
        rendered.contains(&format!(
            "--> {one_line_place}",
            one_line_place = one_line.split(": ").next().unwrap()
        )),
        "{rendered}"
    );
    assert!(rendered.contains('^'), "{rendered}");
}

#[test]
fn write_timeout_zero_is_an_error_at_its_value() {
    let error = error_of(&["invalid/write-zero.yml"]);
    let place = at("invalid/write-zero.yml", "write_timeout", "0");
    assert_eq!(
        (error.line, error.column),
        (Some(place.line), Some(place.column))
    );
    assert_eq!(
        error.key.as_deref(),
        Some("function.environment.write_timeout")
    );
    assert_eq!(
        error.to_string(),
        format!(
            "invalid/write-zero.yml:{}:{}: key `function.environment.write_timeout`: of-watchdog refuses to start: HTTP write timeout must be over 0s",
            place.line, place.column
        )
    );
    let rendered = error.render();
    assert!(rendered.contains("      write_timeout: 0\n"), "{rendered}");
    let caret_line = rendered.lines().last().unwrap();
    assert_eq!(
        caret_line.find('^').unwrap() - caret_line.find('|').unwrap() - 2,
        place.column - 1,
        "{rendered}"
    );
}

#[test]
fn shape_errors_name_the_key() {
    let mut req = request(&["-"]);
    req.stdin = Some("provider:\n  name: openfaas\nfunctions:\n  f:\n    environment:\n      - write_timeout=2m\n".into());
    let error = read_inputs(&req).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("functions.f.environment"));
    assert_eq!((error.line, error.column), (Some(6), Some(7)));

    req.stdin = Some("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: f\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 1m\n      containers:\n      - name: f\n        env:\n        - name: fprocess\n          value: ./f\n".into());
    let error = read_inputs(&req).unwrap_err();
    assert_eq!((error.line, error.column), (Some(8), Some(38)));
    assert!(error.message.contains("whole number"), "{error}");

    req.stdin = Some("a: 1\na: 2\n".into());
    let error = read_inputs(&req).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert!(error.message.contains("first at line 1"), "{error}");

    req.stdin = Some("functions:\n  f:\n    environment:\n      mode: htpp\n".into());
    let error = read_inputs(&req).unwrap_err();
    assert!(error.message.contains("unknown watchdog mode"), "{error}");

    let error = error_of(&["does-not-exist.yml"]);
    assert_eq!(error.file, "does-not-exist.yml");
    assert_eq!(error.line, None);
}

#[test]
fn only_values_gives_no_functions() {
    assert!(read(&["chart-values.yaml"]).is_empty());
}

/// A small deterministic generator (xorshift), to mangle fixtures without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn never_panics_on_mangled_inputs() {
    let files = [
        "go-long/stack.yml",
        "chart-values.yaml",
        "helm-template.yaml",
        "function-crd.yaml",
        "envsubst.yml",
        "invalid/exec-words.yml",
        "config/.faasim.yaml",
    ];
    let texts: Vec<Vec<char>> = files
        .iter()
        .map(|f| {
            std::fs::read_to_string(fixtures().join(f))
                .unwrap()
                .chars()
                .collect()
        })
        .collect();
    let alphabet: Vec<char> = " \n\t:-[]{}&*!|>'\"#%@`,?${}\\0123456789abcxyzµ\u{feff}"
        .chars()
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..1500 {
        let mut text = texts[round % texts.len()].clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(text.len() + 1);
            match rng.below(3) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 => text.insert(at, alphabet[rng.below(alphabet.len())]),
                _ => {
                    let end = (at + rng.below(40)).min(text.len());
                    text.drain(at..end);
                }
            }
        }
        let text: String = text.into_iter().collect();
        let mut req = request(&["-"]);
        req.stdin = Some(text.clone());
        req.edition = Some(if round % 2 == 0 {
            Edition::Ce
        } else {
            Edition::Pro
        });
        match read_inputs(&req) {
            Ok(functions) => {
                for f in functions {
                    assert!(!f.provenance.is_empty());
                }
            }
            Err(error) => {
                let _ = error.render();
                assert!(!error.to_string().contains('\n'), "{error}");
            }
        }
        let _ = parse_config(&text, ".faasim.yaml").map_err(|e| e.render());
    }
}

#[test]
fn openfaas_pro_in_the_values_makes_the_edition_pro() {
    let f = only(read(&["pro/stack.yml", "pro/values-pro.yaml"]).split_off(1));
    assert_eq!(f.config.kubernetes.edition, Edition::Pro);
    let p = prov(&f, "kubernetes.edition");
    assert_eq!(p.value, "pro");
    assert_eq!(
        p.origin,
        Origin::File(at("pro/values-pro.yaml", "openfaasPro", "true"))
    );
    // Pro derives the grace from write_timeout: 2m + 2s.
    assert_eq!(f.config.kubernetes.grace_s, 122);
    assert_eq!(f.config.kubernetes.grace_source, GraceSource::ProDerived);
}

#[test]
fn the_chart_default_openfaas_pro_false_is_ce_from_the_file() {
    let f = only(read(&["pro/stack.yml", "pro/values-ce.yaml"]).split_off(1));
    assert_eq!(f.config.kubernetes.edition, Edition::Ce);
    assert_eq!(
        prov(&f, "kubernetes.edition").origin,
        Origin::File(at("pro/values-ce.yaml", "openfaasPro", "false"))
    );
}

#[test]
fn the_edition_flag_and_faasim_yaml_override_the_values() {
    let mut req = request(&["pro/stack.yml", "pro/values-pro.yaml"]);
    req.edition = Some(Edition::Ce);
    let functions = read_inputs(&req).unwrap();
    assert_eq!(functions[0].config.kubernetes.edition, Edition::Ce);
    assert_eq!(
        prov(&functions[0], "kubernetes.edition").origin,
        Origin::Flag("--edition ce".into())
    );
    assert_eq!(functions[0].config.kubernetes.grace_s, 30);
    let mut req = request(&["pro/stack.yml", "pro/values-pro.yaml"]);
    req.config = Some(parse_config("edition: ce\n", ".faasim.yaml").unwrap());
    let functions = read_inputs(&req).unwrap();
    assert_eq!(functions[0].config.kubernetes.edition, Edition::Ce);
}

#[test]
fn a_rendered_pro_gateway_makes_the_edition_pro() {
    let f = only(read(&["pro/stack.yml", "pro/pro-gateway.yaml"]).split_off(1));
    assert_eq!(f.config.kubernetes.edition, Edition::Pro);
    assert_eq!(
        prov(&f, "kubernetes.edition").origin,
        Origin::File(at("pro/pro-gateway.yaml", "image:", "ghcr.io"))
    );
    // The CE chart's rendered gateway says CE.
    let ce = read(&["helm-template.yaml"]);
    assert_eq!(ce[0].config.kubernetes.edition, Edition::Ce);
    assert!(matches!(
        prov(&ce[0], "kubernetes.edition").origin,
        Origin::File(_)
    ));
}

#[test]
fn openfaas_pro_must_be_true_or_false() {
    let error = read_inputs(&request(&["pro/values-odd.yaml"])).unwrap_err();
    assert_eq!(error.file, "pro/values-odd.yaml");
    assert_eq!(error.line, Some(1));
    assert_eq!(error.key.as_deref(), Some("openfaasPro"));
    assert!(error.message.contains("true or false"), "{error}");
}

#[test]
fn an_ignore_naming_no_rule_is_an_error_at_its_line() {
    let error = read_inputs(&request(&["pro/typo-ignore.yml"])).unwrap_err();
    assert_eq!(error.file, "pro/typo-ignore.yml");
    assert_eq!(error.line, Some(5));
    assert_eq!(
        error.key.as_deref(),
        Some("function.annotations.faasim.dev/ignore")
    );
    assert!(
        error
            .message
            .contains("no rule `grace-covers-drian`; did you mean `grace-covers-drain`?"),
        "{error}"
    );
    let error = parse_config("ignore:\n  - no-such-rule\n", ".faasim.yaml").unwrap_err();
    assert_eq!((error.file.as_str(), error.line), (".faasim.yaml", Some(2)));
    assert!(error.message.contains("no rule `no-such-rule`"), "{error}");
}

#[test]
fn an_ingress_in_front_of_the_gateway_gives_its_read_timeout() {
    let f = only(read(&["go-long/stack.yml", "ingress/ingress.yaml"]));
    let ingress = f.config.ingress.as_ref().expect("an ingress");
    assert_eq!(
        ingress.read_timeout_ns,
        90 * NS_PER_S,
        "the gateway's Ingress, not the dashboard's"
    );
    let p = prov(&f, "ingress.readTimeout");
    assert_eq!(p.value, "1m30s");
    assert_eq!(
        p.origin,
        Origin::File(at(
            "ingress/ingress.yaml",
            "proxy-read-timeout: \"90\"",
            "\"90\""
        ))
    );
    let default = only(read(&["go-long/stack.yml", "ingress/ingress-default.yaml"]));
    assert_eq!(
        default.config.ingress.as_ref().unwrap().read_timeout_ns,
        60 * NS_PER_S
    );
    assert!(matches!(
        prov(&default, "ingress.readTimeout").origin,
        Origin::Derived(_)
    ));
}

#[test]
fn without_an_ingress_nothing_is_recorded_for_it() {
    let f = only(read(&["go-long/stack.yml"]));
    assert_eq!(f.config.ingress, None);
    assert!(f.origin("ingress.readTimeout").is_none());
}

#[test]
fn a_read_timeout_with_a_unit_falls_back_to_60_s_with_a_warning() {
    let f = only(read(&["go-long/stack.yml", "ingress/ingress-unit.yaml"]));
    assert_eq!(f.config.ingress.unwrap().read_timeout_ns, 60 * NS_PER_S);
    let finding = f
        .input_findings
        .iter()
        .find(|x| x.key == "ingress.readTimeout")
        .expect("a finding");
    assert_eq!(finding.rule, INVALID_FALLBACK);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.message.contains("\"1800s\""), "{}", finding.message);
    assert_eq!(
        finding.fix,
        "write `nginx.ingress.kubernetes.io/proxy-read-timeout: \"1800\"`"
    );
}

#[test]
fn faasim_yaml_sets_an_ingress_the_manifests_do_not_show() {
    let mut req = request(&["go-long/stack.yml", "ingress/ingress.yaml"]);
    req.config = Some(parse_config("ingress:\n  readTimeout: 5m\n", ".faasim.yaml").unwrap());
    let f = only(read_inputs(&req).unwrap_or_else(|e| panic!("{}", e.render())));
    assert_eq!(
        f.config.ingress.as_ref().unwrap().read_timeout_ns,
        300 * NS_PER_S,
        "it wins"
    );
    assert_eq!(
        prov(&f, "ingress.readTimeout").origin,
        Origin::File(Location {
            file: ".faasim.yaml".to_string(),
            line: 2,
            column: 16,
        })
    );
    let alone = parse_config("ingress:\n", ".faasim.yaml").unwrap();
    assert_eq!(
        alone.ingress_read_timeout.unwrap().value,
        60 * NS_PER_S,
        "ingress-nginx's and an ALB's default"
    );
    for bad in [
        "ingress:\n  readTimeout: 0s\n",
        "ingress:\n  readTimeout: 1s..2s\n",
        "ingress:\n  idleTimeout: 60s\n",
        "ingress: 60s\n",
    ] {
        let error = parse_config(bad, ".faasim.yaml").unwrap_err().render();
        assert!(error.contains("ingress"), "{bad}: {error}");
    }
}

/// The request for a stack file given on standard input.
fn stdin_request(text: String) -> InputRequest {
    InputRequest {
        paths: vec!["-".to_string()],
        stdin: Some(text),
        stdin_name: Some("stack.yml".to_string()),
        ..request(&[])
    }
}

/// One bad function is listed with its error at its place, and the others are still read.
#[test]
fn a_bad_function_is_set_aside_and_the_others_read() {
    let text = "functions:\n  a:\n    lang: golang-middleware\n  b:\n    environment: [x]\n  \
                c:\n    lang: golang-middleware\n    environment:\n      write_timeout: 0\n  \
                d:\n    lang: golang-middleware\n"
        .to_string();
    let inputs = faasim_check::input::read_all(&stdin_request(text)).expect("reads");
    let names: Vec<&str> = inputs.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "d"]);
    let bad: Vec<(&str, Option<usize>)> = inputs
        .invalid
        .iter()
        .map(|f| (f.name.as_str(), f.error.line))
        .collect();
    assert_eq!(bad, [("b", Some(5)), ("c", Some(9))]);
    assert_eq!(inputs.invalid[0].error.file, "stack.yml");
}

/// A minimum above the maximum is a finding, and no run simulates more than the limit.
#[test]
fn scale_min_above_max_is_a_finding() {
    let text = "functions:\n  big:\n    lang: golang-middleware\n    labels:\n      \
                com.openfaas.scale.min: 10000\n"
        .to_string();
    let function = only(read_inputs(&stdin_request(text)).expect("reads"));
    let finding = function
        .input_findings
        .iter()
        .find(|f| f.rule == faasim_check::input::SCALE_MIN_ABOVE_MAX)
        .expect("a scale-min-above-max finding");
    assert_eq!(finding.location.as_ref().map(|l| l.line), Some(5));
    assert!(
        finding.message.contains("(20, the default)"),
        "{}",
        finding.message
    );
    let options = faasim_check::analyze::Options {
        concurrency: 5,
        max_duration_ns: None,
        client_timeout_ns: None,
        method: faasim_model::config::Method::Post,
        ignore: Vec::new(),
        seed: 1,
        search: false,
    };
    let judged = faasim_check::analyze::judged_config(&function, &options);
    assert_eq!(judged.function.scale_min, 20);
}

/// More functions than the limit is an error naming the first one over it.
#[test]
fn more_functions_than_the_limit_is_an_error() {
    let count = faasim_model::limits::FUNCTIONS_MAX + 1;
    let mut text = String::from("functions:\n");
    for index in 0..count {
        text.push_str(&format!("  f{index}:\n    lang: golang-middleware\n"));
    }
    let error = read_inputs(&stdin_request(text)).expect_err("over the limit");
    assert_eq!(
        error.line,
        Some(2 * faasim_model::limits::FUNCTIONS_MAX + 2)
    );
    assert!(
        error.message.contains("above the limit of 10000"),
        "{error}"
    );
}

/// `${VAR}` substitution may not grow a file past the limit.
#[test]
fn an_envsubst_bomb_is_an_error() {
    let mut text = String::from("functions:\n  x:\n    environment:\n      a: \"");
    for _ in 0..20_000 {
        text.push_str("${X}");
    }
    text.push_str("\"\n");
    let mut req = stdin_request(text);
    req.env.insert("X".to_string(), "y".repeat(1000));
    let error = read_inputs(&req).expect_err("over the limit");
    assert_eq!(error.line, Some(4), "{error}");
    assert!(error.message.contains("larger than the limit"), "{error}");
}

/// Found by `fuzz_inputs`: a `proxy-read-timeout` of 9223372036854775807 seconds saturated to
/// `u64::MAX` nanoseconds and the witness run's ingress overflowed adding it to the clock. Past
/// Go's longest duration it is an error at the annotation; at it, the run takes it.
#[test]
fn a_read_timeout_past_the_longest_go_duration_is_refused() {
    let ingress = |seconds: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: gw\n  \
             annotations:\n    nginx.ingress.kubernetes.io/proxy-read-timeout: \"{seconds}\"\n\
             spec:\n  defaultBackend:\n    service: {{name: gateway, port: {{number: 8080}}}}\n"
        )
    };
    let mut req = request(&["-", "go-long/stack.yml"]);
    req.stdin = Some(ingress("9223372036854775807"));
    let error = read_inputs(&req).expect_err("refused");
    assert_eq!(error.file, "<stdin>", "{error}");
    assert_eq!(error.line, Some(6), "{error}");
    assert_eq!(error.key.as_deref(), Some("ingress.readTimeout"), "{error}");
    assert!(error.message.contains("9223372036 s"), "{error}");

    req.stdin = Some(ingress("9223372036"));
    let f = only(read_inputs(&req).unwrap_or_else(|e| panic!("{}", e.render())));
    assert_eq!(
        f.config.ingress.as_ref().unwrap().read_timeout_ns,
        9_223_372_036 * NS_PER_S
    );
    let report = faasim_check::analyze::analyze(
        &[f],
        &faasim_check::analyze::Options {
            search: false,
            ..Default::default()
        },
    );
    assert!(format!("{report:?}").contains("go-long"));
}
