//! The `function` section: name, watchdog kind and mode, the child (`upstream`), the handler,
//! start-up, scale labels, and the watchdog's and child's environment.

use std::collections::BTreeMap;

use faasim_model::config::{
    ChildConfig, FunctionConfig, Mode, OnSigterm, Span, Start, WatchdogConfig, WatchdogKind,
};
use faasim_model::limits;
use faasim_model::template::{self, TEMPLATES, Template};
use faasim_model::time::NS_PER_S;

use super::super::ScenarioError;
use super::super::raw::RawFunction;
use super::{Builder, Field, field};

/// Why replicas are limited, as the errors say it.
pub(super) const REPLICAS_WHY: &str =
    "scheduling a pod counts every pod, so the work grows with the square of the replicas";

impl Builder<'_> {
    /// The function, and its environment as the function sets it (the edition's grace period
    /// reads it: faas-netes sees the function's `environment`, not its image's `ENV`).
    pub(super) fn function(
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
        let template = self.template(field(&raw.template))?;
        let kind = self.choice(
            "function.watchdog",
            field(&raw.watchdog),
            template.map_or(WatchdogKind::OfWatchdog, |t| t.watchdog),
            &[
                ("of-watchdog", WatchdogKind::OfWatchdog),
                ("fixed-wait", WatchdogKind::FixedWait),
                ("classic", WatchdogKind::Classic),
            ],
            false,
        )?;
        let default_mode = match (kind, template) {
            (WatchdogKind::Classic, _) => Mode::Streaming,
            (_, Some(t)) => t.mode,
            (_, None) => Mode::Http,
        };
        let mode = self.choice(
            "function.mode",
            field(&raw.mode),
            default_mode,
            &[("http", Mode::Http), ("streaming", Mode::Streaming)],
            false,
        )?;
        if kind == WatchdogKind::Classic && mode == Mode::Http {
            return Err(self.error(
                "function.mode",
                field(&raw.mode).loc,
                "the classic watchdog forks one process per request: it has no http mode                  (write `mode: streaming`, or leave it out)",
            ));
        }
        let upstream_given = raw.upstream.is_some();
        let upstream = raw.upstream.unwrap_or_default();
        let on_sigterm = self.on_sigterm(
            field(&upstream.on_sigterm),
            field(&upstream.shutdown_timeout),
            template.and_then(|t| t.on_sigterm),
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
        let held_field = field(&handler.stdout_held_after_kill);
        let stdout_held_after_kill_ns = self.duration(
            "function.handler.stdoutHeldAfterKill",
            held_field,
            defaults.stdout_held_after_kill_ns,
        )?;
        if stdout_held_after_kill_ns > 0 && (mode == Mode::Http || kind == WatchdogKind::Classic) {
            self.warn(
                "function.handler.stdoutHeldAfterKill",
                "ignored: it applies to of-watchdog's streaming mode, where exec_timeout kills \
                 the forked process and the response waits for its stdout to close",
            );
        }
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
        let scale_min = self.limited_u32(
            &format!("function.labels.{MIN}"),
            label(MIN),
            defaults.scale_min,
            0,
            limits::REPLICAS_MAX,
            REPLICAS_WHY,
        )?;
        let scale_max = self.limited_u32(
            &format!("function.labels.{MAX}"),
            label(MAX),
            defaults.scale_max,
            0,
            limits::REPLICAS_MAX,
            REPLICAS_WHY,
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

        let (own_env, env_locs) = self.string_map(raw.environment);
        let mut env_bytes = 0usize;
        for (index, (name, value)) in own_env.iter().enumerate() {
            env_bytes = env_bytes.saturating_add(name.len() + value.len());
            let over = if index >= limits::ENV_VARS_MAX {
                Some(format!(
                    "more than {} environment variables, the limit (docs/scenario-format.md, \
                     \"Limits\")",
                    limits::ENV_VARS_MAX
                ))
            } else if env_bytes > limits::ENV_BYTES_MAX {
                Some(format!(
                    "the environment is above the limit of {} bytes (names and values; \
                     Kubernetes stores no Deployment that large; docs/scenario-format.md, \
                     \"Limits\")",
                    limits::ENV_BYTES_MAX
                ))
            } else {
                None
            };
            if let Some(message) = over {
                let loc = env_locs.get(name).copied().flatten();
                return Err(self.error(&format!("function.environment.{name}"), loc, message));
            }
        }
        for name in own_env.keys() {
            if let Some(meant) = faasim_model::environment::miscased_variable(name) {
                self.warn(
                    &format!("function.environment.{name}"),
                    format!(
                        "ignored: environment variable names are case-sensitive, and the watchdog \
                         reads `{meant}`, not `{name}`"
                    ),
                );
            }
        }
        // The image's ENV lies under what the function sets.
        let env = template.map_or_else(|| own_env.clone(), |t| t.environment(&own_env));
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
            let wanted = mode.name();
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
        let child = match template {
            Some(t) => ChildConfig {
                on_sigterm,
                ..t.child_config(&env, child_startup)
            },
            None => ChildConfig::from_env(&env, on_sigterm, child_startup),
        };

        let config = FunctionConfig {
            name,
            watchdog,
            child,
            handler_ns,
            stdout_held_after_kill_ns,
            startup_ns,
            start,
            scale_min,
            scale_max,
            template: template.map(|t| t.lang),
        };
        Ok((config, own_env))
    }

    /// `function.template`: a `lang` the template table knows.
    fn template(&self, f: Field<'_>) -> Result<Option<&'static Template>, ScenarioError> {
        let Some(name) = f.raw else { return Ok(None) };
        match template::template(name) {
            Some(t) => Ok(Some(t)),
            None => {
                let names: Vec<&str> = TEMPLATES.iter().map(|t| t.lang).collect();
                Err(self.error(
                    "function.template",
                    f.loc,
                    format!(
                        "`{name}` is not a template faasim knows; leave `template` out and set                          `watchdog`, `mode` and `upstream.onSigterm` yourself, or use one of: {}",
                        names.join(", ")
                    ),
                ))
            }
        }
    }

    /// `function.upstream.onSigterm` and its `shutdownTimeout` (a stopping child's drain).
    fn on_sigterm(
        &mut self,
        given: Field<'_>,
        shutdown: Field<'_>,
        template: Option<OnSigterm>,
    ) -> Result<OnSigterm, ScenarioError> {
        const STOP: OnSigterm = OnSigterm::Stop {
            shutdown_timeout_ns: 30 * NS_PER_S,
        };
        let chosen = self.choice(
            "function.upstream.onSigterm",
            given,
            template.unwrap_or(OnSigterm::Drain),
            &[
                ("drain", OnSigterm::Drain),
                ("exit", OnSigterm::Exit),
                (
                    "stop",
                    template.filter(|t| t.name() == "stop").unwrap_or(STOP),
                ),
            ],
            false,
        )?;
        match chosen {
            OnSigterm::Stop {
                shutdown_timeout_ns,
            } => Ok(OnSigterm::Stop {
                shutdown_timeout_ns: self.duration(
                    "function.upstream.shutdownTimeout",
                    shutdown,
                    shutdown_timeout_ns,
                )?,
            }),
            other => {
                if shutdown.raw.is_some() {
                    self.warn(
                        "function.upstream.shutdownTimeout",
                        "ignored: only a child that stops on SIGTERM (`onSigterm: stop`) has one",
                    );
                }
                Ok(other)
            }
        }
    }
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
