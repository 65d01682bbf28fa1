//! The asynchronous path on OpenFaaS CE (`async-ce-*.yaml`) and Pro (`async-pro-*.yaml`): each
//! shipped scenario pinned with the counts worked out by hand from the facts of domain.md §10
//! (NATS Streaming redelivers every ack_wait while unacked, to the member with fewest pending;
//! the CE worker runs one call at a time and acks after the call and the callback, whatever the
//! status; SIGTERM ends it without an ack. The Pro worker extends its lease while a call runs,
//! retries retryable statuses with a doubling backoff from 10 s, calls back once after the
//! final attempt and stops gracefully), and the synchronous path left as it was.

use std::collections::BTreeSet;

use faasim_model::config::IngressConfig;
use faasim_model::ledger::{Cause, Outcome, Status};
use faasim_model::schedule::{Action, Event};
use faasim_model::time::{NS_PER_MS, Nanos};
use faasim_sim::{DEFAULT_LIMIT_NS, Run, simulate};

mod common;

use common::{load, run, s, scenarios_dir, violated};

/// Every `async-*` file this test binary pins, so none ships untested.
const SHIPPED: [&str; 20] = [
    "async-ce-429-not-retried.yaml",
    "async-ce-ack-wait-below-a-second.yaml",
    "async-ce-ack-wait-5m.yaml",
    "async-ce-callback-receiver-fails.yaml",
    "async-ce-ack-wait-bare-integer.yaml",
    "async-ce-ack-wait-below-call.yaml",
    "async-ce-helm-defaults-90s.yaml",
    "async-ce-restart-queue-worker.yaml",
    "async-ce-rollout-kills-call.yaml",
    "async-ce-slow-callback.yaml",
    "async-ce-two-workers-redeliver.yaml",
    "async-pro-ack-before-callback.yaml",
    "async-pro-backoff-full-jitter.yaml",
    "async-pro-callback-retries.yaml",
    "async-pro-max-inflight-429-retried.yaml",
    "async-pro-restart-queue-worker.yaml",
    "async-pro-restart-sigkill-redelivers.yaml",
    "async-pro-retries-exhausted.yaml",
    "async-pro-rollout-kills-call.yaml",
    "async-pro-upstream-below-call.yaml",
];

/// Each invocation's executions, callback statuses and outcome.
fn invocations(run: &Run) -> Vec<(u32, Vec<Status>, Outcome)> {
    let invocations = run.result.invocations.as_ref().expect("an async run");
    invocations
        .iter()
        .zip(&run.result.ledger)
        .map(|(i, r)| (i.executions, i.callbacks.clone(), r.outcome))
        .collect()
}

fn codes(codes: &[u16]) -> Vec<Status> {
    codes.iter().map(|c| Status::Code(*c)).collect()
}

/// `end` lies within a few network hops (0.25 ms each, a few per run) after `at`.
fn near(end: Option<Nanos>, at: Nanos) -> bool {
    end.is_some_and(|end| end >= at && end < at + 20 * NS_PER_MS)
}

#[test]
fn every_async_scenario_is_pinned_here() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/ exists") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.starts_with("async-") {
            on_disk.insert(name.to_string());
        }
    }
    let pinned: BTreeSet<String> = SHIPPED.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, pinned);
    for file in SHIPPED {
        let loaded = load(file);
        assert!(loaded.seed.is_some(), "{file} pins its seed");
        assert!(loaded.config.asynchronous.is_some(), "{file} is async");
    }
}

/// One worker, ack_wait 30 s, 50 s calls, two queued at once. Call 0: delivered at 0, copy at
/// 30 s, acked at 50 s: 1 + floor(50 / 30) = 2 runs. Call 1 is delivered at the ack (50 s),
/// behind the copy that runs 50-100 s, so its ack timer runs out at 80, 110 and 140 s before
/// its first run ends at 150 s: 4 runs. Every run ends 200 and is called back.
#[test]
fn ack_wait_below_the_call_runs_each_call_again_per_ack_wait_it_waited() {
    let run = run("async-ce-ack-wait-below-call.yaml");
    assert_eq!(
        invocations(&run),
        vec![
            (2, codes(&[200, 200]), Outcome::Duplicated),
            (4, codes(&[200; 4]), Outcome::Duplicated),
        ]
    );
    assert_eq!(
        violated(&run),
        vec!["no-duplicate-invocation", "callback-delivered"]
    );
    // The last run of call 1 is the sixth 50 s run in a row.
    assert!(near(run.result.ledger[1].end_ns, s(300)));
}

