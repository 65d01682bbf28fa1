//! faasim's own watchdog through the user-server API: the watchdog on the pod's listener, in
//! front of a child HTTP server (on an in-memory pipe) whose handler sleeps the scenario's
//! handler duration.
//!
//! `cargo run -p faasim-turmoil --example watchdog_server [FILE]` (default
//! `scenarios/go-long.yaml`).

use std::convert::Infallible;
use std::path::PathBuf;

use faasim_sim::scenario;
use faasim_turmoil::server::{handler_delay, run_server_scenario};
use faasim_watchdog::memory::{self, MemoryListener};
use faasim_watchdog::{Accept, Settings, Watchdog};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The function's process: answers every request after the handler duration.
async fn child(mut listener: MemoryListener) {
    while let Ok(io) = listener.accept().await {
        tokio::spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                tokio::time::sleep(handler_delay(req.headers())).await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done\n"))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(io), service)
                .await;
        });
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/go-long.yaml")
        });
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let seed = scenario.seed.unwrap_or(1);
    let settings = Settings::new(
        scenario.config.function.watchdog.clone(),
        "http://127.0.0.1:8082",
    );
    let run = run_server_scenario(&scenario, seed, move |listener, shutdown| {
        let settings = settings.clone();
        async move {
            let (child_listener, connector) = memory::listener();
            let child = tokio::spawn(child(child_listener));
            let exit = Watchdog::new(settings, connector)
                .run(listener, shutdown)
                .await;
            child.abort();
            println!("  watchdog exits: drained {}", exit.drained);
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    println!("scenario: {} (seed {seed})", path.display());
    println!(
        "watchdog through the API: {}",
        if run.passed() { "PASS" } else { "FAIL" }
    );
    for v in &run.violations {
        println!(
            "  violates {}: {} requests, pods {:?}",
            v.property.name(),
            v.requests.len(),
            v.pods
        );
    }
}
