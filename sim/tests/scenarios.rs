//! The shipped scenarios (`scenarios/*.yaml`) and the outcomes they must keep: one test per file,
//! named after the domain.md mechanism it shows. Each test pins the status counts, the outcome
//! classes, the causes, the violated properties by name and the timings that make the mechanism
//! recognisable, so a change to the model that alters what a scenario demonstrates fails here.
//!
//! Counts that depend on random choices (which endpoint the provider picks, a range drawn for the
//! start-up time) are pinned with the seed the file sets; the structure around them (which pod,
//! in which window, with which cause) is asserted for every request.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use faasim_model::config::Method;
use faasim_model::ledger::{Cause, Outcome, Record, Status};
use faasim_model::time::{NS_PER_MS, NS_PER_S, Nanos};
use faasim_sim::scenario::{self, Scenario};
use faasim_sim::world::{PodEnd, PodSummary};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate};

// ------------------------------------------------------------------------------------ helpers

/// Every scenario file this test binary pins, so none ships untested.
const SHIPPED: [&str; 18] = [
    "go-long.yaml",
    "go-long-ce.yaml",
    "go-long-fixed-wait.yaml",
    "go-long-fixed-wait-ce.yaml",
    "mechanism-02-routed-after-listener-closed.yaml",
    "mechanism-03-keep-alive-race.yaml",
    "mechanism-03-keep-alive-race-get.yaml",
    "mechanism-05-exec-timeout.yaml",
    "mechanism-05-exec-timeout-streaming.yaml",
    "mechanism-06-write-timeout-below-exec-timeout.yaml",
    "mechanism-08-gateway-upstream-timeout.yaml",
    "mechanism-11-client-timeout-cold-start.yaml",
    "mechanism-13-child-exits-on-sigterm.yaml",
    "mechanism-18-rolling-update.yaml",
    "mechanism-19-scale-to-zero-no-endpoints.yaml",
    "mechanism-19-scale-from-zero.yaml",
    "mechanism-22-spot-node.yaml",
    "mechanism-25-healthcheck-interval-zero.yaml",
];

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Loads `scenarios/<file>`, failing the test with the loader's one-line error.
fn load(file: &str) -> Scenario {
    let path = scenarios_dir().join(file);
    scenario::load(&path).unwrap_or_else(|error| panic!("{error}"))
}

/// Runs a loaded scenario with its own seed and limit, as `faasim run` does.
fn run_scenario(s: &Scenario) -> Run {
    simulate(
        &s.config,
        &s.events,
        s.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        s.seed.unwrap_or(DEFAULT_SEED),
        false,
    )
}

fn run(file: &str) -> Run {
    run_scenario(&load(file))
}

fn s(seconds: u64) -> Nanos {
    seconds * NS_PER_S
}

fn ms(millis: u64) -> Nanos {
    millis * NS_PER_MS
}

/// One network hop at the default round trip (`network.rtt: 500us`): 250 µs. A request from a
/// fresh connection reaches the gateway after a dial (SYN, SYN-ACK, the request: 3 hops), a pod
/// after 3 more when the provider dials, 1 when it reuses a connection; each answer is 2 hops
/// back to the client.
const HOP: Nanos = 250_000;

/// `n` default hops.
fn hops(n: u64) -> Nanos {
    n * HOP
}

fn status_name(status: Option<Status>) -> String {
    match status {
        Some(Status::Code(code)) => code.to_string(),
        Some(Status::Error) => "error".to_string(),
        None => "none".to_string(),
    }
}

/// Count per status, as `"200"`, `"500"`, `"error"`.
fn statuses(run: &Run) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for record in &run.result.ledger {
        *counts.entry(status_name(record.status)).or_insert(0) += 1;
    }
    counts
}

/// Count per outcome class, by report name.
fn outcomes(run: &Run) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for record in &run.result.ledger {
        *counts.entry(record.outcome.name()).or_insert(0) += 1;
    }
    counts
}

/// Count per cause.
fn causes(run: &Run) -> BTreeMap<Cause, usize> {
    let mut counts = BTreeMap::new();
    for record in &run.result.ledger {
        let cause = record.cause.expect("every request is finished");
        *counts.entry(cause).or_insert(0) += 1;
    }
    counts
}

/// Names of the violated properties, in report order.
fn violated(run: &Run) -> Vec<&'static str> {
    run.violations.iter().map(|v| v.property.name()).collect()
}

/// Request ids that violate the property named `name`.
fn violators(run: &Run, name: &str) -> Vec<u32> {
    run.violations
        .iter()
        .find(|v| v.property.name() == name)
        .map(|v| v.requests.clone())
        .unwrap_or_default()
}

fn counts<K: Ord, const N: usize>(pairs: [(K, usize); N]) -> BTreeMap<K, usize> {
    pairs.into_iter().collect()
}

fn strings<const N: usize>(pairs: [(&str, usize); N]) -> BTreeMap<String, usize> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn end(record: &Record) -> Nanos {
    record.end_ns.expect("request finished")
}

