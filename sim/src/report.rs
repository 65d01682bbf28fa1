//! The reports of scenario-format.md: a hey-like text summary with violations, pods and the
//! timeline, and one JSON object. Nothing in either depends on the wall clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use faasim_model::ledger::{Outcome, Status};
use faasim_model::schedule::Action;
use faasim_model::time::{Nanos, seconds, stamp};

use crate::scenario::Scenario;
use crate::{Run, Verdict};

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

impl Header {
    /// The header `faasim run` prints after `run` of `scenario`: [`Header::of`] with what the
    /// run shows, as warnings: a `killPod` or `annotatePod` that found no running pod of its
    /// name, and events that met no traffic (the load was over before the first event).
    pub fn of_run(scenario: &Scenario, run: &Run) -> Header {
        let mut header = Header::of(scenario);
        header.warnings.extend(run_warnings(scenario, run));
        header
    }
}

/// What a run shows that the file alone does not, as `key: message` warnings.
pub fn run_warnings(scenario: &Scenario, run: &Run) -> Vec<String> {
    let mut warnings = Vec::new();
    let result = &run.result;
    for (index, event) in scenario.events.iter().enumerate() {
        if event.at_ns > result.end_ns {
            continue;
        }
        let running = |name: &str| {
            result
                .pods
                .iter()
                .any(|pod| pod.name == name && pod.end_ns.is_none_or(|end| end > event.at_ns))
        };
        match &event.action {
            Action::KillPod { pod: Some(name) } if !running(name) => {
                warnings.push(format!(
                    "events[{index}].killPod.pod: no pod `{name}` was running at {}: the event \
                     killed nothing (leave `pod` out to pick a running one)",
                    stamp(event.at_ns)
                ));
            }
            Action::AnnotatePod { pod: name, .. } if !running(name) => {
                warnings.push(format!(
                    "events[{index}].annotatePod.pod: no pod `{name}` was running at {}: the \
                     event annotated nothing",
                    stamp(event.at_ns)
                ));
            }
            _ => {}
        }
    }
    let tally = &run.tally;
    if run.streamed() {
        warnings.push(format!(
            "load.requests: {} requests are more than the {} a run keeps whole, so this one \
             streamed: no timeline, no per-request list in the JSON report, the first {} \
             requests of each violation listed, and the histogram's bars counted from a \
             sketch (each latency within 0.8 %); the counts, fastest, slowest and average are \
             exact",
            scenario.config.load.requests,
            faasim_model::limits::LEDGER_KEPT_MAX,
            faasim_model::limits::STREAMED_LISTED_MAX,
        ));
    }
    let sent = tally.requests;
    let planned = scenario.config.load.requests;
    if sent < planned {
        warnings.push(format!(
            "load.requests: {} of the {planned} requests were never sent: the run stopped at {} \
             first (raise `limit`, or start the load earlier)",
            planned - sent,
            stamp(result.end_ns)
        ));
    }
    let first_event_ns = scenario.events.iter().map(|e| e.at_ns).min();
    // Only when every request was answered.
    let last_answer_ns = (tally.unanswered == 0).then(|| tally.last_end_ns.unwrap_or(0));
    if let (Some(first_event_ns), Some(last_answer_ns)) = (first_event_ns, last_answer_ns)
        && tally.requests > 0
        && last_answer_ns <= first_event_ns
    {
        warnings.push(format!(
            "events: no request was in flight at any event: the last answer came at {} and the \
             first event is at {}, so the run says nothing about them (start the load later or \
             send more requests)",
            stamp(last_answer_ns),
            stamp(first_event_ns)
        ));
    }
    warnings
}

/// One entry of the JSON report's `requests`: a ledger record.
#[derive(Serialize)]
struct JsonRequest {
    /// `id`: the request's number, in the order the client sent them.
    id: u32,
    /// `status`: the status code the client saw, or `"error"` (`null`: unfinished).
    status: Option<String>,
    /// `outcome`: its outcome class.
    outcome: &'static str,
    /// `cause`: what ended it (the handler, a timer, a fault; `null`: unfinished).
    cause: Option<&'static str>,
    /// `pod`: the pod it was routed to (`null`: none).
    pod: Option<String>,
    /// `retried`: Go's transport retried it once on a new connection.
    retried: bool,
    /// `start_s`: when the client sent it, in seconds.
    start_s: f64,
    /// `end_s`: when the client got its answer, in seconds (`null`: unfinished); in an
    /// async run, when its last execution ended.
    end_s: Option<f64>,
    /// `executions` (async runs only): how many times the handler started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    executions: Option<u32>,
    /// `callbacks` (async runs only): the status of each callback received, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    callbacks: Option<Vec<String>>,
}

