//! Scenario files: reading the YAML of `scenario-format.md` into a [`Config`] and a sorted
//! schedule, with every default documented here and every error naming file, line and key.
//!
//! Reading happens in two passes. serde-saphyr first deserializes the text into the `Raw*`
//! structs below, which mirror the YAML key for key (`deny_unknown_fields`, every leaf a
//! [`Spanned`] string so numbers, booleans and durations are validated here, with their
//! location). Then [`parse`] checks and converts each value into the model's types. When
//! serde-saphyr itself fails (malformed YAML, an unknown key, a list where a value belongs),
//! its error only carries a line and column; [`key_path_at`] walks the YAML events up to that
//! position to name the dotted key (`events[2].drainNode.notice`) the error is about.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::path::Path;

use faasim_model::config::{
    ChildConfig, Config, ConfigWarning, Edition, FunctionConfig, GatewayConfig, GraceSource,
    IntOrPercent, KubernetesConfig, LoadConfig, Method, Mode, NetworkConfig, OnSigterm,
    ProbeConfig, ProviderConfig, Span, Start, WatchdogConfig, WatchdogKind, edition_grace_s,
};
use faasim_model::duration;
use faasim_model::schedule::{Action, Event};
use faasim_model::time::NS_PER_S;
use serde::{Deserialize, Deserializer};
use serde_saphyr::granit_parser::{Event as YamlEvent, Parser as YamlParser};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One scenario, read and checked: the effective configuration and the sorted events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// `name`, or the file stem when absent.
    pub name: String,
    /// `seed`, when the file gives one (`--seed` overrides it).
    pub seed: Option<u64>,
    /// `limit`: the cap on simulated time, nanoseconds.
    pub limit_ns: Option<u64>,
    /// Every component's settings, defaults filled in.
    pub config: Config,
    /// `events`, sorted by time (stable: equal times keep file order).
    pub events: Vec<Event>,
    /// Values a real component would silently replace, and other things worth telling.
    pub warnings: Vec<ConfigWarning>,
    /// The file name as given to [`load`] (or the `source` given to [`parse`]).
    pub source: String,
}

/// Why a scenario could not be read. Displays as one line:
/// `FILE:LINE:COL: key `a.b.c`: message`, leaving out the parts that are not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file name as given.
    pub file: String,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// The dotted key path, e.g. `load.concurrency` or `events[2].drainNode.notice`.
    pub key: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&one_line(&self.message))
    }
}

impl StdError for ScenarioError {}

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| ScenarioError {
        file: file.clone(),
        line: None,
        column: None,
        key: None,
        message: format!("cannot read file: {error}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|error| ScenarioError {
        file: file.clone(),
        line: None,
        column: None,
        key: None,
        message: format!("not UTF-8 text: {error}"),
    })?;
    parse(&text, &file)
}

/// Reads and checks scenario `text`; `source` is the file name used in errors and for the
/// default `name`.
pub fn parse(text: &str, source: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario =
        serde_saphyr::from_str(text).map_err(|error| yaml_error(source, text, &error))?;
    Builder {
        file: source,
        warnings: Vec::new(),
    }
    .scenario(raw)
}

// ---------------------------------------------------------------------------------------------
// The raw file, mirroring the YAML. Every leaf is text with its location; `None` is "absent"
// (or YAML null), which means "the default".
// ---------------------------------------------------------------------------------------------

/// A scalar as written, with where it was written. Numbers and booleans arrive as their text.
type Text = Option<Spanned<String>>;

/// A `map[string]string` as in stack.yml: unquoted numbers and booleans become their text
/// (`65` → `"65"`), YAML null becomes `""`, as Go's yaml does.
type StringMap = BTreeMap<String, Option<Spanned<String>>>;

/// Deserializes a field that is present, even as YAML null, into `Some`, so that `rollout:`
/// (null) is told apart from no `rollout` key at all.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The whole file. An empty file, or `{}`, is a valid scenario of defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    /// Default: the file name without its extension.
    name: Text,
    /// Default: none (the run's `--seed`, or the runner's own default).
    seed: Text,
    /// Cap on simulated time: a Go duration or bare integer seconds. Default: no cap.
    limit: Text,
    /// Default: every `function` default.
    function: Option<RawFunction>,
    /// Default: every `kubernetes` default.
    kubernetes: Option<RawKubernetes>,
    /// Default: every `gateway` default (the OpenFaaS Helm chart's values).
    gateway: Option<RawGateway>,
    /// Added section: the provider's own timeouts, as the Helm chart's `faasnetes` values.
    /// Default: the gateway's, as the chart does.
    faasnetes: Option<RawFaasnetes>,
    /// Default: every `load` default (hey's).
    load: Option<RawLoad>,
    /// Added section: the network between components (every message takes `rtt / 2`).
    /// Default: `rtt: 500us`.
    network: Option<RawNetwork>,
    /// Default: no events.
    events: Option<Vec<Spanned<RawEvent>>>,
}

