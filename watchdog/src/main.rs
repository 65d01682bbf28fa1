//! `faasim-watchdog`: the watchdog on real sockets. Reads of-watchdog's environment variables,
//! listens on `port`, proxies to `http_upstream_url`, and drains on SIGTERM. It does not fork
//! `fprocess`: start the upstream child yourself.
//!
//! One variable of its own: `FAASIM_WATCHDOG_BIND`, the address to listen on (default
//! `0.0.0.0`, as of-watchdog listens on every interface); tests set `127.0.0.1`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use faasim_watchdog::{Monitor, Phase, Settings, TcpConnector, Watchdog};

fn main() -> ExitCode {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let (settings, warnings) = match Settings::from_env(&env) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("Error loading config: {}: {}", e.key, e.message);
            return ExitCode::FAILURE;
        }
    };
    for w in &warnings {
        eprintln!("warning: {}: {}", w.key, w.message);
    }
    let connector = match TcpConnector::from_url(&settings.upstream_url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error loading config: http_upstream_url: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bind = env
        .get("FAASIM_WATCHDOG_BIND")
        .cloned()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    runtime.block_on(serve(settings, connector, bind))
}

async fn serve(settings: Settings, connector: TcpConnector, bind: String) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind((bind.as_str(), settings.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error ListenAndServe: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Only SIGTERM drains, as in of-watchdog; SIGINT keeps its default (immediate exit).
    let mut sigterm = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot handle SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    let w = &settings.watchdog;
    eprintln!(
        "Timeouts: read: {} write: {} hard: {} health: {}",
        faasim_model::duration::format_go(w.read_timeout_ns as i64),
        faasim_model::duration::format_go(w.write_timeout_ns as i64),
        faasim_model::duration::format_go(w.exec_timeout_ns as i64),
        faasim_model::duration::format_go(w.healthcheck_interval_ns),
    );
    eprintln!(
        "Listening on port: {}",
        listener.local_addr().map_or(0, |a| a.port())
    );
    let watchdog = Watchdog::new(settings, connector);
    tokio::spawn(log_phases(watchdog.monitor()));
    let exit = watchdog
        .run(listener, async move {
            sigterm.recv().await;
        })
        .await;
    eprintln!(
        "Exiting. Active connections: {}{}",
        exit.requests_at_exit,
        if exit.drained {
            ""
        } else {
            " (Error in Shutdown: context deadline exceeded)"
        }
    );
    ExitCode::SUCCESS
}

/// of-watchdog's drain log lines, from the watchdog's published phases.
async fn log_phases(mut monitor: Monitor) {
    monitor.wait_for(|s| s.phase == Phase::Draining).await;
    eprintln!("SIGTERM: no new connections in healthcheck_interval");
    monitor.wait_for(|s| s.phase == Phase::ShuttingDown).await;
    eprintln!(
        "No new connections allowed, draining: {} requests",
        monitor.requests_in_flight()
    );
}
