//! Issue 11's "what must be true" on hand-written stack files (`tests/fixtures/check/templates`):
//! each function is judged by its template (the model's table), the child's SIGTERM behaviour
//! decides the drop, the classic watchdog has no exec limit, Go's zero server timeouts are
//! none, the values' `openfaasPro` makes the edition, and what the files cannot show is an
//! assumption printed in the output that `.faasim.yaml` settles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use faasim_check::analyze::{Options, analyze};
use faasim_check::command::{CheckArgs, check, explain_function};
use faasim_check::input::{InputRequest, parse_config, read_inputs};
use faasim_check::{FunctionInput, Report, Severity};
use faasim_model::config::{Edition, Mode, OnSigterm, WatchdogKind};
use faasim_model::time::NS_PER_S;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/templates")
}

fn read_with(paths: &[&str], config: Option<&str>) -> Vec<FunctionInput> {
    let request = InputRequest {
        paths: paths.iter().map(|p| p.to_string()).collect(),
        cwd: dir(),
        config: config.map(|text| parse_config(text, ".faasim.yaml").unwrap()),
        ..InputRequest::default()
    };
    read_inputs(&request).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// The function's own findings: these files say nothing of the gateway, whose helm upgrade
/// every CE function meets alike (`check_analyze.rs` tests that finding).
fn report(paths: &[&str]) -> Report {
    let options = Options {
        ignore: vec!["gateway-drains-on-rollout".to_string()],
        ..Options::default()
    };
    analyze(&read_with(paths, None), &options)
}

fn rules_of<'r>(report: &'r Report, function: &str) -> Vec<(&'r str, Severity)> {
    report
        .findings
        .iter()
        .filter(|f| f.function == function)
        .map(|f| (f.rule.as_str(), f.severity))
        .collect()
}

fn function<'f>(functions: &'f [FunctionInput], name: &str) -> &'f FunctionInput {
    functions.iter().find(|f| f.name == name).unwrap()
}

#[test]
fn a_node20_or_python3_http_child_with_safe_timers_drops_and_golang_middleware_is_clean() {
    let report = report(&["same-timers.yml"]);
    for (name, lang, process) in [
        ("node-fn", "node20", "node index.js"),
        ("python-fn", "python3-http", "waitress"),
    ] {
        assert_eq!(
            rules_of(&report, name),
            [("child-drains-on-sigterm", Severity::Error)],
            "{name}"
        );
        let finding = report.findings.iter().find(|f| f.function == name).unwrap();
        for words in [
            format!("the {lang} template's child"),
            process.to_string(),
            "has no SIGTERM handler".to_string(),
            "of-watchdog exits with it".to_string(),
            "every call in flight is dropped".to_string(),
        ] {
            assert!(
                finding.message.contains(&words),
                "{words}: {}",
                finding.message
            );
        }
        assert!(!finding.message.contains("upstream.onSigterm"));
        let cx = finding.counterexample.as_ref().expect("a run shows it");
        assert!(cx.saw.contains("dropped, child exited"), "{}", cx.saw);
        // The line to change is the function's `lang`.
        assert_eq!(finding.key, "function.template");
        assert_eq!(
            finding.location.as_ref().unwrap().line,
            if name == "node-fn" { 8 } else { 16 }
        );
    }
    assert_eq!(rules_of(&report, "go-fn"), []);
}

#[test]
fn the_node_templates_dockerfile_timeouts_sit_under_the_functions_own() {
    let functions = read_with(&["templates.yml"], None);
    let node = function(&functions, "node-defaults");
    let w = &node.config.function.watchdog;
    assert_eq!(
        (w.exec_timeout_ns, w.write_timeout_ns, w.read_timeout_ns),
        (10 * NS_PER_S, 15 * NS_PER_S, 15 * NS_PER_S)
    );
    let origin = node.origin("function.environment.write_timeout").unwrap();
    assert!(
        format!("{:?}", origin.origin).contains("node20 template's Dockerfile"),
        "{origin:?}"
    );
    // No Go write timeout in node's server, so no handler-within-child-write.
    assert_eq!(node.config.function.child.write_timeout_ns, 0);
    assert_eq!(node.config.function.child.on_sigterm, OnSigterm::Exit);
    let own = function(&functions, "node-own");
    assert_eq!(own.config.function.watchdog.write_timeout_ns, 60 * NS_PER_S);
    assert_eq!(own.config.function.watchdog.exec_timeout_ns, 10 * NS_PER_S);
    let report = analyze(&functions, &Options::default());
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.rule == "handler-within-child-write"
                && (f.function.starts_with("node") || f.function == "java-fn")),
        "{:?}",
        report.findings
    );
    let java = function(&functions, "java-fn");
    assert_eq!(java.config.function.child.on_sigterm, OnSigterm::Exit);
    assert_eq!(java.config.function.child.write_timeout_ns, 0);
}

