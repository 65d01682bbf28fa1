//! Reading what users already have: OpenFaaS stack files, `openfaas.com` Function resources,
//! the OpenFaaS Helm chart's values, and Deployments in (multi-document) Kubernetes manifests,
//! into one [`FunctionInput`] per function with its effective configuration, where each value
//! came from, and the input problems that are findings of their own.
//!
//! # Inputs
//!
//! Every file (or `-` for standard input) may hold several YAML documents; each document is
//! recognised by its keys and the others are skipped silently:
//!
//! | document | recognised by | read |
//! |---|---|---|
//! | stack file | top-level `functions` (with `provider`/`version`, or function entries) | `functions.NAME.{environment, environment_file, labels, annotations, lang}` |
//! | Function resource | `apiVersion: openfaas.com/...`, `kind: Function` | `spec.{name, environment, labels, annotations}`, `metadata.annotations` (ignores) |
//! | function Deployment | `kind: Deployment` with a container whose env has `fprocess` or `mode`, a watchdog image, or the `faas_function` label | container env, `terminationGracePeriodSeconds`, preStop (`sleep`, exec `sleep N`), `readinessProbe`, strategy, `replicas`, labels, annotations |
//! | gateway Deployment (as the chart renders it) | a `gateway` container with `upstream_timeout`/`read_timeout`/`write_timeout` env | those, `scale_from_zero`; the `faas-netes`/`operator` container's `read_timeout`, `write_timeout`, `readiness_probe_*` |
//! | queue-worker Deployment | a `queue-worker` container or image | `ack_wait` |
//! | Ingress in front of the gateway | `kind: Ingress` (`networking.k8s.io/*`, `extensions/*`) with a backend Service `gateway` or `gateway-external` | the annotation `nginx.ingress.kubernetes.io/proxy-read-timeout` (whole seconds, as ingress-nginx reads it; absent: its 60 s default) |
//! | Helm values | top-level chart keys (`gateway`, `faasnetes`, `queueWorker`, ... or `functions.readinessProbe`) | `gateway.{upstreamTimeout, readTimeout, writeTimeout, scaleFromZero}`, `faasnetes.{readTimeout, writeTimeout}`, `functions.readinessProbe.*`, `queueWorker.{ackWait, replicas}`, `queueWorkerPro.{maxInflight, maxRetryAttempts, initialRetryWait, maxRetryWait, httpRetryCodes, backoff}` |
//! | `kind: List` | `items` | its Deployments, Functions and Ingresses |
//!
//! Platform values (values files, the gateway Deployment) apply to every function found in any
//! input; when several inputs set one, the last one read wins (as `helm -f a -f b` does).
//!
//! # Decisions
//!
//! - **Template.** `.faasim.yaml`'s `functions.NAME.template`, else `lang` looked up in the
//!   model's template table: the watchdog (of-watchdog or classic), the mode, what the child
//!   does on SIGTERM, the child's own timeouts and the Dockerfile's watchdog environment (under
//!   the function's own). No `lang`, a `lang` the table does not know, and `dockerfile` are
//!   assumptions recorded under `function.template` (see `resolve/template.rs`).
//! - **Mode.** of-watchdog defaults to `streaming`, but HTTP templates set `mode=http` in their
//!   Dockerfile, which a stack file cannot show. The mode is `streaming` for the classic
//!   watchdog; else the environment's `mode` when given (`serializing`, `static` and `inproc`
//!   are modelled as streaming; an unknown mode is an error, as of-watchdog panics on it); else
//!   the template's; else `http` when `lang` names an HTTP template (contains `http`,
//!   `middleware`, `flask` or `express`, or is `nodeNN`, `javaNN`, `bunN`); else `streaming`.
//!   The inferred mode is recorded as [`Origin::Derived`].
//! - **envsubst** (on by default, as in faas-cli) applies to files holding a stack file, like
//!   faas-cli, with drone/envsubst's syntax (see `envsubst.rs`). A `${VAR}` that is not set and
//!   has no default becomes an empty string, as in faas-cli, and an input finding
//!   `envsubst-unset` (warning) on the function it appears in. Malformed `${...}` is an error,
//!   as it is for faas-cli.
//! - **Edition.** `--edition`, else `.faasim.yaml`'s `edition`, else what the platform's files
//!   show: the chart values' `openfaasPro` (`true` is Pro, as `values-pro.yaml` sets it) or a
//!   rendered gateway Deployment's image (`openfaasltd/` is Pro's registry); else CE. Where it
//!   came from is recorded under `kubernetes.edition`.
//! - **Grace period.** A Deployment's `terminationGracePeriodSeconds` when written, else the
//!   Kubernetes default (a Deployment is what runs). For stack files and Function resources,
//!   faas-netes creates the Deployment: CE leaves the default 30 s, Pro derives
//!   `write_timeout + 2s` (`edition_grace_s`).
//! - **Probes.** A Deployment's own readiness probe (Kubernetes defaults for left-out fields).
//!   For stack files and Function resources: CE hard-codes 2/2/3/1 (the chart's
//!   `functions.readinessProbe` only reaches the Pro operator; recorded as a note in
//!   provenance), Pro uses the chart values (default 0/2/3/1) and the function's
//!   `com.openfaas.ready.http.*` annotations.
//! - **Silently replaced values** (watchdog and gateway durations, `max_inflight`, scale labels,
//!   `scale_from_zero` other than `true`/`false`, `ackWait`) are findings
//!   `invalid-duration-fallback`; a bare-integer `write_timeout` under Pro is `bare-int-duration`
//!   (warning), and bare integers in keys read strictly (`com.openfaas.scale.zero-duration`,
//!   `com.openfaas.scale.down.window`, `com.openfaas.health.http.initialDelay`) are notes.
//! - `write_timeout: 0`, negative watchdog or gateway timeouts, malformed YAML, values of the
//!   wrong shape and invalid Kubernetes integers are [`InputError`]s (exit 2).

