//! Stack files: each entry of `functions:` with its environment (environment files applied
//! over the inline map), labels, annotations, `lang`, and the unset `${VAR}`s inside it.

use super::{FunctionKind, RawFunction, Reader, UnsetVar, Val, string_map};
use crate::input::error::InputError;
use crate::input::source::Source;
use faasim_sim::yaml::{self, Node, Pos, contains};
use std::collections::BTreeMap;

impl Reader<'_> {
    pub(super) fn stack(&mut self, doc: &Node) -> Result<(), InputError> {
        let Some(functions) = doc.get("functions").filter(|n| !n.is_null()) else {
            return Ok(());
        };
        let Some(entries) = functions.entries() else {
            return Err(self.source.error(
                functions,
                Some("functions".into()),
                format!(
                    "expected a mapping of function names to functions, not {}",
                    functions.describe()
                ),
            ));
        };
        for (key, function) in entries {
            let Some(name) = key.scalar() else {
                return Err(self.source.error(
                    key,
                    Some("functions".into()),
                    "expected a function name as the key",
                ));
            };
            if let Err(error) = self.stack_function(name, key, function) {
                self.invalid.push(super::InvalidFunction {
                    name: name.to_string(),
                    error,
                });
            }
        }
        Ok(())
    }

    /// One entry of `functions:`.
    fn stack_function(
        &mut self,
        name: &str,
        key: &Node,
        function: &Node,
    ) -> Result<(), InputError> {
        let base = format!("functions.{name}");
        if !function.is_null() && function.entries().is_none() {
            return Err(self.source.error(
                function,
                Some(base),
                format!(
                    "expected the function's settings (a mapping), not {}",
                    function.describe()
                ),
            ));
        }
        let mut env =
            self.string_map(function.get("environment"), &format!("{base}.environment"))?;
        for values in self.environment_files(function, &base)? {
            env.extend(values);
        }
        self.env_within_limits(&env, &format!("{base}.environment"))?;
        let labels = self.string_map(function.get("labels"), &format!("{base}.labels"))?;
        let annotations =
            self.string_map(function.get("annotations"), &format!("{base}.annotations"))?;
        let lang = self.opt_scalar(function, "lang", &format!("{base}.lang"))?;
        let unset = self.unset_in(key, function);
        self.functions.push(RawFunction {
            name: name.to_string(),
            location: self.source.node_location(key),
            kind: FunctionKind::Stack,
            lang,
            env,
            labels,
            annotations,
            object_annotations: BTreeMap::new(),
            deployment: None,
            unset,
        });
        Ok(())
    }

    /// `environment_file`: YAML files with an `environment:` map, applied in order over the
    /// inline environment ("external files take priority"). Each name is opened relative to the
    /// working directory, not to the stack file: faas-cli passes it to `os.ReadFile` as written
    /// (openfaas/faas-cli@c8191b71, commands/deploy.go: `readFiles`, called at line 204), so
    /// `faas-cli deploy -f sub/stack.yml` run from the parent reads `./env.yml`, not
    /// `sub/env.yml`.
    fn environment_files(
        &mut self,
        function: &Node,
        base: &str,
    ) -> Result<Vec<BTreeMap<String, Val>>, InputError> {
        let path = format!("{base}.environment_file");
        let Some(list) = function.get("environment_file").filter(|n| !n.is_null()) else {
            return Ok(Vec::new());
        };
        let Some(items) = list.items() else {
            return Err(self.source.error(
                list,
                Some(path),
                format!("expected a list of file names, not {}", list.describe()),
            ));
        };
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            let file = self.scalar(item, None, &item_path)?;
            let name = file.raw.clone();
            let text =
                faasim_sim::input_file::read_text(&self.cwd.join(&name)).map_err(|error| {
                    self.source.error(
                        item,
                        Some(item_path.clone()),
                        format!(
                            "cannot read environment file `{name}`: {error} (faas-cli opens it \
                             relative to the working directory, not to the stack file)"
                        ),
                    )
                })?;
            let source = Source::new(name.clone(), &text);
            let docs = yaml::parse_documents(source.parsed()).map_err(|e| source.yaml_error(&e))?;
            let values = match docs.first() {
                Some(doc) if doc.entries().is_some() => {
                    string_map(&source, doc.get("environment"), "environment")?
                }
                _ => BTreeMap::new(),
            };
            self.extra_sources.push(source);
            out.push(values);
        }
        Ok(out)
    }

    /// Unset `${VAR}`s of the stack file that fall inside this function's entry.
    fn unset_in(&self, key: &Node, function: &Node) -> Vec<UnsetVar> {
        let Some(substitution) = self.source.substitution() else {
            return Vec::new();
        };
        // The unset variables are in text order: look only at those between the entry's ends,
        // so that a stack with one per function stays linear.
        let lo = key.start.min(function.start).index;
        let hi = key.end.max(function.end).index;
        let unset = &substitution.unset;
        let first = unset.partition_point(|u| u.out_index < lo);
        let last = unset.partition_point(|u| u.out_index <= hi);
        unset
            .get(first..last.max(first))
            .unwrap_or_default()
            .iter()
            .filter_map(|unset| {
                let pos = Pos {
                    index: unset.out_index,
                };
                if !(contains(function, pos) || contains(key, pos)) {
                    return None;
                }
                Some(UnsetVar {
                    name: unset.name.clone(),
                    expression: unset.expression.clone(),
                    location: self.source.location_of_original(unset.in_index),
                    path: function
                        .path_to(pos)
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("."),
                })
            })
            .collect()
    }
}
