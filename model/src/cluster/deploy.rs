//! `faas-cli deploy` of a function that already exists: faas-cli sends PUT
//! /system/functions (`--update` defaults to true; openfaas/faas-cli@c8191b71
//! proxy/deploy.go:62-78, commands/deploy.go:62-63) and faas-netes's update handler
//! rewrites the Deployment (openfaas/faas-netes@662ce9ce pkg/handlers/update.go:113-144):
//!
//! - the pod template's `uid` label becomes `time.Now().Nanosecond()`, so every deploy is a
//!   new template revision and a rolling update, even when nothing else changed;
//! - a `com.openfaas.scale.min` label above 0 sets `spec.replicas` to it
//!   (`getMinReplicaCount`, update.go:129-131, deploy.go:376-385), overwriting whatever the
//!   autoscaler or an operator had scaled to; without the label the replicas stay;
//! - CE keeps a function within 1 to 5 replicas (faas-netes@662ce9ce
//!   pkg/handlers/informers.go:55-80, replica_reader.go:25). The model applies that clamp to
//!   the replicas a deploy sets only: a `scale` event and the initial replicas are taken as
//!   given.

use super::{Cluster, Effect};
use crate::choice::Chooser;
use crate::config::Edition;
use crate::time::Nanos;

/// The replicas OpenFaaS CE allows a function, lowest and highest.
const CE_REPLICAS_MIN: u32 = 1;
/// See [`CE_REPLICAS_MIN`].
const CE_REPLICAS_MAX: u32 = 5;

impl Cluster {
    /// The update handler's Deployment write: a new template revision, and the replicas reset
    /// to `scale_min` when the request carries it; the controllers then roll.
    pub(super) fn deploy(
        &mut self,
        now: Nanos,
        scale_min: Option<u32>,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        assert!(
            scale_min != Some(0),
            "getMinReplicaCount ignores a scale.min of 0: the caller passes None"
        );
        self.revision += 1;
        let revision = self.revision;
        let replicas = scale_min.map(|min| match self.config.kubernetes.edition {
            Edition::Ce => min.clamp(CE_REPLICAS_MIN, CE_REPLICAS_MAX),
            Edition::Pro => min,
        });
        let before = self.desired;
        self.note(
            out,
            || "operator".into(),
            || match replicas {
                Some(n) => format!(
                    "faas-cli deploy: new uid label, revision {revision}; replicas {before} -> \
                     {n} (com.openfaas.scale.min)"
                ),
                None => format!("faas-cli deploy: new uid label, revision {revision}"),
            },
        );
        if let Some(n) = replicas {
            self.desired = n;
        }
        self.reconcile(now, chooser, out);
        assert!(self.revision == revision, "a deploy is one revision");
    }
}
