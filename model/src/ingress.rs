//! An ingress controller or load balancer in front of the gateway (ingress-nginx, an AWS ALB):
//! it forwards each request to the gateway and passes the answer back, under its read timeout
//! (ingress-nginx's `proxy-read-timeout`, an ALB's idle timeout). Past it the client gets 504
//! and the ingress closes its connection to the gateway, whose request context Go then
//! cancels; the cancel goes down the chain, but the function's handler runs on to its end.
//! A gateway that closes the connection without a status (its write_timeout cut the answer)
//! gets the client a 502 from the ingress.

use crate::config::IngressConfig;
use crate::ledger::{Cause, RequestId, Status};
use crate::slots::Window;
use crate::time::Nanos;

/// The status ingress-nginx answers when the upstream read timed out (`proxy_read_timeout`:
/// `NGX_HTTP_GATEWAY_TIME_OUT`).
pub const READ_TIMEOUT_STATUS: u16 = 504;

/// The status ingress-nginx answers when the upstream closed the connection without a
/// response (`upstream prematurely closed connection`: `NGX_HTTP_BAD_GATEWAY`).
pub const BROKEN_UPSTREAM_STATUS: u16 = 502;

/// One input to the ingress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A request reached the ingress.
    Request {
        /// The request.
        req: RequestId,
    },
    /// The gateway's answer to `req` reached the ingress: a status, or a connection closed
    /// with none.
    Answer {
        /// The request.
        req: RequestId,
        /// What the gateway wrote.
        status: Status,
        /// Why, as the ledger records it.
        cause: Cause,
    },
    /// The read timeout of `req` fired.
    ReadTimeout {
        /// The request.
        req: RequestId,
    },
    /// The client gave up on `req` (closed its connection).
    Abandoned {
        /// The request.
        req: RequestId,
    },
}

/// What the ingress asks of its engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Forward `req` to the gateway; the ingress gives up at `read_deadline_ns`.
    Forward {
        /// The request.
        req: RequestId,
        /// When the read timeout fires.
        read_deadline_ns: Nanos,
    },
    /// The ingress closes its connection to the gateway for `req`: the cancel goes down the
    /// chain.
    Abandon {
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
    /// A line for the timeline (only when tracing).
    Note {
        /// What happened.
        what: String,
    },
}

/// Where a request is, as the ingress sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum State {
    /// Not here yet.
    #[default]
    Coming,
    /// Forwarded: the gateway has it.
    Forwarded,
    /// Answered, or its client gone.
    Done,
}

/// The ingress's whole state: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingress {
    /// The ingress's settings.
    config: IngressConfig,
    /// Each request's state, by id.
    calls: Window<State>,
    /// Whether to write timeline notes.
    tracing: bool,
}

impl Ingress {
    /// An ingress with `config`; `tracing`: write timeline notes.
    pub fn new(config: &IngressConfig, tracing: bool) -> Ingress {
        Ingress {
            config: config.clone(),
            calls: Window::default(),
            tracing,
        }
    }

    /// Make room for the records of `requests` requests up front: a table grown by doubling
    /// copies itself and touches fresh pages at every step of a long run.
    pub fn reserve(&mut self, requests: usize) {
        self.calls.reserve(requests);
    }

    fn call(&mut self, req: RequestId) -> &mut State {
        self.calls.slot(req)
    }

