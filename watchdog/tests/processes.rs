//! Streaming mode with real processes (`CommandFork`, tokio's `process`) on loopback TCP:
//! stdin, stdout, the CGI environment, a command that cannot start, and the kill at
//! exec_timeout. Wall-clock bounds, short timers.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{MS, get, post, send, start_streaming, streaming_settings};
use faasim_watchdog::{CommandFork, TcpConnector};
use hyper::{Method, StatusCode};
use tokio::net::TcpListener;
use tokio::time::{Instant, timeout};

/// Every test is bounded: a hang is a failure, not a stuck CI run.
const LIMIT: Duration = Duration::from_secs(10);

async fn loopback() -> (TcpListener, TcpConnector) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let connector = TcpConnector::new(listener.local_addr().unwrap().to_string());
    (listener, connector)
}

/// A path in cargo's scratch directory for integration tests, unique to this test process.
fn scratch(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faasim-watchdog-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A watchdog on loopback running `fprocess` per request.
async fn watchdog(fprocess: &str, exec_timeout_ns: u64) -> (common::Running, TcpConnector) {
    let (listener, to_watchdog) = loopback().await;
    let settings = streaming_settings(|c| c.exec_timeout_ns = exec_timeout_ns);
    let running = start_streaming(settings, listener, CommandFork::from_fprocess(fprocess));
    (running, to_watchdog)
}

#[tokio::test]
async fn cat_answers_with_the_request_body() {
    timeout(LIMIT, async {
        let (_w, to_watchdog) = watchdog("cat", 2_000 * MS).await;
        let reply = post(&to_watchdog, "/", "hello").await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "hello");
        assert_eq!(
            reply.header("content-type"),
            Some("application/octet-stream")
        );
        // No body: stdin is empty, so cat ends at once.
        let reply = get(&to_watchdog, "/").await.unwrap();
        assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_process_environment_has_the_cgi_variables() {
    timeout(LIMIT, async {
        let (_w, to_watchdog) = watchdog("env", 2_000 * MS).await;
        let reply = send(&to_watchdog, Method::PUT, "/p?q=1", &[("x-call-id", "7")])
            .await
            .unwrap();
        let body = String::from_utf8(reply.body.to_vec()).unwrap();
        let lines: Vec<&str> = body.lines().collect();
        for expected in [
            "Http_Method=PUT",
            "Http_Path=/p",
            "Http_Query=q=1",
            "Http_X_Call_Id=7",
        ] {
            assert!(lines.contains(&expected), "{expected} not in {body}");
        }
        assert!(!lines.iter().any(|l| l.starts_with("Http_Host=")), "{body}");
        // The watchdog's own environment is inherited, as Go's `os.Environ()` is.
        assert!(lines.iter().any(|l| l.starts_with("PATH=")), "{body}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_command_that_cannot_start_still_answers_200_empty() {
    timeout(LIMIT, async {
        let (_w, to_watchdog) = watchdog("/nonexistent/fprocess", 2_000 * MS).await;
        let reply = get(&to_watchdog, "/").await.unwrap();
        assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    })
    .await
    .unwrap();
}

/// One call to `fprocess` (a script that prints `early` then outlives it) under a 200 ms
/// exec_timeout: it answers 200 with `early` alone. When the call started and how long it took.
async fn early_then_killed(fprocess: &str) -> (Instant, Duration) {
    let (_w, to_watchdog) = watchdog(fprocess, 200 * MS).await;
    let started = Instant::now();
    let reply = get(&to_watchdog, "/").await.unwrap();
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "early\n");
    (started, took)
}

#[tokio::test]
async fn exec_timeout_kills_the_shell_and_the_body_ends_when_its_child_closes_stdout() {
    timeout(LIMIT, async {
        let marker = scratch("marker");
        let script = scratch("partial.sh");
        // Killed during the sleep, the shell never reaches `touch`; `sleep`, its child, is not
        // killed and holds stdout until it ends at 500 ms: Go's `cmd.Wait` waits for the pipe,
        // and so does the body (the real of-watchdog answers a 3 s `sleep` with
        // exec_timeout 1s at 3.0 s).
        std::fs::write(&script, "echo early\nsleep 0.5\ntouch \"$1\"\necho late\n").unwrap();
        let fprocess = format!("sh {} {}", script.display(), marker.display());
        let (started, took) = early_then_killed(&fprocess).await;
        assert!(
            took >= Duration::from_millis(480) && took < Duration::from_millis(900),
            "{took:?}"
        );
        // Well after the script would have touched the marker had it lived on.
        tokio::time::sleep_until(started + Duration::from_millis(1100)).await;
        assert!(!marker.exists(), "the process outlived exec_timeout");
        let _ = std::fs::remove_file(&script);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn exec_timeout_ends_the_body_at_the_kill_when_the_process_holds_stdout_alone() {
    timeout(LIMIT, async {
        let script = scratch("alone.sh");
        // `exec` makes the sleep the process itself: the kill closes its stdout.
        std::fs::write(&script, "echo early\nexec sleep 0.5\n").unwrap();
        let fprocess = format!("sh {}", script.display());
        let (_, took) = early_then_killed(&fprocess).await;
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_millis(450),
            "{took:?}"
        );
        let _ = std::fs::remove_file(&script);
    })
    .await
    .unwrap();
}