fn latency(record: &Record) -> Nanos {
    end(record) - record.start_ns
}

fn with_status(run: &Run, code: u16) -> Vec<&Record> {
    run.result
        .ledger
        .iter()
        .filter(|r| r.status == Some(Status::Code(code)))
        .collect()
}

fn with_cause(run: &Run, cause: Cause) -> Vec<&Record> {
    run.result
        .ledger
        .iter()
        .filter(|r| r.cause == Some(cause))
        .collect()
}

fn pod_of<'a>(run: &'a Run, record: &Record) -> &'a PodSummary {
    let id = record.pod.expect("request was routed to a pod");
    &run.result.pods[id as usize]
}

fn pod_named<'a>(run: &'a Run, name: &str) -> &'a PodSummary {
    run.result
        .pods
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no pod {name}"))
}

/// The one pod a scale-down or eviction terminated.
fn only_terminated(run: &Run) -> &PodSummary {
    let terminated: Vec<&PodSummary> = run.result.pods.iter().filter(|p| p.terminating).collect();
    assert_eq!(terminated.len(), 1, "exactly one pod is terminated");
    terminated[0]
}

fn assert_within(actual_ns: Nanos, expected_ns: Nanos, tolerance_ns: Nanos, what: &str) {
    assert!(
        actual_ns.abs_diff(expected_ns) <= tolerance_ns,
        "{what}: {actual_ns} ns is not within {tolerance_ns} ns of {expected_ns} ns"
    );
}

// ------------------------------------------------------------------------------ the catalogue

#[test]
fn every_shipped_scenario_is_pinned_here() {
    let mut on_disk: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/ exists") {
        let name = entry.expect("readable entry").file_name();
        let name = name.to_string_lossy().to_string();
        if name.starts_with("go-long") || name.starts_with("mechanism-") {
            on_disk.insert(name);
        }
    }
    let pinned: BTreeSet<String> = SHIPPED.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, pinned);
    for file in SHIPPED {
        let loaded = load(file);
        assert!(loaded.seed.is_some(), "{file} pins its seed");
        assert!(loaded.warnings.is_empty(), "{file}: {:?}", loaded.warnings);
    }
}

// ------------------------------------------------------------------------------------ go-long

/// domain.md §5: hey's table for the seed run, 10 x 200 at about 94.7 s each, 189.4 s in all,
/// and the drained pod exiting on its own (no SIGKILL) right after its last request.
#[test]
fn go_long_reproduces_the_seed_hey_table() {
    let run = run("go-long.yaml");
    assert_eq!(statuses(&run), strings([("200", 10)]));
    assert_eq!(outcomes(&run), counts([("ok", 10)]));
    assert_eq!(causes(&run), counts([(Cause::Handler, 10)]));
    assert!(violated(&run).is_empty(), "{:?}", violated(&run));

    let ledger = &run.result.ledger;
    for record in ledger {
        assert_within(latency(record), ms(94_700), s(1), "each request's latency");
    }
    let first = ledger.iter().map(|r| r.start_ns).min().unwrap();
    let last = ledger.iter().map(end).max().unwrap();
    assert_within(last - first, ms(189_400), s(2), "total");

    // Wave 1 on the first pod, wave 2 on the pod the gateway scaled up from zero.
    let drained = &run.result.pods[0];
    assert!(drained.terminating);
    assert_eq!(drained.end, PodEnd::Exited);
    assert_eq!(drained.killed_with, 0);
    let on_drained: Vec<&Record> = ledger.iter().filter(|r| r.pod == Some(0)).collect();
    assert_eq!(on_drained.len(), 5);
    let last_on_drained = on_drained.iter().map(|r| end(r)).max().unwrap();
    let exit = drained.end_ns.expect("exited");
    assert!(
        exit >= last_on_drained && exit - last_on_drained <= s(1),
        "the pod exits within 1 s of its last request: {exit} vs {last_on_drained}"
    );
    assert_eq!(run.result.pods.len(), 2);
    assert_eq!(run.result.pods[1].end, PodEnd::Running);
}

/// domain.md §5 with CE's 30 s grace (mechanism 1): SIGKILL at 30 s + 30 s drops wave 1.
#[test]
fn mechanism_01_go_long_on_ce_grace_is_sigkilled_mid_call() {
    let run = run("go-long-ce.yaml");
    assert_eq!(run.result.ledger.len(), 10);
    assert_eq!(statuses(&run), strings([("200", 5), ("500", 5)]));
    assert_eq!(outcomes(&run), counts([("dropped", 5), ("ok", 5)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 5), (Cause::Sigkill, 5)])
    );
    assert_eq!(violated(&run), ["no-dropped-in-flight", "graceful-exit"]);
    assert_eq!(violators(&run, "no-dropped-in-flight"), [0, 1, 2, 3, 4]);

    for record in with_status(&run, 500) {
        assert_eq!(record.cause, Some(Cause::Sigkill));
        assert_eq!(record.outcome, Outcome::Dropped);
        assert_eq!(record.lost, Some(Cause::Sigkill));
        assert_eq!(record.start_ns, 0, "a wave-1 call");
        assert_eq!(
            end(record),
            s(60) + hops(2),
            "scale at 30 s + 30 s grace, and the EOF's 2 hops back"
        );
    }
    for record in with_status(&run, 200) {
        assert_eq!(
            record.start_ns,
            s(60) + hops(2),
            "sent when the first call failed"
        );
        assert_within(latency(record), ms(94_600), s(1), "cold start + 90 s");
    }
    let killed = &run.result.pods[0];
    assert_eq!(killed.end, PodEnd::Killed);
    assert_eq!(killed.end_ns, Some(s(60)));
    assert_eq!(killed.killed_with, 5);
    assert_eq!(
        run.violations[1].pods,
        vec![killed.name.clone()],
        "graceful-exit names the killed pod"
    );
}

