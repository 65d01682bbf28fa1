//! One self-contained HTML page of a run (no script, font or style from the network): the
//! headline, the summary (status codes, outcomes, times), the warnings, the violations with
//! links to the requests and pods they name (the bars `#req-N` and lanes `#pod-NAME` of the
//! picture), the SVG itself (hovering a bar shows the request's hops, from its `<title>`), the
//! pods, and the timeline as a table. The page is well-formed XML (XHTML syntax), so that an
//! XML parser can check it as a person would read it.

use std::fmt::Write as _;

use faasim_model::time::{Nanos, seconds};

use super::{escape, stamp};
use crate::Run;
use crate::report::{self, Header};

/// Timelines longer than this leave out the lines of requests that went well, as the text
/// report does.
const TIMELINE_FULL_MAX: usize = 400;
/// At most this many requests a violation links to; the rest are counted.
const LINKS_MAX: usize = 200;

/// The page's own stylesheet.
const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}\
td.t,td.n{font-family:ui-monospace,monospace;text-align:right}\
.picture{overflow-x:auto;border:1px solid #ddd}\
.verdict-fail{color:#b71c1c}.verdict-pass{color:#2e7d32}.verdict-unfinished{color:#757575}\
rect:target{stroke:#000;stroke-width:2}g:target .lane-bg{fill:#fff59d}tr:target{background:#fff59d}\
.omitted{color:#757575;font-style:italic}";

/// The page of `run`, with `picture` (the SVG of [`super::svg::render`]) inside it.
pub fn render(run: &Run, header: &Header, picture: &str) -> String {
    let result = &run.result;
    let mut out = String::with_capacity(picture.len() + 64 * 1024);
    let verdict = run.verdict().name();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\
         <meta charset=\"utf-8\"/><title>{} (seed {}): {verdict}</title><style>{CSS}</style></head>\n<body>",
        escape(&header.name),
        run.seed
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p id=\"verdict\" class=\"verdict-{verdict}\">Verdict: <b>{verdict}</b>, seed {}, source <code>{}</code></p>",
        escape(&header.name),
        run.seed,
        escape(&header.source)
    );
    summary(&mut out, run);
    if !header.warnings.is_empty() {
        out.push_str("<h2 id=\"warnings\">Warnings</h2>\n<ul>\n");
        for warning in &header.warnings {
            let _ = writeln!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul>\n");
    }
    violations(&mut out, run);
    let _ = writeln!(
        out,
        "<h2 id=\"picture\">Timeline picture</h2>\n<p>Hover a bar for the request's hops, a mark for what happened.</p>\n<div class=\"picture\">\n{picture}</div>"
    );
    out.push_str("<h2 id=\"pods\">Pods</h2>\n<table class=\"pods\"><tr><th>pod</th><th>revision</th><th>end</th><th>at</th><th>terminating</th><th>restarts</th></tr>\n");
    for pod in &result.pods {
        let _ = writeln!(
            out,
            "<tr id=\"row-pod-{name}\"><td><a href=\"#pod-{name}\">{name}</a></td><td class=\"n\">{}</td><td>{}</td><td class=\"t\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            pod.revision,
            pod.end.name(),
            pod.end_ns.map(stamp).unwrap_or_default(),
            pod.terminating,
            pod.restarts,
            name = escape(&pod.name)
        );
    }
    out.push_str("</table>\n");
    timeline(&mut out, run);
    out.push_str("</body>\n</html>\n");
    out
}

/// The summary table: counts per status and outcome, the times.
fn summary(out: &mut String, run: &Run) {
    let result = &run.result;
    out.push_str("<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\">\n");
    let latencies: Vec<Nanos> = result
        .ledger
        .iter()
        .filter_map(|r| r.end_ns.map(|end| end - r.start_ns))
        .collect();
    let _ = writeln!(
        out,
        "<tr><th>requests</th><td class=\"n\">{}</td></tr>\n<tr><th>total (first send to last answer)</th><td class=\"t\">{:.4} s</td></tr>",
        result.ledger.len(),
        seconds(report::duration_ns(run))
    );
    if let (Some(fastest), Some(slowest)) = (latencies.iter().min(), latencies.iter().max()) {
        let _ = writeln!(
            out,
            "<tr><th>fastest</th><td class=\"t\">{:.4} s</td></tr>\n<tr><th>slowest</th><td class=\"t\">{:.4} s</td></tr>",
            seconds(*fastest),
            seconds(*slowest)
        );
    }
    for (status, count) in report::status_counts(run) {
        let _ = writeln!(
            out,
            "<tr><th>status {}</th><td class=\"n\">{count}</td></tr>",
            escape(&status)
        );
    }
    for (outcome, count) in report::outcome_counts(run) {
        if count > 0 {
            let _ = writeln!(
                out,
                "<tr class=\"outcome\"><th>{outcome}</th><td class=\"n\">{count}</td></tr>"
            );
        }
    }
    let _ = writeln!(
        out,
        "<tr><th>simulated events</th><td class=\"n\">{}</td></tr>\n<tr><th>run ended at</th><td class=\"t\">{}</td></tr>\n</table>",
        result.events,
        stamp(result.end_ns)
    );
}

/// The violations, each with links to the requests and pods it names.
fn violations(out: &mut String, run: &Run) {
    out.push_str("<h2 id=\"violations\">Violations</h2>\n");
    if run.violations.is_empty() {
        out.push_str("<p>none</p>\n");
        return;
    }
    out.push_str("<ul class=\"violations\">\n");
    for violation in &run.violations {
        let name = violation.property.name();
        let _ = write!(out, "<li id=\"violation-{name}\"><b>{name}</b>");
        if !violation.requests.is_empty() {
            out.push_str(": requests ");
            let links: Vec<String> = violation
                .requests
                .iter()
                .take(LINKS_MAX)
                .map(|id| format!("<a class=\"request\" href=\"#req-{id}\">{id}</a>"))
                .collect();
            out.push_str(&links.join(", "));
            let more = violation.requests.len().saturating_sub(LINKS_MAX);
            if more > 0 {
                let _ = write!(out, " and {more} more");
            }
        }
        if !violation.pods.is_empty() {
            out.push_str("; pods ");
            let links: Vec<String> = violation
                .pods
                .iter()
                .map(|pod| {
                    let pod = escape(pod);
                    format!("<a class=\"pod\" href=\"#pod-{pod}\">{pod}</a>")
                })
                .collect();
            out.push_str(&links.join(", "));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

/// The timeline as a table, leaving out the requests that went well when it is long.
fn timeline(out: &mut String, run: &Run) {
    let trace = &run.result.trace;
    out.push_str("<h2 id=\"timeline\">Timeline</h2>\n");
    if trace.is_empty() {
        out.push_str("<p>The timeline was not recorded (--no-timeline).</p>\n");
        return;
    }
    out.push_str("<table class=\"timeline\"><tr><th>time</th><th>who</th><th>what</th></tr>\n");
    let long = trace.len() > TIMELINE_FULL_MAX;
    let mut omitted = 0;
    for (index, line) in trace.iter().enumerate() {
        if long && line.who == "client" && line.what.contains("(ok,") {
            omitted += 1;
            continue;
        }
        let _ = writeln!(
            out,
            "<tr id=\"t-{index}\"><td class=\"t\">{}</td><td>{}</td><td>{}</td></tr>",
            stamp(line.at_ns),
            escape(&line.who),
            escape(&line.what)
        );
    }
    out.push_str("</table>\n");
    if omitted > 0 {
        let _ = writeln!(
            out,
            "<p class=\"omitted\">{omitted} requests answered 200 not listed; --format json has every line.</p>"
        );
    }
}