/// One entry of the JSON report's `pods`.
#[derive(Serialize)]
struct JsonPod {
    /// `name`: the pod's name.
    name: String,
    /// `revision`: the template revision it runs.
    revision: u32,
    /// `end`: how it ended.
    end: &'static str,
    /// `end_s`: when it ended, in seconds (`null`: still running).
    end_s: Option<f64>,
    /// `terminating`: its deletion was requested (scale-down, rollout, eviction).
    terminating: bool,
    /// `restarts`: how many times its container restarted.
    restarts: u32,
}

/// One entry of the JSON report's `violations`.
#[derive(Serialize)]
struct JsonViolation {
    /// `property`: the name of the violated property.
    property: &'static str,
    /// `requests`: the ids of the requests that violate it (a streamed run: the first ones).
    requests: Vec<u32>,
    /// `requests_omitted`: the requests that violate it and are not listed (streamed runs).
    #[serde(skip_serializing_if = "is_zero")]
    requests_omitted: u64,
    /// `pods`: the names of the pods that violate it.
    pods: Vec<String>,
}

/// One entry of the JSON report's `timeline`.
#[derive(Serialize)]
struct JsonLine {
    /// `t_s`: when, in seconds.
    t_s: f64,
    /// `who`: which component.
    who: String,
    /// `what`: what happened.
    what: String,
}

/// The JSON report of scenario-format.md: one object.
#[derive(Serialize)]
struct JsonReport {
    /// `name`: the scenario's name.
    name: String,
    /// `source`: the scenario file.
    source: String,
    /// `seed`: the seed of the run.
    seed: u64,
    /// `verdict`: `pass`, `fail` (a property violated) or `unfinished` (cut by the limit with
    /// requests in flight).
    verdict: &'static str,
    /// `status`: how many requests ended with each status code (or `error`).
    status: BTreeMap<String, u64>,
    /// `outcomes`: how many requests fell in each outcome class, every class listed.
    outcomes: BTreeMap<&'static str, u64>,
    /// `violations`: each violated property and what violates it.
    violations: Vec<JsonViolation>,
    /// `warnings`: values a component would silently replace, as `key: message`.
    warnings: Vec<String>,
    /// `duration_s`: first send to last answer, in seconds (hey's "Total").
    duration_s: f64,
    /// `end_s`: the simulated time when the run stopped, in seconds.
    end_s: f64,
    /// `events`: how many events the run processed.
    events: u64,
    /// `requests`: every request, from the ledger (empty when the run streamed).
    requests: Vec<JsonRequest>,
    /// `requests_streamed`: a run past the ledger's limit folds its requests as they end and
    /// lists none of them; this is how many it folded (absent when `requests` lists them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    requests_streamed: Option<u64>,
    /// `pods`: every pod and how it ended.
    pods: Vec<JsonPod>,
    /// `timeline`: what happened, in order.
    timeline: Vec<JsonLine>,
}

/// Serde's test for a count left out when zero.
fn is_zero(count: &u64) -> bool {
    *count == 0
}

fn status_name(status: Status) -> String {
    match status {
        Status::Code(code) => code.to_string(),
        Status::Error => "error".to_string(),
    }
}

/// Count per status code, `"error"` for client-side errors.
pub fn status_counts(run: &Run) -> BTreeMap<String, u64> {
    run.tally
        .statuses
        .iter()
        .map(|(status, count)| (status_name(*status), *count))
        .collect()
}

/// Count per outcome class, every class present.
pub fn outcome_counts(run: &Run) -> BTreeMap<&'static str, u64> {
    let mut counts: BTreeMap<&'static str, u64> =
        Outcome::ALL.iter().map(|o| (o.name(), 0)).collect();
    if run.result.invocations.is_some() {
        counts.extend(Outcome::ASYNC.iter().map(|o| (o.name(), 0)));
    }
    for (outcome, count) in &run.tally.outcomes {
        *counts.entry(outcome.name()).or_insert(0) += count;
    }
    counts
}

/// The invocation of request `index` in an async run.
fn invocation(run: &Run, index: usize) -> Option<&faasim_model::invocation::Invocation> {
    run.result.invocations.as_ref().and_then(|i| i.get(index))
}

