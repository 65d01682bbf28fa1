//! Necessity: for each rule, cases that break that rule alone, with a schedule that exercises
//! it, produce the violation the rule predicts. A rule no such case can make fail would be wrong
//! or redundant.

use faasim_model::rules::{self, RULES};
use faasim_property_tests::necessity::{base, breaking_case};
use faasim_sim::{DEFAULT_LIMIT_NS, simulate};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// Runs 200 breaking cases of `rule` (more with PROPTEST_CASES) and checks each one.
fn necessary(rule: &str) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/necessity.txt",
        ))),
        ..Config::default()
    };
    let predicted = rules::rule(rule).expect("known rule").property;
    let mut runner = TestRunner::new(config);
    let result = runner.run(&base(), |base| {
        let case = breaking_case(rule, &base);
        let broken: Vec<&str> = rules::check(&case.config, &case.events)
            .iter()
            .map(|b| b.rule.id)
            .collect();
        prop_assert_eq!(broken, vec![rule], "the case must break {} alone", rule);
        let run = simulate(
            &case.config,
            &case.events,
            DEFAULT_LIMIT_NS,
            case.seed,
            true,
        );
        let violated: Vec<&str> = run.violations.iter().map(|v| v.property.name()).collect();
        if !violated.contains(&predicted) {
            let timeline: Vec<String> = run
                .result
                .trace
                .iter()
                .map(|l| {
                    format!(
                        "{} {} {}",
                        faasim_model::time::stamp(l.at_ns),
                        l.who,
                        l.what
                    )
                })
                .collect();
            return Err(TestCaseError::fail(format!(
                "{rule} broken, expected {predicted}, got {violated:?}\n{}",
                timeline.join("\n")
            )));
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

macro_rules! necessity_tests {
    ($($name:ident => $rule:literal,)*) => {
        $(
            #[test]
            fn $name() {
                necessary($rule);
            }
        )*

        #[test]
        fn every_rule_has_a_necessity_test() {
            let tested = [$($rule),*];
            for rule in RULES {
                assert!(tested.contains(&rule.id), "no necessity test for {}", rule.id);
            }
        }
    };
}

necessity_tests! {
    handler_within_exec => "handler-within-exec",
    exec_within_write => "exec-within-write",
    handler_within_child_write => "handler-within-child-write",
    exec_within_upstream => "exec-within-upstream",
    exec_within_provider_timeout => "exec-within-provider-timeout",
    exec_within_provider_write => "exec-within-provider-write",
    gateway_write_covers_response => "gateway-write-covers-response",
    client_timeout_covers_response => "client-timeout-covers-response",
    max_inflight_covers_load => "max-inflight-covers-load",
    scale_from_zero_enabled => "scale-from-zero-enabled",
    cold_start_within_gateway_hold => "cold-start-within-gateway-hold",
    no_disruption_during_cold_start => "no-disruption-during-cold-start",
    healthcheck_covers_endpoint_lag => "healthcheck-covers-endpoint-lag",
    healthcheck_interval_positive => "healthcheck-interval-positive",
    grace_covers_drain => "grace-covers-drain",
    fixed_wait_grace => "fixed-wait-grace",
    child_drains_on_sigterm => "child-drains-on-sigterm",
    child_listens_while_routed => "child-listens-while-routed",
    child_ready_before_routing => "child-ready-before-routing",
    spot_notice_covers_drain => "spot-notice-covers-drain",
    provider_idle_below_watchdog_idle => "provider-idle-below-watchdog-idle",
    schedulable_node_remains => "schedulable-node-remains",
}
