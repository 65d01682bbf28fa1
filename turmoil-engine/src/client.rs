//! The client host: hey, with `concurrency` workers in a closed loop sharing one keep-alive
//! transport (the model's `Transport` picks the connection; the open ones are kept here) or
//! an open loop at `rate` (a dial per request), each request recorded in the ledger and closed
//! with the status it saw and the cause the gateway recorded. An asynchronous load
//! (`load.async`) posts to `/async-function/NAME`, its 202 the request's end.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::error::Error;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use faasim_model::choice::request_key;
use faasim_model::config::Method;
use faasim_model::gateway_deployment::Caller;
use faasim_model::ledger::{Cause, Record, Status};
use faasim_model::time::{NS_PER_S, Nanos};
use faasim_model::transport::Transport;
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

/// An open connection: hyper's sending half, and the task driving it (dropped, it closes).
type Conn = (Sender, AbortOnDrop);

/// hey's one transport, shared by its workers: the model's [`Transport`] decides which
/// connection each request takes, and the idle ones are kept here by number.
struct Pool {
    /// The connections' numbers and which one goes next.
    transport: Transport,
    /// The idle connections, by number.
    idle: BTreeMap<u32, Conn>,
    /// Requests reuse connections: a closed loop with keep-alive.
    keep: bool,
}

type PoolRef = Rc<RefCell<Pool>>;

impl Pool {
    /// The connection the next request goes out on: an idle one, or a number to dial.
    fn take(&mut self) -> (u32, Option<Conn>) {
        if !self.keep {
            return (self.transport.dial(), None);
        }
        let (number, dial) = self.transport.take();
        let conn = (!dial).then(|| {
            self.idle
                .remove(&number)
                .expect("an idle connection is kept")
        });
        (number, conn)
    }

    /// A request on connection `number` ended: a whole response (`conn` open) puts it back,
    /// anything else closes it.
    fn give_back(&mut self, number: u32, conn: Option<Conn>) {
        match conn {
            Some(conn) if self.keep => {
                if self.transport.put(number) {
                    self.idle.insert(number, conn);
                }
            }
            _ => self.transport.close(number),
        }
    }
}

/// hey: `concurrency` workers in a closed loop, or an open loop at `rate`.
pub(crate) async fn client_main(shared: SharedRef) -> HostResult {
    let load = shared.lock().config.load.clone();
    if load.start_ns > 0 {
        tokio::time::sleep(Duration::from_nanos(load.start_ns)).await;
    }
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    let pool = Rc::new(RefCell::new(Pool {
        transport: Transport::for_hey(load.concurrency),
        idle: BTreeMap::new(),
        keep: load.rate_per_s == 0 && load.keep_alive,
    }));
    if load.rate_per_s == 0 {
        let per_worker = load.requests / u64::from(load.concurrency.max(1));
        for worker in 0..load.concurrency {
            let shared = shared.clone();
            let pool = pool.clone();
            // hey's `-q`: each worker's own `time.Tick`, the first tick a period after the
            // start. Go's ticker channel holds one tick and drops the rest, which is tokio's
            // `Skip`: a late worker takes the held tick at once, the next on the period's grid.
            let mut ticker = load.qps_period_ns().map(|period_ns| {
                let period = Duration::from_nanos(period_ns);
                let mut ticker = tokio::time::interval_at(start + period, period);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                ticker
            });
            tasks.push(tokio::task::spawn_local(async move {
                for _ in 0..per_worker {
                    if let Some(ticker) = ticker.as_mut() {
                        ticker.tick().await;
                    }
                    send_one(&shared, worker, &pool).await;
                }
            }));
        }
    } else {
        for k in 0..load.requests {
            let offset =
                (u128::from(k) * u128::from(NS_PER_S) / u128::from(load.rate_per_s)) as u64;
            tokio::time::sleep_until(start + Duration::from_nanos(offset)).await;
            let shared = shared.clone();
            let pool = pool.clone();
            tasks.push(tokio::task::spawn_local(async move {
                send_one(&shared, 0, &pool).await;
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

/// One request: record it, send it (on the transport's most recently used idle connection,
/// or a new one), close it.
async fn send_one(shared: &SharedRef, worker: u32, pool: &PoolRef) {
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
    let (mut number, mut conn) = pool.borrow_mut().take();
    let attempt = async {
        if ingress {
            // The client's connection is to the ingress, which picks the gateway pod.
            if !ready(&mut conn).await {
                conn = None;
                conn = Some(handshake(dial((ingress::HOST, PORT), hop).await?).await?);
            }
        } else {
            // kube-proxy and conntrack: the open connection's pod, or a new one's. An idle
            // connection its pod closed is dropped for the next one, as Go's transport does.
            loop {
                let reusable = ready(&mut conn).await;
                match edge::route(shared, id, Caller::Client { conn: number }, !reusable) {
                    Route::Reuse(_) if reusable => break,
                    Route::Stale => {
                        let mut pool = pool.borrow_mut();
                        pool.give_back(number, None);
                        (number, conn) = pool.take();
                    }
                    route => {
                        conn = None;
                        conn = Some(handshake(edge::connect(shared, id, route, hop).await?).await?);
                        break;
                    }
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
    let whole = matches!(answer, Answer::Code(_));
    pool.borrow_mut()
        .give_back(number, if whole { conn } else { None });
    close(&mut shared.lock(), id, answer, now_ns());
}

/// The connection is open and ready for a request (hyper has not seen it closed).
async fn ready(conn: &mut Option<Conn>) -> bool {
    match conn.as_mut() {
        Some((sender, _)) => sender.ready().await.is_ok(),
        None => false,
    }
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
