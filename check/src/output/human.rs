//! The `human` format (the default).
//!
//! One header line per function (`name  file:line`), then each finding as
//! `severity[rule] key at file:line:col`, its message, what the simulator saw (which request,
//! which status, when, the seed and how to rerun it), the smallest safe value (with a sentence
//! when the simulator and the rule's inequality disagree), and last its one-line `fix:`. A
//! clean function prints `ok`. A summary line closes the report:
//! `N functions, N errors, N warnings, N notes`. ANSI colour only with
//! [`RenderOptions::color`].

use std::fmt::Write as _;

use super::{RenderOptions, counts, groups, origin_text, statuses_text};
use crate::{Counterexample, Finding, FunctionInput, Report, SafeValue, Severity};

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

pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
    let paint = Paint { on: options.color };
    let mut out = String::new();
    for group in groups(report) {
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
        for finding in &group.findings {
            human_finding(&mut out, &paint, group.input, finding);
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

fn human_finding(
    out: &mut String,
    paint: &Paint,
    input: Option<&FunctionInput>,
    finding: &Finding,
) {
    let head = paint.severity(
        finding.severity,
        &format!("{}[{}]", finding.severity.name(), finding.rule),
    );
    let place = match (&finding.location, input) {
        (Some(l), _) => format!("at {}:{}:{}", l.file, l.line, l.column),
        (None, Some(input)) => {
            let how = input
                .origin(&finding.key)
                .map(|p| origin_text(&p.origin))
                .unwrap_or_else(|| "not written in any file".to_string());
            format!(
                "({how}; function at {}:{}:{})",
                input.location.file, input.location.line, input.location.column
            )
        }
        (None, None) => "(not written in any file)".to_string(),
    };
    let _ = writeln!(out, "  {head} {} {place}", finding.key);
    push_block(out, "    ", &finding.message);
    if let Some(cx) = &finding.counterexample {
        human_counterexample(out, cx);
    }
    if let Some(safe) = &finding.safe_value {
        human_safe_value(out, safe);
    }
    let _ = writeln!(out, "    {}", paint.green(&format!("fix: {}", finding.fix)));
}

fn human_counterexample(out: &mut String, cx: &Counterexample) {
    let _ = writeln!(out, "    simulated: {}", cx.saw);
    let mut details = format!("seed {}", cx.seed);
    if !cx.statuses.is_empty() {
        let _ = write!(details, "; statuses {}", statuses_text(&cx.statuses));
    }
    if !cx.violated.is_empty() {
        let _ = write!(details, "; violates {}", cx.violated.join(", "));
    }
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