/// domain.md §2b / mechanism 15: the old watchdog on G = 152 < 2W loses nothing but is
/// always SIGKILLed, here with nothing in flight.
#[test]
fn mechanism_15_fixed_wait_watchdog_on_pro_grace_is_killed_idle() {
    let run = run("go-long-fixed-wait.yaml");
    assert_eq!(statuses(&run), strings([("200", 10)]));
    assert_eq!(outcomes(&run), counts([("ok", 10)]));
    assert_eq!(causes(&run), counts([(Cause::Handler, 10)]));
    assert_eq!(violated(&run), ["graceful-exit"]);
    for record in &run.result.ledger {
        assert_within(latency(record), ms(94_700), s(1), "each request's latency");
    }
    let old = &run.result.pods[0];
    assert!(old.terminating);
    assert_eq!(old.end, PodEnd::Killed);
    assert_eq!(old.end_ns, Some(s(30 + 152)), "SIGKILL at ts + G");
    assert_eq!(old.killed_with, 0, "killed with nothing in flight");
    let last_on_old = run
        .result
        .ledger
        .iter()
        .filter(|r| r.pod == Some(0))
        .map(end)
        .max()
        .unwrap();
    assert!(
        s(182) - last_on_old > s(80),
        "the pod idles for over a minute after its last request before being killed"
    );
}

/// domain.md §5: "Old fixed-wait watchdog + G=30: identical loss".
#[test]
fn mechanism_15_fixed_wait_watchdog_on_ce_grace_drops_the_first_wave() {
    let run = run("go-long-fixed-wait-ce.yaml");
    assert_eq!(statuses(&run), strings([("200", 5), ("500", 5)]));
    assert_eq!(outcomes(&run), counts([("dropped", 5), ("ok", 5)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 5), (Cause::Sigkill, 5)])
    );
    assert_eq!(violated(&run), ["no-dropped-in-flight", "graceful-exit"]);
    for record in with_cause(&run, Cause::Sigkill) {
        assert_eq!(record.status, Some(Status::Code(500)));
        assert_eq!(end(record), s(60) + hops(2));
    }
    let killed = &run.result.pods[0];
    assert_eq!(
        (killed.end, killed.end_ns, killed.killed_with),
        (PodEnd::Killed, Some(s(60)), 5)
    );
}

// ------------------------------------------------------------------------ mechanisms 2 and 3

/// Mechanism 2: endpoint lag 5 s > hc 2 s. Refusals exactly in [ts + hc, ts + lag).
#[test]
fn mechanism_02_routed_after_listener_closed_is_refused() {
    let run = run("mechanism-02-routed-after-listener-closed.yaml");
    assert_eq!(statuses(&run), strings([("200", 380), ("500", 20)]));
    assert_eq!(outcomes(&run), counts([("ok", 380), ("refused", 20)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 380), (Cause::ConnectionRefused, 20)])
    );
    assert_eq!(violated(&run), ["no-refused-routing"]);

    let victim = only_terminated(&run);
    assert_eq!(victim.end, PodEnd::Exited, "it drains and exits on its own");
    assert_eq!(
        victim.end_ns,
        Some(s(12)),
        "at ts + hc, with nothing in flight"
    );
    for record in with_status(&run, 500) {
        assert_eq!(pod_of(&run, record).name, victim.name);
        assert!(
            (s(12)..s(15)).contains(&record.start_ns),
            "refused only between the listener closing and the view dropping the pod: {}",
            record.start_ns
        );
        assert_eq!(
            latency(record),
            hops(6),
            "a refused dial answers in a round trip, after the client's own dial and before the hop back"
        );
        assert!(!record.retried);
    }
    // Before ts + hc the listener is still open: the victim serves what it is sent.
    let served_while_draining = run
        .result
        .ledger
        .iter()
        .filter(|r| r.outcome == Outcome::Ok && pod_of(&run, r).name == victim.name)
        .filter(|r| (s(10)..s(12)).contains(&r.start_ns))
        .count();
    assert!(served_while_draining > 0);
}

