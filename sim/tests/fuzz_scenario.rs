//! Fuzzing the scenario reader (`faasim_sim::scenario::parse`, behind `faasim run`) and the
//! bounded reader in front of it (`input_file::read_bounded`): inputs mutated from
//! `fuzz/corpus/scenario/` and YAML written from scratch with the keys the corpus uses. Each
//! input must be read without a panic, within a time bound, the same way twice, and every error
//! must say where it is (a line in the file, or the key). `FAASIM_FUZZ_CASES=N` raises the case
//! count for a long run (`docs/fuzzing.md`).

#[path = "../../fuzz/mutate.rs"]
mod mutate;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use faasim_sim::input_file::{InputFileError, read_bounded};
use faasim_sim::scenario::{self, Scenario, ScenarioError};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, simulate};
use proptest::prelude::*;

/// The longest one input may take to read: inputs are at most 16 KiB, which the reader
/// handles in milliseconds; this leaves room for a loaded 2-core machine and a debug build.
const BOUND: Duration = Duration::from_secs(5);

/// The name errors must carry.
const SOURCE: &str = "fuzz.yaml";

fn corpus() -> Arc<Vec<Vec<u8>>> {
    static CORPUS: OnceLock<Arc<Vec<Vec<u8>>>> = OnceLock::new();
    mutate::corpus_once(&CORPUS, env!("CARGO_MANIFEST_DIR"), "scenario")
}

/// Asserts what every scenario error must carry: the file, a place (a line and column in the
/// text, or the dotted key), and one line of text.
fn assert_located(error: &ScenarioError, text: &str) {
    assert_eq!(error.file, SOURCE, "the error names another file: {error}");
    assert!(
        error.line.is_some() || error.key.is_some(),
        "the error names no line and no key: {error}\ninput: {text:?}"
    );
    if let Some(line) = error.line {
        let lines = mutate::yaml_lines(text);
        assert!(
            (1..=lines).contains(&line),
            "line {line} is not one of the {lines} lines of the input: {error}\ninput: {text:?}"
        );
        assert!(
            error.column.is_some_and(|c| c >= 1),
            "a line without a column: {error}\ninput: {text:?}"
        );
    }
    let shown = error.to_string();
    assert!(
        !shown.contains('\n'),
        "the error is not one line: {shown:?}"
    );
    assert!(
        shown.starts_with(SOURCE),
        "the error does not start with the file: {shown}"
    );
}

/// Reads `input` as `faasim run` does (bounded, UTF-8) and parses it.
fn check(input: &[u8]) {
    let started = Instant::now();
    match read_bounded(input) {
        Ok(text) => {
            let first = scenario::parse(&text, SOURCE);
            mutate::assert_bounded(started, BOUND, input);
            if let Err(error) = &first {
                assert_located(error, &text);
            }
            // The same text reads the same way: no state survives a parse.
            assert_eq!(first, scenario::parse(&text, SOURCE), "input: {text:?}");
        }
        Err(InputFileError::NotText { line, column }) => {
            let valid = std::str::from_utf8(input).map_err(|e| e.valid_up_to());
            let valid_up_to = valid.expect_err("read_bounded refused valid UTF-8");
            let prefix = std::str::from_utf8(&input[..valid_up_to]).expect("valid prefix");
            assert_eq!(
                line,
                prefix.split('\n').count(),
                "line of the first bad byte"
            );
            let last = prefix.rsplit('\n').next().unwrap_or_default();
            assert_eq!(
                column,
                last.chars().count() + 1,
                "column of the first bad byte"
            );
        }
        Err(other) => panic!("a 16 KiB slice refused with {other}"),
    }
}

/// The most simulated time a fuzzed scenario runs for: enough for every timer of the corpus
/// (minutes) to fire, little enough to keep a case short.
const RUN_LIMIT_NS: u64 = 600 * 1_000_000_000;

/// Whether an accepted scenario is small enough to run in a fuzz case (the limits of
/// `docs/scenario-format.md` allow runs of minutes; the simulator's speed is measured
/// elsewhere).
fn small(scenario: &Scenario) -> bool {
    let config = &scenario.config;
    config.load.requests <= 400
        && config.load.concurrency <= 64
        && config.function.scale_min <= 8
        && config.gateway.replicas <= 4
}

/// Runs an accepted scenario, as `faasim run` would after reading it (within
/// [`RUN_LIMIT_NS`]): what the reader accepts, the simulator must take without a panic, and
/// the same seed gives the same run.
fn check_run(input: &[u8]) {
    let Ok(text) = read_bounded(input) else {
        return;
    };
    let Ok(scenario) = scenario::parse(&text, SOURCE) else {
        return;
    };
    if !small(&scenario) {
        return;
    }
    let limit_ns = scenario
        .limit_ns
        .unwrap_or(DEFAULT_LIMIT_NS)
        .min(RUN_LIMIT_NS);
    let seed = scenario.seed.unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let first = simulate(&scenario.config, &scenario.events, limit_ns, seed, false);
    mutate::assert_bounded(started, BOUND, input);
    let second = simulate(&scenario.config, &scenario.events, limit_ns, seed, false);
    assert_eq!(
        format!("{:?}", first.result.ledger),
        format!("{:?}", second.result.ledger),
        "the same seed gave two runs: {text:?}"
    );
}

proptest! {
    #![proptest_config(mutate::config(mutate::DEFAULT_CASES))]

    /// Corpus entries mutated: truncated, spliced, bytes flipped or inserted, YAML tokens,
    /// lines of other entries, deep nesting and repetition.
    #[test]
    fn mutated_scenarios_are_read_or_refused_with_a_place(input in mutate::mutated(corpus())) {
        check(&input);
    }

    /// Mutated scenarios the reader accepts run without a panic (fewer cases: a run costs more
    /// than a parse).
    #[test]
    fn accepted_mutated_scenarios_run(input in mutate::mutated(corpus())) {
        check_run(&input);
    }

    /// The key path at any place of any text (`yaml::key_path_at`, which names the key of
    /// every YAML error, on text that may be malformed), within the time bound.
    #[test]
    fn key_paths_are_found_anywhere(
        input in mutate::mutated(corpus()),
        line in 0usize..300,
        column in 0usize..120,
        prefer_key in any::<bool>(),
    ) {
        let text = String::from_utf8_lossy(&input);
        let started = Instant::now();
        let path = faasim_sim::yaml::key_path_at(&text, line, column, prefer_key);
        mutate::assert_bounded(started, BOUND, &input);
        if let Some(segments) = path {
            let _ = faasim_sim::yaml::format_path(&segments);
        }
    }

    /// YAML from scratch, with the keys the scenarios use at random depths.
    #[test]
    fn generated_scenarios_are_read_or_refused_with_a_place(
        input in mutate::generated(Arc::new(mutate::keys_of(&corpus())))
    ) {
        check(&input);
    }
}

/// Every corpus entry as committed: the shipped scenarios among them load, and the hand-written
/// edge cases are read or refused with a place.
#[test]
fn every_corpus_entry_is_read_or_refused_with_a_place() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 20,
        "the scenario corpus shrank to {}",
        corpus.len()
    );
    let mut loaded = 0;
    for entry in corpus.iter() {
        check(entry);
        let text = String::from_utf8_lossy(entry);
        loaded += usize::from(scenario::parse(&text, SOURCE).is_ok());
    }
    // The copies of scenarios/*.yaml load: a mutation of a valid entry reaches the checks
    // behind the YAML, not only the YAML parser.
    assert!(
        loaded * 2 >= corpus.len(),
        "only {loaded} corpus entries load"
    );
}