/// The same worker and timers with one call, and with three queued at once. Alone, a call runs
/// 1 + floor(50 / 30) = 2 times. Queued, each call's ack timer starts when NATS sends it, at
/// the previous call's ack, while the worker still has that call's copies to run, so the
/// copies compound: 2, 4 and 7 runs. The real NATS Streaming server (v0.23.2, its vendored
/// stan.go v0.10.2), with a subscriber set up as the CE worker's, ack_wait 3 s and a 5 s
/// handler, ran them 2 times alone and 2, 4 and 7 times queued (docs/async.md).
#[test]
fn a_call_alone_runs_twice_and_queued_calls_compound_as_on_the_real_server() {
    let executions = |requests: u64| -> Vec<u32> {
        let mut loaded = load("async-ce-ack-wait-below-call.yaml");
        loaded.config.load.requests = requests;
        loaded.config.load.concurrency = u32::try_from(requests).expect("a few");
        let run = simulate(
            &loaded.config,
            &loaded.events,
            DEFAULT_LIMIT_NS,
            loaded.seed.expect("a seed"),
            false,
        );
        invocations(&run).iter().map(|(e, _, _)| *e).collect()
    };
    assert_eq!(executions(1), vec![2]);
    assert_eq!(executions(3), vec![2, 4, 7]);
}

/// The control: ack_wait 5m covers a 50 s call and its callback: one run each, in sequence.
#[test]
fn ack_wait_above_the_call_runs_each_call_once() {
    let run = run("async-ce-ack-wait-5m.yaml");
    assert_eq!(
        invocations(&run),
        vec![
            (1, codes(&[200]), Outcome::Ok),
            (1, codes(&[200]), Outcome::Ok),
        ]
    );
    assert!(run.passed(), "{:?}", violated(&run));
    assert!(near(run.result.ledger[0].end_ns, s(50)));
    assert!(near(run.result.ledger[1].end_ns, s(100)));
}

/// "600" has no unit: time.ParseDuration fails, the worker keeps 30 s (a warning), and a 50 s
/// call runs 1 + floor(50 / 30) = 2 times.
#[test]
fn a_bare_integer_ack_wait_is_thirty_seconds() {
    let loaded = load("async-ce-ack-wait-bare-integer.yaml");
    let warned: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(warned, vec!["queueWorker.ackWait"]);
    let ack_wait = loaded
        .config
        .asynchronous
        .as_ref()
        .map(|a| a.queue_worker.ack_wait_ns);
    assert_eq!(ack_wait, Some(s(30)));
    let run = run("async-ce-ack-wait-bare-integer.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200, 200]), Outcome::Duplicated)]
    );
}

/// ackWait 500ms is 0 on the wire: the worker never subscribes, the calls stay queued (no
/// execution, no callback), unfinished: the verdict says the run proves nothing about them.
#[test]
fn an_ack_wait_below_a_second_never_consumes() {
    let loaded = load("async-ce-ack-wait-below-a-second.yaml");
    let warned: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(warned, vec!["queueWorker.ackWait"]);
    let run = run("async-ce-ack-wait-below-a-second.yaml");
    assert_eq!(
        invocations(&run),
        vec![
            (0, vec![], Outcome::Unfinished),
            (0, vec![], Outcome::Unfinished),
        ]
    );
    assert_eq!(run.verdict(), faasim_sim::Verdict::Unfinished);
}

/// Helm defaults: ack_wait 60 s, upstream_timeout 1m, a 90 s handler. The gateway's 502 comes
/// at 60 s, just after the ack timer (started at the server's send) ran out: the message is
/// redelivered, and the copy is cut at 60 s again. Never a 2xx: lost, and run twice.
#[test]
fn helm_defaults_lose_a_90_s_call_and_run_it_twice() {
    let run = run("async-ce-helm-defaults-90s.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[502, 502]), Outcome::Lost)]
    );
    let record = &run.result.ledger[0];
    assert_eq!(record.cause, Some(Cause::UpstreamTimeout));
    assert!(near(record.end_ns, s(120)));
    assert_eq!(
        violated(&run),
        vec![
            "no-lost-invocation",
            "no-duplicate-invocation",
            "callback-delivered"
        ]
    );
}

