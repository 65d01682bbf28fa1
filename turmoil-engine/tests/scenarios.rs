//! The seed article's runs on turmoil: go-long (Pro grace) and go-long-ce (30 s grace).

use std::path::Path;
use std::time::Instant;

use faasim_model::ledger::{Outcome, Status};
use faasim_sim::scenario;
use faasim_turmoil::run_turmoil;

fn load(name: &str) -> scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    scenario::load(&path).expect("scenario loads")
}

fn statuses(run: &faasim_sim::Run) -> Vec<Option<Status>> {
    run.result.ledger.iter().map(|r| r.status).collect()
}

#[test]
fn go_long_gives_ten_200s() {
    let scenario = load("go-long.yaml");
    let wall = Instant::now();
    let run = run_turmoil(&scenario, scenario.seed.unwrap_or(1)).expect("runs");
    let wall = wall.elapsed();
    let sim_s = run.result.end_ns as f64 / 1e9;
    eprintln!(
        "go-long on turmoil: {sim_s:.1} simulated s in {:.2} wall s = {:.1} sim-s/wall-s",
        wall.as_secs_f64(),
        sim_s / wall.as_secs_f64()
    );
    for line in &run.result.trace {
        eprintln!(
            "{:>10.3} {} {}",
            line.at_ns as f64 / 1e9,
            line.who,
            line.what
        );
    }
    for r in &run.result.ledger {
        eprintln!("{r:?}");
    }
    assert_eq!(run.result.ledger.len(), 10);
    assert!(
        statuses(&run).iter().all(|s| *s == Some(Status::Code(200))),
        "{:?}",
        statuses(&run)
    );
    assert!(run.result.ledger.iter().all(|r| r.outcome == Outcome::Ok));
    assert!(run.passed(), "{:?}", run.violations);
}

#[test]
fn go_long_ce_gives_five_500s_then_five_200s() {
    let scenario = load("go-long-ce.yaml");
    let run = run_turmoil(&scenario, scenario.seed.unwrap_or(1)).expect("runs");
    for line in &run.result.trace {
        eprintln!(
            "{:>10.3} {} {}",
            line.at_ns as f64 / 1e9,
            line.who,
            line.what
        );
    }
    for r in &run.result.ledger {
        eprintln!("{r:?}");
    }
    let got = statuses(&run);
    assert_eq!(got.len(), 10);
    assert_eq!(
        got.iter()
            .filter(|s| **s == Some(Status::Code(500)))
            .count(),
        5,
        "{got:?}"
    );
    assert_eq!(
        got.iter()
            .filter(|s| **s == Some(Status::Code(200)))
            .count(),
        5,
        "{got:?}"
    );
    let dropped: Vec<_> = run
        .result
        .ledger
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped)
        .collect();
    assert_eq!(dropped.len(), 5);
    let names: Vec<&str> = run.violations.iter().map(|v| v.property.name()).collect();
    assert_eq!(names, ["no-dropped-in-flight", "graceful-exit"]);
}

/// The turmoil run renders with the model's report code, with the same keys.
#[test]
fn the_report_has_the_models_shape() {
    use faasim_sim::report::{Header, json};
    let scenario = load("go-long-ce.yaml");
    let header = Header {
        name: scenario.name.clone(),
        source: scenario.source.clone(),
        warnings: Vec::new(),
    };
    let seed = scenario.seed.unwrap_or(1);
    let turmoil = run_turmoil(&scenario, seed).expect("runs");
    let model = faasim_sim::simulate(
        &scenario.config,
        &scenario.events,
        scenario.limit_ns.unwrap_or(faasim_sim::DEFAULT_LIMIT_NS),
        seed,
        false,
    );
    let parse = |run: &faasim_sim::Run| -> serde_json::Value {
        serde_json::from_str(&json(run, &header)).expect("valid JSON")
    };
    let (t, m) = (parse(&turmoil), parse(&model));
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&t), keys(&m));
    for key in ["verdict", "status", "outcomes", "violations"] {
        assert_eq!(t[key], m[key], "{key}");
    }
    let pods: Vec<(&str, &str)> = t["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["end"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pods,
        [("go-long-r1-0", "killed"), ("go-long-r1-1", "running")]
    );
}

/// turmoil, the harness and its draws are seeded: the same seed gives the same run.
#[test]
fn the_same_seed_gives_the_same_run() {
    let scenario = load("mechanism-02-routed-after-listener-closed.yaml");
    let a = run_turmoil(&scenario, 3).expect("runs");
    let b = run_turmoil(&scenario, 3).expect("runs");
    assert_eq!(a.result.ledger, b.result.ledger);
    assert_eq!(a.result.pods, b.result.pods);
    assert_eq!(a.result.end_ns, b.result.end_ns);
}

