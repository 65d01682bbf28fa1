//! The shipped scenarios of the gateway's own pods (issue 12): a `helm upgrade` rolls them, the
//! CE gateway exits on SIGTERM and cuts the calls going through it, a gateway that drains loses
//! nothing. Each test pins what the mechanism must show, with the seed its file sets.

use std::path::Path;

use faasim_model::ledger::{Cause, Outcome, Status};
use faasim_model::time::NS_PER_S;
use faasim_sim::scenario;
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, Run, simulate};

/// Runs `scenarios/<file>` with its own seed and limit, as `faasim run` does, with the
/// timeline.
fn run(file: &str) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(file);
    let s = scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    simulate(
        &s.config,
        &s.events,
        s.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        s.seed.unwrap_or(DEFAULT_SEED),
        true,
    )
}

/// The ends of requests with `cause`, in whole seconds, each with how many ended then.
fn ends_by_second(run: &Run, cause: Cause) -> Vec<(u64, usize)> {
    let mut ends: Vec<(u64, usize)> = Vec::new();
    for record in &run.result.ledger {
        if record.cause != Some(cause) {
            continue;
        }
        let second = record.end_ns.expect("ended") / NS_PER_S;
        match ends.last_mut() {
            Some((at, count)) if *at == second => *count += 1,
            _ => ends.push((second, 1)),
        }
    }
    ends
}

/// The timeline's lines of `who`, as "at what".
fn lines_of(run: &Run, who: &str) -> Vec<String> {
    run.result
        .trace
        .iter()
        .filter(|line| line.who == who)
        .map(|line| format!("{} {}", faasim_model::time::stamp(line.at_ns), line.what))
        .collect()
}

/// Rolling a one-replica CE gateway cuts the calls in flight (issue 12's must-hold line):
/// every call through the old pod at its SIGTERM ends with no status, the function running on.
#[test]
fn rolling_a_one_replica_ce_gateway_cuts_every_call_in_flight() {
    let run = run("gateway-rollout-ce.yaml");
    // The old pod goes when the new one is ready: created at 10 s, ready at the probe's first
    // tick after its 2 s start-up (10 s period).
    assert_eq!(
        lines_of(&run, "gateway-1")[..2],
        ["10.000s created (revision 1)", "20.000s ready"]
    );
    assert!(lines_of(&run, "gateway-0").contains(&"20.000s gateway process exited".to_string()));
    // The twenty calls sent at 0..19 s are all in flight at 20 s (each takes 20 s).
    assert_eq!(ends_by_second(&run, Cause::GatewayExited), vec![(20, 20)]);
    for record in &run.result.ledger {
        if record.cause == Some(Cause::GatewayExited) {
            assert_eq!(record.status, Some(Status::Error), "no status: {record:?}");
            assert_eq!(record.outcome, Outcome::Dropped);
            assert!(
                record.pod.is_some(),
                "the function had the call: {record:?}"
            );
        }
    }
    // kube-proxy routes new connections to the gone pod until its view drops it.
    let refused = ends_by_second(&run, Cause::GatewayRefused);
    assert!(
        refused.iter().all(|(at, _)| *at == 20),
        "refused only in the lag: {refused:?}"
    );
    let ok = run
        .result
        .ledger
        .iter()
        .filter(|r| r.outcome == Outcome::Ok)
        .count();
    assert_eq!(ok + 20 + refused.iter().map(|(_, n)| n).sum::<usize>(), 40);
    assert!(!run.passed());
}

/// The same upgrade with a gateway that drains (a parameter: no edition documents it) loses
/// nothing: the old pod accepts until the Service's view has dropped it, then finishes its calls.
#[test]
fn a_gateway_that_drains_within_its_grace_loses_nothing() {
    let run = run("gateway-rollout-drain.yaml");
    assert!(run.passed(), "{:?}", run.violations);
    assert!(
        run.result
            .ledger
            .iter()
            .all(|r| r.status == Some(Status::Code(200)))
    );
    let old = lines_of(&run, "gateway-0");
    assert!(
        old.iter().any(|l| l.starts_with("21.000s listener closed")),
        "{old:?}"
    );
    // The last call it accepted was sent at 20 s and takes 20 s.
    assert!(
        old.iter()
            .any(|l| l.starts_with("40.001s gateway process exited")),
        "{old:?}"
    );
}

