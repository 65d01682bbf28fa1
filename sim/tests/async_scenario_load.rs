//! Loading the asynchronous path's keys (scenario-format.md, "Keys added for asynchronous
//! invocations"): their values, the CE worker's reading of `ackWait`, and each bad input as a
//! one-line error naming file, line and key.

use faasim_model::config::QueueEdition;
use faasim_model::schedule::Action;
use faasim_model::time::NS_PER_S;
use faasim_sim::scenario::{Scenario, ScenarioError, parse};

fn ok(text: &str) -> Scenario {
    parse(text, "scenarios/test.yaml").unwrap_or_else(|error| panic!("{error}"))
}

fn err(text: &str) -> ScenarioError {
    match parse(text, "scenarios/bad.yaml") {
        Ok(scenario) => panic!("expected an error, got {scenario:?}"),
        Err(error) => error,
    }
}

fn assert_error(error: &ScenarioError, line: usize, key: &str) {
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "not one line: {shown:?}");
    assert!(shown.starts_with("scenarios/bad.yaml:"), "no file: {shown}");
    assert_eq!(error.line, Some(line), "{shown}");
    assert_eq!(error.key.as_deref(), Some(key), "{shown}");
}

const KEYS: &str = "\
kubernetes:
  edition: ce
load:
  concurrency: 1
  requests: 2
  async: true
  callback: true
  callbackDuration: 3s
queueWorker:
  edition: ce
  replicas: 2
  ackWait: 5m
  maxInflight: 1
  upstreamTimeout: 1m
  maxRetryAttempts: 100
  initialRetryWait: 10s
  maxRetryWait: 120s
  retryHttpCodes: \"408,429,500,502,503,504\"
  terminationGracePeriodSeconds: 30
events:
  - at: 30s
    restartQueueWorker: {}
";

#[test]
fn the_contracts_keys_are_accepted_as_written() {
    let scenario = ok(KEYS);
    let path = scenario.config.asynchronous.expect("async");
    assert!(path.callback);
    assert_eq!(path.callback_duration_ns, 3 * NS_PER_S);
    let worker = path.queue_worker;
    assert_eq!(worker.edition, QueueEdition::Ce);
    assert_eq!(worker.replicas, 2);
    assert_eq!(worker.ack_wait_ns, 300 * NS_PER_S);
    assert_eq!(worker.retry_http_codes, vec![408, 429, 500, 502, 503, 504]);
    assert_eq!(scenario.events[0].action, Action::RestartQueueWorker);
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
}

#[test]
fn ack_wait_is_read_as_the_ce_worker_reads_it() {
    let with = |ack: &str| ok(&KEYS.replace("ackWait: 5m", &format!("ackWait: {ack}")));
    let bare = with("\"60\"");
    let ns = bare
        .config
        .asynchronous
        .as_ref()
        .map(|a| a.queue_worker.ack_wait_ns);
    assert_eq!(ns, Some(30 * NS_PER_S));
    assert_eq!(bare.warnings[0].key, "queueWorker.ackWait");
    let truncated = with("90.9s");
    let ns = truncated
        .config
        .asynchronous
        .as_ref()
        .map(|a| a.queue_worker.ack_wait_ns);
    assert_eq!(ns, Some(90 * NS_PER_S));
    let below = with("500ms");
    let ns = below
        .config
        .asynchronous
        .as_ref()
        .map(|a| a.queue_worker.ack_wait_ns);
    assert_eq!(ns, Some(0));
    assert!(
        below
            .warnings
            .iter()
            .any(|w| w.message.contains("log.Panic"))
    );
    let many = ok(&KEYS.replace("maxInflight: 1", "maxInflight: 5"));
    assert_eq!(many.warnings[0].key, "queueWorker.maxInflight");
}

#[test]
fn the_pro_worker_is_accepted_and_follows_kubernetes_edition() {
    let pro = ok(&KEYS.replace("edition: ce\n  replicas", "edition: pro\n  replicas"));
    let worker = &pro
        .config
        .asynchronous
        .as_ref()
        .expect("async")
        .queue_worker;
    assert_eq!(worker.edition, QueueEdition::Pro);
    assert_eq!(
        worker.max_inflight, 1,
        "the file's maxInflight, kept for Pro"
    );
    assert!(
        pro.warnings
            .iter()
            .all(|w| w.key != "queueWorker.maxInflight"),
        "no CE warning for Pro"
    );
    // Left to follow kubernetes.edition: pro, with the chart's maxInflight 50.
    let defaulted = KEYS
        .replace("  edition: ce\n  replicas", "  replicas")
        .replace("  maxInflight: 1\n", "")
        .replace("edition: ce\nload", "edition: pro\nload");
    let defaulted = ok(&defaulted);
    let worker = &defaulted
        .config
        .asynchronous
        .as_ref()
        .expect("async")
        .queue_worker;
    assert_eq!(worker.edition, QueueEdition::Pro);
    assert_eq!(worker.max_inflight, 50);
}

#[test]
fn a_synchronous_load_ignores_the_section_with_a_warning() {
    // Without its restartQueueWorker event, which a synchronous run refuses (below).
    let events = KEYS.find("events:").expect("KEYS has events");
    let scenario = ok(&KEYS[..events].replace("async: true", "async: false"));
    assert!(scenario.config.asynchronous.is_none());
    assert_eq!(scenario.warnings[0].key, "load.async");
}

#[test]
fn bad_values_name_their_line_and_key() {
    assert_error(
        &err(&KEYS.replace("replicas: 2", "replicas: 0")),
        11,
        "queueWorker.replicas",
    );
    assert_error(
        &err(&KEYS.replace("replicas: 2", "replicas: 101")),
        11,
        "queueWorker.replicas",
    );
    assert_error(
        &err(&KEYS.replace("\"408,429,500,502,503,504\"", "\"408,abc\"")),
        18,
        "queueWorker.retryHttpCodes",
    );
    assert_error(
        &err(&KEYS.replace("async: true", "async: maybe")),
        6,
        "load.async",
    );
    assert_error(
        &err(&KEYS.replace("edition: ce\n  replicas", "edition: enterprise\n  replicas")),
        10,
        "queueWorker.edition",
    );
    let unknown = err(&KEYS.replace("replicas: 2", "replica: 2"));
    assert!(unknown.to_string().contains("replica"), "{unknown}");
    let two = err(&KEYS.replace(
        "restartQueueWorker: {}",
        "restartQueueWorker: {}\n    rollout: {}",
    ));
    assert!(two.to_string().contains("restartQueueWorker"), "{two}");
}

/// Found by `fuzz_scenario`: `restartQueueWorker` in a synchronous run (here the async-ce
/// restart scenario without its `async: true` line) was accepted, and the simulator panicked
/// on "an execution in a synchronous run". It is an error at the event's line now.
#[test]
fn restarting_the_queue_worker_needs_the_asynchronous_path() {
    let error = err(&KEYS.replace("  async: true\n", ""));
    assert_error(&error, 21, "events[0].restartQueueWorker");
    assert!(error.message.contains("load.async: true"), "{error}");
    let error = err(&KEYS.replace("async: true", "async: false"));
    assert_error(&error, 22, "events[0].restartQueueWorker");
}
