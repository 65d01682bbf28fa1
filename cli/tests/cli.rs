//! The `faasim` command end to end: exit codes, one-line input errors, and determinism of the
//! JSON report and timeline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .output()
        .expect("faasim runs")
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
        .display()
        .to_string()
}

/// A scenario file written for one test, removed when dropped.
struct TempScenario(PathBuf);

impl TempScenario {
    fn new(tag: &str, text: &str) -> TempScenario {
        let path =
            std::env::temp_dir().join(format!("faasim-cli-{}-{tag}.yaml", std::process::id()));
        std::fs::write(&path, text).expect("temp file written");
        TempScenario(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the file, expects exit 2 and a single stderr line naming the file and `needles`.
fn assert_input_error(file: &str, needles: &[&str]) {
    let output = faasim(&["run", file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout for an input error"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(file), "names the file: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "mentions {needle:?}: {stderr}");
    }
}

#[test]
fn go_long_passes_with_exit_code_zero() {
    let output = faasim(&["run", &scenario("go-long.yaml")]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("[200]\t10 responses"), "{stdout}");
    assert!(stdout.contains("Verdict: pass"));
}

#[test]
fn a_violated_property_exits_with_one() {
    let text = std::fs::read_to_string(scenario("go-long.yaml")).expect("go-long readable");
    let ce = TempScenario::new("ce", &text.replace("edition: pro", "edition: ce"));
    let output = faasim(&["run", ce.path(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["status"]["500"], 5);
    assert_eq!(report["status"]["200"], 5);
    let properties: Vec<&str> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["property"].as_str().unwrap())
        .collect();
    assert!(
        properties.contains(&"no-dropped-in-flight"),
        "{properties:?}"
    );
}

#[test]
fn same_seed_gives_byte_identical_json_and_timeline() {
    let first = faasim(&[
        "run",
        &scenario("go-long.yaml"),
        "--format",
        "json",
        "--seed",
        "42",
    ]);
    let second = faasim(&[
        "run",
        &scenario("go-long.yaml"),
        "--format",
        "json",
        "--seed",
        "42",
    ]);
    assert_eq!(first.stdout, second.stdout);
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json report");
    assert!(
        !report["timeline"].as_array().unwrap().is_empty(),
        "the timeline is part of the bytes compared"
    );
    let text_first = faasim(&["run", &scenario("go-long.yaml"), "--seed", "42"]);
    let text_second = faasim(&["run", &scenario("go-long.yaml"), "--seed", "42"]);
    assert_eq!(text_first.stdout, text_second.stdout);
}

#[test]
fn different_seeds_differ_where_ranges_are_random() {
    // go-long draws start-up times and endpoint lag from ranges.
    let a = faasim(&[
        "run",
        &scenario("go-long.yaml"),
        "--format",
        "json",
        "--seed",
        "1",
    ]);
    let b = faasim(&[
        "run",
        &scenario("go-long.yaml"),
        "--format",
        "json",
        "--seed",
        "2",
    ]);
    let a: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_ne!(a["timeline"], b["timeline"]);
    // The verdict does not depend on the draw.
    assert_eq!(a["verdict"], b["verdict"]);
}

#[test]
fn json_report_has_the_contract_fields() {
    let output = faasim(&["run", &scenario("go-long.yaml"), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "seed",
        "verdict",
        "status",
        "outcomes",
        "violations",
        "requests",
        "pods",
        "events",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    let request = &report["requests"][0];
    for key in ["id", "status", "outcome", "start_s", "end_s"] {
        assert!(request.get(key).is_some(), "request missing {key}");
    }
    let pod = &report["pods"][0];
    for key in ["name", "end", "end_s"] {
        assert!(pod.get(key).is_some(), "pod missing {key}");
    }
    assert_eq!(report["seed"], 7, "the scenario's own seed is used");
}

#[test]
fn malformed_yaml_is_a_one_line_error() {
    let file = TempScenario::new("malformed", "function:\n  name: [go-long\nload: {}\n");
    assert_input_error(file.path(), &[":"]);
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let file = TempScenario::new("unknown", "name: x\nload:\n  concurency: 5\n");
    assert_input_error(file.path(), &["concurency", ":3"]);
}

#[test]
fn write_timeout_zero_is_refused_like_the_watchdog_does() {
    let file = TempScenario::new(
        "write0",
        "function:\n  environment:\n    write_timeout: 0\n",
    );
    assert_input_error(file.path(), &["write_timeout", ":3"]);
}

#[test]
fn negative_concurrency_is_named_with_its_line() {
    let file = TempScenario::new(
        "negative",
        "name: x\nload:\n  concurrency: -1\n  requests: 4\n",
    );
    assert_input_error(file.path(), &["load.concurrency", ":3"]);
}

#[test]
fn missing_file_is_an_input_error() {
    let missing = std::env::temp_dir().join("faasim-cli-does-not-exist.yaml");
    assert_input_error(missing.to_str().unwrap(), &["cannot read"]);
}

#[test]
fn usage_errors_exit_with_two() {
    let output = faasim(&["run"]);
    assert_eq!(output.status.code(), Some(2));
    let output = faasim(&["run", &scenario("go-long.yaml"), "--format", "xml"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_picture_formats_print_a_picture_and_keep_the_exit_code() {
    let ce = scenario("go-long-ce.yaml");
    let svg = faasim(&["run", &ce, "--format", "svg"]);
    assert_eq!(
        svg.status.code(),
        Some(1),
        "a violated property still exits 1"
    );
    let text = String::from_utf8(svg.stdout).expect("UTF-8");
    assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(text.matches("class=\"req dropped\"").count(), 5);
    // The turmoil engine's run draws the same story: five cut, five answered after the cold
    // start.
    let turmoil = faasim(&["run", &ce, "--engine", "turmoil", "--format", "svg"]);
    assert_eq!(turmoil.status.code(), Some(1));
    let turmoil = String::from_utf8(turmoil.stdout).expect("UTF-8");
    assert!(turmoil.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(turmoil.matches("class=\"req dropped\"").count(), 5);
    assert_eq!(turmoil.matches("class=\"req ok\"").count(), 5);
    let html = faasim(&["run", &ce, "--format", "html"]);
    let text = String::from_utf8(html.stdout).expect("UTF-8");
    assert!(text.starts_with("<!DOCTYPE html>") && text.contains("<svg "));
    let perfetto = faasim(&["run", &ce, "--format", "perfetto"]);
    let value: serde_json::Value =
        serde_json::from_slice(&perfetto.stdout).expect("Trace Event Format JSON");
    assert!(
        value["traceEvents"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let help = faasim(&["run", "--help"]);
    let help = String::from_utf8(help.stdout).expect("UTF-8");
    for format in ["svg", "html", "perfetto"] {
        assert!(help.contains(format), "run --help names {format}: {help}");
    }
}

#[test]
fn go_long_and_streaming_run_on_the_turmoil_engine() {
    let output = faasim(&[
        "run",
        &scenario("go-long.yaml"),
        "--engine",
        "turmoil",
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    assert_eq!(report["status"]["200"], 10);
    // The default 500 µs round trip is not a whole number of turmoil's 1 ms hops: said.
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap_or("")
            .contains("500µs runs as 2ms on turmoil")),
        "{warnings:?}"
    );
    // Streaming mode runs on the real watchdog too: the process killed at exec_timeout gives
    // 200 with an empty body, which the report calls timed-out, and the verdict is a failure.
    let streaming = faasim(&[
        "run",
        &scenario("mechanism-05-exec-timeout-streaming.yaml"),
        "--engine",
        "turmoil",
        "--format",
        "json",
    ]);
    assert_eq!(streaming.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&streaming.stdout).expect("json report");
    assert_eq!(report["status"]["200"], 4);
    assert_eq!(report["outcomes"]["timed-out"], 4);
    // A round trip of whole even milliseconds runs as it is.
    let exact = faasim(&[
        "run",
        &scenario("rule-provider-idle-below-watchdog-idle.yaml"),
        "--engine",
        "turmoil",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&exact.stdout).expect("json report");
    assert_eq!(report["warnings"].as_array().map(Vec::len), Some(0));
}

/// Devices, FIFOs and directories are refused before they are read (no memory filled, no
/// wait for a writer), by `run` and by `check`, with exit 2 and the path.
#[cfg(unix)]
#[test]
fn inputs_that_are_not_regular_files_are_refused() {
    for device in ["/dev/zero", "/dev/urandom"] {
        if !Path::new(device).exists() {
            continue;
        }
        for command in ["run", "check"] {
            let out = faasim(&[command, device]);
            assert_eq!(out.status.code(), Some(2), "{command} {device}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(device) && stderr.contains("is a device, not a regular file"),
                "{command} {device}: {stderr}"
            );
        }
    }
    let fifo = std::env::temp_dir().join(format!("faasim-cli-{}-fifo", std::process::id()));
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = faasim(&["run", fifo.to_str().expect("utf-8")]);
        let _ = std::fs::remove_file(&fifo);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("is a FIFO (named pipe)"));
    }
}

// ------------------------------------------------------------------------ hardening (issue 14)

/// A value over a limit is an input error on one line naming the file, line, key and limit.
#[test]
fn a_value_over_a_limit_names_the_key_and_the_limit() {
    let file = TempScenario::new("limit", "load:\n  requests: 1000000000\n");
    assert_input_error(file.path(), &[":2:", "load.requests", "40000000", "Limits"]);
    let file = TempScenario::new(
        "workers",
        "load:\n  concurrency: 1000000\n  requests: 1000000\n",
    );
    assert_input_error(file.path(), &["load."]);
    let file = TempScenario::new(
        "replicas",
        "function:\n  labels:\n    com.openfaas.scale.min: 100000\n    com.openfaas.scale.max: 100000\n",
    );
    assert_input_error(file.path(), &[":3:", "com.openfaas.scale.min", "1000"]);
}

/// A file that is not UTF-8 is refused at its line and column, not at a byte offset.
#[test]
fn text_that_is_not_utf8_is_located_by_line_and_column() {
    let path = std::env::temp_dir().join(format!("faasim-cli-{}-bytes.yaml", std::process::id()));
    std::fs::write(&path, b"name: x\nload: {requests: 1\xff}\n").expect("written");
    let file = path.display().to_string();
    assert_input_error(&file, &[":2:19:", "not UTF-8"]);
    let output = faasim(&["run", &file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("index"), "no byte offset: {stderr}");
    let _ = std::fs::remove_file(&path);
}

/// A run its limit cuts with requests in flight is `unfinished`, exit 1, not a pass.
#[test]
fn a_run_cut_by_its_limit_exits_with_one() {
    let file = TempScenario::new(
        "cut",
        "limit: 1s\nfunction:\n  handler: {duration: 5s}\nload: {concurrency: 2, requests: 2}\n",
    );
    let output = faasim(&["run", file.path()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Verdict: unfinished (2 requests"),
        "{stdout}"
    );
}

/// The turmoil engine refuses what it cannot run with an error naming the file, not a panic.
#[test]
fn turmoil_refuses_past_its_limits_before_starting() {
    let file = TempScenario::new("turmoil", "load: {concurrency: 4100, requests: 4100}\n");
    let output = faasim(&["run", file.path(), "--engine", "turmoil"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(file.path()), "{stderr}");
    assert!(stderr.contains("load.concurrency is 4100"), "{stderr}");
}

/// `check`: one bad function is one finding at its place, the others are still checked; a
/// file with no function names the file; two exclusive flags name both.
#[test]
fn check_reports_a_bad_function_and_checks_the_rest() {
    let dir = std::env::temp_dir().join(format!("faasim-cli-{}-check", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let stack = dir.join("stack.yml");
    std::fs::write(
        &stack,
        "provider: {name: openfaas}\nfunctions:\n  good:\n    lang: golang-middleware\n  bad:\n    \
         lang: golang-middleware\n    environment:\n      write_timeout: 0\n  also-good:\n    \
         lang: golang-middleware\n",
    )
    .expect("written");
    let path = stack.display().to_string();
    let output = faasim(&["check", "--color", "never", "--no-search", &path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[invalid-function]"), "{stdout}");
    assert!(stdout.contains(&format!("{path}:8:")), "{stdout}");
    assert!(stdout.contains("3 functions"), "{stdout}");

    let values = dir.join("values.yaml");
    std::fs::write(&values, "gateway:\n  upstreamTimeout: 60s\n").expect("written");
    let values_path = values.display().to_string();
    let output = faasim(&["check", &values_path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&values_path), "names the file: {stderr}");

    let output = faasim(&["check", "--filter", "a*", "--regex", "b", &path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--filter") && stderr.contains("--regex"),
        "{stderr}"
    );

    let output = faasim(&["check", "--concurrency", "4000000000", &path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--concurrency"), "names the flag: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without a terminal on stderr (here a pipe) a long run and a sweep draw no progress bar: they
/// write nothing to stderr, and the report is the same bytes as with `--quiet`.
#[test]
fn no_progress_bar_without_a_terminal() {
    let file = scenario("rolling-update-200rps.yaml");
    let plain = faasim(&["run", &file, "--format", "json", "--no-timeline"]);
    assert_eq!(String::from_utf8_lossy(&plain.stderr), "");
    let quiet = faasim(&["run", &file, "--format", "json", "--no-timeline", "--quiet"]);
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    assert!(plain.stdout.len() > 1_000_000, "the whole report");
    assert!(plain.stdout == quiet.stdout, "the same report bytes");
    let failures = std::env::temp_dir().join(format!(
        "faasim-cli-{}-progress-failures.txt",
        std::process::id()
    ));
    let failures = failures.to_str().expect("utf-8");
    for extra in [None, Some("--quiet")] {
        let mut args = vec!["explore", "--seeds", "4", "--failures", failures];
        args.extend(extra);
        let sweep = faasim(&args);
        assert_eq!(String::from_utf8_lossy(&sweep.stderr), "", "{extra:?}");
        assert!(String::from_utf8_lossy(&sweep.stdout).contains("seeds run: 4"));
    }
    let _ = std::fs::remove_file(failures);
}