mod documents;
mod envsubst;
mod error;
mod function_settings;
mod resolve;
mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faasim_model::config::{Edition, KubernetesConfig, Span};
use faasim_model::duration::{self, NS_PER_SECOND};

pub use error::InputError;
pub use function_settings::FunctionSettings;
pub(crate) use resolve::sigterm_text;
pub use resolve::{
    BARE_INT, ENVSUBST_UNSET, INVALID_FALLBACK, INVALID_FUNCTION, REPLICAS_OVER_LIMIT,
    SCALE_MIN_ABOVE_MAX, TEMPLATE_KEY,
};

pub use documents::InvalidFunction;
use documents::{DocKind, Platform, RawFunction, Reader};
use faasim_model::limits;
use faasim_sim::yaml::{self, Node};
use source::Source;

use crate::{FunctionInput, Location, Origin, Severity};

/// What to read and what the files cannot say.
#[derive(Clone, Debug)]
pub struct InputRequest {
    /// Files; `-` is standard input (its text in `stdin`); empty: `stack.yaml`, else
    /// `stack.yml`, in `cwd`, as faas-cli looks for them.
    pub paths: Vec<String>,
    /// The text of standard input, when `-` is among `paths`.
    pub stdin: Option<String>,
    /// The name standard input's locations carry (`--stdin-name`, as eslint's
    /// `--stdin-filename`): the file it was rendered to or from, so that SARIF can point into
    /// the repository. `None`: `<stdin>`.
    pub stdin_name: Option<String>,
    /// The directory relative paths are read from.
    pub cwd: PathBuf,
    /// faas-cli `--filter`: a wildcard (`*`) on function names.
    pub filter: Option<String>,
    /// faas-cli `--regex`: a regular expression searched in function names.
    pub regex: Option<String>,
    /// faas-cli `--envsubst` (default true): `${VAR}` and `${VAR:-default}` in stack files.
    pub envsubst: bool,
    /// The variables for envsubst.
    pub env: BTreeMap<String, String>,
    /// `--edition` (wins over `.faasim.yaml`, which wins over the Helm values' `openfaasPro` and
    /// a rendered gateway's image; default ce).
    pub edition: Option<Edition>,
    /// `--endpoint-lag` (wins over `.faasim.yaml`; default the model's 0s..1s).
    pub endpoint_lag: Option<Span>,
    /// `.faasim.yaml`, when found: its `edition` and `endpointLag` apply when the flags are
    /// not given (its `ignore` and `failOn` are for the caller).
    pub config: Option<CheckConfig>,
}