/// max_inflight 1 on the function, two workers: one call runs, the other gets 429 at once,
/// called back and acked: lost, no execution, no retry.
#[test]
fn a_429_is_called_back_acked_and_never_retried() {
    let run = run("async-ce-429-not-retried.yaml");
    let mut got = invocations(&run);
    got.sort();
    assert_eq!(
        got,
        vec![
            (0, codes(&[429]), Outcome::Lost),
            (1, codes(&[200]), Outcome::Ok),
        ]
    );
    assert_eq!(violated(&run), vec!["no-lost-invocation"]);
}

/// A rollout at 30 s; the old pod's SIGTERM once the new one is ready, SIGKILL 30 s later cuts
/// the 90 s call: 500 called back and acked, lost; the pod is killed.
#[test]
fn a_pod_rolled_under_a_long_call_loses_it_on_ce() {
    let run = run("async-ce-rollout-kills-call.yaml");
    assert_eq!(invocations(&run), vec![(1, codes(&[500]), Outcome::Lost)]);
    let record = &run.result.ledger[0];
    assert_eq!(record.cause, Some(Cause::Sigkill));
    let end = record.end_ns.expect("ended");
    assert!(
        end > s(60) && end < s(70),
        "SIGKILL 30 s after the SIGTERM: {end}"
    );
    assert_eq!(violated(&run), vec!["graceful-exit", "no-lost-invocation"]);
}

/// The worker restarted at 10 s (new pod subscribed at 12 s, old one SIGTERMed then): the cut
/// call has no callback and no ack; NATS redelivers it at 60 s to the new worker, which runs it
/// to 110 s. Two executions, one callback.
#[test]
fn a_worker_restarted_mid_call_runs_it_again_after_ack_wait() {
    let run = run("async-ce-restart-queue-worker.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200]), Outcome::Duplicated)]
    );
    assert!(near(run.result.ledger[0].end_ns, s(110)));
    assert_eq!(violated(&run), vec!["no-duplicate-invocation"]);
}

/// Two workers, ack_wait 30 s, a 50 s call: the redelivery at 30 s runs at once on the idle
/// worker; the first run's ack at 50 s counts for the group, so there is no third delivery
/// (the real NATS Streaming server gave the same at a tenth of the times: docs/async.md).
#[test]
fn two_workers_run_a_long_call_twice_at_once_until_the_first_ack() {
    let loaded = load("async-ce-two-workers-redeliver.yaml");
    let run = simulate(
        &loaded.config,
        &loaded.events,
        loaded.limit_ns.expect("a limit"),
        loaded.seed.expect("a seed"),
        true,
    );
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200, 200]), Outcome::Duplicated)]
    );
    // The second run started at 30 s, on the other worker, while the first still ran.
    assert!(near(run.result.ledger[0].end_ns, s(80)));
    assert!(
        run.result
            .trace
            .iter()
            .any(|line| line.what.contains("acknowledges the copy member 1 holds")),
        "the first worker's ack counts for the copy the second one holds"
    );
}

/// A receiver that takes 40 s holds the worker's ack to 70 s, past ack_wait 60 s: a second run.
#[test]
fn a_slow_callback_receiver_delays_the_ack_into_a_redelivery() {
    let run = run("async-ce-slow-callback.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200, 200]), Outcome::Duplicated)]
    );
    assert!(near(run.result.ledger[0].end_ns, s(100)));
}

/// Pro, a function of max_inflight 1 and five calls fetched at once (issue 13's must-hold
/// line): one runs 0-5 s, four get 429 and wait 10 s; one a round gets through, the rest wait
/// twice as long: the calls end 200 at about 5, 15, 35, 75 and 155 s (each round's retry
/// instant, 10, 30, 70 and 150 s, plus 5 s). One execution each (a 429 is not one), one
/// callback 200 each.
#[test]
fn pro_retries_429s_until_every_call_ends_200() {
    let run = run("async-pro-max-inflight-429-retried.yaml");
    assert_eq!(
        invocations(&run),
        vec![(1, codes(&[200]), Outcome::Ok); 5],
        "every call ends 200 after its 429s"
    );
    let mut ends: Vec<Nanos> = run
        .result
        .ledger
        .iter()
        .map(|r| r.end_ns.expect("ended"))
        .collect();
    ends.sort();
    for (end, at) in ends.iter().zip([5, 15, 35, 75, 155]) {
        assert!(near(Some(*end), s(at)), "an end at {at} s: {end}");
    }
    assert!(violated(&run).is_empty());
}

