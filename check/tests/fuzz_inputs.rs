//! Fuzzing `faasim check`'s readers: stack files, Helm values, Kubernetes manifests (through
//! `read_all`, as `faasim check -` reads standard input), faas-cli's envsubst in front of them,
//! `.faasim.yaml` (`parse_config`) and `--endpoint-lag`'s spans (`parse_span`). Inputs are
//! mutated from `fuzz/corpus/{stack,values,manifests,envsubst,config}/` (and the real stacks of
//! `tests/corpus/`) or written from scratch with the keys the corpus uses. Each must be read
//! without a panic, within a time bound, the same way twice, and every error must say where it
//! is: a line and column, or the key. `FAASIM_FUZZ_CASES=N` raises the case count
//! (`docs/fuzzing.md`).

#[path = "../../fuzz/mutate.rs"]
mod mutate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use faasim_check::analyze::{Options, analyze};
use faasim_check::input::{
    InputError, InputRequest, STDIN_NAME, parse_config, parse_span, read_all,
};
use faasim_check::{Location, Origin};
use proptest::prelude::*;

/// The longest one input may take to read (inputs are at most 16 KiB; a loaded 2-core machine
/// and a debug build leave a wide margin).
const BOUND: Duration = Duration::from_secs(5);

/// The longest the analysis of one input's (at most two) functions may take: each is a few
/// simulated runs of its handler.
const ANALYZE_BOUND: Duration = Duration::from_secs(30);

/// A stack file that platform inputs (values, manifests) apply to, in the fuzz directory.
const PLATFORM_STACK: &str = "provider: {name: openfaas}\nfunctions:\n  fn:\n    lang: golang-middleware\n    environment: {write_timeout: 10s, exec_timeout: 10s}\n";

type Corpus = Arc<Vec<Vec<u8>>>;

fn corpus_of(parsers: &[&str], real_stacks: bool) -> Corpus {
    let extra: &[&str] = if real_stacks {
        &["check/tests/corpus"]
    } else {
        &[]
    };
    Arc::new(mutate::corpus(
        env!("CARGO_MANIFEST_DIR"),
        parsers,
        extra,
        &[".yml", ".yaml"],
    ))
}

fn stacks() -> Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| corpus_of(&["stack", "envsubst"], true))
        .clone()
}

fn platform() -> Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| corpus_of(&["values", "manifests"], false))
        .clone()
}

fn configs() -> Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| corpus_of(&["config"], false)).clone()
}

fn spans() -> Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| corpus_of(&["duration"], false)).clone()
}

fn keys(corpus: &Corpus) -> Arc<Vec<String>> {
    Arc::new(mutate::keys_of(corpus))
}

/// A directory holding the platform stack and an `environment_file` the stack corpus names, so
/// that relative paths in an input resolve to something real (or to nothing, an error).
fn cwd() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-inputs");
        std::fs::create_dir_all(dir.join("env")).expect("fuzz directory");
        std::fs::write(dir.join("stack.yml"), PLATFORM_STACK).expect("stack.yml");
        std::fs::write(
            dir.join("env/timeouts.yml"),
            "environment:\n  exec_timeout: 5s\n  read_timeout: 5s\n",
        )
        .expect("environment file");
        dir
    })
    .clone()
}

