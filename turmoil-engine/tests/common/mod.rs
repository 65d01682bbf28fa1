//! Comparison of a model run and a turmoil run, shared by the differential test files.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use faasim_model::ledger::Record;
use faasim_model::time::NS_PER_MS;
use faasim_sim::Run;
use faasim_sim::scenario::{self, Scenario};

/// Start and end times of a request may differ by this much between the engines (the largest
/// difference on the shipped scenarios is 25 ms): turmoil delivers every message one 1 ms tick
/// later per hop, the real watchdog checks for quiescence without Go's poll jitter, and
/// its accept loop and timers run on turmoil's tick grid.
pub const TOLERANCE_NS: u64 = 100 * NS_PER_MS;

/// A shipped scenario, at the network turmoil can simulate ([`comparable`]).
pub fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    comparable(scenario::load(&path).expect("scenario loads"))
}

/// `scenario` with the round trip turmoil actually simulates (whole-millisecond hops), so both
/// engines run the same network: a sub-millisecond hop in the model against turmoil's 1 ms
/// would move requests across an endpoint change or a close by the difference alone.
pub fn comparable(mut scenario: Scenario) -> Scenario {
    scenario.config.network.rtt_ns = faasim_turmoil::turmoil_rtt_ns(scenario.config.network.rtt_ns);
    scenario
}

/// Requests keyed by (worker, n-th request of that worker): ids depend on the order of
/// simultaneous sends, which the engines need not share.
pub fn by_worker(run: &Run) -> BTreeMap<(u32, usize), &Record> {
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for r in &run.result.ledger {
        let n = seen.entry(r.worker).or_default();
        out.insert((r.worker, *n), r);
        *n += 1;
    }
    out
}

/// Requests per (status, outcome).
pub fn counts(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in &run.result.ledger {
        *out.entry(format!("{:?}/{}", r.status, r.outcome.name()))
            .or_default() += 1;
    }
    out
}

/// The largest difference in a request's start or end time between the engines, ns.
pub fn max_skew(model: &Run, turmoil: &Run) -> u64 {
    let t = by_worker(turmoil);
    by_worker(model)
        .iter()
        .filter_map(|(key, a)| {
            let b = t.get(key)?;
            let end = match (a.end_ns, b.end_ns) {
                (Some(x), Some(y)) => x.abs_diff(y),
                _ => 0,
            };
            Some(end.max(a.start_ns.abs_diff(b.start_ns)))
        })
        .max()
        .unwrap_or(0)
}

pub fn names(run: &Run) -> Vec<&'static str> {
    run.violations.iter().map(|v| v.property.name()).collect()
}

/// An invocation's executions and the `X-Function-Status` of each callback.
type Runs = (u32, Vec<String>);

/// Every difference between the two runs, as text (empty: they agree).
pub fn compare(model: &Run, turmoil: &Run) -> Vec<String> {
    let mut diffs = Vec::new();
    let (m, t) = (by_worker(model), by_worker(turmoil));
    if m.len() != t.len() {
        diffs.push(format!(
            "{} requests in the model, {} on turmoil",
            m.len(),
            t.len()
        ));
    }
    for (key, a) in &m {
        let Some(b) = t.get(key) else {
            diffs.push(format!("{key:?}: missing on turmoil"));
            continue;
        };
        if a.status != b.status || a.outcome != b.outcome {
            diffs.push(format!(
                "{key:?}: model {:?} {:?} ({:?}), turmoil {:?} {:?} ({:?})",
                a.status, a.outcome, a.cause, b.status, b.outcome, b.cause
            ));
        }
        let far = |x: u64, y: u64| x.abs_diff(y) > TOLERANCE_NS;
        let (ae, be) = (a.end_ns.unwrap_or(u64::MAX), b.end_ns.unwrap_or(u64::MAX));
        if far(a.start_ns, b.start_ns) || far(ae, be) {
            diffs.push(format!(
                "{key:?}: model {:.3}..{:.3} s, turmoil {:.3}..{:.3} s",
                a.start_ns as f64 / 1e9,
                ae as f64 / 1e9,
                b.start_ns as f64 / 1e9,
                be as f64 / 1e9
            ));
        }
    }
    // An asynchronous run: each invocation's executions and callbacks, matched as requests.
    let invocations = |run: &Run| -> Option<BTreeMap<(u32, usize), Runs>> {
        let list = run.result.invocations.as_ref()?;
        let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
        let mut out = BTreeMap::new();
        for (r, inv) in run.result.ledger.iter().zip(list) {
            let n = seen.entry(r.worker).or_default();
            let callbacks = inv.callbacks.iter().map(|s| s.to_string()).collect();
            out.insert((r.worker, *n), (inv.executions, callbacks));
            *n += 1;
        }
        Some(out)
    };
    let (mi, ti) = (invocations(model), invocations(turmoil));
    if mi != ti {
        diffs.push(format!(
            "invocations (executions, callbacks): model {mi:?}, turmoil {ti:?}"
        ));
    }
    let pods = |run: &Run| -> Vec<(String, u32, &'static str, u32)> {
        run.result
            .pods
            .iter()
            .map(|p| (p.name.clone(), p.revision, p.end.name(), p.restarts))
            .collect()
    };
    if pods(model) != pods(turmoil) {
        diffs.push(format!(
            "pods: model {:?}, turmoil {:?}",
            pods(model),
            pods(turmoil)
        ));
    }
    if names(model) != names(turmoil) {
        diffs.push(format!(
            "violations: model {:?}, turmoil {:?}",
            names(model),
            names(turmoil)
        ));
    }
    diffs
}
