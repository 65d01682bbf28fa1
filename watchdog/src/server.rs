//! The watchdog process: its listener, its connections, its health, and the shutdown
//! sequence of of-watchdog's `listenUntilShutdown` (domain.md §2a) on top of a Go-like
//! `Server.Shutdown` (§1.6).
//!
//! Two tasks mirror of-watchdog's two goroutines: the accept loop (`ListenAndServe`) and
//! `run` itself (the signal handler that waits `healthcheck_interval`, then calls
//! `Shutdown`). They share the drain coordinator (`drain.rs`, model-checked with loom): the
//! accept loop admits each connection through it, every connection task leaves it on drop,
//! and `run` closes it and waits on its signal.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faasim_model::server::{Phase, SHUTDOWN_POLL_MAX_NS};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Notify, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use crate::body::{self, BoxBody, Deadline, DeadlineBody, Hold};
use crate::config::Settings;
use crate::drain::{Drain, Signal, Ticket};
use crate::fork::Fork;
use crate::net::{Accept, Connect, NoUpstream};
use crate::proxy::{self, Outgoing, Upstream};
use crate::streaming;

/// Go counts a connection that has read no byte yet ("StateNew") as idle only once it is this
/// old (net/http `closeIdleConns`, golang/go#22682); younger ones may still send a request.
const NEW_CONN_GRACE: Duration = Duration::from_secs(5);

impl Signal for Notify {
    fn raise(&self) {
        // `notify_one` stores a permit when no task waits yet: no lost wake-up.
        self.notify_one();
    }
}

/// Where the watchdog is in its life, and when it got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Life phase, in the model's terms (`faasim_model::server::Phase`).
    pub phase: Phase,
    /// When the shutdown signal (SIGTERM) arrived.
    pub signalled_at: Option<Instant>,
    /// When the listener closed (`Server.Shutdown` began).
    pub listener_closed_at: Option<Instant>,
    /// When `run` returned (the process exits).
    pub exited_at: Option<Instant>,
}

/// How `run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// When the shutdown signal arrived.
    pub signalled_at: Instant,
    /// When the listener closed: `signalled_at + healthcheck_interval`.
    pub listener_closed_at: Instant,
    /// When `run` returned.
    pub exited_at: Instant,
    /// Every connection finished before the `Shutdown` deadline (`write_timeout`).
    pub drained: bool,
    /// Connections still open at exit; they are dropped, as a process exit drops them.
    pub connections_at_exit: usize,
    /// Function requests still running at exit (of-watchdog's "Active connections: N").
    pub requests_at_exit: u64,
}

/// State shared by the tasks, the handlers and the `Monitor`; independent of the connector.
pub(crate) struct State {
    /// of-watchdog's `acceptingConnections`.
    accepting: AtomicBool,
    /// The lock file exists (kept in memory: many watchdogs share one machine in tests).
    lock_present: AtomicBool,
    /// Function requests in flight: the limiter's count and the `http_requests_in_flight`
    /// gauge (health and readiness probes are outside both, as in of-watchdog).
    requests: AtomicU64,
    /// `max_inflight` (0: unlimited).
    max_inflight: u64,
    /// Connection admission and the shutdown wait.
    drain: Arc<Drain<Notify>>,
    /// Published phase changes.
    status: watch::Sender<Status>,
}

impl State {
    fn healthy(&self) -> bool {
        self.accepting.load(Ordering::Acquire) && self.lock_present.load(Ordering::Acquire)
    }

    /// The concurrency limiter's `Met()`: readiness answers 429 while it holds.
    fn limit_met(&self) -> bool {
        self.max_inflight > 0 && self.requests.load(Ordering::Acquire) >= self.max_inflight
    }

    /// Count a function request; `None` over the limit (it answers 429 at once).
    fn acquire_slot(self: &Arc<Self>) -> Option<Slot> {
        let prior = self.requests.fetch_add(1, Ordering::AcqRel);
        if self.max_inflight > 0 && prior >= self.max_inflight {
            self.requests.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(Arc::clone(self)))
    }

    fn publish(&self, change: impl FnOnce(&mut Status)) {
        self.status.send_modify(change);
    }
}

