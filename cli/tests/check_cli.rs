//! `faasim check` end to end on real files: the seed's go-long stack behind the chart's gateway
//! defaults, behind the timeout tutorial's values on Pro and on CE, behind an ingress, and a
//! multi-document `helm template` output; snapshots of the human, JSON and SARIF output, the
//! SARIF checked against the SARIF 2.1.0 schema, and the exit codes.

use std::collections::BTreeMap;

use faasim_check::command::{CheckArgs, check};
use faasim_check::output::Format;

#[path = "../../check/tests/support/sarif.rs"]
mod sarif;

#[path = "../../check/tests/support/run.rs"]
mod support_run;
use support_run::{fixtures, run};

#[test]
fn go_long_behind_the_chart_defaults_is_flagged_with_the_502_at_60_s() {
    let outcome = run(
        &["go-long/stack.yml", "chart-values.yaml"],
        "pro",
        Format::Human,
    );
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert!(
        outcome.stdout.contains("error[exec-within-upstream]"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("got 502 at 60.001s"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("gateway.upstreamTimeout at chart-values.yaml:30:20"),
        "{}",
        outcome.stdout
    );
    insta::assert_snapshot!("check_go_long_chart_defaults_human", outcome.stdout);
    let json = run(
        &["go-long/stack.yml", "chart-values.yaml"],
        "pro",
        Format::Json,
    );
    insta::assert_snapshot!("check_go_long_chart_defaults_json", json.stdout);
    let sarif = run(
        &["go-long/stack.yml", "chart-values.yaml"],
        "pro",
        Format::Sarif,
    );
    let value = sarif::assert_valid_sarif(&sarif.stdout);
    // The four synchronous timeouts, and the Pro queue-worker's (chart-values.yaml writes
    // queueWorker.replicas): its attempts cut at the gateway's upstreamTimeout.
    assert_eq!(
        value["runs"][0]["results"].as_array().map(Vec::len),
        Some(5)
    );
    insta::assert_snapshot!("check_go_long_chart_defaults_sarif", sarif.stdout);
}

#[test]
fn go_long_behind_the_tutorials_values_on_pro_is_clean() {
    let outcome = run(
        &["go-long/stack.yml", "timeout-tutorial/values.yaml"],
        "pro",
        Format::Human,
    );
    assert_eq!(outcome.code, 0, "{}{}", outcome.stdout, outcome.stderr);
    insta::assert_snapshot!("check_go_long_tutorial_pro_human", outcome.stdout);
}

#[test]
fn go_long_on_ce_loses_five_calls_to_the_30_s_grace() {
    let outcome = run(
        &["go-long/stack.yml", "timeout-tutorial/values.yaml"],
        "ce",
        Format::Human,
    );
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.stdout.contains("error[grace-covers-drain]"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("500 x5"),
        "five dropped: {}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("dropped, SIGKILL"),
        "{}",
        outcome.stdout
    );
    // CE sets no grace period: the fix is the longest call a CE user can allow.
    assert!(
        !outcome
            .stdout
            .contains("terminationGracePeriodSeconds: 122"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("fix: exec_timeout: 28s (in the function's environment)"),
        "{}",
        outcome.stdout
    );
    insta::assert_snapshot!("check_go_long_tutorial_ce_human", outcome.stdout);
}

#[test]
fn a_helm_template_output_is_checked_from_stdin() {
    let text = std::fs::read_to_string(fixtures().join("helm-template.yaml")).expect("fixture");
    let args = CheckArgs {
        paths: vec!["-".to_string()],
        ..CheckArgs::default()
    };
    let human = check(&args, fixtures(), BTreeMap::new(), Some(text.clone()));
    assert_ne!(human.code, 2, "{}", human.stderr);
    insta::assert_snapshot!("check_helm_template_human", human.stdout);
    let args = CheckArgs {
        paths: vec!["-".to_string()],
        format: Format::Sarif,
        ..CheckArgs::default()
    };
    let sarif = check(&args, fixtures(), BTreeMap::new(), Some(text));
    sarif::assert_valid_sarif(&sarif.stdout);
    insta::assert_snapshot!("check_helm_template_sarif", sarif.stdout);
}

#[test]
fn fail_on_and_ignore_decide_the_exit_code() {
    let paths = ["go-long/stack.yml", "chart-values.yaml"];
    let ignore_all = CheckArgs {
        paths: paths.iter().map(|p| p.to_string()).collect(),
        edition: Some("pro".to_string()),
        ignore: vec![
            "exec-within-upstream".to_string(),
            "exec-within-provider-timeout".to_string(),
            "exec-within-provider-write".to_string(),
            "gateway-write-covers-response".to_string(),
            "pro-upstream-covers-call".to_string(),
        ],
        ..CheckArgs::default()
    };
    assert_eq!(
        check(&ignore_all, fixtures(), BTreeMap::new(), None).code,
        0
    );
    let bad_flag = CheckArgs {
        edition: Some("enterprise".to_string()),
        ..ignore_all.clone()
    };
    assert_eq!(check(&bad_flag, fixtures(), BTreeMap::new(), None).code, 2);
    let typo = CheckArgs {
        ignore: vec!["no-such-rule".to_string()],
        ..ignore_all.clone()
    };
    let outcome = check(&typo, fixtures(), BTreeMap::new(), None);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome
            .stderr
            .starts_with("error: --ignore: no rule `no-such-rule`"),
        "{}",
        outcome.stderr
    );
    let near = CheckArgs {
        ignore: vec!["exec-within-upstrem".to_string()],
        ..ignore_all.clone()
    };
    let outcome = check(&near, fixtures(), BTreeMap::new(), None);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome
            .stderr
            .contains("did you mean `exec-within-upstream`?"),
        "{}",
        outcome.stderr
    );
    let missing = CheckArgs {
        paths: vec!["nothere.yml".to_string()],
        ..CheckArgs::default()
    };
    let outcome = check(&missing, fixtures(), BTreeMap::new(), None);
    assert_eq!(outcome.code, 2);
    assert!(outcome.stderr.contains("nothere.yml"), "{}", outcome.stderr);
}

#[test]
fn the_binary_maps_findings_to_exit_codes() {
    let faasim = env!("CARGO_BIN_EXE_faasim");
    let status = |args: &[&str]| {
        std::process::Command::new(faasim)
            .current_dir(fixtures())
            .args(args)
            .output()
            .expect("runs")
    };
    let flagged = status(&[
        "check",
        "-f",
        "go-long/stack.yml",
        "chart-values.yaml",
        "--edition",
        "pro",
        "-o",
        "github",
    ]);
    assert_eq!(flagged.status.code(), Some(1));
    let text = String::from_utf8_lossy(&flagged.stdout);
    assert!(
        text.starts_with("::error file=chart-values.yaml,line=30"),
        "{text}"
    );
    let clean = status(&[
        "check",
        "go-long/stack.yml",
        "timeout-tutorial/values.yaml",
        "--edition",
        "pro",
    ]);
    assert_eq!(clean.status.code(), Some(0));
    let rules = status(&["rules"]);
    assert!(String::from_utf8_lossy(&rules.stdout).contains("grace-covers-drain"));
    let page = status(&["explain", "grace-covers-drain"]);
    assert!(String::from_utf8_lossy(&page.stdout).contains("```text"));
    let chain = status(&[
        "explain",
        "--function",
        "go-long",
        "go-long/stack.yml",
        "chart-values.yaml",
    ]);
    assert_eq!(
        chain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&chain.stderr)
    );
    assert!(String::from_utf8_lossy(&chain.stdout).contains("upstream"));
    assert_eq!(status(&["explain", "no-such-rule"]).status.code(), Some(2));
}

