//! Necessity: for each rule, cases that break that rule alone, with a schedule that exercises
//! it, produce the violation the rule predicts. A rule no such case can make fail would be wrong
//! or redundant.

use faasim_model::rules::{self, RULES, Rule};
use faasim_property_tests::necessity::{base, breaking_case};
use faasim_sim::{DEFAULT_LIMIT_NS, simulate};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// Runs 200 breaking cases of `rule` (more with PROPTEST_CASES) and checks each one.
fn necessary(rule: &'static Rule) {
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
    let predicted = rule.property.name();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&base(), |base| {
        let case = breaking_case(rule, &base);
        let broken: Vec<&Rule> = rules::check(&case.config, &case.events)
            .iter()
            .map(|b| b.rule)
            .collect();
        prop_assert_eq!(broken, vec![rule], "the case must break {} alone", rule.id);
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
                "{} broken, expected {predicted}, got {violated:?}\n{}",
                rule.id,
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
    ($($name:ident => $rule:ident,)*) => {
        $(
            #[test]
            fn $name() {
                necessary(&rules::$rule);
            }
        )*

        #[test]
        fn every_rule_has_a_necessity_test() {
            let tested: &[&Rule] = &[$(&rules::$rule),*];
            for rule in RULES {
                assert!(tested.contains(rule), "no necessity test for {}", rule.id);
            }
        }
    };
}

necessity_tests! {
    handler_within_exec => HANDLER_WITHIN_EXEC,
    exec_within_write => EXEC_WITHIN_WRITE,
    handler_within_child_write => HANDLER_WITHIN_CHILD_WRITE,
    exec_within_upstream => EXEC_WITHIN_UPSTREAM,
    exec_within_provider_timeout => EXEC_WITHIN_PROVIDER_TIMEOUT,
    exec_within_provider_write => EXEC_WITHIN_PROVIDER_WRITE,
    gateway_write_covers_response => GATEWAY_WRITE_COVERS_RESPONSE,
    ingress_read_covers_response => INGRESS_READ_COVERS_RESPONSE,
    client_timeout_covers_response => CLIENT_TIMEOUT_COVERS_RESPONSE,
    max_inflight_covers_load => MAX_INFLIGHT_COVERS_LOAD,
    scale_from_zero_enabled => SCALE_FROM_ZERO_ENABLED,
    cold_start_within_gateway_hold => COLD_START_WITHIN_GATEWAY_HOLD,
    no_disruption_during_cold_start => NO_DISRUPTION_DURING_COLD_START,
    healthcheck_covers_endpoint_lag => HEALTHCHECK_COVERS_ENDPOINT_LAG,
    healthcheck_interval_positive => HEALTHCHECK_INTERVAL_POSITIVE,
    grace_covers_drain => GRACE_COVERS_DRAIN,
    fixed_wait_grace => FIXED_WAIT_GRACE,
    child_drains_on_sigterm => CHILD_DRAINS_ON_SIGTERM,
    child_listens_while_routed => CHILD_LISTENS_WHILE_ROUTED,
    child_ready_before_routing => CHILD_READY_BEFORE_ROUTING,
    spot_notice_covers_drain => SPOT_NOTICE_COVERS_DRAIN,
    provider_idle_below_watchdog_idle => PROVIDER_IDLE_BELOW_WATCHDOG_IDLE,
    schedulable_node_remains => SCHEDULABLE_NODE_REMAINS,
    ce_ack_wait_covers_call => CE_ACK_WAIT_COVERS_CALL,
    ce_queue_worker_not_restarted => CE_QUEUE_WORKER_NOT_RESTARTED,
    pro_upstream_covers_call => PRO_UPSTREAM_COVERS_CALL,
    pro_queue_worker_grace_covers_call => PRO_QUEUE_WORKER_GRACE_COVERS_CALL,
    gateway_drains_on_rollout => GATEWAY_DRAINS_ON_ROLLOUT,
}