/// One counted function request; released when its response body is done.
pub(crate) struct Slot(Arc<State>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every task the process owns (connections, upstream connections, pool timers): aborted
/// together when the process exits, as the kernel drops a dead process's sockets.
#[derive(Clone, Default)]
pub(crate) struct Tasks(Arc<Mutex<Option<JoinSet<()>>>>);

impl Tasks {
    fn new() -> Tasks {
        Tasks(Arc::new(Mutex::new(Some(JoinSet::new()))))
    }

    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = set.as_mut() {
            // Reap finished tasks so a long-lived watchdog does not accumulate them.
            while set.try_join_next().is_some() {}
            set.spawn(task);
        }
        // After exit nothing may start: the future is dropped unpolled.
    }

    fn abort_all(&self) {
        let set = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(set);
    }
}

/// How function requests are run: of-watchdog's `mode`.
pub(crate) enum Function<C> {
    /// HTTP mode: proxied to the upstream child through this keep-alive pool.
    Proxy(Arc<Upstream<C>>),
    /// Streaming mode: one process per request.
    Fork(Box<dyn Fork>),
}

/// What the request handlers need.
pub(crate) struct Shared<C> {
    /// The watchdog's configuration.
    pub(crate) settings: Settings,
    /// Health, counts and phase, shared with the `Monitor`.
    pub(crate) state: Arc<State>,
    /// Where function requests go: the upstream pool or a fork per request.
    pub(crate) function: Function<C>,
    /// Every connection and request task, aborted on a kill.
    pub(crate) tasks: Tasks,
}

/// Reads the watchdog's state from outside: health, counts, phase and its instants.
#[derive(Clone)]
pub struct Monitor {
    /// The watchdog's state.
    state: Arc<State>,
    /// The latest status.
    status: watch::Receiver<Status>,
}

impl Monitor {
    /// The latest status.
    pub fn status(&self) -> Status {
        *self.status.borrow()
    }

    /// `/_/health` would answer 200.
    pub fn healthy(&self) -> bool {
        self.state.healthy()
    }

    /// Connections admitted and still open.
    pub fn connections(&self) -> usize {
        self.state.drain.in_flight()
    }

    /// Function requests in flight.
    pub fn requests_in_flight(&self) -> u64 {
        self.state.requests.load(Ordering::Acquire)
    }

    /// Wait until the status satisfies `ready`, and return it. Only the latest status is
    /// kept, so a phase can be skipped (a watchdog with nothing to drain goes from
    /// `ShuttingDown` to `Exited` at once): test the instants, which are never cleared.
    pub async fn wait_for(&mut self, ready: impl FnMut(&Status) -> bool) -> Status {
        let found = self.status.wait_for(ready).await.map(|status| *status);
        // Err: the watchdog is gone, so its last status is final.
        found.unwrap_or_else(|_| *self.status.borrow())
    }
}

/// An of-watchdog-compatible watchdog: in HTTP mode (`new`) it proxies to the upstream `C`
/// dials; in streaming mode (`streaming`) it forks a process per request and has no
/// upstream (`C` is `NoUpstream`).
pub struct Watchdog<C: Connect = NoUpstream> {
    /// What the request handlers need.
    shared: Arc<Shared<C>>,
    /// When the listener closed (`None`: still open); the accept loop watches it.
    closing: watch::Sender<Option<Instant>>,
}

impl Watchdog<NoUpstream> {
    /// A streaming-mode watchdog that has not started: each function request (and each
    /// `/_/ready` when `ready_path` is set) runs one process that `fork` starts.
    /// `settings.watchdog.mode` is not consulted.
    pub fn streaming(settings: Settings, fork: impl Fork) -> Watchdog<NoUpstream> {
        Watchdog::build(settings, Tasks::new(), Function::Fork(Box::new(fork)))
    }
}

impl<C: Connect> Watchdog<C> {
    /// An HTTP-mode watchdog that has not started: not listening, not healthy.
    /// `settings.watchdog.mode` is not consulted.
    pub fn new(settings: Settings, connector: C) -> Watchdog<C> {
        let tasks = Tasks::new();
        let upstream = Upstream::new(connector, tasks.clone());
        Watchdog::build(settings, tasks, Function::Proxy(upstream))
    }

