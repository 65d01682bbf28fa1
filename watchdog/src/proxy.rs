//! HTTP mode: forward a request to the upstream child as of-watchdog's `HTTPFunctionRunner.Run`
//! does, through a keep-alive pool that behaves like the Go `http.Transport` it builds in
//! `makeProxyClient` (idle connections closed after 500 ms; a request that meets a pooled
//! connection the server just closed is retried on another connection only when Go's
//! `shouldRetryRequest` would retry it).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use crate::body::{self, BoxBody, BoxError, Deadline, DeadlineBody};
use crate::config::Settings;
use crate::net::Connect;
use crate::server::Tasks;

/// The header of-watchdog and faas-middleware put on the responses they make themselves.
pub const X_OPENFAAS_INTERNAL: HeaderName = HeaderName::from_static("x-openfaas-internal");

/// The handler's duration in seconds, with Go's `%f` (six decimals).
pub const X_DURATION_SECONDS: HeaderName = HeaderName::from_static("x-duration-seconds");

/// `IdleConnTimeout` of of-watchdog's upstream transport.
pub const IDLE_CONN_TIMEOUT: Duration = Duration::from_millis(500);

/// `MaxIdleConnsPerHost` of the same transport.
const MAX_IDLE: usize = 100;

/// Headers that describe one hop's connection, never forwarded as such.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// A request to send upstream.
pub(crate) struct Outgoing {
    /// The method, unchanged.
    pub(crate) method: Method,
    /// The request URI as received (path and query); appended to the upstream URL's path.
    pub(crate) target: String,
    /// The client's headers.
    pub(crate) headers: HeaderMap,
    /// The body, or `None` when there is none (Go's `http.NoBody`).
    pub(crate) body: Option<BoxBody>,
}

impl Outgoing {
    /// The incoming request as it is forwarded; its body keeps the read deadline.
    pub(crate) fn from_incoming(
        req: Request<Incoming>,
        read_deadline: Option<Instant>,
    ) -> Outgoing {
        use http_body_util::BodyExt;
        let (parts, incoming) = req.into_parts();
        let target = parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_string(),
            |pq| pq.as_str().to_string(),
        );
        let body = (!incoming.is_end_stream())
            .then(|| DeadlineBody::new(incoming, read_deadline, Deadline::Read).boxed_unsync());
        Outgoing {
            method: parts.method,
            target,
            headers: parts.headers,
            body,
        }
    }
}

/// `getTimeout`: `X-Timeout` may lower exec_timeout (a Go duration no greater than it);
/// anything else leaves it. A result of 0 or less means no deadline at all.
pub(crate) fn exec_timeout_ns(headers: &HeaderMap, default_ns: i64) -> i64 {
    let lowered = headers
        .get("x-timeout")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .and_then(|v| faasim_model::duration::parse_go(v).ok())
        .filter(|ns| *ns <= default_ns);
    lowered.unwrap_or(default_ns)
}

/// Go's `isReplayable` for a body-less request: idempotent method or an idempotency key.
fn idempotent(method: &Method, headers: &HeaderMap) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || headers.contains_key("idempotency-key")
        || headers.contains_key("x-idempotency-key")
}

fn internal(status: StatusCode, started: Instant) -> Response<BoxBody> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(X_DURATION_SECONDS, duration_value(started));
    headers.insert(X_OPENFAAS_INTERNAL, HeaderValue::from_static("of-watchdog"));
    response
}

fn duration_value(started: Instant) -> HeaderValue {
    let seconds = Instant::now().duration_since(started).as_secs_f64();
    HeaderValue::from_str(&format!("{seconds:.6}")).unwrap_or(HeaderValue::from_static("0"))
}

