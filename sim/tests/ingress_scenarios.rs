//! An ingress in front of the gateway (`ingress-*.yaml`): the shipped scenario pinned with its
//! seed (504 at the ingress's read timeout while the handler runs on), its control with the
//! read timeout raised (every call succeeds), the gateway's broken connection turned into a
//! 502 by the ingress, and a scenario without an ingress left exactly as it was.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use faasim_model::config::IngressConfig;
use faasim_model::ledger::{Cause, Outcome, Status};
use faasim_model::rules::{self, INGRESS_READ_COVERS_RESPONSE};
use faasim_model::time::{NS_PER_MS, NS_PER_S, Nanos};
use faasim_sim::scenario::{self, Scenario};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate};

/// Every `ingress-*` file this test binary pins, so none ships untested.
const SHIPPED: [&str; 1] = ["ingress-read-timeout.yaml"];

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(file: &str) -> Scenario {
    scenario::load(&scenarios_dir().join(file)).unwrap_or_else(|error| panic!("{error}"))
}

fn run_loaded(s: &Scenario, tracing: bool) -> Run {
    simulate(
        &s.config,
        &s.events,
        s.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        s.seed.unwrap_or(DEFAULT_SEED),
        tracing,
    )
}

fn s(seconds: u64) -> Nanos {
    seconds * NS_PER_S
}

fn violated(run: &Run) -> Vec<&'static str> {
    run.violations.iter().map(|v| v.property.name()).collect()
}

#[test]
fn every_ingress_scenario_is_pinned_here() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/ exists") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.starts_with("ingress-") {
            on_disk.insert(name.to_string());
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

/// 90 s calls behind ingress-nginx's default 60 s proxy-read-timeout: every call ends 504 at
/// the client 60 s (and a hop or two) after it was sent, while each handler runs its 90 s.
#[test]
fn the_ingress_answers_504_at_60_s_while_the_handler_runs_on() {
    let loaded = load("ingress-read-timeout.yaml");
    let broken: Vec<&str> = rules::check(&loaded.config, &loaded.events)
        .iter()
        .map(|b| b.rule.id)
        .collect();
    assert_eq!(broken, vec![INGRESS_READ_COVERS_RESPONSE.id]);
    let run = run_loaded(&loaded, true);
    assert_eq!(run.result.ledger.len(), 4);
    for record in &run.result.ledger {
        assert_eq!(record.status, Some(Status::Code(504)), "{record:?}");
        assert_eq!(record.cause, Some(Cause::IngressReadTimeout));
        assert_eq!(record.outcome, Outcome::TimedOut);
        let took = record.end_ns.expect("finished") - record.start_ns;
        assert!(took >= s(60) && took < s(60) + 2 * NS_PER_MS, "{took}");
    }
    assert_eq!(violated(&run), vec!["no-timeout"]);
    // The second pair of calls is sent at ~60 s; their handlers end at ~150 s, and with them
    // the run: nothing cancelled the handlers.
    let last_sent = run.result.ledger.iter().map(|r| r.start_ns).max().unwrap();
    assert!(
        run.result.end_ns >= last_sent + s(90) && run.result.end_ns < last_sent + s(91),
        "the run ends when the last handler does: {}",
        run.result.end_ns
    );
    let notes = run
        .result
        .trace
        .iter()
        .filter(|l| l.who == "ingress" && l.what.contains("proxy-read-timeout"))
        .count();
    assert_eq!(notes, 4, "the timeline says where each call was cut");
}

/// The control: the same calls behind an ingress whose read timeout outlasts them succeed.
#[test]
fn with_the_read_timeout_raised_the_calls_succeed() {
    let mut loaded = load("ingress-read-timeout.yaml");
    loaded.config.ingress = Some(IngressConfig {
        read_timeout_ns: s(95),
    });
    assert!(rules::check(&loaded.config, &loaded.events).is_empty());
    let run = run_loaded(&loaded, false);
    assert!(run.passed(), "{:?}", violated(&run));
    for record in &run.result.ledger {
        assert_eq!(record.status, Some(Status::Code(200)));
        assert_eq!(record.cause, Some(Cause::Handler));
    }
}

