//! The shipped scenarios of the function templates (`template-*.yaml`), the classic watchdog
//! (`classic-*.yaml`) and Go's zero timeouts (`zero-*.yaml`): one test per file, pinning the
//! statuses, causes, timings and violated properties that make the difference recognisable.
//! `scenarios.rs` pins the mechanisms' scenarios; this file pins these.

use std::collections::{BTreeMap, BTreeSet};

use faasim_model::ledger::{Cause, Record, Status};
use faasim_model::time::{NS_PER_MS, Nanos};
use faasim_sim::scenario;
use faasim_sim::world::PodEnd;
use faasim_sim::{DEFAULT_LIMIT_NS, Run, simulate};

mod common;

use common::{load, run, s, scenarios_dir, violated};

/// Every file of these families this test binary pins, so none ships untested.
const SHIPPED: [&str; 11] = [
    "classic-exec-timeout-408.yaml",
    "classic-python3-scale-down.yaml",
    "classic-python3-write-5m.yaml",
    "template-dotnet8-csharp-scale-down.yaml",
    "template-golang-middleware-scale-down.yaml",
    "template-node20-scale-down.yaml",
    "template-python3-http-scale-down.yaml",
    "zero-exec-timeout.yaml",
    "zero-gateway-read-timeout.yaml",
    "zero-gateway-write-timeout.yaml",
    "zero-upstream-timeout.yaml",
];

/// Count per (status code, cause); a status with no code counts as 0.
fn tally(run: &Run) -> BTreeMap<(u16, Cause), usize> {
    let mut counts = BTreeMap::new();
    for record in &run.result.ledger {
        let code = match record.status {
            Some(Status::Code(code)) => code,
            _ => 0,
        };
        let cause = record.cause.expect("every request is finished");
        *counts.entry((code, cause)).or_insert(0) += 1;
    }
    counts
}

fn end(record: &Record) -> Nanos {
    record.end_ns.expect("request finished")
}

fn with_cause(run: &Run, cause: Cause) -> Vec<&Record> {
    let records = run.result.ledger.iter();
    records.filter(|r| r.cause == Some(cause)).collect()
}

