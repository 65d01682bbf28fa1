//! Pictures of a run, for people: `faasim run --format svg` (a swimlane timeline), `html` (one
//! self-contained page with the picture, the summary, the violations and the timeline) and
//! `perfetto` (Trace Event Format JSON for ui.perfetto.dev and chrome://tracing).
//!
//! Each format is drawn from the run alone (its ledger, pod summaries and timeline lines) and
//! the scenario's events, with integer time and fixed rounding: the same seed gives the same
//! bytes. [`story`] reads what happened to each component, [`layout`] places it, [`svg`],
//! [`html`] and [`perfetto`] write it, [`style`] holds the colours.

pub mod html;
pub mod layout;
pub mod perfetto;
pub mod story;
pub mod style;
pub mod svg;

use faasim_model::ledger::Record;
use faasim_model::schedule::Event;
use faasim_model::time::Nanos;

use crate::Run;
use crate::report::{self, Header};

/// The swimlane SVG of `run` of a scenario with `events`.
pub fn svg(run: &Run, header: &Header, events: &[Event]) -> String {
    let story = story::read(run, events);
    svg::render(run, header, &story)
}

/// The self-contained HTML page of `run` of a scenario with `events`.
pub fn html(run: &Run, header: &Header, events: &[Event]) -> String {
    let story = story::read(run, events);
    let picture = svg::render(run, header, &story);
    html::render(run, header, &picture)
}

/// The Trace Event Format JSON of `run` of a scenario with `events`.
pub fn perfetto(run: &Run, header: &Header, events: &[Event]) -> String {
    let story = story::read(run, events);
    perfetto::render(run, header, &story)
}

/// `text` with the five XML special characters escaped, for element text and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `12.345s`, as the text report's timeline writes times.
pub fn stamp(ns: Nanos) -> String {
    faasim_model::time::stamp(ns)
}

/// The name of pod `id`, or `-`.
pub fn pod_name(pods: &[String], id: Option<u32>) -> &str {
    id.and_then(|id| pods.get(id as usize))
        .map_or("-", String::as_str)
}

/// The hops of a request, for a tooltip: who sent it, where it went, what ended it.
pub fn describe(record: &Record, pods: &[String]) -> String {
    let answer = match (record.end_ns, record.status) {
        (Some(end), Some(status)) => format!(
            "answered {} after {}: {status} {}",
            stamp(end),
            stamp(end - record.start_ns),
            record.outcome.name()
        ),
        _ => "unfinished when the run stopped".to_string(),
    };
    let mut hops = format!("client worker {} → gateway → provider", record.worker);
    match record.pod {
        Some(_) => {
            hops.push_str(" → ");
            hops.push_str(pod_name(pods, record.pod));
            hops.push_str(" (watchdog → child)");
        }
        None => hops.push_str(" → no pod"),
    }
    let mut notes = Vec::new();
    if let Some(cause) = record.cause {
        notes.push(format!("ended by {}", cause.name()));
    }
    if let Some(lost) = record.lost {
        notes.push(format!("lost at the pod: {}", lost.name()));
    }
    if record.refused {
        notes.push("refused by a pod".to_string());
    }
    if record.retried {
        notes.push("retried once by Go's transport".to_string());
    }
    format!(
        "request {} sent {}, {answer}\n{hops}\n{}",
        record.id,
        stamp(record.start_ns),
        notes.join("; ")
    )
}

/// The one-line headline of a picture: the scenario, the seed, the verdict, the outcomes.
pub fn headline(run: &Run, header: &Header) -> String {
    let outcomes: Vec<String> = report::outcome_counts(run)
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    format!(
        "{} (seed {}): {}, {} requests: {}",
        header.name,
        run.seed,
        run.verdict().name(),
        run.result.ledger.len(),
        outcomes.join(", ")
    )
}