/// Mechanism 3 (POST): the provider writes on a pooled connection the watchdog closed at
/// ts + hc, within one round trip. No retry for a POST: 500 keep-alive reset.
#[test]
fn mechanism_03_keep_alive_race_resets_a_post_without_retry() {
    let loaded = load("mechanism-03-keep-alive-race.yaml");
    assert_eq!(loaded.config.load.method, Method::Post);
    let run = run_scenario(&loaded);
    assert_eq!(statuses(&run), strings([("200", 241), ("500", 159)]));
    assert_eq!(outcomes(&run), counts([("ok", 241), ("refused", 159)]));
    assert_eq!(
        causes(&run),
        counts([
            (Cause::Handler, 241),
            (Cause::ConnectionRefused, 156),
            (Cause::KeepAliveReset, 3)
        ])
    );
    assert_eq!(violated(&run), ["no-refused-routing"]);

    let victim = only_terminated(&run);
    let close = s(12);
    let hop = loaded.config.network.rtt_ns / 2;
    assert_eq!(hop, ms(3));
    // hey dials per request: the provider writes it 3 hops after the client sent it.
    let to_provider = 3 * hop;
    for record in with_cause(&run, Cause::KeepAliveReset) {
        assert_eq!(record.status, Some(Status::Code(500)));
        assert_eq!(pod_of(&run, record).name, victim.name);
        let written = record.start_ns + to_provider;
        assert!(
            (close - hop..close + hop).contains(&written),
            "written on a pooled connection that reaches the pod after closeIdleConns, before its FIN is back: {written}"
        );
        assert!(!record.retried, "a POST with a body is never retried");
        // The reset comes back a round trip after the write, then a hop to the client.
        assert_eq!(end(record), written + 3 * hop);
    }
    for record in with_cause(&run, Cause::ConnectionRefused) {
        assert_eq!(pod_of(&run, record).name, victim.name);
        let written = record.start_ns + to_provider;
        assert!((close - hop..s(13)).contains(&written));
    }
}

/// Mechanism 3 (GET): the same race, retried once on a new dial, which meets the closed
/// listener: the retry does not save it. Same seed, same requests fail as with POST.
#[test]
fn mechanism_03_keep_alive_race_retries_a_get_into_the_closed_listener() {
    let get = run("mechanism-03-keep-alive-race-get.yaml");
    assert_eq!(statuses(&get), strings([("200", 241), ("500", 159)]));
    assert_eq!(
        causes(&get),
        counts([
            (Cause::Handler, 241),
            (Cause::ConnectionRefused, 156),
            (Cause::KeepAliveReset, 3)
        ])
    );
    assert_eq!(violated(&get), ["no-refused-routing"]);
    let resets = with_cause(&get, Cause::KeepAliveReset);
    assert!(
        resets
            .iter()
            .all(|r| r.retried && r.outcome == Outcome::Refused)
    );
    assert_eq!(get.result.ledger.iter().filter(|r| r.retried).count(), 3);

    let post = run("mechanism-03-keep-alive-race.yaml");
    let failed = |run: &Run| -> Vec<u32> {
        run.result
            .ledger
            .iter()
            .filter(|r| r.outcome != Outcome::Ok)
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(failed(&get), failed(&post));
}

// -------------------------------------------------------------------- timers: 5, 6, 8 and 11

/// Mechanism 5, HTTP mode: D = 12 s > E = 10 s gives the watchdog's 504 at 10 s.
#[test]
fn mechanism_05_exec_timeout_gives_504_in_http_mode() {
    let run = run("mechanism-05-exec-timeout.yaml");
    assert_eq!(statuses(&run), strings([("504", 4)]));
    assert_eq!(outcomes(&run), counts([("timed-out", 4)]));
    assert_eq!(causes(&run), counts([(Cause::ExecTimeout, 4)]));
    assert_eq!(violated(&run), ["no-timeout"]);
    // The first two dial twice (8 hops in all); the next two reuse both connections (4 hops).
    let ends: Vec<Nanos> = run.result.ledger.iter().map(end).collect();
    let (first, next) = (s(10) + hops(8), s(10) + hops(4));
    assert_eq!(ends, [first, first, first + next, first + next]);
    let latencies: Vec<Nanos> = run.result.ledger.iter().map(latency).collect();
    assert_eq!(latencies, [first, first, next, next]);
}

/// Mechanism 5, streaming mode: the process is killed at E; the status 200 was implicit, so the
/// client sees 200 with an empty body, yet the request timed out.
#[test]
fn mechanism_05_exec_timeout_gives_empty_200_in_streaming_mode() {
    let run = run("mechanism-05-exec-timeout-streaming.yaml");
    assert_eq!(statuses(&run), strings([("200", 4)]));
    assert_eq!(outcomes(&run), counts([("timed-out", 4)]));
    assert_eq!(causes(&run), counts([(Cause::ExecTimeout, 4)]));
    assert_eq!(violated(&run), ["no-timeout"]);
    let latencies: Vec<Nanos> = run.result.ledger.iter().map(latency).collect();
    let (first, next) = (s(10) + hops(8), s(10) + hops(4));
    assert_eq!(latencies, [first, first, next, next]);
}

/// Mechanism 6: W = 10 s < D = 20 s < E = 30 s. The response is lost; the provider sees EOF
/// when the handler returns (20 s), not at the write timeout (10 s).
#[test]
fn mechanism_06_write_timeout_below_exec_timeout_loses_the_response_at_handler_end() {
    let run = run("mechanism-06-write-timeout-below-exec-timeout.yaml");
    assert_eq!(statuses(&run), strings([("500", 4)]));
    assert_eq!(outcomes(&run), counts([("timed-out", 4)]));
    assert_eq!(causes(&run), counts([(Cause::WatchdogWriteTimeout, 4)]));
    assert_eq!(violated(&run), ["no-timeout"]);
    // The failed write closes the connection to the pod: the next call dials it again
    // (6 hops: the client's connection is reused).
    let latencies: Vec<Nanos> = run.result.ledger.iter().map(latency).collect();
    let (first, next) = (s(20) + hops(8), s(20) + hops(6));
    assert_eq!(latencies, [first, first, next, next]);
}

/// Mechanism 8: U = 1m < D = 90 s. 502 from the gateway at 60 s.
#[test]
fn mechanism_08_gateway_upstream_timeout_gives_502_at_60_s() {
    let run = run("mechanism-08-gateway-upstream-timeout.yaml");
    assert_eq!(statuses(&run), strings([("502", 4)]));
    assert_eq!(outcomes(&run), counts([("timed-out", 4)]));
    assert_eq!(causes(&run), counts([(Cause::UpstreamTimeout, 4)]));
    assert_eq!(violated(&run), ["no-timeout"]);
    // The gateway's timer runs from its forward: the client's dial before it, a hop after it.
    let latencies: Vec<Nanos> = run.result.ledger.iter().map(latency).collect();
    let (first, next) = (s(60) + hops(4), s(60) + hops(2));
    assert_eq!(latencies, [first, first, next, next]);
}

/// Mechanism 11: Tc = 12 s < T_cold (about 5.2 s) + D (10 s). The first calls time out at the
/// client with no status; the next ones find the pod warm.
#[test]
fn mechanism_11_client_timeout_shorter_than_cold_start_plus_handler() {
    let run = run("mechanism-11-client-timeout-cold-start.yaml");
    assert_eq!(statuses(&run), strings([("200", 2), ("error", 2)]));
    assert_eq!(outcomes(&run), counts([("ok", 2), ("timed-out", 2)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::ClientTimeout, 2), (Cause::Handler, 2)])
    );
    assert_eq!(violated(&run), ["no-timeout"]);
    assert_eq!(violators(&run, "no-timeout"), [0, 1]);
    for record in with_cause(&run, Cause::ClientTimeout) {
        assert_eq!(record.status, Some(Status::Error));
        assert_eq!((record.start_ns, end(record)), (0, s(12)));
    }
    for record in with_status(&run, 200) {
        // The client dropped its connection at the timeout: two dials, 8 hops.
        assert_eq!((record.start_ns, latency(record)), (s(12), s(10) + hops(8)));
    }
}

