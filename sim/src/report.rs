//! The reports of scenario-format.md: a hey-like text summary with violations, pods and the
//! timeline, and one JSON object. Nothing in either depends on the wall clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use faasim_model::ledger::{Outcome, Status};
use faasim_model::time::{Nanos, seconds, stamp};

use crate::Run;
use crate::scenario::Scenario;

/// What the report needs besides the run.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// Scenario name.
    pub name: String,
    /// Source file.
    pub source: String,
    /// Warnings about silently replaced values.
    pub warnings: Vec<String>,
}

impl Header {
    /// The header `faasim run` prints for `scenario`: its name, its source and its warnings as
    /// `key: message` lines.
    pub fn of(scenario: &Scenario) -> Header {
        Header {
            name: scenario.name.clone(),
            source: scenario.source.clone(),
            warnings: scenario
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.key, w.message))
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct JsonRequest {
    id: u32,
    status: Option<String>,
    outcome: &'static str,
    cause: Option<&'static str>,
    pod: Option<String>,
    retried: bool,
    start_s: f64,
    end_s: Option<f64>,
}

#[derive(Serialize)]
struct JsonPod {
    name: String,
    revision: u32,
    end: &'static str,
    end_s: Option<f64>,
    terminating: bool,
    restarts: u32,
}

#[derive(Serialize)]
struct JsonViolation {
    property: &'static str,
    requests: Vec<u32>,
    pods: Vec<String>,
}

#[derive(Serialize)]
struct JsonLine {
    t_s: f64,
    who: String,
    what: String,
}

#[derive(Serialize)]
struct JsonReport {
    name: String,
    source: String,
    seed: u64,
    verdict: &'static str,
    status: BTreeMap<String, u64>,
    outcomes: BTreeMap<&'static str, u64>,
    violations: Vec<JsonViolation>,
    warnings: Vec<String>,
    duration_s: f64,
    end_s: f64,
    events: u64,
    requests: Vec<JsonRequest>,
    pods: Vec<JsonPod>,
    timeline: Vec<JsonLine>,
}

fn status_name(status: Status) -> String {
    match status {
        Status::Code(code) => code.to_string(),
        Status::Error => "error".to_string(),
    }
}

/// Count per status code, `"error"` for client-side errors.
pub fn status_counts(run: &Run) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for record in &run.result.ledger {
        if let Some(status) = record.status {
            *counts.entry(status_name(status)).or_insert(0) += 1;
        }
    }
    counts
}

/// Count per outcome class, every class present.
pub fn outcome_counts(run: &Run) -> BTreeMap<&'static str, u64> {
    let mut counts: BTreeMap<&'static str, u64> =
        Outcome::ALL.iter().map(|o| (o.name(), 0)).collect();
    for record in &run.result.ledger {
        *counts.entry(record.outcome.name()).or_insert(0) += 1;
    }
    counts
}

/// First send to last answer, like hey's "Total".
pub fn duration_ns(run: &Run) -> Nanos {
    let ledger = &run.result.ledger;
    let first = ledger.iter().map(|r| r.start_ns).min().unwrap_or(0);
    let last = ledger
        .iter()
        .filter_map(|r| r.end_ns)
        .max()
        .unwrap_or(first);
    last - first
}

/// The JSON report.
pub fn json(run: &Run, header: &Header) -> String {
    let result = &run.result;
    let pod_name = |id: u32| result.pods.get(id as usize).map(|p| p.name.clone());
    let report = JsonReport {
        name: header.name.clone(),
        source: header.source.clone(),
        seed: run.seed,
        verdict: if run.passed() { "pass" } else { "fail" },
        status: status_counts(run),
        outcomes: outcome_counts(run),
        violations: run
            .violations
            .iter()
            .map(|v| JsonViolation {
                property: v.property.name(),
                requests: v.requests.clone(),
                pods: v.pods.clone(),
            })
            .collect(),
        warnings: header.warnings.clone(),
        duration_s: seconds(duration_ns(run)),
        end_s: seconds(result.end_ns),
        events: result.events,
        requests: result
            .ledger
            .iter()
            .map(|r| JsonRequest {
                id: r.id,
                status: r.status.map(status_name),
                outcome: r.outcome.name(),
                cause: r.cause.map(|c| c.name()),
                pod: r.pod.and_then(pod_name),
                retried: r.retried,
                start_s: seconds(r.start_ns),
                end_s: r.end_ns.map(seconds),
            })
            .collect(),
        pods: result
            .pods
            .iter()
            .map(|p| JsonPod {
                name: p.name.clone(),
                revision: p.revision,
                end: p.end.name(),
                end_s: p.end_ns.map(seconds),
                terminating: p.terminating,
                restarts: p.restarts,
            })
            .collect(),
        timeline: result
            .trace
            .iter()
            .map(|l| JsonLine {
                t_s: seconds(l.at_ns),
                who: l.who.clone(),
                what: l.what.clone(),
            })
            .collect(),
    };
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}