/// `function`: as an OpenFaaS stack.yml function entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    /// Function name, used in pod names; a DNS-1123 label. Default: `fn`.
    name: Text,
    /// The watchdog's environment, read as of-watchdog reads it (bare integers are seconds,
    /// invalid values silently become the default and are reported as warnings). Default:
    /// empty, so every watchdog default (30 s timeouts, `healthcheck_interval` =
    /// `write_timeout`, no `max_inflight`).
    environment: Option<StringMap>,
    /// Labels; `com.openfaas.scale.min` (default 1) and `com.openfaas.scale.max` (default 20)
    /// are read, others ignored. Default: none.
    labels: Option<StringMap>,
    /// `of-watchdog` (drain, 2021 on) or `fixed-wait` (the pre-2021 sequence).
    /// Default: `of-watchdog`.
    watchdog: Text,
    /// `http` (proxy to a child server) or `streaming` (fork per request). Default: `http`.
    mode: Text,
    /// The child server behind the watchdog (http mode only). Default: every upstream default.
    upstream: Option<RawUpstream>,
    /// The handler. Default: `duration: 10ms`.
    handler: Option<RawHandler>,
    /// Pod created → watchdog listening; a duration or a range `A..B`. Default: `2s`.
    startup: Text,
    /// `warm` (initial replicas ready at time 0) or `cold` (created at time 0). Default: `warm`.
    start: Text,
}

/// `function.upstream`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    /// `drain` (like the golang-middleware template) or `exit` (dies at once).
    /// Default: `drain`.
    #[serde(rename = "onSigterm")]
    on_sigterm: Text,
    /// Added key: watchdog listening → child listening; a duration or a range. Default: `0s`.
    startup: Text,
}

/// `function.handler`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandler {
    /// How long the handler works; a duration or a range `80s..100s` (uniform, from the seed).
    /// Default: `10ms`.
    duration: Text,
}

/// `kubernetes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKubernetes {
    /// `pro` (grace = write_timeout + 2s) or `ce` (Kubernetes default 30 s). Default: `ce`.
    edition: Text,
    /// Integer seconds; when set it wins over `edition`. Default: from `edition`.
    #[serde(rename = "terminationGracePeriodSeconds")]
    termination_grace_period_seconds: Text,
    /// Default: `{sleep: 0}` (no hook, as faas-netes sets none).
    #[serde(rename = "preStop")]
    pre_stop: Option<RawPreStop>,
    /// Default: faas-netes CE's hard-coded probe `{initialDelaySeconds: 2, periodSeconds: 2,
    /// failureThreshold: 3, successThreshold: 1}`.
    #[serde(rename = "readinessProbe")]
    readiness_probe: Option<RawProbe>,
    /// Default: `{maxSurge: 1, maxUnavailable: 0}`, as faas-netes sets.
    strategy: Option<RawStrategy>,
    /// Pod deleted or ready → the provider's view changes; a duration or a range.
    /// Default: `0s..1s`.
    #[serde(rename = "endpointLag")]
    endpoint_lag: Text,
    /// Added key: worker nodes the pods spread over, at least 1. Default: 3.
    nodes: Text,
    /// Added key: delay before a crashed container is started again (a duration).
    /// Default: `0s`.
    #[serde(rename = "restartDelay")]
    restart_delay: Text,
}

/// `kubernetes.preStop`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreStop {
    /// Integer seconds of the Kubernetes sleep action. Default: 0 (no hook).
    sleep: Text,
}

/// `kubernetes.readinessProbe`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    /// Integer seconds, >= 0. Default: 2.
    #[serde(rename = "initialDelaySeconds")]
    initial_delay_seconds: Text,
    /// Integer seconds, >= 1. Default: 2.
    #[serde(rename = "periodSeconds")]
    period_seconds: Text,
    /// >= 1. Default: 3.
    #[serde(rename = "failureThreshold")]
    failure_threshold: Text,
    /// >= 1. Default: 1.
    #[serde(rename = "successThreshold")]
    success_threshold: Text,
}

/// `kubernetes.strategy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    /// An integer or `"N%"` (rounded up). Default: 1.
    #[serde(rename = "maxSurge")]
    max_surge: Text,
    /// An integer or `"N%"` (rounded down), at most 100%. Default: 0. Both 0 is an error, as
    /// Kubernetes rejects it.
    #[serde(rename = "maxUnavailable")]
    max_unavailable: Text,
}

/// `gateway`: the OpenFaaS Helm chart's value names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    /// Deadline of the call to the provider. Default: `1m`.
    #[serde(rename = "upstreamTimeout")]
    upstream_timeout: Text,
    /// Gateway server read timeout. Default: `1m5s`.
    #[serde(rename = "readTimeout")]
    read_timeout: Text,
    /// Gateway server write timeout. Default: `1m5s`.
    #[serde(rename = "writeTimeout")]
    write_timeout: Text,
    /// Hold requests while scaling from zero. Default: `true`.
    #[serde(rename = "scaleFromZero")]
    scale_from_zero: Text,
}

/// `faasnetes` (added): the Helm chart's provider values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaasnetes {
    /// Provider server read timeout and proxy client timeout. Default: `gateway.readTimeout`.
    #[serde(rename = "readTimeout")]
    read_timeout: Text,
    /// Provider server write timeout. Default: `gateway.writeTimeout`.
    #[serde(rename = "writeTimeout")]
    write_timeout: Text,
}

/// `load`: like hey.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    /// Workers, >= 1. Default: 50.
    concurrency: Text,
    /// Requests in total, >= 1; in closed loop at least `concurrency`. Default: 200.
    requests: Text,
    /// Client timeout, a duration; 0 means none. Default: `20s`.
    timeout: Text,
    /// `GET` or `POST`, any case. Default: `GET`.
    method: Text,
    /// Client keep-alive to the gateway. Default: `true`.
    #[serde(rename = "keepAlive")]
    keep_alive: Text,
    /// 0: closed loop like hey; N: open loop, N requests per second. Default: 0.
    rate: Text,
    /// Added key: when the load starts, a duration. Default: `0s`.
    start: Text,
}

