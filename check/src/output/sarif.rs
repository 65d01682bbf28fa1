//! The `sarif` format.
//!
//! SARIF 2.1.0 for GitHub code scanning: one run, `tool.driver.rules` holding every rule of
//! [`faasim_model::rules::RULES`] and [`INPUT_RULES`] (plus any other id a finding uses), one
//! result per finding with `ruleId`, `ruleIndex`, `level`, the message, the location of the
//! value to change (the function's own when the value is written nowhere), the function as a
//! related and a logical location, the counterexample and the safe value in `properties`,
//! and `partialFingerprints["faasim/v1"]`, stable per (function, rule). The run's `properties`
//! say which edition the functions were checked as and where that came from, and what was
//! assumed of each function whose template its files cannot show. File URIs are
//! relative to `%SRCROOT%` (the working directory); standard input, unless `--stdin-name`
//! names it, has no physical location.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use faasim_model::rules::RULES;
use serde::Serialize;

use super::json::{JsonStatus, to_pretty};
use super::{
    FINGERPRINT_KEY, INPUT_RULES, RenderOptions, SARIF_SCHEMA, edition_of, groups, origin_text,
    rendered_findings, statuses_text, unwritten_note,
};
use crate::{Finding, FunctionInput, Location, Report};

/// The `sarifLog` object: the whole output.
#[derive(Serialize)]
struct SarifLog<'r> {
    /// `$schema`: the SARIF 2.1.0 JSON schema's URI.
    #[serde(rename = "$schema")]
    schema: &'static str,
    /// `version`: always `2.1.0`.
    version: &'static str,
    /// `runs`: one run.
    runs: Vec<SarifRun<'r>>,
}

/// A `run` object: one invocation of faasim.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun<'r> {
    /// `tool`: the analysis tool.
    tool: SarifTool<'r>,
    /// `columnKind`: columns count Unicode code points (`unicodeCodePoints`).
    column_kind: &'static str,
    /// `results`: one per finding.
    results: Vec<SarifResult<'r>>,
    /// `properties`: the edition the functions were checked as, and where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<SarifRunProperties<'r>>,
}

/// A run's `properties` bag.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRunProperties<'r> {
    /// `edition`: `ce` or `pro`.
    edition: &'r str,
    /// `editionFrom`: where it came from (`values.yaml:5:14`, `flag --edition pro`, `default`).
    edition_from: String,
    /// `assumptions`: per function name, what was assumed where its files are silent (its
    /// template); left out when nothing was.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    assumptions: std::collections::BTreeMap<&'r str, &'r str>,
}

/// A `tool` object.
#[derive(Serialize)]
struct SarifTool<'r> {
    /// `driver`: faasim itself.
    driver: SarifDriver<'r>,
}

/// A `toolComponent` object: faasim and its rules.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifDriver<'r> {
    /// `name`: always `faasim`.
    name: &'static str,
    /// `version`: faasim's version.
    version: &'r str,
    /// `rules`: a `reportingDescriptor` for every rule a result may name.
    rules: Vec<SarifRule>,
}

/// A `message` (or `multiformatMessageString`) with plain text only.
#[derive(Serialize)]
struct SarifText {
    /// `text`: the plain text.
    text: String,
}

/// A `multiformatMessageString` with text and Markdown.
#[derive(Serialize)]
struct SarifMultiformat {
    /// `text`: the plain text.
    text: String,
    /// `markdown`: the same in GitHub-flavoured Markdown.
    markdown: String,
}

/// A `reportingDescriptor` object: one rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    /// `id`: the rule's id (`exec-within-upstream`).
    id: String,
    /// `name`: the id in PascalCase (`ExecWithinUpstream`).
    name: String,
    /// `shortDescription`: the inequality (or an input rule's summary).
    short_description: SarifText,
    /// `fullDescription`: the rule's explanation.
    full_description: SarifText,
    /// `help`: the fix, and in Markdown the whole rule page.
    help: SarifMultiformat,
    /// `helpUri`: the rule's page, when the help base is an absolute URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    /// `defaultConfiguration`: the rule's default level.
    default_configuration: SarifConfiguration,
    /// `properties`: faasim's own fields of the rule.
    properties: SarifRuleProperties,
}

/// A `reportingConfiguration` object.
#[derive(Serialize)]
struct SarifConfiguration {
    /// `level`: `error`, `warning` or `note`.
    level: &'static str,
}