    fn build(settings: Settings, tasks: Tasks, function: Function<C>) -> Watchdog<C> {
        let (status, _) = watch::channel(Status {
            phase: Phase::Starting,
            signalled_at: None,
            listener_closed_at: None,
            exited_at: None,
        });
        let state = Arc::new(State {
            accepting: AtomicBool::new(false),
            lock_present: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            max_inflight: u64::from(settings.watchdog.max_inflight),
            drain: Arc::new(Drain::new(Notify::new())),
            status,
        });
        let (closing, _) = watch::channel(None);
        Watchdog {
            shared: Arc::new(Shared {
                settings,
                state,
                function,
                tasks,
            }),
            closing,
        }
    }

    /// A handle on the watchdog's state, usable while `run` runs and after.
    pub fn monitor(&self) -> Monitor {
        Monitor {
            state: Arc::clone(&self.shared.state),
            status: self.shared.state.status.subscribe(),
        }
    }

    /// Serve `listener` until `shutdown` completes, then drain as of-watchdog does and
    /// return. With `healthcheck_interval <= 0` it never returns after the signal (Go's
    /// `time.Tick(d <= 0)` is nil). When it returns, or when the future is dropped (a
    /// SIGKILL), every connection, upstream connection, process and task of this watchdog is
    /// dropped at once.
    pub async fn run<A: Accept>(self, listener: A, shutdown: impl Future<Output = ()>) -> Exit {
        let Watchdog { shared, closing } = self;
        let state = Arc::clone(&shared.state);
        let policy = shared.settings.policy();
        let accept = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            closing.subscribe(),
        ));
        let mut kill = Kill {
            state: Arc::clone(&state),
            tasks: shared.tasks.clone(),
            accept: Some(accept.abort_handle()),
        };

        // ListenAndServe runs; then createLockFile marks the process healthy.
        state
            .lock_present
            .store(!shared.settings.suppress_lock, Ordering::Release);
        state.accepting.store(true, Ordering::Release);
        state.publish(|s| s.phase = Phase::Serving);

        shutdown.await;
        let signalled_at = Instant::now();
        // markUnhealthy: both health endpoints answer 503 from now on.
        state.accepting.store(false, Ordering::Release);
        state.lock_present.store(false, Ordering::Release);
        state.publish(|s| {
            s.phase = Phase::Draining;
            s.signalled_at = Some(signalled_at);
        });

        // `<-time.Tick(healthcheck_interval)`: the listener stays open meanwhile.
        match policy.wait_ns {
            Some(ns) => tokio::time::sleep_until(signalled_at + Duration::from_nanos(ns)).await,
            None => std::future::pending::<()>().await,
        }

        // Server.Shutdown: close the listener, close idle connections, wait for the rest.
        let closed_at = Instant::now();
        state.drain.close();
        closing.send_replace(Some(closed_at));
        // The accept loop sees `closing` at once and drops the listener.
        let _ = accept.await;
        kill.accept = None;
        state.publish(|s| {
            s.phase = Phase::ShuttingDown;
            s.listener_closed_at = Some(closed_at);
        });

        let deadline = policy
            .deadline_ns
            .map(|ns| closed_at + Duration::from_nanos(ns));
        let drained = wait_drained(&state.drain, closed_at, deadline).await;
        if drained && policy.linger_ns > 0 {
            // The old fixed-wait watchdog sleeps write_timeout once more before exiting.
            state.publish(|s| s.phase = Phase::Lingering);
            tokio::time::sleep(Duration::from_nanos(policy.linger_ns)).await;
        }

        let exited_at = Instant::now();
        let exit = Exit {
            signalled_at,
            listener_closed_at: closed_at,
            exited_at,
            drained,
            connections_at_exit: state.drain.in_flight(),
            requests_at_exit: state.requests.load(Ordering::Acquire),
        };
        state.publish(|s| {
            s.phase = Phase::Exited;
            s.exited_at = Some(exited_at);
        });
        drop(kill);
        exit
    }
}

