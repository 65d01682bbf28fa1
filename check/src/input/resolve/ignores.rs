//! What the function asks faasim to ignore, and the stack file's variables that are not set.

use super::{ENVSUBST_UNSET, InputError, Resolver};
use crate::Severity;

impl Resolver<'_> {
    /// The rules the function's annotations (or labels) silence: `faasim.dev/ignore: a,b` and
    /// `ignore-check.faasim.dev/RULE`. An id that names no rule is an error at its value, as
    /// for `--ignore`: it would silence nothing.
    pub(super) fn ignored_rules(&self) -> Result<Vec<String>, InputError> {
        let mut rules: Vec<String> = Vec::new();
        for (map, path) in [
            (&self.raw.object_annotations, "metadata.annotations"),
            (&self.raw.annotations, "function.annotations"),
            (&self.raw.labels, "function.labels"),
        ] {
            for (key, val) in map {
                let named: Vec<&str> = if key == "faasim.dev/ignore" {
                    val.raw.split(',').map(str::trim).collect()
                } else if let Some(rule) = key.strip_prefix("ignore-check.faasim.dev/") {
                    vec![rule.trim()]
                } else {
                    continue;
                };
                for rule in named.into_iter().filter(|r| !r.is_empty()) {
                    if !crate::is_rule_id(rule) {
                        return Err(self.error(
                            val,
                            &format!("{path}.{key}"),
                            crate::unknown_rule_message(rule),
                        ));
                    }
                    if !rules.iter().any(|r| r == rule) {
                        rules.push(rule.to_string());
                    }
                }
            }
        }
        Ok(rules)
    }

    pub(super) fn unset_variables(&mut self) {
        for unset in self.raw.unset.clone() {
            let key = if unset.path.is_empty() {
                "function".to_string()
            } else {
                format!("function.{}", unset.path)
            };
            self.finding(
                ENVSUBST_UNSET,
                Severity::Warning,
                &key,
                Some(unset.location.clone()),
                format!(
                    "`{}` is not set: faas-cli substitutes an empty string, so the value is empty \
                     and the component uses its default",
                    unset.expression
                ),
                format!(
                    "set {} in the environment, or give a default: `${{{}:-VALUE}}`",
                    unset.name, unset.name
                ),
            );
        }
    }
}