    /// The ingress still holds `req` (forwarded, its answer not yet passed on).
    pub fn holds(&self, req: RequestId) -> bool {
        self.calls.get(req) == Some(&State::Forwarded)
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
                let state = self.call(req);
                assert_eq!(
                    *state,
                    State::Coming,
                    "request {req} reaches the ingress twice"
                );
                *state = State::Forwarded;
                // nginx arms the read timer once the request is sent upstream; the model
                // writes a request in one piece, at once.
                out.push(Effect::Forward {
                    req,
                    read_deadline_ns: now + self.config.read_timeout_ns,
                });
            }
            Input::Answer { req, status, cause } => {
                if !self.finish(req) {
                    return;
                }
                // A gateway that closed the connection with no status (its write_timeout cut
                // the answer): nginx answers 502 in its place; the cause stays the gateway's.
                let status = match status {
                    Status::Code(code) => Status::Code(code),
                    Status::Error => Status::Code(BROKEN_UPSTREAM_STATUS),
                };
                out.push(Effect::Respond { req, status, cause });
            }
            Input::ReadTimeout { req } => {
                if !self.finish(req) {
                    return;
                }
                if self.tracing {
                    out.push(Effect::Note {
                        what: format!(
                            "request {req}: proxy-read-timeout {}: 504 to the client, \
                             upstream connection closed (the call behind it runs on)",
                            crate::time::stamp(self.config.read_timeout_ns)
                        ),
                    });
                }
                out.push(Effect::Abandon { req });
                out.push(Effect::Respond {
                    req,
                    status: Status::Code(READ_TIMEOUT_STATUS),
                    cause: Cause::IngressReadTimeout,
                });
            }
            Input::Abandoned { req } => *self.call(req) = State::Done,
        }
    }

    /// Mark `req` answered; false when it was not waiting for an answer any more.
    fn finish(&mut self, req: RequestId) -> bool {
        let state = self.call(req);
        if *state != State::Forwarded {
            return false;
        }
        *state = State::Done;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn ingress() -> Ingress {
        Ingress::new(&IngressConfig::default(), false)
    }

    fn run(ingress: &mut Ingress, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        ingress.handle(now, input, &mut out);
        out
    }

    #[test]
    fn a_request_is_forwarded_under_the_read_timeout_and_its_answer_passed_back() {
        let mut ing = ingress();
        let out = run(&mut ing, 5, Input::Request { req: 0 });
        assert_eq!(
            out,
            vec![Effect::Forward {
                req: 0,
                read_deadline_ns: 5 + 60 * NS_PER_S
            }]
        );
        let answer = Input::Answer {
            req: 0,
            status: Status::Code(200),
            cause: Cause::Handler,
        };
        assert_eq!(
            run(&mut ing, NS_PER_S, answer),
            vec![Effect::Respond {
                req: 0,
                status: Status::Code(200),
                cause: Cause::Handler
            }]
        );
        assert!(
            run(&mut ing, 60 * NS_PER_S, Input::ReadTimeout { req: 0 }).is_empty(),
            "answered: the timer is spent"
        );
    }

    #[test]
    fn it_holds_a_call_from_forward_to_answer_and_forgets_it_when_retired() {
        let mut ing = ingress();
        assert!(!ing.holds(0), "not here yet");
        run(&mut ing, 0, Input::Request { req: 0 });
        run(&mut ing, 0, Input::Request { req: 1 });
        assert!(ing.holds(0) && ing.holds(1), "forwarded");
        let answer = Input::Answer {
            req: 0,
            status: Status::Code(200),
            cause: Cause::Handler,
        };
        run(&mut ing, NS_PER_S, answer);
        assert!(!ing.holds(0), "answered");
        assert!(ing.holds(1), "still forwarded");
        ing.retire_below(1);
        assert_eq!(ing.calls.get(0), None, "retired");
        assert_eq!(ing.calls.get(1), Some(&State::Forwarded), "kept");
    }

    #[test]
    fn past_the_read_timeout_the_client_gets_504_and_the_call_is_given_up() {
        let mut ing = ingress();
        run(&mut ing, 0, Input::Request { req: 0 });
        let out = run(&mut ing, 60 * NS_PER_S, Input::ReadTimeout { req: 0 });
        assert_eq!(
            out,
            vec![
                Effect::Abandon { req: 0 },
                Effect::Respond {
                    req: 0,
                    status: Status::Code(504),
                    cause: Cause::IngressReadTimeout
                }
            ]
        );
        let late = Input::Answer {
            req: 0,
            status: Status::Code(200),
            cause: Cause::Handler,
        };
        assert!(run(&mut ing, 90 * NS_PER_S, late).is_empty());
    }

    #[test]
    fn tracing_notes_the_read_timeout_first() {
        let mut ing = Ingress::new(&IngressConfig::default(), true);
        run(&mut ing, 0, Input::Request { req: 3 });
        let out = run(&mut ing, 60 * NS_PER_S, Input::ReadTimeout { req: 3 });
        assert!(
            matches!(&out[0], Effect::Note { what } if what.starts_with("request 3: proxy-read-timeout"))
        );
        assert_eq!(out[1], Effect::Abandon { req: 3 });
    }

    #[test]
    fn a_gateway_that_closes_without_a_status_becomes_a_502() {
        let mut ing = ingress();
        run(&mut ing, 0, Input::Request { req: 0 });
        let broken = Input::Answer {
            req: 0,
            status: Status::Error,
            cause: Cause::GatewayWriteTimeout,
        };
        assert_eq!(
            run(&mut ing, 65 * NS_PER_S, broken),
            vec![Effect::Respond {
                req: 0,
                status: Status::Code(502),
                cause: Cause::GatewayWriteTimeout
            }]
        );
    }

    #[test]
    fn a_request_whose_client_left_answers_nothing() {
        let mut ing = ingress();
        run(&mut ing, 0, Input::Request { req: 0 });
        run(&mut ing, NS_PER_S, Input::Abandoned { req: 0 });
        assert!(run(&mut ing, 60 * NS_PER_S, Input::ReadTimeout { req: 0 }).is_empty());
    }
}