/// A rule's `properties` bag.
#[derive(Serialize)]
struct SarifRuleProperties {
    /// `tags`: for GitHub code scanning's filters (a rule's tags include its property).
    tags: Vec<String>,
    /// `precision`: GitHub's confidence in the rule (`very-high`, `high`).
    precision: &'static str,
    /// `property`: the name of the property a break violates (timing rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    property: Option<&'static str>,
    /// `example`: the shipped scenario that shows it (timing rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    example: Option<String>,
}

/// A `result` object: one finding.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'r> {
    /// `ruleId`: the rule's id.
    rule_id: &'r str,
    /// `ruleIndex`: the rule's place in `tool.driver.rules`.
    rule_index: usize,
    /// `level`: `error`, `warning` or `note`.
    level: &'static str,
    /// `message`: what is wrong, what a simulation showed, the safe value and the fix.
    message: SarifText,
    /// `locations`: the value to change (the function's own place when unwritten).
    locations: Vec<SarifLocation>,
    /// `relatedLocations`: the function, when it is not the primary location.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation>,
    /// `partialFingerprints`: `faasim/v1`, stable per (function, rule).
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    /// `properties`: faasim's own fields of the finding.
    properties: SarifResultProperties<'r>,
}

/// A `location` object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    /// `id`: `1` on the function's related location; left out on the primary one.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    /// `physicalLocation`: the file and place; left out for standard input, which has no
    /// file (the message then says where in the input it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<SarifPhysical>,
    /// `logicalLocations`: the function, as a logical location.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<SarifLogical>,
    /// `message`: what the location is (related locations, and places in standard input).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<SarifText>,
}

/// A `physicalLocation` object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    /// `artifactLocation`: the file.
    artifact_location: SarifArtifact,
    /// `region`: the place in it.
    region: SarifRegion,
}

/// An `artifactLocation` object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifArtifact {
    /// `uri`: the file name as a URI reference, relative to `uriBaseId` when there is one.
    uri: String,
    /// `uriBaseId`: `%SRCROOT%` (the working directory faasim ran in, which GitHub code
    /// scanning maps to the checkout) for every file it can name relative to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// A `region` object: where the value starts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    /// `startLine`: 1-based line.
    start_line: usize,
    /// `startColumn`: 1-based column, in code points.
    start_column: usize,
}

/// A `logicalLocation` object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLogical {
    /// `name`: the function's name.
    name: String,
    /// `kind`: always `function`.
    kind: &'static str,
}

/// A result's `properties` bag.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResultProperties<'r> {
    /// `function`: the function the finding is about.
    function: &'r str,
    /// `key`: the dotted key to change.
    key: &'r str,
    /// `fix`: what to change.
    fix: &'r str,
    /// `counterexample`: a simulated run that shows it, when one was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    counterexample: Option<SarifCounterexample<'r>>,
    /// `safeValue`: the smallest safe value, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    safe_value: Option<SarifSafeValue<'r>>,
}

/// A result's `properties.counterexample`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifCounterexample<'r> {
    /// `seed`: the simulation seed.
    seed: u64,
    /// `saw`: what the run showed, in one line.
    saw: &'r str,
    /// `statuses`: how many requests ended with each status.
    statuses: Vec<JsonStatus<'r>>,
    /// `violated`: the names of the properties the run violated.
    violated: &'r [String],
    /// `scenarioYaml`: the scenario file that reproduces it.
    scenario_yaml: &'r str,
}

/// A result's `properties.safeValue`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifSafeValue<'r> {
    /// `key`: the dotted key the value is for.
    key: &'r str,
    /// `simulated`: the smallest value the simulator found safe.
    simulated: &'r str,
    /// `inequality`: the smallest value the rule's inequality allows.
    inequality: &'r str,
    /// `differs`: whether the two differ.
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
                property: Some(rule.property.name()),
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

/// The base every relative `uri` is resolved against: the working directory.
const SRCROOT: &str = "%SRCROOT%";

/// Standard input's name in locations when `--stdin-name` gave none: no file, so no URI.
fn is_stdin(file: &str) -> bool {
    file == crate::input::STDIN_NAME || file == "-"
}

/// A path made relative to `root` lexically (`..` where it leaves it), or `None` when the two
/// share no root (another Windows drive).
fn relative_to(path: &Path, root: &Path) -> Option<PathBuf> {
    let path: Vec<Component> = path
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let root: Vec<Component> = root
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let same_root = |c: &Component| matches!(c, Component::Prefix(_) | Component::RootDir);
    let path_root: Vec<&Component> = path.iter().take_while(|c| same_root(c)).collect();
    let root_root: Vec<&Component> = root.iter().take_while(|c| same_root(c)).collect();
    if path_root != root_root {
        return None;
    }
    let common = path
        .iter()
        .zip(root.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..root.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part.as_os_str());
    }
    Some(out)
}

