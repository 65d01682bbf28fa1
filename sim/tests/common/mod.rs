//! Helpers the scenario test binaries share: load a shipped scenario and run it as `faasim run`
//! would (its own seed and limit, no timeline).

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use faasim_model::time::{NS_PER_S, Nanos};
use faasim_sim::scenario::{self, Scenario};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate};

/// The shipped scenarios' folder.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// The shipped scenarios' file names, sorted.
pub fn shipped() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

/// A shipped scenario, loaded; a load error fails the test with its message.
pub fn load(file: &str) -> Scenario {
    scenario::load(&scenarios_dir().join(file)).unwrap_or_else(|error| panic!("{error}"))
}

/// A shipped scenario's run with its own seed and limit (the CLI's defaults otherwise).
pub fn run(file: &str) -> Run {
    let s = load(file);
    simulate(
        &s.config,
        &s.events,
        s.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        s.seed.unwrap_or(DEFAULT_SEED),
        false,
    )
}

/// Whole seconds in nanoseconds.
pub fn s(seconds: u64) -> Nanos {
    seconds * NS_PER_S
}

/// The names of the properties a run violated, in report order.
pub fn violated(run: &Run) -> Vec<&'static str> {
    run.violations.iter().map(|v| v.property.name()).collect()
}
