//! The watchdog on real TCP sockets (127.0.0.1, port 0) with a real upstream child: the
//! statuses of domain.md §1.1 and the drain sequence of §2a, with short timers.

mod common;

use std::time::Duration;

use common::{KeepAlive, MS, get, send, settings, spawn_upstream, start};
use faasim_watchdog::TcpConnector;
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

/// An upstream child on loopback: its URL, its stats.
async fn child() -> (String, TcpConnector, common::UpstreamStats) {
    let (listener, connector) = loopback().await;
    let url = format!("http://{}", connector.authority());
    (url, connector, spawn_upstream(listener))
}

#[tokio::test]
async fn proxies_to_the_upstream_with_the_request_uri() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(settings(&url, |_| {}), listener, to_child);
        let reply = get(&to_watchdog, "/function/echo/sub?ms=1&x=y")
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "done");
        assert_eq!(reply.header("x-uri"), Some("/function/echo/sub?ms=1&x=y"));
        assert!(reply.header("x-duration-seconds").is_some());
        let posted = send(&to_watchdog, Method::POST, "/", &[]).await.unwrap();
        assert_eq!(posted.status, StatusCode::OK);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn exec_timeout_gives_504_with_an_empty_body() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(
            settings(&url, |c| c.exec_timeout_ns = 100 * MS),
            listener,
            to_child,
        );
        let started = Instant::now();
        let reply = get(&to_watchdog, "/?ms=1000").await.unwrap();
        let took = started.elapsed();
        assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("x-openfaas-internal"), Some("of-watchdog"));
        assert!(took >= Duration::from_millis(100) && took < Duration::from_millis(900));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn x_timeout_lowers_exec_timeout() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(
            settings(&url, |c| c.exec_timeout_ns = 5_000 * MS),
            listener,
            to_child,
        );
        let reply = send(
            &to_watchdog,
            Method::GET,
            "/?ms=1000",
            &[("X-Timeout", "100ms")],
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn max_inflight_gives_429_and_readiness_429() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let w = start(
            settings(&url, |c| {
                c.max_inflight = 1;
                c.exec_timeout_ns = 5_000 * MS;
            }),
            listener,
            to_child,
        );
        assert_eq!(
            get(&to_watchdog, "/_/ready").await.unwrap().status,
            StatusCode::OK
        );
        let slow = {
            let to_watchdog = to_watchdog.clone();
            tokio::spawn(async move { get(&to_watchdog, "/?ms=1500").await })
        };
        while w.monitor.requests_in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = get(&to_watchdog, "/").await.unwrap();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            refused.header("x-openfaas-internal"),
            Some("faas-middleware")
        );
        assert_eq!(
            refused.body,
            "Concurrent request limit exceeded. Max concurrent requests: 1\n"
        );
        let ready = get(&to_watchdog, "/_/ready").await.unwrap();
        assert_eq!(ready.status, StatusCode::TOO_MANY_REQUESTS);
        // Health probes are outside the limiter.
        assert_eq!(
            get(&to_watchdog, "/_/health").await.unwrap().status,
            StatusCode::OK
        );
        assert_eq!(slow.await.unwrap().unwrap().status, StatusCode::OK);
        assert_eq!(w.monitor.requests_in_flight(), 0);
        assert_eq!(
            get(&to_watchdog, "/_/ready").await.unwrap().status,
            StatusCode::OK
        );
        assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn upstream_refusing_gives_500() {
    timeout(LIMIT, async {
        // A port nobody listens on any more: connects are refused.
        let (gone, to_gone) = loopback().await;
        drop(gone);
        let url = format!("http://{}", to_gone.authority());
        let (listener, to_watchdog) = loopback().await;
        let _w = start(settings(&url, |_| {}), listener, to_gone);
        let reply = get(&to_watchdog, "/").await.unwrap();
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("x-openfaas-internal"), Some("of-watchdog"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn health_turns_503_at_the_signal_while_the_listener_keeps_accepting() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| c.healthcheck_interval_ns = (2_000 * MS) as i64),
            listener,
            to_child,
        );
        let health = get(&to_watchdog, "/_/health").await.unwrap();
        assert_eq!(
            (health.status, &health.body[..]),
            (StatusCode::OK, &b"OK"[..])
        );
        assert_eq!(
            get(&to_watchdog, "/_/ready").await.unwrap().status,
            StatusCode::OK
        );
        w.sigterm();
        w.monitor.wait_for(|s| s.signalled_at.is_some()).await;
        assert_eq!(
            get(&to_watchdog, "/_/health").await.unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            get(&to_watchdog, "/_/ready").await.unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        // Still listening and serving during healthcheck_interval.
        assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn listener_refuses_after_healthcheck_interval_and_the_watchdog_exits() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| c.healthcheck_interval_ns = (200 * MS) as i64),
            listener,
            to_child,
        );
        w.sigterm();
        let status = w.monitor.wait_for(|s| s.signalled_at.is_some()).await;
        let signalled = status.signalled_at.unwrap();
        assert!(KeepAlive::connect(&to_watchdog).await.is_ok());
        let status = w.monitor.wait_for(|s| s.listener_closed_at.is_some()).await;
        assert!(status.listener_closed_at.unwrap() - signalled >= Duration::from_millis(200));
        let refused = KeepAlive::connect(&to_watchdog).await.err().unwrap();
        let io = refused.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        let exit = w.exit.await.unwrap();
        assert!(exit.drained);
        assert_eq!(exit.connections_at_exit, 0);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn in_flight_request_completes_during_the_drain() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| c.healthcheck_interval_ns = (50 * MS) as i64),
            listener,
            to_child,
        );
        let request = {
            let to_watchdog = to_watchdog.clone();
            tokio::spawn(async move { get(&to_watchdog, "/?ms=500").await })
        };
        while w.monitor.requests_in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        w.sigterm();
        let closed = w.monitor.wait_for(|s| s.listener_closed_at.is_some()).await;
        assert!(closed.listener_closed_at.is_some());
        assert_eq!(w.monitor.connections(), 1);
        let reply = request.await.unwrap().unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("connection"), Some("close"));
        let exit = w.exit.await.unwrap();
        assert!(exit.drained);
        assert_eq!(exit.requests_at_exit, 0);
        assert!(exit.exited_at - exit.listener_closed_at < Duration::from_millis(2_000));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn drain_deadline_returns_with_a_request_still_active() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| {
                c.healthcheck_interval_ns = (50 * MS) as i64;
                c.write_timeout_ns = 300 * MS;
                c.exec_timeout_ns = 0;
            }),
            listener,
            to_child,
        );
        let request = {
            let to_watchdog = to_watchdog.clone();
            tokio::spawn(async move { get(&to_watchdog, "/?ms=5000").await })
        };
        while w.monitor.requests_in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        w.sigterm();
        let exit = w.exit.await.unwrap();
        assert!(!exit.drained);
        assert_eq!(exit.connections_at_exit, 1);
        assert_eq!(exit.requests_at_exit, 1);
        let waited = exit.exited_at - exit.listener_closed_at;
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_millis(1_000));
        // The process is gone: the client's connection drops without a response.
        assert!(request.await.unwrap().is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn write_timeout_closes_the_connection_instead_of_answering() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(
            settings(&url, |c| c.write_timeout_ns = 150 * MS),
            listener,
            to_child,
        );
        let started = Instant::now();
        let err = get(&to_watchdog, "/?ms=400").await.unwrap_err();
        // Go semantics: nothing until the handler returns, then EOF with no status.
        assert!(started.elapsed() >= Duration::from_millis(400), "{err}");
        let hyper_err = err.downcast_ref::<hyper::Error>().unwrap();
        assert!(hyper_err.is_incomplete_message(), "{hyper_err}");
        assert_eq!(
            get(&to_watchdog, "/?ms=1").await.unwrap().status,
            StatusCode::OK
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_when_the_listener_closes() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| c.healthcheck_interval_ns = (1_000 * MS) as i64),
            listener,
            to_child,
        );
        let mut client = KeepAlive::connect(&to_watchdog).await.unwrap();
        assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);
        w.sigterm();
        // Reused normally while the listener is open.
        assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);
        assert!(!client.closed());
        client.wait_closed().await;
        let exit = w.exit.await.unwrap();
        assert!(exit.drained);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn read_timeout_is_the_keep_alive_idle_timeout() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(
            settings(&url, |c| c.read_timeout_ns = 150 * MS),
            listener,
            to_child,
        );
        let mut client = KeepAlive::connect(&to_watchdog).await.unwrap();
        assert_eq!(client.get("/").await.unwrap().status, StatusCode::OK);
        let idle_from = Instant::now();
        client.wait_closed().await;
        let idle = idle_from.elapsed();
        assert!(
            idle >= Duration::from_millis(140) && idle < Duration::from_millis(1_000),
            "{idle:?}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn zero_healthcheck_interval_never_closes_the_listener() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut w = start(
            settings(&url, |c| c.healthcheck_interval_ns = 0),
            listener,
            to_child,
        );
        w.sigterm();
        w.monitor.wait_for(|s| s.signalled_at.is_some()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
        assert!(!w.exit.is_finished());
        assert_eq!(w.monitor.status().listener_closed_at, None);
        w.exit.abort();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn upstream_connections_are_pooled_for_half_a_second() {
    timeout(LIMIT, async {
        let (url, to_child, stats) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let _w = start(settings(&url, |_| {}), listener, to_child);
        let first = get(&to_watchdog, "/").await.unwrap();
        let second = get(&to_watchdog, "/").await.unwrap();
        assert_eq!(first.header("x-upstream-conn"), Some("1"));
        assert_eq!(second.header("x-upstream-conn"), Some("1"));
        tokio::time::sleep(Duration::from_millis(700)).await;
        let third = get(&to_watchdog, "/").await.unwrap();
        assert_eq!(third.header("x-upstream-conn"), Some("2"));
        assert_eq!(stats.connections(), 2);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ready_path_proxies_readiness_to_the_child() {
    timeout(LIMIT, async {
        let (url, to_child, stats) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut s = settings(&url, |_| {});
        s.ready_path = "/ready-check".to_string();
        let _w = start(s, listener, to_child);
        let ready = get(&to_watchdog, "/_/ready").await.unwrap();
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.header("x-uri"), Some("/ready-check"));
        assert_eq!(stats.requests(), 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn suppress_lock_leaves_health_503_as_of_watchdog_does() {
    timeout(LIMIT, async {
        let (url, to_child, _) = child().await;
        let (listener, to_watchdog) = loopback().await;
        let mut s = settings(&url, |_| {});
        s.suppress_lock = true;
        let _w = start(s, listener, to_child);
        let health = get(&to_watchdog, "/_/health").await.unwrap();
        assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(get(&to_watchdog, "/").await.unwrap().status, StatusCode::OK);
    })
    .await
    .unwrap();
}