/// The same five calls with `backoff: full`: the retries no longer move in lockstep, so every
/// call still ends 200 once, and the last one long before the lockstep's 155 s. Over 20 seeds
/// every run ends all five 200, the draws differ from seed to seed, and the last call ends
/// earlier on average than without jitter.
#[test]
fn full_jitter_spreads_the_429_retries_and_ends_sooner() {
    let last_end = |run: &Run| {
        run.result
            .ledger
            .iter()
            .map(|r| r.end_ns.expect("ended"))
            .max()
            .expect("five calls")
    };
    let run = run("async-pro-backoff-full-jitter.yaml");
    assert_eq!(invocations(&run), vec![(1, codes(&[200]), Outcome::Ok); 5]);
    assert!(last_end(&run) < s(100), "{}", last_end(&run));
    assert!(violated(&run).is_empty());

    let loaded = load("async-pro-backoff-full-jitter.yaml");
    let mut lasts = BTreeSet::new();
    let mut total: Nanos = 0;
    for seed in 1..=20 {
        let run = simulate(
            &loaded.config,
            &loaded.events,
            DEFAULT_LIMIT_NS,
            seed,
            false,
        );
        assert_eq!(
            invocations(&run),
            vec![(1, codes(&[200]), Outcome::Ok); 5],
            "seed {seed}"
        );
        lasts.insert(last_end(&run));
        total += last_end(&run);
    }
    assert!(lasts.len() > 10, "the jitter is drawn per seed: {lasts:?}");
    assert!(total / 20 < s(155), "mean last end {} ns", total / 20);
}

/// The Pro twin of `a_pod_rolled_under_a_long_call_loses_it_on_ce`: SIGKILL at about 65.8 s
/// gives the same 500, which Pro retries 10 s later on the new pod: 200 at about 165.8 s, one
/// callback. Not lost, but run twice.
#[test]
fn a_pod_rolled_under_a_long_call_is_retried_on_pro_and_runs_twice() {
    let run = run("async-pro-rollout-kills-call.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200]), Outcome::Duplicated)]
    );
    let end = run.result.ledger[0].end_ns.expect("ended");
    assert!(end > s(160) && end < s(170), "90 s after the retry: {end}");
    let broken = violated(&run);
    assert!(broken.contains(&"no-duplicate-invocation"));
    assert!(!broken.contains(&"no-lost-invocation"));
    // The same file on CE: the 500 is called back and the call lost.
    let mut ce = load("async-pro-rollout-kills-call.yaml");
    let worker = &mut ce.config.asynchronous.as_mut().expect("async").queue_worker;
    worker.edition = faasim_model::config::QueueEdition::Ce;
    worker.max_inflight = 1;
    worker.ack_wait_ns = s(300);
    let ce = simulate(&ce.config, &ce.events, DEFAULT_LIMIT_NS, 1, false);
    assert_eq!(invocations(&ce), vec![(1, codes(&[500]), Outcome::Lost)]);
}

/// maxRetryAttempts 3, every attempt cut by exec_timeout with a 504 (retryable): attempts at
/// 0, 20 and 50 s (waits 10 s and 20 s), the last ending at 60 s; one callback, 504: lost.
#[test]
fn pro_retries_run_out_and_the_final_callback_carries_the_last_status() {
    let run = run("async-pro-retries-exhausted.yaml");
    assert_eq!(invocations(&run), vec![(3, codes(&[504]), Outcome::Lost)]);
    let record = &run.result.ledger[0];
    assert_eq!(record.status, Some(Status::Code(504)));
    assert!(near(record.end_ns, s(60)));
    assert_eq!(
        violated(&run),
        vec!["no-lost-invocation", "no-duplicate-invocation"]
    );
}

/// The Pro worker restarted at 10 s with two 20 s calls in hand: SIGTERM at 12 s stops its
/// fetching, its calls end 200 at 20 s within its grace, each called back once: nothing lost
/// or run twice.
#[test]
fn a_pro_worker_restarted_mid_call_finishes_it_gracefully() {
    let run = run("async-pro-restart-queue-worker.yaml");
    assert_eq!(invocations(&run), vec![(1, codes(&[200]), Outcome::Ok); 2]);
    for record in &run.result.ledger {
        assert!(near(record.end_ns, s(20)));
    }
    assert!(violated(&run).is_empty());
}