// ------------------------------------------------------------------------------ mechanism 13

/// Mechanism 13: the HTTP-mode child has no SIGTERM handler and dies on the forwarded signal;
/// the watchdog `log.Fatalf`s: in-flight calls get 500 at the SIGTERM instant, the pod exits
/// on its own (no SIGKILL).
#[test]
fn mechanism_13_child_exits_on_sigterm_drops_in_flight_at_once() {
    let run = run("mechanism-13-child-exits-on-sigterm.yaml");
    assert_eq!(statuses(&run), strings([("200", 3), ("500", 5)]));
    assert_eq!(
        outcomes(&run),
        counts([("dropped", 3), ("ok", 3), ("refused", 2)])
    );
    assert_eq!(
        causes(&run),
        counts([
            (Cause::Handler, 3),
            (Cause::ConnectionRefused, 2),
            (Cause::ChildExited, 3)
        ])
    );
    assert_eq!(
        violated(&run),
        ["no-dropped-in-flight", "no-refused-routing"]
    );

    let victim = only_terminated(&run);
    assert_eq!(
        victim.end,
        PodEnd::Exited,
        "the watchdog exits, it is not killed"
    );
    assert_eq!(victim.end_ns, Some(s(5)), "at the SIGTERM instant");
    for record in with_cause(&run, Cause::ChildExited) {
        assert_eq!(record.status, Some(Status::Code(500)));
        assert_eq!(record.outcome, Outcome::Dropped);
        assert_eq!(record.start_ns, 0);
        assert_eq!(
            end(record),
            s(5) + hops(2),
            "dropped at SIGTERM, 5 s into a 10 s call"
        );
        assert_eq!(pod_of(&run, record).name, victim.name);
    }
    for record in with_cause(&run, Cause::ConnectionRefused) {
        assert_eq!(pod_of(&run, record).name, victim.name);
        // The FINs of the exit are back at the provider before the resent call comes: it
        // dials the dead pod, still in its view, and is refused a round trip later.
        assert_eq!(
            (record.start_ns, end(record)),
            (s(5) + hops(2), s(5) + hops(6)),
            "resent at once, while the dead pod is still in the provider's view"
        );
    }
}