/// Forward one request and turn the outcome into the response of-watchdog gives:
/// the upstream's own response; 504 (empty, `X-OpenFaaS-Internal: of-watchdog`) when
/// exec_timeout passed first; 500 (same headers) when the upstream refused, reset or closed.
pub(crate) async fn forward<C: Connect>(
    settings: &Settings,
    upstream: &Upstream<C>,
    out: Outgoing,
) -> Response<BoxBody> {
    let started = Instant::now();
    let exec_ns = exec_timeout_ns(&out.headers, settings.exec_timeout_ns());
    let deadline = u64::try_from(exec_ns)
        .ok()
        .filter(|ns| *ns > 0)
        .map(|ns| started + Duration::from_nanos(ns));
    // Go concatenates the upstream URL and the request URI as strings.
    let target = format!("{}{}", settings.upstream_base_path(), out.target);
    let uri = match target.parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => {
            let mut response = Response::new(body::full(e.to_string()));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
    };
    let mut headers = out.headers;
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    // hyper derives the framing from the body, as Go's transport ignores these headers.
    headers.remove(header::CONTENT_LENGTH);
    if !headers.contains_key(header::HOST)
        && let Ok(host) = HeaderValue::from_str(&settings.upstream_authority())
    {
        headers.insert(header::HOST, host);
    }

    let attempt = upstream.round_trip(out.method, uri, headers, out.body);
    let outcome = match deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => return internal(StatusCode::GATEWAY_TIMEOUT, started),
        },
        None => attempt.await,
    };
    let (response, on_end) = match outcome {
        Ok(pair) => pair,
        Err(_) => return internal(StatusCode::INTERNAL_SERVER_ERROR, started),
    };

    let (parts, incoming) = response.into_parts();
    let mut response = Response::new(());
    *response.status_mut() = parts.status;
    let closes = parts
        .headers
        .get_all(header::CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    *response.headers_mut() = parts.headers;
    for name in &HOP_BY_HOP {
        response.headers_mut().remove(name);
    }
    if closes {
        // Go copies the child's `Connection: close` into its own response, and its server
        // then closes the client connection after this response (the child sends it while
        // shutting down).
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
        .headers_mut()
        .insert(X_DURATION_SECONDS, duration_value(started));

    use http_body_util::BodyExt;
    let body = if incoming.is_end_stream() {
        on_end.finish();
        body::empty()
    } else {
        // exec_timeout is a context deadline in Go: it also cuts the body short.
        DeadlineBody::new(
            ReturnToPool {
                inner: incoming,
                on_end: Some(on_end),
            },
            deadline,
            Deadline::Exec,
        )
        .boxed_unsync()
    };
    response.map(|()| body)
}

/// An idle pooled connection.
struct Idle {
    /// The connection's request half.
    sender: SendRequest<BoxBody>,
    /// When it was returned to the pool.
    since: Instant,
}

/// The keep-alive pool towards the upstream, and the connector that fills it.
pub(crate) struct Upstream<C> {
    /// Dials a new connection to the upstream.
    connector: C,
    /// Oldest first; Go reuses the most recently returned connection.
    idle: Mutex<Vec<Idle>>,
    /// The connection tasks, aborted with the watchdog.
    tasks: Tasks,
    /// Itself, for the timers and response bodies that outlive a borrow.
    me: Weak<Upstream<C>>,
}

/// Returns a connection to the pool once its response body has been read to the end.
pub(crate) struct PoolReturn {
    /// The connection to return.
    sender: SendRequest<BoxBody>,
    /// The pool to return it to, if it still exists.
    upstream: Weak<dyn Checkin>,
}

impl PoolReturn {
    fn finish(self) {
        if let Some(upstream) = self.upstream.upgrade() {
            upstream.checkin(self.sender);
        }
    }
}

/// The part of the pool that a response body needs, without the connector type.
trait Checkin: Send + Sync {
    fn checkin(&self, sender: SendRequest<BoxBody>);
}

impl<C: Connect> Upstream<C> {
    pub(crate) fn new(connector: C, tasks: Tasks) -> Arc<Upstream<C>> {
        Arc::new_cyclic(|me| Upstream {
            connector,
            idle: Mutex::new(Vec::new()),
            tasks,
            me: me.clone(),
        })
    }

    /// Take the newest idle connection that is still usable, as Go's `getConn` does.
    fn take_idle(&self) -> Option<SendRequest<BoxBody>> {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(conn) = idle.pop() {
            if now.duration_since(conn.since) >= IDLE_CONN_TIMEOUT {
                // The transport has closed it; every older one is older still.
                idle.clear();
                return None;
            }
            if conn.sender.is_closed() {
                // Its read loop saw the server's close (Go: `isBroken`): skipped, no error.
                continue;
            }
            return Some(conn.sender);
        }
        None
    }

    /// Drop idle connections past the idle timeout, as the transport's timers do.
    fn evict_stale(&self) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|conn| now.duration_since(conn.since) < IDLE_CONN_TIMEOUT);
    }

    /// A pooled connection, or a new one. `true` when reused.
    async fn checkout(&self) -> Result<(SendRequest<BoxBody>, bool), BoxError> {
        while let Some(mut sender) = self.take_idle() {
            // Ready once its previous exchange is fully done; an error means it closed in
            // the meantime, before anything was written: try the next one.
            if sender.ready().await.is_ok() {
                return Ok((sender, true));
            }
        }
        let io = self.connector.connect().await?;
        let (sender, conn) = http1::handshake(TokioIo::new(io)).await?;
        self.tasks.spawn(async move {
            // Ends when the connection closes or every sender is dropped.
            let _ = conn.await;
        });
        Ok((sender, false))
    }
}

