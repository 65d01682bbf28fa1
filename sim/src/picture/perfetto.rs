//! The run as Trace Event Format JSON, which ui.perfetto.dev and chrome://tracing open: a
//! process per component (the client, the gateway, the other components, the function's pods,
//! the scenario), a thread per client worker and per pod, a complete (`X`) slice per request
//! hop and per phase of a pod's life, instant (`i`) events for signals, timers and notes, and
//! metadata (`M`) events naming every process and thread.
//!
//! Slices on one thread must nest, and requests overlap: a worker's or a pod's requests are
//! packed into rows that never overlap, one thread each (`worker 0`, `worker 0 #2`,
//! `api-r1-0 requests`). The ledger keeps a request's send and answer, not the instant each
//! hop took it, so a request's slice on its pod spans the same time as on the client.
//! Timestamps are microseconds (`ts`, `dur`), from the simulator's integer nanoseconds. A
//! request's full details (its hops, cause, retry) are in the `args` of its client slice when
//! it failed; an answered request's carry its id, worker, status and pod, and its pod slice
//! only its id, to keep a run of 120 000 requests loadable.

use serde::Serialize;
use serde_json::{Value, json};

use faasim_model::ledger::{Outcome, Record};
use faasim_model::time::Nanos;

use super::layout;
use super::story::{Life, Mark, Span, Story};
use super::{describe, pod_name};
use crate::Run;
use crate::report::Header;

/// The client's process id.
const PID_CLIENT: u32 = 1;
/// The gateway's process id.
const PID_GATEWAY: u32 = 2;
/// The other components' process id (ingress, provider, nodes).
const PID_COMPONENTS: u32 = 3;
/// The function's pods' process id.
const PID_PODS: u32 = 4;
/// The scenario's events' process id.
const PID_SCENARIO: u32 = 5;

/// One event of the Trace Event Format.
#[derive(Serialize)]
struct TraceEvent {
    /// `name`: what it is.
    name: String,
    /// `cat`: its category (an outcome, a phase, `signal`, ...).
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'static str,
    /// `ph`: the phase: `X` complete, `i` instant, `M` metadata.
    ph: &'static str,
    /// `ts`: when, microseconds.
    ts: f64,
    /// `dur`: how long (`X` only), microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    /// `pid`: the process.
    pid: u32,
    /// `tid`: the thread.
    tid: u32,
    /// `s`: an instant's scope: `t` thread, `g` global.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    /// `args`: details shown when the event is selected.
    #[serde(skip_serializing_if = "Value::is_null")]
    args: Value,
}

/// Microseconds of `ns`.
fn micros(ns: Nanos) -> f64 {
    ns as f64 / 1000.0
}

/// The events being written, with the next free thread id.
struct Trace {
    /// Every event so far.
    events: Vec<TraceEvent>,
    /// The next thread id (unique across processes, which the format allows).
    next_tid: u32,
}

impl Trace {
    /// A metadata event naming a process or a thread.
    fn meta(&mut self, what: &'static str, pid: u32, tid: u32, name: &str) {
        self.events.push(TraceEvent {
            name: what.to_string(),
            cat: "",
            ph: "M",
            ts: 0.0,
            dur: None,
            pid,
            tid,
            s: None,
            args: json!({ "name": name }),
        });
    }

    /// A new thread of `pid` called `name`.
    fn thread(&mut self, pid: u32, name: &str) -> u32 {
        let tid = self.next_tid;
        self.next_tid += 1;
        self.meta("thread_name", pid, tid, name);
        tid
    }

    /// A complete slice on thread `tid` of `pid`, over `span`.
    fn slice(
        &mut self,
        (pid, tid): (u32, u32),
        name: String,
        cat: &'static str,
        span: Span,
        args: Value,
    ) {
        let Span {
            from_ns: from,
            to_ns: to,
        } = span;
        self.events.push(TraceEvent {
            name,
            cat,
            ph: "X",
            ts: micros(from),
            dur: Some(micros(to.saturating_sub(from))),
            pid,
            tid,
            s: None,
            args,
        });
    }

    /// An instant event on a thread.
    fn instant(&mut self, pid: u32, tid: u32, mark: &Mark) {
        self.events.push(TraceEvent {
            name: mark.label.clone(),
            cat: mark.kind.name(),
            ph: "i",
            ts: micros(mark.at_ns),
            dur: None,
            pid,
            tid,
            s: Some("t"),
            args: Value::Null,
        });
    }

    /// A life's phases as slices and its marks as instants, on a new thread of `pid`.
    fn life(&mut self, pid: u32, life: &Life, end_ns: Nanos) {
        let tid = self.thread(pid, &life.name);
        for (span, phase) in life.phase_spans(end_ns) {
            self.slice(
                (pid, tid),
                phase.name().to_string(),
                phase.name(),
                span,
                Value::Null,
            );
        }
        for mark in &life.marks {
            self.instant(pid, tid, mark);
        }
        if let Some(at) = life.end_ns {
            self.instant(
                pid,
                tid,
                &Mark {
                    at_ns: at,
                    kind: super::story::MarkKind::Signal,
                    label: life.end.name().to_string(),
                },
            );
        }
    }

