//! The load generator, as hey runs it: a closed loop of `concurrency` workers each sending
//! `requests / concurrency` requests one after the other, or an open loop sending at a fixed
//! rate. It decides when each request goes, which connection of its one shared transport it
//! goes out on ([`Transport`]: an idle one or a new dial), when it gives up (its timeout), and
//! what it keeps of an answer.

use crate::choice::request_key;
use crate::config::LoadConfig;
use crate::ledger::{Cause, RequestId, Status};
use crate::slots::Window;
use crate::time::{NS_PER_S, Nanos};
use crate::transport::Transport;

/// A timer of the load generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// A closed-loop worker sends its next request.
    Send {
        /// The worker.
        worker: u32,
    },
    /// The open loop sends its `nth` request.
    OpenLoop {
        /// Which request of the loop.
        nth: u64,
    },
}

/// One input to the load generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The load starts: arm the first sends.
    Start,
    /// A timer armed earlier is due.
    Timer(Timer),
    /// The answer to a request reached the client: a status, or a broken connection.
    Answer {
        /// The request.
        req: RequestId,
        /// What came back.
        status: Status,
        /// Why, as the ledger records it.
        cause: Cause,
    },
    /// The client's own timeout for `req` fired.
    Timeout {
        /// The request.
        req: RequestId,
    },
    /// The idle connection `req` was to go out on had been closed by its server: Go's
    /// transport had seen the FIN and dropped it, so `req` takes the next one instead.
    Stale {
        /// The request.
        req: RequestId,
    },
}

/// What the load generator asks of its engine, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send request `req` to the gateway: on a new connection (`dial`: a round trip first) or
    /// on an idle one of the transport's. `deadline_ns`: when the client gives up, if it does.
    Request {
        /// The request's id (the ledger's index).
        req: RequestId,
        /// The worker sending it.
        worker: u32,
        /// The key of the request's own draws ([`request_key`]).
        key: u64,
        /// The connection's number in the transport.
        conn: u32,
        /// A new connection is dialled first.
        dial: bool,
        /// The client's deadline.
        deadline_ns: Option<Nanos>,
    },
    /// `req`, already sent, goes out on another connection: its first was found closed.
    Connect {
        /// The request.
        req: RequestId,
        /// The connection's number in the transport.
        conn: u32,
        /// A new connection is dialled first.
        dial: bool,
    },
    /// The client stopped waiting for `req`: whatever is on its way for it is dropped and the
    /// cancel travels down the chain.
    Abandon {
        /// The request.
        req: RequestId,
    },
    /// `req` ended at the client with `status` for `cause`.
    Finish {
        /// The request.
        req: RequestId,
        /// What the client saw.
        status: Status,
        /// Why.
        cause: Cause,
    },
    /// Arm a timer of the load generator.
    Arm {
        /// When.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
}

/// One closed-loop worker (the open loop is worker 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Worker {
    /// Requests it has still to send (closed loop).
    left: u64,
    /// Requests it has sent.
    sent: u32,
    /// When it last took a tick of its `-q` ticker (or the start).
    tick_taken_ns: Nanos,
}

/// The load generator's whole state: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The scenario's load.
    load: LoadConfig,
    /// The workers, by index.
    workers: Vec<Worker>,
    /// Each request the client has sent and not retired, by id.
    sent: Window<Sent>,
    /// hey's one transport, shared by the workers.
    transport: Transport,
}

/// The client's record of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sent {
    /// The worker that sent it.
    worker: u32,
    /// The connection it went out on.
    conn: u32,
    /// Its answer (or its timeout) reached the client.
    ended: bool,
}

impl Client {
    /// Make room for the records of `requests` requests up front: a table grown by doubling
    /// copies itself and touches fresh pages at every step of a long run.
    pub fn reserve(&mut self, requests: usize) {
        self.sent.reserve(requests);
    }

    /// The load generator of `load`, before it starts.
    pub fn new(load: &LoadConfig) -> Client {
        let workers = load.concurrency.max(1) as usize;
        Client {
            load: load.clone(),
            workers: vec![Worker::default(); workers],
            sent: Window::default(),
            transport: Transport::for_hey(load.concurrency),
        }
    }

