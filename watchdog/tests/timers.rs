//! The watchdog's timers under paused tokio time, on in-memory connections: every instant is
//! asserted exactly and nothing sleeps on the wall clock (tokio jumps to the next timer).

mod common;

use std::time::Duration;

use common::{KeepAlive, MS, get, settings, spawn_upstream, start};
use faasim_model::config::WatchdogConfig;
use faasim_watchdog::memory::{self, MemoryConnector};
use faasim_watchdog::{Monitor, Phase, Watchdog, go_shutdown_check_at_or_after};
use hyper::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use tokio_test::assert_pending;

const SECOND: u64 = 1_000 * MS;

/// A child and a watchdog, both in memory.
fn world(tweak: impl FnOnce(&mut WatchdogConfig)) -> (common::Running, MemoryConnector) {
    let (child_listener, to_child) = memory::listener();
    spawn_upstream(child_listener);
    let (listener, to_watchdog) = memory::listener();
    let running = start(settings("http://child:8082", tweak), listener, to_child);
    (running, to_watchdog)
}

/// Let every ready task run without letting time pass.
async fn until(mut condition: impl FnMut() -> bool) {
    while !condition() {
        tokio::task::yield_now().await;
    }
}

async fn one_request_in_flight(monitor: &Monitor) {
    until(|| monitor.requests_in_flight() == 1).await;
}

