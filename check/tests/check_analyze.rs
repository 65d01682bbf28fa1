//! `faasim check`'s analysis on configurations built by hand (the readers have their own tests):
//! the seed's go-long function behind the chart's gateway defaults, behind the timeout
//! tutorial's values, and on CE.

use std::collections::BTreeMap;

use faasim_check::analyze::{Options, analyze};
use faasim_check::{Finding, FunctionInput, Location, Severity};
use faasim_model::config::{Config, Edition, Mode, WatchdogConfig, WatchdogKind, edition_grace_s};
use faasim_model::time::NS_PER_S;

fn go_long(edition: Edition, upstream_s: u64, gateway_rw_s: u64) -> FunctionInput {
    let env: BTreeMap<String, String> = [
        ("write_timeout", "2m"),
        ("read_timeout", "2m"),
        ("exec_timeout", "2m"),
        ("healthcheck_interval", "5s"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut config = Config::default();
    config.function.name = "go-long".to_string();
    config.function.watchdog = WatchdogConfig::from_env(&env, WatchdogKind::OfWatchdog, Mode::Http)
        .unwrap()
        .0;
    config.function.child = faasim_model::config::ChildConfig::from_env(
        &env,
        faasim_model::config::OnSigterm::Drain,
        faasim_model::config::Span::fixed(0),
    );
    config.function.scale_min = 1;
    config.function.scale_max = 1;
    let (grace_s, source, _) = edition_grace_s(edition, &env);
    config.kubernetes.edition = edition;
    config.kubernetes.grace_s = grace_s;
    config.kubernetes.grace_source = source;
    config.gateway.upstream_timeout_ns = upstream_s * NS_PER_S;
    config.gateway.read_timeout_ns = gateway_rw_s * NS_PER_S;
    config.gateway.write_timeout_ns = gateway_rw_s * NS_PER_S;
    config.provider.read_timeout_ns = gateway_rw_s * NS_PER_S;
    config.provider.write_timeout_ns = gateway_rw_s * NS_PER_S;
    FunctionInput {
        name: "go-long".to_string(),
        location: Location {
            file: "stack.yml".to_string(),
            line: 3,
            column: 3,
        },
        config,
        provenance: Vec::new(),
        ignored_rules: Vec::new(),
        input_findings: Vec::new(),
    }
}

fn rules_of(report: &faasim_check::Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn go_long_behind_the_chart_defaults_gets_502_at_60_s() {
    let report = analyze(&[go_long(Edition::Pro, 60, 65)], &Options::default());
    let rules = rules_of(&report);
    assert!(rules.contains(&"exec-within-upstream"), "{rules:?}");
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "exec-within-upstream")
        .unwrap();
    let counterexample = finding.counterexample.as_ref().expect("simulated");
    assert!(
        counterexample.saw.contains("got 502 at 60.001s"),
        "{}",
        counterexample.saw
    );
    assert!(
        counterexample.saw.contains("gateway upstream_timeout"),
        "{}",
        counterexample.saw
    );
    let safe = finding.safe_value.as_ref().expect("searched");
    assert_eq!(safe.key, "gateway.upstreamTimeout");
    // exec_timeout 2m bounds the call at 1m59.999s, and the provider's dial and the answer's
    // way back add 2 rtt (2 ms): the gateway needs a little more than 2m, 2m1s in seconds.
    assert_eq!(safe.simulated, "2m1s");
    assert_eq!(safe.inequality, "2m1s");
    assert!(
        finding.fix.contains("gateway.upstreamTimeout: 2m1s"),
        "{}",
        finding.fix
    );
}

#[test]
fn go_long_behind_the_tutorials_values_on_pro_is_clean() {
    let report = analyze(
        &[go_long(Edition::Pro, 30 * 60, 30 * 60 + 1)],
        &Options::default(),
    );
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn go_long_on_ce_loses_the_five_calls_to_the_30_s_grace() {
    let report = analyze(
        &[go_long(Edition::Ce, 30 * 60, 30 * 60 + 1)],
        &Options::default(),
    );
    // On CE every helm upgrade also cuts the calls through the gateway.
    assert_eq!(
        rules_of(&report),
        vec!["grace-covers-drain", "gateway-drains-on-rollout"]
    );
    let finding = &report.findings[0];
    let counterexample = finding.counterexample.as_ref().expect("simulated");
    assert!(
        counterexample.statuses.contains(&("500".to_string(), 5)),
        "{:?}",
        counterexample.statuses
    );
    assert!(
        counterexample
            .violated
            .contains(&"no-dropped-in-flight".to_string())
    );
    assert!(
        counterexample.saw.contains("SIGKILL"),
        "{}",
        counterexample.saw
    );
    // CE's faas-netes sets no grace period: the fix is one a CE user can apply, the longest
    // call shortened until the drain fits the 30 s, confirmed by rerunning the witness.
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.safe_value.is_none());
    assert_eq!(finding.key, "function.environment.exec_timeout");
    assert!(
        finding
            .fix
            .starts_with("exec_timeout: 28s (in the function's environment)")
            && finding
                .fix
                .contains("faas-netes sets no terminationGracePeriodSeconds")
            && finding.fix.contains("the witness loses nothing")
            && !finding.fix.contains("terminationGracePeriodSeconds:"),
        "{}",
        finding.fix
    );
    assert!(finding.location.is_some());
    // The scenario reproduces it.
    let loaded =
        faasim_sim::scenario::parse(&counterexample.scenario_yaml, "counterexample.yaml").unwrap();
    let run = faasim_sim::simulate(
        &loaded.config,
        &loaded.events,
        faasim_sim::DEFAULT_LIMIT_NS,
        counterexample.seed,
        false,
    );
    assert!(!run.passed());
}

#[test]
fn go_long_on_pro_with_a_short_grace_names_the_write_timeout_that_gives_it() {
    // Pro derives grace = write_timeout + 2s; with write_timeout 30s and calls of 2m the
    // grace is short, and the fix says which write_timeout gives the grace needed.
    let mut input = go_long(Edition::Pro, 30 * 60, 30 * 60 + 1);
    input.config.kubernetes.grace_s = 32;
    let report = analyze(&[input], &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "grace-covers-drain")
        .expect("grace-covers-drain");
    assert_eq!(finding.key, "kubernetes.terminationGracePeriodSeconds");
    assert!(
        finding
            .fix
            .contains("OpenFaaS Pro sets it to write_timeout + 2s: write_timeout: 120s"),
        "{}",
        finding.fix
    );
}

#[test]
fn a_kill_with_nothing_in_flight_is_a_warning() {
    // healthcheck_interval 40 s outlasts CE's 30 s grace, but the calls are short: the pod is
    // SIGKILLed with nothing in flight. No request is lost, so it is a warning; the CE fix
    // shortens healthcheck_interval, not the grace.
    let mut input = go_long(Edition::Ce, 30 * 60, 30 * 60 + 1);
    input.config.function.watchdog.healthcheck_interval_ns = 40 * NS_PER_S as i64;
    input.config.function.child.healthcheck_interval_ns = 40 * NS_PER_S as i64;
    let options = Options {
        max_duration_ns: Some(100_000_000),
        ..Options::default()
    };
    let report = analyze(&[input], &options);
    assert_eq!(
        rules_of(&report),
        vec!["grace-covers-drain", "gateway-drains-on-rollout"]
    );
    let finding = &report.findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    let cx = finding.counterexample.as_ref().expect("simulated");
    assert_eq!(cx.violated, vec!["graceful-exit".to_string()]);
    assert!(cx.saw.contains("killed"), "{}", cx.saw);
    assert_eq!(finding.key, "function.environment.healthcheck_interval");
    assert!(
        finding
            .fix
            .starts_with("healthcheck_interval: 2s (in the function's environment)"),
        "{}",
        finding.fix
    );
}

/// An HTTP-mode function that sets no timeouts: the watchdog's 30 s defaults in front of the
/// golang-middleware child's 10 s ones.
fn defaults_http(edition: Edition) -> FunctionInput {
    let mut input = go_long(edition, 60, 65);
    let env = BTreeMap::new();
    input.config.function.watchdog =
        WatchdogConfig::from_env(&env, WatchdogKind::OfWatchdog, Mode::Http)
            .unwrap()
            .0;
    input.config.function.child = faasim_model::config::ChildConfig::from_env(
        &env,
        faasim_model::config::OnSigterm::Drain,
        faasim_model::config::Span::fixed(0),
    );
    input
}

#[test]
fn a_breach_the_other_fixes_mend_is_not_reported_without_a_run() {
    // The child's drain deadline (10 s + 10 s) ends before a 30 s call: the same breach as
    // handler-within-child-write, whose fix (write_timeout in the environment) mends both.
    // No run shows child-listens-while-routed on its own, so it is not reported.
    let report = analyze(&[defaults_http(Edition::Pro)], &Options::default());
    let rules = rules_of(&report);
    assert!(rules.contains(&"handler-within-child-write"), "{rules:?}");
    assert!(!rules.contains(&"child-listens-while-routed"), "{rules:?}");
    assert!(report.findings.iter().all(|f| f.counterexample.is_some()));
}

#[test]
fn a_child_that_closes_before_the_routing_stops_is_shown_refusing_calls() {
    // Endpoints that take 15 s to drop the pod outlast the child's 10 s healthcheck_interval
    // but not the watchdog's 30 s: calls reach the watchdog and meet the child's closed
    // listener.
    let mut input = defaults_http(Edition::Pro);
    input.config.kubernetes.endpoint_lag_ns = faasim_model::config::Span::fixed(15 * NS_PER_S);
    let report = analyze(&[input], &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "child-listens-while-routed")
        .unwrap_or_else(|| panic!("{:?}", rules_of(&report)));
    let cx = finding.counterexample.as_ref().expect("simulated");
    assert!(
        cx.violated.contains(&"no-refused-routing".to_string()),
        "{cx:?}"
    );
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.key, "function.environment.healthcheck_interval");
    // The fix fixes it: with healthcheck_interval at the value found (the watchdog and the
    // child read the same variable), the rule is no longer reported.
    let safe = finding.safe_value.as_ref().expect("searched");
    assert!(
        finding
            .fix
            .starts_with("function.environment.healthcheck_interval: "),
        "{}",
        finding.fix
    );
    let ns = faasim_model::duration::parse_go(&safe.simulated).expect("a duration");
    let mut mended = defaults_http(Edition::Pro);
    mended.config.kubernetes.endpoint_lag_ns = faasim_model::config::Span::fixed(15 * NS_PER_S);
    mended.config.function.watchdog.healthcheck_interval_ns = ns;
    mended.config.function.child.healthcheck_interval_ns = ns;
    let report = analyze(&[mended], &Options::default());
    assert!(
        !rules_of(&report).contains(&"child-listens-while-routed"),
        "{:?}",
        rules_of(&report)
    );
}

#[test]
fn a_child_that_dies_on_sigterm_is_fixed_by_the_template_and_on_pro_by_async_retries() {
    for (edition, retries) in [(Edition::Pro, true), (Edition::Ce, false)] {
        let mut input = go_long(edition, 30 * 60, 30 * 60 + 1);
        input.config.function.child.on_sigterm = faasim_model::config::OnSigterm::Exit;
        let report = analyze(&[input], &Options::default());
        let finding = report
            .findings
            .iter()
            .find(|f| f.rule == "child-drains-on-sigterm")
            .unwrap_or_else(|| panic!("{:?}", rules_of(&report)));
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.key, "function.template");
        assert!(
            finding
                .fix
                .starts_with("use a template whose server drains on SIGTERM (golang-middleware"),
            "{}",
            finding.fix
        );
        assert_eq!(
            finding.fix.contains("queue-worker retries"),
            retries,
            "{}",
            finding.fix
        );
        assert!(!finding.fix.contains("onSigterm"), "{}", finding.fix);
    }
}

