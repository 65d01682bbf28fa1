//! Rendering a `check` [`Report`]: `human` (the default), `json`, `sarif` and `github`, plus
//! the timeout chain of one function for `faasim explain --function NAME`.
//!
//! Every format lists functions in report order and, within a function, findings by severity
//! (error, warning, note) and then in report order. A function's findings are the report's
//! findings whose `function` is its name, plus those of its `input_findings` that the report
//! does not already hold and that its `ignored_rules` do not silence. Findings that name no
//! function in the report come last, under their own function name. Nothing depends on hash
//! order or the clock: the same report renders to the same bytes.
//!
//! # `human`
//!
//! One header line per function (`name  file:line`), then each finding as
//! `severity[rule] key at file:line:col`, its message, what the simulator saw (which request,
//! which status, when, the seed and how to rerun it), the smallest safe value (with a sentence
//! when the simulator and the rule's inequality disagree), and last its one-line `fix:`. A
//! clean function prints `ok`. A summary line closes the report:
//! `N functions, N errors, N warnings, N notes`. ANSI colour only with
//! [`RenderOptions::color`].
//!
//! # `json`
//!
//! One object, pretty-printed, keys always in this order (format version 1):
//!
//! ```text
//! {
//!   "version": 1,                       // this shape's version
//!   "tool": {"name": "faasim", "version": "0.1.0"},
//!   "summary": {"functions": 2, "findings": 3, "errors": 1, "warnings": 1, "notes": 1},
//!   "functions": [{
//!     "name": "go-long",
//!     "location": {"file": "stack.yml", "line": 3, "column": 3},
//!     "ignored_rules": ["..."],
//!     "effective": [{                   // every value the rules read, with its origin
//!       "key": "function.environment.exec_timeout", "value": "2m0s",
//!       "origin": {"kind": "file", "file": "stack.yml", "line": 8, "column": 22}
//!       // other kinds: {"kind": "default"}, {"kind": "flag", "flag": "--edition"},
//!       // {"kind": "derived", "from": "write_timeout + 2s"},
//!       // {"kind": "fallback", "file": .., "line": .., "column": .., "raw": "2 minutes"}
//!     }],
//!     "findings": [{
//!       "rule": "exec-within-upstream", "severity": "error", "function": "go-long",
//!       "key": "gateway.upstreamTimeout",
//!       "location": {"file": .., "line": .., "column": ..} | null,
//!       "message": "..", "fix": "..",
//!       "counterexample": {"seed": 7, "saw": "..", "statuses": [{"status": "502", "count": 5}],
//!                          "violated": ["no-timeout"], "scenario_yaml": ".."} | null,
//!       "safe_value": {"key": "..", "simulated": "2m1s", "inequality": "2m0.001s",
//!                      "differs": true} | null
//!     }]
//!   }]
//! }
//! ```
//!
//! # `sarif`
//!
//! SARIF 2.1.0 for GitHub code scanning: one run, `tool.driver.rules` holding every rule of
//! [`faasim_model::rules::RULES`] and [`INPUT_RULES`] (plus any other id a finding uses), one
//! result per finding with `ruleId`, `ruleIndex`, `level`, the message, the location of the
//! value to change (the function's own when the value is written nowhere), the function as a
//! related and a logical location, the counterexample and the safe value in `properties`,
//! and `partialFingerprints["faasim/v1"]`, stable per (function, rule).
//!
//! # `github`
//!
//! One workflow command per finding,
//! `::error file=F,line=L,col=C,title=faasim RULE::message — simulated … — fix: …`
//! (`::warning`, `::notice` for the other severities), escaped as the runner requires.

use std::fmt::Write as _;

use faasim_model::config::{Edition, GraceSource, Mode, OnSigterm, Span, WatchdogKind};
use faasim_model::duration::format_go;
use faasim_model::rules::RULES;
use serde::Serialize;

use super::{
    Counterexample, Finding, FunctionInput, Location, Origin, Provenance, Report, SafeValue,
    Severity,
};

/// The SARIF schema URI written in `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Version of the `json` output's shape (its `version` field).
pub const JSON_VERSION: u32 = 1;

/// The key of the stable fingerprint in SARIF `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "faasim/v1";

/// An output format of `faasim check -o` (`human`, `json`, `sarif`, `github`; the command line
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
}

impl Format {
    /// Every format, in `-o` order.
    pub const ALL: [Format; 4] = [Format::Human, Format::Json, Format::Sarif, Format::Github];

    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown output format `{s}` (human, json, sarif, github)"))
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
}

