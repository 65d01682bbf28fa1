//! The HTTP-mode child behind the watchdog: what the template's child server does on the
//! SIGTERM of-watchdog forwards, and its own timeouts (a Go child reads the same environment
//! with its own 10 s defaults; node's, waitress' and the JVM's servers have no write timeout).
//! Without a template, the child is assumed to drain and to have no timeouts of its own.

use faasim_model::config::{ChildConfig, Mode, OnSigterm};
use faasim_model::duration::format_go;
use faasim_model::environment::ChildEnv;
use faasim_model::sourced::Source as From;
use faasim_model::template::ChildTimeouts;

use super::Resolver;
use crate::Origin;

/// The provenance key of what the child does on SIGTERM.
const ON_SIGTERM: &str = "function.upstream.onSigterm";

impl Resolver<'_> {
    /// The child server: the template's, or (no template) one reading the environment like
    /// golang-middleware's.
    pub(super) fn child(&mut self, mode: Mode, on_sigterm: OnSigterm) -> ChildConfig {
        let startup = ChildConfig::default().startup_ns;
        let child = match self.template {
            Some(t) => ChildConfig {
                on_sigterm,
                ..t.child_config(&self.image_env, startup)
            },
            // No template: a child that drains and has no timeouts of its own (no 10 s Go
            // write timeout is invented for a server that may not be Go's).
            None => ChildConfig {
                on_sigterm,
                write_timeout_ns: 0,
                read_timeout_ns: 0,
                healthcheck_interval_ns: 0,
                startup_ns: startup,
            },
        };
        // Streaming mode has no child server: nothing of it to show.
        if mode != Mode::Http {
            return child;
        }
        match self.template.map(|t| (t, t.child_timeouts)) {
            None => self.record(
                "function.upstream.write_timeout",
                "none",
                Origin::Derived(
                    "no template: a child with no timeouts of its own is assumed".to_string(),
                ),
            ),
            Some((t, ChildTimeouts::NoWrite { idle_ns })) => {
                let why = |what: &str| {
                    Origin::Derived(format!(
                        "the {} template's child ({}): {what}",
                        t.lang, t.process
                    ))
                };
                self.record(
                    "function.upstream.write_timeout",
                    "none",
                    why("no write timeout, whatever the environment says"),
                );
                self.record(
                    "function.upstream.read_timeout",
                    format_go(i64::try_from(idle_ns).unwrap_or(i64::MAX)),
                    why(if idle_ns == 0 {
                        "its keep-alive idle timeout (none assumed)"
                    } else {
                        "its keep-alive idle timeout"
                    }),
                );
            }
            _ => self.go_child_provenance(),
        }
        let (value, origin) = match (&self.on_sigterm_setting, self.template) {
            (Some(location), _) => (on_sigterm.name(), Origin::File(location.clone())),
            (None, Some(t)) => (
                on_sigterm.name(),
                Origin::Derived(format!(
                    "the {} template's child ({}): {}",
                    t.lang,
                    t.process,
                    sigterm_text(on_sigterm)
                )),
            ),
            (None, None) => (
                on_sigterm.name(),
                Origin::Derived(
                    "assumed: the child drains on SIGTERM and then exits; the files cannot show \
                     what the image does"
                        .to_string(),
                ),
            ),
        };
        // The assumption itself is stated once, under `function.template`.
        let origin = match origin {
            Origin::Derived(text) => Origin::Derived(
                text.strip_prefix(crate::ASSUMED)
                    .map_or(text.clone(), |rest| format!("as assumed: {rest}")),
            ),
            origin => origin,
        };
        self.record(ON_SIGTERM, value, origin);
        child
    }

    /// Provenance of a Go child's reading of the function's environment.
    fn go_child_provenance(&mut self) {
        let reading = ChildEnv::read(&self.image_env);
        for (name, value) in reading.durations() {
            let key = format!("function.upstream.{name}");
            let text = format_go(value.value);
            let origin = match (&value.from, self.env(name)) {
                (From::Env { .. }, Some(val)) => Origin::File(val.location.clone()),
                (From::Fallback { raw, .. }, Some(val)) => Origin::Fallback {
                    location: val.location.clone(),
                    raw: raw.clone(),
                },
                (From::Derived { from, .. }, _) => {
                    Origin::Derived(format!("defaults to the child's {from} ({text})"))
                }
                _ => Origin::Default,
            };
            self.record(&key, text, origin);
        }
    }
}

/// What a child does on SIGTERM, in words.
pub(crate) fn sigterm_text(on_sigterm: OnSigterm) -> String {
    match on_sigterm {
        OnSigterm::Drain => "drains on SIGTERM (keeps listening for healthcheck_interval, then \
                             Shutdown with its write_timeout) and exits 0"
            .to_string(),
        OnSigterm::Exit => "no SIGTERM handler: it dies at the signal of-watchdog forwards, and \
                            of-watchdog exits with it (log.Fatalf)"
            .to_string(),
        OnSigterm::Stop {
            shutdown_timeout_ns,
        } => format!(
            "stops listening at SIGTERM, lets calls in flight finish for up to {}, then exits 0 \
             (the watchdog keeps listening with nothing behind it)",
            format_go(i64::try_from(shutdown_timeout_ns).unwrap_or(i64::MAX))
        ),
    }
}
