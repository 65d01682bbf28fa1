//! Rendering a `check` [`Report`]: `human` (the default), `json`, `sarif`, `github` and `html`, plus
//! the timeout chain of one function for `faasim explain --function NAME`.
//!
//! Every format lists functions in report order and, within a function, findings by severity
//! (error, warning, note) and then in report order. A function's findings are the report's
//! findings whose `function` is its name, plus those of its `input_findings` that the report
//! does not already hold and that its `ignored_rules` do not silence. Findings that name no
//! function in the report come last, under their own function name. Nothing depends on hash
//! order or the clock: the same report renders to the same bytes.
//!
//! One file per format: `human`, `json`, `sarif`, `github`, `html`; `explain` holds the timeout
//! chain of `faasim explain --function`. This file holds what they share: the formats, the
//! render options, the input rules, and how findings are grouped and counted.

mod explain;
mod github;
mod html;
mod human;
mod json;
mod sarif;

pub use explain::{ChainLink, explain_function, timeout_chain};
pub use github::{escape_github_data, escape_github_property};
pub use sarif::fingerprint;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{Finding, FunctionInput, Origin, Report, Severity};

/// The SARIF schema URI written in `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Version of the `json` output's shape (its `version` field).
pub const JSON_VERSION: u32 = 1;

/// The key of the stable fingerprint in SARIF `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "faasim/v1";

/// An output format of `faasim check -o` (`human`, `json`, `sarif`, `github`, `html`; the command line
/// parses the names in `cli/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Grouped by function, each finding ending with its fix.
    Human,
    /// A stable JSON object (see the module documentation).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`).
    Github,
    /// One self-contained HTML page: every finding, and the picture of each witness run.
    Html,
}

impl Format {
    /// Every format, in `-o` order.
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Html,
    ];

    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Html => "html",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown output format `{s}` (human, json, sarif, github, html)")
            })
    }
}

/// How to render.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions<'a> {
    /// ANSI colour in `human` output (never in the others).
    pub color: bool,
    /// faasim's version, written in `json` and SARIF.
    pub tool_version: &'a str,
    /// Where the rule pages are (a URL or a path such as `docs/rules.md`); each rule's page is
    /// `BASE#RULE`. An absolute URI becomes SARIF `helpUri`; a relative path is named in the
    /// rule's help text instead, since `helpUri` must be absolute.
    pub rule_help_base: Option<String>,
    /// The directory SARIF locations are relative to (`uriBaseId: %SRCROOT%`): the working
    /// directory, which input file names are relative to. An absolute input path is made
    /// relative to it; `None` leaves absolute paths as `file://` URIs.
    pub src_root: Option<std::path::PathBuf>,
}

/// Render `report` in `format`. The text ends with a newline (except an empty `github`
/// output, which is empty).
pub fn render(report: &Report, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Human => human::render(report, options),
        Format::Json => json::render(report, options),
        Format::Sarif => sarif::render(report, options),
        Format::Github => github::render(report),
        Format::Html => html::render(report, options),
    }
}

/// A rule that is not a property of the model but of how OpenFaaS reads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputRule {
    /// Stable id.
    pub id: &'static str,
    /// One line: what the rule says.
    pub summary: &'static str,
    /// The trap in plain words.
    pub explanation: &'static str,
    /// How to mend it.
    pub fix: &'static str,
    /// The severity it is reported with.
    pub severity: Severity,
}