/// Render `report` in `format`. The text ends with a newline (except an empty `github`
/// output, which is empty).
pub fn render(report: &Report, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Human => render_human(report, options),
        Format::Json => render_json(report, options),
        Format::Sarif => render_sarif(report, options),
        Format::Github => render_github(report),
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
    let mut groups: Vec<Group<'_>> = Vec::new();
    for input in &report.functions {
        if groups.iter().any(|g| g.name == input.name) {
            // A second function of the same name shares the first one's findings; list it
            // (it was checked) without repeating them.
            groups.push(Group {
                input: Some(input),
                name: &input.name,
                findings: Vec::new(),
            });
            continue;
        }
        let mut findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.function == input.name)
            .collect();
        for extra in &input.input_findings {
            let silenced = input.ignored_rules.contains(&extra.rule);
            if !silenced && !report.findings.contains(extra) {
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
    for finding in &report.findings {
        if report.functions.iter().any(|i| i.name == finding.function) {
            continue;
        }
        match groups
            .iter_mut()
            .find(|g| g.input.is_none() && g.name == finding.function)
        {
            Some(group) => group.findings.push(finding),
            None => groups.push(Group {
                input: None,
                name: &finding.function,
                findings: vec![finding],
            }),
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
    let mut counts = Counts {
        functions: report.functions.len(),
        ..Counts::default()
    };
    for group in groups(report) {
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
// human

struct Paint {
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

/// Push `text` as lines indented by `indent`, continuation lines included.
fn push_block(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

fn render_human(report: &Report, options: &RenderOptions) -> String {
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

// ---------------------------------------------------------------------------------------------
// json

#[derive(Serialize)]
struct JsonReport<'r> {
    version: u32,
    tool: JsonTool<'r>,
    summary: Counts,
    functions: Vec<JsonFunction<'r>>,
}

#[derive(Serialize)]
struct JsonTool<'r> {
    name: &'static str,
    version: &'r str,
}

#[derive(Serialize)]
struct JsonFunction<'r> {
    name: &'r str,
    location: Option<JsonLocation<'r>>,
    ignored_rules: Vec<&'r str>,
    effective: Vec<JsonProvenance<'r>>,
    findings: Vec<JsonFinding<'r>>,
}

#[derive(Serialize)]
struct JsonLocation<'r> {
    file: &'r str,
    line: usize,
    column: usize,
}

impl<'r> From<&'r Location> for JsonLocation<'r> {
    fn from(l: &'r Location) -> Self {
        JsonLocation {
            file: &l.file,
            line: l.line,
            column: l.column,
        }
    }
}

#[derive(Serialize)]
struct JsonProvenance<'r> {
    key: &'r str,
    value: &'r str,
    origin: JsonOrigin<'r>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum JsonOrigin<'r> {
    Default,
    File {
        file: &'r str,
        line: usize,
        column: usize,
    },
    Flag {
        flag: &'r str,
    },
    Derived {
        from: &'r str,
    },
    Fallback {
        file: &'r str,
        line: usize,
        column: usize,
        raw: &'r str,
    },
}

impl<'r> From<&'r Origin> for JsonOrigin<'r> {
    fn from(origin: &'r Origin) -> Self {
        match origin {
            Origin::Default => JsonOrigin::Default,
            Origin::File(l) => JsonOrigin::File {
                file: &l.file,
                line: l.line,
                column: l.column,
            },
            Origin::Flag(flag) => JsonOrigin::Flag { flag },
            Origin::Derived(from) => JsonOrigin::Derived { from },
            Origin::Fallback { location, raw } => JsonOrigin::Fallback {
                file: &location.file,
                line: location.line,
                column: location.column,
                raw,
            },
        }
    }
}

#[derive(Serialize)]
struct JsonFinding<'r> {
    rule: &'r str,
    severity: &'static str,
    function: &'r str,
    key: &'r str,
    location: Option<JsonLocation<'r>>,
    message: &'r str,
    fix: &'r str,
    counterexample: Option<JsonCounterexample<'r>>,
    safe_value: Option<JsonSafeValue<'r>>,
}

#[derive(Serialize)]
struct JsonCounterexample<'r> {
    seed: u64,
    saw: &'r str,
    statuses: Vec<JsonStatus<'r>>,
    violated: &'r [String],
    scenario_yaml: &'r str,
}

#[derive(Serialize)]
struct JsonStatus<'r> {
    status: &'r str,
    count: u64,
}

#[derive(Serialize)]
struct JsonSafeValue<'r> {
    key: &'r str,
    simulated: &'r str,
    inequality: &'r str,
    differs: bool,
}