#[test]
fn every_scenario_of_these_families_is_pinned_here() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/ exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if ["template-", "classic-", "zero-"]
            .iter()
            .any(|p| name.starts_with(p))
        {
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

/// A child that dies by the forwarded SIGTERM takes the watchdog with it: node20 and
/// python3-http drop every call in flight at the instant of SIGTERM.
#[test]
fn node20_and_python3_http_drop_their_calls_in_flight() {
    for file in [
        "template-node20-scale-down.yaml",
        "template-python3-http-scale-down.yaml",
    ] {
        let run = run(file);
        let dropped = with_cause(&run, Cause::ChildExited);
        assert_eq!(dropped.len(), 3, "{file}");
        assert!(
            dropped.iter().all(|r| end(r).abs_diff(s(5)) < NS_PER_MS),
            "{file}: at SIGTERM"
        );
        assert_eq!(
            violated(&run),
            ["no-dropped-in-flight", "no-refused-routing"],
            "{file}"
        );
        let victim = &run.result.pods[0];
        assert!(victim.terminating);
        assert_eq!(
            (victim.end, victim.end_ns),
            (PodEnd::Exited, Some(s(5))),
            "{file}"
        );
    }
}

/// The same timers behind golang-middleware, whose child drains: nothing is lost and the
/// victim exits on its own at SIGTERM + healthcheck_interval.
#[test]
fn golang_middleware_with_the_same_timers_is_clean() {
    let run = run("template-golang-middleware-scale-down.yaml");
    assert_eq!(tally(&run), BTreeMap::from([((200, Cause::Handler), 8)]));
    assert!(violated(&run).is_empty(), "{:?}", violated(&run));
    let victim = &run.result.pods[0];
    assert_eq!((victim.end, victim.end_ns), (PodEnd::Exited, Some(s(10))));
}

/// A child that stops and exits 0 (ASP.NET Core): calls in flight finish, but the watchdog
/// keeps listening with nothing behind it, and what it still accepts gets 500.
#[test]
fn dotnet_drains_its_calls_but_refuses_later_arrivals() {
    let run = run("template-dotnet8-csharp-scale-down.yaml");
    let refused = with_cause(&run, Cause::ChildRefused);
    assert_eq!(refused.len(), 6);
    let sigterm = s(5);
    for r in &refused {
        assert_eq!(r.pod, Some(1), "only the victim refuses");
        assert!(
            r.start_ns >= sigterm && r.start_ns < sigterm + s(1),
            "during the endpoint lag"
        );
        assert_eq!(r.status, Some(Status::Code(500)));
    }
    assert!(
        with_cause(&run, Cause::ChildExited).is_empty(),
        "nothing in flight is lost"
    );
    assert_eq!(violated(&run), ["no-refused-routing"]);
    let victim = &run.result.pods[1];
    assert_eq!((victim.end, victim.end_ns), (PodEnd::Exited, Some(s(10))));
}

/// The classic watchdog has no exec limit by default: the gateway's 1m gives up first (502),
/// and the pod stays up with its fork running.
#[test]
fn classic_python3_outlives_the_gateway() {
    let run = run("classic-python3-write-5m.yaml");
    assert_eq!(
        tally(&run),
        BTreeMap::from([((502, Cause::UpstreamTimeout), 1)])
    );
    let record = &run.result.ledger[0];
    assert!(end(record).abs_diff(s(60)) < 10 * NS_PER_MS);
}

/// A classic function scaled down: its fork runs on past the grace period, and the kubelet's
/// SIGKILL drops it, where of-watchdog's 30 s exec default would have answered 504.
#[test]
fn classic_python3_scaled_down_loses_its_fork_at_grace_end() {
    let run = run("classic-python3-scale-down.yaml");
    assert_eq!(
        tally(&run),
        BTreeMap::from([((200, Cause::Handler), 3), ((500, Cause::Sigkill), 1)])
    );
    let killed = &with_cause(&run, Cause::Sigkill)[0];
    assert!(
        end(killed).abs_diff(s(35)) < NS_PER_MS,
        "at the grace's end"
    );
    assert_eq!(violated(&run), ["no-dropped-in-flight", "graceful-exit"]);
}

/// A positive exec_timeout of the classic watchdog kills the fork with 408.
#[test]
fn classic_exec_timeout_is_408() {
    let run = run("classic-exec-timeout-408.yaml");
    assert_eq!(
        tally(&run),
        BTreeMap::from([((408, Cause::ExecTimeout), 4)])
    );
}

/// Go's zeros: no gateway write timeout; faas-netes's 10 s proxy default for a read_timeout
/// of 0; an immediate 502 for upstream_timeout 0; no exec limit for exec_timeout 0.
#[test]
fn zero_timeouts_follow_go() {
    let write = run("zero-gateway-write-timeout.yaml");
    assert_eq!(tally(&write), BTreeMap::from([((200, Cause::Handler), 4)]));
    assert!(violated(&write).is_empty());

    let read = run("zero-gateway-read-timeout.yaml");
    let timed_out = with_cause(&read, Cause::ProviderTimeout);
    assert_eq!(timed_out.len(), 5);
    for r in timed_out {
        assert!(
            (end(r) - r.start_ns).abs_diff(s(10)) < 10 * NS_PER_MS,
            "at 10 s"
        );
    }
    assert_eq!(with_cause(&read, Cause::Handler).len(), 3);

    let upstream = run("zero-upstream-timeout.yaml");
    assert_eq!(
        tally(&upstream),
        BTreeMap::from([((502, Cause::UpstreamTimeout), 4)])
    );
    assert!(
        upstream
            .result
            .ledger
            .iter()
            .all(|r| end(r) - r.start_ns < 5 * NS_PER_MS)
    );

    let exec = run("zero-exec-timeout.yaml");
    assert_eq!(tally(&exec), BTreeMap::from([((200, Cause::Handler), 2)]));
}

/// Every row of the template table, in the scale-down of `template-node20-scale-down.yaml`
/// (two replicas, four workers with 8 s calls, scaled to one at 5 s, CE grace, safe timers):
/// what happens to the victim's calls in flight follows from what the row's child does on
/// SIGTERM. A child that dies by the signal takes the watchdog and its calls with it; every
/// other row (a draining child, a stopping child, forks the runtime does not signal, an
/// in-process handler) lets the calls in flight finish within the grace period.
#[test]
fn every_template_row_runs_its_scale_down() {
    use faasim_model::config::OnSigterm;
    use faasim_model::ledger::Outcome;
    use faasim_model::template::TEMPLATES;

    let base = std::fs::read_to_string(scenarios_dir().join("template-node20-scale-down.yaml"))
        .expect("the node20 scenario ships");
    assert!(base.contains("template: node20\n"));
    assert!(
        TEMPLATES.len() >= 25,
        "the table covers the templates people use"
    );
    for row in TEMPLATES {
        let text = base.replace("template: node20\n", &format!("template: {}\n", row.lang));
        let s = scenario::parse(&text, row.lang).unwrap_or_else(|e| panic!("{}: {e}", row.lang));
        let run = simulate(&s.config, &s.events, DEFAULT_LIMIT_NS, 3, false);
        let dropped = run
            .result
            .ledger
            .iter()
            .filter(|r| r.outcome == Outcome::Dropped)
            .count();
        let ok = run
            .result
            .ledger
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .count();
        assert_eq!(run.result.ledger.len(), 8, "{}: every call sent", row.lang);
        match row.on_sigterm {
            Some(OnSigterm::Exit) => {
                assert!(
                    dropped >= 1,
                    "{}: a child that dies on SIGTERM drops the calls in flight",
                    row.lang
                );
                assert!(
                    run.violations
                        .iter()
                        .any(|v| v.property.name() == "no-dropped-in-flight")
                );
            }
            _ => {
                assert_eq!(dropped, 0, "{}: calls in flight finish", row.lang);
                assert_eq!(ok, 8, "{}: every call answered 200", row.lang);
            }
        }
    }
}

/// A forked process (streaming mode) outlives the caller that left: the watchdog's drain waits
/// for it, to its end or to exec_timeout's kill, whichever comes first.
#[test]
fn a_forked_process_whose_caller_left_holds_up_the_drain() {
    use faasim_sim::world::PodEnd;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/streaming-orphan-holds-drain.yaml");
    let s = faasim_sim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let exit_s = |config: &faasim_model::config::Config| {
        let run = faasim_sim::simulate(
            &config.clone(),
            &s.events,
            faasim_sim::DEFAULT_LIMIT_NS,
            1,
            false,
        );
        assert_eq!(
            run.result.ledger[0].cause,
            Some(faasim_model::ledger::Cause::ClientTimeout)
        );
        let pod = &run.result.pods[0];
        assert_eq!(pod.end, PodEnd::Exited, "{pod:?}");
        pod.end_ns.expect("an end") as f64 / 1e9
    };
    // Not at 8 s (SIGTERM at 6 s + healthcheck_interval): when the process ends, at 20 s
    // (plus Shutdown's poll).
    let exit = exit_s(&s.config);
    assert!((20.0..20.6).contains(&exit), "{exit}");
    let mut killed = s.config.clone();
    killed.function.watchdog.exec_timeout_ns = 10 * faasim_model::time::NS_PER_S;
    let exit = exit_s(&killed);
    assert!((10.0..10.6).contains(&exit), "{exit}");
}

/// A streaming script killed at exec_timeout (1 s) whose child holds its stdout answers when
/// the child ends (3 s), as the real of-watchdog does; the same file with nothing held answers
/// at the kill.
#[test]
fn a_killed_script_answers_when_its_child_closes_stdout() {
    let file = "streaming-exec-timeout-held-by-children.yaml";
    let held = run(file);
    for record in &held.result.ledger {
        assert_eq!(record.status, Some(Status::Code(200)));
        assert_eq!(record.cause, Some(Cause::ExecTimeout));
        let took = record.end_ns.expect("answered") - record.start_ns;
        assert!((s(3)..s(3) + s(1) / 100).contains(&took), "{took}");
    }
    let mut alone = load(file);
    alone.config.function.stdout_held_after_kill_ns = 0;
    let alone = simulate(
        &alone.config,
        &alone.events,
        faasim_sim::DEFAULT_LIMIT_NS,
        1,
        false,
    );
    for record in &alone.result.ledger {
        assert_eq!(record.cause, Some(Cause::ExecTimeout));
        let took = record.end_ns.expect("answered") - record.start_ns;
        assert!((s(1)..s(1) + s(1) / 100).contains(&took), "{took}");
    }
}