    fn open_loop(&self) -> bool {
        self.load.rate_per_s > 0
    }

    /// Requests reuse connections: a closed loop with keep-alive (hey dials per request in an
    /// open loop).
    fn keeps_connections(&self) -> bool {
        !self.open_loop() && self.load.keep_alive
    }

    /// The transport's connections (for tests and the engines' table sizes).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Requests sent so far.
    pub fn sent(&self) -> usize {
        self.sent.end() as usize
    }

    /// The client still waits for `req`'s answer.
    pub fn holds(&self, req: RequestId) -> bool {
        self.sent.get(req).is_some_and(|s| !s.ended)
    }

    /// Retire the records of requests below `id` (all answered).
    pub fn retire_below(&mut self, id: RequestId) {
        self.sent.retire_below(id);
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Start => self.start(out),
            Input::Timer(Timer::Send { worker }) => self.send(now, worker, out),
            Input::Timer(Timer::OpenLoop { nth }) => {
                self.send(now, 0, out);
                let next = nth + 1;
                if next < self.load.requests {
                    let rate = u128::from(self.load.rate_per_s);
                    let offset_ns = (u128::from(next) * u128::from(NS_PER_S) / rate) as Nanos;
                    out.push(Effect::Arm {
                        at_ns: self.load.start_ns + offset_ns,
                        timer: Timer::OpenLoop { nth: next },
                    });
                }
            }
            Input::Answer { req, status, cause } => self.answer(now, req, status, cause, out),
            Input::Timeout { req } => {
                out.push(Effect::Abandon { req });
                self.answer(now, req, Status::Error, Cause::ClientTimeout, out);
            }
            Input::Stale { req } => self.stale(req, out),
        }
    }

    /// `req`'s idle connection was closed by its server: drop it and take the next.
    fn stale(&mut self, req: RequestId, out: &mut Vec<Effect>) {
        assert!(
            self.keeps_connections(),
            "only a reused connection is stale"
        );
        let sent = &mut self.sent[req];
        assert!(!sent.ended, "request {req} is still on its way out");
        self.transport.close(sent.conn);
        let (conn, dial) = self.transport.take();
        sent.conn = conn;
        out.push(Effect::Connect { req, conn, dial });
    }

    fn start(&mut self, out: &mut Vec<Effect>) {
        let load = &self.load;
        if !self.open_loop() {
            // hey: requests / concurrency each; the remainder is not sent.
            let per_worker = load.requests / u64::from(load.concurrency.max(1));
            for worker in &mut self.workers {
                worker.left = per_worker;
            }
            if per_worker > 0 {
                let start_ns = load.start_ns;
                for worker in 0..load.concurrency {
                    self.workers[worker as usize].tick_taken_ns = start_ns;
                    out.push(Effect::Arm {
                        at_ns: self.next_tick_ns(worker, start_ns),
                        timer: Timer::Send { worker },
                    });
                }
            }
        } else if load.requests > 0 {
            out.push(Effect::Arm {
                at_ns: load.start_ns,
                timer: Timer::OpenLoop { nth: 0 },
            });
        }
    }

    fn send(&mut self, now: Nanos, worker: u32, out: &mut Vec<Effect>) {
        let open_loop = self.open_loop();
        let keep = self.keeps_connections();
        let w = &mut self.workers[worker as usize];
        if !open_loop {
            if w.left == 0 {
                return;
            }
            w.left -= 1;
            w.tick_taken_ns = now;
        }
        let req = self.sent.end();
        let key = request_key(worker, w.sent);
        w.sent += 1;
        // hey dials per request in an open loop; a closed loop takes the transport's most
        // recently used idle connection, whichever worker used it last.
        let (conn, dial) = if keep {
            self.transport.take()
        } else {
            (self.transport.dial(), true)
        };
        self.sent.push(Sent {
            worker,
            conn,
            ended: false,
        });
        let timeout_ns = self.load.timeout_ns;
        out.push(Effect::Request {
            req,
            worker,
            key,
            conn,
            dial,
            deadline_ns: (timeout_ns > 0).then(|| now + timeout_ns),
        });
    }

    fn answer(
        &mut self,
        now: Nanos,
        req: RequestId,
        status: Status,
        cause: Cause,
        out: &mut Vec<Effect>,
    ) {
        let sent = &mut self.sent[req];
        assert!(!sent.ended, "request {req} ends twice at the client");
        sent.ended = true;
        let (worker, conn) = (sent.worker, sent.conn);
        out.push(Effect::Finish { req, status, cause });
        // A response read to its end puts its connection back before hey sends again; a
        // connection that failed (or timed out) is closed.
        if self.keeps_connections() && status != Status::Error {
            self.transport.put(conn);
        } else {
            self.transport.close(conn);
        }
        if !self.open_loop() {
            out.push(Effect::Arm {
                at_ns: self.next_tick_ns(worker, now),
                timer: Timer::Send { worker },
            });
        }
    }

    /// When `worker`, ready at `now`, may send: at once without `-q`; with it, at once if a
    /// tick came since it took the last one (Go's ticker channel holds one, dropping the
    /// rest), else at the next tick. Ticks fall a period apart from the load's start.
    fn next_tick_ns(&self, worker: u32, now: Nanos) -> Nanos {
        let Some(period_ns) = self.load.qps_period_ns() else {
            return now;
        };
        let start_ns = self.load.start_ns;
        let taken_ns = self.workers[worker as usize].tick_taken_ns;
        assert!(taken_ns >= start_ns, "a tick is taken after the start");
        let next_ns = start_ns + ((taken_ns - start_ns) / period_ns + 1) * period_ns;
        next_ns.max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LoadConfig;
    use crate::time::NS_PER_MS;

    fn closed(concurrency: u32, requests: u64) -> Client {
        Client::new(&LoadConfig {
            concurrency,
            requests,
            ..LoadConfig::default()
        })
    }

    /// The answer 200 to `req`.
    fn ok(req: RequestId) -> Input {
        Input::Answer {
            req,
            status: Status::Code(200),
            cause: Cause::Handler,
        }
    }

    fn run(client: &mut Client, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        client.handle(now, input, &mut out);
        out
    }

    #[test]
    fn a_closed_loop_sends_requests_over_concurrency_each_and_drops_the_remainder() {
        let mut client = closed(2, 5);
        let out = run(&mut client, 0, Input::Start);
        assert_eq!(out.len(), 2);
        for _ in 0..3 {
            run(&mut client, 0, Input::Timer(Timer::Send { worker: 0 }));
        }
        // Two per worker: the third send of worker 0 finds nothing left.
        assert_eq!(client.sent(), 2);
        assert!(
            client.holds(0) && client.holds(1),
            "waiting for both answers"
        );
        let answer = ok(0);
        run(&mut client, 1, answer);
        assert!(!client.holds(0), "answered");
        client.retire_below(1);
        assert!(client.sent.get(0).is_none(), "forgotten");
        assert_eq!(
            client.sent(),
            2,
            "retiring keeps the count of requests sent"
        );
        assert!(client.holds(1), "kept");
    }

    #[test]
    fn with_nothing_to_send_nothing_is_armed() {
        // hey -n 1 -c 2: one request per worker rounds down to none, none sent.
        assert!(run(&mut closed(2, 1), 0, Input::Start).is_empty());
        let mut open = Client::new(&LoadConfig {
            requests: 0,
            rate_per_s: 10,
            ..LoadConfig::default()
        });
        assert!(run(&mut open, 0, Input::Start).is_empty());
    }

    #[test]
    fn each_request_of_a_worker_has_its_own_key_and_no_timeout_means_no_deadline() {
        let mut client = Client::new(&LoadConfig {
            concurrency: 1,
            requests: 2,
            timeout_ns: 0,
            ..LoadConfig::default()
        });
        run(&mut client, 0, Input::Start);
        let first = run(&mut client, 0, Input::Timer(Timer::Send { worker: 0 }));
        let answer = ok(0);
        run(&mut client, 1, answer);
        let second = run(&mut client, 1, Input::Timer(Timer::Send { worker: 0 }));
        let key = |out: &[Effect]| match out[0] {
            Effect::Request {
                key, deadline_ns, ..
            } => {
                assert_eq!(deadline_ns, None, "timeout 0: none");
                key
            }
            ref other => panic!("a request, not {other:?}"),
        };
        assert_eq!(key(&first), request_key(0, 0));
        assert_eq!(key(&second), request_key(0, 1));
    }

    #[test]
    fn a_worker_reuses_its_connection_until_an_error() {
        let mut client = closed(1, 3);
        run(&mut client, 0, Input::Start);
        let first = run(&mut client, 0, Input::Timer(Timer::Send { worker: 0 }));
        assert!(matches!(
            first[0],
            Effect::Request {
                dial: true,
                deadline_ns: Some(_),
                ..
            }
        ));
        let next = run(
            &mut client,
            1,
            Input::Answer {
                req: 0,
                status: Status::Code(200),
                cause: Cause::Handler,
            },
        );
        assert_eq!(
            next[1],
            Effect::Arm {
                at_ns: 1,
                timer: Timer::Send { worker: 0 }
            }
        );
        let second = run(&mut client, 1, Input::Timer(Timer::Send { worker: 0 }));
        assert!(matches!(
            second[0],
            Effect::Request {
                req: 1,
                dial: false,
                ..
            }
        ));
        let out = run(&mut client, 2, Input::Timeout { req: 1 });
        assert_eq!(out[0], Effect::Abandon { req: 1 });
        assert_eq!(
            out[1],
            Effect::Finish {
                req: 1,
                status: Status::Error,
                cause: Cause::ClientTimeout
            }
        );
        let third = run(&mut client, 2, Input::Timer(Timer::Send { worker: 0 }));
        assert!(matches!(
            third[0],
            Effect::Request {
                req: 2,
                dial: true,
                ..
            }
        ));
    }

    /// The connection and dial of the one request in `out`.
    fn conn_of(out: &[Effect]) -> (u32, bool) {
        match out[0] {
            Effect::Request { conn, dial, .. } => (conn, dial),
            ref other => panic!("a request, not {other:?}"),
        }
    }

    #[test]
    fn workers_share_one_transport_and_take_the_connection_put_back_last() {
        let mut client = closed(2, 4);
        run(&mut client, 0, Input::Start);
        let send = |worker| Input::Timer(Timer::Send { worker });
        assert_eq!(conn_of(&run(&mut client, 0, send(0))), (0, true));
        assert_eq!(conn_of(&run(&mut client, 0, send(1))), (1, true));
        // Worker 1's answer comes first, then worker 0's: connection 0 was put back last.
        run(&mut client, 1, ok(1));
        run(&mut client, 2, ok(0));
        assert_eq!(
            conn_of(&run(&mut client, 2, send(1))),
            (0, false),
            "worker 1 takes worker 0's connection"
        );
        assert_eq!(conn_of(&run(&mut client, 2, send(0))), (1, false));
        assert_eq!(client.transport().numbered(), 2);
    }

    /// Two workers of four requests, each with its first request sent (on connections 0, 1).
    fn two_workers_sent() -> Client {
        let mut client = closed(2, 4);
        run(&mut client, 0, Input::Start);
        for worker in 0..2 {
            run(&mut client, 0, Input::Timer(Timer::Send { worker }));
        }
        client
    }

    #[test]
    fn a_worker_whose_connection_failed_takes_an_idle_one_before_it_dials() {
        let mut client = two_workers_sent();
        let send = |worker| Input::Timer(Timer::Send { worker });
        let broken = Input::Answer {
            req: 0,
            status: Status::Error,
            cause: Cause::GatewayExited,
        };
        run(&mut client, 1, broken);
        run(&mut client, 1, ok(1));
        assert_eq!(conn_of(&run(&mut client, 1, send(0))), (1, false));
        assert_eq!(
            conn_of(&run(&mut client, 1, send(1))),
            (0, true),
            "none idle: a dial, on the failed connection's number"
        );
    }

    #[test]
    fn a_stale_connection_is_closed_and_the_request_takes_the_next_then_dials() {
        let mut client = two_workers_sent();
        let send = |worker| Input::Timer(Timer::Send { worker });
        run(&mut client, 1, ok(0));
        run(&mut client, 1, ok(1));
        assert_eq!(conn_of(&run(&mut client, 1, send(0))), (1, false));
        assert_eq!(
            run(&mut client, 1, Input::Stale { req: 2 }),
            vec![Effect::Connect {
                req: 2,
                conn: 0,
                dial: false
            }]
        );
        assert_eq!(
            run(&mut client, 1, Input::Stale { req: 2 }),
            vec![Effect::Connect {
                req: 2,
                conn: 0,
                dial: true
            }],
            "no idle one left: a dial"
        );
        run(&mut client, 2, ok(2));
        assert_eq!(client.transport().idle(), 1);
    }

    #[test]
    fn without_keep_alive_every_request_dials_and_its_connection_closes() {
        let mut client = Client::new(&LoadConfig {
            concurrency: 1,
            requests: 2,
            keep_alive: false,
            ..LoadConfig::default()
        });
        run(&mut client, 0, Input::Start);
        let send = Input::Timer(Timer::Send { worker: 0 });
        assert_eq!(conn_of(&run(&mut client, 0, send)), (0, true));
        run(&mut client, 1, ok(0));
        assert_eq!(client.transport().idle(), 0);
        assert_eq!(conn_of(&run(&mut client, 1, send)), (0, true));
    }

    #[test]
    fn an_open_loop_dials_every_request_at_its_rate() {
        let mut client = Client::new(&LoadConfig {
            concurrency: 1,
            requests: 3,
            rate_per_s: 4,
            start_ns: 10,
            keep_alive: true,
            ..LoadConfig::default()
        });
        assert_eq!(
            run(&mut client, 0, Input::Start),
            vec![Effect::Arm {
                at_ns: 10,
                timer: Timer::OpenLoop { nth: 0 }
            }]
        );
        let out = run(&mut client, 10, Input::Timer(Timer::OpenLoop { nth: 0 }));
        assert!(matches!(out[0], Effect::Request { dial: true, .. }));
        assert_eq!(
            out[1],
            Effect::Arm {
                at_ns: 10 + NS_PER_S / 4,
                timer: Timer::OpenLoop { nth: 1 }
            }
        );
        let out = run(&mut client, 11, Input::Timer(Timer::OpenLoop { nth: 1 }));
        assert!(
            matches!(out[0], Effect::Request { dial: true, .. }),
            "keep-alive or not, an open loop dials each request"
        );
        let last = run(&mut client, 12, Input::Timer(Timer::OpenLoop { nth: 2 }));
        assert_eq!(last.len(), 1, "no timer after the last request");
    }

    #[test]
    fn with_q_each_worker_waits_for_its_ticker_which_holds_one_tick() {
        // hey -c 1 -q 2: a tick every 500 ms, the first 500 ms after the start.
        let mut client = Client::new(&LoadConfig {
            concurrency: 1,
            requests: 3,
            qps_per_worker: 2,
            ..LoadConfig::default()
        });
        let out = run(&mut client, 0, Input::Start);
        assert_eq!(
            out,
            vec![Effect::Arm {
                at_ns: 500 * NS_PER_MS,
                timer: Timer::Send { worker: 0 }
            }]
        );
        run(
            &mut client,
            500 * NS_PER_MS,
            Input::Timer(Timer::Send { worker: 0 }),
        );
        // A 100 ms answer: the next tick, at 1 s.
        let answer = ok;
        let out = run(&mut client, 600 * NS_PER_MS, answer(0));
        assert!(out.contains(&Effect::Arm {
            at_ns: NS_PER_S,
            timer: Timer::Send { worker: 0 }
        }));
        run(
            &mut client,
            NS_PER_S,
            Input::Timer(Timer::Send { worker: 0 }),
        );
        // A 1.2 s answer: the tick of 1.5 s waited in the channel (the one of 2 s was dropped):
        // the next request goes at once.
        let out = run(&mut client, 2_200 * NS_PER_MS, answer(1));
        assert!(out.contains(&Effect::Arm {
            at_ns: 2_200 * NS_PER_MS,
            timer: Timer::Send { worker: 0 }
        }));
    }

    #[test]
    fn ticks_fall_a_period_apart_from_the_loads_start() {
        let mut client = Client::new(&LoadConfig {
            concurrency: 1,
            requests: 2,
            qps_per_worker: 2,
            start_ns: 300 * NS_PER_MS,
            ..LoadConfig::default()
        });
        let out = run(&mut client, 0, Input::Start);
        assert_eq!(
            out,
            vec![Effect::Arm {
                at_ns: 800 * NS_PER_MS,
                timer: Timer::Send { worker: 0 }
            }]
        );
        run(
            &mut client,
            800 * NS_PER_MS,
            Input::Timer(Timer::Send { worker: 0 }),
        );
        let answer = ok(0);
        let out = run(&mut client, 900 * NS_PER_MS, answer);
        assert!(
            out.contains(&Effect::Arm {
                at_ns: 1_300 * NS_PER_MS,
                timer: Timer::Send { worker: 0 }
            }),
            "{out:?}"
        );
    }

    proptest::proptest! {
        /// However sends, answers, failures and stale connections interleave, a closed loop's
        /// transport never gives one connection to two requests at once, reuses only idle
        /// connections, and never has more connections than workers (a dial only when none
        /// is idle).
        #[test]
        fn the_shared_transport_never_doubles_a_connection_or_outgrows_the_workers(
            concurrency in 1u32..6,
            steps in proptest::collection::vec((0u8..4, 0u8..8), 0..120),
        ) {
            let mut client = closed(concurrency, 40);
            let mut due: Vec<u32> = Vec::new();
            let mut flying: Vec<(RequestId, u32, bool)> = Vec::new();
            let mut idle: Vec<u32> = Vec::new();
            let mut out = run(&mut client, 0, Input::Start);
            for (kind, pick) in steps {
                for effect in out.drain(..) {
                    match effect {
                        Effect::Arm { timer: Timer::Send { worker }, .. } => due.push(worker),
                        Effect::Request { req, conn, dial, .. } | Effect::Connect { req, conn, dial } => {
                            proptest::prop_assert!(
                                flying.iter().all(|&(r, c, _)| r == req || c != conn),
                                "connection {conn} is in use"
                            );
                            if dial {
                                proptest::prop_assert!(idle.is_empty(), "a dial with {idle:?} idle");
                            } else {
                                proptest::prop_assert_eq!(idle.pop(), Some(conn), "the newest idle one");
                            }
                            flying.retain(|&(r, _, _)| r != req);
                            flying.push((req, conn, dial));
                        }
                        _ => {}
                    }
                }
                proptest::prop_assert!(client.transport().numbered() <= concurrency);
                proptest::prop_assert!(client.transport().idle() <= concurrency as usize);
                let pick = usize::from(pick);
                match kind {
                    0 if !due.is_empty() => {
                        let worker = due.remove(pick % due.len());
                        out = run(&mut client, 1, Input::Timer(Timer::Send { worker }));
                    }
                    1 | 2 if !flying.is_empty() => {
                        let (req, conn, _) = flying.remove(pick % flying.len());
                        let status = if kind == 1 { Status::Code(200) } else { Status::Error };
                        if status != Status::Error {
                            idle.push(conn);
                        }
                        out = run(&mut client, 1, Input::Answer { req, status, cause: Cause::Handler });
                    }
                    3 => {
                        // Only a connection taken from the idle list can be found closed.
                        let reused: Vec<usize> = (0..flying.len()).filter(|&i| !flying[i].2).collect();
                        if let Some(&i) = reused.get(pick % reused.len().max(1)) {
                            let req = flying[i].0;
                            out = run(&mut client, 1, Input::Stale { req });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