impl<'r> From<&'r Counterexample> for JsonCounterexample<'r> {
    fn from(cx: &'r Counterexample) -> Self {
        JsonCounterexample {
            seed: cx.seed,
            saw: &cx.saw,
            statuses: cx
                .statuses
                .iter()
                .map(|(status, count)| JsonStatus {
                    status,
                    count: *count,
                })
                .collect(),
            violated: &cx.violated,
            scenario_yaml: &cx.scenario_yaml,
        }
    }
}

impl<'r> From<&'r SafeValue> for JsonSafeValue<'r> {
    fn from(s: &'r SafeValue) -> Self {
        JsonSafeValue {
            key: &s.key,
            simulated: &s.simulated,
            inequality: &s.inequality,
            differs: s.differs,
        }
    }
}

impl<'r> From<&'r Finding> for JsonFinding<'r> {
    fn from(f: &'r Finding) -> Self {
        JsonFinding {
            rule: &f.rule,
            severity: f.severity.name(),
            function: &f.function,
            key: &f.key,
            location: f.location.as_ref().map(JsonLocation::from),
            message: &f.message,
            fix: &f.fix,
            counterexample: f.counterexample.as_ref().map(JsonCounterexample::from),
            safe_value: f.safe_value.as_ref().map(JsonSafeValue::from),
        }
    }
}

