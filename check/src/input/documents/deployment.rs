//! Kubernetes Deployments: the gateway's (with faas-netes or the operator beside it) and the
//! queue-worker's, which set platform values, and a function's, whose container environment,
//! grace period, preStop hook, readiness probe, strategy and replicas it reads.

use std::collections::BTreeMap;

use super::{
    DeploymentFields, EditionSign, FunctionKind, PlatformSource, PreStop, ProbeVals, RawFunction,
    Reader, Setting, Val,
};
use crate::input::error::InputError;
use faasim_sim::yaml::Node;

impl Reader<'_> {
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

    pub(super) fn deployment(&mut self, doc: &Node) -> Result<(), InputError> {
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
            // The chart renders Pro's gateway from `ghcr.io/openfaasltd/gateway` (faas-netes@662ce9ce
            // chart/openfaas/values.yaml:67, gateway-dep.yaml:76 `if .Values.openfaasPro`); CE's
            // image is `ghcr.io/openfaas/gateway`.
            if let Some(node) = containers[index].get_present("image")
                && let Some(text) = node.scalar()
            {
                self.platform.edition = Some(EditionSign {
                    pro: text.contains("openfaasltd/"),
                    location: self.source.node_location(node),
                });
            }
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
            set(&mut self.platform.direct_functions, "direct_functions");
            if let Some(spec) = spec
                && let Some(replicas) = self.opt_scalar(spec, "replicas", "spec.replicas")?
            {
                // A field of the manifest, not of the environment: read as the values are.
                self.platform.gateway_replicas = Some(Setting {
                    val: replicas,
                    from: PlatformSource::Values,
                });
            }
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
        self.env_within_limits(&env, &format!("{base}.env"))?;
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
