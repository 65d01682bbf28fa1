//! The HTTP-mode child behind the watchdog (golang-middleware), reading the same environment
//! with its own defaults.

use faasim_model::config::{ChildConfig, OnSigterm};
use faasim_model::duration::format_go;
use faasim_model::environment::ChildEnv;
use faasim_model::sourced::Source as From;

use super::Resolver;
use crate::Origin;

impl Resolver<'_> {
    /// The child server's reading of the same environment (golang-middleware: its own defaults).
    pub(super) fn child(&mut self) -> ChildConfig {
        let reading = ChildEnv::read(&self.environment);
        let child = ChildConfig::from_reading(
            &reading,
            OnSigterm::Drain,
            ChildConfig::default().startup_ns,
        );
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
        self.record(
            "function.upstream.onSigterm",
            "drain",
            Origin::Derived(
                "assumed: the child drains on SIGTERM like the golang-middleware template; the \
                 files cannot show what the image does"
                    .to_string(),
            ),
        );
        child
    }
}
