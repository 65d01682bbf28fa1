//! The client host: hey, with `concurrency` workers in a closed loop (one keep-alive
//! connection each) or an open loop at `rate` (a dial per request), each request recorded in
//! the ledger and closed with the status it saw and the cause the gateway recorded.

use std::error::Error;
use std::io;
use std::time::Duration;

use faasim_model::choice::request_key;
use faasim_model::config::Method;
use faasim_model::ledger::{Cause, Record, Status};
use faasim_model::time::NS_PER_S;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::gateway::black_hole_fate;
use crate::shared::{AbortOnDrop, Hint, HostResult, PORT, SharedRef, X_REQUEST_ID, now_ns};

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

async fn connect_gateway(hop: Duration) -> Result<(Sender, AbortOnDrop), Box<dyn Error>> {
    let stream = dial(("gateway", PORT), hop).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let task = AbortOnDrop(tokio::task::spawn_local(async move {
        let _ = conn.await;
    }));
    Ok((sender, task))
}

/// One request: record it, send it (reusing the worker's keep-alive connection), close it.
async fn send_one(shared: &SharedRef, worker: u32, conn: &mut Option<(Sender, AbortOnDrop)>) {
    let (id, load, hop) = {
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
        if !reusable {
            *conn = Some(connect_gateway(hop).await?);
        }
        let Some((sender, _)) = conn.as_mut() else {
            return Err::<u16, Box<dyn Error>>("no connection".into());
        };
        let request = Request::builder()
            .method(method)
            .uri("/function/fn")
            .header(hyper::header::HOST, "gateway")
            .header(X_REQUEST_ID, id.to_string())
            .body(Empty::new())?;
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
    let now = now_ns();
    let mut s = shared.lock();
    let hint = s.hints[id];
    let (lost, refused) = match (&result, hint.cause) {
        // The client gave up first: what a dead node did to the request still counts.
        (Err(_), None) => black_hole_fate(&s, id),
        _ => (hint.lost, hint.refused),
    };
    let record = &mut s.ledger[id];
    record.lost = lost;
    record.refused = refused;
    record.retried = hint.retried;
    match result {
        Err(_) => {
            *conn = None;
            record.finish(now, Status::Error, Cause::ClientTimeout);
        }
        Ok(Ok(code)) => {
            record.finish(
                now,
                Status::Code(code),
                hint.cause.unwrap_or(Cause::Handler),
            );
        }
        Ok(Err(_)) => {
            *conn = None;
            record.finish(
                now,
                Status::Error,
                hint.cause.unwrap_or(Cause::GatewayWriteTimeout),
            );
        }
    }
}
