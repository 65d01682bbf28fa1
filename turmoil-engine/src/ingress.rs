//! The ingress host: an ingress controller in front of the gateway (ingress-nginx, an ALB) as
//! a hyper server on :8080 that proxies each request with a hyper client to the gateway pod
//! the Service picks (one keep-alive upstream connection per client worker, as the model's
//! ingress keeps it). Its read timeout (`ingress.readTimeout`, nginx's `proxy-read-timeout`)
//! is armed once the request is sent upstream and again at every read: when no byte of the
//! response arrives for that long it answers 504 and closes its upstream connection, and the
//! call behind it runs on. A gateway that closes the connection with no status gets the
//! client a 502 (nginx's "upstream prematurely closed connection").

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use faasim_model::gateway_deployment::Caller;
use faasim_model::ingress::{BROKEN_UPSTREAM_STATUS, READ_TIMEOUT_STATUS};
use faasim_model::ledger::Cause;
use faasim_model::time::stamp;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::client::Sender;
use crate::edge::{self, Route};
use crate::shared::{AbortOnDrop, HostResult, PORT, SharedRef, now_ns, request_id};

/// The ingress's host name.
pub(crate) const HOST: &str = "ingress";

/// The ingress controller on :8080.
pub(crate) async fn ingress_main(shared: SharedRef) -> HostResult {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
    let upstream = Upstream::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let shared = shared.clone();
        let upstream = upstream.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                proxy(shared.clone(), upstream.clone(), req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One upstream keep-alive connection: its request side and the task driving it (aborted,
/// closing it, with it).
type Conn = (Sender, AbortOnDrop);

/// One client worker's upstream: the gateway pod host its connections go to, and the idle ones.
type Pinned = (String, Vec<Conn>);

/// The ingress's upstream connections, by client worker.
#[derive(Clone, Default)]
struct Upstream(Rc<RefCell<BTreeMap<u32, Pinned>>>);

impl Upstream {
    /// An idle connection of `worker`'s to `host`, if one is still open.
    fn take(&self, worker: u32, host: &str) -> Option<Conn> {
        let mut map = self.0.borrow_mut();
        let (pinned, idle) = map.get_mut(&worker)?;
        if pinned != host {
            idle.clear();
            return None;
        }
        while let Some(conn) = idle.pop() {
            if !conn.0.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    /// `conn`, to `host`, is idle again for `worker`'s next request.
    fn put(&self, worker: u32, host: &str, conn: Conn) {
        if conn.0.is_closed() {
            return;
        }
        let mut map = self.0.borrow_mut();
        let entry = map
            .entry(worker)
            .or_insert_with(|| (host.to_string(), Vec::new()));
        if entry.0 != host {
            *entry = (host.to_string(), Vec::new());
        }
        entry.1.push(conn);
    }
}

/// What the ingress tells its client.
fn answer(code: u16, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or_default();
    response
}

/// Proxy one request to the gateway under the read timeout.
async fn proxy(
    shared: SharedRef,
    upstream: Upstream,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, io::Error> {
    let id = request_id(req.headers()).ok_or_else(|| io::Error::other("no request id"))?;
    let (worker, read_timeout, hop) = {
        let s = shared.lock();
        let read_timeout_ns = s.config.ingress.as_ref().map_or(0, |i| i.read_timeout_ns);
        (
            s.record(id).worker,
            Duration::from_nanos(read_timeout_ns),
            Duration::from_nanos(s.latency_ns),
        )
    };
    let (parts, _) = req.into_parts();
    // The worker's pooled connection to its gateway pod, or a new one where the Service
    // sends it (the model's warm pool: a caller with no pin yet pays no dial there; here the
    // first one is dialled).
    let route = edge::route(&shared, id, Caller::Ingress { worker }, false);
    let host = match &route {
        Route::Reuse(host) | Route::Dial(host) => Some(host.clone()),
        Route::Refused(_) => None,
        Route::Stale => unreachable!("the ingress's upstream is redialled, never stale"),
    };
    let pooled = match &route {
        Route::Reuse(host) => upstream.take(worker, host),
        _ => None,
    };
    let mut conn = match pooled {
        Some(conn) => conn,
        None => {
            let dial_route = match route {
                Route::Reuse(host) => Route::Dial(host),
                other => other,
            };
            let Ok(stream) = edge::connect(&shared, id, dial_route, hop).await else {
                return Ok(answer(BROKEN_UPSTREAM_STATUS, Bytes::new()));
            };
            let Ok((sender, driver)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                return Ok(answer(BROKEN_UPSTREAM_STATUS, Bytes::new()));
            };
            let task = AbortOnDrop(tokio::task::spawn_local(async move {
                let _ = driver.await;
            }));
            (sender, task)
        }
    };
    let request = Request::from_parts(parts, Empty::<Bytes>::new());
    if conn.0.ready().await.is_err() {
        return Ok(answer(BROKEN_UPSTREAM_STATUS, Bytes::new()));
    }
    // nginx's read timer: from the request sent, and again after every read.
    let head = tokio::time::timeout(read_timeout, conn.0.send_request(request)).await;
    let response = match head {
        Err(_) => return Ok(read_timed_out(&shared, id, read_timeout, conn)),
        Ok(Err(_)) => return Ok(answer(BROKEN_UPSTREAM_STATUS, Bytes::new())),
        Ok(Ok(response)) => response,
    };
    let code = response.status().as_u16();
    let mut body = response.into_body();
    let mut data = Vec::new();
    loop {
        match tokio::time::timeout(read_timeout, body.frame()).await {
            Err(_) => return Ok(read_timed_out(&shared, id, read_timeout, conn)),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Ok(answer(BROKEN_UPSTREAM_STATUS, Bytes::new())),
            Ok(Some(Ok(frame))) => {
                if let Ok(chunk) = frame.into_data() {
                    data.extend_from_slice(&chunk);
                }
            }
        }
    }
    if let Some(host) = host {
        upstream.put(worker, &host, conn);
    }
    Ok(answer(code, Bytes::from(data)))
}

/// The read timeout fired for request `id`: the upstream connection `conn` is closed (the
/// gateway's request context is cancelled; the function runs on) and the client gets 504.
fn read_timed_out(
    shared: &SharedRef,
    id: usize,
    read_timeout: Duration,
    conn: Conn,
) -> Response<Full<Bytes>> {
    drop(conn);
    let mut s = shared.lock();
    s.hint_mut(id).cause = Some(Cause::IngressReadTimeout);
    let now = now_ns();
    s.note(
        now,
        "ingress",
        format!(
            "request {id}: proxy-read-timeout {}: 504 to the client, upstream connection \
             closed (the call behind it runs on)",
            stamp(read_timeout.as_nanos() as u64)
        ),
    );
    answer(READ_TIMEOUT_STATUS, Bytes::new())
}
