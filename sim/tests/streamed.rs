//! A run past the ledger's limit streams: the router retires each request once nothing can
//! touch it again and folds its record into the tally, so memory follows the requests in
//! flight. These tests hold the streamed run to the kept one (same counts, same verdict, the
//! same violations, the same events) on every shipped synchronous scenario, and show the open
//! window staying near the requests in flight while the requests sent grow.

use std::path::{Path, PathBuf};

mod common;

use faasim_model::config::IngressConfig;
use faasim_model::limits;
use faasim_model::tally::Tally;
use faasim_sim::report::{self, Header};
use faasim_sim::scenario::{self, Scenario};
use faasim_sim::{
    DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate_retiring_every, simulate_scenario,
    simulate_streamed, simulate_streamed_retiring_every,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn streamed(scenario: &Scenario) -> Run {
    simulate_streamed(
        &scenario.config,
        &scenario.events,
        scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        scenario.seed.unwrap_or(DEFAULT_SEED),
    )
}

/// What a tally says, but the ids it lists and its open peak (which differ by design).
fn counts(tally: &Tally) -> String {
    format!(
        "{} {:?} {:?} {:?} {:?} {} {} {} {} {:?}",
        tally.requests,
        tally.statuses,
        tally.outcomes,
        tally.first_start_ns,
        tally.last_end_ns,
        tally.unanswered,
        tally.fastest_ns,
        tally.slowest_ns,
        tally.latency_sum_ns,
        tally.sketch,
    )
}

/// `scenario` run whole and retiring after every event: the same records, invocations, pods,
/// events, end and timeline (a request retired too early panics when it is touched again).
fn retiring_after_every_event_changes_nothing(scenario: &Scenario, what: &str) {
    let seed = scenario.seed.unwrap_or(DEFAULT_SEED);
    let limit_ns = scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS);
    let kept = simulate_scenario(scenario, seed, true);
    let retired = simulate_retiring_every(&scenario.config, &scenario.events, limit_ns, seed, 1);
    let (kept, retired) = (kept.result, retired.result);
    assert_eq!(kept.ledger, retired.ledger, "{what}: the records");
    assert_eq!(
        kept.invocations, retired.invocations,
        "{what}: the invocations"
    );
    assert_eq!(kept.pods, retired.pods, "{what}: the pods");
    assert_eq!(kept.events, retired.events, "{what}: the events");
    assert_eq!(kept.end_ns, retired.end_ns, "{what}: the end");
    assert_eq!(kept.trace, retired.trace, "{what}: the timeline");
}

#[test]
fn every_synchronous_scenario_streams_to_the_same_report_as_it_keeps() {
    let mut compared = 0;
    for file in common::shipped() {
        let scenario = common::load(&file);
        if scenario.config.asynchronous.is_some() {
            continue; // an asynchronous run keeps its ledger, to judge its invocations
        }
        let kept = simulate_scenario(&scenario, scenario.seed.unwrap_or(DEFAULT_SEED), false);
        let streamed = streamed(&scenario);
        assert!(streamed.result.ledger.is_empty(), "{file}: nothing kept");
        assert!(
            !kept.streamed() && streamed.streamed(),
            "{file}: each says how it ran"
        );
        assert_eq!(
            counts(&kept.tally),
            counts(&streamed.tally),
            "{file}: the counts"
        );
        assert_eq!(kept.verdict(), streamed.verdict(), "{file}: the verdict");
        assert_eq!(
            kept.result.events, streamed.result.events,
            "{file}: the events"
        );
        assert_eq!(
            kept.result.end_ns, streamed.result.end_ns,
            "{file}: the end"
        );
        assert_eq!(kept.result.pods, streamed.result.pods, "{file}: the pods");
        assert_eq!(
            kept.violations.len(),
            streamed.violations.len(),
            "{file}: the violations"
        );
        for (k, s) in kept.violations.iter().zip(&streamed.violations) {
            let listed = k.requests.len().min(limits::STREAMED_LISTED_MAX);
            assert_eq!(k.property, s.property, "{file}");
            assert_eq!(
                &k.requests[..listed],
                &s.requests[..],
                "{file}: the first ids"
            );
            assert_eq!(
                (k.requests.len() - listed) as u64,
                s.omitted,
                "{file}: the rest counted"
            );
            assert_eq!(k.pods, s.pods, "{file}");
        }
        // The text reports differ only in the streamed run's warning and its histogram bars.
        let header = Header::of(&scenario);
        let strip = |text: String| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with("warning: load.requests:"))
                .filter(|l| !(l.starts_with("  ") && l.contains(" [") && l.contains("]\t|")))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            strip(report::text(&kept, &header)),
            strip(report::text(&streamed, &header)),
            "{file}: the text report"
        );
        compared += 1;
    }
    assert!(compared >= 40, "most scenarios are synchronous: {compared}");
}

#[test]
fn retiring_after_every_event_changes_no_record_pod_or_line_of_the_timeline() {
    // Retirement must wait until nothing can touch a request again. Retiring as often as
    // possible, after every event, puts that to the test on every shipped synchronous
    // scenario: every request's record, every pod, the events and the timeline stay the same
    // (a request retired too early panics when it is touched again).
    let mut compared = 0;
    for file in common::shipped() {
        let scenario = common::load(&file);
        if scenario.config.asynchronous.is_some() {
            continue; // an asynchronous run never retires
        }
        retiring_after_every_event_changes_nothing(&scenario, &file);
        compared += 1;
    }
    assert!(compared > 20, "only {compared} scenarios compared");
}