#[test]
fn faasim_yaml_sets_fail_on_and_ignore() {
    let at = |dir: &str| {
        let args = CheckArgs::default();
        check(&args, fixtures().join(dir), BTreeMap::new(), None)
    };
    // failOn: warning turns the invalid-duration warning into exit 1 ...
    let strict = at("config-fail-on");
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict.stdout.contains("warning[invalid-duration-fallback]"),
        "{}",
        strict.stdout
    );
    // ... and its ignore list silences the rule in every format.
    let quiet = at("config-ignore");
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);
    assert!(
        !quiet.stdout.contains("invalid-duration-fallback"),
        "{}",
        quiet.stdout
    );
    let args = CheckArgs {
        format: Format::Sarif,
        ..CheckArgs::default()
    };
    let sarif = check(
        &args,
        fixtures().join("config-ignore"),
        BTreeMap::new(),
        None,
    );
    let value = sarif::assert_valid_sarif(&sarif.stdout);
    assert_eq!(
        value["runs"][0]["results"].as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn explain_function_assumes_the_handler_check_assumes() {
    let args = CheckArgs {
        paths: vec!["go-long/stack.yml".to_string()],
        ..CheckArgs::default()
    };
    let outcome = faasim_check::command::explain_function(
        &args,
        "go-long",
        fixtures(),
        BTreeMap::new(),
        None,
    );
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    // exec_timeout 2m: calls run to just under it, as `check` judges them.
    assert!(
        outcome.stdout.contains("handler duration")
            && outcome.stdout.contains("1m59.999s")
            && outcome.stdout.contains("derived: just under exec_timeout"),
        "{}",
        outcome.stdout
    );
    let told = CheckArgs {
        max_duration: Some("90s".to_string()),
        ..args
    };
    let outcome = faasim_check::command::explain_function(
        &told,
        "go-long",
        fixtures(),
        BTreeMap::new(),
        None,
    );
    assert!(
        outcome.stdout.contains("1m30s") && outcome.stdout.contains("flag --max-duration"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn findings_functions_share_are_printed_once_with_their_consequence() {
    // Two Go templates with no timeouts of their own on CE (chart values say
    // openfaasPro: false): the same two findings, one block naming both. python-fn (python3,
    // the classic watchdog) has short calls that are never cut: its pod is only killed with
    // nothing in flight, a warning. node-fn's node20 child dies on SIGTERM: its own finding.
    let args = CheckArgs {
        paths: vec!["several.yml".to_string(), "chart-values.yaml".to_string()],
        ..CheckArgs::default()
    };
    let outcome = check(&args, fixtures(), BTreeMap::new(), None);
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    let text = &outcome.stdout;
    assert!(
        text.starts_with("edition ce, from chart-values.yaml:6:14\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "go-long, go-short  several.yml:5, several.yml:7 (2 functions, the same findings)"
        ),
        "{text}"
    );
    assert_eq!(
        text.matches("error[grace-covers-drain]").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("warning[grace-covers-drain]").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("terminationGracePeriodSeconds:"), "{text}");
    assert!(
        text.contains(
            "node-fn  several.yml:13\n  error[child-drains-on-sigterm] function.template at \
             several.yml:14:11\n    the node20 template's child"
        ),
        "{text}"
    );
    // The summary counts every function's findings: these five, and on CE the helm upgrade
    // that cuts each function's calls through the gateway (printed once per group).
    assert_eq!(
        text.matches("error[gateway-drains-on-rollout]").count(),
        2,
        "{text}"
    );
    assert!(
        text.ends_with("4 functions, 9 errors, 1 warning, 0 notes\n"),
        "{text}"
    );
    insta::assert_snapshot!("check_several_grouped_human", outcome.stdout);
}

#[test]
fn stdin_can_be_named_for_sarif() {
    let text = std::fs::read_to_string(fixtures().join("helm-template.yaml")).expect("fixture");
    let args = CheckArgs {
        paths: vec!["-".to_string()],
        stdin_name: Some("deploy/rendered.yaml".to_string()),
        format: Format::Sarif,
        ..CheckArgs::default()
    };
    let outcome = check(&args, fixtures(), BTreeMap::new(), Some(text));
    let sarif = sarif::assert_valid_sarif(&outcome.stdout);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "deploy/rendered.yaml", "{result}");
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{result}");
    }
}

/// go-long behind the tutorial's values, published through ingress-nginx at 90 s: the ingress
/// is the limit, and the finding points at its annotation.
#[test]
fn go_long_behind_an_ingress_at_90_s_is_flagged_with_the_504() {
    let outcome = run(
        &[
            "go-long/stack.yml",
            "timeout-tutorial/values.yaml",
            "ingress/ingress.yaml",
        ],
        "pro",
        Format::Human,
    );
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    for expected in [
        "error[ingress-read-covers-response] ingress.readTimeout at ingress/ingress.yaml:30:53",
        "got 504 at 90.001s",
        "nginx.ingress.kubernetes.io/proxy-read-timeout: \"121\"",
    ] {
        assert!(
            outcome.stdout.contains(expected),
            "{expected}\n{}",
            outcome.stdout
        );
    }
    let sarif = run(
        &[
            "go-long/stack.yml",
            "timeout-tutorial/values.yaml",
            "ingress/ingress.yaml",
        ],
        "pro",
        Format::Sarif,
    );
    sarif::assert_valid_sarif(&sarif.stdout);
}

#[test]
fn a_queue_worker_ack_wait_below_the_call_is_a_finding_at_its_line() {
    let paths = ["async-ack-wait/stack.yml", "async-ack-wait/values.yaml"];
    let outcome = run(&paths, "ce", Format::Human);
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert!(
        outcome.stdout.contains(
            "warning[ce-ack-wait-covers-call] queueWorker.ackWait at async-ack-wait/values.yaml:14:12"
        ),
        "{}",
        outcome.stdout
    );
    let json = run(&paths, "ce", Format::Json);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let findings = value["functions"][0]["findings"]
        .as_array()
        .expect("findings");
    let finding = findings
        .iter()
        .find(|f| f["rule"] == "ce-ack-wait-covers-call")
        .unwrap_or_else(|| panic!("{}", json.stdout));
    assert_eq!(finding["key"], "queueWorker.ackWait");
    assert_eq!(finding["location"]["file"], "async-ack-wait/values.yaml");
    assert_eq!(finding["location"]["line"], 14);
    let scenario = finding["counterexample"]["scenario_yaml"]
        .as_str()
        .unwrap_or_else(|| panic!("{finding}"));
    assert!(scenario.contains("async: true"), "{scenario}");

    let long = run(
        &[
            "async-ack-wait/stack.yml",
            "async-ack-wait/values-long-ack.yaml",
        ],
        "ce",
        Format::Human,
    );
    assert!(
        !long.stdout.contains("ce-ack-wait-covers-call"),
        "{}",
        long.stdout
    );
    // Pro's queue-worker is not the CE one: not judged.
    let pro = run(&paths, "pro", Format::Human);
    assert!(
        !pro.stdout.contains("ce-ack-wait-covers-call"),
        "{}",
        pro.stdout
    );
}
