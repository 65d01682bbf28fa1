//! `faasim check`: read the OpenFaaS and Kubernetes files users already have, work out each
//! function's effective configuration with where every value came from, report every rule it
//! breaks with a simulated counterexample and the smallest safe value, in the formats linters
//! use. `input` reads files, `analyze` finds and proves breaches, `output` renders them.

pub mod analyze;
pub mod command;
pub mod input;
pub mod output;

use faasim_model::config::Config;

/// A place in an input file, 1-based.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// File name as given (`-` or `<stdin>` for standard input).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Where an effective value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The component's own default (nothing set it).
    Default,
    /// Written in a file.
    File(Location),
    /// A command-line flag (`--edition`, `--endpoint-lag`, ...).
    Flag(String),
    /// Derived from other values (e.g. Pro grace = write_timeout + 2s).
    Derived(String),
    /// Written in a file but silently replaced by the component's default.
    Fallback {
        /// Where the invalid value is.
        location: Location,
        /// The value as written.
        raw: String,
    },
}

/// How a [`Origin::Derived`] text that is an assumption begins: what the files cannot show and
/// faasim assumed in its place (the function's template), which every output format prints and
/// `.faasim.yaml` settles.
pub const ASSUMED: &str = "assumed: ";

/// One effective value and its origin, for reports and `explain --function`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// Dotted key, as in a scenario file (e.g. `function.environment.exec_timeout`,
    /// `gateway.upstreamTimeout`, `kubernetes.terminationGracePeriodSeconds`).
    pub key: String,
    /// The effective value as a user would write it (`2m0s`, `152`, `true`).
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// One function found in the inputs, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionInput {
    /// Function name.
    pub name: String,
    /// Where the function is defined (its entry in a stack file, its Function or Deployment).
    pub location: Location,
    /// The effective configuration (defaults, fall-backs and edition rules applied).
    pub config: Config,
    /// Every value the rules read, with its origin.
    pub provenance: Vec<Provenance>,
    /// Rules silenced for this function (`faasim.dev/ignore`, `ignore-check.faasim.dev/<rule>`).
    pub ignored_rules: Vec<String>,
    /// Values a component silently replaces and other input problems that are findings of
    /// their own (rule ids `invalid-duration-fallback`, `bare-int-duration`).
    pub input_findings: Vec<Finding>,
}

impl FunctionInput {
    /// The origin of a key, if recorded.
    pub fn origin(&self, key: &str) -> Option<&Provenance> {
        self.provenance.iter().find(|p| p.key == key)
    }

    /// What faasim assumed of this function in place of what its files cannot show (its
    /// template), when it did: the text after [`ASSUMED`].
    pub fn assumption(&self) -> Option<&str> {
        self.provenance.iter().find_map(|p| match &p.origin {
            Origin::Derived(text) => text.strip_prefix(ASSUMED),
            _ => None,
        })
    }
}

/// How serious a finding is; maps one to one to SARIF `level`. A rule finding's severity is
/// what its run shows: a request lost is an error, a pod killed with nothing in flight a
/// warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Informational.
    Note,
    /// Worth fixing.
    Warning,
    /// Loses requests.
    Error,
}

impl Severity {
    /// Name in reports and SARIF.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What the simulator saw when it ran the failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// The scenario that was run, as a scenario file (`faasim run` reproduces it).
    pub scenario_yaml: String,
    /// Its seed.
    pub seed: u64,
    /// One line: which request, which status, when (e.g. "request 0: 502 at 60.000s
    /// (gateway upstream_timeout)").
    pub saw: String,
    /// Status counts of the run, e.g. `[("200", 5), ("500", 5)]`.
    pub statuses: Vec<(String, u64)>,
    /// Properties the run violated.
    pub violated: Vec<String>,
}

/// The smallest safe value, found by searching with the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct SafeValue {
    /// The key to change.
    pub key: String,
    /// The smallest value the simulator found safe, as a user writes it.
    pub simulated: String,
    /// The value the rule's inequality gives.
    pub inequality: String,
    /// Whether the two differ (and the report says so).
    pub differs: bool,
}

/// One problem with one function.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Rule id (`exec-within-upstream`, ... or an input rule such as `invalid-duration-fallback`).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Function name.
    pub function: String,
    /// The key whose value to change.
    pub key: String,
    /// Where that value is written, when it is written somewhere.
    pub location: Option<Location>,
    /// What is wrong, with this configuration's numbers.
    pub message: String,
    /// One line: the smallest change that is safe.
    pub fix: String,
    /// The failure, simulated. Every rule finding has one (a breach no run shows is not
    /// reported); input findings, about how a value is read, have none.
    pub counterexample: Option<Counterexample>,
    /// The smallest safe value by simulation, next to the inequality's.
    pub safe_value: Option<SafeValue>,
}

/// Everything `faasim check` found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The functions checked, in input order.
    pub functions: Vec<FunctionInput>,
    /// Findings, grouped by function in input order, then by rule order.
    pub findings: Vec<Finding>,
}

/// Whether `id` names a rule `faasim check` can report: a model rule (`faasim rules`) or an
/// input rule (`invalid-duration-fallback`, ...). `--ignore`, `.faasim.yaml` and the ignore
/// annotations accept only these, so that a typo does not silence nothing without a word.
pub fn is_rule_id(id: &str) -> bool {
    faasim_model::rules::Rule::parse_id(id).is_some()
        || output::INPUT_RULES.iter().any(|rule| rule.id == id)
}

/// Why `id` is not a rule, with the nearest rule id when one is close (a typo).
pub fn unknown_rule_message(id: &str) -> String {
    let ids = faasim_model::rules::RULES
        .iter()
        .map(|rule| rule.id)
        .chain(output::INPUT_RULES.iter().map(|rule| rule.id));
    let nearest = ids
        .map(|candidate| (edit_distance(id, candidate), candidate))
        .min()
        .filter(|(distance, _)| *distance <= 3);
    let input_rules: Vec<&str> = output::INPUT_RULES.iter().map(|rule| rule.id).collect();
    let listed = format!(
        "`faasim rules` lists the rules; the input rules are {}",
        input_rules.join(", ")
    );
    match nearest {
        Some((_, candidate)) => format!("no rule `{id}`; did you mean `{candidate}`? ({listed})"),
        None => format!("no rule `{id}` ({listed})"),
    }
}

/// Levenshtein distance in characters, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_and_typos() {
        assert!(is_rule_id("grace-covers-drain"));
        assert!(is_rule_id("invalid-duration-fallback"));
        assert!(!is_rule_id("ingress-timeout"));
        assert_eq!(edit_distance("grace-covers-drian", "grace-covers-drain"), 2);
        assert!(
            unknown_rule_message("exec-within-upstrem")
                .starts_with("no rule `exec-within-upstrem`; did you mean `exec-within-upstream`?")
        );
        assert!(unknown_rule_message("zzz").starts_with("no rule `zzz` ("));
    }
}