/// `network` (added).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    /// Round-trip time (the keep-alive race window). Default: `500us`.
    rtt: Text,
}

/// One item of `events`: `at` and exactly one action.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    /// When, a duration from the start of the run. Required.
    at: Text,
    /// `kubectl scale --replicas=N`, N >= 0.
    #[serde(default, deserialize_with = "present")]
    scale: Option<Spanned<Option<String>>>,
    /// A rolling update to a new revision: `rollout: {}`.
    #[serde(default, deserialize_with = "present")]
    rollout: Option<Spanned<Option<RawRollout>>>,
    /// A node reclaimed: its pods are evicted, the node dies after `notice`.
    #[serde(default, rename = "drainNode", deserialize_with = "present")]
    drain_node: Option<Spanned<Option<RawDrainNode>>>,
    /// A pod crashes (no SIGTERM).
    #[serde(default, rename = "killPod", deserialize_with = "present")]
    kill_pod: Option<Spanned<Option<RawKillPod>>>,
}

/// `rollout`: takes no keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollout {}

/// `drainNode`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrainNode {
    /// Notice before the node dies, a duration. Default: `2m`.
    notice: Text,
    /// Node index, 0-based, below `kubernetes.nodes`. Default: the node with the most
    /// function pods.
    node: Text,
}

/// `killPod`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKillPod {
    /// Pod name. Default: one of the running pods, picked by the seed.
    pod: Text,
}

// ---------------------------------------------------------------------------------------------
// Conversion
// ---------------------------------------------------------------------------------------------

/// 1-based line and column.
type Loc = Option<(usize, usize)>;

fn loc_of(location: &Location) -> Loc {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then_some((line, column.max(1)))
}

fn spanned_loc<T>(value: &Spanned<T>) -> Loc {
    loc_of(&value.referenced)
}

/// A leaf as written (or absent) and where.
#[derive(Clone, Copy)]
struct Field<'a> {
    raw: Option<&'a str>,
    loc: Loc,
}

fn field(text: &Text) -> Field<'_> {
    match text {
        Some(spanned) => Field {
            raw: Some(spanned.value.as_str()),
            loc: spanned_loc(spanned),
        },
        None => Field {
            raw: None,
            loc: None,
        },
    }
}

fn field_opt(text: &Spanned<Option<String>>) -> Field<'_> {
    Field {
        raw: text.value.as_deref(),
        loc: spanned_loc(text),
    }
}

struct Builder<'a> {
    file: &'a str,
    warnings: Vec<ConfigWarning>,
}

/// Durations in scenario keys: a bare integer is seconds, anything else a Go duration; both
/// strictly (no fallback) and never negative.
fn scenario_duration_ns(raw: &str) -> Result<u64, String> {
    let ns = match raw.parse::<i64>() {
        Ok(seconds) if seconds < 0 => {
            return Err(format!("must not be negative, got {raw}"));
        }
        Ok(seconds) => seconds
            .checked_mul(NS_PER_S as i64)
            .ok_or_else(|| format!("{raw} seconds is out of range (at most 9223372036 seconds)"))?,
        Err(_) => duration::parse_go(raw).map_err(|error| {
            format!("{error}; write a Go duration such as `2m30s` or a bare integer of seconds")
        })?,
    };
    u64::try_from(ns).map_err(|_| format!("must not be negative, got {raw}"))
}

