//! `.faasim.yaml`'s `functions:` section: what a user settles per function that the files
//! cannot show. A stack file names a template by `lang`, but a `lang` the template table does
//! not know, `dockerfile`, a Function resource or a Deployment leave the watchdog and the
//! child's SIGTERM behaviour to an assumption; these settings replace it:
//!
//! ```yaml
//! functions:
//!   my-fn: {template: golang-middleware}        # a row of the template table, by faas-cli lang
//!   other-fn: {watchdog: classic}               # of-watchdog, classic or fixed-wait
//!   third-fn: {onSigterm: exit}                 # what the child does on SIGTERM: drain or exit
//! ```
//!
//! `watchdog` and `onSigterm` win over what `template` (or `lang`) implies. A name no input
//! holds is not an error (a `--filter` may have left it out).

use std::collections::BTreeMap;

use faasim_model::config::{OnSigterm, WatchdogKind};
use faasim_model::template::{self, TEMPLATES, Template};
use faasim_sim::yaml::Node;

use super::Setting;
use super::error::InputError;
use super::source::Source;

/// What `.faasim.yaml` settles for one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionSettings {
    /// `template`: the function's template, by faas-cli `lang`.
    pub template: Option<Setting<&'static Template>>,
    /// `watchdog`: `of-watchdog`, `classic` or `fixed-wait`.
    pub watchdog: Option<Setting<WatchdogKind>>,
    /// `onSigterm`: what the child does on the SIGTERM the watchdog forwards, `drain` or `exit`.
    pub on_sigterm: Option<Setting<OnSigterm>>,
}

impl FunctionSettings {
    /// True when any setting is given: the function's template is then the user's word, not
    /// an assumption.
    pub fn settles(&self) -> bool {
        self.template.is_some() || self.watchdog.is_some() || self.on_sigterm.is_some()
    }
}

/// The keys of one function's settings.
const KEYS: [&str; 3] = ["template", "watchdog", "onSigterm"];

/// Parses `functions:` of `.faasim.yaml`: a mapping of function names to settings.
pub(super) fn parse_functions(
    value: &Node,
    source: &Source,
) -> Result<BTreeMap<String, FunctionSettings>, InputError> {
    let mut functions = BTreeMap::new();
    if value.is_null() {
        return Ok(functions);
    }
    let Some(entries) = value.entries() else {
        return Err(source.error(
            value,
            Some("functions".into()),
            format!(
                "expected a mapping of function names to settings ({}), not {}",
                KEYS.join(", "),
                value.describe()
            ),
        ));
    };
    for (name, settings) in entries {
        let name_text = name.scalar().unwrap_or("").to_string();
        let key = format!("functions.{name_text}");
        let Some(settings_entries) = settings.entries() else {
            return Err(source.error(
                settings,
                Some(key),
                format!(
                    "expected a mapping with {}, not {}",
                    KEYS.join(", "),
                    settings.describe()
                ),
            ));
        };
        let mut parsed = FunctionSettings::default();
        for (setting, node) in settings_entries {
            let setting_name = setting.scalar().unwrap_or("");
            let setting_key = format!("{key}.{setting_name}");
            let text = match node.scalar() {
                Some(text) if !node.is_null() => text.trim().to_string(),
                _ => {
                    return Err(source.error(
                        node,
                        Some(setting_key),
                        format!("expected a single value, not {}", node.describe()),
                    ));
                }
            };
            let location = source.node_location(node);
            let bad = |expected: String| {
                source.error(
                    node,
                    Some(setting_key.clone()),
                    format!("`{text}` is not one of: {expected}"),
                )
            };
            match setting_name {
                "template" => {
                    let found = template::template(&text).ok_or_else(|| {
                        bad(TEMPLATES
                            .iter()
                            .map(|t| t.lang)
                            .collect::<Vec<_>>()
                            .join(", "))
                    })?;
                    parsed.template = Some(Setting {
                        value: found,
                        location,
                    });
                }
                "watchdog" => {
                    let kind = match text.as_str() {
                        "of-watchdog" => WatchdogKind::OfWatchdog,
                        "classic" => WatchdogKind::Classic,
                        "fixed-wait" => WatchdogKind::FixedWait,
                        _ => return Err(bad("of-watchdog, classic, fixed-wait".into())),
                    };
                    parsed.watchdog = Some(Setting {
                        value: kind,
                        location,
                    });
                }
                "onSigterm" => {
                    let on_sigterm = match text.as_str() {
                        "drain" => OnSigterm::Drain,
                        "exit" => OnSigterm::Exit,
                        _ => return Err(bad("drain, exit".into())),
                    };
                    parsed.on_sigterm = Some(Setting {
                        value: on_sigterm,
                        location,
                    });
                }
                other => {
                    return Err(source.error(
                        setting,
                        Some(format!("{key}.{other}")),
                        format!(
                            "unknown key `{other}`; expected one of: {}",
                            KEYS.join(", ")
                        ),
                    ));
                }
            }
        }
        functions.insert(name_text, parsed);
    }
    Ok(functions)
}
