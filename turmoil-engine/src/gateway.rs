//! The gateway host: the OpenFaaS gateway and the provider (faas-netes) as one hyper server on
//! :8080. The gateway holds a request while it scales from zero (its ask goes to the step loop,
//! which hands it to the cluster), the provider picks a random endpoint from its lagging view
//! and calls the pod through a Go-like keep-alive pool; each hop turns a failure into its own
//! status and records the cause in the request's hint. The async route publishes the call to
//! the `nats` host and answers 202.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use faasim_model::choice::Stream;
use faasim_model::config::{Config, GatewaySigterm, Mode};
use faasim_model::gateway::CACHE_EXPIRY_NS;
use faasim_model::gateway_deployment::{GatewayId, Input as EdgeInput};
use faasim_model::ledger::{Cause, PodId, RequestId};
use faasim_model::time::Nanos;
use faasim_watchdog::X_OPENFAAS_INTERNAL;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

use crate::callback::{X_CALL_ID, X_CALLBACK_URL};
use crate::queue::{self, NATS_PORT, QueueRequest};

use crate::client::{Sender, dial};
use crate::edge;
use crate::shared::{
    AbortOnDrop, HostResult, PORT, Shared, SharedRef, X_REQUEST_ID, now_ns, request_id,
};

/// The gateway and the provider (faas-netes) of gateway pod `gateway` as one process on
/// :8080, listening `startup_ns` after its host is created. A gateway that drains
/// (`gateway.onSigterm: drain`) keeps accepting for its drain delay after SIGTERM, then closes
/// its listener, lets every connection finish its request in flight (hyper's graceful
/// shutdown closes the idle ones at once) and exits; CE's has no handler, and the step loop
/// kills its process at SIGTERM (`crate::edge::kill`).
pub(crate) async fn gateway_main(
    shared: SharedRef,
    gateway: GatewayId,
    startup_ns: Nanos,
) -> HostResult {
    if shared.lock().gateways[usize::from(gateway)].exited {
        // The host was bounced because the pod's process died: nothing listens any more.
        std::future::pending::<()>().await;
    }
    if startup_ns > 0 {
        tokio::time::sleep(Duration::from_nanos(startup_ns)).await;
    }
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
    let pool = ProviderPool::default();
    let cache = ReplicaCache::default();
    let publisher = Publisher::start(&shared);
    let (mut sigterm, drain_ns) = {
        let s = shared.lock();
        let drain_ns = match s.config.gateway.on_sigterm {
            GatewaySigterm::Drain { delay_ns } => Some(delay_ns),
            GatewaySigterm::Exit => None,
        };
        (
            s.gateways[usize::from(gateway)].sigterm.subscribe(),
            drain_ns,
        )
    };
    // Every connection task holds a sender: when all are gone, the drain is over.
    let (live, mut all_closed) = mpsc::unbounded_channel::<()>();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut close_at: Option<tokio::time::Instant> = None;
    loop {
        let far = tokio::time::Instant::now() + Duration::from_secs(1 << 30);
        let accepted = tokio::select! {
            biased;
            _ = sigterm.wait_for(|t| *t), if drain_ns.is_some() && close_at.is_none() => {
                let delay_ns = drain_ns.unwrap_or_default();
                close_at = Some(tokio::time::Instant::now() + Duration::from_nanos(delay_ns));
                continue;
            }
            _ = tokio::time::sleep_until(close_at.unwrap_or(far)), if close_at.is_some() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, _) = accepted?;
        let shared = shared.clone();
        let pool = pool.clone();
        let cache = cache.clone();
        let publisher = publisher.clone();
        let live = live.clone();
        let mut shutdown = shutdown_rx.clone();
        tokio::task::spawn_local(async move {
            let _live = live;
            let service = service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                let pool = pool.clone();
                let cache = cache.clone();
                let publisher = publisher.clone();
                async move {
                    if req.uri().path().starts_with(ASYNC_PREFIX) {
                        publisher.queue(&shared, req).await
                    } else {
                        let id = request_id(req.headers())
                            .ok_or_else(|| io::Error::other("no request id"))?;
                        let _held = InFlight::hold(&shared, gateway, id);
                        gateway_request(shared.clone(), pool, cache, req).await
                    }
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = shutdown.wait_for(|closing| *closing) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    // The drain: the listener closes, then every connection ends once its call is answered.
    drop(listener);
    let rest = edge::handle(&shared, now_ns(), EdgeInput::Closed { gateway });
    debug_assert!(rest.is_empty(), "closing has no effect but notes");
    shutdown.send_replace(true);
    drop(live);
    while all_closed.recv().await.is_some() {}
    shared.lock().gateways[usize::from(gateway)].exited = true;
    let rest = edge::handle(&shared, now_ns(), EdgeInput::Exited { gateway });
    debug_assert!(rest.is_empty(), "an exit has no effect but notes");
    Ok(())
}

/// A call the gateway holds, in its pod's in-flight set while it runs: the calls a killed
/// gateway cuts.
struct InFlight {
    /// What the hosts share.
    shared: SharedRef,
    /// The gateway pod.
    gateway: GatewayId,
    /// The request.
    id: usize,
}

impl InFlight {
    fn hold(shared: &SharedRef, gateway: GatewayId, id: usize) -> InFlight {
        shared.lock().gateways[usize::from(gateway)]
            .in_flight
            .insert(id);
        InFlight {
            shared: shared.clone(),
            gateway,
            id,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.lock().gateways[usize::from(self.gateway)]
            .in_flight
            .remove(&self.id);
    }
}

/// The async route's prefix (`POST /async-function/NAME`).
const ASYNC_PREFIX: &str = "/async-function/";

/// The gateway's connection to NATS Streaming (`faas-request`): the async handler's publishes
/// go out on it in order. It is made when the gateway starts (retried until the server
/// listens, as the gateway's own reconnect loop does).
#[derive(Clone)]
struct Publisher(Option<mpsc::UnboundedSender<String>>);

impl Publisher {
    /// The publisher of an asynchronous run (`None`: a synchronous one publishes nothing).
    fn start(shared: &SharedRef) -> Publisher {
        if shared.lock().asynchronous.is_none() {
            return Publisher(None);
        }
        let hop = Duration::from_nanos(shared.lock().latency_ns);
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::task::spawn_local(async move {
            let mut stream = loop {
                match dial((queue::HOST, NATS_PORT), hop).await {
                    Ok(stream) => break stream,
                    Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                }
            };
            while let Some(line) = rx.recv().await {
                if stream.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
        Publisher(Some(tx))
    }

    /// MakeQueuedProxy (openfaas/faas@8d803bf gateway/handlers/queue_proxy.go): the body, the
    /// callback URL and the call id are published, and the client gets 202 with its
    /// `X-Call-Id`; no function-existence check, no scale from zero. The publish's ack from
    /// the server is not waited for (the model does not add its round trip either).
    async fn queue(
        &self,
        shared: &SharedRef,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, io::Error> {
        let id = request_id(req.headers()).ok_or_else(|| io::Error::other("no request id"))?;
        let function = req.uri().path()[ASYNC_PREFIX.len()..]
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let callback_url = req
            .headers()
            .get(X_CALLBACK_URL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = req
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        let Some(tx) = &self.0 else {
            return Err(io::Error::other("an async call in a synchronous run"));
        };
        // The gateway's X-Call-Id is a UUID; faasim's is derived from the invocation, so a
        // run is the same byte for byte.
        let call_id = format!("faasim-call-{id}");
        let request = QueueRequest {
            inv: id as RequestId,
            call_id: call_id.clone(),
            callback_url,
            function,
            body: body.to_vec(),
        };
        {
            let mut s = shared.lock();
            s.hint_mut(id).cause = Some(Cause::Queued);
            let Some(a) = s.asynchronous.as_mut() else {
                return Err(io::Error::other("an async call in a synchronous run"));
            };
            if a.call_ids.len() <= id {
                a.call_ids.resize(id + 1, None);
            }
            a.call_ids[id] = Some(call_id.clone());
            a.published += 1;
        }
        tx.send(format!("PUB {}\n", request.encode()))
            .map_err(io::Error::other)?;
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = hyper::StatusCode::ACCEPTED;
        response.headers_mut().insert(
            X_CALL_ID,
            hyper::header::HeaderValue::from_str(&call_id).map_err(io::Error::other)?,
        );
        Ok(response)
    }
}

/// The scale-from-zero handler's cache of its last reading (when, and the replicas available
/// then), one per gateway process, as `faasim_model::gateway` keeps it.
#[derive(Clone, Default)]
struct ReplicaCache(Rc<std::cell::Cell<Option<(u64, usize)>>>);

impl ReplicaCache {
    /// A reading not yet stale at `now` with a replica available.
    fn hit(&self, now: u64) -> bool {
        self.0
            .get()
            .is_some_and(|(at, available)| available > 0 && now <= at + CACHE_EXPIRY_NS)
    }

    /// Remember a reading taken at `now`.
    fn store(&self, now: u64, available: usize) {
        self.0.set(Some((now, available)));
    }
}

async fn gateway_request(
    shared: SharedRef,
    pool: ProviderPool,
    cache: ReplicaCache,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, io::Error> {
    let id = request_id(req.headers()).ok_or_else(|| io::Error::other("no request id"))?;
    let method = req.method().clone();
    drop(req);
    let arrive = now_ns();
    let config = shared.lock().config.clone();
    let gateway = &config.gateway;
    if gateway.scale_from_zero && !cache.hit(arrive) && shared.lock().view.is_empty() {
        // AvailableReplicas is zero (no fresh cached reading says otherwise): cache the
        // reading, ask for replicas (the Deployment takes the ask only while it wants zero)
        // and hold the request, polling the view and caching each reading.
        cache.store(arrive, 0);
        let replicas = config.function.scale_min.max(1);
        shared.lock().scale_from_zero.push(replicas);
        let mut polls = 1;
        loop {
            tokio::time::sleep(Duration::from_nanos(gateway.poll_interval_ns)).await;
            let available = shared.lock().view.len();
            cache.store(now_ns(), available);
            if available > 0 || polls >= gateway.poll_attempts {
                break;
            }
            polls += 1;
        }
    }
    let forward_ns = now_ns();
    let (mut code, mut cause, lost, refused) =
        forward(&shared, &pool, &config, id, method, forward_ns).await;
    let now = now_ns();
    if now - forward_ns > config.provider.write_timeout_ns {
        (code, cause) = (502, Cause::ProviderWriteTimeout);
    }
    let write_timed_out = now - arrive > gateway.write_timeout_ns;
    {
        let mut s = shared.lock();
        let hint = s.hint_mut(id);
        hint.cause = Some(if write_timed_out {
            Cause::GatewayWriteTimeout
        } else {
            cause
        });
        hint.lost = lost;
        hint.refused = refused;
    }
    if write_timed_out {
        return Err(io::Error::other("gateway write_timeout"));
    }
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
    Ok(response)
}

/// How one call from the provider to a pod ended.
enum Call {
    /// The dial was refused.
    Refused,
    /// A reused connection met a close the provider could not yet see, and the request was
    /// not retried (or its retry's dial was refused).
    KeepAliveReset,
    /// The connection closed before a whole response came.
    Eof,
    /// A whole response: its status, whether the watchdog made it itself
    /// (`X-OpenFaaS-Internal`), and whether its body was empty.
    Answered(u16, bool, bool),
}

/// The provider: pick a ready endpoint from its (lagging) view and proxy to it.
async fn forward(
    shared: &SharedRef,
    pool: &ProviderPool,
    config: &Config,
    id: usize,
    method: hyper::Method,
    forward_ns: Nanos,
) -> (u16, Cause, Option<Cause>, bool) {
    let picked = {
        let mut s = shared.lock();
        if s.view.is_empty() {
            None
        } else {
            let len = s.view.len();
            let key = s.key(id).unwrap_or_default();
            let index = s.rng.index_for(Stream::Provider, key, len);
            let pod = s.view[index];
            s.record_mut(id).pod = Some(pod);
            s.hint_mut(id).picked_ns = forward_ns;
            Some((pod, s.pods[pod as usize].name.clone()))
        }
    };
    let Some((pod, name)) = picked else {
        return (503, Cause::NoEndpoints, None, false);
    };
    let upstream = config.gateway.upstream_timeout_ns;
    let provider = config.provider.read_timeout_ns;
    let first = upstream.min(provider);
    let deadline = tokio::time::Instant::now() + Duration::from_nanos(first);
    let call = tokio::time::timeout_at(deadline, pool.call(shared, pod, name, id, method)).await;
    match call {
        Err(_) => {
            let (lost, refused) = black_hole_fate(&shared.lock(), id);
            if provider <= upstream {
                (500, Cause::ProviderTimeout, lost, refused)
            } else {
                (502, Cause::UpstreamTimeout, lost, refused)
            }
        }
        Ok(Call::Refused) => (500, Cause::ConnectionRefused, None, true),
        Ok(Call::KeepAliveReset) => (500, Cause::KeepAliveReset, None, true),
        // Every handler writes "done\n" as it ends; in streaming mode an empty 200 is a process
        // killed at exec_timeout before it wrote anything (the status was implicit).
        Ok(Call::Answered(200, false, true))
            if config.function.watchdog.mode == Mode::Streaming =>
        {
            (200, Cause::ExecTimeout, None, false)
        }
        Ok(Call::Answered(200, _, _)) => (200, Cause::Handler, None, false),
        Ok(Call::Answered(504, _, _)) => (504, Cause::ExecTimeout, None, false),
        Ok(Call::Answered(429, _, _)) => (429, Cause::MaxInflight, None, false),
        Ok(Call::Answered(code, false, _)) => (code, Cause::Handler, None, false),
        Ok(Call::Answered(code, true, _)) if shared.lock().hint(id).child_write_timeout => {
            (code, Cause::ChildWriteTimeout, None, false)
        }
        Ok(Call::Answered(code, true, _)) => {
            let child_died = shared.lock().pods[pod as usize].child_died;
            if child_died {
                (code, Cause::ChildExited, Some(Cause::ChildExited), false)
            } else {
                (code, Cause::ChildRefused, None, true)
            }
        }
        Ok(Call::Eof) => {
            let now = now_ns();
            let s = shared.lock();
            let p = &s.pods[pod as usize];
            let cause = if p.child_died {
                Cause::ChildExited
            } else if let Some(cause) = p.exit_cause {
                cause
            } else if now - forward_ns > config.function.watchdog.write_timeout_ns {
                return (500, Cause::WatchdogWriteTimeout, None, false);
            } else {
                Cause::WatchdogExit
            };
            (500, cause, Some(cause), false)
        }
    }
}

/// A request that hangs on a pod whose node died: lost with the node when it was there before
/// the node died, refused (a dial into the black hole) when it was sent after.
pub(crate) fn black_hole_fate(s: &Shared, id: usize) -> (Option<Cause>, bool) {
    let Some(pod) = s.record(id).pod else {
        return (None, false);
    };
    match s.pods[pod as usize].black_hole_ns {
        Some(at) if s.hint(id).picked_ns >= at => (None, true),
        Some(_) => (Some(Cause::NodeLost), false),
        None => (None, false),
    }
}

/// The provider's keep-alive connections to the pods (faas-netes' proxy `http.Transport`),
/// with the rules of the model's `pool::Pool`: the newest idle connection first, idle ones
/// closed after `IdleConnTimeout`, one whose FIN has arrived skipped, and a request that meets
/// a close it could not see yet retried once on a new dial only when it is replayable (a GET
/// without a body: `shouldRetryRequest`), else 500.
#[derive(Clone, Default)]
struct ProviderPool(Rc<RefCell<BTreeMap<PodId, Vec<Pooled>>>>);

/// One idle keep-alive connection to a pod.
struct Pooled {
    /// The connection's request side.
    sender: Sender,
    /// When it went back to the pool.
    idle_since: tokio::time::Instant,
    /// The task driving the connection, aborted (closing it) with it.
    _connection: AbortOnDrop,
}

/// One exchange on one connection.
enum Exchange {
    /// A whole response (status, made by the watchdog itself, empty body); the connection
    /// can go back to the pool.
    Answered(u16, bool, bool, Pooled),
    /// No response at all: the connection closed (or reset) before one came.
    NoResponse,
    /// The response began and its body broke off.
    BrokenBody,
}

impl ProviderPool {
    /// A usable idle connection to `pod`, newest first, if any.
    fn checkout(&self, pod: PodId, idle_timeout: Duration) -> Option<Pooled> {
        let mut pools = self.0.borrow_mut();
        let idle = pools.entry(pod).or_default();
        let now = tokio::time::Instant::now();
        while let Some(conn) = idle.pop() {
            if now >= conn.idle_since + idle_timeout {
                // The transport's idle timer closed it; every older one is older still.
                idle.clear();
                return None;
            }
            if !conn.sender.is_closed() {
                return Some(conn);
            }
            // Its FIN arrived: Go's readLoop removed it from the pool.
        }
        None
    }

    fn checkin(&self, pod: PodId, mut conn: Pooled) {
        if conn.sender.is_closed() {
            return;
        }
        conn.idle_since = tokio::time::Instant::now();
        self.0.borrow_mut().entry(pod).or_default().push(conn);
    }

    /// The call to `pod` for request `id`, on a pooled connection or a new one.
    async fn call(
        &self,
        shared: &SharedRef,
        pod: PodId,
        name: String,
        id: usize,
        method: hyper::Method,
    ) -> Call {
        let (idle_timeout, round_trip, replayable, hop) = {
            let s = shared.lock();
            (
                Duration::from_nanos(s.config.provider.idle_conn_timeout_ns),
                Duration::from_nanos(2 * s.latency_ns),
                // The load's method, not the wire's: the POST here carries no body, but
                // stands for one with a body (never replayable through the gateway).
                s.config.load.method.is_replayable(),
                Duration::from_nanos(s.latency_ns),
            )
        };
        if let Some(conn) = self.checkout(pod, idle_timeout) {
            let sent_at = tokio::time::Instant::now();
            match exchange(conn, &name, id, method.clone()).await {
                Exchange::Answered(code, internal, empty, conn) => {
                    self.checkin(pod, conn);
                    return Call::Answered(code, internal, empty);
                }
                Exchange::BrokenBody => return Call::Eof,
                // Within one round trip of sending, the close crossed the request: the server
                // closed the connection before it read anything (idle timeout or Shutdown).
                Exchange::NoResponse if sent_at.elapsed() <= round_trip => {
                    if !replayable {
                        return Call::KeepAliveReset;
                    }
                    shared.lock().hint_mut(id).retried = true;
                    return match self.dial_and_call(pod, &name, id, method, hop).await {
                        Call::Refused => Call::KeepAliveReset,
                        other => other,
                    };
                }
                Exchange::NoResponse => return Call::Eof,
            }
        }
        self.dial_and_call(pod, &name, id, method, hop).await
    }

    async fn dial_and_call(
        &self,
        pod: PodId,
        name: &str,
        id: usize,
        method: hyper::Method,
        hop: Duration,
    ) -> Call {
        let Ok(stream) = dial((name, PORT), hop).await else {
            return Call::Refused;
        };
        let Ok((sender, conn)) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
        else {
            return Call::Eof;
        };
        let connection = AbortOnDrop(tokio::task::spawn_local(async move {
            let _ = conn.await;
        }));
        let fresh = Pooled {
            sender,
            idle_since: tokio::time::Instant::now(),
            _connection: connection,
        };
        match exchange(fresh, name, id, method).await {
            Exchange::Answered(code, internal, empty, conn) => {
                self.checkin(pod, conn);
                Call::Answered(code, internal, empty)
            }
            Exchange::NoResponse | Exchange::BrokenBody => Call::Eof,
        }
    }
}

/// Send one request on `conn` and read the whole response.
async fn exchange(mut conn: Pooled, name: &str, id: usize, method: hyper::Method) -> Exchange {
    let request = Request::builder()
        .method(method)
        .uri("/")
        .header(hyper::header::HOST, name)
        .header(X_REQUEST_ID, id.to_string())
        .body(Empty::new());
    let Ok(request) = request else {
        return Exchange::NoResponse;
    };
    let Ok(response) = conn.sender.send_request(request).await else {
        return Exchange::NoResponse;
    };
    let code = response.status().as_u16();
    let internal = response.headers().contains_key(X_OPENFAAS_INTERNAL);
    match response.into_body().collect().await {
        Ok(body) => Exchange::Answered(code, internal, body.to_bytes().is_empty(), conn),
        Err(_) => Exchange::BrokenBody,
    }
}
