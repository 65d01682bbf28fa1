//! Simulated seconds per wall second of the model and of the turmoil engine on one scenario,
//! measured in one process: `cargo run --release -p faasim-turmoil --example speed [FILE]`
//! (default `scenarios/go-long.yaml`).

use std::path::PathBuf;
use std::time::Instant;

use faasim_sim::{DEFAULT_LIMIT_NS, scenario, simulate};
use faasim_turmoil::run_turmoil;

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/go-long.yaml")
        });
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let seed = scenario.seed.unwrap_or(1);
    let limit = scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS);

    // The model runs in microseconds: repeat it for a stable figure.
    let runs = 10_000u32;
    let wall = Instant::now();
    let mut sim_ns = 0u128;
    for _ in 0..runs {
        let run = simulate(&scenario.config, &scenario.events, limit, seed, false);
        sim_ns += u128::from(run.result.end_ns);
    }
    let model_wall = wall.elapsed().as_secs_f64();
    let model_sim = sim_ns as f64 / 1e9;

    let wall = Instant::now();
    let run = run_turmoil(&scenario, seed).unwrap_or_else(|e| panic!("{e}"));
    let turmoil_wall = wall.elapsed().as_secs_f64();
    let turmoil_sim = run.result.end_ns as f64 / 1e9;

    println!("scenario: {}", path.display());
    println!(
        "model:   {runs} runs, {model_sim:.0} simulated s in {model_wall:.3} wall s = {:.0} sim-s/wall-s ({:.1} us per run)",
        model_sim / model_wall,
        model_wall * 1e6 / f64::from(runs)
    );
    println!(
        "turmoil: 1 run, {turmoil_sim:.1} simulated s in {turmoil_wall:.3} wall s = {:.1} sim-s/wall-s ({} steps of 1 ms)",
        turmoil_sim / turmoil_wall,
        run.result.events
    );
    let violated: Vec<&str> = run.violations.iter().map(|v| v.property.name()).collect();
    println!("turmoil violations: {violated:?}");
}