impl<C: Connect> Upstream<C> {
    /// Send one request; on a reused connection that fails, retry as Go's transport does:
    /// only a body-less request, and only if it is replayable (idempotent method or an
    /// idempotency key) or was never written. A POST with a body is never retried.
    async fn round_trip(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        mut body: Option<BoxBody>,
    ) -> Result<(Response<Incoming>, PoolReturn), BoxError> {
        let bodiless = body.is_none();
        let replayable = bodiless && idempotent(&method, &headers);
        loop {
            let (mut sender, reused) = self.checkout().await?;
            let mut request = Request::new(body.take().unwrap_or_else(body::empty));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = headers.clone();
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let upstream: Weak<dyn Checkin> = self.me.clone();
                    return Ok((response, PoolReturn { sender, upstream }));
                }
                Err(err) => {
                    let unsent = err.message().is_some();
                    if reused && bodiless && (replayable || unsent) {
                        continue;
                    }
                    return Err(err.into_error().into());
                }
            }
        }
    }
}

impl<C: Connect> Checkin for Upstream<C> {
    fn checkin(&self, sender: SendRequest<BoxBody>) {
        if sender.is_closed() {
            return;
        }
        {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.push(Idle {
                sender,
                since: Instant::now(),
            });
            if idle.len() > MAX_IDLE {
                idle.remove(0);
            }
        }
        // Go closes an idle connection once IdleConnTimeout passes; so does this timer, so
        // the child sees the same connections open.
        let me = self.me.clone();
        self.tasks.spawn(async move {
            tokio::time::sleep(IDLE_CONN_TIMEOUT).await;
            if let Some(upstream) = me.upgrade() {
                upstream.evict_stale();
            }
        });
    }
}

/// The upstream response body; hands its connection back to the pool at the end.
struct ReturnToPool {
    /// The upstream's response body.
    inner: Incoming,
    /// Hands the connection back at the end (`None` once it has).
    on_end: Option<PoolReturn>,
}

impl Body for ReturnToPool {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended && let Some(on_end) = self.on_end.take() {
            on_end.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_timeout_only_lowers() {
        let mut headers = HeaderMap::new();
        let s = 1_000_000_000;
        assert_eq!(exec_timeout_ns(&headers, 10 * s), 10 * s);
        headers.insert("x-timeout", HeaderValue::from_static("2s"));
        assert_eq!(exec_timeout_ns(&headers, 10 * s), 2 * s);
        headers.insert("x-timeout", HeaderValue::from_static("20s"));
        assert_eq!(exec_timeout_ns(&headers, 10 * s), 10 * s);
        headers.insert("x-timeout", HeaderValue::from_static("bogus"));
        assert_eq!(exec_timeout_ns(&headers, 10 * s), 10 * s);
        // A negative X-Timeout is "lower" too, and disables the deadline, as in Go.
        headers.insert("x-timeout", HeaderValue::from_static("-1s"));
        assert_eq!(exec_timeout_ns(&headers, 10 * s), -s);
    }

    #[test]
    fn replayable_is_go_isreplayable() {
        let mut headers = HeaderMap::new();
        assert!(idempotent(&Method::GET, &headers));
        assert!(!idempotent(&Method::POST, &headers));
        headers.insert("idempotency-key", HeaderValue::from_static("k"));
        assert!(idempotent(&Method::POST, &headers));
    }
}
