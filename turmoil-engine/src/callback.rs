//! The callback receiver host behind the async client's `X-Callback-Url`: an HTTP server on
//! `callback:8000` that records every callback with the `X-Function-Status` it carries, keyed
//! by its `X-Call-Id`, and answers 200 after `load.callbackDuration` (the queue-worker's client
//! has no timeout, so a slow receiver holds the worker and its ack).

use std::io;
use std::time::Duration;

use faasim_model::ledger::Status;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::shared::{HostResult, SharedRef, now_ns};

/// The receiver's host name.
pub(crate) const HOST: &str = "callback";

/// The receiver's port.
pub(crate) const CALLBACK_PORT: u16 = 8000;

/// The URL the async client puts in `X-Callback-Url`.
pub(crate) const CALLBACK_URL: &str = "http://callback:8000/";

/// The header naming where the queue-worker posts the result.
pub(crate) const X_CALLBACK_URL: &str = "x-callback-url";

/// The header carrying the call's id, from the gateway's 202 to the callback.
pub(crate) const X_CALL_ID: &str = "x-call-id";

/// The header carrying the function's status in a callback.
pub(crate) const X_FUNCTION_STATUS: &str = "x-function-status";

/// The receiver: records each callback at its arrival, answers after the scenario's duration.
pub(crate) async fn callback_main(shared: SharedRef) -> HostResult {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", CALLBACK_PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                async move { receive(&shared, &req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One callback: recorded against the invocation whose `X-Call-Id` it carries.
async fn receive(
    shared: &SharedRef,
    req: &Request<Incoming>,
) -> Result<Response<Full<Bytes>>, io::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let call_id = header(X_CALL_ID).ok_or_else(|| io::Error::other("no X-Call-Id"))?;
    let status: u16 = header(X_FUNCTION_STATUS)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no X-Function-Status"))?;
    let (duration_ns, accepted, inv) = {
        let mut s = shared.lock();
        let (duration_ns, failures) = s
            .config
            .asynchronous
            .as_ref()
            .map_or((0, 0), |a| (a.callback_duration_ns, a.callback_failures));
        let ledger = s
            .asynchronous
            .as_mut()
            .ok_or_else(|| io::Error::other("a callback in a synchronous run"))?;
        let inv = ledger
            .call_ids
            .iter()
            .position(|id| id.as_deref() == Some(call_id.as_str()))
            .ok_or_else(|| io::Error::other(format!("unknown X-Call-Id {call_id}")))?;
        if ledger.callbacks.len() <= inv {
            ledger.callbacks.resize(inv + 1, Vec::new());
        }
        if ledger.callbacks_failed.len() <= inv {
            ledger.callbacks_failed.resize(inv + 1, 0);
        }
        // The first `callbackFailures` callbacks of each call are turned away, unrecorded.
        let accepted = ledger.callbacks_failed[inv] >= failures;
        if accepted {
            ledger.callbacks[inv].push(Status::Code(status));
            s.note(
                now_ns(),
                "callback",
                format!("call {inv}: callback with X-Function-Status {status}"),
            );
        } else {
            ledger.callbacks_failed[inv] += 1;
        }
        (duration_ns, accepted, inv)
    };
    if duration_ns > 0 {
        tokio::time::sleep(Duration::from_nanos(duration_ns)).await;
    }
    if !accepted {
        shared.lock().note(
            now_ns(),
            "callback",
            format!("call {inv}: callback failed (500), not recorded"),
        );
        let mut answer = Response::new(Full::new(Bytes::new()));
        *answer.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(answer);
    }
    Ok(Response::new(Full::new(Bytes::new())))
}
