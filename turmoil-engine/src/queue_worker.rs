//! The CE queue-worker as code: one host per pod (`queue-worker-N`), whose software subscribes
//! to the `nats` host and, for each message, one at a time, calls the gateway's
//! `/function/NAME` with a hyper client (a new connection per call, no timeout), posts the
//! callback with `X-Function-Status` and `X-Call-Id` when the call carries an `X-Callback-Url`,
//! and only then acknowledges the message, whatever the status (openfaas/nats-queue-worker@ed54141
//! `main.go`, `handler.go`; nats-io/stan.go@270c0a5 acks after the handler returns). Also the
//! worker Deployment's rollout (`restartQueueWorker`), driven from the step loop: a new pod
//! subscribes `startup` after its creation, and then the old one gets SIGTERM, which the CE
//! worker does not handle (it handles only SIGINT): its process ends at once, without an ack.

use std::collections::VecDeque;
use std::error::Error;
use std::time::Duration;

use faasim_model::config::AsyncConfig;
use faasim_model::gateway_deployment::Caller;
use faasim_model::ledger::{Cause, Record, RequestId, Status};
use faasim_model::time::{Nanos, stamp};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::callback::{X_CALL_ID, X_CALLBACK_URL, X_FUNCTION_STATUS};
use crate::client::{Answer, close, dial};
use crate::edge;
use crate::queue::{self, MemberId, NATS_PORT, QueueRequest};
use crate::shared::{AbortOnDrop, Hint, HostResult, SharedRef, WorkerState, X_REQUEST_ID, now_ns};

/// The host name of worker pod `member`.
pub(crate) fn host_name(member: MemberId) -> String {
    format!("queue-worker-{member}")
}

/// One worker pod's software: subscribe, then handle the messages one at a time.
pub(crate) async fn worker_main(shared: SharedRef, member: MemberId) -> HostResult {
    let (ack_wait_ns, hop, tick) = {
        let s = shared.lock();
        let ack_wait_ns = s
            .config
            .asynchronous
            .as_ref()
            .map_or(0, |a| a.queue_worker.ack_wait_ns);
        let hop = Duration::from_nanos(s.latency_ns);
        (ack_wait_ns, hop, Duration::from_millis(1))
    };
    // The worker's connect loop (`faas_max_reconnect` attempts): the server may not listen yet
    // at the run's first instant.
    let stream = loop {
        match dial((queue::HOST, NATS_PORT), hop).await {
            Ok(stream) => break stream,
            Err(_) => tokio::time::sleep(tick).await,
        }
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    // stan.go sends AckWait in whole seconds, truncated.
    let ack_wait_s = ack_wait_ns / 1_000_000_000;
    write
        .write_all(format!("SUB {member} {ack_wait_s}\n").as_bytes())
        .await?;
    let reply = lines.next_line().await?.unwrap_or_default();
    if reply != "+OK" {
        // The CE worker `log.Panic`s on a refused subscription: its pod crash-loops and never
        // consumes.
        shared.lock().note(
            now_ns(),
            host_name(member),
            format!("subscription refused ({reply}): log.Panic, never consumes"),
        );
        return std::future::pending().await;
    }
    // The NATS client's buffer: messages delivered while a call runs wait their turn.
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, QueueRequest)>();
    let reader = {
        let shared = shared.clone();
        AbortOnDrop(tokio::task::spawn_local(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut fields = line.split(' ');
                let (Some("MSG"), Some(seq), Some(_redelivered)) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    continue;
                };
                let (Ok(seq), Some(request)) = (seq.parse(), QueueRequest::decode(fields)) else {
                    continue;
                };
                if let Some(a) = shared.lock().asynchronous.as_mut() {
                    a.workers[member as usize].waiting.push_back(request.inv);
                }
                let _ = tx.send((seq, request));
            }
        }))
    };
    while let Some((seq, request)) = rx.recv().await {
        handle(&shared, member, &request, hop).await;
        // stan.go's auto-ack: after the handler returned, whatever happened in it.
        write.write_all(format!("ACK {seq}\n").as_bytes()).await?;
        if let Some(a) = shared.lock().asynchronous.as_mut() {
            a.workers[member as usize].current = None;
        }
    }
    drop(reader);
    Ok(())
}