fn to_pretty<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail (string keys, no non-finite floats).
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn render_json(report: &Report, options: &RenderOptions) -> String {
    let functions = groups(report)
        .into_iter()
        .map(|group| JsonFunction {
            name: group.name,
            location: group.input.map(|i| JsonLocation::from(&i.location)),
            ignored_rules: group
                .input
                .map(|i| i.ignored_rules.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            effective: group
                .input
                .map(|i| {
                    i.provenance
                        .iter()
                        .map(|p| JsonProvenance {
                            key: &p.key,
                            value: &p.value,
                            origin: JsonOrigin::from(&p.origin),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            findings: group
                .findings
                .iter()
                .map(|f| JsonFinding::from(*f))
                .collect(),
        })
        .collect();
    to_pretty(&JsonReport {
        version: JSON_VERSION,
        tool: JsonTool {
            name: "faasim",
            version: options.tool_version,
        },
        summary: counts(report),
        functions,
    })
}

// ---------------------------------------------------------------------------------------------
// sarif

#[derive(Serialize)]
struct SarifLog<'r> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<SarifRun<'r>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun<'r> {
    tool: SarifTool<'r>,
    column_kind: &'static str,
    results: Vec<SarifResult<'r>>,
}

#[derive(Serialize)]
struct SarifTool<'r> {
    driver: SarifDriver<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifDriver<'r> {
    name: &'static str,
    version: &'r str,
    rules: Vec<SarifRule>,
}

#[derive(Serialize)]
struct SarifText {
    text: String,
}

#[derive(Serialize)]
struct SarifMultiformat {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: String,
    name: String,
    short_description: SarifText,
    full_description: SarifText,
    help: SarifMultiformat,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: SarifConfiguration,
    properties: SarifRuleProperties,
}

#[derive(Serialize)]
struct SarifConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct SarifRuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    property: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    example: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'r> {
    rule_id: &'r str,
    rule_index: usize,
    level: &'static str,
    message: SarifText,
    locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    properties: SarifResultProperties<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: SarifPhysical,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<SarifLogical>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<SarifText>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    artifact_location: SarifArtifact,
    region: SarifRegion,
}

#[derive(Serialize)]
struct SarifArtifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    start_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLogical {
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResultProperties<'r> {
    function: &'r str,
    key: &'r str,
    fix: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterexample: Option<SarifCounterexample<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    safe_value: Option<SarifSafeValue<'r>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifCounterexample<'r> {
    seed: u64,
    saw: &'r str,
    statuses: Vec<JsonStatus<'r>>,
    violated: &'r [String],
    scenario_yaml: &'r str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifSafeValue<'r> {
    key: &'r str,
    simulated: &'r str,
    inequality: &'r str,
    differs: bool,
}

/// `exec-within-upstream` → `ExecWithinUpstream` (SARIF `reportingDescriptor.name`).
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// True for an absolute URI (`scheme:` with a valid scheme), which SARIF `helpUri` needs.
fn is_absolute_uri(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn rule_page(base: &str, id: &str) -> String {
    format!("{base}#{id}")
}

fn sarif_rules(report: &Report, options: &RenderOptions) -> Vec<SarifRule> {
    let help_uri = |id: &str| {
        options
            .rule_help_base
            .as_deref()
            .filter(|b| is_absolute_uri(b))
            .map(|b| rule_page(b, id))
    };
    // A relative base cannot be `helpUri`; name the page in the help text instead.
    let see_also = |id: &str| match options.rule_help_base.as_deref() {
        Some(base) if !is_absolute_uri(base) => format!("\n\nSee {}.", rule_page(base, id)),
        _ => String::new(),
    };
    let mut rules: Vec<SarifRule> = Vec::new();
    for rule in RULES {
        rules.push(SarifRule {
            id: rule.id.to_string(),
            name: pascal_case(rule.id),
            short_description: SarifText {
                text: rule.inequality.to_string(),
            },
            full_description: SarifText {
                text: rule.explanation.to_string(),
            },
            help: SarifMultiformat {
                text: format!("{}.{}", rule.fix, see_also(rule.id)),
                markdown: format!(
                    "**Inequality:** `{}`\n\n{}\n\n**Fix:** {}.\n\n**Example:** `faasim run scenarios/{}`{}",
                    rule.inequality,
                    rule.explanation,
                    rule.fix,
                    rule.example,
                    see_also(rule.id)
                ),
            },
            help_uri: help_uri(rule.id),
            default_configuration: SarifConfiguration { level: "error" },
            properties: SarifRuleProperties {
                tags: vec![
                    "openfaas".to_string(),
                    "kubernetes".to_string(),
                    "timeouts".to_string(),
                    rule.property.to_string(),
                ],
                precision: "very-high",
                property: Some(rule.property),
                example: Some(format!("scenarios/{}", rule.example)),
            },
        });
    }
    for rule in INPUT_RULES {
        rules.push(SarifRule {
            id: rule.id.to_string(),
            name: pascal_case(rule.id),
            short_description: SarifText {
                text: rule.summary.to_string(),
            },
            full_description: SarifText {
                text: rule.explanation.to_string(),
            },
            help: SarifMultiformat {
                text: format!("{}.{}", rule.fix, see_also(rule.id)),
                markdown: format!(
                    "{}\n\n**Fix:** {}.{}",
                    rule.explanation,
                    rule.fix,
                    see_also(rule.id)
                ),
            },
            help_uri: help_uri(rule.id),
            default_configuration: SarifConfiguration {
                level: rule.severity.name(),
            },
            properties: SarifRuleProperties {
                tags: vec![
                    "openfaas".to_string(),
                    "kubernetes".to_string(),
                    "input".to_string(),
                ],
                precision: "very-high",
                property: None,
                example: None,
            },
        });
    }
    // Any other rule id a finding uses still gets a descriptor, so every ruleIndex is valid.
    for finding in rendered_findings(report) {
        if !rules.iter().any(|r| r.id == finding.rule) {
            rules.push(SarifRule {
                id: finding.rule.clone(),
                name: pascal_case(&finding.rule),
                short_description: SarifText {
                    text: finding.rule.clone(),
                },
                full_description: SarifText {
                    text: finding.rule.clone(),
                },
                help: SarifMultiformat {
                    text: format!("{}{}", finding.fix, see_also(&finding.rule)),
                    markdown: format!("{}{}", finding.fix, see_also(&finding.rule)),
                },
                help_uri: help_uri(&finding.rule),
                default_configuration: SarifConfiguration {
                    level: finding.severity.name(),
                },
                properties: SarifRuleProperties {
                    tags: vec!["openfaas".to_string()],
                    precision: "high",
                    property: None,
                    example: None,
                },
            });
        }
    }
    rules
}

/// A file name as a SARIF `uri`: `/` separators, percent-encoded where a URI reference needs
/// it; absolute paths become `file://` URIs.
fn artifact_uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let drive = path.len() >= 2
        && path.as_bytes()[0].is_ascii_alphabetic()
        && path.as_bytes()[1] == b':'
        && (path.len() == 2 || path.as_bytes()[2] == b'/');
    let mut encoded = String::new();
    for (i, c) in path.char_indices() {
        let keep = c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | '/'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '@'
            )
            || (c == ':' && drive && i == 1);
        if keep {
            encoded.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
    }
    if drive {
        format!("file:///{encoded}")
    } else if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// FNV-1a, 64 bits: a hash that never changes between builds or platforms.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The stable fingerprint of a finding: one per (function, rule).
pub fn fingerprint(function: &str, rule: &str) -> String {
    format!("{:016x}", fnv1a(&format!("{function}\u{0}{rule}")))
}

fn physical(location: &Location) -> SarifPhysical {
    SarifPhysical {
        artifact_location: SarifArtifact {
            uri: artifact_uri(&location.file),
        },
        region: SarifRegion {
            start_line: location.line.max(1),
            start_column: location.column.max(1),
        },
    }
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

fn result_text(finding: &Finding, input: Option<&FunctionInput>) -> String {
    let mut text = finding.message.trim_end().to_string();
    if let Some(note) = unwritten_note(finding, input) {
        let _ = write!(text, "\n{note}.");
    }
    if let Some(cx) = &finding.counterexample {
        let _ = write!(text, "\nSimulated (seed {}): {}", cx.seed, cx.saw);
        if !cx.statuses.is_empty() {
            let _ = write!(text, " [{}]", statuses_text(&cx.statuses));
        }
        text.push('.');
    }
    if let Some(safe) = &finding.safe_value {
        if safe.differs {
            let _ = write!(
                text,
                "\nSmallest safe {}: {} by simulation; the rule's inequality gives {}.",
                safe.key, safe.simulated, safe.inequality
            );
        } else {
            let _ = write!(text, "\nSmallest safe {}: {}.", safe.key, safe.simulated);
        }
    }
    let _ = write!(text, "\nFix: {}", finding.fix);
    text
}

fn render_sarif(report: &Report, options: &RenderOptions) -> String {
    let rules = sarif_rules(report, options);
    let mut results = Vec::new();
    for group in groups(report) {
        for finding in &group.findings {
            let rule_index = rules
                .iter()
                .position(|r| r.id == finding.rule)
                .unwrap_or_default();
            let function_location = group.input.map(|i| &i.location);
            let primary = finding.location.as_ref().or(function_location);
            let logical = vec![SarifLogical {
                name: finding.function.clone(),
                kind: "function",
            }];
            let locations = primary
                .map(|l| {
                    vec![SarifLocation {
                        id: None,
                        physical_location: physical(l),
                        logical_locations: logical,
                        message: None,
                    }]
                })
                .unwrap_or_default();
            let related_locations = match (finding.location.as_ref(), function_location) {
                (Some(own), Some(function)) if own != function => vec![SarifLocation {
                    id: Some(1),
                    physical_location: physical(function),
                    logical_locations: Vec::new(),
                    message: Some(SarifText {
                        text: format!("function {}", finding.function),
                    }),
                }],
                _ => Vec::new(),
            };
            let mut partial_fingerprints = std::collections::BTreeMap::new();
            partial_fingerprints.insert(
                FINGERPRINT_KEY,
                fingerprint(&finding.function, &finding.rule),
            );
            results.push(SarifResult {
                rule_id: &finding.rule,
                rule_index,
                level: finding.severity.name(),
                message: SarifText {
                    text: result_text(finding, group.input),
                },
                locations,
                related_locations,
                partial_fingerprints,
                properties: SarifResultProperties {
                    function: &finding.function,
                    key: &finding.key,
                    fix: &finding.fix,
                    counterexample: finding
                        .counterexample
                        .as_ref()
                        .map(|cx| SarifCounterexample {
                            seed: cx.seed,
                            saw: &cx.saw,
                            statuses: cx
                                .statuses
                                .iter()
                                .map(|(status, count)| JsonStatus {
                                    status,
                                    count: *count,
                                })
                                .collect(),
                            violated: &cx.violated,
                            scenario_yaml: &cx.scenario_yaml,
                        }),
                    safe_value: finding.safe_value.as_ref().map(|s| SarifSafeValue {
                        key: &s.key,
                        simulated: &s.simulated,
                        inequality: &s.inequality,
                        differs: s.differs,
                    }),
                },
            });
        }
    }
    to_pretty(&SarifLog {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![SarifRun {
            tool: SarifTool {
                driver: SarifDriver {
                    name: "faasim",
                    version: options.tool_version,
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    })
}

// ---------------------------------------------------------------------------------------------
// github

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

fn render_github(report: &Report) -> String {
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
    out
}

// ---------------------------------------------------------------------------------------------
// explain --function

/// One limit or delay on the way from the client to the handler and back, or in termination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLink {
    /// Which component (`client`, `gateway`, `provider`, `watchdog`, `child`, `kubelet`,
    /// `endpoints`, `handler`).
    pub component: &'static str,
    /// The setting, as users name it (`upstream_timeout`, `terminationGracePeriodSeconds`).
    pub setting: &'static str,
    /// The dotted provenance key it is recorded under, when there is one.
    pub key: Option<String>,
    /// The effective value, as a user writes it (`1m0s`, `0s..1s`, `unlimited`).
    pub value: String,
    /// Where it came from (`stack.yml:8:22`, `default`, `flag --edition`, `derived: …`).
    pub origin: String,
    /// Nanoseconds when the value is a time limit that ends a call (for "fires first").
    pub bounds_call_ns: Option<u64>,
    /// What the client sees when this limit fires first.
    pub outcome: &'static str,
}

fn span_text(span: Span) -> String {
    if span.is_fixed() {
        go(span.lo_ns)
    } else {
        format!("{}..{}", go(span.lo_ns), go(span.hi_ns))
    }
}

fn go(ns: u64) -> String {
    format_go(i64::try_from(ns).unwrap_or(i64::MAX))
}

fn go_signed(ns: i64) -> String {
    format_go(ns)
}

/// Find the first recorded key among `keys`.
fn lookup<'i>(input: &'i FunctionInput, keys: &[&str]) -> Option<&'i Provenance> {
    keys.iter().find_map(|k| input.origin(k))
}

/// The timeout chain of one function from the client to the handler, then its termination.
pub fn timeout_chain(input: &FunctionInput) -> Vec<ChainLink> {
    let c = &input.config;
    let wd = &c.function.watchdog;
    let link = |component: &'static str,
                setting: &'static str,
                keys: &[&str],
                value: String,
                fallback_origin: &str,
                bounds_call_ns: Option<u64>,
                outcome: &'static str| {
        let found = lookup(input, keys);
        ChainLink {
            component,
            setting,
            key: found
                .map(|p| p.key.clone())
                .or_else(|| keys.first().map(|k| k.to_string())),
            value,
            origin: found
                .map(|p| origin_text(&p.origin))
                .unwrap_or_else(|| fallback_origin.to_string()),
            bounds_call_ns,
            outcome,
        }
    };
    let env = |name: &str| format!("function.environment.{name}");
    let mut chain = Vec::new();

    // The client is rarely in the files: its timeout counts only when something set it.
    let client_timeout = c.load.timeout_ns;
    let client_known = lookup(input, &["load.timeout", "client.timeout"]).is_some();
    chain.push(link(
        "client",
        "timeout",
        &["load.timeout", "client.timeout"],
        if client_timeout == 0 {
            "none".to_string()
        } else {
            go(client_timeout)
        },
        "not known (the simulated client's; not counted below)",
        (client_known && client_timeout > 0).then_some(client_timeout),
        "the client gives up",
    ));
    chain.push(link(
        "gateway",
        "write_timeout",
        &["gateway.writeTimeout", "gateway.write_timeout"],
        go(c.gateway.write_timeout_ns),
        "default (chart)",
        Some(c.gateway.write_timeout_ns),
        "empty reply, no status",
    ));
    chain.push(link(
        "gateway",
        "read_timeout",
        &["gateway.readTimeout", "gateway.read_timeout"],
        go(c.gateway.read_timeout_ns),
        "default (chart)",
        None,
        "",
    ));
    chain.push(link(
        "gateway",
        "upstream_timeout",
        &["gateway.upstreamTimeout", "gateway.upstream_timeout"],
        go(c.gateway.upstream_timeout_ns),
        "default (chart)",
        Some(c.gateway.upstream_timeout_ns),
        "502 from the gateway",
    ));
    chain.push(link(
        "provider",
        "read_timeout",
        &["faasnetes.readTimeout", "provider.readTimeout"],
        go(c.provider.read_timeout_ns),
        "default (gateway.readTimeout, as the chart does)",
        Some(c.provider.read_timeout_ns),
        "500 \"Can't reach service\" from the provider",
    ));
    chain.push(link(
        "provider",
        "write_timeout",
        &["faasnetes.writeTimeout", "provider.writeTimeout"],
        go(c.provider.write_timeout_ns),
        "default (gateway.writeTimeout, as the chart does)",
        Some(c.provider.write_timeout_ns),
        "502 (the gateway sees EOF)",
    ));
    let exec = env("exec_timeout");
    chain.push(link(
        "watchdog",
        "exec_timeout",
        &[exec.as_str()],
        if wd.exec_timeout_ns == 0 {
            "0s (disabled)".to_string()
        } else {
            go(wd.exec_timeout_ns)
        },
        "default",
        (wd.exec_timeout_ns > 0).then_some(wd.exec_timeout_ns),
        "504 from the watchdog",
    ));
    let write = env("write_timeout");
    chain.push(link(
        "watchdog",
        "write_timeout",
        &[write.as_str()],
        go(wd.write_timeout_ns),
        "default",
        Some(wd.write_timeout_ns),
        "500 when the handler returns (the response is not written)",
    ));
    let read = env("read_timeout");
    chain.push(link(
        "watchdog",
        "read_timeout",
        &[read.as_str()],
        go(wd.read_timeout_ns),
        "default",
        None,
        "",
    ));
    let hc = env("healthcheck_interval");
    chain.push(link(
        "watchdog",
        "healthcheck_interval",
        &[hc.as_str()],
        if wd.healthcheck_interval_ns <= 0 {
            format!("{} (never closes)", go_signed(wd.healthcheck_interval_ns))
        } else {
            go_signed(wd.healthcheck_interval_ns)
        },
        "default (write_timeout)",
        None,
        "",
    ));
    let inflight = env("max_inflight");
    chain.push(link(
        "watchdog",
        "max_inflight",
        &[inflight.as_str()],
        if wd.max_inflight == 0 {
            "0 (unlimited)".to_string()
        } else {
            wd.max_inflight.to_string()
        },
        "default",
        None,
        "",
    ));
    if wd.mode == Mode::Http {
        let child = &c.function.child;
        // The child reads the same variables; one that is not validly written leaves it at
        // its own default.
        let child_origin = |env_name: &str| match input.origin(&env(env_name)) {
            Some(Provenance {
                origin: Origin::File(_),
                ..
            }) => "the function's environment (as the watchdog's)",
            _ => "the child's own default",
        };
        chain.push(link(
            "child",
            "write_timeout",
            &["function.child.write_timeout"],
            go(child.write_timeout_ns),
            child_origin("write_timeout"),
            Some(child.write_timeout_ns),
            "500 from the watchdog (the child's response is lost)",
        ));
        chain.push(link(
            "child",
            "healthcheck_interval",
            &["function.child.healthcheck_interval"],
            go_signed(child.healthcheck_interval_ns),
            child_origin("healthcheck_interval"),
            None,
            "",
        ));
        chain.push(link(
            "child",
            "on SIGTERM",
            &["function.upstream.onSigterm"],
            match child.on_sigterm {
                OnSigterm::Drain => "drain".to_string(),
                OnSigterm::Exit => "exit at once".to_string(),
            },
            "assumed (golang-middleware template)",
            None,
            "",
        ));
    }
    chain.push(link(
        "handler",
        "duration",
        &["function.handler.duration"],
        span_text(c.function.handler_ns),
        "assumed (not in the files)",
        None,
        "",
    ));
    let k = &c.kubernetes;
    chain.push(link(
        "kubelet",
        "terminationGracePeriodSeconds",
        &["kubernetes.terminationGracePeriodSeconds"],
        format!("{}s", k.grace_s),
        match (k.grace_source.clone(), k.edition) {
            (GraceSource::Explicit, _) => "explicit",
            (GraceSource::ProDerived, _) => "derived: Pro, write_timeout + 2s",
            (GraceSource::KubernetesDefault, Edition::Ce) => "default: Kubernetes 30 s (CE)",
            (GraceSource::KubernetesDefault, Edition::Pro) => "default: Kubernetes 30 s",
        },
        None,
        "",
    ));
    chain.push(link(
        "kubelet",
        "preStop sleep",
        &["kubernetes.preStop.sleep", "kubernetes.preStop"],
        format!("{}s", k.pre_stop_sleep_s),
        "default (no hook)",
        None,
        "",
    ));
    chain.push(link(
        "endpoints",
        "propagation lag",
        &["kubernetes.endpointLag"],
        span_text(k.endpoint_lag_ns),
        "default (assumed)",
        None,
        "",
    ));
    chain
}

/// `faasim explain --function NAME`: the timeout chain from client to handler with effective
/// values and origins, which limit fires first, and the termination budget.
pub fn explain_function(input: &FunctionInput) -> String {
    let chain = timeout_chain(input);
    let c = &input.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}:{}): timeout chain, client to handler",
        input.name, input.location.file, input.location.line
    );
    let _ = writeln!(
        out,
        "edition {}, watchdog {}, mode {}\n",
        match c.kubernetes.edition {
            Edition::Ce => "ce",
            Edition::Pro => "pro",
        },
        match c.function.watchdog.kind {
            WatchdogKind::OfWatchdog => "of-watchdog",
            WatchdogKind::FixedWait => "fixed-wait (pre-2021)",
        },
        match c.function.watchdog.mode {
            Mode::Http => "http",
            Mode::Streaming => "streaming",
        }
    );
    let width_setting = chain
        .iter()
        .map(|l| l.component.len() + 1 + l.setting.len())
        .max()
        .unwrap_or(0);
    let width_value = chain.iter().map(|l| l.value.len()).max().unwrap_or(0);
    for l in &chain {
        let name = format!("{} {}", l.component, l.setting);
        let _ = writeln!(
            out,
            "  {name:<width_setting$}  {:<width_value$}  {}",
            l.value, l.origin
        );
    }
    let used: Vec<&str> = chain.iter().filter_map(|l| l.key.as_deref()).collect();
    let others: Vec<&Provenance> = input
        .provenance
        .iter()
        .filter(|p| !used.contains(&p.key.as_str()))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\nother values:");
        for p in others {
            let _ = writeln!(out, "  {}  {}  {}", p.key, p.value, origin_text(&p.origin));
        }
    }

    // Which limit ends a call first.
    let mut bounds: Vec<&ChainLink> = chain
        .iter()
        .filter(|l| l.bounds_call_ns.is_some())
        .collect();
    bounds.sort_by_key(|l| l.bounds_call_ns);
    if let Some(first) = bounds.first() {
        let first_ns = first.bounds_call_ns.unwrap_or_default();
        let tied: Vec<String> = bounds
            .iter()
            .skip(1)
            .filter(|l| l.bounds_call_ns == Some(first_ns))
            .map(|l| format!("{} {}", l.component, l.setting))
            .collect();
        let _ = writeln!(
            out,
            "\nfires first: {} {} at {} -> {}",
            first.component, first.setting, first.value, first.outcome
        );
        if !tied.is_empty() {
            let _ = writeln!(out, "  tied with {}", tied.join(", "));
        }
        if let Some(next) = bounds
            .iter()
            .find(|l| l.bounds_call_ns.unwrap_or_default() > first_ns)
        {
            let _ = writeln!(
                out,
                "  then {} {} at {} -> {}",
                next.component, next.setting, next.value, next.outcome
            );
        }
        let handler_max = c.function.handler_ns.hi_ns;
        if handler_max >= first_ns {
            let _ = writeln!(
                out,
                "  a handler of {} does not finish before it",
                go(handler_max)
            );
        }
    }

    // Termination budget.
    let k = &c.kubernetes;
    let wd = &c.function.watchdog;
    let pre_stop_ns = k
        .pre_stop_sleep_s
        .saturating_mul(faasim_model::time::NS_PER_S);
    let grace_ns = k.grace_s.saturating_mul(faasim_model::time::NS_PER_S);
    let _ = writeln!(out, "\ntermination (grace counts from the pod's deletion):");
    if wd.healthcheck_interval_ns <= 0 {
        let _ = writeln!(
            out,
            "  healthcheck_interval {} never ends: the watchdog never closes its listener and \
             every termination ends in SIGKILL at {}s",
            go_signed(wd.healthcheck_interval_ns),
            k.grace_s
        );
        return out;
    }
    // The fixed-wait watchdog keeps its listener open for write_timeout, not
    // healthcheck_interval, and sleeps write_timeout again after draining.
    let (open_name, open_ns, tail_ns) = match wd.kind {
        WatchdogKind::OfWatchdog => (
            "healthcheck_interval",
            u64::try_from(wd.healthcheck_interval_ns).unwrap_or_default(),
            wd.write_timeout_ns,
        ),
        WatchdogKind::FixedWait => (
            "write_timeout",
            wd.write_timeout_ns,
            wd.write_timeout_ns.saturating_mul(2),
        ),
    };
    let listen_ns = pre_stop_ns.saturating_add(open_ns);
    let wait_ns = listen_ns.saturating_add(tail_ns);
    let _ = writeln!(
        out,
        "  listener open until preStop {} + {open_name} {} = {}",
        go(pre_stop_ns),
        go(open_ns),
        go(listen_ns)
    );
    let _ = writeln!(
        out,
        "  endpoints lag up to {}: {}",
        go(k.endpoint_lag_ns.hi_ns),
        if k.endpoint_lag_ns.hi_ns <= listen_ns {
            "routing stops before the listener closes"
        } else {
            "requests can still be routed after the listener closes (refused, 500)"
        }
    );
    let _ = writeln!(
        out,
        "  drain deadline {} (listener closes, then up to {}) vs grace {}s: {}",
        go(wait_ns),
        match wd.kind {
            WatchdogKind::OfWatchdog => format!("write_timeout {}", go(wd.write_timeout_ns)),
            WatchdogKind::FixedWait => format!("2 x write_timeout {}", go(tail_ns)),
        },
        k.grace_s,
        if listen_ns >= grace_ns {
            "SIGKILL comes before the listener even closes".to_string()
        } else if wait_ns < grace_ns {
            "fits".to_string()
        } else {
            format!(
                "a request still running at {} is cut by SIGKILL",
                go(grace_ns)
            )
        }
    );
    out
}
