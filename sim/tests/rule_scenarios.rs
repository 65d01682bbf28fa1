//! The rule examples that are not mechanism scenarios, pinned: exact status counts, causes and
//! violated properties at their own seed. (`rule_examples.rs` checks each breaks its rule.)

use std::collections::BTreeMap;
use std::path::Path;

use faasim_model::ledger::{Cause, Status};
use faasim_sim::{DEFAULT_SEED, Run, scenario, simulate_scenario};

fn run(file: &str) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(file);
    let loaded = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.seed.is_some(), "{file} pins its seed");
    simulate_scenario(&loaded, loaded.seed.unwrap_or(DEFAULT_SEED), false)
}

fn summary(
    run: &Run,
) -> (
    BTreeMap<String, usize>,
    BTreeMap<&'static str, usize>,
    Vec<&'static str>,
) {
    let mut statuses = BTreeMap::new();
    let mut causes = BTreeMap::new();
    for record in &run.result.ledger {
        let status = match record.status {
            Some(Status::Code(code)) => code.to_string(),
            Some(Status::Error) => "error".to_string(),
            None => "none".to_string(),
        };
        *statuses.entry(status).or_insert(0) += 1;
        *causes
            .entry(record.cause.map_or("none", Cause::name))
            .or_insert(0) += 1;
    }
    (
        statuses,
        causes,
        run.violations.iter().map(|v| v.property.name()).collect(),
    )
}

fn assert_pinned(
    file: &str,
    statuses: &[(&str, usize)],
    causes: &[(&str, usize)],
    violated: &[&str],
) {
    let (got_statuses, got_causes, got_violated) = summary(&run(file));
    let want_statuses: BTreeMap<String, usize> =
        statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let want_causes: BTreeMap<&str, usize> = causes.iter().copied().collect();
    assert_eq!(got_statuses, want_statuses, "{file} statuses");
    assert_eq!(got_causes, want_causes, "{file} causes");
    assert_eq!(got_violated, violated, "{file} violated");
}

#[test]
fn unset_write_timeout_gives_the_child_ten_seconds() {
    assert_pinned(
        "rule-handler-within-child-write.yaml",
        &[("500", 4)],
        &[("child write_timeout", 4)],
        &["no-timeout"],
    );
}

#[test]
fn faas_netes_read_timeout_cuts_with_500() {
    assert_pinned(
        "rule-exec-within-provider-timeout.yaml",
        &[("500", 4)],
        &[("provider read_timeout", 4)],
        &["no-timeout"],
    );
}

#[test]
fn faas_netes_write_timeout_loses_the_response_with_502() {
    assert_pinned(
        "rule-exec-within-provider-write.yaml",
        &[("502", 4)],
        &[("provider write_timeout", 4)],
        &["no-timeout"],
    );
}

#[test]
fn gateway_write_timeout_gives_an_empty_reply() {
    assert_pinned(
        "rule-gateway-write-covers-response.yaml",
        &[("error", 4)],
        &[("gateway write_timeout", 4)],
        &["no-timeout"],
    );
}

#[test]
fn max_inflight_below_concurrency_gives_429() {
    assert_pinned(
        "rule-max-inflight-covers-load.yaml",
        &[("200", 2), ("429", 3)],
        &[("handler", 2), ("max_inflight", 3)],
        &["no-rejection"],
    );
}

#[test]
fn cold_start_past_the_gateway_polls_gives_503() {
    assert_pinned(
        "rule-cold-start-within-gateway-hold.yaml",
        &[("503", 2)],
        &[("no endpoints", 2)],
        &["no-rejection"],
    );
}

#[test]
fn scale_to_zero_during_a_cold_start_strands_the_held_requests() {
    assert_pinned(
        "rule-no-disruption-during-cold-start.yaml",
        &[("error", 2)],
        &[("client timeout", 2)],
        &["no-timeout"],
    );
}

#[test]
fn child_closing_before_the_watchdog_refuses_calls() {
    assert_pinned(
        "rule-child-listens-while-routed.yaml",
        &[("200", 583), ("500", 17)],
        &[("child refused", 17), ("handler", 583)],
        &["no-refused-routing"],
    );
}

#[test]
fn ready_before_the_child_listens_refuses_calls() {
    assert_pinned(
        "rule-child-ready-before-routing.yaml",
        // The kubelet's prober passes a new pod at its first tick 2 to 4 s after the start,
        // not at 2 s exactly, so less of the child's 5 s is routed: 20 refused, not 50.
        &[("200", 580), ("500", 20)],
        &[("child refused", 20), ("handler", 580)],
        &["no-refused-routing"],
    );
}

#[test]
fn idle_timeout_below_the_providers_resets_every_second_post() {
    assert_pinned(
        "rule-provider-idle-below-watchdog-idle.yaml",
        &[("200", 5), ("500", 5)],
        &[("handler", 5), ("keep-alive connection reset", 5)],
        &["no-refused-routing"],
    );
}

#[test]
fn draining_the_only_node_leaves_no_endpoint() {
    assert_pinned(
        "rule-schedulable-node-remains.yaml",
        &[("200", 6), ("503", 54)],
        &[("handler", 6), ("no endpoints", 54)],
        &["no-rejection"],
    );
}

#[test]
fn ce_defaults_end_every_scale_down_in_sigkill() {
    let run = run("defaults-ce-scale-down.yaml");
    let (statuses, _, violated) = summary(&run);
    assert_eq!(statuses, BTreeMap::from([("200".to_string(), 40)]));
    assert_eq!(violated, vec!["graceful-exit"]);
    let killed: Vec<_> = run.result.pods.iter().filter(|p| p.terminating).collect();
    assert_eq!(killed.len(), 1);
    assert_eq!(killed[0].end, faasim_sim::world::PodEnd::Killed);
    assert_eq!(
        killed[0].end_ns,
        Some(35_000_000_000),
        "deleted at 5 s, SIGKILL at 5 s + 30 s"
    );
}