fn is_decimal(raw: &str) -> bool {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Builder<'_> {
    fn error(&self, key: &str, loc: Loc, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line: loc.map(|(line, _)| line),
            column: loc.map(|(_, column)| column),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    fn warn(&mut self, key: &str, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// A non-negative duration (Go duration or bare integer seconds).
    fn duration(&self, key: &str, f: Field<'_>, default_ns: u64) -> Result<u64, ScenarioError> {
        match f.raw {
            None => Ok(default_ns),
            Some(raw) => {
                scenario_duration_ns(raw).map_err(|message| self.error(key, f.loc, message))
            }
        }
    }

    /// A fixed duration, or a range `A..B` with `A <= B`.
    fn span(&self, key: &str, f: Field<'_>, default: Span) -> Result<Span, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        match raw.split_once("..") {
            None => {
                let ns = scenario_duration_ns(raw).map_err(|m| self.error(key, f.loc, m))?;
                Ok(Span::fixed(ns))
            }
            Some((lo, hi)) => {
                let (lo, hi) = (lo.trim(), hi.trim());
                let side = |text: &str, which: &str| {
                    scenario_duration_ns(text).map_err(|m| {
                        self.error(key, f.loc, format!("{which} of range `{raw}`: {m}"))
                    })
                };
                let lo_ns = side(lo, "start")?;
                let hi_ns = side(hi, "end")?;
                if lo_ns > hi_ns {
                    return Err(self.error(
                        key,
                        f.loc,
                        format!("range `{raw}` starts after it ends (write `A..B` with A <= B)"),
                    ));
                }
                Ok(Span { lo_ns, hi_ns })
            }
        }
    }

    /// A decimal integer in `min..=max`.
    fn integer(
        &self,
        key: &str,
        f: Field<'_>,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        let bound = || {
            if max >= u64::from(u32::MAX) {
                format!("a whole number >= {min}")
            } else {
                format!("a whole number from {min} to {max}")
            }
        };
        let negative = raw.strip_prefix('-').is_some_and(is_decimal);
        if negative {
            return Err(self.error(key, f.loc, format!("must be {}, got {raw}", bound())));
        }
        if !is_decimal(raw) {
            return Err(self.error(key, f.loc, format!("`{raw}` is not {}", bound())));
        }
        let digits = raw.strip_prefix('+').unwrap_or(raw);
        match digits.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            Ok(value) if value < min => {
                Err(self.error(key, f.loc, format!("must be {}, got {raw}", bound())))
            }
            _ => Err(self.error(key, f.loc, format!("must be at most {max}, got {raw}"))),
        }
    }

    fn int_u32(
        &self,
        key: &str,
        f: Field<'_>,
        default: u32,
        min: u32,
    ) -> Result<u32, ScenarioError> {
        let value = self.integer(
            key,
            f,
            u64::from(default),
            u64::from(min),
            u64::from(u32::MAX),
        )?;
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    }

    fn boolean(&self, key: &str, f: Field<'_>, default: bool) -> Result<bool, ScenarioError> {
        match f.raw {
            None => Ok(default),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(raw) => Err(self.error(key, f.loc, format!("must be true or false, got `{raw}`"))),
        }
    }

    fn choice<T: Copy>(
        &self,
        key: &str,
        f: Field<'_>,
        default: T,
        options: &[(&str, T)],
        any_case: bool,
    ) -> Result<T, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        let found = options.iter().find(|(name, _)| {
            if any_case {
                name.eq_ignore_ascii_case(raw)
            } else {
                *name == raw
            }
        });
        match found {
            Some((_, value)) => Ok(*value),
            None => {
                let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
                Err(self.error(
                    key,
                    f.loc,
                    format!("`{raw}` is not one of: {}", names.join(", ")),
                ))
            }
        }
    }

    fn string_map(
        &self,
        map: Option<StringMap>,
    ) -> (BTreeMap<String, String>, BTreeMap<String, Loc>) {
        let mut values = BTreeMap::new();
        let mut locs = BTreeMap::new();
        for (key, value) in map.unwrap_or_default() {
            let (text, loc) = match value {
                Some(spanned) => {
                    let loc = spanned_loc(&spanned);
                    (spanned.value, loc)
                }
                None => (String::new(), None),
            };
            values.insert(key.clone(), text);
            locs.insert(key, loc);
        }
        (values, locs)
    }

    fn scenario(mut self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let name = match field(&raw.name).raw {
            Some(name) => name.to_string(),
            None => default_name(self.file),
        };
        let seed = match field(&raw.seed).raw {
            None => None,
            Some(_) => Some(self.integer("seed", field(&raw.seed), 0, 0, u64::MAX)?),
        };
        let limit_ns = match field(&raw.limit).raw {
            None => None,
            Some(_) => Some(self.duration("limit", field(&raw.limit), 0)?),
        };

        let (function, env) = self.function(raw.function.unwrap_or_default())?;
        let kubernetes = self.kubernetes(raw.kubernetes.unwrap_or_default(), &env)?;
        let gateway = self.gateway(raw.gateway.unwrap_or_default())?;
        let provider = self.provider(raw.faasnetes.unwrap_or_default(), &gateway)?;
        let load = self.load(raw.load.unwrap_or_default())?;
        let network = self.network(raw.network.unwrap_or_default())?;

        let mut events = Vec::new();
        for (index, item) in raw.events.unwrap_or_default().into_iter().enumerate() {
            events.push(self.event(index, item, kubernetes.nodes)?);
        }
        events.sort_by_key(|event: &Event| event.at_ns);

        Ok(Scenario {
            name,
            seed,
            limit_ns,
            config: Config {
                function,
                kubernetes,
                gateway,
                provider,
                load,
                network,
            },
            events,
            warnings: self.warnings,
            source: self.file.to_string(),
        })
    }

    /// The function, and its environment (the edition's grace period reads it).
    fn function(
        &mut self,
        raw: RawFunction,
    ) -> Result<(FunctionConfig, BTreeMap<String, String>), ScenarioError> {
        let defaults = FunctionConfig::default();
        let name = match field(&raw.name).raw {
            None => defaults.name.clone(),
            Some(name) => {
                if !is_dns1123_label(name) {
                    return Err(self.error(
                        "function.name",
                        field(&raw.name).loc,
                        format!(
                            "`{name}` is not a valid function name (lowercase letters, digits \
                             and '-', starting and ending with a letter or digit, at most 63 \
                             characters)"
                        ),
                    ));
                }
                name.to_string()
            }
        };
        let kind = self.choice(
            "function.watchdog",
            field(&raw.watchdog),
            WatchdogKind::OfWatchdog,
            &[
                ("of-watchdog", WatchdogKind::OfWatchdog),
                ("fixed-wait", WatchdogKind::FixedWait),
            ],
            false,
        )?;
        let mode = self.choice(
            "function.mode",
            field(&raw.mode),
            Mode::Http,
            &[("http", Mode::Http), ("streaming", Mode::Streaming)],
            false,
        )?;
        let upstream_given = raw.upstream.is_some();
        let upstream = raw.upstream.unwrap_or_default();
        let on_sigterm = self.choice(
            "function.upstream.onSigterm",
            field(&upstream.on_sigterm),
            OnSigterm::Drain,
            &[("drain", OnSigterm::Drain), ("exit", OnSigterm::Exit)],
            false,
        )?;
        let child_startup = self.span(
            "function.upstream.startup",
            field(&upstream.startup),
            Span::fixed(0),
        )?;
        if upstream_given && mode == Mode::Streaming {
            self.warn(
                "function.upstream",
                "ignored: there is no child server in streaming mode (the watchdog forks one \
                 process per request)",
            );
        }
        let handler = raw.handler.unwrap_or_default();
        let handler_ns = self.span(
            "function.handler.duration",
            field(&handler.duration),
            defaults.handler_ns,
        )?;
        let startup_ns = self.span("function.startup", field(&raw.startup), defaults.startup_ns)?;
        let start = self.choice(
            "function.start",
            field(&raw.start),
            Start::Warm,
            &[("warm", Start::Warm), ("cold", Start::Cold)],
            false,
        )?;

        let (labels, label_locs) = self.string_map(raw.labels);
        let label = |name: &str| Field {
            raw: labels.get(name).map(String::as_str),
            loc: label_locs.get(name).copied().flatten(),
        };
        const MIN: &str = "com.openfaas.scale.min";
        const MAX: &str = "com.openfaas.scale.max";
        let scale_min = self.int_u32(
            &format!("function.labels.{MIN}"),
            label(MIN),
            defaults.scale_min,
            0,
        )?;
        let scale_max = self.int_u32(
            &format!("function.labels.{MAX}"),
            label(MAX),
            defaults.scale_max,
            0,
        )?;
        if scale_min > scale_max {
            let (key, f) = if label(MIN).raw.is_some() {
                (MIN, label(MIN))
            } else {
                (MAX, label(MAX))
            };
            return Err(self.error(
                &format!("function.labels.{key}"),
                f.loc,
                format!("{MIN} ({scale_min}) is above {MAX} ({scale_max})"),
            ));
        }

        let (env, env_locs) = self.string_map(raw.environment);
        let (watchdog, warnings) = WatchdogConfig::from_env(&env, kind, mode).map_err(|error| {
            let loc = env_locs.get(&error.key).copied().flatten();
            self.error(
                &format!("function.environment.{}", error.key),
                loc,
                error.message,
            )
        })?;
        for warning in warnings {
            self.warn(
                &format!("function.environment.{}", warning.key),
                warning.message,
            );
        }
        if let Some(env_mode) = env.get("mode") {
            let wanted = match mode {
                Mode::Http => "http",
                Mode::Streaming => "streaming",
            };
            if env_mode != wanted {
                self.warn(
                    "function.environment.mode",
                    format!(
                        "ignored: the simulated watchdog runs `function.mode` ({wanted}), not \
                         `{env_mode}`"
                    ),
                );
            }
        }
        let child = ChildConfig::from_env(&env, on_sigterm, child_startup);

        let config = FunctionConfig {
            name,
            watchdog,
            child,
            handler_ns,
            startup_ns,
            start,
            scale_min,
            scale_max,
        };
        Ok((config, env))
    }

    fn kubernetes(
        &mut self,
        raw: RawKubernetes,
        env: &BTreeMap<String, String>,
    ) -> Result<KubernetesConfig, ScenarioError> {
        let defaults = KubernetesConfig::default();
        let edition = self.choice(
            "kubernetes.edition",
            field(&raw.edition),
            Edition::Ce,
            &[("ce", Edition::Ce), ("pro", Edition::Pro)],
            false,
        )?;
        let grace_field = field(&raw.termination_grace_period_seconds);
        let (grace_s, grace_source) = match grace_field.raw {
            Some(_) => {
                let seconds = self.integer(
                    "kubernetes.terminationGracePeriodSeconds",
                    grace_field,
                    0,
                    0,
                    9_223_372_036,
                )?;
                (seconds, GraceSource::Explicit)
            }
            None => {
                let (seconds, source, warning) = edition_grace_s(edition, env);
                if let Some(warning) = warning {
                    self.warn("kubernetes.edition", warning);
                }
                (seconds, source)
            }
        };
        let pre_stop = raw.pre_stop.unwrap_or_default();
        let pre_stop_sleep_s = self.integer(
            "kubernetes.preStop.sleep",
            field(&pre_stop.sleep),
            defaults.pre_stop_sleep_s,
            0,
            9_223_372_036,
        )?;
        let probe = raw.readiness_probe.unwrap_or_default();
        let probe_defaults = ProbeConfig::default();
        let readiness = ProbeConfig {
            initial_delay_s: self.int_u32(
                "kubernetes.readinessProbe.initialDelaySeconds",
                field(&probe.initial_delay_seconds),
                probe_defaults.initial_delay_s,
                0,
            )?,
            period_s: self.int_u32(
                "kubernetes.readinessProbe.periodSeconds",
                field(&probe.period_seconds),
                probe_defaults.period_s,
                1,
            )?,
            failure_threshold: self.int_u32(
                "kubernetes.readinessProbe.failureThreshold",
                field(&probe.failure_threshold),
                probe_defaults.failure_threshold,
                1,
            )?,
            success_threshold: self.int_u32(
                "kubernetes.readinessProbe.successThreshold",
                field(&probe.success_threshold),
                probe_defaults.success_threshold,
                1,
            )?,
        };
        let strategy = raw.strategy.unwrap_or_default();
        let surge_field = field(&strategy.max_surge);
        let unavailable_field = field(&strategy.max_unavailable);
        let max_surge = self.int_or_percent(
            "kubernetes.strategy.maxSurge",
            surge_field,
            defaults.max_surge,
        )?;
        let max_unavailable = self.int_or_percent(
            "kubernetes.strategy.maxUnavailable",
            unavailable_field,
            defaults.max_unavailable,
        )?;
        if let IntOrPercent::Percent(p) = max_unavailable
            && p > 100
        {
            return Err(self.error(
                "kubernetes.strategy.maxUnavailable",
                unavailable_field.loc,
                format!("must not be greater than 100%, got {p}%"),
            ));
        }
        let is_zero =
            |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
        if is_zero(max_surge) && is_zero(max_unavailable) {
            let (key, loc) = if unavailable_field.raw.is_some() {
                ("kubernetes.strategy.maxUnavailable", unavailable_field.loc)
            } else {
                ("kubernetes.strategy.maxSurge", surge_field.loc)
            };
            return Err(self.error(
                key,
                loc,
                "maxSurge and maxUnavailable are both 0: Kubernetes rejects this Deployment \
                 (\"may not be 0 when `maxSurge` is 0\")",
            ));
        }
        let endpoint_lag_ns = self.span(
            "kubernetes.endpointLag",
            field(&raw.endpoint_lag),
            defaults.endpoint_lag_ns,
        )?;
        let nodes = self.int_u32("kubernetes.nodes", field(&raw.nodes), defaults.nodes, 1)?;
        let restart_delay_ns = self.duration(
            "kubernetes.restartDelay",
            field(&raw.restart_delay),
            defaults.restart_delay_ns,
        )?;
        Ok(KubernetesConfig {
            edition,
            grace_s,
            grace_source,
            pre_stop_sleep_s,
            readiness,
            max_surge,
            max_unavailable,
            endpoint_lag_ns,
            nodes,
            restart_delay_ns,
        })
    }

    fn int_or_percent(
        &self,
        key: &str,
        f: Field<'_>,
        default: IntOrPercent,
    ) -> Result<IntOrPercent, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        match raw.strip_suffix('%') {
            Some(number) => {
                let inner = Field {
                    raw: Some(number),
                    loc: f.loc,
                };
                let value = self
                    .integer(key, inner, 0, 0, u64::from(u32::MAX))
                    .map_err(|_| {
                        self.error(
                            key,
                            f.loc,
                            format!("`{raw}` is not an integer or a percentage like \"25%\""),
                        )
                    })?;
                Ok(IntOrPercent::Percent(
                    u32::try_from(value).unwrap_or(u32::MAX),
                ))
            }
            None => {
                if !is_decimal(raw) {
                    let message = if raw.strip_prefix('-').is_some_and(is_decimal) {
                        format!("must not be negative, got {raw}")
                    } else {
                        format!("`{raw}` is not an integer or a percentage like \"25%\"")
                    };
                    return Err(self.error(key, f.loc, message));
                }
                let value = self.integer(key, f, 0, 0, u64::from(u32::MAX))?;
                Ok(IntOrPercent::Int(u32::try_from(value).unwrap_or(u32::MAX)))
            }
        }
    }

    fn gateway(&self, raw: RawGateway) -> Result<GatewayConfig, ScenarioError> {
        let defaults = GatewayConfig::default();
        Ok(GatewayConfig {
            upstream_timeout_ns: self.duration(
                "gateway.upstreamTimeout",
                field(&raw.upstream_timeout),
                defaults.upstream_timeout_ns,
            )?,
            read_timeout_ns: self.duration(
                "gateway.readTimeout",
                field(&raw.read_timeout),
                defaults.read_timeout_ns,
            )?,
            write_timeout_ns: self.duration(
                "gateway.writeTimeout",
                field(&raw.write_timeout),
                defaults.write_timeout_ns,
            )?,
            scale_from_zero: self.boolean(
                "gateway.scaleFromZero",
                field(&raw.scale_from_zero),
                defaults.scale_from_zero,
            )?,
            ..defaults
        })
    }

    fn provider(
        &self,
        raw: RawFaasnetes,
        gateway: &GatewayConfig,
    ) -> Result<ProviderConfig, ScenarioError> {
        Ok(ProviderConfig {
            read_timeout_ns: self.duration(
                "faasnetes.readTimeout",
                field(&raw.read_timeout),
                gateway.read_timeout_ns,
            )?,
            write_timeout_ns: self.duration(
                "faasnetes.writeTimeout",
                field(&raw.write_timeout),
                gateway.write_timeout_ns,
            )?,
            ..ProviderConfig::default()
        })
    }

    fn load(&self, raw: RawLoad) -> Result<LoadConfig, ScenarioError> {
        let defaults = LoadConfig::default();
        let concurrency = self.int_u32(
            "load.concurrency",
            field(&raw.concurrency),
            defaults.concurrency,
            1,
        )?;
        let requests = self.integer(
            "load.requests",
            field(&raw.requests),
            defaults.requests,
            1,
            u64::MAX,
        )?;
        let rate_per_s = self.int_u32("load.rate", field(&raw.rate), defaults.rate_per_s, 0)?;
        if rate_per_s == 0 && requests < u64::from(concurrency) {
            let (key, loc) = if raw.requests.is_some() {
                ("load.requests", field(&raw.requests).loc)
            } else {
                ("load.concurrency", field(&raw.concurrency).loc)
            };
            return Err(self.error(
                key,
                loc,
                format!(
                    "requests ({requests}) is less than concurrency ({concurrency}) in a closed \
                     loop (rate 0); hey refuses this: \"-n cannot be less than -c\""
                ),
            ));
        }
        Ok(LoadConfig {
            concurrency,
            requests,
            timeout_ns: self.duration("load.timeout", field(&raw.timeout), defaults.timeout_ns)?,
            method: self.choice(
                "load.method",
                field(&raw.method),
                defaults.method,
                &[("GET", Method::Get), ("POST", Method::Post)],
                true,
            )?,
            keep_alive: self.boolean(
                "load.keepAlive",
                field(&raw.keep_alive),
                defaults.keep_alive,
            )?,
            rate_per_s,
            start_ns: self.duration("load.start", field(&raw.start), defaults.start_ns)?,
        })
    }

    fn network(&self, raw: RawNetwork) -> Result<NetworkConfig, ScenarioError> {
        let defaults = NetworkConfig::default();
        Ok(NetworkConfig {
            rtt_ns: self.duration("network.rtt", field(&raw.rtt), defaults.rtt_ns)?,
        })
    }

    fn event(
        &self,
        index: usize,
        item: Spanned<RawEvent>,
        nodes: u32,
    ) -> Result<Event, ScenarioError> {
        let base = format!("events[{index}]");
        let item_loc = spanned_loc(&item);
        let raw = item.value;
        let at_field = field(&raw.at);
        if at_field.raw.is_none() {
            return Err(self.error(
                &base,
                item_loc,
                "missing `at`: when the event happens (e.g. `at: 30s`)",
            ));
        }
        let at_ns = self.duration(&format!("{base}.at"), at_field, 0)?;

        let mut given = Vec::new();
        if raw.scale.is_some() {
            given.push("scale");
        }
        if raw.rollout.is_some() {
            given.push("rollout");
        }
        if raw.drain_node.is_some() {
            given.push("drainNode");
        }
        if raw.kill_pod.is_some() {
            given.push("killPod");
        }
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                format!("{} ({})", given.len(), given.join(", "))
            };
            return Err(self.error(
                &base,
                item_loc,
                format!(
                    "an event needs exactly one action (scale, rollout, drainNode or killPod); \
                     found {found}"
                ),
            ));
        }

        let action = if let Some(scale) = &raw.scale {
            let key = format!("{base}.scale");
            let f = field_opt(scale);
            if f.raw.is_none() {
                return Err(self.error(&key, f.loc, "needs a replica count, e.g. `scale: 0`"));
            }
            Action::Scale(self.int_u32(&key, f, 0, 0)?)
        } else if raw.rollout.is_some() {
            Action::Rollout
        } else if let Some(drain) = raw.drain_node {
            let drain = drain.value.unwrap_or_default();
            let notice_ns = self.duration(
                &format!("{base}.drainNode.notice"),
                field(&drain.notice),
                120 * NS_PER_S,
            )?;
            let node_field = field(&drain.node);
            let node = match node_field.raw {
                None => None,
                Some(_) => {
                    let key = format!("{base}.drainNode.node");
                    let node = self.int_u32(&key, node_field, 0, 0)?;
                    if node >= nodes {
                        return Err(self.error(
                            &key,
                            node_field.loc,
                            format!(
                                "node {node} does not exist: nodes are numbered from 0 and \
                                 kubernetes.nodes is {nodes}"
                            ),
                        ));
                    }
                    Some(node)
                }
            };
            Action::DrainNode { notice_ns, node }
        } else if let Some(kill) = raw.kill_pod {
            let kill = kill.value.unwrap_or_default();
            let pod_field = field(&kill.pod);
            let pod = match pod_field.raw {
                Some("") => {
                    return Err(self.error(
                        &format!("{base}.killPod.pod"),
                        pod_field.loc,
                        "must be a pod name, or left out to pick one",
                    ));
                }
                other => other.map(str::to_string),
            };
            Action::KillPod { pod }
        } else {
            // Unreachable: exactly one action was found above.
            return Err(self.error(&base, item_loc, "no action"));
        };
        Ok(Event { at_ns, action })
    }
}

