//! Recognising each YAML document and taking out what the checker needs: functions (from stack
//! files, `openfaas.com` Function resources and function Deployments) and platform values (from
//! the OpenFaaS Helm chart's values, from the gateway and queue-worker Deployments the chart
//! renders, and from an Ingress in front of the gateway). Everything is kept as text with its location; `resolve` interprets it.
//!
//! This file owns recognising a document ([`classify`]), the [`Reader`] and the scalar and map
//! readers every kind shares; what is found is in `found.rs`, and each document kind is read in a
//! file of its own: `stack.rs`, `function_resource.rs`, `deployment.rs`, `ingress.rs` and
//! `values.rs`.

mod deployment;
mod found;
mod function_resource;
mod ingress;
mod stack;
mod values;

use std::collections::BTreeMap;
use std::path::Path;

pub(crate) use found::{
    DeploymentFields, EditionSign, FunctionKind, IngressFront, Platform, PlatformSource, PreStop,
    ProbeVals, RawFunction, Setting, UnsetVar, Val,
};
pub(crate) use ingress::PROXY_READ_TIMEOUT;

use super::error::InputError;
use super::source::Source;
use faasim_model::limits;
use faasim_sim::yaml::{Kind, Node};

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DocKind {
    /// An OpenFaaS stack file.
    Stack,
    /// An `openfaas.com` Function.
    FunctionResource,
    /// A Kubernetes Deployment.
    Deployment,
    /// A Kubernetes Ingress.
    Ingress,
    /// A Kubernetes `List` (as `kubectl get -o yaml` prints).
    List,
    /// The OpenFaaS chart's values.
    Values,
    /// Anything else (skipped).
    Other,
}

/// Top-level keys of the OpenFaaS chart's values.yaml that a stack file never has.
const VALUES_KEYS: &[&str] = &[
    "gateway",
    "faasnetes",
    "queueWorker",
    "queueWorkerPro",
    "jetstreamQueueWorker",
    "openfaasPro",
    "functionNamespace",
    "faasnetesPro",
    "gatewayPro",
    "operator",
    "autoscaler",
    "basic_auth",
    "generateBasicAuth",
    "async",
    "exposeServices",
    "serviceType",
];

/// Keys of the chart's `functions:` section (a stack file's `functions:` holds names).
const VALUES_FUNCTIONS_KEYS: &[&str] = &[
    "readinessProbe",
    "livenessProbe",
    "httpProbe",
    "imagePullPolicy",
    "setNonRootUser",
];

/// Recognises a document by its top-level keys.
pub(crate) fn classify(doc: &Node) -> DocKind {
    if doc.entries().is_none() {
        return DocKind::Other;
    }
    if let Some(kind) = doc.get_str("kind") {
        let api = doc.get_str("apiVersion").unwrap_or("");
        return match kind {
            "Function" if api.starts_with("openfaas.com/") => DocKind::FunctionResource,
            "Deployment" => DocKind::Deployment,
            "Ingress"
                if api.starts_with("networking.k8s.io/") || api.starts_with("extensions/") =>
            {
                DocKind::Ingress
            }
            "List" if doc.get("items").is_some() => DocKind::List,
            _ => DocKind::Other,
        };
    }
    if doc.get("apiVersion").is_some() {
        return DocKind::Other;
    }
    let chart_functions = doc
        .get("functions")
        .and_then(Node::entries)
        .is_some_and(|entries| {
            entries.iter().any(|(k, _)| {
                k.scalar()
                    .is_some_and(|k| VALUES_FUNCTIONS_KEYS.contains(&k))
            })
        });
    let stack_markers = ["provider", "version", "configuration"]
        .iter()
        .any(|key| doc.get(key).is_some());
    if doc.get("functions").is_some() && (stack_markers || !chart_functions) {
        return DocKind::Stack;
    }
    if chart_functions || VALUES_KEYS.iter().any(|key| doc.get(key).is_some()) {
        return DocKind::Values;
    }
    DocKind::Other
}

/// Reads the documents of one source into functions and platform values.
pub(crate) struct Reader<'a> {
    /// The source being read.
    pub source: &'a Source,
    /// The working directory: input files and `environment_file` names are opened
    /// relative to it, as faas-cli opens them.
    pub cwd: &'a Path,
    /// Functions found, in order.
    pub functions: &'a mut Vec<RawFunction>,
    /// Platform values found.
    pub platform: &'a mut Platform,
    /// Environment files read, kept for error snippets.
    pub extra_sources: Vec<Source>,
    /// Functions that could not be read, each with its error: one bad function is one
    /// finding, and the others are still checked.
    pub invalid: &'a mut Vec<InvalidFunction>,
}

/// A function whose entry could not be read or resolved, and why (`faasim check` reports it as
/// an `invalid-function` finding at the error's place and checks the others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidFunction {
    /// The function's name as written.
    pub name: String,
    /// Why it cannot be checked, with its file, line and key.
    pub error: InputError,
}

/// A scalar node as a value.
fn val(source: &Source, node: &Node) -> Val {
    Val {
        raw: if node.is_null() {
            String::new()
        } else {
            node.scalar().unwrap_or_default().to_string()
        },
        location: source.node_location(node),
        width: source.width(node),
    }
}

/// A value that must be a single value (null allowed, as `""`); `key_node` locates a null.
fn scalar(
    source: &Source,
    node: &Node,
    key_node: Option<&Node>,
    path: &str,
) -> Result<Val, InputError> {
    match &node.kind {
        Kind::Scalar { .. } => {
            let mut value = val(source, node);
            if node.is_null()
                && let Some(key) = key_node
            {
                value.location = source.node_location(key);
                value.width = source.width(key);
            }
            Ok(value)
        }
        _ => Err(source.error(
            node,
            Some(path.to_string()),
            format!("expected a single value here, not {}", node.describe()),
        )),
    }
}