impl Default for InputRequest {
    fn default() -> Self {
        InputRequest {
            paths: Vec::new(),
            stdin: None,
            stdin_name: None,
            cwd: PathBuf::from("."),
            filter: None,
            regex: None,
            envsubst: true,
            env: BTreeMap::new(),
            edition: None,
            endpoint_lag: None,
            config: None,
        }
    }
}

/// A value of `.faasim.yaml` and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where.
    pub location: Location,
}

/// `.faasim.yaml`: `{ignore: [rule...], failOn: error|warning|note, edition: ce|pro,
/// endpointLag: DURATION or A..B, ingress: {readTimeout: DURATION}, functions: {NAME:
/// {template, watchdog, onSigterm}}}`; unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// Rules to ignore everywhere.
    pub ignore: Vec<Setting<String>>,
    /// Lowest severity that fails the run.
    pub fail_on: Option<Setting<Severity>>,
    /// The edition.
    pub edition: Option<Setting<Edition>>,
    /// Endpoint propagation lag.
    pub endpoint_lag: Option<Setting<Span>>,
    /// An ingress or load balancer in front of the gateway that no manifest shows (an ALB's
    /// idle timeout, a controller's ConfigMap): its read timeout, nanoseconds. It wins over an
    /// Ingress read from the manifests.
    pub ingress_read_timeout: Option<Setting<u64>>,
    /// What each function's files cannot show, settled by the user (`functions.NAME`).
    pub functions: BTreeMap<String, FunctionSettings>,
}

/// The name of standard input in locations when `--stdin-name` does not give one.
pub const STDIN_NAME: &str = "<stdin>";

/// Names `.faasim.yaml` is looked for under, in order.
pub const CONFIG_FILE_NAMES: [&str; 2] = [".faasim.yaml", ".faasim.yml"];

/// Finds and reads `.faasim.yaml` (else `.faasim.yml`) in `cwd`. `Ok(None)` when there is none.
pub fn find_config_file(cwd: &Path) -> Result<Option<(PathBuf, CheckConfig)>, InputError> {
    for name in CONFIG_FILE_NAMES {
        let path = cwd.join(name);
        if path.is_file() {
            let config = load_config_file(&path, name)?;
            return Ok(Some((path, config)));
        }
    }
    Ok(None)
}

/// Reads a `.faasim.yaml` at `path`; `display` is the name used in locations.
pub fn load_config_file(path: &Path, display: &str) -> Result<CheckConfig, InputError> {
    let text = read_text(path, display)?;
    parse_config(&text, display)
}