#[test]
fn a_streamed_run_holds_the_requests_in_flight_not_the_requests_sent() {
    let scenario = common::load("rolling-update-200rps.yaml");
    let run = streamed(&scenario);
    assert_eq!(run.tally.requests, 120_000);
    assert!(run.tally.open_peak > 0, "the window was seen");
    // 200 requests/s of 50-150 ms each: a handful in flight, plus the requests sent between
    // two retirements (every 4 096 events, about 500 requests).
    assert!(
        run.tally.open_peak < 2_000,
        "at most {} requests open of 120 000",
        run.tally.open_peak
    );
}

#[test]
fn retiring_after_every_event_keeps_open_only_the_requests_in_flight() {
    // The same run retiring after every event: what stays open between two events is the
    // requests in flight (a few at 200 requests/s of 50-150 ms, more while a rollout's
    // terminating pods finish theirs), not the 500 sent between two default retirements; the
    // tally is the same.
    // The same with an ingress in front (which holds each request until it has its answer).
    let mut scenario = common::load("rolling-update-200rps.yaml");
    for ingress in [None, Some(IngressConfig::default())] {
        scenario.config.ingress = ingress;
        let every = simulate_streamed_retiring_every(
            &scenario.config,
            &scenario.events,
            scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
            scenario.seed.unwrap_or(DEFAULT_SEED),
            1,
        );
        assert_eq!(counts(&every.tally), counts(&streamed(&scenario).tally));
        assert!(
            every.tally.open_peak > 0 && every.tally.open_peak < 100,
            "{} requests open at most, ingress {:?}",
            every.tally.open_peak,
            scenario.config.ingress
        );
    }
}

#[test]
fn a_cancel_on_its_way_holds_its_request_open() {
    // Each hop 1 s: the client gives up at 15 s, the gateway hears of it at 16 s and sends the
    // cancel on, due at the watchdog at 17 s; the handler returns at 16.5 s, so from then no
    // component holds the request, but the cancel still names it. A scale event at 16.7 s gives
    // a retirement after every event its chance: the request must stay open until the cancel
    // has come (retiring it earlier panics when the cancel touches it).
    let text = "seed: 1
function:
  environment: {write_timeout: 2m, read_timeout: 2m, exec_timeout: 2m}
  handler: {duration: 10500ms}
network: {rtt: 2s}
gateway: {upstreamTimeout: 3m, readTimeout: 3m, writeTimeout: 3m}
load: {concurrency: 1, requests: 1, timeout: 15s}
events:
  - {at: 16700ms, scale: 1}
";
    let scenario = scenario::parse(text, "scenarios/cancel.yaml").expect("parses");
    retiring_after_every_event_changes_nothing(&scenario, "cancel.yaml");
}

#[test]
fn asking_an_asynchronous_run_to_retire_changes_nothing() {
    // An asynchronous run never retires (its invocations are judged from every execution at
    // the end): retiring_every leaves it as it is.
    let mut compared = 0;
    for file in common::shipped() {
        let scenario = common::load(&file);
        if scenario.config.asynchronous.is_none() {
            continue;
        }
        retiring_after_every_event_changes_nothing(&scenario, &file);
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} asynchronous scenarios");
}

#[test]
fn a_run_past_the_ledger_limit_streams_by_itself_and_says_so() {
    // 600 000 requests at 10 000/s over 100 replicas: past the 500 000 a run keeps whole.
    let text = std::fs::read_to_string(root().join("scenarios/rolling-update-200rps.yaml"))
        .expect("reads")
        .replace("com.openfaas.scale.min: 10", "com.openfaas.scale.min: 100")
        .replace("com.openfaas.scale.max: 10", "com.openfaas.scale.max: 100")
        .replace("requests: 120000", "requests: 600000")
        .replace("rate: 200", "rate: 10000")
        .replace("at: 4m", "at: 40s")
        .replace("at: 7m", "at: 50s")
        .replace("at: 1m", "at: 20s");
    let scenario = scenario::parse(&text, "scenarios/streamed.yaml").expect("parses");
    assert!(scenario.config.load.requests > limits::LEDGER_KEPT_MAX);
    let run = simulate_scenario(&scenario, 42, true);
    assert!(run.streamed(), "streamed without being asked");
    assert!(run.result.trace.is_empty(), "and kept no timeline");
    assert_eq!(run.tally.requests, 600_000);
    assert_eq!(run.tally.count(faasim_model::ledger::Outcome::Ok), 600_000);
    assert!(
        run.tally.open_peak < 20_000,
        "10 000 requests/s of up to 150 ms keep a few thousand open: {}",
        run.tally.open_peak
    );
    let header = Header::of_run(&scenario, &run);
    assert!(
        header.warnings.iter().any(|w| w.contains("streamed")),
        "the report says the run streamed: {:?}",
        header.warnings
    );
    let json = report::json(&run, &header);
    assert!(json.contains("\"requests_streamed\": 600000"), "{json}");
    let text = report::text(&run, &header);
    assert!(text.contains("[200]\t600000 responses"), "{text}");
    assert!(text.contains("Response time histogram:"), "{text}");
}

#[test]
fn an_asynchronous_run_past_the_ledger_limit_is_refused_at_its_key() {
    let text = std::fs::read_to_string(root().join("scenarios/async-ce-helm-defaults-90s.yaml"))
        .expect("reads");
    let over = text.replacen("requests: 1\n", "requests: 500001\n", 1);
    assert_ne!(over, text, "the scenario sends one call");
    let Err(error) = scenario::parse(&over, "scenarios/async-over.yaml") else {
        panic!("an async run of 500 001 requests loads");
    };
    let message = error.to_string();
    assert!(message.contains("load.requests"), "{message}");
    assert!(message.contains("500000"), "{message}");
}
