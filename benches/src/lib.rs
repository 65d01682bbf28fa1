//! Bench helpers: finding and loading the workspace's scenario files.

use std::path::PathBuf;

use faasim_sim::scenario::{self, Scenario};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate};

/// The workspace's `scenarios/` directory (next to this crate's directory).
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scenarios")
}

/// The path of `scenarios/<file>`.
pub fn scenario_path(file: &str) -> PathBuf {
    scenarios_dir().join(file)
}

/// A scenario ready to simulate: its configuration, events, limit and seed, as `faasim run`
/// would use them.
pub struct Prepared {
    /// The loaded file.
    pub scenario: Scenario,
    /// `limit`, or [`DEFAULT_LIMIT_NS`].
    pub limit_ns: u64,
    /// `seed`, or [`DEFAULT_SEED`].
    pub seed: u64,
}

impl Prepared {
    /// Loads `scenarios/<file>`, panicking with the scenario error if it does not load.
    pub fn load(file: &str) -> Prepared {
        Prepared::load_path(&scenario_path(file))
    }

    /// Loads `benches/scenarios/<file>`: the runs too long for the test suite.
    pub fn load_bench(file: &str) -> Prepared {
        Prepared::load_path(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(file),
        )
    }

    fn load_path(path: &std::path::Path) -> Prepared {
        let file = path.display();
        let scenario =
            scenario::load(path).unwrap_or_else(|error| panic!("cannot load {file}: {error}"));
        Prepared {
            limit_ns: scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
            seed: scenario.seed.unwrap_or(DEFAULT_SEED),
            scenario,
        }
    }

    /// One simulation, as `faasim run` does it.
    pub fn run(&self, tracing: bool) -> Run {
        simulate(
            &self.scenario.config,
            &self.scenario.events,
            self.limit_ns,
            self.seed,
            tracing,
        )
    }
}

/// A stack file of `count` golang-middleware functions whose timeouts vary (some safe, many
/// not), as a realistic input for `faasim check`.
pub fn stack_file(count: usize) -> String {
    let mut text = String::from(
        "version: 1.0\nprovider:\n  name: openfaas\n  gateway: http://127.0.0.1:8080\nfunctions:\n",
    );
    for i in 0..count {
        let exec_s = [30, 60, 120, 300, 900][i % 5];
        let write_s = exec_s + [0, 5, 0, 30][i % 4] - [0, 0, 10, 0][i % 4];
        let hc = ["5s", "10s", "0", "30s"][i % 4];
        text.push_str(&format!(
            "  fn-{i:02}:\n    lang: golang-middleware\n    handler: ./fn-{i:02}\n    image: example/fn-{i:02}:latest\n    environment:\n      exec_timeout: {exec_s}s\n      write_timeout: {write_s}s\n      read_timeout: {write_s}s\n      healthcheck_interval: {hc}\n    labels:\n      com.openfaas.scale.min: {}\n",
            1 + i % 3
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_scenarios_load_and_pass() {
        for file in ["go-long.yaml", "rolling-update-200rps.yaml"] {
            let run = Prepared::load(file).run(false);
            assert!(run.passed(), "{file}: {:?}", run.violations);
            assert!(run.result.events > 0);
        }
    }
}
