//! Streaming mode under paused tokio time, with in-memory connections and in-memory
//! processes (`common::ScriptedFork`): exec_timeout kills, write_timeout, the limiter, the
//! CGI environment and the drain, every instant asserted exactly.

mod common;

use std::io;
use std::time::Duration;

use common::{MS, ProcessLog, ScriptedFork, get, post, send, start_streaming, streaming_settings};
use faasim_model::config::WatchdogConfig;
use faasim_watchdog::memory::{self, MemoryConnector};
use faasim_watchdog::{Forked, Invocation, Monitor};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

const SECOND: u64 = 1_000 * MS;

/// A streaming watchdog and its processes, all in memory.
fn world(
    tweak: impl FnOnce(&mut WatchdogConfig),
) -> (common::Running, MemoryConnector, ProcessLog) {
    let (fork, log) = ScriptedFork::new();
    let (listener, to_watchdog) = memory::listener();
    let running = start_streaming(streaming_settings(tweak), listener, fork);
    (running, to_watchdog, log)
}

/// Let every ready task run without letting time pass, until `condition` holds; a
/// condition that never holds fails the test instead of spinning forever (time cannot
/// advance while this task keeps yielding).
async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition never held");
}

async fn one_request_in_flight(monitor: &Monitor) {
    until(|| monitor.requests_in_flight() == 1).await;
}

/// A response with the instants its head and its end arrived.
struct Timed {
    /// The status.
    status: StatusCode,
    /// The headers.
    headers: HeaderMap,
    /// When the head arrived.
    head_at: Instant,
    /// The whole body, or the error that ended it.
    body: Result<Bytes, hyper::Error>,
    /// When the body ended.
    end_at: Instant,
}

async fn timed_get(to_watchdog: &MemoryConnector, path: &str) -> Timed {
    let io = to_watchdog.dial().unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::get(path)
        .header("host", "watchdog")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let head_at = Instant::now();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes());
    Timed {
        status: parts.status,
        headers: parts.headers,
        head_at,
        body,
        end_at: Instant::now(),
    }
}