/// Parses the text of a `.faasim.yaml`.
pub fn parse_config(text: &str, display: &str) -> Result<CheckConfig, InputError> {
    const KEYS: [&str; 6] = [
        "ignore",
        "failOn",
        "edition",
        "endpointLag",
        "ingress",
        "functions",
    ];
    let source = Source::new(display, text);
    let docs = yaml::parse_documents(source.parsed()).map_err(|e| source.yaml_error(&e))?;
    let mut config = CheckConfig::default();
    let Some(doc) = docs.first() else {
        return Ok(config);
    };
    let Some(entries) = doc.entries() else {
        return Err(source.error(
            doc,
            None,
            format!("expected a mapping of settings, not {}", doc.describe()),
        ));
    };
    let scalar = |node: &Node, key: &str| -> Result<(String, Location), InputError> {
        match node.scalar() {
            Some(text) if !node.is_null() => Ok((text.to_string(), source.node_location(node))),
            _ => Err(source.error(
                node,
                Some(key.to_string()),
                format!("expected a single value, not {}", node.describe()),
            )),
        }
    };
    for (key, value) in entries {
        let name = key.scalar().unwrap_or("");
        match name {
            "ignore" => {
                let items: Vec<&Node> = match (value.items(), value.scalar()) {
                    (Some(items), _) => items.iter().collect(),
                    (None, Some(_)) if value.is_null() => Vec::new(),
                    (None, Some(_)) => vec![value],
                    _ => {
                        return Err(source.error(
                            value,
                            Some("ignore".into()),
                            "expected a list of rule ids",
                        ));
                    }
                };
                for item in items {
                    let (text, location) = scalar(item, "ignore")?;
                    for rule in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                        if !crate::is_rule_id(rule) {
                            return Err(source.error(
                                item,
                                Some("ignore".into()),
                                crate::unknown_rule_message(rule),
                            ));
                        }
                        config.ignore.push(Setting {
                            value: rule.to_string(),
                            location: location.clone(),
                        });
                    }
                }
            }
            "failOn" => {
                let (text, location) = scalar(value, "failOn")?;
                let severity = match text.to_ascii_lowercase().as_str() {
                    "error" => Severity::Error,
                    "warning" => Severity::Warning,
                    "note" => Severity::Note,
                    _ => {
                        return Err(source.error(
                            value,
                            Some("failOn".into()),
                            format!("`{text}` is not one of: error, warning, note"),
                        ));
                    }
                };
                config.fail_on = Some(Setting {
                    value: severity,
                    location,
                });
            }
            "edition" => {
                let (text, location) = scalar(value, "edition")?;
                let edition = parse_edition(&text).ok_or_else(|| {
                    source.error(
                        value,
                        Some("edition".into()),
                        format!("`{text}` is not one of: ce, pro"),
                    )
                })?;
                config.edition = Some(Setting {
                    value: edition,
                    location,
                });
            }
            "endpointLag" => {
                let (text, location) = scalar(value, "endpointLag")?;
                let span = parse_span(&text)
                    .map_err(|message| source.error(value, Some("endpointLag".into()), message))?;
                config.endpoint_lag = Some(Setting {
                    value: span,
                    location,
                });
            }
            "ingress" => {
                config.ingress_read_timeout = Some(parse_ingress(value, key, &source)?);
            }
            "functions" => {
                config.functions = function_settings::parse_functions(value, &source)?;
            }
            other => {
                return Err(source.error(
                    key,
                    None,
                    format!(
                        "unknown key `{other}`; expected one of: {}",
                        KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(config)
}

/// `.faasim.yaml`'s `ingress: {readTimeout: DURATION}`: a Go duration or whole seconds, over
/// 0; `ingress:` alone (or without `readTimeout`) is ingress-nginx's and an ALB's 60 s default.
fn parse_ingress(value: &Node, key: &Node, source: &Source) -> Result<Setting<u64>, InputError> {
    const KEY: &str = "ingress.readTimeout";
    let default = Setting {
        value: faasim_model::config::INGRESS_DEFAULT_READ_TIMEOUT_NS,
        location: source.node_location(key),
    };
    if value.is_null() {
        return Ok(default);
    }
    let Some(entries) = value.entries() else {
        return Err(source.error(
            value,
            Some("ingress".into()),
            format!(
                "expected a mapping such as `{{readTimeout: 5m}}`, not {}",
                value.describe()
            ),
        ));
    };
    let mut setting = default;
    for (name, node) in entries {
        if name.scalar() != Some("readTimeout") {
            return Err(source.error(
                name,
                Some("ingress".into()),
                format!(
                    "unknown key `{}`; expected: readTimeout",
                    name.scalar().unwrap_or_default()
                ),
            ));
        }
        let text = node.scalar().filter(|_| !node.is_null()).ok_or_else(|| {
            source.error(
                node,
                Some(KEY.into()),
                "expected a single duration such as `5m`",
            )
        })?;
        let span = parse_span(text)
            .ok()
            .filter(|span| span.is_fixed() && span.lo_ns > 0)
            .ok_or_else(|| {
                source.error(
                    node,
                    Some(KEY.into()),
                    format!("`{text}` is not a duration over 0s (write a Go duration such as `5m`, or whole seconds)"),
                )
            })?;
        setting = Setting {
            value: span.lo_ns,
            location: source.node_location(node),
        };
    }
    Ok(setting)
}

/// `ce` or `pro`, any case.
pub fn parse_edition(text: &str) -> Option<Edition> {
    match text.trim().to_ascii_lowercase().as_str() {
        "ce" => Some(Edition::Ce),
        "pro" => Some(Edition::Pro),
        _ => None,
    }
}

/// A duration (`500ms`, `1s`, or whole seconds) or a range `A..B` drawn uniformly, as the
/// scenario format's `endpointLag`; for `--endpoint-lag` and `.faasim.yaml`.
pub fn parse_span(text: &str) -> Result<Span, String> {
    let one = |part: &str| -> Result<u64, String> {
        let part = part.trim();
        let ns = if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse::<i64>()
                .ok()
                .and_then(|s| s.checked_mul(NS_PER_SECOND))
                .ok_or_else(|| format!("`{part}` seconds is out of range"))?
        } else {
            duration::parse_go(part).map_err(|error| {
                format!("{error}; write a Go duration such as `500ms` or a range such as `0s..2s`")
            })?
        };
        u64::try_from(ns).map_err(|_| format!("must not be negative, got `{part}`"))
    };
    match text.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (one(lo)?, one(hi)?);
            if lo > hi {
                return Err(format!("the range `{text}` ends before it starts"));
            }
            Ok(Span {
                lo_ns: lo,
                hi_ns: hi,
            })
        }
        None => one(text).map(Span::fixed),
    }
}

fn read_text(path: &Path, display: &str) -> Result<String, InputError> {
    if path.is_dir() {
        return Err(InputError::file(
            display,
            "is a directory; give the YAML files in it",
        ));
    }
    faasim_sim::input_file::read_text(path).map_err(|error| match error {
        // Text that is not UTF-8 has a place: the first byte that is not.
        faasim_sim::input_file::InputFileError::NotText { line, column } => InputError::at(
            display,
            line,
            column,
            None,
            format!("cannot read: {error}"),
            None,
            1,
        ),
        _ => InputError::file(display, format!("cannot read: {error}")),
    })
}

/// faas-cli's `--filter` (ryanuber/go-glob): `*` matches any run of characters; without `*` the
/// name must be equal.
fn glob(pattern: &str, subject: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return subject == pattern;
    }
    let leading = pattern.starts_with('*');
    let trailing = pattern.ends_with('*');
    let last = parts.len() - 1;
    let mut rest = subject;
    for (i, part) in parts.iter().enumerate().take(last) {
        match rest.find(part) {
            Some(index) => {
                if i == 0 && !leading && index != 0 {
                    return false;
                }
                rest = rest.get(index + part.len()..).unwrap_or("");
            }
            None => return false,
        }
    }
    trailing || rest.ends_with(parts[last])
}

/// Which function names to keep.
enum NameFilter {
    All,
    Glob(String),
    Regex(regex::Regex),
}

impl NameFilter {
    fn new(request: &InputRequest) -> Result<NameFilter, InputError> {
        let filter = request.filter.as_deref().filter(|f| !f.is_empty());
        let regex = request.regex.as_deref().filter(|r| !r.is_empty());
        match (filter, regex) {
            (Some(_), Some(_)) => Err(InputError::usage(
                "--filter and --regex: pass in a regex or a filter, not both",
            )),
            (Some(filter), None) => Ok(NameFilter::Glob(filter.to_string())),
            (None, Some(regex)) => regex::Regex::new(regex)
                .map(NameFilter::Regex)
                .map_err(|error| InputError::usage(format!("invalid --regex `{regex}`: {error}"))),
            (None, None) => Ok(NameFilter::All),
        }
    }

    fn keeps(&self, name: &str) -> bool {
        match self {
            NameFilter::All => true,
            NameFilter::Glob(pattern) => glob(pattern, name),
            NameFilter::Regex(regex) => regex.is_match(name),
        }
    }
}

/// The files to read: as given, or `stack.yaml` / `stack.yml` found in `cwd`.
fn input_paths(request: &InputRequest) -> Result<Vec<String>, InputError> {
    if !request.paths.is_empty() {
        return Ok(request.paths.clone());
    }
    for name in ["stack.yaml", "stack.yml"] {
        if request.cwd.join(name).is_file() {
            return Ok(vec![name.to_string()]);
        }
    }
    Err(InputError::usage(format!(
        "no stack.yaml or stack.yml in {}; give the files to check (or - for standard input)",
        request.cwd.display()
    )))
}

/// Parses a source's documents, applying envsubst when it holds a stack file.
fn documents_of(source: &mut Source, request: &InputRequest) -> Result<Vec<Node>, InputError> {
    let raw = yaml::parse_documents(source.parsed());
    let may_substitute = request.envsubst && source.original.contains(['$', '\\']);
    let holds_stack = |docs: &[Node]| {
        docs.iter()
            .any(|d| documents::classify(d) == DocKind::Stack)
    };
    let substitute = match &raw {
        Ok(docs) => may_substitute && holds_stack(docs),
        Err(_) => may_substitute && source.original.contains("${"),
    };
    if !substitute {
        return raw.map_err(|error| source.yaml_error(&error));
    }
    let substitution = envsubst::substitute(&source.original, &request.env).map_err(|error| {
        let location = source.location_of_original(error.in_index);
        source.error_at(&location, 2, None, error.message)
    })?;
    source.substitute(substitution);
    yaml::parse_documents(source.parsed()).map_err(|error| source.yaml_error(&error))
}

/// Every function read from the inputs: those resolved, and those that could not be, each
/// with its error.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The functions resolved, in input order.
    pub functions: Vec<FunctionInput>,
    /// The functions whose entry could not be read or resolved, in input order.
    pub invalid: Vec<InvalidFunction>,
    /// The files read, in order (a function found in none of them is reported against the
    /// first).
    pub files: Vec<String>,
}