/// Aborts everything the process owns when `run` returns or is dropped (a SIGKILL).
struct Kill {
    /// The watchdog's state: it stops accepting and is marked exited.
    state: Arc<State>,
    /// Every connection and request task.
    tasks: Tasks,
    /// The accept loop, aborted on drop.
    accept: Option<AbortHandle>,
}

impl Drop for Kill {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        self.tasks.abort_all();
        self.state.accepting.store(false, Ordering::Release);
        self.state.lock_present.store(false, Ordering::Release);
        // Killed before a clean exit: the process is gone all the same.
        self.state.status.send_if_modified(|s| {
            if s.exited_at.is_some() {
                return false;
            }
            s.phase = Phase::Exited;
            s.exited_at = Some(Instant::now());
            true
        });
    }
}

/// The instants at which Go's `Server.Shutdown` checks for quiescence: at once, then after
/// 1 ms, 2 ms, 4 ms, ... doubling up to 500 ms (`shutdownPollIntervalMax`). Go adds up to 10 %
/// random jitter to each interval; this schedule has none, so runs are deterministic. Returns
/// the first check at or after `t`.
pub fn go_shutdown_check_at_or_after(closed_at: Instant, t: Instant) -> Instant {
    let max = Duration::from_nanos(SHUTDOWN_POLL_MAX_NS);
    let mut check = closed_at;
    let mut interval = Duration::from_millis(1);
    while check < t {
        check += interval;
        interval = (interval * 2).min(max);
    }
    check
}

/// Wait until every admitted connection has left, woken by the coordinator's signal (no
/// polling), then until Go's next quiescence check, which is when `Shutdown` would notice.
/// `false` when the deadline came first.
async fn wait_drained(
    drain: &Drain<Notify>,
    closed_at: Instant,
    deadline: Option<Instant>,
) -> bool {
    let drained = async {
        while !drain.is_drained() {
            drain.signal().notified().await;
        }
        let check = go_shutdown_check_at_or_after(closed_at, Instant::now());
        tokio::time::sleep_until(check).await;
    };
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, drained).await.is_ok(),
        None => {
            drained.await;
            true
        }
    }
}

/// `Server.Serve`: accept, admit, hand each connection to its own task; stop at `closing`.
async fn accept_loop<A: Accept, C: Connect>(
    mut listener: A,
    shared: Arc<Shared<C>>,
    mut closing: watch::Receiver<Option<Instant>>,
) {
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = closing.wait_for(Option::is_some) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(io) => {
                backoff = Duration::ZERO;
                let Some(ticket) = Ticket::admit(&shared.state.drain) else {
                    // Closed between accept and admission: dropping the stream resets it, as
                    // the kernel resets connections left in a closed listener's backlog.
                    break;
                };
                shared.tasks.spawn(serve_connection(
                    io,
                    ticket,
                    Arc::clone(&shared),
                    closing.clone(),
                ));
            }
            Err(_) => {
                // Go's Serve backs off 5 ms, doubling to 1 s, on accept errors.
                backoff = if backoff.is_zero() {
                    Duration::from_millis(5)
                } else {
                    (backoff * 2).min(Duration::from_secs(1))
                };
                tokio::select! {
                    biased;
                    _ = closing.wait_for(Option::is_some) => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
        }
    }
    drop(listener);
}

/// Whether a connection has started a request yet (Go: left "StateNew").
#[derive(Default)]
struct FirstRequest {
    /// A request has started on the connection.
    seen: AtomicBool,
    /// Wakes a waiter when it does.
    notify: Notify,
}

impl FirstRequest {
    fn mark(&self) {
        if !self.seen.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    fn seen(&self) -> bool {
        self.seen.load(Ordering::Acquire)
    }
}

/// How one connection is being wound down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Winding {
    /// Serving normally.
    Open,
    /// Shutdown began before any request arrived: Go leaves such a connection alone until
    /// it sends a request or turns 5 s old (checked at the Shutdown poll ticks).
    NewUntil(Instant),
    /// hyper's graceful shutdown: close if idle, else finish the request and close.
    Closing,
}

