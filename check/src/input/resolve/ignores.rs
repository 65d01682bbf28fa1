//! What the function asks faasim to ignore, and the stack file's variables that are not set.

use super::{ENVSUBST_UNSET, Resolver};
use crate::Severity;

impl Resolver<'_> {
    pub(super) fn ignored_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        let mut add = |rule: &str| {
            let rule = rule.trim();
            if !rule.is_empty() && !rules.iter().any(|r| r == rule) {
                rules.push(rule.to_string());
            }
        };
        for map in [
            &self.raw.object_annotations,
            &self.raw.annotations,
            &self.raw.labels,
        ] {
            for (key, val) in map {
                if key == "faasim.dev/ignore" {
                    val.raw.split(',').for_each(&mut add);
                } else if let Some(rule) = key.strip_prefix("ignore-check.faasim.dev/") {
                    add(rule);
                }
            }
        }
        rules
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