/// Reads every input and resolves each function found (see the module documentation); the
/// first function that cannot be read or resolved is the error. `faasim check` uses
/// [`read_all`], which checks the others.
pub fn read_inputs(request: &InputRequest) -> Result<Vec<FunctionInput>, InputError> {
    let inputs = read_all(request)?;
    match inputs.invalid.into_iter().next() {
        Some(invalid) => Err(invalid.error),
        None => Ok(inputs.functions),
    }
}

/// Reads every input and resolves each function found (see the module documentation).
///
/// Functions come in input order: files in order, documents in order, functions in the order
/// written. With `--filter`/`--regex`, only matching names are kept, and none matching is an
/// error (as in faas-cli). No function at all (e.g. only a values file) is `Ok` and empty. A
/// function whose stack entry or Function resource cannot be read, or whose values a component
/// refuses, is listed in [`Inputs::invalid`] and the others are still resolved; what concerns
/// every function (a file that cannot be read or parsed, the platform's values) is the error.
pub fn read_all(request: &InputRequest) -> Result<Inputs, InputError> {
    let filter = NameFilter::new(request)?;
    let paths = input_paths(request)?;
    let mut sources: Vec<Source> = Vec::new();
    let mut raw_functions: Vec<RawFunction> = Vec::new();
    let mut invalid: Vec<InvalidFunction> = Vec::new();
    let mut platform = Platform::default();
    let mut files: Vec<String> = Vec::new();

    for path in &paths {
        let (name, text) = if path == "-" {
            let text = request.stdin.clone().ok_or_else(|| {
                InputError::file(STDIN_NAME, "`-` given but no standard input was read")
            })?;
            let name = request
                .stdin_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| STDIN_NAME.to_string());
            (name, text)
        } else {
            (path.clone(), read_text(&request.cwd.join(path), path)?)
        };
        files.push(name.clone());
        let mut source = Source::new(name, &text);
        let docs = documents_of(&mut source, request)?;
        let mut reader = Reader {
            source: &source,
            cwd: &request.cwd,
            functions: &mut raw_functions,
            platform: &mut platform,
            extra_sources: Vec::new(),
            invalid: &mut invalid,
        };
        for doc in &docs {
            reader.document(doc)?;
        }
        let extra = std::mem::take(&mut reader.extra_sources);
        sources.push(source);
        sources.extend(extra);
    }

    let found = raw_functions.len() + invalid.len();
    raw_functions.retain(|f| filter.keeps(&f.name));
    invalid.retain(|f| filter.keeps(&f.name));
    if let Some(first_over) = raw_functions.get(limits::FUNCTIONS_MAX) {
        let location = &first_over.location;
        return Err(source::error_at_location(
            &sources,
            location,
            first_over.name.chars().count(),
            Some(format!("functions.{}", first_over.name)),
            format!(
                "{} functions is above the limit of {} per check (each is checked with several \
                 simulated runs; docs/check.md, \"Limits\"); check the stack in parts with \
                 --filter or --regex",
                raw_functions.len(),
                limits::FUNCTIONS_MAX
            ),
        ));
    }
    if raw_functions.is_empty()
        && invalid.is_empty()
        && found > 0
        && !matches!(filter, NameFilter::All)
    {
        return Err(InputError::usage(
            "no functions matching --filter/--regex were found in the inputs",
        ));
    }

    let config = request.config.as_ref();
    let (edition, edition_origin) = match (request.edition, config.and_then(|c| c.edition.as_ref()))
    {
        (Some(edition), _) => (
            edition,
            Origin::Flag(format!("--edition {}", edition_name(edition))),
        ),
        (None, Some(setting)) => (setting.value, Origin::File(setting.location.clone())),
        // What the platform's files show (the chart's `openfaasPro`, a Pro gateway image),
        // the last one read winning as for every platform value.
        (None, None) => match &platform.edition {
            Some(sign) => (
                if sign.pro { Edition::Pro } else { Edition::Ce },
                Origin::File(sign.location.clone()),
            ),
            None => (Edition::Ce, Origin::Default),
        },
    };
    let (endpoint_lag, endpoint_lag_origin) = match (
        request.endpoint_lag,
        config.and_then(|c| c.endpoint_lag.as_ref()),
    ) {
        (Some(span), _) => (span, Origin::Flag("--endpoint-lag".to_string())),
        (None, Some(setting)) => (setting.value, Origin::File(setting.location.clone())),
        (None, None) => (KubernetesConfig::default().endpoint_lag_ns, Origin::Default),
    };
    let context = resolve::Context {
        edition,
        edition_origin,
        endpoint_lag,
        endpoint_lag_origin,
        ingress_read_timeout: config.and_then(|c| c.ingress_read_timeout.clone()),
        functions: request
            .config
            .as_ref()
            .map(|c| c.functions.clone())
            .unwrap_or_default(),
    };
    let mut functions = Vec::with_capacity(raw_functions.len());
    for raw in &raw_functions {
        match resolve::resolve(raw, &platform, &context, &sources) {
            Ok(function) => functions.push(function),
            Err(error) => invalid.push(InvalidFunction {
                name: raw.name.clone(),
                error,
            }),
        }
    }
    Ok(Inputs {
        functions,
        invalid,
        files,
    })
}

fn edition_name(edition: Edition) -> &'static str {
    match edition {
        Edition::Ce => "ce",
        Edition::Pro => "pro",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_go_glob() {
        assert!(glob("*", "anything"));
        assert!(glob("go-*", "go-long"));
        assert!(!glob("go-*", "a-go-long"));
        assert!(glob("*-long", "go-long"));
        assert!(glob("*o-l*", "go-long"));
        assert!(glob("go-long", "go-long"));
        assert!(!glob("go", "go-long"));
        assert!(glob("g*g", "go-long"));
        assert!(!glob("g*x", "go-long"));
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("1s"), Ok(Span::fixed(NS_PER_SECOND as u64)));
        assert_eq!(parse_span("2"), Ok(Span::fixed(2 * NS_PER_SECOND as u64)));
        assert_eq!(
            parse_span("0s..500ms"),
            Ok(Span {
                lo_ns: 0,
                hi_ns: 500_000_000
            })
        );
        assert!(parse_span("2s..1s").is_err());
        assert!(parse_span("-1s").is_err());
        assert!(parse_span("soon").is_err());
    }
}