/// Three CE replicas go one at a time, each cutting the calls through it: about a third of
/// those in flight at each step.
#[test]
fn three_ce_gateway_replicas_cut_about_a_third_at_each_step() {
    let run = run("gateway-rollout-ce-3-replicas.yaml");
    let cut = ends_by_second(&run, Cause::GatewayExited);
    let steps: Vec<u64> = cut.iter().map(|(at, _)| *at).collect();
    assert_eq!(steps, vec![20, 30, 40]);
    // Thirty calls are in flight at each step (three a second, 10 s each).
    for (at, count) in &cut {
        assert!((5..=15).contains(count), "{count} cut at {at} s");
    }
    let ok = run
        .result
        .ledger
        .iter()
        .filter(|r| r.outcome == Outcome::Ok)
        .count();
    assert!(ok >= 140, "the other calls succeed: {ok}");
}

/// The gateway's pods are bounded: replicas, and the pods created across rollouts.
#[test]
fn gateway_pods_over_their_limits_are_errors_naming_the_key() {
    let load = |text: &str| scenario::parse(text, "limits.yaml");
    let replicas = load("gateway:\n  replicas: 11\n").expect_err("over the limit");
    assert_eq!(replicas.key.as_deref(), Some("gateway.replicas"));
    assert!(replicas.message.contains("limit of 10"), "{replicas}");
    let mut text = String::from("gateway:\n  replicas: 5\nevents:\n");
    for at in 1..=4 {
        text.push_str(&format!("  - at: {at}0s\n    rolloutGateway: {{}}\n"));
    }
    let pods = load(&text).expect_err("25 pods");
    assert_eq!(pods.key.as_deref(), Some("events"));
    assert!(pods.message.contains("25 gateway pods"), "{pods}");
    assert!(
        load("gateway:\n  replicas: 10\nevents:\n  - at: 1s\n    rolloutGateway: {}\n").is_ok()
    );
}

/// hey's workers share one transport: when a draining gateway pod closes its listener, the
/// next requests skip the idle connections it closed and take the others' before any dial.
#[test]
fn heys_shared_transport_skips_the_connections_a_draining_gateway_closed() {
    let run = run("hey-shared-transport-gateway-rollout.yaml");
    assert_eq!(run.result.ledger.len(), 360);
    assert!(
        run.result
            .ledger
            .iter()
            .all(|r| r.status == Some(Status::Code(200))),
        "every call ends 200"
    );
    assert!(lines_of(&run, "gateway-0").contains(
        &"16.000s listener closed: idle connections closed, calls in flight finish".to_string()
    ));
    let stale = |req: u32, conn: u32| {
        format!(
            "request {req}: idle connection {conn} was closed by its gateway pod, takes another"
        )
    };
    // At the first tick after gateway-0 closed (16.099 s), two of the four idle connections
    // were its own: the first two requests each skip one and take one to gateway-1; the two
    // left dial. By 26 s all four are gateway-1's, and the first request skips them all.
    let at = |stamp: &str, what: String| format!("{stamp} {what}");
    let skipped: Vec<String> = lines_of(&run, "client")
        .into_iter()
        .filter(|line| line.contains("idle connection"))
        .collect();
    assert_eq!(
        skipped,
        [
            at("16.099s", stale(188, 3)),
            at("16.099s", stale(189, 1)),
            at("26.099s", stale(308, 2)),
            at("26.099s", stale(308, 0)),
            at("26.099s", stale(308, 1)),
            at("26.099s", stale(308, 3)),
        ]
    );
}
