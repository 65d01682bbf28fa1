//! Test helpers: a tiny upstream child with a configurable delay, an HTTP client, and a way
//! to start a watchdog and send it its shutdown signal. All generic over the network seams,
//! so the loopback tests and the paused-time tests share them.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use faasim_model::config::WatchdogConfig;
use faasim_watchdog::{Accept, Connect, Exit, Monitor, Settings, Watchdog};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const MS: u64 = 1_000_000;

/// What the upstream child saw.
#[derive(Clone, Default)]
pub struct UpstreamStats {
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl UpstreamStats {
    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    /// Requests started so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// The child: answers 200 "done" after `?ms=N` milliseconds (tokio time), with the
/// connection number in `x-upstream-conn` and the request URI in `x-uri`.
pub fn spawn_upstream<A: Accept>(mut listener: A) -> UpstreamStats {
    let stats = UpstreamStats::default();
    let seen = stats.clone();
    tokio::spawn(async move {
        while let Ok(io) = listener.accept().await {
            let conn_id = seen.connections.fetch_add(1, Ordering::SeqCst) + 1;
            let requests = Arc::clone(&seen.requests);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    requests.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, std::convert::Infallible>(child_handler(req, conn_id).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(io), service)
                    .await;
            });
        }
    });
    stats
}

async fn child_handler(req: Request<Incoming>, conn_id: usize) -> Response<Full<Bytes>> {
    let uri = req.uri().to_string();
    let delay_ms = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("ms="))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    let mut response = Response::new(Full::new(match body {
        Ok(bytes) if !bytes.is_empty() => bytes,
        _ => Bytes::from_static(b"done"),
    }));
    let headers = response.headers_mut();
    headers.insert("x-upstream-conn", conn_id.into());
    headers.insert("x-uri", uri.parse().unwrap());
    response
}

/// A complete response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request on a new connection.
pub async fn send<C: Connect>(
    connector: &C,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, BoxError> {
    let mut conn = KeepAlive::connect(connector).await?;
    conn.send(method, path, headers).await
}

/// GET on a new connection.
pub async fn get<C: Connect>(connector: &C, path: &str) -> Result<Reply, BoxError> {
    send(connector, Method::GET, path, &[]).await
}

/// A client connection reused for several requests.
pub struct KeepAlive {
    sender: SendRequest<Empty<Bytes>>,
    conn: JoinHandle<Result<(), hyper::Error>>,
}

impl KeepAlive {
    pub async fn connect<C: Connect>(connector: &C) -> Result<KeepAlive, BoxError> {
        let io = connector.connect().await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
        Ok(KeepAlive {
            sender,
            conn: tokio::spawn(conn),
        })
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, BoxError> {
        self.sender.ready().await?;
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "watchdog");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = self
            .sender
            .send_request(builder.body(Empty::new())?)
            .await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&mut self, path: &str) -> Result<Reply, BoxError> {
        self.send(Method::GET, path, &[]).await
    }

    /// The server closed the connection (the client's connection task ended).
    pub fn closed(&self) -> bool {
        self.conn.is_finished()
    }

    /// Wait until the server closes the connection.
    pub async fn wait_closed(self) {
        let _ = self.conn.await;
    }
}

/// Watchdog settings for tests: short timers, overridable.
pub fn settings(upstream_url: &str, tweak: impl FnOnce(&mut WatchdogConfig)) -> Settings {
    let mut config = WatchdogConfig {
        write_timeout_ns: 2_000 * MS,
        read_timeout_ns: 2_000 * MS,
        exec_timeout_ns: 1_000 * MS,
        healthcheck_interval_ns: (100 * MS) as i64,
        ..WatchdogConfig::default()
    };
    tweak(&mut config);
    Settings::new(config, upstream_url)
}

/// A running watchdog.
pub struct Running {
    pub monitor: Monitor,
    sigterm: Option<oneshot::Sender<()>>,
    pub exit: JoinHandle<Exit>,
}

impl Running {
    /// Send the shutdown signal (SIGTERM).
    pub fn sigterm(&mut self) {
        if let Some(tx) = self.sigterm.take() {
            let _ = tx.send(());
        }
    }
}

/// Start `settings` on `listener`, proxying through `connector`.
pub fn start<A: Accept, C: Connect>(settings: Settings, listener: A, connector: C) -> Running {
    let watchdog = Watchdog::new(settings, connector);
    let monitor = watchdog.monitor();
    let (tx, rx) = oneshot::channel::<()>();
    let exit = tokio::spawn(watchdog.run(listener, async move {
        // A dropped sender is not a signal: only an explicit send is.
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }));
    Running {
        monitor,
        sigterm: Some(tx),
        exit,
    }
}
