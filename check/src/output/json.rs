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
pub(super) struct JsonStatus<'r> {
    pub(super) status: &'r str,
    pub(super) count: u64,
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