/// The input rules: values OpenFaaS silently replaces, and the bare-integer trap.
pub const INPUT_RULES: &[InputRule] = &[
    InputRule {
        id: "invalid-duration-fallback",
        summary: "a value OpenFaaS cannot parse is silently replaced by the default (30 s in of-watchdog, 60 s in the gateway)",
        explanation: "of-watchdog and the gateway read their timeouts as bare integer seconds or a Go duration (`1m30s`). Any other value is not an error: it is silently replaced by the component's default, 30 s in of-watchdog and 60 s in the gateway (8 s before openfaas/faas 46042710, 2022-08), so the function runs with a timeout nobody wrote. The same holds for max_inflight and the scaling labels.",
        fix: "write the value as a Go duration (`90s`, `1m30s`) or as bare integer seconds",
        severity: Severity::Warning,
    },
    InputRule {
        id: "bare-int-duration",
        summary: "a bare integer where OpenFaaS uses time.ParseDuration (Pro grace derivation, autoscaler labels)",
        explanation: "faas-netes derives terminationGracePeriodSeconds from write_timeout with Go's time.ParseDuration, which rejects a bare integer such as `60`: the derivation fails and the grace period falls to 2 s (inferred from the last public code; unverified against today's Pro operator). The autoscaler's duration labels take Go durations only.",
        fix: "write the duration with a unit (`60s`, not `60`)",
        severity: Severity::Warning,
    },
    InputRule {
        id: "envsubst-unset",
        summary: "a ${VAR} in a stack file with no value and no default becomes an empty string",
        explanation: "faas-cli substitutes environment variables in stack files before reading them. An unset variable without a `:-default` becomes the empty string, so the timeout it should have set falls back to the component's default.",
        fix: "set the variable, or give it a default: `${VAR:-60s}`",
        severity: Severity::Warning,
    },
    InputRule {
        id: "invalid-function",
        summary: "a function whose entry cannot be read, or whose values a component refuses, is not checked; the others are",
        explanation: "A value of the wrong shape, an invalid Kubernetes integer, a `write_timeout` of 0 (of-watchdog refuses to start) or an environment over faasim's limits makes one function impossible to simulate. It is reported at the value's file, line and key, and every other function of the inputs is still checked; what concerns every function (a file that cannot be read or is not YAML, the platform's values) stops the check instead (exit 2).",
        fix: "correct the value the finding points at",
        severity: Severity::Error,
    },
    InputRule {
        id: "scale-min-above-max",
        summary: "com.openfaas.scale.min is above com.openfaas.scale.max (20 when not set)",
        explanation: "The autoscaler keeps a function's replicas between com.openfaas.scale.min and com.openfaas.scale.max, whose default is 20, so a minimum above the maximum asks for an empty range; `faasim run` refuses such a scenario. The simulated runs use the maximum (at most faasim's replica limit).",
        fix: "raise com.openfaas.scale.max to at least the minimum, or lower the minimum",
        severity: Severity::Warning,
    },
    InputRule {
        id: "replicas-over-limit",
        summary: "more replicas than faasim simulates (1 000); the runs use 1 000",
        explanation: "Scheduling a pod counts every pod, so a run's cost grows with the square of the replicas: 10 000 replicas took 41 s per function. The timeout interactions `faasim check` looks for do not depend on the replica count past a few, so the simulated runs use faasim's limit (docs/check.md, \"Limits\"), and this note says so.",
        fix: "nothing to change; the note says what was simulated",
        severity: Severity::Note,
    },
];

// ---------------------------------------------------------------------------------------------
// Grouping and counting

/// One function's part of a report, as every format lists it.
struct Group<'r> {
    /// The function, or `None` for findings naming a function the report does not list.
    input: Option<&'r FunctionInput>,
    /// Its name.
    name: &'r str,
    /// Its findings: errors, then warnings, then notes, each in report order.
    findings: Vec<&'r Finding>,
}

