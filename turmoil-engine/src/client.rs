//! The client host: hey, with `concurrency` workers in a closed loop (one keep-alive
//! connection each) or an open loop at `rate` (a dial per request), each request recorded in
//! the ledger and closed with the status it saw and the cause the gateway recorded. An
//! asynchronous load (`load.async`) posts to `/async-function/NAME`, its 202 the request's end.

use std::error::Error;
use std::io;
use std::time::Duration;

use faasim_model::choice::request_key;
use faasim_model::config::Method;
use faasim_model::ledger::{Cause, Record, Status};
use faasim_model::time::{NS_PER_S, Nanos};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::callback::{CALLBACK_URL, X_CALLBACK_URL};
use crate::edge::{self, Route};
use crate::gateway::black_hole_fate;
use crate::ingress;
use crate::shared::{AbortOnDrop, Hint, HostResult, PORT, Shared, SharedRef, X_REQUEST_ID, now_ns};

pub(crate) type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// hey: `concurrency` workers in a closed loop, or an open loop at `rate`.
pub(crate) async fn client_main(shared: SharedRef) -> HostResult {
    let load = shared.lock().config.load.clone();
    if load.start_ns > 0 {
        tokio::time::sleep(Duration::from_nanos(load.start_ns)).await;
    }
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    if load.rate_per_s == 0 {
        let per_worker = load.requests / u64::from(load.concurrency.max(1));
        for worker in 0..load.concurrency {
            let shared = shared.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut conn = None;
                for _ in 0..per_worker {
                    send_one(&shared, worker, &mut conn).await;
                }
            }));
        }
    } else {
        for k in 0..load.requests {
            let offset =
                (u128::from(k) * u128::from(NS_PER_S) / u128::from(load.rate_per_s)) as u64;
            tokio::time::sleep_until(start + Duration::from_nanos(offset)).await;
            let shared = shared.clone();
            tasks.push(tokio::task::spawn_local(async move {
                send_one(&shared, 0, &mut None).await;
            }));
        }
    }
    for task in tasks {
        task.await?;
    }
    Ok(())
}

/// A TCP dial as on a real network. turmoil completes `connect` the moment the server's host
/// takes the SYN (or refuses it), handing the SYN-ACK or the RST back without latency; a real
/// one comes back a hop later, and only then can the request go out.
pub(crate) async fn dial(to: (&str, u16), hop: Duration) -> io::Result<turmoil::net::TcpStream> {
    let connected = turmoil::net::TcpStream::connect(to).await;
    tokio::time::sleep(hop).await;
    connected
}

/// hyper's HTTP/1 client on a new connection, driven by a task that closes it when dropped.
async fn handshake(
    stream: turmoil::net::TcpStream,
) -> Result<(Sender, AbortOnDrop), Box<dyn Error>> {
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let task = AbortOnDrop(tokio::task::spawn_local(async move {
        let _ = conn.await;
    }));
    Ok((sender, task))
}

/// One request: record it, send it (reusing the worker's keep-alive connection), close it.
async fn send_one(shared: &SharedRef, worker: u32, conn: &mut Option<(Sender, AbortOnDrop)>) {
    let (id, load, hop, asynchronous, function, ingress) = {
        let mut s = shared.lock();
        let id = s.ledger.len();
        let now = now_ns();
        s.ledger.push(Record::new(id as u32, worker, now));
        s.hints.push(Hint::default());
        let sent = s.worker_sent[worker as usize];
        s.worker_sent[worker as usize] += 1;
        s.keys.push(request_key(worker, sent));
        (
            id,
            s.config.load.clone(),
            Duration::from_nanos(s.latency_ns),
            s.config.asynchronous.clone(),
            s.config.function.name.clone(),
            s.config.ingress.is_some(),
        )
    };
    let method = match load.method {
        Method::Get => hyper::Method::GET,
        Method::Post => hyper::Method::POST,
    };
    let attempt = async {
        let reusable = match conn.as_mut() {
            Some((sender, _)) => load.keep_alive && sender.ready().await.is_ok(),
            None => false,
        };
        if ingress {
            // The client's connection is to the ingress, which picks the gateway pod.
            if !reusable {
                *conn = None;
                *conn = Some(handshake(dial((ingress::HOST, PORT), hop).await?).await?);
            }
        } else {
            // kube-proxy and conntrack: the open connection's pod, or a new one's.
            match edge::route(shared, id, worker, !reusable) {
                Route::Reuse(_) if reusable => {}
                route => {
                    *conn = None;
                    *conn = Some(handshake(edge::connect(shared, id, route, hop).await?).await?);
                }
            }
        }
        let Some((sender, _)) = conn.as_mut() else {
            return Err::<u16, Box<dyn Error>>("no connection".into());
        };
        // An asynchronous load posts to the gateway's async route, with the receiver's URL
        // when it asks for callbacks (`load.async`, `load.callback`).
        let mut request = Request::builder()
            .method(method)
            .uri(match &asynchronous {
                Some(_) => format!("/async-function/{}", function),
                None => "/function/fn".to_string(),
            })
            .header(hyper::header::HOST, "gateway")
            .header(X_REQUEST_ID, id.to_string());
        if asynchronous.as_ref().is_some_and(|a| a.callback) {
            request = request.header(X_CALLBACK_URL, CALLBACK_URL);
        }
        let request = request.body(Empty::new())?;
        let response = sender.send_request(request).await?;
        let code = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(code)
    };
    let result = if load.timeout_ns > 0 {
        tokio::time::timeout(Duration::from_nanos(load.timeout_ns), attempt).await
    } else {
        Ok(attempt.await)
    };
    let answer = match result {
        Err(_) => Answer::TimedOut,
        Ok(Ok(code)) => Answer::Code(code),
        Ok(Err(_)) => Answer::Broken,
    };
    if !matches!(answer, Answer::Code(_)) {
        *conn = None;
    }
    close(&mut shared.lock(), id, answer, now_ns());
}

/// How a caller's request to the gateway ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The caller's own timeout ran out first.
    TimedOut,
    /// A whole response with this status.
    Code(u16),
    /// The connection broke before a whole response came.
    Broken,
}

/// Close request (or execution) `id`'s record at `now` with what its caller saw and what the
/// gateway learnt of it.
pub(crate) fn close(s: &mut Shared, id: usize, answer: Answer, now: Nanos) {
    let hint = s.hint(id);
    let (lost, refused) = match (answer, hint.cause) {
        // The client gave up first: what a dead node did to the request still counts.
        (Answer::TimedOut, None) => black_hole_fate(s, id),
        _ => (hint.lost, hint.refused),
    };
    let record = s.record_mut(id);
    record.lost = lost;
    record.refused = refused;
    record.retried = hint.retried;
    match answer {
        Answer::TimedOut => record.finish(now, Status::Error, Cause::ClientTimeout),
        Answer::Code(code) => record.finish(
            now,
            Status::Code(code),
            hint.cause.unwrap_or(Cause::Handler),
        ),
        Answer::Broken => record.finish(
            now,
            Status::Error,
            hint.cause.unwrap_or(Cause::GatewayWriteTimeout),
        ),
    }
}
