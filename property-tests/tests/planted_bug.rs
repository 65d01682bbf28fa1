//! The suite catches a planted bug: with the watchdog closing its listener at SIGTERM instead of
//! after healthcheck_interval (the behaviour before of-watchdog 3a2e7bf), the sufficiency
//! property fails, and the shrunk counterexample's timeline shows the early close and the
//! refused request.

use faasim_model::ledger::Outcome;
use faasim_model::rules;
use faasim_property_tests::safe_case;
use faasim_sim::world::Mutation;
use faasim_sim::{DEFAULT_LIMIT_NS, simulate_mutated};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

#[test]
fn closing_the_listener_at_sigterm_is_caught_and_shrunk() {
    let config = Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let mutation = Mutation::WatchdogClosesListenerAtSigterm;
    let result = runner.run(&safe_case(), |case| {
        assert!(rules::check(&case.config, &case.events).is_empty());
        let run = simulate_mutated(
            &case.config,
            &case.events,
            DEFAULT_LIMIT_NS,
            case.seed,
            false,
            mutation,
        );
        if run.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail("a property is violated"))
        }
    });
    let case = match result {
        Err(TestError::Fail(_, case)) => case,
        other => panic!("the planted bug went unnoticed: {other:?}"),
    };
    let run = simulate_mutated(
        &case.config,
        &case.events,
        DEFAULT_LIMIT_NS,
        case.seed,
        true,
        mutation,
    );
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
    let timeline = timeline.join("\n");
    println!("shrunk counterexample: {case:#?}\n{timeline}");
    assert!(timeline.contains("listener open for 0.000s"), "{timeline}");
    assert!(
        run.result
            .ledger
            .iter()
            .any(|r| r.outcome == Outcome::Refused),
        "{timeline}"
    );
    // Shrunk: one schedule event, and few requests.
    assert!(case.events.len() <= 2, "{:?}", case.events);
}