/// The Pro worker restarted under a 50 s call: SIGKILL at 42 s (30 s of grace after the
/// SIGTERM at 12 s); the lease runs out 60 s later and the new worker runs it 102-152 s.
#[test]
fn a_pro_worker_killed_after_its_grace_leaves_the_call_to_the_next_after_ack_wait() {
    let run = run("async-pro-restart-sigkill-redelivers.yaml");
    assert_eq!(
        invocations(&run),
        vec![(2, codes(&[200]), Outcome::Duplicated)]
    );
    assert!(near(run.result.ledger[0].end_ns, s(152)));
    assert_eq!(violated(&run), vec!["no-duplicate-invocation"]);
}

/// The worker's upstreamTimeout 30 s under a 50 s call, maxRetryAttempts 3: every attempt cut
/// at 30 s and retried (at 40 and 90 s), the third cut at 120 s; one callback 503 (no
/// status): lost, and the handler started three times.
#[test]
fn a_pro_upstream_timeout_below_the_call_cuts_every_attempt_and_loses_it() {
    let run = run("async-pro-upstream-below-call.yaml");
    assert_eq!(invocations(&run), vec![(3, codes(&[503]), Outcome::Lost)]);
    let record = &run.result.ledger[0];
    assert_eq!(record.cause, Some(Cause::ClientTimeout));
    assert!(near(record.end_ns, s(120)));
    assert_eq!(
        violated(&run),
        vec!["no-lost-invocation", "no-duplicate-invocation"]
    );
}

/// A synchronous scenario has no invocations, no async outcome classes and no async
/// properties in its report.
#[test]
fn a_synchronous_run_has_no_invocations() {
    let loaded = load("go-long-ce.yaml");
    assert!(loaded.config.asynchronous.is_none());
    let run = run("go-long-ce.yaml");
    assert!(run.result.invocations.is_none());
    let header = faasim_sim::report::Header::of_run(&loaded, &run);
    let json = faasim_sim::report::json(&run, &header);
    for absent in ["\"lost\"", "\"duplicated\"", "executions", "callbacks"] {
        assert!(!json.contains(absent), "{absent} in a synchronous report");
    }
}

/// docs/async.md backs every claim with a shipped scenario and the test here that pins it:
/// each scenario it cites exists and is in `SHIPPED`, and each test it names in brackets is one
/// of this file's.
#[test]
fn docs_async_cites_only_pinned_scenarios_and_tests_of_this_file() {
    let doc = std::fs::read_to_string(scenarios_dir().join("../docs/async.md")).expect("read");
    let this = include_str!("async_scenarios.rs");
    let mut scenarios = 0;
    let mut tests = 0;
    let mut cited = BTreeSet::new();
    for (index, _) in doc.match_indices("`async-") {
        let rest = &doc[index + 1..];
        let name = &rest[..rest.find('`').expect("closed")];
        if name.ends_with(".yaml") {
            assert!(SHIPPED.contains(&name), "docs/async.md cites {name}");
            cited.insert(name);
        }
    }
    scenarios += cited.len();
    for (index, _) in doc.match_indices("[`") {
        let rest = &doc[index + 2..];
        let name = &rest[..rest.find('`').expect("closed")];
        if rest[name.len()..].starts_with("`]") && !rest[name.len()..].starts_with("`](") {
            assert!(
                this.contains(&format!("fn {name}(")),
                "docs/async.md names a test {name} not in this file"
            );
            tests += 1;
        }
    }
    assert_eq!(
        scenarios,
        SHIPPED.len(),
        "every shipped async scenario is in docs/async.md"
    );
    assert!(
        tests >= SHIPPED.len(),
        "each scenario's claim names its test"
    );
}

/// One seed makes one run on the async path too: the JSON report, timeline included, is the
/// same byte for byte on a second run.
#[test]
fn an_async_run_is_deterministic() {
    let loaded = load("async-ce-two-workers-redeliver.yaml");
    let report = |seed: u64| {
        let run = simulate(
            &loaded.config,
            &loaded.events,
            loaded.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
            seed,
            true,
        );
        faasim_sim::report::json(&run, &faasim_sim::report::Header::of_run(&loaded, &run))
    };
    assert_eq!(report(5), report(5));
}