/// One HTTP/1.1 connection with keep-alive; `read_timeout` bounds header reads and idle
/// waits (Go's idle timeout defaults to ReadTimeout).
async fn serve_connection<I, C>(
    io: I,
    ticket: Ticket<Notify>,
    shared: Arc<Shared<C>>,
    mut closing: watch::Receiver<Option<Instant>>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    C: Connect,
{
    let accepted_at = Instant::now();
    let first = Arc::new(FirstRequest::default());
    // Shared with the processes forked for this connection's requests: one whose caller left
    // keeps the connection counted in the drain until it ends, as Go's server counts a
    // connection active while its handler waits for `cmd.Wait`.
    let ticket = Arc::new(ticket);
    let service = {
        let shared = Arc::clone(&shared);
        let first = Arc::clone(&first);
        let ticket = Arc::clone(&ticket);
        service_fn(move |req| {
            first.mark();
            let shared = Arc::clone(&shared);
            let ticket = Arc::clone(&ticket);
            async move { handle(&shared, req, ticket).await }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(shared.settings.read_timeout());
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);

    let mut winding = Winding::Open;
    loop {
        let new_until = match winding {
            Winding::NewUntil(at) => Some(at),
            _ => None,
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            closed = closing.wait_for(Option::is_some), if winding == Winding::Open => {
                let closed_at = closed.ok().and_then(|c| *c).unwrap_or_else(Instant::now);
                if first.seen() {
                    conn.as_mut().graceful_shutdown();
                    winding = Winding::Closing;
                } else {
                    let old_enough = go_shutdown_check_at_or_after(
                        closed_at,
                        accepted_at + NEW_CONN_GRACE,
                    );
                    winding = Winding::NewUntil(old_enough);
                }
            }
            _ = first.notify.notified(), if new_until.is_some() => {
                conn.as_mut().graceful_shutdown();
                winding = Winding::Closing;
            }
            _ = tokio::time::sleep_until(new_until.unwrap_or(accepted_at)), if new_until.is_some() => {
                // Still no byte: hyper closes a connection in its initial state at once.
                conn.as_mut().graceful_shutdown();
                winding = Winding::Closing;
            }
        }
    }
    drop(ticket);
}

/// The response could not be written within `write_timeout` of reading the request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteTimedOut;

impl std::fmt::Display for WriteTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("write_timeout passed before the response was ready: connection closed")
    }
}

impl std::error::Error for WriteTimedOut {}

/// One request, with Go's write deadline: a response ready after it is never written; the
/// connection closes instead, so the caller reads EOF (the handler still ran to its end).
async fn handle<C: Connect>(
    shared: &Shared<C>,
    req: Request<Incoming>,
    ticket: Arc<Ticket<Notify>>,
) -> Result<Response<BoxBody>, WriteTimedOut> {
    let header_at = Instant::now();
    let write_deadline = shared.settings.write_timeout().map(|w| header_at + w);
    let read_deadline = shared.settings.read_timeout().map(|r| header_at + r);
    let response = route(shared, req, read_deadline, ticket).await;
    // Go fails a write only past its deadline: a response ready exactly at it is written
    // (the model's and docs/rules.md's "equality is safe").
    if write_deadline.is_some_and(|deadline| Instant::now() > deadline) {
        return Err(WriteTimedOut);
    }
    Ok(response.map(|b| {
        use http_body_util::BodyExt;
        DeadlineBody::new(b, write_deadline, Deadline::Write).boxed_unsync()
    }))
}

/// of-watchdog's mux: `/_/health`, `/_/ready`, and everything else to the function.
async fn route<C: Connect>(
    shared: &Shared<C>,
    req: Request<Incoming>,
    read_deadline: Option<Instant>,
    ticket: Arc<Ticket<Notify>>,
) -> Response<BoxBody> {
    match req.uri().path() {
        "/_/health" => health(&shared.state, req.method()),
        "/_/ready" => ready(shared, &req).await,
        _ => function(shared, req, read_deadline, ticket).await,
    }
}

fn status_only(status: StatusCode) -> Response<BoxBody> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = status;
    response
}

