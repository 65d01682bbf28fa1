//! The OpenFaaS Helm chart's values: the gateway's and faas-netes's timeouts, `scaleFromZero`,
//! the gateway's `replicas` and `directFunctions`, `functions.readinessProbe`,
//! `queueWorker.ackWait` and `replicas`, and the Pro queue-worker's `queueWorkerPro.*`, as Helm
//! would render them.

use super::{EditionSign, PlatformSource, Reader, Setting, Val};
use crate::input::error::InputError;
use faasim_sim::yaml::{Kind, Node};

/// The `queueWorkerPro` keys faasim reads, as the chart spells them.
pub(crate) const PRO_QUEUE_WORKER_KEYS: [&str; 6] = [
    "maxInflight",
    "maxRetryAttempts",
    "initialRetryWait",
    "maxRetryWait",
    "httpRetryCodes",
    "backoff",
];

impl Reader<'_> {
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

    pub(super) fn values(&mut self, doc: &Node) -> Result<(), InputError> {
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
        let replicas = self.helm_value(gateway, "replicas", "gateway.replicas")?;
        assign(&mut self.platform.gateway_replicas, replicas);
        let direct = self.helm_value(gateway, "directFunctions", "gateway.directFunctions")?;
        assign(&mut self.platform.direct_functions, direct);
        // faasnetes.* default to "" in the chart, which means "the gateway's" (`default`).
        let non_empty = |s: Option<Setting>| s.filter(|s| !s.val.raw.is_empty());
        let provider_read =
            non_empty(self.helm_value(faasnetes, "readTimeout", "faasnetes.readTimeout")?);
        assign(&mut self.platform.provider_read, provider_read);
        let provider_write =
            non_empty(self.helm_value(faasnetes, "writeTimeout", "faasnetes.writeTimeout")?);
        assign(&mut self.platform.provider_write, provider_write);
        // `openfaasPro` switches the chart to the Pro components (faas-netes@662ce9ce
        // chart/openfaas/values.yaml:7 `openfaasPro: false`, values-pro.yaml:5 `true`), among
        // them the operator that derives the grace period and honours the probe values.
        if let Some(pro) = self.helm_value(Some(doc), "openfaasPro", "openfaasPro")? {
            let flag = match pro.val.raw.as_str() {
                "true" => true,
                "false" | "" => false,
                other => {
                    let node = doc.get("openfaasPro").unwrap_or(doc);
                    return Err(self.source.error(
                        node,
                        Some("openfaasPro".into()),
                        format!("expected true or false, not `{other}`"),
                    ));
                }
            };
            self.platform.edition = Some(EditionSign {
                pro: flag,
                location: pro.val.location,
            });
        }
        let ack_wait = self.helm_value(queue_worker, "ackWait", "queueWorker.ackWait")?;
        assign(&mut self.platform.ack_wait, ack_wait);
        let replicas = self.helm_value(queue_worker, "replicas", "queueWorker.replicas")?;
        assign(&mut self.platform.queue_worker_replicas, replicas);
        // The keys the chart's queue-worker Deployment passes to the Pro worker
        // (faas-netes@662ce9ce chart/openfaas/templates/queueworker-dep.yaml).
        let pro = section("queueWorkerPro");
        for key in PRO_QUEUE_WORKER_KEYS {
            let path = format!("queueWorkerPro.{key}");
            if let Some(setting) = self.helm_value(pro, key, &path)? {
                let slot = &mut self.platform.queue_worker_pro;
                slot.retain(|(k, _)| *k != key);
                slot.push((key, setting));
            }
        }
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
