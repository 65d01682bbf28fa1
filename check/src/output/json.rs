//! The `json` format.
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

use serde::Serialize;

use super::{Counts, JSON_VERSION, RenderOptions, counts, groups};
use crate::{Counterexample, Finding, Location, Origin, Report, SafeValue};

/// The whole output: one JSON object.
#[derive(Serialize)]
struct JsonReport<'r> {
    /// `version`: the version of this shape (`JSON_VERSION`).
    version: u32,
    /// `tool`: the program that wrote it.
    tool: JsonTool<'r>,
    /// `summary`: how many functions and findings, by severity.
    summary: Counts,
    /// `functions`: each function checked, with its findings.
    functions: Vec<JsonFunction<'r>>,
}

/// The `tool` object.
#[derive(Serialize)]
struct JsonTool<'r> {
    /// `name`: always `faasim`.
    name: &'static str,
    /// `version`: faasim's version.
    version: &'r str,
}

/// One entry of `functions`.
#[derive(Serialize)]
struct JsonFunction<'r> {
    /// `name`: the function's name.
    name: &'r str,
    /// `location`: where it is defined (`null`: not a function the inputs define).
    location: Option<JsonLocation<'r>>,
    /// `ignored_rules`: the rules its ignore annotations turn off.
    ignored_rules: Vec<&'r str>,
    /// `effective`: every value the rules read, with its origin.
    effective: Vec<JsonProvenance<'r>>,
    /// `findings`: errors, then warnings, then notes.
    findings: Vec<JsonFinding<'r>>,
}

/// A `location` object: a place in an input file.
#[derive(Serialize)]
struct JsonLocation<'r> {
    /// `file`: the file name as given (`<stdin>` for standard input).
    file: &'r str,
    /// `line`: 1-based line.
    line: usize,
    /// `column`: 1-based column, in characters.
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

/// One entry of `effective`.
#[derive(Serialize)]
struct JsonProvenance<'r> {
    /// `key`: the dotted configuration key.
    key: &'r str,
    /// `value`: the effective value, as faasim prints it.
    value: &'r str,
    /// `origin`: where the value came from.
    origin: JsonOrigin<'r>,
}

/// An `origin` object, tagged by `kind`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum JsonOrigin<'r> {
    /// `{"kind": "default"}`: the component's default.
    Default,
    /// `{"kind": "file", ...}`: written in an input file.
    File {
        /// `file`: the file name.
        file: &'r str,
        /// `line`: 1-based line.
        line: usize,
        /// `column`: 1-based column.
        column: usize,
    },
    /// `{"kind": "flag", "flag": ..}`: given on the command line.
    Flag {
        /// `flag`: the flag, e.g. `--edition`.
        flag: &'r str,
    },
    /// `{"kind": "derived", "from": ..}`: computed from other values.
    Derived {
        /// `from`: how, e.g. `write_timeout + 2s`.
        from: &'r str,
    },
    /// `{"kind": "fallback", ...}`: written, rejected, replaced by the default.
    Fallback {
        /// `file`: the file the rejected value is in.
        file: &'r str,
        /// `line`: 1-based line.
        line: usize,
        /// `column`: 1-based column.
        column: usize,
        /// `raw`: the rejected value as written.
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

/// One entry of a function's `findings`.
#[derive(Serialize)]
struct JsonFinding<'r> {
    /// `rule`: the rule's id.
    rule: &'r str,
    /// `severity`: `error`, `warning` or `note`.
    severity: &'static str,
    /// `function`: the function it is about.
    function: &'r str,
    /// `key`: the dotted key to change.
    key: &'r str,
    /// `location`: where that value is written (`null`: nowhere).
    location: Option<JsonLocation<'r>>,
    /// `message`: what is wrong.
    message: &'r str,
    /// `fix`: what to change.
    fix: &'r str,
    /// `counterexample`: a simulated run that shows it (`null`: none run).
    counterexample: Option<JsonCounterexample<'r>>,
    /// `safe_value`: the smallest safe value found (`null`: none).
    safe_value: Option<JsonSafeValue<'r>>,
}

/// A `counterexample` object.
#[derive(Serialize)]
struct JsonCounterexample<'r> {
    /// `seed`: the simulation seed.
    seed: u64,
    /// `saw`: what the run showed, in one line.
    saw: &'r str,
    /// `statuses`: how many requests ended with each status.
    statuses: Vec<JsonStatus<'r>>,
    /// `violated`: the names of the properties the run violated.
    violated: &'r [String],
    /// `scenario_yaml`: the scenario file that reproduces it.
    scenario_yaml: &'r str,
}

/// One entry of `statuses`.
#[derive(Serialize)]
pub(super) struct JsonStatus<'r> {
    /// `status`: an HTTP status code or an error name.
    pub(super) status: &'r str,
    /// `count`: how many requests ended with it.
    pub(super) count: u64,
}

/// A `safe_value` object.
#[derive(Serialize)]
struct JsonSafeValue<'r> {
    /// `key`: the dotted key the value is for.
    key: &'r str,
    /// `simulated`: the smallest value the simulator found safe.
    simulated: &'r str,
    /// `inequality`: the smallest value the rule's inequality allows.
    inequality: &'r str,
    /// `differs`: whether the two differ.
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

pub(super) fn to_pretty<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail (string keys, no non-finite floats).
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
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
