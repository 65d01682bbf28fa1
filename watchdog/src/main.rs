//! `faasim-watchdog`: the watchdog on real sockets. Reads of-watchdog's environment variables,
//! listens on `port`, and drains on SIGTERM. In streaming mode (`mode=streaming`, or `mode`
//! unset, as in of-watchdog) it forks `fprocess` for every request, split on spaces as
//! of-watchdog splits it, and logs failed or killed processes on stderr. In HTTP mode
//! (`mode=http`) it proxies to `http_upstream_url` but does not start `fprocess`: start the
//! upstream child yourself.
//!
//! One variable of its own: `FAASIM_WATCHDOG_BIND`, the address to listen on (default
//! `0.0.0.0`, as of-watchdog listens on every interface); tests set `127.0.0.1`.

use std::collections::BTreeMap;
use std::io;
use std::process::ExitCode;

use faasim_model::config::Mode;
use faasim_watchdog::{
    Accept, CommandFork, Connect, Fork, Forked, Invocation, Monitor, Phase, Settings, TcpConnector,
    Watchdog,
};

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
    // HTTP mode dials the upstream; streaming mode has none.
    let connector = match settings.watchdog.mode {
        Mode::Streaming => None,
        Mode::Http => match TcpConnector::from_url(&settings.upstream_url) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("Error loading config: http_upstream_url: {e}");
                return ExitCode::FAILURE;
            }
        },
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

async fn serve(settings: Settings, connector: Option<TcpConnector>, bind: String) -> ExitCode {
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
        "Watchdog mode: {}\tfprocess: {:?}",
        if connector.is_some() {
            "http"
        } else {
            "streaming"
        },
        settings.fprocess
    );
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
    let shutdown = async move {
        sigterm.recv().await;
    };
    let exit = match connector {
        Some(connector) => run(Watchdog::new(settings, connector), listener, shutdown).await,
        None => {
            let fork = Logged(CommandFork::from_fprocess(&settings.fprocess));
            run(Watchdog::streaming(settings, fork), listener, shutdown).await
        }
    };
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

/// Run `watchdog` until its drain ends, logging its phases as of-watchdog does.
async fn run<C: Connect>(
    watchdog: Watchdog<C>,
    listener: impl Accept,
    shutdown: impl Future<Output = ()>,
) -> faasim_watchdog::Exit {
    tokio::spawn(log_phases(watchdog.monitor()));
    watchdog.run(listener, shutdown).await
}

/// Logs what of-watchdog's streaming handler logs on a failed process: a start error, a
/// non-zero exit, or `signal: killed` when the process is killed (at exec_timeout, or because
/// its response was abandoned) before it exits.
struct Logged(CommandFork);

/// Reports a kill if dropped before the process exited.
struct KilledUnlessExited(bool);

impl Drop for KilledUnlessExited {
    fn drop(&mut self) {
        if !self.0 {
            eprintln!("signal: killed");
        }
    }
}

impl Fork for Logged {
    fn fork(&self, invocation: Invocation) -> io::Result<Forked> {
        let forked = self.0.fork(invocation).inspect_err(|e| eprintln!("{e}"))?;
        let (stdout, exit) = forked.into_parts();
        // Made outside the future, so a process killed before its exit is first polled is
        // reported too.
        let exited = KilledUnlessExited(false);
        Ok(Forked::new(stdout, async move {
            let mut exited = exited;
            let result = exit.await;
            exited.0 = true;
            if let Err(e) = &result {
                eprintln!("{e}");
            }
            result
        }))
    }
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
