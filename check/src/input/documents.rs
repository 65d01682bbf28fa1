//! Recognising each YAML document and taking out what the checker needs: functions (from stack
//! files, `openfaas.com` Function resources and function Deployments) and platform values (from
//! the OpenFaaS Helm chart's values, and from the gateway and queue-worker Deployments the chart
//! renders). Everything is kept as text with its location; `resolve` interprets it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::InputError;
use super::source::Source;
use crate::Location;
use faasim_sim::yaml::{self, Kind, Node, Pos, contains};

/// A scalar as written and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Val {
    /// The text (YAML null is `""`).
    pub raw: String,
    /// Where the value is written (for null, where its key is).
    pub location: Location,
    /// Characters it spans, for carets.
    pub width: usize,
}

/// Which kind of definition a function comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FunctionKind {
    /// An entry of `functions:` in a stack file.
    Stack,
    /// An `openfaas.com` `Function` resource.
    FunctionResource,
    /// A Kubernetes Deployment running a watchdog.
    Deployment,
}

/// A `${VAR}` of a stack file that was not set, inside a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnsetVar {
    /// The variable.
    pub name: String,
    /// The expression as written.
    pub expression: String,
    /// Where it is written.
    pub location: Location,
    /// The key it is the value of, relative to the function (`environment.write_timeout`).
    pub path: String,
}

/// Readiness probe fields as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProbeVals {
    /// `initialDelaySeconds`.
    pub initial_delay: Option<Val>,
    /// `periodSeconds`.
    pub period: Option<Val>,
    /// `failureThreshold`.
    pub failure: Option<Val>,
    /// `successThreshold`.
    pub success: Option<Val>,
}

/// A container's preStop hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PreStop {
    /// No hook.
    None,
    /// `sleep: {seconds: N}`, or an exec `sleep N` (raw holds whole seconds).
    Sleep(Val),
    /// A hook whose duration cannot be read from the file.
    Unknown {
        /// Where it is.
        location: Location,
        /// What it is, for the provenance note.
        what: String,
    },
}

/// What a Deployment says that a stack file cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeploymentFields {
    /// `spec.template.spec.terminationGracePeriodSeconds`.
    pub grace: Option<Val>,
    /// The function container's preStop hook.
    pub pre_stop: PreStop,
    /// The function container's readiness probe (`None`: it has none).
    pub readiness: Option<ProbeVals>,
    /// `spec.strategy.type`.
    pub strategy_type: Option<Val>,
    /// `spec.strategy.rollingUpdate.maxSurge`.
    pub max_surge: Option<Val>,
    /// `spec.strategy.rollingUpdate.maxUnavailable`.
    pub max_unavailable: Option<Val>,
    /// `spec.replicas`.
    pub replicas: Option<Val>,
}

/// One function as found, before interpretation.
#[derive(Clone, Debug)]
pub(crate) struct RawFunction {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub location: Location,
    /// Which kind of definition.
    pub kind: FunctionKind,
    /// `lang` (stack files).
    pub lang: Option<Val>,
    /// The watchdog's environment (environment files already applied over the inline map).
    pub env: BTreeMap<String, Val>,
    /// Labels.
    pub labels: BTreeMap<String, Val>,
    /// Annotations that reach the pod.
    pub annotations: BTreeMap<String, Val>,
    /// Annotations on the object itself (a Function's or Deployment's `metadata`), read only
    /// for the ignore annotations.
    pub object_annotations: BTreeMap<String, Val>,
    /// Deployment-only fields.
    pub deployment: Option<DeploymentFields>,
    /// Unset `${VAR}`s inside the function.
    pub unset: Vec<UnsetVar>,
}

/// Which platform value a setting came from, for provenance text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlatformSource {
    /// A Helm values file.
    Values,
    /// A container's environment in a rendered Deployment.
    Env,
}

/// A platform value and what kind of file set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Setting {
    /// The value.
    pub val: Val,
    /// Values file or rendered environment.
    pub from: PlatformSource,
}