// ------------------------------------------------------------------------------ mechanism 18

/// Mechanism 18: maxSurge 1 / maxUnavailable 0 rollout of three replicas with lag 5 s > hc 2 s.
/// Each old pod is deleted when a new one is Ready (5 to 7 s after the one before, from 10 s)
/// and refuses what it is sent between 2 s and 5 s after its deletion.
#[test]
fn mechanism_18_rolling_update_refuses_on_each_old_pod() {
    let scenario = load("mechanism-18-rolling-update.yaml");
    let run = faasim_sim::simulate_scenario(&scenario, scenario.seed.unwrap_or(DEFAULT_SEED), true);
    assert_eq!(statuses(&run), strings([("200", 1139), ("500", 61)]));
    assert_eq!(outcomes(&run), counts([("ok", 1139), ("refused", 61)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 1139), (Cause::ConnectionRefused, 61)])
    );
    assert_eq!(violated(&run), ["no-refused-routing"]);

    let pods = &run.result.pods;
    assert_eq!(pods.len(), 6);
    let old: Vec<&PodSummary> = pods.iter().filter(|p| p.revision == 1).collect();
    let new: Vec<&PodSummary> = pods.iter().filter(|p| p.revision == 2).collect();
    assert_eq!((old.len(), new.len()), (3, 3));
    assert!(old.iter().all(|p| p.terminating && p.end == PodEnd::Exited));
    assert!(
        new.iter()
            .all(|p| !p.terminating && p.end == PodEnd::Running)
    );

    // Rollout at 10 s, start-up 3 s, then the kubelet's prober passes the new pod at its first
    // tick at least 2 s after its container starts (2 to 4 s, the phase a draw per pod): each
    // old pod is deleted when the new one is ready, 5 to 7 s apart.
    let deleted_at: BTreeMap<&str, Nanos> = ["api-r1-0", "api-r1-1", "api-r1-2"]
        .into_iter()
        .map(|name| {
            let line = run
                .result
                .trace
                .iter()
                .find(|t| t.who == name && t.what.starts_with("deleted"))
                .unwrap_or_else(|| panic!("{name} is deleted"));
            (name, line.at_ns)
        })
        .collect();
    let steps: Vec<Nanos> = [s(10)]
        .into_iter()
        .chain(deleted_at.values().copied())
        .collect();
    for pair in steps.windows(2) {
        let step = pair[1] - pair[0];
        assert!(
            (s(5)..s(7)).contains(&step),
            "a new pod is ready 3 s + 2 to 4 s after its creation, not {step} ns"
        );
    }
    let mut per_pod: BTreeMap<String, usize> = BTreeMap::new();
    for record in with_status(&run, 500) {
        let pod = pod_of(&run, record);
        let deleted = deleted_at[pod.name.as_str()];
        assert!(
            (deleted + s(2)..deleted + s(5)).contains(&record.start_ns),
            "{} refused at {} outside [deletion + hc, deletion + lag)",
            pod.name,
            record.start_ns
        );
        *per_pod.entry(pod.name.clone()).or_insert(0) += 1;
    }
    assert_eq!(
        per_pod,
        strings([("api-r1-0", 18), ("api-r1-1", 25), ("api-r1-2", 18)])
    );
}

// ------------------------------------------------------------------------------ mechanism 19

/// Mechanism 19 with scale_from_zero off: after the pod leaves the provider's view, 503 "No
/// endpoints" at once, routed nowhere.
#[test]
fn mechanism_19_scale_to_zero_without_scale_from_zero_rejects_with_503() {
    let run = run("mechanism-19-scale-to-zero-no-endpoints.yaml");
    assert_eq!(statuses(&run), strings([("200", 10), ("503", 10)]));
    assert_eq!(outcomes(&run), counts([("ok", 10), ("rejected", 10)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 10), (Cause::NoEndpoints, 10)])
    );
    assert_eq!(violated(&run), ["no-rejection"]);
    assert_eq!(
        violators(&run, "no-rejection"),
        (10..20).collect::<Vec<_>>()
    );
    for record in with_status(&run, 503) {
        assert_eq!(record.pod, None, "no endpoint to route to");
        assert!(record.start_ns > s(10) + ms(150));
        assert_eq!(
            latency(record),
            hops(4),
            "the client's dial and the hop back"
        );
    }
    assert_eq!(run.result.pods.len(), 1, "nothing scales it back up");
}

