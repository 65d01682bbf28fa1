//! The `github` format.
//!
//! One workflow command per finding,
//! `::error file=F,line=L,col=C,title=faasim RULE::message — simulated … — fix: …`
//! (`::warning`, `::notice` for the other severities), escaped as the runner requires. Then
//! one `::notice` per function whose template was assumed, at the function, titled
//! `faasim assumption`.

use std::fmt::Write as _;

use super::{groups, unwritten_note};
use crate::{Report, Severity};

/// Escape a workflow command's message (`%`, CR, LF).
pub fn escape_github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value (the message escapes plus `:` and `,`).
pub fn escape_github_property(text: &str) -> String {
    escape_github_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    for group in groups(report) {
        for finding in &group.findings {
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut properties = Vec::new();
            if let Some(l) = finding
                .location
                .as_ref()
                .or(group.input.map(|i| &i.location))
            {
                properties.push(format!("file={}", escape_github_property(&l.file)));
                properties.push(format!("line={}", l.line));
                properties.push(format!("col={}", l.column));
            }
            properties.push(format!(
                "title={}",
                escape_github_property(&format!("faasim {}", finding.rule))
            ));
            let mut message = format!(
                "{}: {}",
                finding.function,
                finding
                    .message
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if let Some(note) = unwritten_note(finding, group.input) {
                let _ = write!(message, " ({note})");
            }
            if let Some(cx) = &finding.counterexample {
                let _ = write!(message, " — simulated (seed {}): {}", cx.seed, cx.saw);
            }
            if let Some(safe) = finding.safe_value.as_ref().filter(|s| s.differs) {
                let _ = write!(
                    message,
                    " — smallest safe {} is {} by simulation, {} by the inequality",
                    safe.key, safe.simulated, safe.inequality
                );
            }
            let _ = write!(message, " — fix: {}", finding.fix);
            let _ = writeln!(
                out,
                "::{command} {}::{}",
                properties.join(","),
                escape_github_data(&message)
            );
        }
    }
    for input in &report.functions {
        if let Some(text) = input.assumption() {
            let _ = writeln!(
                out,
                "::notice file={},line={},col={},title={}::{}",
                escape_github_property(&input.location.file),
                input.location.line,
                input.location.column,
                escape_github_property("faasim assumption"),
                escape_github_data(&format!("{}: assumed: {text}", input.name))
            );
        }
    }
    out
}
