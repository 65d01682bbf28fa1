//! A plain axum service on Kubernetes, through the workbench: does it drain correctly?
//!
//! `cargo run -p faasim-turmoil --example axum_server [FILE]` (default
//! `scenarios/mechanism-02-routed-after-listener-closed.yaml`) runs the scenario twice with
//! `axum::serve(listener, app).with_graceful_shutdown(shutdown)` in every pod:
//!
//! 1. as usually written: at SIGTERM axum closes its listener at once, but the gateway keeps
//!    routing to the pod until the endpoint lag has passed, so those connections are refused
//!    (mechanism 2, property `no-refused-routing`);
//! 2. with a drain delay: the shutdown signal is held back by the scenario's endpoint lag, so
//!    the pod keeps serving until nobody routes to it any more, then shuts down gracefully.

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use faasim_model::ledger::Status;
use faasim_sim::{Run, scenario};
use faasim_turmoil::server::{Listener, Shutdown, handler_delay, run_server_scenario};

/// The function: sleep the scenario's handler duration, answer 200.
fn app() -> Router {
    Router::new().fallback(any(|headers: axum::http::HeaderMap| async move {
        tokio::time::sleep(handler_delay(&headers)).await;
        "done\n"
    }))
}

/// axum as usually written.
async fn plain(listener: Listener, shutdown: Shutdown) {
    let _ = axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await;
}

/// The same service, still serving for `drain` after SIGTERM before shutting down gracefully.
async fn with_drain_delay(listener: Listener, shutdown: Shutdown, drain: Duration) {
    let signal = async move {
        shutdown.await;
        tokio::time::sleep(drain).await;
    };
    let _ = axum::serve(listener, app())
        .with_graceful_shutdown(signal)
        .await;
}

fn report(label: &str, run: &Run) {
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for r in &run.result.ledger {
        let status = match r.status {
            Some(Status::Code(code)) => code.to_string(),
            Some(Status::Error) => "error".into(),
            None => "unfinished".into(),
        };
        *codes.entry(status).or_default() += 1;
    }
    let verdict = if run.passed() { "PASS" } else { "FAIL" };
    println!("{label}: {verdict}  responses {codes:?}");
    for v in &run.violations {
        println!(
            "  violates {}: {} requests, pods {:?}",
            v.property.name(),
            v.requests.len(),
            v.pods
        );
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../scenarios/mechanism-02-routed-after-listener-closed.yaml")
        });
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let seed = scenario.seed.unwrap_or(1);
    println!("scenario: {} (seed {seed})", path.display());

    let run = run_server_scenario(&scenario, seed, plain).unwrap_or_else(|e| panic!("{e}"));
    report("axum::serve(..).with_graceful_shutdown(sigterm)", &run);

    let drain = Duration::from_nanos(scenario.config.kubernetes.endpoint_lag_ns.hi_ns);
    let run = run_server_scenario(&scenario, seed, move |listener, shutdown| {
        with_drain_delay(listener, shutdown, drain)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    report(
        &format!(
            "same, graceful shutdown {:.1}s after SIGTERM",
            drain.as_secs_f64()
        ),
        &run,
    );
}