/// Every cluster event works under asynchronous load, on both editions, and each edition keeps
/// its promise: with an ack wait (5m) that covers the 50 s calls, CE runs each call at most once
/// (but after its own restart) and calls each back exactly once, however it ended (a cut call is
/// lost, never retried); Pro
/// loses none (a cut call is retried until it ends 2xx), and calls each back once.
#[test]
fn every_cluster_event_works_under_async_load_on_both_editions() {
    let events = [
        "scale: 0",
        "rollout: {}",
        "deploy: {}",
        "killPod: {pod: report-r1-0}",
        "drainNode: {node: 0}",
        "loseNode: {node: 0}",
        "shutdownNode: {node: 0, gracePeriod: 30s, criticalPods: 5s}",
        "restartQueueWorker: {}",
        "rolloutGateway: {}",
    ];
    for edition in ["ce", "pro"] {
        for event in events {
            let text = format!(
                "name: 'async under {event}'\nseed: 1\nlimit: 10m\nfunction:\n  name: report\n  \
                 environment: {{write_timeout: 2m, read_timeout: 2m, exec_timeout: 2m}}\n  \
                 handler: {{duration: 50s}}\nkubernetes: {{edition: {edition}}}\nload: \
                 {{concurrency: 3, requests: 3, method: POST, async: true, callback: true}}\n\
                 queueWorker: {{edition: {edition}, ackWait: 5m}}\nevents:\n  - at: 20s\n    \
                 {event}\n"
            );
            let loaded = faasim_sim::scenario::parse(&text, "inline")
                .unwrap_or_else(|e| panic!("{edition} {event}: {e}"));
            let run = simulate(
                &loaded.config,
                &loaded.events,
                loaded.limit_ns.expect("a limit"),
                1,
                false,
            );
            let calls = invocations(&run);
            assert_eq!(calls.len(), 3, "{edition} {event}");
            for (call, (executions, callbacks, outcome)) in calls.iter().enumerate() {
                let what = format!(
                    "{edition} {event}: call {call} {executions} {callbacks:?} {outcome:?}"
                );
                assert_eq!(callbacks.len(), 1, "{what}");
                if edition == "ce" && event.starts_with("restartQueueWorker") {
                    // The worker's own death is the exception: its call, never acked, is
                    // redelivered to the new worker and runs again.
                    assert!(*executions <= 2, "{what}");
                } else if edition == "ce" {
                    assert!(*executions <= 1, "{what}");
                    assert!(matches!(outcome, Outcome::Ok | Outcome::Lost), "{what}");
                } else {
                    assert_eq!(callbacks[0], Status::Code(200), "{what}");
                    assert_ne!(*outcome, Outcome::Lost, "{what}");
                }
            }
        }
    }
}

/// A receiver that fails the callback: the CE worker posts once and acks; the call ran and
/// ended 200, but nothing recorded its result.
#[test]
fn a_failed_callback_is_not_posted_again_on_ce() {
    let run = run("async-ce-callback-receiver-fails.yaml");
    assert_eq!(invocations(&run), vec![(1, vec![], Outcome::Ok)]);
    assert_eq!(violated(&run), vec!["callback-delivered"]);
}

/// The Pro worker posts a failed callback again, `callbackRetries` times: with 3, the third
/// post of a receiver that fails two is recorded; with 0, none is.
#[test]
fn pro_posts_a_failed_callback_again_as_often_as_callback_retries_says() {
    let run_with = |retries: u32| {
        let mut loaded = load("async-pro-callback-retries.yaml");
        let a = loaded.config.asynchronous.as_mut().expect("async");
        a.queue_worker.callback_retries = retries;
        simulate(&loaded.config, &loaded.events, DEFAULT_LIMIT_NS, 1, false)
    };
    let run = run("async-pro-callback-retries.yaml");
    assert_eq!(invocations(&run), vec![(1, codes(&[200]), Outcome::Ok)]);
    assert!(run.passed(), "{:?}", violated(&run));
    assert_eq!(
        invocations(&run_with(2)),
        invocations(&run),
        "two retries: the third post"
    );
    let none = run_with(1);
    assert_eq!(invocations(&none), vec![(1, vec![], Outcome::Ok)]);
    assert_eq!(violated(&none), vec!["callback-delivered"]);
}