#[tokio::test(start_paused = true)]
async fn listener_closes_exactly_healthcheck_interval_after_the_signal() {
    let hc = Duration::from_secs(5);
    let (mut w, to_watchdog) = world(|c| {
        c.healthcheck_interval_ns = (5 * SECOND) as i64;
        c.read_timeout_ns = 60 * SECOND;
    });
    // A keep-alive client that made one request before the signal.
    let mut client = KeepAlive::connect(&to_watchdog).await.unwrap();
    assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);
    let t0 = Instant::now();
    w.sigterm();
    let status = w.monitor.wait_for(|s| s.signalled_at.is_some()).await;
    assert_eq!(status.signalled_at, Some(t0));
    assert!(!w.monitor.healthy());

    tokio::time::sleep_until(t0 + hc - Duration::from_millis(1)).await;
    assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);

    let status = w.monitor.wait_for(|s| s.listener_closed_at.is_some()).await;
    assert_eq!(status.listener_closed_at, Some(t0 + hc));
    assert_eq!(Instant::now(), t0 + hc);
    assert_eq!(
        to_watchdog.dial().unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    // The idle keep-alive connection is closed at once and nothing else is open, so Go's
    // first quiescence check, at the close itself, lets the process exit.
    client.wait_closed().await;
    let exit = w.exit.await.unwrap();
    assert!(exit.drained);
    assert_eq!(exit.exited_at, t0 + hc);
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_at_healthcheck_interval_plus_write_timeout_with_a_request_stuck() {
    let (mut w, to_watchdog) = world(|c| {
        c.healthcheck_interval_ns = (5 * SECOND) as i64;
        c.write_timeout_ns = 30 * SECOND;
        c.exec_timeout_ns = 0;
    });
    let stuck = tokio::spawn(async move { get(&to_watchdog, "/?ms=3600000").await });
    one_request_in_flight(&w.monitor).await;
    let t0 = Instant::now();
    w.sigterm();
    let exit = w.exit.await.unwrap();
    assert_eq!(exit.listener_closed_at, t0 + Duration::from_secs(5));
    assert_eq!(exit.exited_at, t0 + Duration::from_secs(35));
    assert!(!exit.drained);
    assert_eq!(exit.connections_at_exit, 1);
    assert_eq!(exit.requests_at_exit, 1);
    // The exit drops the connection: the client gets no response, at that same instant.
    assert!(stuck.await.unwrap().is_err());
    assert_eq!(Instant::now(), t0 + Duration::from_secs(35));
}

#[tokio::test(start_paused = true)]
async fn exec_timeout_answers_504_at_exactly_exec_timeout() {
    let (_w, to_watchdog) = world(|c| {
        c.exec_timeout_ns = 2 * SECOND;
        c.write_timeout_ns = 10 * SECOND;
    });
    let sent = Instant::now();
    let reply = get(&to_watchdog, "/?ms=10000").await.unwrap();
    assert_eq!(Instant::now(), sent + Duration::from_secs(2));
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(reply.header("x-duration-seconds"), Some("2.000000"));
    assert_eq!(reply.header("x-openfaas-internal"), Some("of-watchdog"));
}

#[tokio::test(start_paused = true)]
async fn write_timeout_closes_when_the_handler_returns_not_at_the_deadline() {
    let (_w, to_watchdog) = world(|c| {
        c.write_timeout_ns = SECOND;
        c.exec_timeout_ns = 5 * SECOND;
    });
    let sent = Instant::now();
    assert!(get(&to_watchdog, "/?ms=3000").await.is_err());
    assert_eq!(Instant::now(), sent + Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_drained_watchdog_exits_at_go_next_quiescence_check() {
    let (mut w, to_watchdog) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 30 * SECOND;
        c.exec_timeout_ns = 10 * SECOND;
    });
    let request = tokio::spawn(async move { get(&to_watchdog, "/?ms=1100").await });
    one_request_in_flight(&w.monitor).await;
    let t0 = Instant::now();
    w.sigterm();
    let reply = request.await.unwrap().unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(Instant::now(), t0 + Duration::from_millis(1100));
    let exit = w.exit.await.unwrap();
    let closed = t0 + Duration::from_secs(1);
    assert_eq!(exit.listener_closed_at, closed);
    // Drained 100 ms after the close; Go checks at +0, 1, 3, 7, ..., 63, 127 ms.
    assert_eq!(exit.exited_at, closed + Duration::from_millis(127));
    assert!(exit.drained);
}

#[tokio::test(start_paused = true)]
async fn a_new_connection_without_a_request_holds_shutdown_for_five_seconds() {
    let (mut w, to_watchdog) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 30 * SECOND;
        // Longer than 5 s, or read_timeout would close the silent connection first (Go's
        // ReadTimeout applies to a new connection's first request too).
        c.read_timeout_ns = 60 * SECOND;
    });
    let t0 = Instant::now();
    w.sigterm();
    tokio::time::sleep_until(t0 + Duration::from_millis(500)).await;
    // Connected before the close, silent after it: Go's StateNew.
    let silent = to_watchdog.dial().unwrap();
    until(|| w.monitor.connections() == 1).await;
    let exit = w.exit.await.unwrap();
    let closed = t0 + Duration::from_secs(1);
    let five_seconds_old = t0 + Duration::from_millis(5_500);
    assert_eq!(
        exit.exited_at,
        go_shutdown_check_at_or_after(closed, five_seconds_old)
    );
    assert_eq!(exit.exited_at, closed + Duration::from_millis(4_511));
    assert!(exit.drained);
    drop(silent);
}

