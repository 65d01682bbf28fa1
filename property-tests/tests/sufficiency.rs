//! Sufficiency: every generated case that breaks no rule violates no property.

use faasim_model::rules;
use faasim_property_tests::safe_case;
use faasim_sim::{DEFAULT_LIMIT_NS, simulate};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/sufficiency.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_configuration_that_breaks_no_rule_drops_nothing(case in safe_case()) {
        let broken: Vec<&str> = rules::check(&case.config, &case.events).iter().map(|b| b.rule.id).collect();
        prop_assert!(broken.is_empty(), "the safe generator broke {:?}", broken);
        let run = simulate(&case.config, &case.events, DEFAULT_LIMIT_NS, case.seed, true);
        if !run.passed() {
            let violated: Vec<String> = run.violations.iter().map(|v| format!("{} {:?} {:?}", v.property.name(), v.requests, v.pods)).collect();
            let timeline: Vec<String> = run.result.trace.iter().map(|l| format!("{} {} {}", faasim_model::time::stamp(l.at_ns), l.who, l.what)).collect();
            prop_assert!(false, "violated {:?}\n{}", violated, timeline.join("\n"));
        }
    }
}

fn async_config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/sufficiency-async.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(async_config())]

    /// The same through the CE async path: an ack wait above every call's hold, and the safe
    /// configuration's timers, lose nothing and run nothing twice.
    #[test]
    fn an_async_configuration_that_breaks_no_rule_loses_and_duplicates_nothing(
        case in faasim_property_tests::safe_async_case()
    ) {
        let broken: Vec<&str> = rules::check(&case.config, &case.events).iter().map(|b| b.rule.id).collect();
        prop_assert!(broken.is_empty(), "the safe generator broke {:?}", broken);
        let run = simulate(&case.config, &case.events, DEFAULT_LIMIT_NS, case.seed, true);
        if !run.passed() {
            let violated: Vec<String> = run.violations.iter().map(|v| format!("{} {:?} {:?}", v.property.name(), v.requests, v.pods)).collect();
            let timeline: Vec<String> = run.result.trace.iter().take(300).map(|l| format!("{} {} {}", faasim_model::time::stamp(l.at_ns), l.who, l.what)).collect();
            prop_assert!(false, "violated {:?}\n{}", violated, timeline.join("\n"));
        }
    }
}

fn pro_async_config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/sufficiency-pro.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(pro_async_config())]

    /// The same through the Pro async path: the worker's own timeout above every attempt,
    /// several calls in flight per worker, and the safe configuration's timers, lose nothing
    /// and run nothing twice.
    #[test]
    fn a_pro_async_configuration_that_breaks_no_rule_loses_and_duplicates_nothing(
        case in faasim_property_tests::safe_pro_async_case()
    ) {
        let broken: Vec<&str> = rules::check(&case.config, &case.events).iter().map(|b| b.rule.id).collect();
        prop_assert!(broken.is_empty(), "the safe generator broke {:?}", broken);
        let run = simulate(&case.config, &case.events, DEFAULT_LIMIT_NS, case.seed, true);
        if !run.passed() {
            let violated: Vec<String> = run.violations.iter().map(|v| format!("{} {:?} {:?}", v.property.name(), v.requests, v.pods)).collect();
            let timeline: Vec<String> = run.result.trace.iter().take(300).map(|l| format!("{} {} {}", faasim_model::time::stamp(l.at_ns), l.who, l.what)).collect();
            prop_assert!(false, "violated {:?}\n{}", violated, timeline.join("\n"));
        }
    }
}