/// The ack point, a parameter: SIGKILL in the middle of a 60 s callback. Acked before the
/// callback, the call is done; acked after it (the default), its lease runs out and it runs
/// again on the new worker, with a second callback.
#[test]
fn the_ack_point_decides_whether_a_worker_killed_in_its_callback_runs_the_call_again() {
    let before = run("async-pro-ack-before-callback.yaml");
    assert_eq!(invocations(&before), vec![(1, codes(&[200]), Outcome::Ok)]);
    assert!(before.passed(), "{:?}", violated(&before));
    let mut loaded = load("async-pro-ack-before-callback.yaml");
    let a = loaded.config.asynchronous.as_mut().expect("async");
    a.queue_worker.pro_ack_before_callback = false;
    let after = simulate(
        &loaded.config,
        &loaded.events,
        loaded.limit_ns.expect("a limit"),
        1,
        false,
    );
    assert_eq!(
        invocations(&after),
        vec![(2, codes(&[200, 200]), Outcome::Duplicated)]
    );
    // Run again once the dead worker's lease (ackWait 60 s) ran out after the SIGKILL at 42 s.
    assert!(
        near(after.result.ledger[0].end_ns, s(107)),
        "{:?}",
        after.result.ledger[0].end_ns
    );
}

/// An ingress in front carries the client's POSTs to `/async-function` and their answers, not
/// the queue-worker's calls, which go to the gateway's Service inside the cluster: every
/// shipped asynchronous scenario behind an ingress (its read timeout, 1 s, shorter than most
/// calls) runs every invocation as before, as it does with a CE gateway rollout (at 1 ms, as
/// the first calls go out, and at 5 s) that cuts calls and refuses connections. A refused POST comes back as nginx's 502, and the
/// ingress's read timer never runs out: every POST's answer passed through it.
#[test]
fn an_ingress_carries_the_clients_posts_and_not_the_workers_calls() {
    let mut refused = 0;
    for file in SHIPPED {
        let loaded = load(file);
        let seed = loaded.seed.expect("a seed");
        let limit_ns = loaded.limit_ns.unwrap_or(DEFAULT_LIMIT_NS);
        let rolled = |at_ns: Nanos| {
            let mut events = loaded.events.clone();
            events.push(Event {
                at_ns,
                action: Action::RolloutGateway,
            });
            events.sort_by_key(|e| e.at_ns);
            events
        };
        for events in [loaded.events.clone(), rolled(NS_PER_MS), rolled(s(5))] {
            let direct = simulate(&loaded.config, &events, limit_ns, seed, false);
            let mut config = loaded.config.clone();
            config.ingress = Some(IngressConfig {
                read_timeout_ns: s(1),
            });
            let behind = simulate(&config, &events, limit_ns, seed, true);
            assert_eq!(invocations(&behind), invocations(&direct), "{file}");
            for (a, b) in behind.result.ledger.iter().zip(&direct.result.ledger) {
                assert_eq!((a.status, a.cause), (b.status, b.cause), "{file}: {}", a.id);
                if b.cause == Some(Cause::GatewayRefused) {
                    refused += 1;
                }
            }
            let timed_out = behind
                .result
                .trace
                .iter()
                .find(|line| line.what.contains("proxy-read-timeout"));
            assert!(timed_out.is_none(), "{file}: {timed_out:?}");
        }
    }
    assert!(refused > 0, "some call meets the rollout's refusal");
}

/// The queue-worker's very first call refused by the gateway behind an ingress: a CE gateway
/// rolled at 1 ms exits when its new pod is ready (10.001 s), and the one call, sent at
/// 9.9995 s and queued as the old pod exits, dials it while kube-proxy still routes there
/// (until 10.88 s). The refusal goes back to the worker, not to the ingress,
/// as without one (a hop later: the POST came through the ingress).
#[test]
fn the_workers_first_call_refused_goes_back_to_the_worker_behind_an_ingress() {
    let loaded = load("async-ce-slow-callback.yaml");
    let mut config = loaded.config.clone();
    config.load.start_ns = s(10) - NS_PER_MS / 2;
    let events = [Event {
        at_ns: NS_PER_MS,
        action: Action::RolloutGateway,
    }];
    let direct = simulate(&config, &events, DEFAULT_LIMIT_NS, 1, true);
    let refused = |run: &Run| {
        run.result.trace.iter().any(|l| {
            l.what
                .starts_with("call 0: execution 1 ends error (gateway refused)")
        })
    };
    assert!(refused(&direct), "the first call is refused");
    config.ingress = Some(IngressConfig {
        read_timeout_ns: s(1),
    });
    let behind = simulate(&config, &events, DEFAULT_LIMIT_NS, 1, true);
    assert!(
        refused(&behind),
        "the first call is refused behind the ingress too"
    );
    assert_eq!(invocations(&behind), invocations(&direct));
    let fate = |run: &Run| -> Vec<_> {
        run.result
            .ledger
            .iter()
            .map(|r| (r.status, r.cause, r.outcome))
            .collect()
    };
    assert_eq!(fate(&behind), fate(&direct));
}