/// The gateway's write_timeout cuts the answer: without an ingress the client sees the
/// connection break with no status; through one, ingress-nginx answers 502.
#[test]
fn a_broken_gateway_connection_becomes_a_502_through_the_ingress() {
    let mut loaded = load("ingress-read-timeout.yaml");
    loaded.config.gateway.write_timeout_ns = s(80);
    loaded.config.ingress = Some(IngressConfig {
        read_timeout_ns: s(95),
    });
    let through = run_loaded(&loaded, false);
    loaded.config.ingress = None;
    let direct = run_loaded(&loaded, false);
    for (with, without) in through.result.ledger.iter().zip(&direct.result.ledger) {
        assert_eq!(with.cause, Some(Cause::GatewayWriteTimeout));
        assert_eq!(with.status, Some(Status::Code(502)));
        assert_eq!(without.cause, Some(Cause::GatewayWriteTimeout));
        assert_eq!(without.status, Some(Status::Error));
        assert_eq!(with.outcome, Outcome::TimedOut);
    }
}

/// The ingress is a hop further from the client each way: the client-timeout rule counts it,
/// and a client that gives up first cancels through the ingress.
#[test]
fn a_client_that_gives_up_first_is_answered_by_its_own_timeout() {
    let mut loaded = load("ingress-read-timeout.yaml");
    loaded.config.load.timeout_ns = s(30);
    let run = run_loaded(&loaded, false);
    for record in &run.result.ledger {
        assert_eq!(record.cause, Some(Cause::ClientTimeout));
        assert_eq!(record.status, Some(Status::Error));
    }
    let through = rules::derive(&loaded.config, &[]).client_call_max_ns;
    loaded.config.ingress = None;
    let direct = rules::derive(&loaded.config, &[]).client_call_max_ns;
    assert_eq!(through - direct, loaded.config.network.rtt_ns);
}

/// The rule's inequality is the model's exact boundary: a read timeout equal to the longest
/// way of the answer (the ingress's hop to the gateway, the provider's dial, 90 s, the way
/// back) cuts the first calls, a nanosecond more lets every call through.
#[test]
fn the_rule_is_the_exact_boundary() {
    let mut loaded = load("ingress-read-timeout.yaml");
    let derived = rules::derive(&loaded.config, &loaded.events);
    let needed = derived.hold_max_ns + derived.ingress_call_max_ns;
    assert_eq!(needed, s(90) + 3 * loaded.config.network.rtt_ns);
    for (read_timeout_ns, broken) in [(needed, true), (needed + 1, false)] {
        loaded.config.ingress = Some(IngressConfig { read_timeout_ns });
        let breaches = rules::check(&loaded.config, &loaded.events);
        assert_eq!(!breaches.is_empty(), broken, "{read_timeout_ns}");
        let run = run_loaded(&loaded, false);
        let cut = run
            .result
            .ledger
            .iter()
            .filter(|r| r.cause == Some(Cause::IngressReadTimeout))
            .count();
        assert_eq!(cut > 0, broken, "{read_timeout_ns}: {cut} cut");
    }
}

/// A connection the gateway refuses (its one pod rolled, the new one not yet routed) is an
/// error with no status to a client that dials it; through an ingress, nginx answers 502.
#[test]
fn a_refused_gateway_connection_becomes_a_502_through_the_ingress() {
    let mut loaded = load("gateway-rollout-ce.yaml");
    let direct = run_loaded(&loaded, false);
    loaded.config.ingress = Some(IngressConfig {
        read_timeout_ns: s(300),
    });
    let through = run_loaded(&loaded, false);
    let mut refused = 0;
    for (with, without) in through.result.ledger.iter().zip(&direct.result.ledger) {
        if without.cause == Some(Cause::GatewayRefused) {
            refused += 1;
            assert_eq!(without.status, Some(Status::Error));
            assert_eq!(
                with.cause,
                Some(Cause::GatewayRefused),
                "request {}",
                with.id
            );
            assert_eq!(with.status, Some(Status::Code(502)), "request {}", with.id);
        }
    }
    assert!(refused > 0, "the rollout refuses some connections");
}
