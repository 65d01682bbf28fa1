//! faasim's second engine: a scenario run on turmoil's simulated network, with real HTTP
//! clients, a gateway + provider written against hyper, and the real watchdog
//! (`faasim_watchdog::Watchdog`) in every pod, so the model (`faasim_sim::simulate`) can be
//! checked against real code.
//!
//! Hosts are few, as turmoil's cost grows steeply with them (every host runs on every 1 ms
//! tick; the figures are in `turmoil-engine/README.md`):
//! `client` (every load worker is a task), one `gateway-N` per gateway pod (gateway and
//! provider in one process; `crate::edge` routes connections to them and rolls them), an
//! `ingress` when the scenario has one, and one host per pod (the watchdog on :8080, the child HTTP server behind it on an in-memory
//! pipe); an asynchronous run adds `nats` (an in-memory NATS Streaming server), one
//! `queue-worker-N` per CE queue-worker pod (the worker as code) and `callback` (the callback
//! receiver). The control plane (deployment controller, kubelet, endpoints, nodes) is the model's
//! own `faasim_model::cluster::Cluster`, driven from the step loop of [`run_turmoil`] as the
//! model's world drives it: its effects create pod hosts, move pods in and out of the gateway's
//! endpoint view, send SIGTERM (the watchdog's shutdown future) and SIGKILL (`Sim::bounce`
//! behind a closed start gate).
//!
//! Deliberate differences from the model are listed in `README.md`.
//!
//! [`server`] runs the same scenarios with your own tokio server (axum, hyper, ...) in every pod
//! in place of the watchdog.

mod callback;
mod client;
mod control;
mod edge;
mod gateway;
mod harness;
mod ingress;
mod pod;
mod queue;
mod queue_worker;
pub mod server;
mod shared;
mod user_server;

pub use harness::{TICK, rtt_warning, run_turmoil, run_turmoil_with, turmoil_rtt_ns};