/// The file stem of `source`, or `scenario` when it has none.
fn default_name(source: &str) -> String {
    Path::new(source)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "scenario".to_string())
}

/// OpenFaaS and Kubernetes names: a DNS-1123 label.
fn is_dns1123_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let edge_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(inner_ok)
        && bytes.first().is_some_and(edge_ok)
        && bytes.last().is_some_and(edge_ok)
}

/// Replaces control characters (line breaks included) by spaces, so an error stays on one line.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// serde-saphyr errors → ScenarioError, with the key path recovered from the position
// ---------------------------------------------------------------------------------------------

/// Unwraps the snippet and alias wrappers serde-saphyr puts around the error that happened.
fn original(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match error {
            serde_saphyr::Error::WithSnippet { error: inner, .. }
            | serde_saphyr::Error::AliasError { error: inner, .. } => error = inner,
            _ => return error,
        }
    }
}

fn yaml_error(file: &str, text: &str, error: &serde_saphyr::Error) -> ScenarioError {
    let inner = original(error);
    let loc = error.location().as_ref().and_then(loc_of);
    let unknown_key = matches!(inner, serde_saphyr::Error::SerdeUnknownField { .. });
    let path = loc.and_then(|(line, column)| key_path_at(text, line, column, unknown_key));
    let message = match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let parent = path.as_ref().map(|segments| {
                let end = segments.len().saturating_sub(1);
                format_path(segments.get(..end).unwrap_or_default())
            });
            let place = match parent.as_deref() {
                None | Some("") => "at the top level".to_string(),
                Some(parent) => format!("in `{parent}`"),
            };
            if expected.is_empty() {
                format!("unknown key `{field}` {place}, which takes no keys")
            } else {
                format!(
                    "unknown key `{field}` {place}; expected one of: {}",
                    expected.join(", ")
                )
            }
        }
        serde_saphyr::Error::Unexpected { expected, .. } => {
            let what = match *expected {
                "string scalar" | "scalar" => "a single value here, not a list or a mapping",
                "mapping start" => "a mapping (`key: value` lines or `{...}`) here",
                "sequence start" => "a list (`- item` lines or `[...]`) here",
                other => other,
            };
            format!("expected {what}")
        }
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let key = path
        .map(|segments| format_path(&segments))
        .filter(|key| !key.is_empty());
    ScenarioError {
        file: file.to_string(),
        line: loc.map(|(line, _)| line),
        column: loc.map(|(_, column)| column),
        key,
        message: one_line(&message),
    }
}

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn format_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => {
                out.push_str(&format!("[{index}]"));
            }
        }
    }
    out
}