/// The variables envsubst sees: set, empty, with `${...}` in a value, and non-ASCII.
fn env() -> BTreeMap<String, String> {
    [
        ("X", "1s"),
        ("WT", "${X}"),
        ("SET", "value"),
        ("EMPTY", ""),
        ("UPPER", "abc"),
        ("REGISTRY", "ghcr.io/é"),
        ("WRITE_TIMEOUT", "2m"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Asserts what every input error must carry: a file, a place (line and column, or the key),
/// a line that exists when the file is the input, one line of text, and a rendering.
fn assert_located(error: &InputError, text: &str) {
    assert!(
        !error.file.is_empty(),
        "the error names no file: {error}\ninput: {text:?}"
    );
    assert!(
        error.line.is_some() || error.key.is_some(),
        "the error names no line and no key: {error}\ninput: {text:?}"
    );
    if let Some(line) = error.line {
        assert!(
            error.column.is_some_and(|c| c >= 1),
            "a line without a column: {error}"
        );
        if error.file == STDIN_NAME {
            let lines = mutate::yaml_lines(text);
            assert!(
                (1..=lines).contains(&line),
                "line {line} is not one of the {lines} lines of the input: {error}\ninput: {text:?}"
            );
        }
    }
    let shown = error.to_string();
    assert!(
        !shown.contains('\n'),
        "the error is not one line: {shown:?}"
    );
    let rendered = error.render();
    assert!(rendered.ends_with('\n'), "{rendered:?}");
}

/// Asserts that a location read from the input points at one of its lines.
fn assert_in_input(location: &Location, text: &str) {
    if location.file == STDIN_NAME {
        let lines = mutate::yaml_lines(text);
        assert!(
            (1..=lines).contains(&location.line) && location.column >= 1,
            "{location:?} is not in the {lines} lines of the input: {text:?}"
        );
    }
}

/// `input` as standard input, then `also` (files of the fuzz directory): the text and the
/// request that reads them.
fn stdin_request(input: &[u8], also: &[&str], envsubst: bool) -> (String, InputRequest) {
    let text = String::from_utf8_lossy(input).into_owned();
    let mut paths = vec!["-".to_string()];
    paths.extend(also.iter().map(|p| p.to_string()));
    let request = InputRequest {
        paths,
        stdin: Some(text.clone()),
        cwd: cwd(),
        envsubst,
        env: env(),
        ..InputRequest::default()
    };
    (text, request)
}

/// Reads `text` as standard input (with `also`, files of the fuzz directory, after it) and
/// checks the properties.
fn check_inputs(input: &[u8], also: &[&str], envsubst: bool) {
    let (text, request) = stdin_request(input, also, envsubst);
    let started = Instant::now();
    let first = read_all(&request);
    mutate::assert_bounded(started, BOUND, input);
    match &first {
        Err(error) => assert_located(error, &text),
        Ok(inputs) => {
            for invalid in &inputs.invalid {
                assert_located(&invalid.error, &text);
            }
            for function in &inputs.functions {
                assert_in_input(&function.location, &text);
                for provenance in &function.provenance {
                    if let Origin::File(location) | Origin::Fallback { location, .. } =
                        &provenance.origin
                    {
                        assert_in_input(location, &text);
                    }
                }
            }
        }
    }
    // The same input reads the same way.
    let second = read_all(&request);
    match (&first, &second) {
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(a), Ok(b)) => {
            assert_eq!(a.functions, b.functions);
            assert_eq!(a.invalid.len(), b.invalid.len());
        }
        _ => panic!("read twice, once Ok and once Err: {text:?}"),
    }
}

/// Checks the functions an input resolves to, as `faasim check` does after reading (without
/// the search for the smallest safe value): what the reader resolves, the rules and their
/// witness runs must take without a panic, and the report is the same twice.
fn check_analyze(input: &[u8], also: &[&str]) {
    let (text, request) = stdin_request(input, also, true);
    let Ok(inputs) = read_all(&request) else {
        return;
    };
    // A few functions are enough to reach every rule; a 28-function stack costs seconds.
    let functions: Vec<_> = inputs.functions.into_iter().take(2).collect();
    if functions.is_empty() {
        return;
    }
    let options = Options {
        search: false,
        ..Options::default()
    };
    let started = Instant::now();
    let first = analyze(&functions, &options);
    mutate::assert_bounded(started, ANALYZE_BOUND, input);
    let second = analyze(&functions, &options);
    assert_eq!(
        format!("{first:?}"),
        format!("{second:?}"),
        "input: {text:?}"
    );
}

fn check_config(input: &[u8]) {
    let text = String::from_utf8_lossy(input).into_owned();
    let started = Instant::now();
    let result = parse_config(&text, STDIN_NAME);
    mutate::assert_bounded(started, BOUND, input);
    if let Err(error) = &result {
        assert_located(error, &text);
    }
    assert_eq!(result, parse_config(&text, STDIN_NAME));
}

fn check_span(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    if let Ok(span) = parse_span(&text) {
        assert!(span.lo_ns <= span.hi_ns, "{text:?} gave {span:?}");
    }
}

proptest! {
    #![proptest_config(mutate::config(mutate::DEFAULT_CASES))]

    /// Stack files (and envsubst in front of them), mutated.
    #[test]
    fn mutated_stacks_are_read_or_refused_with_a_place(input in mutate::mutated(stacks())) {
        check_inputs(&input, &[], true);
    }

    /// Mutated stacks that resolve are analysed (the rules and their witness runs).
    #[test]
    fn resolved_mutated_stacks_are_analysed(input in mutate::mutated(stacks())) {
        check_analyze(&input, &[]);
    }

    /// Mutated values and manifests, applied to a stack's function, are analysed.
    #[test]
    fn mutated_platform_files_are_analysed(input in mutate::mutated(platform())) {
        check_analyze(&input, &["stack.yml"]);
    }

    /// The same without envsubst (`--envsubst=false`): `${` reaches the YAML as written.
    #[test]
    fn mutated_stacks_without_envsubst(input in mutate::mutated(stacks())) {
        check_inputs(&input, &[], false);
    }

    /// Stack files from scratch.
    #[test]
    fn generated_stacks_are_read_or_refused_with_a_place(
        input in mutate::generated(keys(&stacks()))
    ) {
        check_inputs(&input, &[], true);
    }

    /// Helm values and manifests, mutated, applied to a stack's function.
    #[test]
    fn mutated_platform_files_are_read_or_refused_with_a_place(
        input in mutate::mutated(platform())
    ) {
        check_inputs(&input, &["stack.yml"], true);
    }

    /// Helm values and manifests from scratch.
    #[test]
    fn generated_platform_files_are_read_or_refused_with_a_place(
        input in mutate::generated(keys(&platform()))
    ) {
        check_inputs(&input, &["stack.yml"], true);
    }

    /// `.faasim.yaml`, mutated and from scratch.
    #[test]
    fn mutated_configs_are_read_or_refused_with_a_place(input in mutate::mutated(configs())) {
        check_config(&input);
    }

    #[test]
    fn generated_configs_are_read_or_refused_with_a_place(
        input in mutate::generated(keys(&configs()))
    ) {
        check_config(&input);
    }

    /// `--endpoint-lag` and `endpointLag`: a duration or `A..B`.
    #[test]
    fn mutated_spans_are_read_or_refused(input in mutate::mutated(spans())) {
        check_span(&input);
    }
}

/// Every corpus entry as committed is read or refused with a place, and most of the stacks
/// (copies of the test fixtures) read: a mutation starts from input that reaches the resolver.
#[test]
fn every_corpus_entry_is_read_or_refused_with_a_place() {
    let stacks = stacks();
    for entry in stacks.iter() {
        check_inputs(entry, &[], true);
    }
    for entry in platform().iter() {
        check_inputs(entry, &["stack.yml"], true);
    }
    for entry in configs().iter() {
        check_config(entry);
    }
    let read = stacks
        .iter()
        .filter(|entry| {
            let request = InputRequest {
                paths: vec!["-".into()],
                stdin: Some(String::from_utf8_lossy(entry).into_owned()),
                cwd: cwd(),
                env: env(),
                ..InputRequest::default()
            };
            read_all(&request).is_ok_and(|inputs| !inputs.functions.is_empty())
        })
        .count();
    assert!(
        read * 2 >= stacks.len(),
        "only {read} of {} stacks read",
        stacks.len()
    );
}