/// The gateway, provider, probe and queue-worker values, whoever set them last.
#[derive(Clone, Debug, Default)]
pub(crate) struct Platform {
    /// `gateway.upstreamTimeout` / env `upstream_timeout`.
    pub upstream_timeout: Option<Setting>,
    /// `gateway.readTimeout` / env `read_timeout`.
    pub read_timeout: Option<Setting>,
    /// `gateway.writeTimeout` / env `write_timeout`.
    pub write_timeout: Option<Setting>,
    /// `gateway.scaleFromZero` / env `scale_from_zero`.
    pub scale_from_zero: Option<Setting>,
    /// `faasnetes.readTimeout` / the provider's env `read_timeout`.
    pub provider_read: Option<Setting>,
    /// `faasnetes.writeTimeout` / the provider's env `write_timeout`.
    pub provider_write: Option<Setting>,
    /// `functions.readinessProbe` / the provider's env `readiness_probe_*`.
    pub probe: ProbeVals,
    /// `queueWorker.ackWait` / the queue-worker's env `ack_wait`.
    pub ack_wait: Option<Setting>,
}

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DocKind {
    /// An OpenFaaS stack file.
    Stack,
    /// An `openfaas.com` Function.
    FunctionResource,
    /// A Kubernetes Deployment.
    Deployment,
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
    /// The directory environment files are relative to (as written, for names).
    pub base_dir: PathBuf,
    /// The working directory (to open relative names).
    pub cwd: &'a Path,
    /// Functions found, in order.
    pub functions: &'a mut Vec<RawFunction>,
    /// Platform values found.
    pub platform: &'a mut Platform,
    /// Environment files read, kept for error snippets.
    pub extra_sources: Vec<Source>,
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

    /// Reads one document.
    pub fn document(&mut self, doc: &Node) -> Result<(), InputError> {
        match classify(doc) {
            DocKind::Stack => self.stack(doc),
            DocKind::FunctionResource => self.function_resource(doc),
            DocKind::Deployment => self.deployment(doc),
            DocKind::List => {
                for item in doc.get("items").and_then(Node::items).unwrap_or_default() {
                    match classify(item) {
                        DocKind::FunctionResource => self.function_resource(item)?,
                        DocKind::Deployment => self.deployment(item)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            DocKind::Values => self.values(doc),
            DocKind::Other => Ok(()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Stack files
    // -----------------------------------------------------------------------------------------

    fn stack(&mut self, doc: &Node) -> Result<(), InputError> {
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
        }
        Ok(())
    }

    /// `environment_file`: YAML files with an `environment:` map, relative to the stack file,
    /// applied in order over the inline environment ("external files take priority").
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
            let display = if self.base_dir.as_os_str().is_empty() {
                PathBuf::from(&file.raw)
            } else {
                self.base_dir.join(&file.raw)
            };
            let name = display.display().to_string();
            let text = std::fs::read(self.cwd.join(&display))
                .map_err(|error| error.to_string())
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
                })
                .map_err(|error| {
                    self.source.error(
                        item,
                        Some(item_path.clone()),
                        format!("cannot read environment file `{name}`: {error}"),
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
        substitution
            .unset
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

    // -----------------------------------------------------------------------------------------
    // Function resources
    // -----------------------------------------------------------------------------------------

    fn function_resource(&mut self, doc: &Node) -> Result<(), InputError> {
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

    // -----------------------------------------------------------------------------------------
    // Deployments
    // -----------------------------------------------------------------------------------------

    /// A container's `env` list as a map (entries with `valueFrom` have no value here and are
    /// left out; a later entry wins, as in Kubernetes).
    fn container_env(
        &self,
        container: &Node,
        path: &str,
    ) -> Result<BTreeMap<String, Val>, InputError> {
        let mut out = BTreeMap::new();
        let Some(env) = container.get_present("env") else {
            return Ok(out);
        };
        let Some(items) = env.items() else {
            return Err(self.source.error(
                env,
                Some(format!("{path}.env")),
                format!(
                    "expected a list of `name`/`value` entries, not {}",
                    env.describe()
                ),
            ));
        };
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}.env[{index}]");
            let Some(name) = item.get_str("name") else {
                continue;
            };
            let Some(value) = item.get("value") else {
                continue;
            };
            let key_node = item.entries().and_then(|e| {
                e.iter()
                    .find(|(k, _)| k.scalar() == Some("value"))
                    .map(|(k, _)| k)
            });
            out.insert(
                name.to_string(),
                self.scalar(value, key_node, &format!("{item_path}.value"))?,
            );
        }
        Ok(out)
    }

    fn deployment(&mut self, doc: &Node) -> Result<(), InputError> {
        let metadata = doc.get_present("metadata");
        let spec = doc.get_present("spec");
        let template = spec.and_then(|s| s.get_present("template"));
        let pod_spec = template.and_then(|t| t.get_present("spec"));
        let containers: &[Node] = pod_spec
            .and_then(|p| p.get_present("containers"))
            .and_then(Node::items)
            .unwrap_or_default();
        let container_name = |c: &Node| c.get_str("name").unwrap_or("").to_string();
        let image = |c: &Node| c.get_str("image").unwrap_or("").to_string();
        let has_env = |c: &Node, names: &[&str]| {
            c.get_present("env")
                .and_then(Node::items)
                .unwrap_or_default()
                .iter()
                .any(|e| e.get_str("name").is_some_and(|n| names.contains(&n)))
        };

        // The OpenFaaS gateway (with faas-netes or the operator beside it).
        let gateway = containers.iter().position(|c| {
            (container_name(c) == "gateway" || image(c).contains("openfaas/gateway"))
                && has_env(c, &["upstream_timeout", "read_timeout", "write_timeout"])
        });
        if let Some(index) = gateway {
            let base = format!("spec.template.spec.containers[{index}]");
            let env = self.container_env(&containers[index], &base)?;
            let set = |slot: &mut Option<Setting>, key: &str| {
                if let Some(val) = env.get(key) {
                    *slot = Some(Setting {
                        val: val.clone(),
                        from: PlatformSource::Env,
                    });
                }
            };
            set(&mut self.platform.upstream_timeout, "upstream_timeout");
            set(&mut self.platform.read_timeout, "read_timeout");
            set(&mut self.platform.write_timeout, "write_timeout");
            set(&mut self.platform.scale_from_zero, "scale_from_zero");
            for (index, container) in containers.iter().enumerate() {
                let provider = ["faas-netes", "operator"]
                    .contains(&container_name(container).as_str())
                    || image(container).contains("faas-netes");
                if !provider {
                    continue;
                }
                let env = self.container_env(
                    container,
                    &format!("spec.template.spec.containers[{index}]"),
                )?;
                let setting = |key: &str| {
                    env.get(key)
                        .filter(|v| !v.raw.is_empty())
                        .map(|val| Setting {
                            val: val.clone(),
                            from: PlatformSource::Env,
                        })
                };
                if let Some(s) = setting("read_timeout") {
                    self.platform.provider_read = Some(s);
                }
                if let Some(s) = setting("write_timeout") {
                    self.platform.provider_write = Some(s);
                }
                let probe = &mut self.platform.probe;
                for (key, slot) in [
                    (
                        "readiness_probe_initial_delay_seconds",
                        &mut probe.initial_delay,
                    ),
                    ("readiness_probe_period_seconds", &mut probe.period),
                    ("readiness_probe_failure_threshold", &mut probe.failure),
                    ("readiness_probe_success_threshold", &mut probe.success),
                ] {
                    if let Some(val) = env.get(key).filter(|v| !v.raw.is_empty()) {
                        *slot = Some(val.clone());
                    }
                }
            }
            return Ok(());
        }

        // The CE queue-worker: its ack_wait.
        let queue_worker = containers
            .iter()
            .position(|c| image(c).contains("queue-worker") || container_name(c) == "queue-worker");
        if let Some(index) = queue_worker {
            let env = self.container_env(
                &containers[index],
                &format!("spec.template.spec.containers[{index}]"),
            )?;
            if let Some(val) = env.get("ack_wait") {
                self.platform.ack_wait = Some(Setting {
                    val: val.clone(),
                    from: PlatformSource::Env,
                });
            }
            return Ok(());
        }

        // A function: a watchdog container, or the faas_function label.
        let meta_labels = match metadata {
            Some(m) => self.string_map(m.get("labels"), "metadata.labels")?,
            None => BTreeMap::new(),
        };
        let template_metadata = template.and_then(|t| t.get_present("metadata"));
        let template_labels = match template_metadata {
            Some(m) => self.string_map(m.get("labels"), "spec.template.metadata.labels")?,
            None => BTreeMap::new(),
        };
        let faas_function = template_labels
            .get("faas_function")
            .or_else(|| meta_labels.get("faas_function"))
            .cloned();
        let watchdog = containers.iter().position(|c| {
            has_env(c, &["fprocess", "mode"])
                || image(c).contains("of-watchdog")
                || image(c).contains("classic-watchdog")
        });
        if watchdog.is_none() && faas_function.is_none() {
            return Ok(());
        }
        let index = watchdog
            .or_else(|| {
                let wanted = faas_function.as_ref().map(|v| v.raw.as_str())?;
                containers.iter().position(|c| container_name(c) == wanted)
            })
            .unwrap_or(0);
        let container = containers.get(index);
        let base = format!("spec.template.spec.containers[{index}]");

        let name_node = metadata.and_then(|m| m.get_present("name"));
        let metadata_name = match name_node {
            Some(node) => Some(self.scalar(node, None, "metadata.name")?),
            None => None,
        };
        // The function's name is its faas_function label; its place, the Deployment's name.
        let (name, location) = match (&faas_function, metadata_name) {
            (Some(label), Some(meta)) if !label.raw.is_empty() => {
                (label.raw.clone(), meta.location)
            }
            (Some(label), None) if !label.raw.is_empty() => {
                (label.raw.clone(), label.location.clone())
            }
            (_, Some(meta)) => (meta.raw, meta.location),
            _ => {
                return Err(self.source.error(
                    doc,
                    Some("metadata.name".into()),
                    "a function Deployment needs `metadata.name` or a `faas_function` label",
                ));
            }
        };
        let env = match container {
            Some(c) => self.container_env(c, &base)?,
            None => BTreeMap::new(),
        };
        let mut labels = meta_labels;
        labels.extend(template_labels);
        let annotations = match template_metadata {
            Some(m) => {
                self.string_map(m.get("annotations"), "spec.template.metadata.annotations")?
            }
            None => BTreeMap::new(),
        };
        let object_annotations = match metadata {
            Some(m) => self.string_map(m.get("annotations"), "metadata.annotations")?,
            None => BTreeMap::new(),
        };

        let readiness = match container.and_then(|c| c.get_present("readinessProbe")) {
            None => None,
            Some(probe) => {
                let p = format!("{base}.readinessProbe");
                Some(ProbeVals {
                    initial_delay: self.opt_scalar(
                        probe,
                        "initialDelaySeconds",
                        &format!("{p}.initialDelaySeconds"),
                    )?,
                    period: self.opt_scalar(
                        probe,
                        "periodSeconds",
                        &format!("{p}.periodSeconds"),
                    )?,
                    failure: self.opt_scalar(
                        probe,
                        "failureThreshold",
                        &format!("{p}.failureThreshold"),
                    )?,
                    success: self.opt_scalar(
                        probe,
                        "successThreshold",
                        &format!("{p}.successThreshold"),
                    )?,
                })
            }
        };
        let pre_stop = match container.and_then(|c| c.path(&["lifecycle", "preStop"])) {
            None => PreStop::None,
            Some(hook) => self.pre_stop(hook, &format!("{base}.lifecycle.preStop"))?,
        };
        let strategy = spec.and_then(|s| s.get_present("strategy"));
        let rolling = strategy.and_then(|s| s.get_present("rollingUpdate"));
        let fields = DeploymentFields {
            grace: match pod_spec {
                Some(p) => self.opt_scalar(
                    p,
                    "terminationGracePeriodSeconds",
                    "spec.template.spec.terminationGracePeriodSeconds",
                )?,
                None => None,
            },
            pre_stop,
            readiness,
            strategy_type: match strategy {
                Some(s) => self.opt_scalar(s, "type", "spec.strategy.type")?,
                None => None,
            },
            max_surge: match rolling {
                Some(r) => {
                    self.opt_scalar(r, "maxSurge", "spec.strategy.rollingUpdate.maxSurge")?
                }
                None => None,
            },
            max_unavailable: match rolling {
                Some(r) => self.opt_scalar(
                    r,
                    "maxUnavailable",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                )?,
                None => None,
            },
            replicas: match spec {
                Some(s) => self.opt_scalar(s, "replicas", "spec.replicas")?,
                None => None,
            },
        };
        self.functions.push(RawFunction {
            name,
            location,
            kind: FunctionKind::Deployment,
            lang: None,
            env,
            labels,
            annotations,
            object_annotations,
            deployment: Some(fields),
            unset: Vec::new(),
        });
        Ok(())
    }

    /// A preStop hook: the `sleep` action, or an exec of `sleep N` (directly or through a shell).
    fn pre_stop(&self, hook: &Node, path: &str) -> Result<PreStop, InputError> {
        if let Some(sleep) = hook.get_present("sleep") {
            let Some(seconds) = sleep.get_present("seconds") else {
                return Err(self.source.error(
                    sleep,
                    Some(format!("{path}.sleep")),
                    "the preStop `sleep` action needs `seconds`",
                ));
            };
            return Ok(PreStop::Sleep(self.scalar(
                seconds,
                None,
                &format!("{path}.sleep.seconds"),
            )?));
        }
        if let Some(command) = hook.path(&["exec", "command"]) {
            let words: Vec<&Node> = command.items().unwrap_or_default().iter().collect();
            let texts: Vec<&str> = words.iter().filter_map(|w| w.scalar()).collect();
            let shell = texts.len() == 3
                && ["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"].contains(&texts[0])
                && texts[1] == "-c";
            let (argument, node) =
                if texts.len() == 2 && texts[0].rsplit('/').next() == Some("sleep") {
                    (Some(texts[1].to_string()), words.get(1))
                } else if shell {
                    let script = texts[2].trim();
                    let argument = script
                        .strip_prefix("sleep ")
                        .map(str::trim)
                        .filter(|a| !a.contains([' ', ';', '&', '|']))
                        .map(str::to_string);
                    (argument, words.get(2))
                } else {
                    (None, None)
                };
            if let (Some(argument), Some(node)) = (argument, node)
                && let Some(seconds) = sleep_seconds(&argument)
            {
                let mut val = self.val(node);
                val.raw = seconds.to_string();
                return Ok(PreStop::Sleep(val));
            }
            return Ok(PreStop::Unknown {
                location: self.source.node_location(command),
                what: format!("preStop command `{}`", texts.join(" ")),
            });
        }
        let what = if hook.get("httpGet").is_some() {
            "an httpGet preStop hook".to_string()
        } else {
            "a preStop hook".to_string()
        };
        Ok(PreStop::Unknown {
            location: self.source.node_location(hook),
            what,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Helm values
    // -----------------------------------------------------------------------------------------

    /// A values scalar as Helm renders it into an env var: YAML 1.1 booleans become
    /// `true`/`false` (Helm reads values with sigs.k8s.io/yaml), null is "not given".
    fn helm_value(
        &self,
        parent: Option<&Node>,
        key: &str,
        path: &str,
    ) -> Result<Option<Setting>, InputError> {
        let Some(parent) = parent else {
            return Ok(None);
        };
        let Some(mut val) = self.opt_scalar(parent, key, path)? else {
            return Ok(None);
        };
        if parent.get(key).is_some_and(Node::is_plain) {
            match val.raw.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True"
                | "TRUE" => {
                    val.raw = "true".to_string();
                }
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False"
                | "FALSE" => {
                    val.raw = "false".to_string();
                }
                _ => {}
            }
        }
        Ok(Some(Setting {
            val,
            from: PlatformSource::Values,
        }))
    }

    fn values(&mut self, doc: &Node) -> Result<(), InputError> {
        let section = |key: &str| doc.get_present(key).filter(|n| n.entries().is_some());
        let gateway = section("gateway");
        let faasnetes = section("faasnetes");
        let functions = section("functions");
        let probe = functions.and_then(|f| f.get_present("readinessProbe"));
        let queue_worker = section("queueWorker");
        let assign = |slot: &mut Option<Setting>, value: Option<Setting>| {
            if value.is_some() {
                *slot = value;
            }
        };
        let upstream = self.helm_value(gateway, "upstreamTimeout", "gateway.upstreamTimeout")?;
        assign(&mut self.platform.upstream_timeout, upstream);
        let read = self.helm_value(gateway, "readTimeout", "gateway.readTimeout")?;
        assign(&mut self.platform.read_timeout, read);
        let write = self.helm_value(gateway, "writeTimeout", "gateway.writeTimeout")?;
        assign(&mut self.platform.write_timeout, write);
        let scale = self.helm_value(gateway, "scaleFromZero", "gateway.scaleFromZero")?;
        assign(&mut self.platform.scale_from_zero, scale);
        // faasnetes.* default to "" in the chart, which means "the gateway's" (`default`).
        let non_empty = |s: Option<Setting>| s.filter(|s| !s.val.raw.is_empty());
        let provider_read =
            non_empty(self.helm_value(faasnetes, "readTimeout", "faasnetes.readTimeout")?);
        assign(&mut self.platform.provider_read, provider_read);
        let provider_write =
            non_empty(self.helm_value(faasnetes, "writeTimeout", "faasnetes.writeTimeout")?);
        assign(&mut self.platform.provider_write, provider_write);
        let ack_wait = self.helm_value(queue_worker, "ackWait", "queueWorker.ackWait")?;
        assign(&mut self.platform.ack_wait, ack_wait);
        if let Some(probe) = probe {
            let p = "functions.readinessProbe";
            for (key, slot) in [
                (
                    "initialDelaySeconds",
                    &mut self.platform.probe.initial_delay,
                ),
                ("periodSeconds", &mut self.platform.probe.period),
                ("failureThreshold", &mut self.platform.probe.failure),
                ("successThreshold", &mut self.platform.probe.success),
            ] {
                if let Some(node) = probe.get_present(key) {
                    let val = match &node.kind {
                        Kind::Scalar { .. } => Val {
                            raw: node.scalar().unwrap_or_default().to_string(),
                            location: self.source.node_location(node),
                            width: self.source.width(node),
                        },
                        _ => {
                            return Err(self.source.error(
                                node,
                                Some(format!("{p}.{key}")),
                                format!("expected a single value here, not {}", node.describe()),
                            ));
                        }
                    };
                    *slot = Some(val);
                }
            }
        }
        Ok(())
    }
}

/// Whole seconds of a `sleep` argument (`5`, `5s`, `2m`, `1.5`, rounded up), as GNU and
/// busybox sleep read it.
fn sleep_seconds(argument: &str) -> Option<u64> {
    let (number, factor) = match argument.char_indices().last()? {
        (i, 's') => (argument.get(..i)?, 1.0),
        (i, 'm') => (argument.get(..i)?, 60.0),
        (i, 'h') => (argument.get(..i)?, 3600.0),
        (i, 'd') => (argument.get(..i)?, 86400.0),
        _ => (argument, 1.0),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let seconds = (value * factor).ceil();
    (seconds.is_finite() && (0.0..1e12).contains(&seconds)).then_some(seconds as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sleep_arguments() {
        assert_eq!(sleep_seconds("5"), Some(5));
        assert_eq!(sleep_seconds("5s"), Some(5));
        assert_eq!(sleep_seconds("2m"), Some(120));
        assert_eq!(sleep_seconds("1.5"), Some(2));
        assert_eq!(sleep_seconds("x"), None);
        assert_eq!(sleep_seconds("-1"), None);
        assert_eq!(sleep_seconds(""), None);
    }
}
