//! The watchdog (of-watchdog, or the classic watchdog when the template says so): its mode
//! (from the environment or the template) and its timeouts, read once with the model's reader
//! from the function's environment over the template Dockerfile's, with a finding for every
//! value it silently replaces.

use std::collections::BTreeMap;

use faasim_model::config::{Mode, WatchdogConfig, WatchdogKind};
use faasim_model::duration::format_go;
use faasim_model::environment::{ChildEnv, WatchdogEnv, read_mode};
use faasim_model::sourced::{Source as From, Sourced};
use faasim_model::template::ChildTimeouts;

use super::{INVALID_FALLBACK, Resolver, at, suggest_duration};
use crate::input::documents::Val;
use crate::input::error::InputError;
use crate::{Origin, Severity};

impl Resolver<'_> {
    /// The watchdog mode: streaming for the classic watchdog (it forks per request); else from
    /// the environment, else from the template table's row, else from the `lang`'s name, else
    /// of-watchdog's own default (streaming).
    pub(super) fn mode(&mut self, kind: WatchdogKind) -> Result<Mode, InputError> {
        const KEY: &str = "function.mode";
        let mode = read_mode(&self.environment).map_err(|error| self.env_error(error))?;
        let mode_name = mode.value.name();
        if kind == WatchdogKind::Classic {
            self.record(
                KEY,
                Mode::Streaming.name(),
                Origin::Derived(
                    "the classic watchdog forks one process per request: it has no modes"
                        .to_string(),
                ),
            );
            return Ok(Mode::Streaming);
        }
        if let From::Env { raw, .. } = &mode.from
            && let Some(val) = self.env("mode").cloned()
        {
            let origin = if raw == mode_name {
                Origin::File(val.location.clone())
            } else {
                Origin::Derived(format!(
                    "`mode: {raw}` at {}: no child server behind the watchdog, modelled as \
                     {mode_name}",
                    at(&val.location)
                ))
            };
            self.record(KEY, mode_name, origin);
            return Ok(mode.value);
        }
        if let Some(t) = self.template {
            self.record(
                KEY,
                t.mode.name(),
                Origin::Derived(format!(
                    "the {} template (its Dockerfile, which the stack file does not show): {}",
                    t.lang, t.process
                )),
            );
            return Ok(t.mode);
        }
        if let Some(lang) = self.raw.lang.clone() {
            let name = lang.raw.to_lowercase();
            let http_template = name.contains("http")
                || name.contains("middleware")
                || name.contains("flask")
                || name.contains("express")
                || ["node", "java", "bun"].iter().any(|prefix| {
                    name.strip_prefix(prefix).is_some_and(|rest| {
                        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                    })
                });
            if http_template {
                self.record(
                    KEY,
                    "http",
                    Origin::Derived(format!(
                        "lang `{}` at {}: the template's Dockerfile sets mode=http, which the \
                         stack file does not show",
                        lang.raw,
                        at(&lang.location)
                    )),
                );
                return Ok(Mode::Http);
            }
            self.record(
                KEY,
                mode_name,
                Origin::Derived(format!(
                    "lang `{}` at {}: not a known HTTP-mode template, so of-watchdog's default \
                     ({mode_name}); set `mode` in environment to say otherwise",
                    lang.raw,
                    at(&lang.location)
                )),
            );
            return Ok(mode.value);
        }
        self.record(
            KEY,
            mode_name,
            Origin::Derived(format!(
                "no `mode` in the environment: of-watchdog's default ({mode_name}); the image's \
                 Dockerfile may set another"
            )),
        );
        Ok(mode.value)
    }

    /// A finding for a watchdog duration the watchdog silently replaces.
    fn watchdog_fallback(&mut self, name: &str, val: &Val, warning: &str, extra: &str) {
        let key = format!("function.environment.{name}");
        let message = format!("of-watchdog: {warning}{extra}");
        let fix = match suggest_duration(&val.raw) {
            Some(suggestion) => format!("write `{name}: {suggestion}`"),
            None => format!(
                "write `{name}` as a Go duration such as `30s` or `2m30s`, or as whole seconds \
                 (`150`)"
            ),
        };
        self.finding(
            INVALID_FALLBACK,
            Severity::Warning,
            &key,
            Some(val.location.clone()),
            message,
            fix,
        );
    }

    /// Provenance (and a finding on fallback) of one of of-watchdog's four durations.
    fn watchdog_duration(&mut self, name: &str, value: &Sourced<i64>, extra: &str) {
        let key = format!("function.environment.{name}");
        let text = format_go(value.value);
        match (&value.from, self.env(name).cloned()) {
            (From::Env { .. }, Some(val)) => {
                self.record(&key, text, Origin::File(val.location.clone()));
            }
            (From::Env { raw, .. }, None) => {
                let lang = self.template.map_or("function's", |t| t.lang);
                let origin = Origin::Derived(format!(
                    "the {lang} template's Dockerfile sets `{name}={raw}` (ENV, under the \
                     function's environment)"
                ));
                self.record(&key, text, origin);
            }
            (From::Fallback { raw, warning, .. }, Some(val)) => {
                self.record(
                    &key,
                    text,
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                self.watchdog_fallback(name, &val, warning, extra);
            }
            (From::Default { empty: true } | From::Derived { empty: true, .. }, Some(val)) => self
                .record(
                    &key,
                    text,
                    Origin::Derived(format!("empty at {}: the default", at(&val.location))),
                ),
            (From::Derived { from, .. }, _) => {
                let origin = Origin::Derived(format!("defaults to {from} ({text})"));
                self.record(&key, text, origin);
            }
            _ => self.record(&key, text, Origin::Default),
        }
    }

    pub(super) fn watchdog(
        &mut self,
        mode: Mode,
        kind: WatchdogKind,
    ) -> Result<WatchdogConfig, InputError> {
        // The classic watchdog reads exec_timeout with a 0 default (no limit), as did its
        // pre-0.2.0 fixed-wait versions, which a classic template settled as `fixed-wait` runs.
        let classic_template = self
            .template
            .is_some_and(|t| t.watchdog == WatchdogKind::Classic);
        let reading = match kind {
            WatchdogKind::Classic => WatchdogEnv::read_classic(&self.image_env),
            WatchdogKind::FixedWait if classic_template => {
                WatchdogEnv::read_classic(&self.image_env)
            }
            WatchdogKind::OfWatchdog | WatchdogKind::FixedWait => {
                WatchdogEnv::read(&self.image_env)
            }
        };
        let (watchdog, _warnings) = WatchdogConfig::from_reading(&reading, kind, mode)
            .map_err(|error| self.env_error(error))?;
        for (name, value) in [
            ("write_timeout", &reading.write_timeout),
            ("read_timeout", &reading.read_timeout),
            ("exec_timeout", &reading.exec_timeout),
        ] {
            if value.is_set()
                && value.value < 0
                && let Some(val) = self.env(name)
            {
                return Err(self.error(
                    val,
                    &format!("function.environment.{name}"),
                    format!(
                        "{name} is negative ({}): every request would fail at once; faasim does \
                         not model it",
                        format_go(value.value)
                    ),
                ));
            }
        }
        // The child's own defaults: what it reads from an empty environment. Only a Go child
        // reads the same variables.
        let child_defaults = ChildEnv::read(&BTreeMap::new());
        let go_child = self
            .template
            .is_some_and(|t| t.child_timeouts == ChildTimeouts::GoEnv);
        let child_note = |name: &str| {
            if !go_child {
                return String::new();
            }
            let default = child_defaults
                .durations()
                .into_iter()
                .find(|(child_name, _)| *child_name == name);
            match default {
                Some((_, default)) if mode == Mode::Http => format!(
                    " (the child server behind the watchdog, reading the same variable, uses its \
                     own default {})",
                    format_go(default.value)
                ),
                _ => String::new(),
            }
        };
        for (name, value) in reading.durations() {
            self.watchdog_duration(name, value, &child_note(name));
        }

        const INFLIGHT: &str = "function.environment.max_inflight";
        let inflight = &reading.max_inflight;
        match (&inflight.from, self.env("max_inflight").cloned()) {
            (From::Env { .. }, Some(val)) => self.record(
                INFLIGHT,
                inflight.value.to_string(),
                Origin::File(val.location.clone()),
            ),
            (From::Fallback { raw, .. }, Some(val)) => {
                self.record(
                    INFLIGHT,
                    inflight.value.to_string(),
                    Origin::Fallback {
                        location: val.location.clone(),
                        raw: raw.clone(),
                    },
                );
                self.finding(
                    INVALID_FALLBACK,
                    Severity::Warning,
                    INFLIGHT,
                    Some(val.location.clone()),
                    format!(
                        "of-watchdog: \"{raw}\" is not an integer, so it silently uses {} (no \
                         concurrency limit)",
                        inflight.value
                    ),
                    "write `max_inflight` as a whole number of requests (e.g. `10`)",
                );
            }
            _ => self.record(INFLIGHT, inflight.value.to_string(), Origin::Default),
        }
        Ok(watchdog)
    }
}