#[test]
fn on_ce_a_deployments_own_grace_is_named_as_such() {
    let mut input = go_long(Edition::Ce, 30 * 60, 30 * 60 + 1);
    input.config.kubernetes.grace_s = 45;
    input.config.kubernetes.grace_source = faasim_model::config::GraceSource::Explicit;
    let report = analyze(&[input], &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "grace-covers-drain")
        .expect("grace-covers-drain");
    assert!(
        finding.fix.contains("the grace is the Deployment's 45 s")
            && finding.fix.starts_with("exec_timeout: 43s"),
        "{}",
        finding.fix
    );
}

/// On CE a helm upgrade rolls the gateway, which exits on SIGTERM: the calls in flight through
/// it are cut (an error, with the run that shows it); Pro is not judged (its gateway's shutdown
/// is not public); three replicas cut a third each.
#[test]
fn a_ce_gateway_upgrade_cuts_the_calls_in_flight_and_pro_is_not_judged() {
    let mut input = go_long(Edition::Ce, 30 * 60, 30 * 60 + 1);
    input.config.gateway.replicas = 3;
    let report = analyze(&[input], &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "gateway-drains-on-rollout")
        .expect("a CE gateway upgrade finding");
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.key, "gateway.replicas");
    assert!(finding.fix.contains("about 1/3"), "{}", finding.fix);
    let cx = finding.counterexample.as_ref().expect("simulated");
    assert!(cx.saw.contains("gateway exited"), "{}", cx.saw);
    assert!(cx.violated.contains(&"no-dropped-in-flight".to_string()));

    let report = analyze(
        &[go_long(Edition::Pro, 30 * 60, 30 * 60 + 1)],
        &Options::default(),
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule != "gateway-drains-on-rollout"),
        "{:#?}",
        report.findings
    );
}