/// One message: the call through the gateway, then the callback.
async fn handle(shared: &SharedRef, member: MemberId, request: &QueueRequest, hop: Duration) {
    let inv = request.inv;
    let exec = {
        let mut s = shared.lock();
        let now = now_ns();
        let Some(a) = s.asynchronous.as_mut() else {
            return;
        };
        let exec = a.first_exec + a.execs.len();
        a.execs.push(Record::new(exec as RequestId, member, now));
        a.exec_hints.push(Hint::default());
        a.exec_inv.push(inv);
        let w = &mut a.workers[member as usize];
        let taken = w.waiting.pop_front();
        debug_assert_eq!(taken, Some(inv), "messages are handled in delivery order");
        w.current = Some((inv, Some(exec as RequestId)));
        s.note(
            now,
            host_name(member),
            format!(
                "call {inv}: POST /function/{}, execution {exec}",
                request.function
            ),
        );
        exec
    };
    let started = now_ns();
    let result = call_function(shared, member, request, exec, hop).await;
    let answer = match &result {
        Ok((code, _)) => Answer::Code(*code),
        Err(_) => Answer::Broken,
    };
    {
        let mut s = shared.lock();
        let now = now_ns();
        close(&mut s, exec, answer, now);
        let record = s.record(exec).clone();
        let pod = record
            .pod
            .map(|p| s.pods[p as usize].name.clone())
            .unwrap_or_else(|| "-".into());
        let what = format!(
            "call {inv}: execution {exec} ends {} ({}) after {} via {pod}",
            record.status.map_or("-".to_string(), |s| s.to_string()),
            record.cause.map_or("-", |c| c.name()),
            stamp(now - started),
        );
        s.note(now, host_name(member), what);
        if let Some(a) = s.asynchronous.as_mut() {
            a.workers[member as usize].current = Some((inv, None));
        }
    }
    let Some(url) = &request.callback_url else {
        return;
    };
    // postResult: a transport error is reported as 503.
    let (status, body) = match result {
        Ok((code, body)) => (code, body),
        Err(_) => (503, Bytes::new()),
    };
    // postResult logs a failed callback and returns: the ack follows either way.
    let _ = post_result(url, &request.call_id, status, body, hop).await;
}

/// `POST http://gateway:8080/function/NAME` on a new connection (makeClient turns keep-alives
/// off), with the call's headers, and no timeout: the status and body, or a broken connection.
async fn call_function(
    shared: &SharedRef,
    member: MemberId,
    request: &QueueRequest,
    exec: usize,
    hop: Duration,
) -> Result<(u16, Bytes), Box<dyn Error>> {
    let mut builder = Request::builder()
        .method(hyper::Method::POST)
        .uri(format!("/function/{}", request.function))
        .header(hyper::header::HOST, "gateway")
        .header(X_REQUEST_ID, exec.to_string())
        .header(X_CALL_ID, request.call_id.as_str());
    if let Some(url) = &request.callback_url {
        builder = builder.header(X_CALLBACK_URL, url.as_str());
    }
    let http = builder.body(Full::new(Bytes::from(request.body.clone())))?;
    // Through the gateway's Service, on the queue-worker's own connection.
    let route = edge::route(shared, exec, Caller::QueueWorker { member }, true);
    let stream = edge::connect(shared, exec, route, hop).await?;
    exchange(stream, http).await
}

/// postResult: `POST` the function's result to the callback URL with `X-Function-Status` and
/// `X-Call-Id`, on the same client (no timeout).
async fn post_result(
    url: &str,
    call_id: &str,
    status: u16,
    body: Bytes,
    hop: Duration,
) -> Result<(u16, Bytes), Box<dyn Error>> {
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, port.parse()?),
        None => (authority, 80),
    };
    let http = Request::builder()
        .method(hyper::Method::POST)
        .uri(if path.is_empty() { "/" } else { path })
        .header(hyper::header::HOST, authority)
        .header(X_CALL_ID, call_id)
        .header(X_FUNCTION_STATUS, status.to_string())
        .body(Full::new(body))?;
    send(host, port, http, hop).await
}

/// One request on a new connection, closed after its response.
async fn send(
    host: &str,
    port: u16,
    request: Request<Full<Bytes>>,
    hop: Duration,
) -> Result<(u16, Bytes), Box<dyn Error>> {
    exchange(dial((host, port), hop).await?, request).await
}

/// One request on `stream`, a new connection closed after its response.
async fn exchange(
    stream: turmoil::net::TcpStream,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Bytes), Box<dyn Error>> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let _connection = AbortOnDrop(tokio::task::spawn_local(async move {
        let _ = conn.await;
    }));
    let response = sender.send_request(request).await?;
    let code = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((code, body))
}