    /// `records` as slices on threads of `pid` named after `name`, packed so none overlaps.
    fn requests(
        &mut self,
        pid: u32,
        name: &str,
        records: &[&Record],
        pods: &[String],
        end_ns: Nanos,
        full: bool,
    ) {
        let (rows, count) = layout::pack(records, end_ns, 0);
        let tids: Vec<u32> = (0..count)
            .map(|row| {
                let thread = if row == 0 {
                    name.to_string()
                } else {
                    format!("{name} #{}", row + 1)
                };
                self.thread(pid, &thread)
            })
            .collect();
        for (record, row) in records.iter().zip(rows) {
            let args = if !full {
                json!({ "id": record.id })
            } else if record.outcome == Outcome::Ok {
                json!({
                    "id": record.id,
                    "worker": record.worker,
                    "status": record.status.map(|s| s.to_string()),
                    "pod": pod_name(pods, record.pod),
                })
            } else {
                json!({
                "id": record.id,
                "worker": record.worker,
                "status": record.status.map(|s| s.to_string()),
                "outcome": record.outcome.name(),
                "cause": record.cause.map(|c| c.name()),
                "pod": pod_name(pods, record.pod),
                "retried": record.retried,
                "hops": describe(record, pods),
                })
            };
            let span = Span {
                from_ns: record.start_ns,
                to_ns: layout::end_of(record, end_ns),
            };
            self.slice(
                (pid, tids[row]),
                format!("request {}", record.id),
                record.outcome.name(),
                span,
                args,
            );
        }
    }
}

/// The Trace Event Format JSON of `run`, told by `story`: one object with `traceEvents`, one
/// event a line.
pub fn render(run: &Run, header: &Header, story: &Story) -> String {
    let end_ns = story.end_ns;
    let ledger = &run.result.ledger;
    let pods: Vec<String> = story.pods.iter().map(|p| p.name.clone()).collect();
    let mut trace = Trace {
        events: Vec::new(),
        next_tid: 1,
    };
    for (pid, name) in [
        (PID_CLIENT, "client".to_string()),
        (PID_GATEWAY, "gateway".to_string()),
        (PID_COMPONENTS, "components".to_string()),
        (PID_PODS, format!("pods of {}", header.name)),
        (PID_SCENARIO, "scenario".to_string()),
    ] {
        trace.meta("process_name", pid, 0, &name);
        trace.events.push(TraceEvent {
            name: "process_sort_index".to_string(),
            cat: "",
            ph: "M",
            ts: 0.0,
            dur: None,
            pid,
            tid: 0,
            s: None,
            args: json!({ "sort_index": pid }),
        });
    }
    for worker in 0..story.workers {
        let records: Vec<&Record> = ledger.iter().filter(|r| r.worker == worker).collect();
        trace.requests(
            PID_CLIENT,
            &format!("worker {worker}"),
            &records,
            &pods,
            end_ns,
            true,
        );
    }
    trace.life(PID_GATEWAY, &story.gateway, end_ns);
    for life in &story.gateways {
        trace.life(PID_GATEWAY, life, end_ns);
    }
    for (name, marks) in &story.others {
        let tid = trace.thread(PID_COMPONENTS, name);
        for mark in marks {
            trace.instant(PID_COMPONENTS, tid, mark);
        }
    }
    for (index, life) in story.pods.iter().enumerate() {
        trace.life(PID_PODS, life, end_ns);
        let records: Vec<&Record> = ledger
            .iter()
            .filter(|r| r.pod == Some(index as u32))
            .collect();
        if !records.is_empty() {
            trace.requests(
                PID_PODS,
                &format!("{} requests", life.name),
                &records,
                &pods,
                end_ns,
                false,
            );
        }
    }
    let scenario_tid = trace.thread(PID_SCENARIO, "events");
    for happening in &story.happenings {
        trace.events.push(TraceEvent {
            name: happening.label.clone(),
            cat: "scenario",
            ph: "i",
            ts: micros(happening.at_ns),
            dur: None,
            pid: PID_SCENARIO,
            tid: scenario_tid,
            s: Some("g"),
            args: json!({ "detail": happening.detail }),
        });
    }
    let mut out = String::from("{\"displayTimeUnit\":\"ms\",\"otherData\":");
    out.push_str(
        &serde_json::to_string(&json!({
            "name": header.name,
            "source": header.source,
            "seed": run.seed,
            "verdict": run.verdict().name(),
        }))
        .unwrap_or_else(|_| "{}".to_string()),
    );
    out.push_str(",\"traceEvents\":[\n");
    for (index, event) in trace.events.iter().enumerate() {
        if index > 0 {
            out.push_str(",\n");
        }
        out.push_str(&serde_json::to_string(event).unwrap_or_else(|_| "{}".to_string()));
    }
    out.push_str("\n]}\n");
    out
}
