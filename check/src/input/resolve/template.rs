//! The function's template: `.faasim.yaml`'s `functions.NAME.template`, else its `lang` looked
//! up in the model's template table (`faasim_model::template`), which says which watchdog runs
//! it, in which mode, what its child does on the SIGTERM of-watchdog forwards, the child's own
//! timeouts and the watchdog environment the template's Dockerfile sets (under the function's
//! own). What the table cannot say (no `lang`, a `lang` it does not know, `dockerfile`, whose
//! watchdog is the function's own Dockerfile's) is an assumption, recorded under `function.template` as [`Origin::Derived`] text starting with
//! [`ASSUMED`], printed by every format, and settled by the user in `.faasim.yaml`.

use faasim_model::config::{OnSigterm, WatchdogKind};
use faasim_model::template::{self, Template};

use super::{Resolver, at};
use crate::input::FunctionSettings;
use crate::{ASSUMED, Origin};

/// The provenance key of the function's template.
pub const TEMPLATE_KEY: &str = "function.template";

/// What the template (or the assumption in its place) decides.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chosen {
    /// The template row, when one applies.
    pub template: Option<&'static Template>,
    /// The watchdog.
    pub kind: WatchdogKind,
    /// What the child does on the SIGTERM the watchdog forwards (HTTP mode).
    pub on_sigterm: OnSigterm,
}

/// How `.faasim.yaml` settles a function's template, for the assumption's text.
fn how_to_settle(name: &str) -> String {
    format!(
        "settle it in .faasim.yaml: `functions: {{{name}: {{template: LANG}}}}` (a faas-cli lang \
         faasim knows, e.g. golang-middleware), or `watchdog` and `onSigterm`"
    )
}

/// A `lang` the table does not hold but whose template is a row's under another version:
/// `nodeNN` (node12, node14, node16 ...) is the node templates' `index.js` with no SIGTERM
/// handler and the same Dockerfile timeouts.
fn look_alike(lang: &str) -> Option<&'static Template> {
    let digits = lang.strip_prefix("node")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| template::template("node18"))
        .flatten()
}

impl Resolver<'_> {
    /// The function's template and what it decides, recorded under `function.template`
    /// (and `function.watchdog`, `function.upstream.onSigterm` when `.faasim.yaml` sets them).
    pub(super) fn template(&mut self, settings: Option<&FunctionSettings>) -> Chosen {
        let name = self.raw.name.clone();
        let settled = settings.is_some_and(FunctionSettings::settles);
        let lang = self.raw.lang.clone();
        let (found, value, origin) = match (settings.and_then(|s| s.template.as_ref()), &lang) {
            (Some(setting), _) => (
                Some(setting.value),
                setting.value.lang.to_string(),
                Origin::File(setting.location.clone()),
            ),
            (None, Some(lang)) => match template::template(&lang.raw) {
                Some(t) if t.assumption.is_empty() || settled => (
                    Some(t),
                    t.lang.to_string(),
                    Origin::File(lang.location.clone()),
                ),
                // Only of-watchdog reads `mode`: a Dockerfile function that sets it runs
                // of-watchdog, not the classic watchdog the template starts from.
                Some(t) if self.raw.env.contains_key("mode") => (
                    None,
                    t.lang.to_string(),
                    Origin::Derived(format!(
                        "{ASSUMED}lang `{}` at {}: the function's own Dockerfile decides the \
                         watchdog; its environment sets `mode`, which only of-watchdog reads, so \
                         of-watchdog whose child (in HTTP mode) drains on SIGTERM and has no \
                         timeouts of its own; {}",
                        lang.raw,
                        at(&lang.location),
                        how_to_settle(&name)
                    )),
                ),
                Some(t) => (
                    Some(t),
                    t.lang.to_string(),
                    Origin::Derived(format!(
                        "{ASSUMED}lang `{}` at {}: {}; {}",
                        lang.raw,
                        at(&lang.location),
                        t.assumption,
                        how_to_settle(&name)
                    )),
                ),
                None => match look_alike(&lang.raw) {
                    Some(t) => (
                        Some(t),
                        lang.raw.clone(),
                        Origin::Derived(format!(
                            "{ASSUMED}lang `{}` at {} is not in faasim's template table; \
                             modelled as {} (the same index.js with no SIGTERM handler and \
                             the same Dockerfile timeouts); {}",
                            lang.raw,
                            at(&lang.location),
                            t.lang,
                            how_to_settle(&name)
                        )),
                    ),
                    None => (
                        None,
                        lang.raw.clone(),
                        Origin::Derived(format!(
                            "{ASSUMED}lang `{}` at {} is not in faasim's template table; \
                             modelled as of-watchdog whose child (in HTTP mode) drains on \
                             SIGTERM and has no timeouts of its own; {}",
                            lang.raw,
                            at(&lang.location),
                            how_to_settle(&name)
                        )),
                    ),
                },
            },
            (None, None) => (
                None,
                "none".to_string(),
                Origin::Derived(format!(
                    "{ASSUMED}no `lang`: the image's template cannot be seen; modelled as \
                     of-watchdog whose child (in HTTP mode) drains on SIGTERM and has no timeouts of \
                     its own; {}",
                    how_to_settle(&name)
                )),
            ),
        };
        // Settings of the user's own settle the assumption, whatever they leave out.
        let origin = match origin {
            Origin::Derived(text) if settled && text.starts_with(ASSUMED) => Origin::Derived(
                format!("settled in .faasim.yaml (was: {})", &text[ASSUMED.len()..]),
            ),
            origin => origin,
        };
        self.record(TEMPLATE_KEY, value, origin);
        self.template = found;

        let mut kind = found.map_or(WatchdogKind::OfWatchdog, |t| t.watchdog);
        if let Some(setting) = settings.and_then(|s| s.watchdog.as_ref()) {
            kind = setting.value;
            self.record(
                "function.watchdog",
                kind.name(),
                Origin::File(setting.location.clone()),
            );
        }
        let mut on_sigterm = found.and_then(|t| t.on_sigterm).unwrap_or(OnSigterm::Drain);
        if let Some(setting) = settings.and_then(|s| s.on_sigterm.as_ref()) {
            on_sigterm = setting.value;
            self.on_sigterm_setting = Some(setting.location.clone());
        }
        Chosen {
            template: found,
            kind,
            on_sigterm,
        }
    }
}
