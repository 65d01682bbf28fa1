//! The committed regression seeds (`regressions/seeds.txt`) replay bit for bit, every shipped
//! scenario has a row, and a file faasim cannot read fails loudly, naming file and line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faasim_sim::regression::{self, Source};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seeds_file() -> PathBuf {
    repo().join("regressions/seeds.txt")
}

fn faasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .output()
        .expect("faasim runs")
}

/// A regression file written for one test, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "faasim-regressions-{}-{tag}.txt",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("temp file written");
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn every_committed_seed_replays_bit_for_bit() {
    let file = seeds_file();
    let rows = regression::load(&file).unwrap_or_else(|e| panic!("{e}"));
    assert!(rows.len() >= 20, "the file holds {} rows", rows.len());
    let base = regression::base_of(&file);
    let mut mismatches = Vec::new();
    for row in &rows {
        let replayed = regression::replay(row, &base).unwrap_or_else(|e| panic!("{e}"));
        if !replayed.matches() {
            mismatches.push(replayed.line());
        }
    }
    assert!(
        mismatches.is_empty(),
        "rows that no longer replay (after a deliberate change: `faasim replay --bless`, then \
         review the diff):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn the_committed_file_covers_every_shipped_scenario_and_every_class() {
    let rows = regression::load(&seeds_file()).unwrap_or_else(|e| panic!("{e}"));
    let mut missing = Vec::new();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ is there")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "yaml"))
        .collect();
    scenarios.sort();
    for path in scenarios {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let wanted = Source::Scenario(format!("../scenarios/{name}"));
        if !rows.iter().any(|r| r.source == wanted) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "shipped scenarios with no row in regressions/seeds.txt (add `SEED<TAB>scenario:../\
         scenarios/NAME<TAB>pass<TAB>0000000000000000` at the scenario's seed, then `faasim \
         replay --bless`): {missing:?}"
    );
    for class in ["pass", "unexercised", "predicted", "entailed", "excused"] {
        assert!(
            rows.iter()
                .any(|r| r.source == Source::Swarm && r.expected.split(':').next() == Some(class)),
            "no swarm-v1 row of class {class}"
        );
    }
}

#[test]
fn faasim_replay_runs_one_row_and_reports_a_match() {
    let file = seeds_file();
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\tswarm-v1\t"))
        .expect("a swarm row")
        + 1;
    let output = faasim(&[
        "replay",
        file.to_str().unwrap(),
        "--line",
        &line.to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(": match ("), "{stdout}");
    assert!(stdout.contains("1 rows: 1 match, 0 mismatch"), "{stdout}");
}

#[test]
fn a_changed_outcome_is_a_mismatch_with_exit_1() {
    let file = TempFile::new(
        "mismatch",
        &format!(
            "{}\n0\tswarm-v1\tpass\t0123456789abcdef\n",
            regression::HEADER
        ),
    );
    let output = faasim(&["replay", file.path()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("MISMATCH"), "{stdout}");
}

/// Runs `faasim replay` on `text`; expects exit 2 and one stderr line naming the file, the
/// line, and `needle`.
fn assert_loud(tag: &str, text: &str, line: usize, needle: &str) {
    let file = TempFile::new(tag, text);
    let output = faasim(&["replay", file.path()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{tag}: {stderr}");
    assert!(output.stdout.is_empty(), "{tag}: runs nothing");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{tag}: one line: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:{line}:", file.path())),
        "{tag}: names file and line {line}: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{tag}: mentions {needle:?}: {stderr}"
    );
}

#[test]
fn an_unknown_format_version_fails_loudly() {
    assert_loud(
        "version",
        "faasim-regressions 2\n0\tswarm-v1\tpass\t0000000000000000\n",
        1,
        "unknown format version `2`",
    );
    assert_loud(
        "no-header",
        "0\tswarm-v1\tpass\t0000000000000000\n",
        1,
        "not a faasim regression file",
    );
}

#[test]
fn an_unknown_generator_fails_loudly() {
    assert_loud(
        "generator",
        &format!(
            "{}\n# comment\n0\tswarm-v1\tpass\t0000000000000000\n5\tswarm-v2\tpass\t0000000000000000\n",
            regression::HEADER
        ),
        4,
        "unknown generator `swarm-v2`",
    );
}

#[test]
fn a_malformed_row_fails_loudly() {
    let header = regression::HEADER;
    assert_loud(
        "fields",
        &format!("{header}\n0 swarm-v1 pass 0000000000000000\n"),
        2,
        "malformed row",
    );
    assert_loud(
        "seed",
        &format!("{header}\n-1\tswarm-v1\tpass\t0000000000000000\n"),
        2,
        "seed `-1`",
    );
    assert_loud(
        "class",
        &format!("{header}\n1\tswarm-v1\tfine\t0000000000000000\n"),
        2,
        "unknown classification `fine`",
    );
    assert_loud(
        "property",
        &format!("{header}\n1\tswarm-v1\tfail:no-drop\t0000000000000000\n"),
        2,
        "unknown property `no-drop`",
    );
    assert_loud(
        "hash",
        &format!("{header}\n1\tswarm-v1\tpass\txyz\n"),
        2,
        "not 16 hex digits",
    );
}

#[test]
fn a_missing_scenario_is_an_input_error() {
    let file = TempFile::new(
        "missing",
        &format!(
            "{}\n1\tscenario:no-such-file.yaml\tpass\t0000000000000000\n",
            regression::HEADER
        ),
    );
    let output = faasim(&["replay", file.path()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-file.yaml"), "{stderr}");
}