/// Timelines longer than this leave out the lines of requests that went well.
const TIMELINE_FULL_MAX: usize = 400;

fn secs4(ns: Nanos) -> String {
    format!("{:.4}", seconds(ns))
}

/// The text report: hey's summary, then outcomes, violations, pods and the timeline.
pub fn text(run: &Run, header: &Header) -> String {
    let mut out = String::new();
    let result = &run.result;
    let _ = writeln!(out, "{} (seed {})", header.name, run.seed);
    for warning in &header.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let latencies: Vec<Nanos> = result
        .ledger
        .iter()
        .filter_map(|r| r.end_ns.map(|end| end - r.start_ns))
        .collect();
    let total = duration_ns(run);
    let _ = writeln!(out, "\nSummary:");
    let _ = writeln!(out, "  Total:\t{} secs", secs4(total));
    if !latencies.is_empty() {
        let slowest = latencies.iter().copied().max().unwrap_or(0);
        let fastest = latencies.iter().copied().min().unwrap_or(0);
        let sum: u128 = latencies.iter().map(|l| u128::from(*l)).sum();
        let average = (sum / latencies.len() as u128) as Nanos;
        let _ = writeln!(out, "  Slowest:\t{} secs", secs4(slowest));
        let _ = writeln!(out, "  Fastest:\t{} secs", secs4(fastest));
        let _ = writeln!(out, "  Average:\t{} secs", secs4(average));
        if total > 0 {
            let _ = writeln!(
                out,
                "  Requests/sec:\t{:.4}",
                latencies.len() as f64 / seconds(total)
            );
        }
        let _ = writeln!(out, "\nResponse time histogram:");
        let buckets = 10u64;
        let width = (slowest - fastest).max(1);
        let mut counts = vec![0u64; buckets as usize + 1];
        for latency in &latencies {
            let index =
                ((latency - fastest) as u128 * u128::from(buckets) / u128::from(width)) as usize;
            counts[index.min(buckets as usize)] += 1;
        }
        let biggest = counts.iter().copied().max().unwrap_or(1).max(1);
        for (index, count) in counts.iter().enumerate() {
            let mark = fastest + width * index as u64 / buckets;
            let bar = "■".repeat((count * 40 / biggest) as usize);
            let _ = writeln!(out, "  {:.3} [{}]\t|{}", seconds(mark), count, bar);
        }
    }
    let _ = writeln!(out, "\nStatus code distribution:");
    for (status, count) in status_counts(run) {
        let _ = writeln!(out, "  [{status}]\t{count} responses");
    }
    let _ = writeln!(out, "\nOutcomes:");
    for (outcome, count) in outcome_counts(run) {
        if count > 0 {
            let _ = writeln!(out, "  {outcome}\t{count}");
        }
    }
    let _ = writeln!(
        out,
        "\nVerdict: {}",
        if run.passed() { "pass" } else { "fail" }
    );
    for violation in &run.violations {
        let mut what = Vec::new();
        if !violation.requests.is_empty() {
            let ids: Vec<String> = violation
                .requests
                .iter()
                .take(20)
                .map(|r| r.to_string())
                .collect();
            let more = violation.requests.len().saturating_sub(20);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            what.push(format!("requests {}{}", ids.join(", "), tail));
        }
        if !violation.pods.is_empty() {
            what.push(format!("pods {}", violation.pods.join(", ")));
        }
        let _ = writeln!(
            out,
            "  violated {}: {}",
            violation.property.name(),
            what.join("; ")
        );
    }
    let _ = writeln!(out, "\nPods:");
    for pod in &result.pods {
        let end = match pod.end_ns {
            Some(at) => format!("{} at {}", pod.end.name(), stamp(at)),
            None => pod.end.name().to_string(),
        };
        let _ = writeln!(out, "  {}\t{}", pod.name, end);
    }
    if !result.trace.is_empty() {
        let _ = writeln!(out, "\nTimeline:");
        // A long run's timeline is mostly answered requests: keep the rest, count those.
        let long = result.trace.len() > TIMELINE_FULL_MAX;
        let mut omitted = 0;
        for line in &result.trace {
            if long && line.who == "client" && line.what.contains("(ok,") {
                omitted += 1;
                continue;
            }
            let _ = writeln!(
                out,
                "  {:>10}  {:<16} {}",
                stamp(line.at_ns),
                line.who,
                line.what
            );
        }
        if omitted > 0 {
            let _ = writeln!(
                out,
                "  ({omitted} requests answered 200 not listed; --format json has every line)"
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} simulated events, run ended at {}",
        result.events,
        stamp(result.end_ns)
    );
    out
}
