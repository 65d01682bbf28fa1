//! `openfaas.com` Function resources: `spec.{name, environment, labels, annotations}` and the
//! object's own annotations.

use std::collections::BTreeMap;

use super::{FunctionKind, RawFunction, Reader};
use crate::input::error::InputError;
use faasim_sim::yaml::Node;

impl Reader<'_> {
    pub(super) fn function_resource(&mut self, doc: &Node) -> Result<(), InputError> {
        let metadata = doc.get_present("metadata");
        let Some(spec) = doc.get_present("spec") else {
            return Err(self.source.error(
                doc,
                Some("spec".into()),
                "a Function resource needs a `spec`",
            ));
        };
        if spec.entries().is_none() {
            return Err(self.source.error(
                spec,
                Some("spec".into()),
                format!("expected a mapping, not {}", spec.describe()),
            ));
        }
        let name_node = spec
            .get_present("name")
            .or_else(|| metadata.and_then(|m| m.get_present("name")));
        let Some(name_node) = name_node else {
            return Err(self.source.error(
                doc,
                Some("spec.name".into()),
                "a Function resource needs `spec.name` (or `metadata.name`)",
            ));
        };
        let name = self.scalar(name_node, None, "spec.name")?;
        let env = self.string_map(spec.get("environment"), "spec.environment")?;
        self.env_within_limits(&env, "spec.environment")?;
        let labels = self.string_map(spec.get("labels"), "spec.labels")?;
        let annotations = self.string_map(spec.get("annotations"), "spec.annotations")?;
        let object_annotations = match metadata {
            Some(m) => self.string_map(m.get("annotations"), "metadata.annotations")?,
            None => BTreeMap::new(),
        };
        self.functions.push(RawFunction {
            name: name.raw.clone(),
            location: name.location,
            kind: FunctionKind::FunctionResource,
            lang: None,
            env,
            labels,
            annotations,
            object_annotations,
            deployment: None,
            unset: Vec::new(),
        });
        Ok(())
    }
}
