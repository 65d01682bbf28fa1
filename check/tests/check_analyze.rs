//! `faasim check`'s analysis on configurations built by hand (the readers have their own tests):
//! the seed's go-long function behind the chart's gateway defaults, behind the timeout
//! tutorial's values, and on CE.

use std::collections::BTreeMap;

use faasim_check::analyze::{Options, analyze};
use faasim_check::{FunctionInput, Location};
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
    assert_eq!(rules_of(&report), vec!["grace-covers-drain"]);
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
    let safe = finding.safe_value.as_ref().expect("searched");
    assert_eq!(safe.key, "kubernetes.terminationGracePeriodSeconds");
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