#[test]
fn go_long_behind_an_ingress_at_its_60_s_default_gets_504() {
    let mut input = go_long(Edition::Pro, 30 * 60, 30 * 60 + 1);
    input.config.ingress = Some(faasim_model::config::IngressConfig::default());
    let report = analyze(&[input], &Options::default());
    let rules = rules_of(&report);
    assert_eq!(rules, vec!["ingress-read-covers-response"], "{rules:?}");
    let finding = &report.findings[0];
    let counterexample = finding.counterexample.as_ref().expect("simulated");
    assert!(
        counterexample.saw.contains("504") && counterexample.saw.contains("ingress"),
        "{}",
        counterexample.saw
    );
    let safe = finding.safe_value.as_ref().expect("searched");
    assert_eq!(safe.key, "ingress.readTimeout");
    assert_eq!(safe.simulated, "2m1s");
    assert!(
        finding
            .fix
            .ends_with("on ingress-nginx: nginx.ingress.kubernetes.io/proxy-read-timeout: \"121\""),
        "{}",
        finding.fix
    );
}

/// Functions are checked in parallel parts: the findings are those of each function checked
/// alone, in input order, whatever the number of cores.
#[test]
fn parallel_parts_give_the_findings_in_input_order() {
    let inputs: Vec<FunctionInput> = (0..9)
        .map(|index| {
            let mut input = go_long(
                if index % 2 == 0 {
                    Edition::Ce
                } else {
                    Edition::Pro
                },
                60 + 30 * (index % 3),
                65,
            );
            input.name = format!("go-long-{index}");
            input.config.function.name = input.name.clone();
            input
        })
        .collect();
    let options = Options {
        search: false,
        ..Options::default()
    };
    let together = analyze(&inputs, &options).findings;
    let alone: Vec<_> = inputs
        .iter()
        .flat_map(|input| analyze(std::slice::from_ref(input), &options).findings)
        .collect();
    assert!(!together.is_empty());
    assert_eq!(together, alone);
}

