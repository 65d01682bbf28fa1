//! The `faasim-watchdog` binary end to end on loopback: configured from the environment,
//! proxying to a child (HTTP mode) or forking a script per request (streaming mode), draining
//! on a real SIGTERM and exiting 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{get, post, spawn_upstream};
use faasim_watchdog::TcpConnector;
use hyper::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const LIMIT: Duration = Duration::from_secs(20);

/// Kills the child if the test fails half-way.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn next_line_with(lines: &mut mpsc::UnboundedReceiver<String>, needle: &str) -> String {
    while let Some(line) = lines.recv().await {
        if line.contains(needle) {
            return line;
        }
    }
    panic!("the watchdog's stderr ended before {needle:?}");
}

/// The binary, started with `env` (and nothing else but `PATH`), listening on loopback
/// and healthy: the process, its stderr lines, and a connector to it.
async fn start_binary(
    env: &[(&str, &str)],
) -> (Child, mpsc::UnboundedReceiver<String>, TcpConnector) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faasim-watchdog"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FAASIM_WATCHDOG_BIND", "127.0.0.1")
        .env("port", "0")
        .envs(env.iter().copied())
        .stderr(Stdio::piped());
    let mut process = Child(command.spawn().unwrap());
    let stderr = process.0.stderr.take().unwrap();
    let (tx, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let listening = next_line_with(&mut lines, "Listening on port: ").await;
    let port = listening
        .rsplit(' ')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let to_watchdog = TcpConnector::new(format!("127.0.0.1:{port}"));
    // As in of-watchdog, the process is healthy only once the lock is written, just
    // after it starts serving: a first probe may see 503.
    while get(&to_watchdog, "/_/health").await.unwrap().status != StatusCode::OK {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (process, lines, to_watchdog)
}

/// SIGTERM to the binary, by `kill` as the kubelet's runtime would send it.
fn sigterm(process: &Child) {
    let pid = process.0.id();
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// SIGTERM, then the drain's log lines and a 0 exit.
async fn sigterm_and_exit(mut process: Child, lines: &mut mpsc::UnboundedReceiver<String>) {
    sigterm(&process);
    next_line_with(lines, "SIGTERM: no new connections").await;
    next_line_with(lines, "Exiting. Active connections: 0").await;
    let status = tokio::task::spawn_blocking(move || process.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn the_binary_serves_then_drains_on_sigterm() {
    timeout(LIMIT, async {
        let child_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let child_addr = child_listener.local_addr().unwrap();
        spawn_upstream(child_listener);

        let upstream_url = format!("http://{child_addr}");
        let (mut process, mut lines, to_watchdog) = start_binary(&[
            ("mode", "http"),
            ("upstream_url", &upstream_url),
            ("healthcheck_interval", "300ms"),
            ("write_timeout", "5s"),
            ("exec_timeout", "2s"),
        ])
        .await;
        let reply = get(&to_watchdog, "/?ms=1").await.unwrap();
        assert_eq!(
            (reply.status, &reply.body[..]),
            (StatusCode::OK, &b"done"[..])
        );

        let signalled = Instant::now();
        sigterm(&process);
        next_line_with(&mut lines, "SIGTERM: no new connections").await;
        assert_eq!(
            get(&to_watchdog, "/_/health").await.unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        next_line_with(&mut lines, "Exiting. Active connections: 0").await;
        let status = tokio::task::spawn_blocking(move || process.0.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{status}");
        assert!(signalled.elapsed() >= Duration::from_millis(300));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_binary_forks_fprocess_per_request_in_streaming_mode() {
    timeout(LIMIT, async {
        // of-watchdog splits fprocess on spaces, so the shell logic lives in a script; it
        // routes on the CGI variable Http_Path, as forked functions do.
        let script = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("faasim-watchdog-{}-binary.sh", std::process::id()));
        std::fs::write(
            &script,
            "case \"$Http_Path\" in\n  /echo) exec cat ;;\n  *) echo early; exec sleep 5 ;;\nesac\n",
        )
        .unwrap();
        let fprocess = format!("sh {}", script.display());
        let (process, mut lines, to_watchdog) = start_binary(&[
            ("mode", "streaming"),
            ("fprocess", &fprocess),
            ("content_type", "text/plain"),
            ("healthcheck_interval", "100ms"),
            ("write_timeout", "5s"),
            ("exec_timeout", "500ms"),
        ])
        .await;

        let reply = post(&to_watchdog, "/echo", "hello").await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "hello");
        assert_eq!(reply.header("content-type"), Some("text/plain"));

        // Killed at exec_timeout: a 200 with what it wrote, and of-watchdog's log line.
        let started = Instant::now();
        let reply = get(&to_watchdog, "/slow").await.unwrap();
        let took = started.elapsed();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "early\n");
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(4),
            "{took:?}"
        );
        next_line_with(&mut lines, "signal: killed").await;

        sigterm_and_exit(process, &mut lines).await;
        let _ = std::fs::remove_file(&script);
    })
    .await
    .unwrap();
}
