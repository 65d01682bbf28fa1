//! Test helpers: a tiny upstream child with a configurable delay, an in-memory process for
//! streaming mode that follows a script in its request URI, an HTTP client, and a way to
//! start a watchdog and send it its shutdown signal. All generic over the network seams, so
//! the loopback tests and the paused-time tests share them.

#![allow(dead_code)]

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faasim_model::config::WatchdogConfig;
use faasim_watchdog::{
    Accept, Connect, Exit, Fork, Forked, Invocation, Monitor, Settings, Watchdog,
};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const MS: u64 = 1_000_000;

/// What the upstream child saw.
#[derive(Clone, Default)]
pub struct UpstreamStats {
    /// Connections the child accepted.
    connections: Arc<AtomicUsize>,
    /// Requests the child served.
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
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// The whole response: its head and its collected body.
    pub async fn read(response: Response<Incoming>) -> Result<Reply, BoxError> {
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A query parameter of a request URI.
fn query_param<'a>(target: &'a str, key: &str) -> Option<&'a str> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query.split('&').find_map(|kv| match kv.split_once('=') {
        Some((k, v)) if k == key => Some(v),
        None if kv == key => Some(""),
        _ => None,
    })
}

/// One process the in-memory fork started.
#[derive(Clone, Debug)]
pub struct Started {
    /// When it started.
    pub at: Instant,
    /// The request target it was started for (its script).
    pub target: String,
    /// Its environment, in order.
    pub env: Vec<(String, String)>,
}

impl Started {
    /// The last value of an environment variable, as `exec` would see it.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The processes' record behind a `ProcessLog`.
#[derive(Default)]
struct Processes {
    /// Processes started, in order.
    started: Vec<Started>,
    /// When processes ran to their end.
    exited_at: Vec<Instant>,
    /// When processes were killed.
    killed_at: Vec<Instant>,
}

/// What the in-memory processes did, and when.
#[derive(Clone, Default)]
pub struct ProcessLog(Arc<Mutex<Processes>>);

impl ProcessLog {
    fn with<T>(&self, f: impl FnOnce(&mut Processes) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }
    pub fn started(&self) -> Vec<Started> {
        self.with(|p| p.started.clone())
    }
    /// When processes ran to their end.
    pub fn exited_at(&self) -> Vec<Instant> {
        self.with(|p| p.exited_at.clone())
    }
    /// When processes were killed (their handle dropped before they ended).
    pub fn killed_at(&self) -> Vec<Instant> {
        self.with(|p| p.killed_at.clone())
    }
}

/// Records a kill when a process's task is dropped before it ends.
struct Alive {
    /// Where to record the kill.
    log: ProcessLog,
    /// The process ran to its end (no kill).
    exited: bool,
}

impl Drop for Alive {
    fn drop(&mut self) {
        let now = Instant::now();
        self.log.with(|p| {
            if self.exited {
                p.exited_at.push(now);
            } else {
                p.killed_at.push(now);
            }
        });
    }
}

/// Aborts a process's task when its handle is dropped: the kill.
struct KillOnDrop(AbortHandle);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Streaming mode's process, in memory (tokio time only). Its script is in the request URI:
/// `out=TEXT` writes `TEXT\n` at once; `echo` then copies stdin; `ms=N` sleeps N ms; then it
/// writes `done\n` and exits with status `exit=N` (default 0).
pub struct ScriptedFork {
    /// What its processes did.
    pub log: ProcessLog,
}

impl ScriptedFork {
    pub fn new() -> (ScriptedFork, ProcessLog) {
        let log = ProcessLog::default();
        (ScriptedFork { log: log.clone() }, log)
    }
}

impl Fork for ScriptedFork {
    fn fork(&self, invocation: Invocation) -> io::Result<Forked> {
        let target = invocation.target.clone();
        let out = query_param(&target, "out").map(str::to_string);
        let echo = query_param(&target, "echo").is_some();
        let delay_ms = query_param(&target, "ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let status: i32 = query_param(&target, "exit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.log.with(|p| {
            p.started.push(Started {
                at: Instant::now(),
                target: target.clone(),
                env: invocation.env.clone(),
            })
        });
        let (mut stdout, reader) = tokio::io::duplex(64 * 1024);
        let log = self.log.clone();
        let process = tokio::spawn(async move {
            let mut alive = Alive { log, exited: false };
            if let Some(out) = out {
                stdout.write_all(format!("{out}\n").as_bytes()).await?;
            }
            if echo && let Some(body) = invocation.stdin {
                let input = body.collect().await.map_err(io::Error::other)?.to_bytes();
                stdout.write_all(&input).await?;
            }
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            stdout.write_all(b"done\n").await?;
            alive.exited = true;
            if status == 0 {
                Ok(())
            } else {
                Err(io::Error::other(format!("exit status {status}")))
            }
        });
        let kill = KillOnDrop(process.abort_handle());
        Ok(Forked::new(reader, async move {
            let _kill = kill;
            process.await.map_err(io::Error::other)?
        }))
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
    /// The connection's request half.
    sender: SendRequest<Empty<Bytes>>,
    /// The connection's task.
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
        Reply::read(response).await
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

/// A POST with `body` on a new connection.
pub async fn post<C: Connect>(
    connector: &C,
    path: &str,
    body: &'static str,
) -> Result<Reply, BoxError> {
    let io = connector.connect().await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(conn);
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", "watchdog")
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let response = sender.send_request(request).await?;
    Reply::read(response).await
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
    /// Reads its state.
    pub monitor: Monitor,
    /// Sends it SIGTERM (`None` once sent).
    sigterm: Option<oneshot::Sender<()>>,
    /// Its task: ends with how it exited.
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

/// Streaming-mode settings for tests: the same short timers, overridable.
pub fn streaming_settings(tweak: impl FnOnce(&mut WatchdogConfig)) -> Settings {
    let http = settings("", tweak);
    Settings::streaming(http.watchdog, "in-memory")
}

/// Start `settings` on `listener`, proxying through `connector`.
pub fn start<A: Accept, C: Connect>(settings: Settings, listener: A, connector: C) -> Running {
    launch(Watchdog::new(settings, connector), listener)
}

/// Start `settings` in streaming mode on `listener`, forking with `fork`.
pub fn start_streaming<A: Accept>(settings: Settings, listener: A, fork: impl Fork) -> Running {
    launch(Watchdog::streaming(settings, fork), listener)
}

fn launch<A: Accept, C: Connect>(watchdog: Watchdog<C>, listener: A) -> Running {
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