#[tokio::test(start_paused = true)]
async fn exec_timeout_kills_a_slow_process_and_answers_200_empty_at_exactly_exec_timeout() {
    let (_w, to_watchdog, log) = world(|c| {
        c.exec_timeout_ns = 2 * SECOND;
        c.write_timeout_ns = 10 * SECOND;
    });
    let t0 = Instant::now();
    let reply = get(&to_watchdog, "/?ms=10000").await.unwrap();
    assert_eq!(Instant::now(), t0 + Duration::from_secs(2));
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    // None of HTTP mode's internal headers: the 200 is the function's own, implicit.
    assert_eq!(reply.header("x-duration-seconds"), None);
    assert_eq!(reply.header("x-openfaas-internal"), None);
    until(|| !log.killed_at().is_empty()).await;
    assert_eq!(log.killed_at(), [t0 + Duration::from_secs(2)]);
    assert!(log.exited_at().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_process_killed_after_some_output_gives_200_with_the_partial_body() {
    let (_w, to_watchdog, log) = world(|c| {
        c.exec_timeout_ns = 2 * SECOND;
        c.write_timeout_ns = 10 * SECOND;
    });
    let t0 = Instant::now();
    let reply = timed_get(&to_watchdog, "/?out=early&ms=10000").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    // The head goes out with the first output, the end at the kill: a complete body, cut.
    assert_eq!(reply.head_at, t0);
    assert_eq!(reply.body.unwrap(), "early\n");
    assert_eq!(reply.end_at, t0 + Duration::from_secs(2));
    until(|| !log.killed_at().is_empty()).await;
    assert_eq!(log.killed_at(), [t0 + Duration::from_secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_fast_process_answers_200_with_its_whole_output_when_it_exits() {
    let (_w, to_watchdog, log) = world(|c| c.exec_timeout_ns = 2 * SECOND);
    let t0 = Instant::now();
    let reply = timed_get(&to_watchdog, "/?out=early&ms=500").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.head_at, t0);
    assert_eq!(reply.body.unwrap(), "early\ndone\n");
    assert_eq!(reply.end_at, t0 + Duration::from_millis(500));
    assert_eq!(log.exited_at(), [t0 + Duration::from_millis(500)]);
    assert!(log.killed_at().is_empty());
    // A failed exit is only logged by of-watchdog: still 200 with the output.
    let reply = get(&to_watchdog, "/?exit=1").await.unwrap();
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"done\n"[..])
    );
}

#[tokio::test(start_paused = true)]
async fn x_timeout_does_not_lower_exec_timeout_in_streaming_mode() {
    let (_w, to_watchdog, log) = world(|c| {
        c.exec_timeout_ns = 3 * SECOND;
        c.write_timeout_ns = 10 * SECOND;
    });
    let t0 = Instant::now();
    let reply = send(
        &to_watchdog,
        Method::GET,
        "/?ms=2000",
        &[("x-timeout", "1s")],
    )
    .await
    .unwrap();
    assert_eq!(Instant::now(), t0 + Duration::from_secs(2));
    assert_eq!(reply.body, "done\n");
    assert!(log.killed_at().is_empty());
}

#[tokio::test(start_paused = true)]
async fn zero_exec_timeout_lets_the_process_run_to_its_end() {
    let (_w, to_watchdog, _log) = world(|c| {
        c.exec_timeout_ns = 0;
        c.write_timeout_ns = 100 * SECOND;
    });
    let t0 = Instant::now();
    let reply = get(&to_watchdog, "/?ms=60000").await.unwrap();
    assert_eq!(Instant::now(), t0 + Duration::from_secs(60));
    assert_eq!(reply.body, "done\n");
}

#[tokio::test(start_paused = true)]
async fn a_first_output_after_write_timeout_closes_the_connection_without_a_response() {
    let (_w, to_watchdog, log) = world(|c| {
        c.write_timeout_ns = SECOND;
        c.exec_timeout_ns = 5 * SECOND;
    });
    let t0 = Instant::now();
    assert!(get(&to_watchdog, "/?ms=3000").await.is_err());
    // As in HTTP mode: closed when the head is ready, not at the deadline; the process ran on.
    assert_eq!(Instant::now(), t0 + Duration::from_secs(3));
    assert_eq!(log.exited_at(), [t0 + Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn a_first_output_exactly_at_write_timeout_is_written_whole() {
    // Equality is safe, as in the model: the head and the output ready at the deadline
    // instant go out together.
    let (_w, to_watchdog, _log) = world(|c| {
        c.write_timeout_ns = 2 * SECOND;
        c.exec_timeout_ns = 5 * SECOND;
    });
    let t0 = Instant::now();
    let reply = get(&to_watchdog, "/?ms=2000").await.unwrap();
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"done\n"[..])
    );
    assert_eq!(Instant::now(), t0 + Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_body_cut_at_write_timeout_leaves_its_process_running_to_its_next_write() {
    // Go's copy to the response fails at the write deadline and `exec` closes the pipe, but
    // nothing kills the process: it runs on, holding its slot, and dies at its next write
    // (EPIPE here; SIGPIPE for a shell), when `cmd.Wait` returns.
    let (w, to_watchdog, log) = world(|c| {
        c.write_timeout_ns = SECOND;
        c.exec_timeout_ns = 5 * SECOND;
    });
    let t0 = Instant::now();
    let reply = timed_get(&to_watchdog, "/?out=early&ms=3000").await;
    assert_eq!((reply.status, reply.head_at), (StatusCode::OK, t0));
    assert!(reply.body.is_err());
    assert_eq!(reply.end_at, t0 + Duration::from_secs(1));
    tokio::time::sleep_until(t0 + Duration::from_millis(2_999)).await;
    assert!(log.killed_at().is_empty());
    assert_eq!(w.monitor.requests_in_flight(), 1);
    tokio::time::sleep_until(t0 + Duration::from_secs(3)).await;
    until(|| !log.killed_at().is_empty()).await;
    assert_eq!(log.killed_at(), [t0 + Duration::from_secs(3)]);
    until(|| w.monitor.requests_in_flight() == 0).await;
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_leaves_does_not_end_its_process_nor_the_drain() {
    // The caller goes at 1 s; the process (no output until its end at 5 s) runs on, and
    // SIGTERM's drain waits for it: the watchdog exits at the first Shutdown check after 5 s.
    let (mut w, to_watchdog, log) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 10 * SECOND;
        c.exec_timeout_ns = 10 * SECOND;
    });
    let t0 = Instant::now();
    let request = tokio::spawn(async move { get(&to_watchdog, "/?ms=5000").await });
    one_request_in_flight(&w.monitor).await;
    tokio::time::sleep_until(t0 + Duration::from_secs(1)).await;
    request.abort();
    let _ = request.await;
    w.sigterm();
    let exit = w.exit.await.unwrap();
    assert!(exit.drained);
    // Its one write, at its end, finds the pipe closed: it dies there (EPIPE), at 5 s.
    assert_eq!(log.killed_at(), [t0 + Duration::from_secs(5)]);
    // Shutdown began at 2 s; its checks come at 2 s + 1, 3, 7, ... ms, then every 500 ms.
    assert_eq!(
        exit.exited_at,
        faasim_watchdog::go_shutdown_check_at_or_after(
            t0 + Duration::from_secs(2),
            t0 + Duration::from_secs(5)
        )
    );
}

#[tokio::test(start_paused = true)]
async fn max_inflight_answers_429_while_a_process_streams() {
    let (w, to_watchdog, log) = world(|c| {
        c.max_inflight = 1;
        c.exec_timeout_ns = 5 * SECOND;
    });
    let first = tokio::spawn({
        let to_watchdog = to_watchdog.clone();
        async move { timed_get(&to_watchdog, "/?out=early&ms=1000").await }
    });
    one_request_in_flight(&w.monitor).await;
    // Its head is out (first output at once), yet its slot is held until the body ends.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = get(&to_watchdog, "/").await.unwrap();
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body,
        "Concurrent request limit exceeded. Max concurrent requests: 1\n"
    );
    assert_eq!(
        refused.header("x-openfaas-internal"),
        Some("faas-middleware")
    );
    assert_eq!(
        get(&to_watchdog, "/_/ready").await.unwrap().status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(log.started().len(), 1);
    let first = first.await.unwrap();
    assert_eq!(first.body.unwrap(), "early\ndone\n");
    until(|| w.monitor.requests_in_flight() == 0).await;
    assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn drain_waits_for_an_in_flight_process_and_exits_at_go_next_check() {
    let (mut w, to_watchdog, _log) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 30 * SECOND;
        c.exec_timeout_ns = 10 * SECOND;
    });
    let request = tokio::spawn(async move { get(&to_watchdog, "/?ms=1100").await });
    one_request_in_flight(&w.monitor).await;
    let t0 = Instant::now();
    w.sigterm();
    let reply = request.await.unwrap().unwrap();
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"done\n"[..])
    );
    assert_eq!(Instant::now(), t0 + Duration::from_millis(1100));
    let exit = w.exit.await.unwrap();
    let closed = t0 + Duration::from_secs(1);
    assert_eq!(exit.listener_closed_at, closed);
    // Drained 100 ms after the close; Go checks at +0, 1, 3, 7, ..., 63, 127 ms.
    assert_eq!(exit.exited_at, closed + Duration::from_millis(127));
    assert!(exit.drained);
}

#[tokio::test(start_paused = true)]
async fn the_exit_at_the_shutdown_deadline_kills_a_process_still_running() {
    let (mut w, to_watchdog, log) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 2 * SECOND;
        c.exec_timeout_ns = 0;
    });
    let request = tokio::spawn(async move { get(&to_watchdog, "/?ms=3600000").await });
    one_request_in_flight(&w.monitor).await;
    let t0 = Instant::now();
    w.sigterm();
    let exit = w.exit.await.unwrap();
    assert_eq!(exit.exited_at, t0 + Duration::from_secs(3));
    assert!(!exit.drained);
    assert_eq!(exit.requests_at_exit, 1);
    assert!(request.await.unwrap().is_err());
    until(|| !log.killed_at().is_empty()).await;
    assert_eq!(log.killed_at(), [t0 + Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn the_request_body_is_the_process_stdin() {
    let (_w, to_watchdog, _log) = world(|_| {});
    let reply = post(&to_watchdog, "/?echo", "hello").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "hellodone\n");
}

#[tokio::test(start_paused = true)]
async fn the_process_gets_of_watchdog_cgi_variables() {
    let (_w, to_watchdog, log) = world(|_| {});
    let reply = send(
        &to_watchdog,
        Method::DELETE,
        "/fn/a%20b?x=1&y=2",
        &[("x-call-id", "abc")],
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let started = &log.started()[0];
    assert_eq!(started.target, "/fn/a%20b?x=1&y=2");
    assert_eq!(started.env("Http_Method"), Some("DELETE"));
    assert_eq!(started.env("Http_Path"), Some("/fn/a b"));
    assert_eq!(started.env("Http_Query"), Some("x=1&y=2"));
    assert_eq!(started.env("Http_X_Call_Id"), Some("abc"));
    // Go's server moves Host out of the header map before the handler sees it.
    assert_eq!(started.env("Http_Host"), None);
}

#[tokio::test(start_paused = true)]
async fn a_process_that_cannot_start_still_gets_200_with_content_type() {
    let (listener, to_watchdog) = memory::listener();
    let mut settings = streaming_settings(|_| {});
    settings.content_type = "text/plain".to_string();
    let cannot_start = |_: Invocation| -> io::Result<Forked> {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
    };
    let _w = start_streaming(settings, listener, cannot_start);
    let reply = get(&to_watchdog, "/").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("content-type"), Some("text/plain"));
}

#[tokio::test(start_paused = true)]
async fn ready_path_forks_a_get_on_that_path() {
    let (fork, log) = ScriptedFork::new();
    let (listener, to_watchdog) = memory::listener();
    let mut settings = streaming_settings(|_| {});
    settings.ready_path = "/ready".to_string();
    let w = start_streaming(settings, listener, fork);
    until(|| w.monitor.healthy()).await;
    let reply = get(&to_watchdog, "/_/ready").await.unwrap();
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"done\n"[..])
    );
    let started = &log.started()[0];
    assert_eq!(started.target, "/ready");
    assert_eq!(started.env("Http_Path"), Some("/ready"));
    // Outside the limiter, as in of-watchdog.
    assert_eq!(w.monitor.requests_in_flight(), 0);
}
