//! The `html` format: one self-contained page (no script, font or style from the network) that
//! shows each finding's failure as a picture.
//!
//! The page lists functions in report order and each function's findings as every format does
//! (errors, warnings, notes): the rule (linked to its page when the rule-help base is given),
//! where the value is written (`file:line:col`) or where it came from, the message, what the
//! simulator saw, the smallest safe value and the fix. A finding with a counterexample shows
//! its witness run as the swimlane SVG of `faasim run --format svg`, drawn by
//! `faasim_sim::picture` from the run of the counterexample's scenario at its seed (the same
//! run the check made: the simulator is deterministic), with the scenario itself under it to
//! rerun. The page is well-formed XML (XHTML syntax), so that an XML parser can check it as a
//! person would read it. Unlike `human`, findings several functions share are not folded: each
//! function's section is complete on its own, and a shared witness is drawn once and reused.

use std::collections::HashMap;
use std::fmt::Write as _;

use faasim_sim::picture::escape;
use faasim_sim::report::Header;
use faasim_sim::{picture, scenario, simulate_scenario};

use super::{RenderOptions, assumptions, counts, edition_of, groups, origin_text, witness_details};
use crate::{Counterexample, Finding, FunctionInput, Report, SafeValue};

/// The page's own stylesheet.
const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1600px}\
h1{font-size:1.3em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px solid #ddd}\
h3{font-size:1em}code,pre{font-family:ui-monospace,monospace}\
.finding{margin:1em 0 2em 0;padding-left:.8em;border-left:4px solid #999}\
.severity-error{border-color:#c62828}.severity-warning{border-color:#f9a825}.severity-note{border-color:#0277bd}\
.severity-error .severity{color:#c62828}.severity-warning .severity{color:#9a6700}.severity-note .severity{color:#0277bd}\
.ok{color:#2e7d32}.where{color:#666;font-weight:normal;font-size:.9em}\
.picture{overflow-x:auto;border:1px solid #ddd;margin:.5em 0}\
.fix{color:#1b5e20}pre{background:#f6f8fa;padding:.5em;overflow-x:auto}";

/// The page of `report`.
pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
    let counts = counts(report);
    let mut out = String::new();
    let summary = format!(
        "{} functions, {} errors, {} warnings, {} notes",
        counts.functions, counts.errors, counts.warnings, counts.notes
    );
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\
         <meta charset=\"utf-8\"/><title>faasim check: {summary}</title><style>{CSS}</style></head>\n<body>"
    );
    let _ = writeln!(
        out,
        "<h1>faasim check</h1>\n<p id=\"summary\">{summary}. Each finding was proven by a simulated \
         run; its picture shows that run: a lane per client worker, gateway and pod, a bar per \
         request coloured by outcome (hover a bar for its hops).</p>"
    );
    if let Some((edition, origin)) = edition_of(report) {
        let _ = writeln!(
            out,
            "<p id=\"edition\">Checked as OpenFaaS {} ({}).</p>",
            escape(edition),
            escape(&origin_text(origin))
        );
    }
    // A witness several findings share (the same scenario and seed) is simulated once.
    let mut drawn: HashMap<(&str, u64), String> = HashMap::new();
    let mut index = 0;
    for group in groups(report) {
        let _ = write!(
            out,
            "<section class=\"function\" data-function=\"{name}\">\n<h2>{name}",
            name = escape(group.name)
        );
        if let Some(input) = group.input {
            let _ = write!(
                out,
                " <span class=\"where\">{}:{}</span>",
                escape(&input.location.file),
                input.location.line
            );
        }
        out.push_str("</h2>\n");
        if group.findings.is_empty() {
            out.push_str("<p class=\"ok\">ok: no rule broken</p>\n");
        }
        for finding in &group.findings {
            finding_html(&mut out, options, group.input, finding, index, &mut drawn);
            index += 1;
        }
        out.push_str("</section>\n");
    }
    let assumed = assumptions(report);
    if !assumed.is_empty() {
        out.push_str("<h2 id=\"assumed\">Assumed, where the files cannot show it</h2>\n<ul>\n");
        for (name, text) in assumed {
            let _ = writeln!(out, "<li><b>{}</b>: {}</li>", escape(name), escape(text));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The rule's page, when the rule-help base names one and the rule is a model rule (the input
/// rules have no page of their own).
fn rule_link(options: &RenderOptions, rule: &str) -> Option<String> {
    let base = options.rule_help_base.as_deref()?;
    faasim_model::rules::Rule::parse_id(rule)?;
    Some(format!("{base}#{rule}"))
}

/// One finding, the `index`-th of the page (its id `finding-INDEX`).
fn finding_html<'r>(
    out: &mut String,
    options: &RenderOptions,
    input: Option<&FunctionInput>,
    finding: &'r Finding,
    index: usize,
    drawn: &mut HashMap<(&'r str, u64), String>,
) {
    let severity = finding.severity.name();
    let _ = write!(
        out,
        "<article class=\"finding severity-{severity}\" id=\"finding-{index}\" data-rule=\"{rule}\" \
         data-witness=\"{}\">\n<h3><span class=\"severity\">{severity}</span> ",
        finding.counterexample.is_some(),
        rule = escape(&finding.rule)
    );
    match rule_link(options, &finding.rule) {
        Some(link) => {
            let _ = write!(
                out,
                "<a class=\"rule\" href=\"{}\">{}</a>",
                escape(&link),
                escape(&finding.rule)
            );
        }
        None => {
            let _ = write!(out, "<span class=\"rule\">{}</span>", escape(&finding.rule));
        }
    }
    let _ = write!(out, " <code>{}</code> ", escape(&finding.key));
    match (&finding.location, input) {
        (Some(l), _) => {
            let _ = write!(
                out,
                "at <code class=\"location\">{}:{}:{}</code>",
                escape(&l.file),
                l.line,
                l.column
            );
        }
        (None, Some(input)) => {
            let how = input
                .origin(&finding.key)
                .map(|p| origin_text(&p.origin))
                .unwrap_or_else(|| "not written in any file".to_string());
            let _ = write!(
                out,
                "<span class=\"where\">({}; function at {}:{}:{})</span>",
                escape(&how),
                escape(&input.location.file),
                input.location.line,
                input.location.column
            );
        }
        (None, None) => out.push_str("<span class=\"where\">(not written in any file)</span>"),
    }
    out.push_str("</h3>\n");
    for line in finding.message.lines() {
        let _ = writeln!(out, "<p class=\"message\">{}</p>", escape(line));
    }
    if let Some(cx) = &finding.counterexample {
        witness_html(out, cx, drawn, index);
    }
    if let Some(safe) = &finding.safe_value {
        safe_value_html(out, safe);
    }
    let _ = writeln!(
        out,
        "<p class=\"fix\"><b>Fix:</b> {}</p>\n</article>",
        escape(&finding.fix)
    );
}

/// What the simulator saw, the picture of the run, and the scenario to rerun it.
fn witness_html<'r>(
    out: &mut String,
    cx: &'r Counterexample,
    drawn: &mut HashMap<(&'r str, u64), String>,
    index: usize,
) {
    let details = witness_details(cx);
    let _ = writeln!(
        out,
        "<p class=\"saw\"><b>Simulated:</b> {} ({})</p>",
        escape(&cx.saw),
        escape(&details)
    );
    let picture = drawn
        .entry((cx.scenario_yaml.as_str(), cx.seed))
        .or_insert_with(|| witness_svg(cx));
    // Each picture's ids (`req-N`, `pod-NAME`) are made the finding's own, so that a page of
    // several pictures keeps its ids unique and the links of one picture stay in it.
    let picture = picture.replace(" id=\"", &format!(" id=\"f{index}-"));
    let _ = writeln!(out, "<div class=\"picture\">\n{picture}</div>");
    let _ = writeln!(
        out,
        "<details><summary>The scenario of this run (save it and run <code>faasim run FILE --seed {}</code>)</summary>\n<pre class=\"scenario\">{}</pre></details>",
        cx.seed,
        escape(&cx.scenario_yaml)
    );
}

/// The SVG of a counterexample's run, or a paragraph saying why there is none (a scenario
/// that does not load, which a report made by `faasim check` never has).
fn witness_svg(cx: &Counterexample) -> String {
    match scenario::parse(&cx.scenario_yaml, "counterexample") {
        Ok(loaded) => {
            let run = simulate_scenario(&loaded, cx.seed, true);
            let header = Header::of_run(&loaded, &run);
            picture::svg(&run, &header, &loaded.events)
        }
        Err(error) => format!(
            "<p class=\"no-picture\">The run could not be drawn: {}</p>\n",
            escape(&error.to_string())
        ),
    }
}

fn safe_value_html(out: &mut String, safe: &SafeValue) {
    let text = if safe.differs {
        format!(
            "smallest safe {}: {} by simulation; the simulator and the rule's inequality \
             disagree: the inequality gives {}",
            safe.key, safe.simulated, safe.inequality
        )
    } else {
        format!(
            "smallest safe {}: {} (simulation and inequality agree)",
            safe.key, safe.simulated
        )
    };
    let _ = writeln!(out, "<p class=\"safe\">{}</p>", escape(&text));
}