/// `makeHealthHandler`: 200 "OK" while accepting with the lock file, else 503.
fn health(state: &State, method: &Method) -> Response<BoxBody> {
    if method != Method::GET {
        return status_only(StatusCode::METHOD_NOT_ALLOWED);
    }
    if !state.healthy() {
        return status_only(StatusCode::SERVICE_UNAVAILABLE);
    }
    let mut response = Response::new(body::full("OK"));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `readiness.ServeHTTP`: 503 when unhealthy, 429 when `max_inflight` is met, else the
/// function's answer on `ready_path` if set, else 200 with no body.
async fn ready<C: Connect>(shared: &Shared<C>, req: &Request<Incoming>) -> Response<BoxBody> {
    if req.method() != Method::GET {
        return status_only(StatusCode::METHOD_NOT_ALLOWED);
    }
    if !shared.state.healthy() {
        return status_only(StatusCode::SERVICE_UNAVAILABLE);
    }
    if shared.state.limit_met() {
        return status_only(StatusCode::TOO_MANY_REQUESTS);
    }
    if shared.settings.ready_path.is_empty() {
        return status_only(StatusCode::OK);
    }
    // Through the unlimited base handler, as of-watchdog passes it the handler from before
    // the limiter wraps it.
    match &shared.function {
        Function::Proxy(upstream) => {
            proxy::forward(
                &shared.settings,
                upstream,
                Outgoing {
                    method: Method::GET,
                    target: shared.settings.ready_path.clone(),
                    headers: req.headers().clone(),
                    body: None,
                },
            )
            .await
        }
        Function::Fork(fork) => {
            let invocation = streaming::readiness_invocation(&shared.settings, req.headers());
            streaming::invoke(&shared.settings, fork.as_ref(), invocation, None).await
        }
    }
}

/// The function, behind faas-middleware's concurrency limiter.
async fn function<C: Connect>(
    shared: &Shared<C>,
    req: Request<Incoming>,
    read_deadline: Option<Instant>,
    ticket: Arc<Ticket<Notify>>,
) -> Response<BoxBody> {
    let Some(slot) = shared.state.acquire_slot() else {
        let mut response = Response::new(body::full(format!(
            "Concurrent request limit exceeded. Max concurrent requests: {}\n",
            shared.state.max_inflight
        )));
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let headers = response.headers_mut();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain"),
        );
        headers.insert(
            proxy::X_OPENFAAS_INTERNAL,
            hyper::header::HeaderValue::from_static("faas-middleware"),
        );
        return response;
    };
    match &shared.function {
        Function::Proxy(upstream) => {
            let out = Outgoing::from_incoming(req, read_deadline);
            let response = proxy::forward(&shared.settings, upstream, out).await;
            // The slot is held until hyper has written the whole body, as Go's handler holds
            // it through its copy loop.
            response.map(|b| {
                use http_body_util::BodyExt;
                Hold::new(b, slot).boxed_unsync()
            })
        }
        Function::Fork(fork) => {
            let invocation = streaming::invocation(&shared.settings, req, read_deadline);
            // The process holds the slot and the connection's drain ticket until it has
            // exited, even when its caller leaves first (Go's handler waits for `cmd.Wait`).
            let orphanage = streaming::Orphanage {
                tasks: shared.tasks.clone(),
                keep: Box::new((slot, ticket)),
            };
            streaming::invoke(&shared.settings, fork.as_ref(), invocation, Some(orphanage)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_checks_follow_go_doubling_to_half_a_second() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        assert_eq!(go_shutdown_check_at_or_after(t0, t0), t0);
        assert_eq!(go_shutdown_check_at_or_after(t0, ms(1)), ms(1));
        assert_eq!(go_shutdown_check_at_or_after(t0, ms(2)), ms(3));
        assert_eq!(go_shutdown_check_at_or_after(t0, ms(100)), ms(127));
        // 1+2+...+256 = 511, then 500 ms steps.
        assert_eq!(go_shutdown_check_at_or_after(t0, ms(512)), ms(1011));
        assert_eq!(go_shutdown_check_at_or_after(t0, ms(1012)), ms(1511));
    }
}