/// A node of the first document: where it starts and ends, the key path it has, and whether
/// it is a mapping key (whose path is the path of its value).
struct NodeAt {
    start: (usize, usize),
    end: (usize, usize),
    path: Vec<Segment>,
    depth: usize,
    is_key: bool,
}

/// What a collection being read expects next.
enum Frame {
    /// A mapping: `key` is the last key read, `at_key` whether the next node is a key.
    Map {
        key: Option<String>,
        at_key: bool,
        node: usize,
    },
    /// A sequence: `index` of the next item.
    Seq { index: usize, node: usize },
}

fn path_of(stack: &[Frame]) -> Vec<Segment> {
    let mut path = Vec::new();
    for frame in stack {
        match frame {
            Frame::Map { key, at_key, .. } => {
                if !*at_key {
                    path.push(Segment::Key(key.clone().unwrap_or_else(|| "?".to_string())));
                }
            }
            Frame::Seq { index, .. } => path.push(Segment::Index(*index)),
        }
    }
    path
}

/// After a node ends, its parent moves on.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { at_key, .. }) => *at_key = !*at_key,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

/// The key path of the YAML node at 1-based `line`, `column` of `text`'s first document:
/// the node starting exactly there (a mapping key counts as its entry; `prefer_key` picks the
/// key over a collection starting at the same place), else the innermost node containing it.
/// Works on malformed text up to where the parser stops: collections left open extend to the
/// end.
fn key_path_at(text: &str, line: usize, column: usize, prefer_key: bool) -> Option<Vec<Segment>> {
    const EVENT_CAP: usize = 1_000_000;
    let target = (line, column);
    let mut nodes: Vec<NodeAt> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = YamlParser::new_from_str(text);
    let mut seen_document = false;
    for _ in 0..EVENT_CAP {
        let Some(Ok((event, span))) = parser.next_event() else {
            break;
        };
        let start = (span.start.line(), span.start.col() + 1);
        let end = (span.end.line(), span.end.col() + 1);
        match event {
            YamlEvent::DocumentStart(..) => {
                if seen_document {
                    break;
                }
                seen_document = true;
            }
            YamlEvent::DocumentEnd | YamlEvent::StreamEnd => break,
            YamlEvent::Scalar(value, ..) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { at_key: true, .. }));
                if is_key {
                    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                        *key = Some(value.into_owned());
                    }
                    // Path of the entry: as if the value were being read.
                    advance(&mut stack);
                    let path = path_of(&stack);
                    nodes.push(NodeAt {
                        start,
                        end,
                        path,
                        depth: stack.len(),
                        is_key: true,
                    });
                } else {
                    let path = path_of(&stack);
                    nodes.push(NodeAt {
                        start,
                        end,
                        path,
                        depth: stack.len(),
                        is_key: false,
                    });
                    advance(&mut stack);
                }
            }
            YamlEvent::Alias(..) => {
                let path = path_of(&stack);
                nodes.push(NodeAt {
                    start,
                    end,
                    path,
                    depth: stack.len(),
                    is_key: false,
                });
                advance(&mut stack);
            }
            YamlEvent::MappingStart(..) | YamlEvent::SequenceStart(..) => {
                let node = nodes.len();
                let path = path_of(&stack);
                nodes.push(NodeAt {
                    start,
                    end: (usize::MAX, usize::MAX),
                    path,
                    depth: stack.len(),
                    is_key: false,
                });
                if matches!(event, YamlEvent::MappingStart(..)) {
                    stack.push(Frame::Map {
                        key: None,
                        at_key: true,
                        node,
                    });
                } else {
                    stack.push(Frame::Seq { index: 0, node });
                }
            }
            YamlEvent::MappingEnd | YamlEvent::SequenceEnd => {
                if let Some(Frame::Map { node, .. } | Frame::Seq { node, .. }) = stack.pop()
                    && let Some(entry) = nodes.get_mut(node)
                {
                    entry.end = end;
                }
                advance(&mut stack);
            }
            _ => {}
        }
    }

    let exact = nodes.iter().filter(|node| node.start == target);
    let chosen = if prefer_key {
        exact.max_by_key(|node| (node.is_key, node.depth))
    } else {
        exact.min_by_key(|node| (node.is_key, node.depth))
    };
    let chosen = chosen.or_else(|| {
        nodes
            .iter()
            .filter(|node| node.start <= target && target < node.end)
            .max_by_key(|node| node.depth)
    });
    chosen.map(|node| node.path.clone())
}