/// The CE queue-worker's ack_wait, read from a values file, judged on the asynchronous path:
/// a 30s ackWait below a 2m call is a finding at the line of `ackWait`, proven by an async
/// run in which the call runs again; 2m30s above the call is none.
#[test]
fn a_queue_worker_ack_wait_below_the_call_is_proven_by_an_async_run() {
    use faasim_check::input::{InputRequest, read_inputs};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check/async-ack-wait");
    let read = |values: &str| {
        let request = InputRequest {
            paths: vec!["stack.yml".to_string(), values.to_string()],
            cwd: dir.clone(),
            ..InputRequest::default()
        };
        read_inputs(&request).unwrap_or_else(|e| panic!("{}", e.render()))
    };
    let report = analyze(&read("values.yaml"), &Options::default());
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "ce-ack-wait-covers-call")
        .unwrap_or_else(|| panic!("{:?}", rules_of(&report)));
    assert_eq!(finding.function, "report");
    assert_eq!(finding.key, "queueWorker.ackWait");
    // `  ackWait: "30s"` on line 14: the value starts at column 12.
    assert_eq!(
        finding.location,
        Some(Location {
            file: "values.yaml".to_string(),
            line: 14,
            column: 12,
        })
    );
    assert!(
        finding.message.contains("ack_wait is 30s"),
        "{}",
        finding.message
    );
    // Run again, nothing lost: a warning.
    assert_eq!(finding.severity, Severity::Warning);
    let counterexample = finding.counterexample.as_ref().expect("simulated");
    assert!(
        counterexample
            .violated
            .contains(&"no-duplicate-invocation".to_string()),
        "{:?}",
        counterexample.violated
    );
    // 1 + floor(2m / 30s) runs on the one worker.
    assert!(
        counterexample.saw.contains("duplicated") && counterexample.saw.contains("run 5 times"),
        "{}",
        counterexample.saw
    );
    // The witness is an asynchronous run of the CE worker with the file's ack_wait.
    let yaml = &counterexample.scenario_yaml;
    assert!(yaml.contains("async: true"), "{yaml}");
    assert!(yaml.contains("ackWait: 30s"), "{yaml}");
    let safe = finding.safe_value.as_ref().expect("searched");
    assert_eq!(safe.simulated, "2m1s");

    let report = analyze(&read("values-long-ack.yaml"), &Options::default());
    assert!(
        !rules_of(&report).contains(&"ce-ack-wait-covers-call"),
        "{:?}",
        rules_of(&report)
    );

    // The function alone, without the values that configure a queue-worker: not judged.
    let report = analyze(&read("stack.yml")[..1], &Options::default());
    assert!(!rules_of(&report).contains(&"ce-ack-wait-covers-call"));
}

