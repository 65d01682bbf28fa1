//! A run watched by a progress observer is the run unwatched, byte for byte, and the observer
//! hears of it as it goes: requests sent only grow, never past the load's total.

use std::path::Path;

use faasim_sim::progress::Progress;
use faasim_sim::{report, scenario, simulate_scenario, simulate_scenario_observed};

#[test]
fn an_observed_run_is_the_same_run_and_hears_its_progress() {
    let source = "scenarios/rolling-update-200rps.yaml";
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(source),
    )
    .expect("scenario reads");
    let loaded = scenario::parse(&text, source).expect("scenario parses");
    let seed = loaded.seed.unwrap_or(faasim_sim::DEFAULT_SEED);
    let mut heard: Vec<Progress> = Vec::new();
    let mut observe = |at: Progress| heard.push(at);
    let watched = simulate_scenario_observed(&loaded, seed, true, &mut observe);
    let plain = simulate_scenario(&loaded, seed, true);
    let header = report::Header::of_run(&loaded, &plain);
    assert!(
        report::json(&watched, &header) == report::json(&plain, &header),
        "the same report"
    );
    assert!(heard.len() >= 10, "heard {} times", heard.len());
    let total = loaded.config.load.requests;
    assert!(heard.iter().all(|p| p.total == total && p.sent <= total));
    assert!(
        heard
            .windows(2)
            .all(|w| w[0].sent <= w[1].sent && w[0].now_ns <= w[1].now_ns)
    );
    assert!(
        heard.last().is_some_and(|p| p.sent > total / 2),
        "{:?}",
        heard.last()
    );
}