/// The worker Deployment as the step loop drives it: its pods at setup, and the rollout of
/// `restartQueueWorker` (one new pod at a time; each old one gets SIGTERM when its successor
/// has started), as the model's `faasim_model::queue_worker` rolls it.
#[derive(Debug)]
pub(crate) struct WorkerDeployment {
    /// The Deployment's replicas.
    replicas: u32,
    /// A new pod's creation to its subscription.
    startup_ns: Nanos,
    /// Old pods the rollout still has to replace, oldest first.
    to_replace: VecDeque<MemberId>,
}

impl WorkerDeployment {
    /// The Deployment of `config`.
    pub(crate) fn new(config: &AsyncConfig) -> WorkerDeployment {
        WorkerDeployment {
            replicas: config.queue_worker.replicas,
            startup_ns: config.queue_worker.startup_ns,
            to_replace: VecDeque::new(),
        }
    }

    /// The first pods, started at once.
    pub(crate) fn setup(&mut self, shared: &SharedRef, sim: &mut turmoil::Sim<'_>) {
        for _ in 0..self.replicas {
            let member = Self::create(shared);
            Self::start_host(shared, member, sim);
        }
    }

    /// `restartQueueWorker`: every live pod is to be replaced; the first new pod's start, if
    /// the rollout was idle.
    pub(crate) fn restart(&mut self, now: Nanos, shared: &SharedRef) -> Option<(Nanos, MemberId)> {
        let old: Vec<MemberId> = {
            let s = shared.lock();
            let workers = s.asynchronous.as_ref().map_or(&[][..], |a| &a.workers[..]);
            (0..workers.len() as MemberId)
                .filter(|&m| workers[m as usize].alive)
                .filter(|m| !self.to_replace.contains(m))
                .collect()
        };
        let idle = self.to_replace.is_empty();
        self.to_replace.extend(old);
        if idle {
            self.replace_next(now, shared)
        } else {
            None
        }
    }

    /// Pod `member` has started: it subscribes, the oldest pod to replace gets SIGTERM, and
    /// the next new pod's start, if any remain to replace.
    pub(crate) fn started(
        &mut self,
        now: Nanos,
        member: MemberId,
        shared: &SharedRef,
        sim: &mut turmoil::Sim<'_>,
    ) -> Option<(Nanos, MemberId)> {
        shared.lock().note(now, host_name(member), "started");
        Self::start_host(shared, member, sim);
        if let Some(old) = self.to_replace.pop_front() {
            Self::sigterm(now, old, shared, sim);
        }
        self.replace_next(now, shared)
    }

    /// A pod still to be started: the rollout creates the next new one.
    fn replace_next(&mut self, now: Nanos, shared: &SharedRef) -> Option<(Nanos, MemberId)> {
        if self.to_replace.is_empty() {
            return None;
        }
        let member = Self::create(shared);
        shared
            .lock()
            .note(now, host_name(member), "created by the rollout");
        Some((now + self.startup_ns, member))
    }

    /// A new pod's state, its member id the next.
    fn create(shared: &SharedRef) -> MemberId {
        let mut s = shared.lock();
        let Some(a) = s.asynchronous.as_mut() else {
            unreachable!("a queue-worker in a synchronous run");
        };
        a.workers.push(WorkerState {
            alive: true,
            ..WorkerState::default()
        });
        (a.workers.len() - 1) as MemberId
    }

    fn start_host(shared: &SharedRef, member: MemberId, sim: &mut turmoil::Sim<'_>) {
        let shared = shared.clone();
        sim.host(host_name(member).as_str(), move || {
            worker_main(shared.clone(), member)
        });
    }

    /// SIGTERM: the CE worker handles only SIGINT, so Go's default action ends it at once: its
    /// call is cut (the connection to the gateway closes), no callback, no ack.
    fn sigterm(now: Nanos, member: MemberId, shared: &SharedRef, sim: &mut turmoil::Sim<'_>) {
        {
            let mut s = shared.lock();
            let Some(a) = s.asynchronous.as_mut() else {
                return;
            };
            let w = &mut a.workers[member as usize];
            w.alive = false;
            w.waiting.clear();
            let current = w.current.take();
            s.note(
                now,
                host_name(member),
                "SIGTERM: exits at once (handles only SIGINT), no ack",
            );
            if let Some((inv, Some(exec))) = current {
                let record = s.record_mut(exec as usize);
                record.finish(now, Status::Error, Cause::QueueWorkerExited);
                let started = record.start_ns;
                let what = format!(
                    "call {inv}: execution {exec} ends {} ({}) after {}",
                    Status::Error,
                    Cause::QueueWorkerExited.name(),
                    stamp(now - started),
                );
                s.note(now, host_name(member), what);
            }
        }
        sim.crash(host_name(member).as_str());
    }
}