/// First send to last answer, like hey's "Total".
pub fn duration_ns(run: &Run) -> Nanos {
    let first = run.tally.first_start_ns.unwrap_or(0);
    let last = run.tally.last_end_ns.unwrap_or(first);
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
        verdict: run.verdict().name(),
        status: status_counts(run),
        outcomes: outcome_counts(run),
        violations: run
            .violations
            .iter()
            .map(|v| JsonViolation {
                property: v.property.name(),
                requests: v.requests.clone(),
                requests_omitted: v.omitted,
                pods: v.pods.clone(),
            })
            .collect(),
        warnings: header.warnings.clone(),
        duration_s: seconds(duration_ns(run)),
        end_s: seconds(result.end_ns),
        events: result.events,
        requests_streamed: run.streamed().then_some(run.tally.requests),
        requests: result
            .ledger
            .iter()
            .enumerate()
            .map(|(index, r)| JsonRequest {
                executions: invocation(run, index).map(|i| i.executions),
                callbacks: invocation(run, index)
                    .map(|i| i.callbacks.iter().map(|s| status_name(*s)).collect()),
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

/// An async run's invocations in the text report: executions and callbacks in all, and each
/// invocation that did not run exactly once with one callback (the first 20).
fn invocations_text(out: &mut String, invocations: &[faasim_model::invocation::Invocation]) {
    let executions: u64 = invocations.iter().map(|i| u64::from(i.executions)).sum();
    let callbacks: usize = invocations.iter().map(|i| i.callbacks.len()).sum();
    let _ = writeln!(
        out,
        "\nInvocations:\n  {} calls, {executions} executions, {callbacks} callbacks",
        invocations.len()
    );
    let odd = invocations
        .iter()
        .enumerate()
        .filter(|(_, i)| i.accepted && (i.executions != 1 || i.callbacks.len() != 1));
    for (id, invocation) in odd.take(20) {
        let statuses: Vec<String> = invocation
            .callbacks
            .iter()
            .map(|s| status_name(*s))
            .collect();
        let _ = writeln!(
            out,
            "  call {id}: {} executions, callbacks [{}]",
            invocation.executions,
            statuses.join(", ")
        );
    }
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
    let tally = &run.tally;
    let answered = tally.answered();
    let total = duration_ns(run);
    let _ = writeln!(out, "\nSummary:");
    let _ = writeln!(out, "  Total:\t{} secs", secs4(total));
    if answered > 0 {
        let (slowest, fastest) = (tally.slowest_ns, tally.fastest_ns);
        let average = (tally.latency_sum_ns / u128::from(answered)) as Nanos;
        let _ = writeln!(out, "  Slowest:\t{} secs", secs4(slowest));
        let _ = writeln!(out, "  Fastest:\t{} secs", secs4(fastest));
        let _ = writeln!(out, "  Average:\t{} secs", secs4(average));
        if total > 0 {
            let _ = writeln!(
                out,
                "  Requests/sec:\t{:.4}",
                answered as f64 / seconds(total)
            );
        }
        let _ = writeln!(out, "\nResponse time histogram:");
        let buckets = 10u64;
        let width = (slowest - fastest).max(1);
        let mut counts = vec![0u64; buckets as usize + 1];
        let mut count = |latency: Nanos, times: u64| {
            let index =
                ((latency - fastest) as u128 * u128::from(buckets) / u128::from(width)) as usize;
            counts[index.min(buckets as usize)] += times;
        };
        if run.streamed() {
            // The sketch's buckets, each at its middle (inside the exact fastest and slowest).
            for (latency, times) in tally.sketch.buckets() {
                count(latency.clamp(fastest, slowest), times);
            }
        } else {
            for record in &result.ledger {
                if let Some(end) = record.end_ns {
                    count(end - record.start_ns, 1);
                }
            }
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
    if let Some(invocations) = &result.invocations {
        invocations_text(&mut out, invocations);
    }
    let _ = write!(out, "\nVerdict: {}", run.verdict().name());
    if run.verdict() == Verdict::Unfinished {
        let _ = write!(
            out,
            " ({} requests still in flight when the run stopped at {}; if its `limit` cut \
             them, raise it to see how they end)",
            run.unfinished(),
            stamp(result.end_ns)
        );
    }
    let _ = writeln!(out);
    for violation in &run.violations {
        let mut what = Vec::new();
        if !violation.requests.is_empty() {
            let ids: Vec<String> = violation
                .requests
                .iter()
                .take(20)
                .map(|r| r.to_string())
                .collect();
            let more = (violation.requests.len() as u64 + violation.omitted).saturating_sub(20);
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
