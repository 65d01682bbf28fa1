//! The `human` format (the default).
//!
//! A first line says which edition the functions were checked as and where that came from.
//! Then one header line per function (`name  file:line`), then each finding as
//! `severity[rule] key at file:line:col`, its message, what the simulator saw (which request,
//! which status, when, the seed and how to rerun it), the smallest safe value (with a sentence
//! when the simulator and the rule's inequality disagree), and last its one-line `fix:`. A
//! clean function prints `ok`. A finding that several functions share word for word (the same
//! rule, values, message, fix and run, but for the function's name) is printed once, in a block
//! naming them all, after the first of them; a function whose findings are all shared has no
//! section of its own. Then what was assumed where the files are silent (a function's template),
//! one line per function. A summary line closes the report, counting every function's findings:
//! `N functions, N errors, N warnings, N notes`. ANSI colour only with
//! [`RenderOptions::color`].

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{RenderOptions, assumptions, counts, edition_of, groups, origin_text, witness_details};
use crate::{
    Counterexample, Finding, FunctionInput, Location, Origin, Report, SafeValue, Severity,
};

/// ANSI colours, or none.
struct Paint {
    /// Whether to colour.
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn green(&self, text: &str) -> String {
        self.wrap("32", text)
    }
    fn severity(&self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Error => self.wrap("1;31", text),
            Severity::Warning => self.wrap("1;33", text),
            Severity::Note => self.wrap("1;36", text),
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Push `text` as lines indented by `indent`, continuation lines included.
fn push_block(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// Where the edition came from, as the report's first line.
fn edition_line(report: &Report) -> Option<String> {
    let (edition, origin) = edition_of(report)?;
    Some(match origin {
        Origin::Default => format!(
            "edition {edition} (the default: no --edition, no .faasim.yaml edition, no \
             openfaasPro in the chart's values)"
        ),
        origin => format!("edition {edition}, from {}", origin_text(origin)),
    })
}

/// Where the finding's value is written, when that is not just its function's own entry.
fn written_at<'f>(finding: &'f Finding, input: Option<&FunctionInput>) -> Option<&'f Location> {
    finding
        .location
        .as_ref()
        .filter(|l| input.is_none_or(|i| **l != i.location))
}

/// What makes two functions' findings the same finding: everything but the function's name
/// (which the counterexample's pod names carry).
fn signature(finding: &Finding, input: Option<&FunctionInput>) -> String {
    let name = finding.function.as_str();
    let unname = |text: &str| text.replace(name, "\u{0}");
    // A value written nowhere is placed at its function, which differs between functions.
    let location = written_at(finding, input);
    let origin = match (location, input) {
        (None, Some(input)) => input.origin(&finding.key).map(|p| origin_text(&p.origin)),
        _ => None,
    };
    format!(
        "{}|{}|{}|{:?}|{:?}|{}|{}|{:?}|{:?}",
        finding.rule,
        finding.severity.name(),
        finding.key,
        location,
        origin,
        unname(&finding.message),
        unname(&finding.fix),
        finding.safe_value,
        finding.counterexample.as_ref().map(|cx| (
            unname(&cx.saw),
            cx.seed,
            &cx.statuses,
            &cx.violated
        )),
    )
}

pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
    let paint = Paint { on: options.color };
    let mut out = String::new();
    if let Some(line) = edition_line(report) {
        let _ = writeln!(out, "{}\n", paint.dim(&line));
    }
    let groups = groups(report);
    // Each finding's signature, and the groups (functions) that have it.
    let signatures: Vec<Vec<String>> = groups
        .iter()
        .map(|g| g.findings.iter().map(|f| signature(f, g.input)).collect())
        .collect();
    // The groups holding each signature, in order, indexed once: looking each finding up
    // among every group's findings made a large stack quadratic.
    let mut holding: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, sigs) in signatures.iter().enumerate() {
        if groups[index].input.is_none() {
            continue;
        }
        for sig in sigs {
            let holders = holding.entry(sig.as_str()).or_default();
            // Indexes only grow: a group holding a signature twice is listed once.
            if holders.last() != Some(&index) {
                holders.push(index);
            }
        }
    }
    let holders = |sig: &str| -> &[usize] { holding.get(sig).map_or(&[], Vec::as_slice) };
    for (index, group) in groups.iter().enumerate() {
        let mut own = Vec::new();
        let mut shared_here = Vec::new();
        for (finding, sig) in group.findings.iter().zip(&signatures[index]) {
            let holders = holders(sig);
            if group.input.is_some() && holders.len() > 1 {
                if holders[0] == index {
                    shared_here.push((*finding, holders.to_vec()));
                }
            } else {
                own.push(*finding);
            }
        }
        if !own.is_empty() || group.findings.is_empty() {
            match group.input {
                Some(input) => {
                    let _ = writeln!(
                        out,
                        "{}  {}",
                        paint.bold(group.name),
                        paint.dim(&format!("{}:{}", input.location.file, input.location.line))
                    );
                }
                None => {
                    let _ = writeln!(out, "{}", paint.bold(group.name));
                }
            }
            if group.findings.is_empty() {
                let _ = writeln!(out, "  {}", paint.green("ok: no rule broken"));
            }
            for finding in &own {
                let inputs: Vec<&FunctionInput> = group.input.into_iter().collect();
                human_finding(&mut out, &paint, &inputs, finding);
            }
            out.push('\n');
        }
        // One block per set of functions, its findings in order.
        let mut blocks: Vec<(Vec<usize>, Vec<&Finding>)> = Vec::new();
        for (finding, holders) in shared_here {
            match blocks.iter_mut().find(|(h, _)| *h == holders) {
                Some((_, findings)) => findings.push(finding),
                None => blocks.push((holders, vec![finding])),
            }
        }
        for (holders, findings) in blocks {
            let inputs: Vec<&FunctionInput> =
                holders.iter().filter_map(|&i| groups[i].input).collect();
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            let places: Vec<String> = inputs
                .iter()
                .map(|i| format!("{}:{}", i.location.file, i.location.line))
                .collect();
            let _ = writeln!(
                out,
                "{}  {}",
                paint.bold(&names.join(", ")),
                paint.dim(&format!(
                    "{} ({} functions, the same {})",
                    places.join(", "),
                    inputs.len(),
                    if findings.len() == 1 {
                        "finding"
                    } else {
                        "findings"
                    }
                ))
            );
            for finding in findings {
                human_finding(&mut out, &paint, &inputs, finding);
            }
            out.push('\n');
        }
    }
    // What faasim assumed where the files are silent, so that a user can settle it.
    let assumed = assumptions(report);
    if !assumed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.bold("assumed, where the files cannot show it:")
        );
        for (name, text) in assumed {
            let _ = writeln!(out, "  {name}: {text}");
        }
        out.push('\n');
    }
    let counts = counts(report);
    let _ = writeln!(
        out,
        "{}, {}, {}, {}",
        plural(counts.functions, "function", "functions"),
        plural(counts.errors, "error", "errors"),
        plural(counts.warnings, "warning", "warnings"),
        plural(counts.notes, "note", "notes"),
    );
    out
}