#[tokio::test(start_paused = true)]
async fn a_new_connection_may_still_send_its_request_after_the_close() {
    let (mut w, to_watchdog) = world(|c| {
        c.healthcheck_interval_ns = SECOND as i64;
        c.write_timeout_ns = 30 * SECOND;
    });
    let t0 = Instant::now();
    w.sigterm();
    tokio::time::sleep_until(t0 + Duration::from_millis(900)).await;
    let mut io = to_watchdog.dial().unwrap();
    until(|| w.monitor.connections() == 1).await;
    tokio::time::sleep_until(t0 + Duration::from_secs(2)).await;
    assert_eq!(w.monitor.status().phase, Phase::ShuttingDown);
    io.write_all(b"GET /?ms=10 HTTP/1.1\r\nhost: w\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut io, &mut response)
        .await
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    let exit = w.exit.await.unwrap();
    assert!(exit.drained);
}

#[tokio::test(start_paused = true)]
async fn read_timeout_closes_an_idle_keep_alive_connection_exactly() {
    let (_w, to_watchdog) = world(|c| c.read_timeout_ns = 2 * SECOND);
    let mut client = KeepAlive::connect(&to_watchdog).await.unwrap();
    assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);
    let idle_from = Instant::now();
    client.wait_closed().await;
    assert_eq!(Instant::now(), idle_from + Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn zero_healthcheck_interval_keeps_the_listener_open_forever() {
    let (child_listener, to_child) = memory::listener();
    spawn_upstream(child_listener);
    let (listener, to_watchdog) = memory::listener();
    let watchdog = Watchdog::new(
        settings("http://child:8082", |c| c.healthcheck_interval_ns = 0),
        to_child,
    );
    let monitor = watchdog.monitor();
    // The signal is already there when it starts.
    let mut run = tokio_test::task::spawn(watchdog.run(listener, async {}));
    assert_pending!(run.poll());
    assert_eq!(monitor.status().phase, Phase::Draining);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_pending!(run.poll());
    assert_eq!(monitor.status().listener_closed_at, None);
    assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    assert_pending!(run.poll());
}

#[tokio::test(start_paused = true)]
async fn healthcheck_interval_timer_is_the_only_thing_between_signal_and_close() {
    // The same sequence, polled by hand: pending until exactly hc, then done (nothing open).
    let (listener, _to_watchdog) = memory::listener();
    let (_child_listener, to_child) = memory::listener();
    let watchdog = Watchdog::new(
        settings("http://child:8082", |c| {
            c.healthcheck_interval_ns = (3 * SECOND) as i64
        }),
        to_child,
    );
    let t0 = Instant::now();
    let mut run = tokio_test::task::spawn(watchdog.run(listener, async {}));
    assert_pending!(run.poll());
    tokio::time::advance(Duration::from_millis(2_999)).await;
    assert_pending!(run.poll());
    tokio::time::advance(Duration::from_millis(1)).await;
    // The accept task must see the close before `run` can go on: give it turns, no time.
    let exit = loop {
        if run.is_woken()
            && let std::task::Poll::Ready(exit) = run.poll()
        {
            break exit;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(Instant::now(), t0 + Duration::from_secs(3));
    assert_eq!(exit.listener_closed_at, t0 + Duration::from_secs(3));
    assert_eq!(exit.exited_at, exit.listener_closed_at);
}

#[tokio::test(start_paused = true)]
async fn the_old_fixed_wait_watchdog_lingers_a_second_write_timeout() {
    let (mut w, to_watchdog) = world(|c| {
        c.kind = faasim_model::config::WatchdogKind::FixedWait;
        c.write_timeout_ns = 10 * SECOND;
        c.read_timeout_ns = 60 * SECOND;
    });
    let t0 = Instant::now();
    w.sigterm();
    tokio::time::sleep_until(t0 + Duration::from_millis(9_999)).await;
    assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    let exit = w.exit.await.unwrap();
    assert_eq!(exit.listener_closed_at, t0 + Duration::from_secs(10));
    assert_eq!(exit.exited_at, t0 + Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_run_future_is_a_sigkill() {
    let (w, to_watchdog) = world(|c| c.exec_timeout_ns = 0);
    let request = tokio::spawn({
        let to_watchdog = to_watchdog.clone();
        async move { get(&to_watchdog, "/?ms=3600000").await }
    });
    one_request_in_flight(&w.monitor).await;
    let killed_at = Instant::now() + Duration::from_secs(1);
    tokio::time::sleep_until(killed_at).await;
    w.exit.abort();
    assert!(request.await.unwrap().is_err());
    let status = w.monitor.status();
    assert_eq!(status.phase, Phase::Exited);
    assert_eq!(status.exited_at, Some(killed_at));
    assert!(to_watchdog.dial().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_504_at_exactly_write_timeout_is_still_written() {
    // exec_timeout == write_timeout: the 504 is ready at the write deadline itself, which Go
    // (and the model) still writes: min(D, E) <= W is safe.
    let (_w, to_watchdog) = world(|c| {
        c.exec_timeout_ns = 2 * SECOND;
        c.write_timeout_ns = 2 * SECOND;
    });
    let sent = Instant::now();
    let reply = get(&to_watchdog, "/?ms=10000").await.unwrap();
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(Instant::now(), sent + Duration::from_secs(2));
}