/// On Pro, with the files writing the Pro queue-worker's values: a 2 m function behind the
/// chart's 1m upstreamTimeout (which the Pro worker reads as its own) is judged on the async
/// path, and a witness shows the attempt cut and run again; a function whose
/// `com.openfaas.retry.attempts: "1"` allows no retry has no such finding (its run shows no
/// second execution). The fix moves gateway.upstreamTimeout, which both timers read.
#[test]
fn a_pro_queue_worker_timeout_below_the_call_is_proven_by_an_async_run() {
    use faasim_check::input::{InputRequest, read_inputs};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check/pro-queue-worker");
    let request = InputRequest {
        paths: vec!["stack.yml".to_string(), "values.yaml".to_string()],
        cwd: dir,
        ..InputRequest::default()
    };
    let inputs = read_inputs(&request).unwrap_or_else(|e| panic!("{}", e.render()));
    let batch = inputs.iter().find(|i| i.name == "batch").expect("batch");
    assert_eq!(
        batch
            .origin("queueWorkerPro.maxRetryAttempts")
            .map(|p| p.value.as_str()),
        Some("100")
    );
    let once = inputs.iter().find(|i| i.name == "once").expect("once");
    assert_eq!(
        once.origin("function.annotations.com.openfaas.retry.attempts")
            .map(|p| p.value.as_str()),
        Some("1")
    );
    let report = analyze(&inputs, &Options::default());
    let pro: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule == "pro-upstream-covers-call")
        .collect();
    assert_eq!(pro.len(), 1, "{:?}", rules_of(&report));
    let finding = pro[0];
    assert_eq!(finding.function, "batch");
    assert_eq!(finding.key, "gateway.upstreamTimeout");
    let counterexample = finding.counterexample.as_ref().expect("a witness");
    assert!(
        counterexample
            .violated
            .contains(&"no-duplicate-invocation".to_string()),
        "{:?}",
        counterexample.violated
    );
    assert!(
        counterexample.scenario_yaml.contains("edition: pro"),
        "{}",
        counterexample.scenario_yaml
    );
    let safe = finding.safe_value.as_ref().expect("a safe value");
    let simulated = faasim_model::duration::parse_go(&safe.simulated).expect("a duration");
    assert!(
        simulated > 120 * 1_000_000_000,
        "above the 2 m call: {}",
        safe.simulated
    );
}
