//! Kubernetes Ingress objects in front of the OpenFaaS gateway (a backend that is the
//! `gateway` or `gateway-external` Service, as the chart names them): the ingress-nginx
//! annotation `nginx.ingress.kubernetes.io/proxy-read-timeout`, whose value `resolve` reads as
//! ingress-nginx does. An Ingress whose backends are other Services is not in front of the
//! functions and is skipped.

use super::{IngressFront, Reader};
use crate::input::error::InputError;
use faasim_sim::yaml::Node;

/// The ingress-nginx annotation of the upstream read timeout, whole seconds.
pub(crate) const PROXY_READ_TIMEOUT: &str = "nginx.ingress.kubernetes.io/proxy-read-timeout";

/// The Services the OpenFaaS chart puts in front of the gateway.
const GATEWAY_SERVICES: [&str; 2] = ["gateway", "gateway-external"];

/// The Service a backend names: `service.name` (networking.k8s.io/v1) or `serviceName`
/// (extensions/v1beta1 and networking.k8s.io/v1beta1).
fn backend_service(backend: &Node) -> Option<&str> {
    backend
        .path(&["service", "name"])
        .and_then(Node::scalar)
        .or_else(|| backend.get_str("serviceName"))
}

/// Whether any backend of the Ingress is the gateway's Service.
fn fronts_gateway(doc: &Node) -> bool {
    let Some(spec) = doc.get("spec") else {
        return false;
    };
    let mut backends: Vec<&Node> = ["defaultBackend", "backend"]
        .iter()
        .filter_map(|key| spec.get(key))
        .collect();
    for rule in spec.get("rules").and_then(Node::items).unwrap_or_default() {
        let paths = rule.path(&["http", "paths"]).and_then(Node::items);
        backends.extend(
            paths
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p.get("backend")),
        );
    }
    backends
        .into_iter()
        .filter_map(backend_service)
        .any(|name| GATEWAY_SERVICES.contains(&name))
}

impl Reader<'_> {
    /// An Ingress: kept when it fronts the gateway, with its read-timeout annotation.
    pub(super) fn ingress(&mut self, doc: &Node) -> Result<(), InputError> {
        if !fronts_gateway(doc) {
            return Ok(());
        }
        let name = doc.path(&["metadata", "name"]);
        let location = self.source.node_location(name.unwrap_or(doc));
        let read_timeout = match doc.path(&["metadata", "annotations"]) {
            Some(annotations) => self.opt_scalar(
                annotations,
                PROXY_READ_TIMEOUT,
                &format!("metadata.annotations.{PROXY_READ_TIMEOUT}"),
            )?,
            None => None,
        };
        // The last one read wins, as for every platform value.
        self.platform.ingress = Some(IngressFront {
            name: name.and_then(Node::scalar).unwrap_or_default().to_string(),
            location,
            read_timeout,
        });
        Ok(())
    }
}