/// One finding; `inputs` are the functions it is about (several when it is shared; none when
/// the report does not list its function).
fn human_finding(out: &mut String, paint: &Paint, inputs: &[&FunctionInput], finding: &Finding) {
    let head = paint.severity(
        finding.severity,
        &format!("{}[{}]", finding.severity.name(), finding.rule),
    );
    // A shared finding whose value is written nowhere is placed at every function's entry.
    let location = match inputs {
        [_, _, ..] => written_at(finding, inputs.first().copied()),
        _ => finding.location.as_ref(),
    };
    let place = match (location, inputs.first()) {
        (Some(l), _) => format!("at {}:{}:{}", l.file, l.line, l.column),
        (None, Some(input)) => {
            let how = input
                .origin(&finding.key)
                .map(|p| origin_text(&p.origin))
                .unwrap_or_else(|| "not written in any file".to_string());
            let at: Vec<String> = inputs
                .iter()
                .map(|i| {
                    format!(
                        "{}:{}:{}",
                        i.location.file, i.location.line, i.location.column
                    )
                })
                .collect();
            let noun = if inputs.len() > 1 {
                "functions"
            } else {
                "function"
            };
            format!("({how}; {noun} at {})", at.join(", "))
        }
        (None, None) => "(not written in any file)".to_string(),
    };
    let _ = writeln!(out, "  {head} {} {place}", finding.key);
    push_block(out, "    ", &finding.message);
    if let Some(cx) = &finding.counterexample {
        let on = (inputs.len() > 1).then_some(finding.function.as_str());
        human_counterexample(out, cx, on);
    }
    if let Some(safe) = &finding.safe_value {
        human_safe_value(out, safe);
    }
    let _ = writeln!(out, "    {}", paint.green(&format!("fix: {}", finding.fix)));
}

/// The run that shows a finding; `on` names the function it ran for when the finding is
/// shared (the others' runs differ only in names).
fn human_counterexample(out: &mut String, cx: &Counterexample, on: Option<&str>) {
    match on {
        Some(name) => {
            let _ = writeln!(out, "    simulated ({name}): {}", cx.saw);
        }
        None => {
            let _ = writeln!(out, "    simulated: {}", cx.saw);
        }
    }
    let details = witness_details(cx);
    let _ = writeln!(
        out,
        "      {details}; rerun: faasim run SCENARIO --seed {} (the scenario is in -o json)",
        cx.seed
    );
}

fn human_safe_value(out: &mut String, safe: &SafeValue) {
    if safe.differs {
        let _ = writeln!(
            out,
            "    smallest safe {}: {} by simulation; the simulator and the rule's inequality \
             disagree: the inequality gives {}",
            safe.key, safe.simulated, safe.inequality
        );
    } else {
        let _ = writeln!(
            out,
            "    smallest safe {}: {} (simulation and inequality agree)",
            safe.key, safe.simulated
        );
    }
}
