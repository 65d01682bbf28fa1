//! From the raw file to the model's types: every value checked and converted, with the file,
//! line, column and dotted key of what is wrong, and the warnings of values a component would
//! silently replace.

use std::collections::BTreeMap;
use std::path::Path;

use faasim_model::config::{
    ChildConfig, Config, ConfigWarning, Edition, FunctionConfig, GatewayConfig, GraceSource,
    IntOrPercent, KubernetesConfig, LoadConfig, Method, Mode, NetworkConfig, OnSigterm,
    ProbeConfig, ProviderConfig, Span, Start, WatchdogConfig, WatchdogKind, edition_grace_s,
};
use faasim_model::duration;
use faasim_model::schedule::{Action, Event};
use faasim_model::time::NS_PER_S;
use serde_saphyr::{Location, Spanned};

use super::raw::{
    RawEvent, RawFaasnetes, RawFunction, RawGateway, RawKubernetes, RawLoad, RawNetwork,
    RawScenario, StringMap, Text,
};
use super::{Scenario, ScenarioError};

/// 1-based line and column.
type Loc = Option<(usize, usize)>;

pub(super) fn loc_of(location: &Location) -> Loc {
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

/// Converts one raw file, collecting warnings on the way.
pub(super) struct Builder<'a> {
    /// The file name used in errors.
    pub(super) file: &'a str,
    /// Values a real component would silently replace, and other things worth telling.
    pub(super) warnings: Vec<ConfigWarning>,
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

    /// The whole scenario, checked and converted.
    pub(super) fn scenario(mut self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
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