/// A CE gateway pod is a real process killed at SIGTERM: in gateway-rollout-ce.yaml the old
/// pod's host goes down when the new pod is ready (20 s), the calls through it (one sent every
/// second, each 20 s long) end there with no status, long before their handler would answer,
/// and a connection kube-proxy still routes to the gone pod is refused by its IP.
#[test]
fn a_ce_gateway_killed_at_sigterm_cuts_its_calls() {
    use faasim_model::ledger::Cause;
    use faasim_model::time::NS_PER_S;
    let scenario = load("gateway-rollout-ce.yaml");
    let run = run_turmoil(&scenario, scenario.seed.unwrap_or(1)).expect("runs");
    let cut: Vec<_> = run
        .result
        .ledger
        .iter()
        .filter(|r| r.cause == Some(Cause::GatewayExited))
        .collect();
    assert!(!cut.is_empty(), "the rollout cuts calls");
    for r in &cut {
        assert_eq!(r.status, Some(Status::Error), "no status: {r:?}");
        assert_eq!(r.outcome, Outcome::Dropped, "{r:?}");
        let end_ns = r.end_ns.expect("closed");
        // Cut at the kill (20 s, plus the FIN's hop), not at the handler's end.
        assert!(
            (20 * NS_PER_S..20 * NS_PER_S + 10_000_000).contains(&end_ns),
            "{r:?}"
        );
        // A 200 would take the 20 s handler and the round trips.
        assert!(end_ns - r.start_ns <= 20 * NS_PER_S, "{r:?}");
    }
    let killed = format!("process killed with {} calls in flight", cut.len());
    assert!(
        run.result
            .trace
            .iter()
            .any(|t| t.who == "gateway-0" && t.what == killed),
        "{killed}"
    );
}

/// The ingress is a real proxy: in ingress-read-timeout.yaml (60 s read timeout, 90 s calls)
/// every call gets its 504 from the ingress 60 s after it was sent upstream (and a few hops),
/// not the function's 200 at 90 s, and the ingress says it closed its upstream connection.
#[test]
fn an_ingress_answers_504_past_its_read_timeout() {
    use faasim_model::ledger::Cause;
    use faasim_model::time::NS_PER_S;
    let scenario = load("ingress-read-timeout.yaml");
    let run = run_turmoil(&scenario, scenario.seed.unwrap_or(1)).expect("runs");
    assert_eq!(run.result.ledger.len(), 4);
    for r in &run.result.ledger {
        assert_eq!(r.status, Some(Status::Code(504)), "{r:?}");
        assert_eq!(r.cause, Some(Cause::IngressReadTimeout), "{r:?}");
        let took_ns = r.end_ns.expect("closed") - r.start_ns;
        assert!(
            (60 * NS_PER_S..60 * NS_PER_S + 20_000_000).contains(&took_ns),
            "{r:?}"
        );
    }
    let timeouts = run
        .result
        .trace
        .iter()
        .filter(|t| t.who == "ingress" && t.what.contains("upstream connection closed"))
        .count();
    assert_eq!(timeouts, 4);
}

/// More gateway pods than the engine's host limit are refused with a clear error.
#[test]
fn too_many_gateway_replicas_are_refused() {
    let mut scenario = load("gateway-rollout-ce-3-replicas.yaml");
    scenario.config.gateway.replicas = faasim_model::limits::turmoil::REPLICAS_MAX + 1;
    let error = run_turmoil(&scenario, 1).expect_err("refused");
    assert!(
        error.contains("gateway.replicas") && error.contains("model engine"),
        "{error}"
    );
}

/// The asynchronous path runs as code (queue, queue-workers, callback receiver): the same seed
/// gives the same run, executions and callbacks included; only the CE worker runs, and a Pro
/// one is refused with a clear error rather than run as CE, as are more worker pods than the
/// engine's limit.
#[test]
fn an_async_run_is_deterministic_and_pro_is_refused() {
    let scenario = load("async-ce-restart-queue-worker.yaml");
    let a = run_turmoil(&scenario, 1).expect("runs");
    let b = run_turmoil(&scenario, 1).expect("runs");
    assert_eq!(a.result.ledger, b.result.ledger);
    assert_eq!(a.result.invocations, b.result.invocations);
    assert_eq!(a.result.trace, b.result.trace);
    let executions: Vec<u32> = a
        .result
        .invocations
        .as_ref()
        .expect("an asynchronous run")
        .iter()
        .map(|i| i.executions)
        .collect();
    assert_eq!(executions, [2], "run again after the restart");
    let mut many = scenario.clone();
    if let Some(a) = many.config.asynchronous.as_mut() {
        a.queue_worker.replicas = faasim_model::limits::turmoil::REPLICAS_MAX + 1;
    }
    let error = run_turmoil(&many, 1).expect_err("refused");
    assert!(error.contains("queueWorker.replicas"), "{error}");
    let mut pro = scenario;
    if let Some(a) = pro.config.asynchronous.as_mut() {
        a.queue_worker.edition = faasim_model::config::QueueEdition::Pro;
    }
    let error = run_turmoil(&pro, 1).expect_err("refused");
    assert!(
        error.contains("Pro queue-worker") && error.contains("model engine"),
        "{error}"
    );
}
