//! An of-watchdog-compatible watchdog on tokio and hyper 1, for running the real drain logic
//! next to the model. It runs the function in of-watchdog's HTTP mode (`Watchdog::new`:
//! proxy to an upstream child) or streaming mode (`Watchdog::streaming`: fork one process
//! per request, `fork`), serves `/_/health` and `/_/ready`, applies read, write and exec
//! timeouts with of-watchdog's outcomes, limits concurrency with `max_inflight`, and on its
//! shutdown signal drains the way of-watchdog does (docs/domain.md §1.1, §1.6, §2a). It is
//! generic over its listener, its upstream connector (`net`) and its process starter
//! (`fork::Fork`), so the same code runs on tokio TCP with real processes, in memory, and on
//! a simulated network.
//!
//! Deliberate differences from the Go original are listed in `watchdog/README.md`.

// drain.rs is also compiled by faasim-watchdog-loom, under `cfg(loom)` and with its
// planted-bug features; neither exists in this crate, so their cfgs are expected here.
#[allow(unexpected_cfgs)]
pub mod drain;

pub mod body;
pub mod config;
pub mod fork;
pub mod memory;
pub mod net;
mod proxy;
mod server;
mod streaming;

pub use config::Settings;
pub use fork::{CommandFork, Fork, Forked, Invocation};
pub use net::{Accept, Connect, NoUpstream, TcpConnector};
pub use proxy::{IDLE_CONN_TIMEOUT, X_DURATION_SECONDS, X_OPENFAAS_INTERNAL};
pub use server::{Exit, Monitor, Status, Watchdog, WriteTimedOut, go_shutdown_check_at_or_after};

/// The model's life phases, which `Status::phase` reports.
pub use faasim_model::server::Phase;