/// A file name as a SARIF `artifactLocation`: a URI reference relative to `%SRCROOT%` (the
/// working directory, `root`), `/` separators, percent-encoded where a URI reference needs
/// it. An absolute path is made relative to `root` first (`..` where it is outside it); only
/// one that cannot be (no root given, or another drive) stays an absolute `file://` URI.
fn artifact(file: &str, root: Option<&Path>) -> SarifArtifact {
    let as_path = Path::new(file);
    let drive = {
        let b = file.as_bytes();
        b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
    };
    let absolute = as_path.is_absolute() || file.starts_with('/') || drive;
    let relative = if absolute {
        root.and_then(|root| relative_to(as_path, root))
            .map(|p| p.to_string_lossy().into_owned())
    } else {
        // `./sub/stack.yml` is `sub/stack.yml`: one spelling per file, for stable fingerprints.
        let cleaned: PathBuf = as_path
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect();
        Some(cleaned.to_string_lossy().into_owned())
    };
    match relative {
        Some(relative) => SarifArtifact {
            uri: encode_uri_path(&relative.replace('\\', "/"), false),
            uri_base_id: Some(SRCROOT),
        },
        None => {
            let path = file.replace('\\', "/");
            let encoded = encode_uri_path(&path, drive);
            SarifArtifact {
                uri: if drive {
                    format!("file:///{encoded}")
                } else {
                    format!("file://{encoded}")
                },
                uri_base_id: None,
            }
        }
    }
}

/// Percent-encodes what a URI path may not hold; `drive` keeps a Windows drive's colon.
fn encode_uri_path(path: &str, drive: bool) -> String {
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
    encoded
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

/// Where a location is in a file; `None` for standard input, which has none.
fn physical(location: &Location, root: Option<&Path>) -> Option<SarifPhysical> {
    if is_stdin(&location.file) {
        return None;
    }
    Some(SarifPhysical {
        artifact_location: artifact(&location.file, root),
        region: SarifRegion {
            start_line: location.line.max(1),
            start_column: location.column.max(1),
        },
    })
}

/// For a place in standard input: where it is, in words (it has no physical location).
fn stdin_message(location: &Location) -> Option<SarifText> {
    is_stdin(&location.file).then(|| SarifText {
        text: format!(
            "standard input, line {}, column {}",
            location.line, location.column
        ),
    })
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

pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
    let rules = sarif_rules(report, options);
    let root = options.src_root.as_deref();
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
                        physical_location: physical(l, root),
                        logical_locations: logical,
                        message: stdin_message(l),
                    }]
                })
                .unwrap_or_default();
            let related_locations = match (finding.location.as_ref(), function_location) {
                (Some(own), Some(function)) if own != function => vec![SarifLocation {
                    id: Some(1),
                    physical_location: physical(function, root),
                    logical_locations: Vec::new(),
                    message: Some(SarifText {
                        text: match stdin_message(function) {
                            Some(place) => {
                                format!("function {} ({})", finding.function, place.text)
                            }
                            None => format!("function {}", finding.function),
                        },
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
            properties: edition_of(report).map(|(edition, origin)| SarifRunProperties {
                edition,
                edition_from: origin_text(origin),
                assumptions: report
                    .functions
                    .iter()
                    .filter_map(|f| f.assumption().map(|text| (f.name.as_str(), text)))
                    .collect(),
            }),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_to_the_source_root() {
        let root = Path::new("/work/repo");
        let uri = |file: &str| {
            let a = artifact(file, Some(root));
            (a.uri, a.uri_base_id)
        };
        let base = Some(SRCROOT);
        assert_eq!(uri("stack.yml"), ("stack.yml".into(), base));
        assert_eq!(uri("./sub/stack.yml"), ("sub/stack.yml".into(), base));
        assert_eq!(uri("/work/repo/a b.yml"), ("a%20b.yml".into(), base));
        assert_eq!(uri("/work/other/x.yml"), ("../other/x.yml".into(), base));
        assert_eq!(uri("/tmp/x.yml"), ("../../tmp/x.yml".into(), base));
        // No root to be relative to: an absolute URI, no base.
        let a = artifact("/tmp/x.yml", None);
        assert_eq!((a.uri.as_str(), a.uri_base_id), ("file:///tmp/x.yml", None));
    }
}
