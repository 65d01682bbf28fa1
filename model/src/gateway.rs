//! The OpenFaaS gateway's part of a call: it holds requests while the function scales from
//! zero (polling for an available replica, with its 250 ms cache of the last reading),
//! forwards them to the provider under its
//! `upstream_timeout` (502 past it), and writes the answer back within its server's
//! `write_timeout` (past it the client gets a broken connection and no status). One value of
//! it is one gateway pod's process: on SIGTERM it exits and cuts every call in flight (CE) or
//! drains (`GatewaySigterm::Drain`).

use crate::config::{GatewayConfig, GatewaySigterm, server_limit_ns};
use crate::ledger::{Cause, RequestId, Status};
use crate::slots::Window;
use crate::time::{NS_PER_MS, Nanos};

/// How long the scale-from-zero handler trusts its last reading of the function's replicas
/// (openfaas/faas@8d803bf9 gateway/main.go `CacheExpiry: 250 ms`, "freshness of replica values
/// before going stale"; gateway/scaling/function_cache.go: a hit while not past it).
pub const CACHE_EXPIRY_NS: Nanos = 250 * NS_PER_MS;

/// A timer of the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// A held request looks again for an available replica.
    Poll {
        /// The request.
        req: RequestId,
    },
    /// A draining gateway closes its listener.
    Close,
}

/// One input to the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A request reached the gateway.
    Request {
        /// The request.
        req: RequestId,
    },
    /// A request reached the gateway's async route, `POST /async-function/NAME`.
    Queue {
        /// The request.
        req: RequestId,
    },
    /// A timer armed earlier is due.
    Timer(Timer),
    /// The provider answered `req` (a status of the function, or one of its own).
    Answer {
        /// The request.
        req: RequestId,
        /// The status code.
        code: u16,
        /// Why, as the ledger records it.
        cause: Cause,
    },
    /// The upstream timeout of `req` fired.
    UpstreamTimeout {
        /// The request.
        req: RequestId,
    },
    /// The client gave up on `req`.
    Abandoned {
        /// The request.
        req: RequestId,
    },
    /// The provider's view now holds `count` endpoints (the replicas the gateway sees as
    /// available).
    Endpoints {
        /// Endpoints in the view.
        count: usize,
    },
    /// The kubelet's SIGTERM.
    Sigterm,
    /// The kubelet's SIGKILL at the end of the grace period.
    Sigkill,
}

/// What the gateway asks of its engine, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Ask the control plane for `replicas` (it takes it only while the Deployment wants 0).
    ScaleFromZero {
        /// The replicas asked for.
        replicas: u32,
    },
    /// Call the provider for `req`; the gateway gives up at `upstream_deadline_ns`.
    Forward {
        /// The request.
        req: RequestId,
        /// When the upstream timeout fires.
        upstream_deadline_ns: Nanos,
    },
    /// The gateway gives up its call for `req`: the cancel goes down the chain.
    Abandon {
        /// The request.
        req: RequestId,
    },
    /// Publish `req`'s call to the queue (NATS Streaming's `faas-request`).
    Publish {
        /// The request.
        req: RequestId,
    },
    /// Write the answer for `req` back to the client.
    Respond {
        /// The request.
        req: RequestId,
        /// What the client will see.
        status: Status,
        /// Why.
        cause: Cause,
    },
    /// Arm a timer of the gateway.
    Arm {
        /// When.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
    /// The listener closed (a drain): idle client connections are closed with it.
    ListenerClosed,
    /// The process ended: every connection to it is closed.
    Exited,
}

/// Where the gateway process is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum Life {
    /// Serving.
    #[default]
    Serving,
    /// SIGTERM came and it drains; `closed` once its listener is closed.
    Draining {
        /// The listener is closed: new connections are refused.
        closed: bool,
    },
    /// The process has ended.
    Exited,
}

/// Where a request is, as the gateway sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum State {
    /// Not here yet.
    #[default]
    Coming,
    /// Held while the function scales from zero.
    Held,
    /// Forwarded: the provider has it.
    Forwarded,
    /// Answered, or its client gone.
    Done,
}