/// Mechanism 19 prevented: with scale_from_zero on, the gateway scales back to one replica and
/// holds the requests until it is ready, then they succeed.
#[test]
fn mechanism_19_scale_from_zero_holds_requests_through_the_cold_start() {
    let run = run("mechanism-19-scale-from-zero.yaml");
    assert_eq!(statuses(&run), strings([("200", 20)]));
    assert_eq!(outcomes(&run), counts([("ok", 20)]));
    assert!(violated(&run).is_empty(), "{:?}", violated(&run));
    assert_eq!(
        run.result.pods.len(),
        2,
        "a new pod for the scale from zero"
    );
    let ledger = &run.result.ledger;
    // Requests 10..=15 (10.5 s to 15.5 s) are held until the new pod is seen at 16.44 s and
    // forwarded at their next poll (16.5 s); each then takes the 100 ms handler. The new pod
    // listens at 12.5 s and the kubelet's prober passes it at its first tick at least 2 s
    // later: with this seed's phase 16.29 s, 1.8 s past 14.5 s. Request 16, sent at 16.5 s,
    // goes straight to it, one of its first calls. hey dials for every request (3 hops to the
    // gateway); the provider dials each new pod's first calls (3 hops, else 1), and the
    // answer takes 2.
    for record in &ledger[10..17] {
        assert_eq!(record.pod, Some(1));
        assert_eq!(end(record), ms(16_600) + hops(8));
        assert!(latency(record) > ms(100));
    }
    assert_eq!(
        latency(&ledger[10]),
        ms(6_100) + hops(8),
        "the longest hold"
    );
    assert_eq!(
        latency(&ledger[0]),
        ms(100) + hops(8),
        "the pod's first call"
    );
    for record in ledger[1..10].iter().chain(&ledger[17..]) {
        assert_eq!(latency(record), ms(100) + hops(6), "not held");
    }
}

// ------------------------------------------------------------------------------ mechanism 22

/// Mechanism 22: a 30 s reclaim notice is shorter than hc + D (10 + 60 s). The node dies with
/// three calls in flight; with no FIN they hang until the gateway's upstream_timeout (502).
#[test]
fn mechanism_22_spot_node_dies_before_its_calls_finish() {
    let run = run("mechanism-22-spot-node.yaml");
    assert_eq!(statuses(&run), strings([("200", 5), ("502", 3)]));
    assert_eq!(outcomes(&run), counts([("dropped", 3), ("ok", 5)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 5), (Cause::UpstreamTimeout, 3)])
    );
    assert_eq!(violated(&run), ["no-dropped-in-flight", "graceful-exit"]);

    let evicted = only_terminated(&run);
    assert_eq!(evicted.name, "batch-r1-0");
    assert_eq!(evicted.end, PodEnd::Killed);
    assert_eq!(
        evicted.end_ns,
        Some(s(50)),
        "the node dies 30 s after the notice"
    );
    assert_eq!(evicted.killed_with, 3);
    for record in with_status(&run, 502) {
        assert_eq!(record.lost, Some(Cause::NodeLost));
        assert_eq!(record.outcome, Outcome::Dropped);
        assert_eq!(pod_of(&run, record).name, evicted.name);
        assert_eq!(
            (record.start_ns, end(record)),
            (0, s(120) + hops(4)),
            "the upstream timeout from the gateway's forward"
        );
    }
    // The replacement pod was scheduled away from the reclaimed node and served calls.
    assert_eq!(pod_named(&run, "batch-r1-2").end, PodEnd::Running);
    assert!(
        with_status(&run, 200)
            .iter()
            .any(|r| pod_of(&run, r).name == "batch-r1-2")
    );
}

// ------------------------------------------------------------------------------ mechanism 25

/// Mechanism 25: healthcheck_interval 0. Neither the watchdog nor the child ever closes its
/// listener: calls routed during the endpoint lag are served, not refused, and the pod is
/// SIGKILLed at grace end with what it still runs.
#[test]
fn mechanism_25_healthcheck_interval_zero_never_exits_and_is_sigkilled() {
    let loaded = load("mechanism-25-healthcheck-interval-zero.yaml");
    let run = run_scenario(&loaded);
    assert_eq!(statuses(&run), strings([("200", 38), ("500", 2)]));
    assert_eq!(outcomes(&run), counts([("dropped", 2), ("ok", 38)]));
    assert_eq!(
        causes(&run),
        counts([(Cause::Handler, 38), (Cause::Sigkill, 2)])
    );
    assert_eq!(violated(&run), ["no-dropped-in-flight", "graceful-exit"]);

    let victim = only_terminated(&run);
    assert_eq!(victim.end, PodEnd::Killed);
    assert_eq!(victim.end_ns, Some(s(40)), "SIGKILL at ts + 30 s grace");
    assert_eq!(victim.killed_with, 2);
    let starts: Vec<Nanos> = with_cause(&run, Cause::Sigkill)
        .iter()
        .map(|r| r.start_ns)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(starts, [ms(15_500), ms(17_500)]);
    // After SIGTERM the victim accepted and completed calls (a closed listener would refuse).
    assert!(run.result.ledger.iter().any(|r| r.outcome == Outcome::Ok
        && pod_of(&run, r).name == victim.name
        && r.start_ns > s(10)));

    // The same run with healthcheck_interval 5 s: the listener closes at 15 s, so those late
    // calls are refused instead, and the pod drains and exits on its own before grace ends.
    let mut positive = loaded.clone();
    positive.config.function.watchdog.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    positive.config.function.child.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    let contrast = run_scenario(&positive);
    assert_eq!(violated(&contrast), ["no-refused-routing"]);
    let victim = only_terminated(&contrast);
    assert_eq!(victim.end, PodEnd::Exited);
    assert!(victim.end_ns.unwrap() < s(40));
}