fn groups(report: &Report) -> Vec<Group<'_>> {
    // Indexed by name once, so that grouping stays linear in the number of functions and
    // findings (10 000 functions compared every finding with every function before).
    let mut by_function: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for finding in &report.findings {
        by_function
            .entry(finding.function.as_str())
            .or_default()
            .push(finding);
    }
    let checked: HashSet<&str> = report.functions.iter().map(|i| i.name.as_str()).collect();
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut listed: HashSet<&str> = HashSet::new();
    for input in &report.functions {
        if !listed.insert(input.name.as_str()) {
            // A second function of the same name shares the first one's findings; list it
            // (it was checked) without repeating them.
            groups.push(Group {
                input: Some(input),
                name: &input.name,
                findings: Vec::new(),
            });
            continue;
        }
        let own: &[&Finding] = by_function
            .get(input.name.as_str())
            .map_or(&[], Vec::as_slice);
        let mut findings: Vec<&Finding> = own.to_vec();
        for extra in &input.input_findings {
            let silenced = input.ignored_rules.contains(&extra.rule);
            // A report finding equal to it names the same function: look among those only.
            if !silenced && !own.contains(&extra) {
                findings.push(extra);
            }
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        groups.push(Group {
            input: Some(input),
            name: &input.name,
            findings,
        });
    }
    let mut unlisted: HashMap<&str, usize> = HashMap::new();
    for finding in &report.findings {
        if checked.contains(finding.function.as_str()) {
            continue;
        }
        match unlisted.get(finding.function.as_str()) {
            Some(&index) => groups[index].findings.push(finding),
            None => {
                unlisted.insert(finding.function.as_str(), groups.len());
                groups.push(Group {
                    input: None,
                    name: &finding.function,
                    findings: vec![finding],
                });
            }
        }
    }
    for group in groups.iter_mut().filter(|g| g.input.is_none()) {
        group
            .findings
            .sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    groups
}

/// How many functions and findings a report has, as every format counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Functions checked.
    pub functions: usize,
    /// Findings of every severity.
    pub findings: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Note findings.
    pub notes: usize,
}

/// Count what a report holds, input findings included (as rendered).
pub fn counts(report: &Report) -> Counts {
    let groups = groups(report);
    // Functions that could not be read (`invalid-function`) are functions too.
    let unread = groups.iter().filter(|g| g.input.is_none()).count();
    let mut counts = Counts {
        functions: report.functions.len() + unread,
        ..Counts::default()
    };
    for group in groups {
        for finding in group.findings {
            counts.findings += 1;
            match finding.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Note => counts.notes += 1,
            }
        }
    }
    counts
}

/// Every finding as rendered, in output order (input findings included), for exit codes.
pub fn rendered_findings(report: &Report) -> Vec<&Finding> {
    groups(report)
        .into_iter()
        .flat_map(|g| g.findings)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Text the formats share

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Default => "default".to_string(),
        Origin::File(l) => format!("{}:{}:{}", l.file, l.line, l.column),
        Origin::Flag(flag) => format!("flag {flag}"),
        Origin::Derived(how) => format!("derived: {how}"),
        Origin::Fallback { location, raw } => format!(
            "fallback: `{raw}` at {}:{}:{} is invalid and silently replaced",
            location.file, location.line, location.column
        ),
    }
}

fn statuses_text(statuses: &[(String, u64)]) -> String {
    statuses
        .iter()
        .map(|(status, count)| format!("{status} x{count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What faasim assumed where the files are silent, by function, so that a user can settle it.
fn assumptions(report: &Report) -> Vec<(&str, &str)> {
    report
        .functions
        .iter()
        .filter_map(|f| f.assumption().map(|text| (f.name.as_str(), text)))
        .collect()
}

/// A counterexample's seed, the statuses its run saw and what it violates, on one line: the
/// same words in every human-facing format.
fn witness_details(cx: &super::Counterexample) -> String {
    use std::fmt::Write as _;
    let mut details = format!("seed {}", cx.seed);
    if !cx.statuses.is_empty() {
        let _ = write!(details, "; statuses {}", statuses_text(&cx.statuses));
    }
    if !cx.violated.is_empty() {
        let _ = write!(details, "; violates {}", cx.violated.join(", "));
    }
    details
}

/// The edition the functions were checked as and where it came from (`None` without
/// functions): the first function's `kubernetes.edition`, which every function shares.
fn edition_of(report: &Report) -> Option<(&str, &Origin)> {
    report
        .functions
        .iter()
        .find_map(|f| f.origin("kubernetes.edition"))
        .map(|p| (p.value.as_str(), &p.origin))
}

/// For a finding whose value is written nowhere: where the value came from instead.
fn unwritten_note(finding: &Finding, input: Option<&FunctionInput>) -> Option<String> {
    if finding.location.is_some() {
        return None;
    }
    let how = input
        .and_then(|i| i.origin(&finding.key))
        .map(|p| origin_text(&p.origin))
        .unwrap_or_else(|| "not written in any file".to_string());
    Some(format!(
        "{} is not written in the files: {how}",
        finding.key
    ))
}