/// The gateway's record of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Call {
    /// Where the request is.
    state: State,
    /// When it reached the gateway (the server's write timeout runs from here).
    arrive_ns: Nanos,
    /// Polls for an available replica so far.
    polls: u32,
}

/// The gateway's whole state: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway {
    /// The gateway's settings.
    config: GatewayConfig,
    /// Replicas asked for when scaling from zero (the function's `scale_min`, at least 1).
    scale_to: u32,
    /// Endpoints in the provider's view.
    available: usize,
    /// The scale-from-zero handler's cache: when it last stored a reading, and the available
    /// replicas it read then.
    cached: Option<(Nanos, usize)>,
    /// Each request's record, by id (the open ones).
    calls: Window<Call>,
    /// Calls held or forwarded, not yet answered or given up.
    in_flight: usize,
    /// Where the process is in its life.
    life: Life,
}

impl Gateway {
    /// Make room for the records of `requests` requests up front: a table grown by doubling
    /// copies itself and touches fresh pages at every step of a long run.
    pub fn reserve(&mut self, requests: usize) {
        self.calls.reserve(requests);
    }

    /// A gateway with `config` for a function that scales from zero to `scale_min`.
    pub fn new(config: &GatewayConfig, scale_min: u32) -> Gateway {
        Gateway {
            config: config.clone(),
            scale_to: scale_min.max(1),
            available: 0,
            cached: None,
            calls: Window::default(),
            in_flight: 0,
            life: Life::Serving,
        }
    }

    fn call(&mut self, req: RequestId) -> &mut Call {
        self.calls.slot(req)
    }

    /// The gateway still holds `req` (held for a replica, or forwarded and not answered).
    pub fn holds(&self, req: RequestId) -> bool {
        self.calls
            .get(req)
            .is_some_and(|c| matches!(c.state, State::Held | State::Forwarded))
    }