/// A `map[string]string` (stack `environment`, `labels`, ...): null values are `""`.
fn string_map(
    source: &Source,
    node: Option<&Node>,
    path: &str,
) -> Result<BTreeMap<String, Val>, InputError> {
    let mut out = BTreeMap::new();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(out);
    };
    let Some(entries) = node.entries() else {
        return Err(source.error(
            node,
            Some(path.to_string()),
            format!(
                "expected a mapping of names to values, not {}",
                node.describe()
            ),
        ));
    };
    for (key, value) in entries {
        let Some(name) = key.scalar() else {
            return Err(source.error(key, Some(path.to_string()), "expected a name as the key"));
        };
        let value = scalar(source, value, Some(key), &format!("{path}.{name}"))?;
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

impl Reader<'_> {
    fn val(&self, node: &Node) -> Val {
        val(self.source, node)
    }

    fn scalar(&self, node: &Node, key_node: Option<&Node>, path: &str) -> Result<Val, InputError> {
        scalar(self.source, node, key_node, path)
    }

    /// An optional single value under `key` of `parent` (absent or null: `None`).
    fn opt_scalar(&self, parent: &Node, key: &str, path: &str) -> Result<Option<Val>, InputError> {
        match parent.get(key) {
            None => Ok(None),
            Some(node) if node.is_null() => Ok(None),
            Some(node) => self.scalar(node, None, path).map(Some),
        }
    }

    fn string_map(
        &self,
        node: Option<&Node>,
        path: &str,
    ) -> Result<BTreeMap<String, Val>, InputError> {
        string_map(self.source, node, path)
    }

    /// The environment of one function within `limits::ENV_VARS_MAX` and
    /// `limits::ENV_BYTES_MAX`: else an error at the first variable over the limit.
    fn env_within_limits(&self, env: &BTreeMap<String, Val>, path: &str) -> Result<(), InputError> {
        let mut bytes = 0usize;
        for (index, (name, val)) in env.iter().enumerate() {
            bytes = bytes.saturating_add(name.len() + val.raw.len());
            let message = if index >= limits::ENV_VARS_MAX {
                format!(
                    "more than {} environment variables, the limit (docs/check.md, \"Limits\")",
                    limits::ENV_VARS_MAX
                )
            } else if bytes > limits::ENV_BYTES_MAX {
                format!(
                    "the environment is above the limit of {} bytes (names and values; \
                     Kubernetes stores no Deployment that large; docs/check.md, \"Limits\")",
                    limits::ENV_BYTES_MAX
                )
            } else {
                continue;
            };
            let location = &val.location;
            return Err(InputError::at(
                location.file.clone(),
                location.line,
                location.column,
                Some(format!("{path}.{name}")),
                message,
                None,
                val.width,
            ));
        }
        Ok(())
    }

    /// Reads one Function resource, recording its error as an invalid function instead of
    /// failing the whole input.
    fn isolated(&mut self, doc: &Node, read: impl FnOnce(&mut Self) -> Result<(), InputError>) {
        if let Err(error) = read(self) {
            let name = ["spec", "metadata"]
                .iter()
                .filter_map(|section| doc.get_present(section)?.get_present("name")?.scalar())
                .next()
                .unwrap_or("(unnamed)")
                .to_string();
            self.invalid.push(InvalidFunction { name, error });
        }
    }

    /// Reads one document.
    pub fn document(&mut self, doc: &Node) -> Result<(), InputError> {
        match classify(doc) {
            DocKind::Stack => self.stack(doc),
            DocKind::FunctionResource => {
                self.isolated(doc, |reader| reader.function_resource(doc));
                Ok(())
            }
            DocKind::Deployment => self.deployment(doc),
            DocKind::Ingress => self.ingress(doc),
            DocKind::List => {
                for item in doc.get("items").and_then(Node::items).unwrap_or_default() {
                    match classify(item) {
                        DocKind::FunctionResource => {
                            self.isolated(item, |reader| reader.function_resource(item));
                        }
                        DocKind::Deployment => self.deployment(item)?,
                        DocKind::Ingress => self.ingress(item)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            DocKind::Values => self.values(doc),
            DocKind::Other => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::yaml;

    fn doc(text: &str) -> Node {
        yaml::parse_documents(text).unwrap().remove(0)
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(&doc("version: 1.0\nfunctions:\n  a: {}\n")),
            DocKind::Stack
        );
        assert_eq!(
            classify(&doc("functions:\n  a:\n    lang: go\n")),
            DocKind::Stack
        );
        assert_eq!(
            classify(&doc("gateway:\n  upstreamTimeout: 1m\n")),
            DocKind::Values
        );
        assert_eq!(
            classify(&doc(
                "functions:\n  readinessProbe:\n    periodSeconds: 2\n"
            )),
            DocKind::Values
        );
        assert_eq!(
            classify(&doc("apiVersion: openfaas.com/v1\nkind: Function\n")),
            DocKind::FunctionResource
        );
        assert_eq!(
            classify(&doc("apiVersion: apps/v1\nkind: Deployment\n")),
            DocKind::Deployment
        );
        assert_eq!(
            classify(&doc("apiVersion: v1\nkind: Service\n")),
            DocKind::Other
        );
        assert_eq!(classify(&doc("- a\n- b\n")), DocKind::Other);
    }
}
