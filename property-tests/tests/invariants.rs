//! Invariants every run keeps, whatever the configuration and schedule: determinism, a
//! consistent ledger, and liveness (every request is answered, every deleted pod ends).

use faasim_model::ledger::{Cause, Outcome, Status};
use faasim_property_tests::case;
use faasim_sim::simulate;
use faasim_sim::world::PodEnd;

/// Long enough for every timer the generator writes (hours) to run out.
const LIMIT_NS: u64 = 24 * 3600 * 1_000_000_000;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/invariants.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn same_seed_same_run(case in case()) {
        let first = simulate(&case.config, &case.events, LIMIT_NS, case.seed, true);
        let second = simulate(&case.config, &case.events, LIMIT_NS, case.seed, true);
        prop_assert_eq!(&first.result.ledger, &second.result.ledger);
        prop_assert_eq!(&first.result.trace, &second.result.trace);
        prop_assert_eq!(first.result.events, second.result.events);
    }

    #[test]
    fn ledger_is_consistent_and_everything_ends(case in case()) {
        let run = simulate(&case.config, &case.events, LIMIT_NS, case.seed, false);
        for record in &run.result.ledger {
            prop_assert!(record.outcome != Outcome::Unfinished, "request {} never answered", record.id);
            let end = record.end_ns.unwrap_or(0);
            prop_assert!(end >= record.start_ns);
            if record.outcome == Outcome::Ok {
                prop_assert_eq!(record.status, Some(Status::Code(200)));
                prop_assert_eq!(record.cause, Some(Cause::Handler));
            }
            if record.outcome == Outcome::Dropped {
                prop_assert!(record.pod.is_some(), "a dropped request was accepted by a pod");
            }
        }
        for pod in &run.result.pods {
            if pod.terminating {
                prop_assert!(pod.end != PodEnd::Running, "{} deleted but never ended", pod.name);
            }
        }
        let graceful = run.violations.iter().find(|v| v.property.name() == "graceful-exit");
        if let Some(violation) = graceful {
            for name in &violation.pods {
                let pod = run.result.pods.iter().find(|p| &p.name == name).unwrap();
                prop_assert!(pod.terminating && pod.end == PodEnd::Killed);
            }
        }
    }
}