// ------------------------------------------------------------------- verdicts and run warnings

/// A run cut by its limit with requests in flight is `unfinished`, not `pass`; the report says
/// how many were cut.
#[test]
fn a_run_cut_by_its_limit_is_unfinished() {
    let text =
        "limit: 1s\nfunction:\n  handler: {duration: 5s}\nload: {concurrency: 2, requests: 2}\n";
    let loaded = scenario::parse(text, "scenarios/cut.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    assert_eq!(run.unfinished(), 2);
    assert_eq!(run.verdict(), faasim_sim::Verdict::Unfinished);
    let header = faasim_sim::report::Header::of_run(&loaded, &run);
    let text = faasim_sim::report::text(&run, &header);
    assert!(
        text.contains("Verdict: unfinished (2 requests still in flight"),
        "{text}"
    );
    let json = faasim_sim::report::json(&run, &header);
    assert!(json.contains("\"verdict\": \"unfinished\""), "{json}");
    assert_eq!(run.result.end_ns, s(1), "a run cut by its limit ends at it");
}

/// The limit includes its own instant: an open loop of 10 requests/s under `limit: 1s` sends
/// the request due at exactly 1 s (the eleventh), and none after.
#[test]
fn a_request_due_at_the_limits_instant_is_sent() {
    let text = "limit: 1s\nfunction:\n  handler: {duration: 5s}\nload: {concurrency: 1, rate: 10, requests: 20}\n";
    let loaded = scenario::parse(text, "scenarios/at-limit.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    let starts: Vec<Nanos> = run.result.ledger.iter().map(|r| r.start_ns).collect();
    assert_eq!(starts.len(), 11, "{starts:?}");
    assert_eq!(starts.last(), Some(&s(1)));
    assert_eq!(run.result.end_ns, s(1));
}

/// Events that meet no traffic and a `killPod` that kills nothing are warnings in the report.
#[test]
fn vacuous_events_and_missing_pods_are_warned() {
    let text = "load: {concurrency: 10, requests: 200}\nevents:\n  - {at: 5s, rollout: {}}\n  - {at: 6s, killPod: {pod: fn-r9-9}}\n";
    let loaded = scenario::parse(text, "scenarios/vacuous.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    let warnings = faasim_sim::report::run_warnings(&loaded, &run);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("events: no request was in flight")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("events[1].killPod.pod: no pod `fn-r9-9`")),
        "{warnings:?}"
    );
    // A load that starts after the limit sends nothing: said so.
    let late = "limit: 1s\nload: {start: 2s, concurrency: 1, requests: 3}\n";
    let loaded = scenario::parse(late, "scenarios/late.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    let warnings = faasim_sim::report::run_warnings(&loaded, &run);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("load.requests: 3 of the 3 requests were never sent")),
        "{warnings:?}"
    );
    // The same load meeting the event: no warning.
    let busy = "load: {concurrency: 10, requests: 200}\nevents:\n  - {at: 10ms, rollout: {}}\n";
    let loaded = scenario::parse(busy, "scenarios/busy.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    assert!(faasim_sim::report::run_warnings(&loaded, &run).is_empty());
}

/// A cancel travels down the chain a hop at a time: with each hop 1 s (`network.rtt: 2s`), the
/// client that gives up at 15 s closes its connection to the gateway, whose cancel reaches the
/// watchdog 2 hops (2 s) later. The watchdog, draining since its SIGTERM at 10 s, has nothing
/// left to wait for then, and exits at its next poll (Shutdown polls at most every 500 ms).
#[test]
fn a_cancel_reaches_the_watchdog_a_hop_at_a_time() {
    let text = "seed: 1
function:
  environment:
    write_timeout: 2m
    read_timeout: 2m
    exec_timeout: 2m
    healthcheck_interval: 1s
  labels:
    com.openfaas.scale.min: 1
    com.openfaas.scale.max: 1
  handler: {duration: 60s}
network: {rtt: 2s}
gateway:
  upstreamTimeout: 3m
  readTimeout: 3m
  writeTimeout: 3m
load: {concurrency: 1, requests: 1, timeout: 15s}
events:
  - {at: 10s, scale: 0}
";
    let loaded = scenario::parse(text, "scenarios/cancel.yaml").expect("parses");
    let run = faasim_sim::simulate_scenario(&loaded, 1, false);
    assert_eq!(
        run.result.ledger[0].end_ns,
        Some(s(15)),
        "the client gives up"
    );
    let pod = &run.result.pods[0];
    assert_eq!(pod.end, PodEnd::Exited);
    let end_ns = pod.end_ns.expect("exited");
    assert!(
        (s(17)..=s(17) + ms(500)).contains(&end_ns),
        "the watchdog exits at {end_ns} ns"
    );
}