#[test]
fn a_classic_python3_function_with_write_timeout_5m_behind_the_charts_1m_upstream_gets_502() {
    let functions = read_with(&["classic-long.yml", "../chart-values.yaml"], None);
    let f = function(&functions, "long-py");
    assert_eq!(f.config.function.watchdog.kind, WatchdogKind::Classic);
    assert_eq!(f.config.function.watchdog.mode, Mode::Streaming);
    assert_eq!(
        f.config.function.watchdog.exec_timeout_ns, 0,
        "no exec limit"
    );
    let report = analyze(&functions, &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "exec-within-upstream")
        .unwrap_or_else(|| panic!("{:?}", rules_of(&report, "long-py")));
    assert_eq!(finding.severity, Severity::Error);
    let saw = &finding.counterexample.as_ref().unwrap().saw;
    assert!(saw.contains("got 502 at 60.001s"), "{saw}");
}

#[test]
fn gateway_read_and_write_timeouts_of_zero_give_no_finding_of_their_own() {
    // Go's http.Server: 0 is no timeout. The chart passes the gateway's values to faas-netes
    // when its own are empty, whose proxy client turns 0 into its 10 s default: calls of 10 s
    // or more fail there, and only there.
    let functions = read_with(&["short-calls.yml", "zero-gateway.yaml"], None);
    assert_eq!(functions[0].config.gateway.read_timeout_ns, 0);
    assert_eq!(functions[0].config.gateway.write_timeout_ns, 0);
    let rules = |r: &Report| {
        r.findings
            .iter()
            .map(|f| (f.function.clone(), f.rule.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rules(&report(&["short-calls.yml", "zero-gateway.yaml"])),
        []
    );
    let without = report(&["same-timers.yml"]);
    let with = report(&["same-timers.yml", "zero-gateway.yaml"]);
    let new: Vec<(String, String)> = rules(&with)
        .into_iter()
        .filter(|r| !rules(&without).contains(r))
        .collect();
    assert!(
        new.iter()
            .all(|(_, rule)| rule == "exec-within-provider-timeout"),
        "{new:?}"
    );
    assert!(
        with.findings
            .iter()
            .all(|f| !f.rule.starts_with("gateway-"))
    );
}

#[test]
fn a_values_file_with_openfaas_pro_true_is_checked_as_pro_without_edition() {
    let functions = read_with(&["same-timers.yml", "pro.yaml"], None);
    assert_eq!(functions[0].config.kubernetes.edition, Edition::Pro);
    let out = check(
        &CheckArgs {
            paths: vec!["same-timers.yml".into(), "pro.yaml".into()],
            ..CheckArgs::default()
        },
        dir(),
        BTreeMap::new(),
        None,
    );
    assert!(
        out.stdout.starts_with("edition pro, from pro.yaml:1"),
        "{}",
        out.stdout
    );
    // On Pro, the drop is still there (the edition does not change the template), and its
    // fix offers the queue-worker's retries.
    let report = report(&["same-timers.yml", "pro.yaml"]);
    let finding = report
        .findings
        .iter()
        .find(|f| f.function == "node-fn")
        .unwrap();
    assert!(
        finding.fix.contains("queue-worker retries"),
        "{}",
        finding.fix
    );
}

#[test]
fn an_unknown_lang_no_lang_and_dockerfile_are_printed_assumptions() {
    let out = check(
        &CheckArgs {
            paths: vec!["unknown.yml".into()],
            ..CheckArgs::default()
        },
        dir(),
        BTreeMap::new(),
        None,
    );
    assert!(
        out.stdout
            .contains("assumed, where the files cannot show it:"),
        "{}",
        out.stdout
    );
    for line in [
        "  power-fn: lang `powercli` at unknown.yml:7 is not in faasim's template table",
        "  bare-fn: no `lang`",
        "  docker-fn: lang `dockerfile` at unknown.yml:13: the function's own Dockerfile decides",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    let functions = read_with(&["unknown.yml"], None);
    assert_eq!(
        function(&functions, "docker-fn")
            .config
            .function
            .watchdog
            .kind,
        WatchdogKind::Classic
    );
    assert!(
        function(&functions, "power-fn")
            .assumption()
            .unwrap()
            .contains("functions: {power-fn: {template: LANG}}")
    );
}

#[test]
fn faasim_yaml_settles_a_functions_template() {
    let config = "functions:\n  power-fn: {template: node20}\n  bare-fn: {watchdog: classic}\n  \
                  docker-fn: {template: golang-middleware, onSigterm: exit}\n";
    let functions = read_with(&["unknown.yml"], Some(config));
    for f in &functions {
        assert_eq!(f.assumption(), None, "{}", f.name);
    }
    let power = function(&functions, "power-fn");
    assert_eq!(power.config.function.template, Some("node20"));
    assert_eq!(power.config.function.child.on_sigterm, OnSigterm::Exit);
    let bare = function(&functions, "bare-fn");
    assert_eq!(bare.config.function.watchdog.kind, WatchdogKind::Classic);
    let docker = function(&functions, "docker-fn");
    assert_eq!(
        docker.config.function.watchdog.kind,
        WatchdogKind::OfWatchdog
    );
    assert_eq!(docker.config.function.child.on_sigterm, OnSigterm::Exit);
    let report = analyze(&functions, &Options::default());
    assert!(rules_of(&report, "power-fn").contains(&("child-drains-on-sigterm", Severity::Error)));
    let docker_finding = report
        .findings
        .iter()
        .find(|f| f.function == "docker-fn" && f.rule == "child-drains-on-sigterm")
        .unwrap();
    assert!(
        docker_finding
            .message
            .contains("the golang-middleware template's child"),
        "{}",
        docker_finding.message
    );
}

#[test]
fn faasim_yaml_function_settings_are_checked_with_file_line_and_key() {
    for (text, key, says) in [
        (
            "functions:\n  f: {template: cobol}\n",
            "functions.f.template",
            "`cobol` is not one of: golang-http",
        ),
        (
            "functions:\n  f: {watchdog: tiny}\n",
            "functions.f.watchdog",
            "of-watchdog, classic, fixed-wait",
        ),
        (
            "functions:\n  f: {onSigterm: maybe}\n",
            "functions.f.onSigterm",
            "drain, exit",
        ),
        (
            "functions:\n  f: {colour: red}\n",
            "functions.f.colour",
            "unknown key",
        ),
        ("functions: [a]\n", "functions", "expected a mapping"),
    ] {
        let error = parse_config(text, ".faasim.yaml").unwrap_err();
        assert_eq!(error.key.as_deref(), Some(key), "{text}");
        assert!(error.message.contains(says), "{}", error.message);
        assert_eq!(error.file, ".faasim.yaml");
        assert!(error.line.is_some_and(|l| l >= 1), "{text}");
    }
}

#[test]
fn explain_function_prints_what_the_template_implies_with_its_source() {
    let out = explain_function(
        &CheckArgs {
            paths: vec!["same-timers.yml".into()],
            ..CheckArgs::default()
        },
        "node-fn",
        dir(),
        BTreeMap::new(),
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in [
        "template node20 (same-timers.yml:8:11)",
        "  implies: of-watchdog, mode http, node index.js: express on 3000; child no SIGTERM handler",
        "  its Dockerfile sets exec_timeout=10s, write_timeout=15s, read_timeout=15s",
        "  source: openfaas/templates @69ca16ae template/node22/index.js",
        "  child write_timeout ",
        "which dies at once: the watchdog exits with it (log.Fatalf) and every call in flight is \
         dropped",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    // Node's server has no write timeout and no healthcheck_interval: neither bounds a call.
    assert!(!out.stdout.contains("fires first: child"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("child healthcheck_interval"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_classic_template_settled_as_fixed_wait_keeps_its_unlimited_exec_timeout() {
    // A classic-watchdog image from before 0.2.0 (openfaas-cloud's git-tar pins 0.1.4).
    let functions = read_with(
        &["classic-long.yml"],
        Some("functions:\n  long-py: {watchdog: fixed-wait}\n"),
    );
    let f = function(&functions, "long-py");
    assert_eq!(f.config.function.watchdog.kind, WatchdogKind::FixedWait);
    assert_eq!(f.config.function.watchdog.exec_timeout_ns, 0);
    assert_eq!(f.assumption(), None);
    let report = analyze(&functions, &Options::default());
    let rules = rules_of(&report, "long-py");
    assert!(
        rules.contains(&("fixed-wait-grace", Severity::Error)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("exec-within-upstream", Severity::Error)),
        "{rules:?}"
    );
}

#[test]
fn sarif_json_and_github_carry_the_assumptions() {
    let run = |format| {
        check(
            &CheckArgs {
                paths: vec!["unknown.yml".into()],
                format,
                ..CheckArgs::default()
            },
            dir(),
            BTreeMap::new(),
            None,
        )
        .stdout
    };
    let sarif: serde_json::Value =
        serde_json::from_str(&run(faasim_check::output::Format::Sarif)).unwrap();
    let assumptions = &sarif["runs"][0]["properties"]["assumptions"];
    assert!(
        assumptions["power-fn"]
            .as_str()
            .is_some_and(|t| t.starts_with("lang `powercli` at unknown.yml:7")),
        "{assumptions}"
    );
    assert!(assumptions["bare-fn"].is_string(), "{assumptions}");
    let json = run(faasim_check::output::Format::Json);
    assert!(json.contains("\"assumed: no `lang`"), "{json}");
    let github = run(faasim_check::output::Format::Github);
    assert!(
        github.contains(
            "::notice file=unknown.yml,line=9,col=3,title=faasim assumption::bare-fn: assumed: \
             no `lang`"
        ),
        "{github}"
    );
}

#[test]
fn a_dockerfile_function_that_sets_mode_runs_of_watchdog() {
    let functions = read_with(&["dockerfile-mode.yml"], None);
    let f = function(&functions, "own-http");
    assert_eq!(f.config.function.watchdog.kind, WatchdogKind::OfWatchdog);
    assert_eq!(f.config.function.watchdog.mode, Mode::Http);
    assert_eq!(f.config.function.template, None);
    assert!(
        f.assumption()
            .is_some_and(|t| t.contains("sets `mode`, which only of-watchdog reads")),
        "{:?}",
        f.assumption()
    );
}