/// The trace of a run, with the timeline on.
fn traced(loaded: &faasim_sim::scenario::Scenario) -> Run {
    simulate(
        &loaded.config,
        &loaded.events,
        loaded.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        loaded.seed.expect("a seed"),
        true,
    )
}

/// When the first timeline line containing `what` was written.
fn when(run: &Run, what: &str) -> Nanos {
    run.result
        .trace
        .iter()
        .find(|line| line.what.contains(what))
        .unwrap_or_else(|| panic!("no line with {what:?}"))
        .at_ns
}

/// The CE worker's failed callback is said so on the timeline; a callback that succeeds is not.
#[test]
fn a_failed_callback_is_on_the_timeline() {
    let failed = traced(&load("async-ce-callback-receiver-fails.yaml"));
    when(&failed, "call 0: callback failed (500), not recorded");
    let fine = traced(&load("async-ce-slow-callback.yaml"));
    assert!(
        !fine
            .result
            .trace
            .iter()
            .any(|line| line.what.contains("callback failed")),
        "a callback that succeeds is not said to fail"
    );
}

/// The asynchronous path's messages take a hop each: the gateway publishes the call to NATS as
/// it answers 202, and NATS delivers it to the worker a hop later, as the 202 reaches the
/// client; the worker's call goes out then. With each hop 1 s (`network.rtt: 2s`) the call
/// goes out at the same instant as the client gets its 202.
#[test]
fn an_asynchronous_message_takes_a_hop() {
    for rtt_ns in [NS_PER_MS / 2, s(2)] {
        let mut loaded = load("async-ce-slow-callback.yaml");
        loaded.config.network.rtt_ns = rtt_ns;
        let run = traced(&loaded);
        let accepted = when(&run, "request 0 ends 202");
        let called = when(&run, "call 0: POST /function/report, execution 1");
        assert_eq!(called, accepted + rtt_ns / 2, "rtt {rtt_ns} ns");
    }
}

/// A worker that exits mid-call closes its connection to the gateway, and the cancel goes down
/// the chain: the restarted worker's cut call (12 s) no longer holds the function's watchdog,
/// so when a rollout at 10 s deletes that pod (SIGTERM once the new pod is ready, SIGKILL 30 s
/// later as its listener stays open for the 2 m healthcheck interval, before the 50 s handler
/// would have returned) the kill finds no request in it.
#[test]
fn a_worker_that_exits_mid_call_cancels_it_down_to_the_pod() {
    let mut loaded = load("async-ce-restart-queue-worker.yaml");
    loaded.events.push(Event {
        at_ns: s(10),
        action: Action::Rollout,
    });
    let run = traced(&loaded);
    when(&run, "call 0: execution 1 ends error (queue-worker exited)");
    let old = &run.result.pods[0];
    assert_eq!(old.end, faasim_sim::world::PodEnd::Killed);
    let killed_ns = old.end_ns.expect("killed");
    assert!(
        killed_ns < s(50),
        "killed at {killed_ns} ns, before the handler's end"
    );
    assert_eq!(old.killed_with, 0, "the cut call left the watchdog");
}

/// Each execution draws its own handler duration: four calls at once, on four workers, to a
/// handler of 1 to 2 s, run for four different times.
#[test]
fn each_execution_draws_its_own_handler_duration() {
    let mut loaded = load("async-ce-slow-callback.yaml");
    loaded.config.function.handler_ns = faasim_model::config::Span {
        lo_ns: s(1),
        hi_ns: s(2),
    };
    loaded.config.load.requests = 4;
    loaded.config.load.concurrency = 4;
    let a = loaded.config.asynchronous.as_mut().expect("async");
    a.queue_worker.replicas = 4;
    let run = traced(&loaded);
    let took: BTreeSet<&str> = run
        .result
        .trace
        .iter()
        .filter(|line| line.what.contains("ends 200 (handler) after"))
        .filter_map(|line| line.what.split(" after ").nth(1))
        .collect();
    assert_eq!(took.len(), 4, "{took:?}");
}