    /// Retire the records of requests below `id` (the router knows none of them will reach
    /// this component again).
    pub fn retire_below(&mut self, id: RequestId) {
        self.calls.retire_below(id);
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Request { req } => {
                if !self.arrive(now, req, out) {
                    return;
                }
                self.in_flight += 1;
                // openfaas/faas@8d803bf9 gateway/scaling/function_scaler.go `Scale`: a fresh
                // cached reading with a replica available forwards at once; otherwise the live
                // reading, which forwards when it finds one and else is cached.
                if !self.config.scale_from_zero || self.cache_hit(now) || self.available > 0 {
                    self.forward(now, req, out);
                    return;
                }
                self.cached = Some((now, self.available));
                out.push(Effect::ScaleFromZero {
                    replicas: self.scale_to,
                });
                // The holding loop reads at once before its first sleep; here that reading is
                // the one just taken, at the same instant, so the first sleep starts now.
                let call = self.call(req);
                call.state = State::Held;
                call.polls = 1;
                out.push(Effect::Arm {
                    at_ns: now + self.config.poll_interval_ns,
                    timer: Timer::Poll { req },
                });
            }
            Input::Queue { req } => {
                // MakeQueuedProxy (openfaas/faas@8d803bf gateway/handlers/queue_proxy.go):
                // the body and headers are published and the client gets 202 with its
                // X-Call-Id; no function-existence check, no scale from zero. The publish
                // waits for the server's ack, a round trip faasim does not add.
                if !self.arrive(now, req, out) {
                    return;
                }
                self.call(req).state = State::Done;
                out.push(Effect::Publish { req });
                out.push(Effect::Respond {
                    req,
                    status: Status::Code(202),
                    cause: Cause::Queued,
                });
            }
            Input::Timer(Timer::Poll { req }) => {
                let (available, attempts) = (self.available, self.config.poll_attempts);
                let call = self.call(req);
                if call.state != State::Held {
                    return;
                }
                // Each reading of the holding loop is cached.
                self.cached = Some((now, available));
                let call = self.call(req);
                if available > 0 || call.polls >= attempts {
                    self.forward(now, req, out);
                    return;
                }
                call.polls += 1;
                out.push(Effect::Arm {
                    at_ns: now + self.config.poll_interval_ns,
                    timer: Timer::Poll { req },
                });
            }
            Input::Timer(Timer::Close) => {
                if self.life == (Life::Draining { closed: false }) {
                    self.life = Life::Draining { closed: true };
                    out.push(Effect::ListenerClosed);
                    self.exit_when_idle(out);
                }
            }
            Input::Answer { req, code, cause } => {
                if self.call(req).state == State::Forwarded {
                    self.respond(now, req, code, cause, out);
                }
            }
            Input::UpstreamTimeout { req } => {
                out.push(Effect::Abandon { req });
                self.respond(now, req, 502, Cause::UpstreamTimeout, out);
            }
            Input::Abandoned { req } => {
                self.settle(req);
                self.exit_when_idle(out);
            }
            Input::Endpoints { count } => self.available = count,
            Input::Sigterm => match (self.life, self.config.on_sigterm) {
                (Life::Serving, GatewaySigterm::Exit) => self.exit(out),
                (Life::Serving, GatewaySigterm::Drain { delay_ns }) => {
                    self.life = Life::Draining { closed: false };
                    out.push(Effect::Arm {
                        at_ns: now + delay_ns,
                        timer: Timer::Close,
                    });
                }
                // A second SIGTERM changes nothing.
                _ => {}
            },
            Input::Sigkill => {
                if self.life != Life::Exited {
                    self.exit(out);
                }
            }
        }
    }

    /// `req` reaches the gateway at `now`, on either route; whether it is accepted. A gateway
    /// whose process is gone or whose listener is closed refuses the connection (a reused one
    /// finds itself closed) and the call ends here.
    fn arrive(&mut self, now: Nanos, req: RequestId, out: &mut Vec<Effect>) -> bool {
        let accepting = self.accepting();
        let call = self.call(req);
        assert_eq!(
            call.state,
            State::Coming,
            "request {req} reaches the gateway twice"
        );
        call.arrive_ns = now;
        if !accepting {
            call.state = State::Done;
            out.push(Effect::Respond {
                req,
                status: Status::Error,
                cause: Cause::GatewayRefused,
            });
        }
        accepting
    }

    /// A cached reading, not yet stale at `now`, with a replica available.
    fn cache_hit(&self, now: Nanos) -> bool {
        self.cached
            .is_some_and(|(at_ns, available)| available > 0 && now <= at_ns + CACHE_EXPIRY_NS)
    }

    /// New connections are accepted and requests on open ones served.
    fn accepting(&self) -> bool {
        matches!(self.life, Life::Serving | Life::Draining { closed: false })
    }

    /// The call of `req` ends here; whether it was still in flight.
    fn settle(&mut self, req: RequestId) -> bool {
        let call = self.call(req);
        let live = matches!(call.state, State::Held | State::Forwarded);
        call.state = State::Done;
        if live {
            assert!(self.in_flight > 0, "in-flight count underflow");
            self.in_flight -= 1;
        }
        live
    }

    /// A draining gateway whose listener is closed exits once its last call is answered.
    fn exit_when_idle(&mut self, out: &mut Vec<Effect>) {
        if self.life == (Life::Draining { closed: true }) && self.in_flight == 0 {
            self.life = Life::Exited;
            out.push(Effect::Exited);
        }
    }

    /// The process ends: every call in flight is cut (the client's connection closes with no
    /// status, and the call to the provider is cancelled, the function running on unobserved).
    fn exit(&mut self, out: &mut Vec<Effect>) {
        if self.in_flight > 0 {
            let open: Vec<(RequestId, State)> =
                self.calls.iter().map(|(req, c)| (req, c.state)).collect();
            for (req, state) in open {
                if !matches!(state, State::Held | State::Forwarded) {
                    continue;
                }
                if state == State::Forwarded {
                    out.push(Effect::Abandon { req });
                }
                self.settle(req);
                out.push(Effect::Respond {
                    req,
                    status: Status::Error,
                    cause: Cause::GatewayExited,
                });
            }
        }
        assert_eq!(self.in_flight, 0, "every call in flight was cut");
        self.life = Life::Exited;
        out.push(Effect::Exited);
    }

    fn forward(&mut self, now: Nanos, req: RequestId, out: &mut Vec<Effect>) {
        self.call(req).state = State::Forwarded;
        out.push(Effect::Forward {
            req,
            upstream_deadline_ns: now + self.config.upstream_timeout_ns,
        });
    }

    /// Past the server's write timeout the write fails: the client sees the connection
    /// break, with no status. A write_timeout of 0 is none (Go's `http.Server`).
    fn respond(
        &mut self,
        now: Nanos,
        req: RequestId,
        code: u16,
        cause: Cause,
        out: &mut Vec<Effect>,
    ) {
        let write_timeout_ns = self.config.write_timeout_ns;
        let arrive_ns = self.call(req).arrive_ns;
        self.settle(req);
        let late = server_limit_ns(write_timeout_ns).is_some_and(|limit| now - arrive_ns > limit);
        let (status, cause) = if late {
            (Status::Error, Cause::GatewayWriteTimeout)
        } else {
            (Status::Code(code), cause)
        };
        out.push(Effect::Respond { req, status, cause });
        self.exit_when_idle(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn gateway(scale_from_zero: bool) -> Gateway {
        let config = GatewayConfig {
            scale_from_zero,
            ..GatewayConfig::default()
        };
        Gateway::new(&config, 0)
    }

    fn run(gateway: &mut Gateway, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        gateway.handle(now, input, &mut out);
        out
    }

    #[test]
    fn with_no_replica_it_scales_from_zero_and_holds_until_one_is_available() {
        let mut gw = gateway(true);
        let out = run(&mut gw, 0, Input::Request { req: 0 });
        assert_eq!(out[0], Effect::ScaleFromZero { replicas: 1 });
        let poll = gw.config.poll_interval_ns;
        assert_eq!(
            out[1],
            Effect::Arm {
                at_ns: poll,
                timer: Timer::Poll { req: 0 }
            }
        );
        let out = run(&mut gw, poll, Input::Timer(Timer::Poll { req: 0 }));
        assert!(
            matches!(out[0], Effect::Arm { .. }),
            "still nothing available: poll again"
        );
        run(&mut gw, poll, Input::Endpoints { count: 1 });
        let out = run(&mut gw, 2 * poll, Input::Timer(Timer::Poll { req: 0 }));
        assert!(matches!(out[0], Effect::Forward { req: 0, .. }));
    }

    #[test]
    fn a_reading_that_found_a_replica_is_trusted_for_250_ms() {
        let mut gw = gateway(true);
        run(&mut gw, 0, Input::Request { req: 0 });
        run(&mut gw, 0, Input::Endpoints { count: 1 });
        let poll = gw.config.poll_interval_ns;
        let out = run(&mut gw, poll, Input::Timer(Timer::Poll { req: 0 }));
        assert!(matches!(out[0], Effect::Forward { req: 0, .. }));
        // The replica leaves the view; within the cache's freshness a request is forwarded
        // anyway (the provider then finds no endpoint), past it the live reading holds it.
        run(&mut gw, poll + 1, Input::Endpoints { count: 0 });
        // 250 ms written out: the upstream value, not the constant under test.
        let expiry = 250 * NS_PER_MS;
        let out = run(&mut gw, poll + expiry, Input::Request { req: 1 });
        assert!(matches!(out[0], Effect::Forward { req: 1, .. }));
        let out = run(&mut gw, poll + expiry + 1, Input::Request { req: 2 });
        assert_eq!(out[0], Effect::ScaleFromZero { replicas: 1 });
    }

    #[test]
    fn a_held_request_polls_every_interval_and_is_forwarded_after_the_last_attempt() {
        let mut gw = gateway(true);
        let (interval, attempts) = (gw.config.poll_interval_ns, gw.config.poll_attempts);
        assert!(attempts > 1, "the chart's gateway polls more than once");
        run(&mut gw, 0, Input::Request { req: 0 });
        // The request's own reading is the first attempt; each poll is one more.
        let mut now = 7;
        for poll in 1..attempts {
            let out = run(&mut gw, now, Input::Timer(Timer::Poll { req: 0 }));
            assert_eq!(
                out,
                vec![Effect::Arm {
                    at_ns: now + interval,
                    timer: Timer::Poll { req: 0 }
                }],
                "poll {poll} finds no replica and waits one interval"
            );
            now += interval;
        }
        let out = run(&mut gw, now, Input::Timer(Timer::Poll { req: 0 }));
        assert!(
            matches!(out[0], Effect::Forward { req: 0, .. }),
            "the attempts are spent: forwarded anyway ({out:?})"
        );
    }

    #[test]
    fn a_live_reading_that_finds_a_replica_is_not_cached() {
        // function_scaler.go returns before `Cache.Set` when the live reading finds one.
        let mut gw = gateway(true);
        run(&mut gw, 0, Input::Endpoints { count: 1 });
        let out = run(&mut gw, 0, Input::Request { req: 0 });
        assert!(matches!(out[0], Effect::Forward { req: 0, .. }));
        run(&mut gw, 1, Input::Endpoints { count: 0 });
        let out = run(&mut gw, 2, Input::Request { req: 1 });
        assert_eq!(out[0], Effect::ScaleFromZero { replicas: 1 });
        // That reading found none and is cached: a fresh reading of none is no hit either.
        let out = run(&mut gw, 3, Input::Request { req: 2 });
        assert_eq!(out[0], Effect::ScaleFromZero { replicas: 1 });
    }

    #[test]
    fn a_held_request_whose_client_left_is_not_forwarded() {
        let mut gw = gateway(true);
        run(&mut gw, 0, Input::Request { req: 0 });
        run(&mut gw, 1, Input::Abandoned { req: 0 });
        run(&mut gw, 1, Input::Endpoints { count: 1 });
        assert!(run(&mut gw, 2, Input::Timer(Timer::Poll { req: 0 })).is_empty());
    }

    #[test]
    fn past_the_write_timeout_the_client_gets_no_status() {
        let mut gw = gateway(false);
        let out = run(&mut gw, 0, Input::Request { req: 0 });
        assert!(matches!(out[0], Effect::Forward { req: 0, .. }));
        let late = gw.config.write_timeout_ns + 1;
        let out = run(
            &mut gw,
            late,
            Input::Answer {
                req: 0,
                code: 200,
                cause: Cause::Handler,
            },
        );
        assert_eq!(
            out,
            vec![Effect::Respond {
                req: 0,
                status: Status::Error,
                cause: Cause::GatewayWriteTimeout
            }]
        );
    }

    #[test]
    fn it_holds_a_call_while_forwarded_or_held_and_forgets_it_when_retired() {
        let mut gw = gateway(true);
        assert!(!gw.holds(0), "not here yet");
        run(&mut gw, 0, Input::Request { req: 0 });
        assert!(gw.holds(0), "held for a replica");
        run(&mut gw, 0, Input::Endpoints { count: 1 });
        let mut gw = gateway(false);
        run(&mut gw, 0, Input::Request { req: 0 });
        run(&mut gw, 0, Input::Request { req: 1 });
        assert!(gw.holds(0) && gw.holds(1), "forwarded");
        let answer = Input::Answer {
            req: 0,
            code: 200,
            cause: Cause::Handler,
        };
        run(&mut gw, NS_PER_S, answer);
        assert!(!gw.holds(0), "answered");
        gw.retire_below(1);
        assert!(gw.calls.get(0).is_none(), "retired");
        assert!(gw.holds(1), "kept");
    }

    #[test]
    fn the_write_timeout_runs_from_the_arrival_and_an_answer_at_it_is_in_time() {
        let mut gw = gateway(false);
        let write = gw.config.write_timeout_ns;
        let arrive = 5 * NS_PER_S;
        run(&mut gw, arrive, Input::Request { req: 0 });
        run(&mut gw, arrive, Input::Request { req: 1 });
        let answer = |req| Input::Answer {
            req,
            code: 200,
            cause: Cause::Handler,
        };
        assert_eq!(
            run(&mut gw, arrive + write, answer(0)),
            vec![Effect::Respond {
                req: 0,
                status: Status::Code(200),
                cause: Cause::Handler
            }],
            "at the write timeout exactly: in time"
        );
        assert_eq!(
            run(&mut gw, arrive + write + 1, answer(1)),
            vec![Effect::Respond {
                req: 1,
                status: Status::Error,
                cause: Cause::GatewayWriteTimeout
            }],
            "a nanosecond past it: too late"
        );
    }

    #[test]
    fn the_upstream_timeout_gives_up_the_call_and_answers_502() {
        let mut gw = gateway(false);
        run(&mut gw, 0, Input::Request { req: 0 });
        let out = run(&mut gw, 60 * NS_PER_S, Input::UpstreamTimeout { req: 0 });
        assert_eq!(out[0], Effect::Abandon { req: 0 });
        assert_eq!(
            out[1],
            Effect::Respond {
                req: 0,
                status: Status::Code(502),
                cause: Cause::UpstreamTimeout
            }
        );
    }

    #[test]
    fn on_sigterm_the_ce_gateway_exits_and_cuts_every_call_in_flight() {
        let mut gw = gateway(false);
        run(&mut gw, 0, Input::Request { req: 0 });
        run(&mut gw, 0, Input::Request { req: 1 });
        let out = run(&mut gw, 5, Input::Sigterm);
        assert_eq!(
            out,
            vec![
                Effect::Abandon { req: 0 },
                Effect::Respond {
                    req: 0,
                    status: Status::Error,
                    cause: Cause::GatewayExited
                },
                Effect::Abandon { req: 1 },
                Effect::Respond {
                    req: 1,
                    status: Status::Error,
                    cause: Cause::GatewayExited
                },
                Effect::Exited,
            ]
        );
        // Gone: a request that still reaches it is refused; a late answer goes nowhere.
        let out = run(&mut gw, 6, Input::Request { req: 2 });
        assert_eq!(
            out,
            vec![Effect::Respond {
                req: 2,
                status: Status::Error,
                cause: Cause::GatewayRefused
            }]
        );
        let answer = Input::Answer {
            req: 0,
            code: 200,
            cause: Cause::Handler,
        };
        assert!(run(&mut gw, 7, answer).is_empty());
    }

    #[test]
    fn a_draining_gateway_serves_until_its_listener_closes_then_exits_when_idle() {
        let config = GatewayConfig {
            scale_from_zero: false,
            on_sigterm: GatewaySigterm::Drain { delay_ns: 10 },
            ..GatewayConfig::default()
        };
        let mut gw = Gateway::new(&config, 0);
        run(&mut gw, 0, Input::Request { req: 0 });
        let out = run(&mut gw, 1, Input::Sigterm);
        assert_eq!(
            out,
            vec![Effect::Arm {
                at_ns: 11,
                timer: Timer::Close
            }]
        );
        // Still accepting before the close.
        assert!(matches!(
            run(&mut gw, 5, Input::Request { req: 1 })[0],
            Effect::Forward { req: 1, .. }
        ));
        assert_eq!(
            run(&mut gw, 11, Input::Timer(Timer::Close)),
            vec![Effect::ListenerClosed]
        );
        assert!(matches!(
            run(&mut gw, 12, Input::Request { req: 2 })[0],
            Effect::Respond {
                cause: Cause::GatewayRefused,
                ..
            }
        ));
        let answer = |req| Input::Answer {
            req,
            code: 200,
            cause: Cause::Handler,
        };
        let out = run(&mut gw, 20, answer(0));
        assert_eq!(out.len(), 1, "one call still in flight");
        let out = run(&mut gw, 30, answer(1));
        assert_eq!(out.last(), Some(&Effect::Exited));
        // SIGKILL after the exit changes nothing.
        assert!(run(&mut gw, 40, Input::Sigkill).is_empty());
    }

    #[test]
    fn the_async_route_publishes_and_answers_202_without_scaling() {
        let mut gateway = Gateway::new(&GatewayConfig::default(), 1);
        let mut out = Vec::new();
        gateway.handle(5, Input::Queue { req: 3 }, &mut out);
        assert_eq!(
            out,
            vec![
                Effect::Publish { req: 3 },
                Effect::Respond {
                    req: 3,
                    status: Status::Code(202),
                    cause: Cause::Queued
                }
            ]
        );
    }
}
