//! The `faasim-watchdog` binary end to end on loopback: configured from the environment,
//! proxying to a child, draining on a real SIGTERM and exiting 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{get, spawn_upstream};
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

#[tokio::test]
async fn the_binary_serves_then_drains_on_sigterm() {
    timeout(LIMIT, async {
        let child_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let child_addr = child_listener.local_addr().unwrap();
        spawn_upstream(child_listener);

        let process = Command::new(env!("CARGO_BIN_EXE_faasim-watchdog"))
            .env_clear()
            .env("FAASIM_WATCHDOG_BIND", "127.0.0.1")
            .env("port", "0")
            .env("mode", "http")
            .env("upstream_url", format!("http://{child_addr}"))
            .env("healthcheck_interval", "300ms")
            .env("write_timeout", "5s")
            .env("exec_timeout", "2s")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut process = Child(process);
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
        let reply = get(&to_watchdog, "/?ms=1").await.unwrap();
        assert_eq!(
            (reply.status, &reply.body[..]),
            (StatusCode::OK, &b"done"[..])
        );

        let signalled = Instant::now();
        let pid = process.0.id();
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(killed.success());
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
