#![allow(dead_code)] // Each including test file uses the part it needs.
//! `faasim check` on the fixtures of check/tests/fixtures/check/, as a test of any crate that
//! includes this file runs it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use faasim_check::command::{CheckArgs, Outcome, check};
use faasim_check::output::Format;

/// The fixtures' folder, from the including crate's own directory (`check/` or `cli/`).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../check/tests/fixtures/check")
}

/// `faasim check --edition EDITION -o FORMAT PATHS...` in the fixtures' folder.
pub fn run(paths: &[&str], edition: &str, format: Format) -> Outcome {
    let args = CheckArgs {
        paths: paths.iter().map(|p| p.to_string()).collect(),
        edition: Some(edition.to_string()),
        format,
        ..CheckArgs::default()
    };
    check(&args, fixtures(), BTreeMap::new(), None)
}
