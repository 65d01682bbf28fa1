//! The faas-netes provider's proxy: its lagging view of the function's endpoints, the pick of
//! an endpoint for each call, its Go transport's keep-alive pool towards each pod (reuse,
//! dial, the keep-alive race and Go's retry of a replayable request), its client timeout
//! (`read_timeout`, 500 "Can't reach service") and its server's `write_timeout` (502).

use crate::choice::{Chooser, Stream};
use crate::config::{ProviderConfig, server_limit_ns};
use crate::ledger::{Cause, Fact, PodId, RequestId};
use crate::message::Msg;
use crate::pool::{Checkout, Pool, Reach};
use crate::slots::Window;
use crate::time::Nanos;

/// One input to the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A pod object exists (the provider will hold a pool towards it).
    PodCreated {
        /// The pod.
        pod: PodId,
        /// Its name, for the timeline.
        name: String,
    },
    /// An endpoint change reached the provider's informer.
    Route {
        /// The pod.
        pod: PodId,
        /// In the view from now on.
        routed: bool,
    },
    /// A pod of a warm start: in the view from time 0.
    Warm {
        /// The pod.
        pod: PodId,
    },
    /// The gateway's call for `req`.
    Forward {
        /// The request.
        req: RequestId,
        /// The key of the request's own draws.
        key: u64,
    },
    /// A reused connection was closed under `req`.
    Reset {
        /// The request.
        req: RequestId,
        /// The pod it was sent to.
        pod: PodId,
    },
    /// A response or a transport error for `req` came back.
    Answer {
        /// The request.
        req: RequestId,
        /// The status code.
        code: u16,
        /// Why.
        cause: Cause,
        /// The pod whose connection goes back to the pool, when it stays usable.
        reuse: Option<PodId>,
    },
    /// The provider's timeout for `req` fired.
    Timeout {
        /// The request.
        req: RequestId,
    },
    /// The call for `req` ended above the provider (the gateway or the client gave up).
    Abandoned {
        /// The request.
        req: RequestId,
    },
    /// Pod `pod` closed every connection now (Shutdown's idle close, its process's end).
    ServerClosed {
        /// The pod.
        pod: PodId,
    },
    /// Pod `pod`'s host vanished without closing anything.
    Vanished {
        /// The pod.
        pod: PodId,
    },
    /// The gateway pod got SIGTERM: faas-netes's signal handler only stops its informers
    /// (openfaas/faas-netes@662ce9ce main.go 175-177, pkg/signals/signal.go) and its server,
    /// started with a context that is never done, keeps proxying with the view it has.
    Sigterm,
}

/// What the provider asks of its engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The provider's timeout for `req` is due at `at_ns`.
    Deadline {
        /// The request.
        req: RequestId,
        /// When.
        at_ns: Nanos,
    },
    /// Something the ledger keeps about `req`.
    Learn {
        /// The request.
        req: RequestId,
        /// What.
        fact: Fact,
    },
    /// Put `msg` for `req` on the network, arriving `hops` hops from now.
    Send {
        /// The request.
        req: RequestId,
        /// Hops (half round trips) until it arrives.
        hops: u64,
        /// What.
        msg: Msg,
    },
    /// The provider gives up its call for `req`: the cancel goes down to the pod.
    Abandon {
        /// The request.
        req: RequestId,
    },
    /// The provider answers the gateway.
    Answer {
        /// The request.
        req: RequestId,
        /// The status code.
        code: u16,
        /// Why.
        cause: Cause,
    },
    /// The view now holds `count` endpoints (the gateway reads it as available replicas).
    Endpoints {
        /// Endpoints in the view.
        count: usize,
    },
    /// A line for the timeline.
    Note {
        /// What happened.
        what: String,
    },
}

/// Where a call is, as the provider sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum State {
    /// Not forwarded yet.
    #[default]
    Coming,
    /// Forwarded: waiting for the pod.
    Waiting,
    /// Answered or given up.
    Done,
}

/// The provider's record of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Call {
    /// Where it is.
    state: State,
    /// When the gateway's call reached the provider (its server's write timeout runs from
    /// here).
    forward_ns: Nanos,
}

/// The provider's whole state: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// Its settings.
    config: ProviderConfig,
    /// The watchdog's idle timeout (its `read_timeout`), which closes idle connections.
    watchdog_idle_ns: Nanos,
    /// Go retries a request that failed on a reused connection (GET).
    replayable: bool,
    /// One network hop.
    hop_ns: Nanos,
    /// Whether notes are wanted.
    tracing: bool,
    /// Endpoints routed to, sorted by pod id.
    view: Vec<PodId>,
    /// Pod names, by id.
    names: Vec<String>,
    /// The keep-alive pool towards each pod, by id.
    pools: Vec<Pool>,
    /// Each call, by request id.
    calls: Window<Call>,
    /// Its informers stopped (SIGTERM): the view no longer changes.
    informers_stopped: bool,
}

impl Provider {
    /// Make room for the records of `requests` requests up front: a table grown by doubling
    /// copies itself and touches fresh pages at every step of a long run.
    pub fn reserve(&mut self, requests: usize) {
        self.calls.reserve(requests);
    }

    /// A provider with `config`, towards watchdogs whose idle timeout is `watchdog_idle_ns`,
    /// for requests that Go replays or not, on a network of `hop_ns` hops.
    pub fn new(
        config: &ProviderConfig,
        watchdog_idle_ns: Nanos,
        replayable: bool,
        hop_ns: Nanos,
        tracing: bool,
    ) -> Provider {
        Provider {
            config: config.clone(),
            watchdog_idle_ns,
            replayable,
            hop_ns,
            tracing,
            view: Vec::new(),
            names: Vec::new(),
            pools: Vec::new(),
            calls: Window::default(),
            informers_stopped: false,
        }
    }

    /// The provider of a new gateway pod: faas-netes's informer lists the endpoints when it
    /// starts, so it begins with the view the others hold now, and with no connection.
    pub fn fresh(&self) -> Provider {
        Provider {
            config: self.config.clone(),
            watchdog_idle_ns: self.watchdog_idle_ns,
            replayable: self.replayable,
            hop_ns: self.hop_ns,
            tracing: self.tracing,
            view: self.view.clone(),
            names: self.names.clone(),
            pools: vec![Pool::default(); self.pools.len()],
            calls: Window::default(),
            informers_stopped: false,
        }
    }

    /// Endpoints in the view (the gateway reads it as available replicas).
    pub fn endpoints(&self) -> usize {
        self.view.len()
    }

    fn call(&mut self, req: RequestId) -> &mut Call {
        self.calls.slot(req)
    }

    /// The provider still holds `req` (forwarded, waiting for the pod).
    pub fn holds(&self, req: RequestId) -> bool {
        self.calls
            .get(req)
            .is_some_and(|c| c.state == State::Waiting)
    }

    /// Retire the records of requests below `id` (the router knows none of them will reach
    /// this component again).
    pub fn retire_below(&mut self, id: RequestId) {
        self.calls.retire_below(id);
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(
        &mut self,
        now: Nanos,
        input: Input,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match input {
            Input::PodCreated { pod, name } => {
                assert_eq!(
                    pod as usize,
                    self.pools.len(),
                    "pods are created in id order"
                );
                self.names.push(name);
                self.pools.push(Pool::default());
            }
            Input::Warm { pod } => {
                self.view.push(pod);
                out.push(Effect::Endpoints {
                    count: self.view.len(),
                });
            }
            Input::Route { pod, routed } => {
                if !self.informers_stopped {
                    self.route(pod, routed, out);
                }
            }
            Input::Sigterm => self.informers_stopped = self.config.stops_informers_on_sigterm,
            Input::Forward { req, key } => {
                let call = self.call(req);
                assert_eq!(call.state, State::Coming, "request {req} forwarded twice");
                call.state = State::Waiting;
                call.forward_ns = now;
                out.push(Effect::Deadline {
                    req,
                    at_ns: now + self.config.proxy_timeout_ns(),
                });
                self.dispatch(now, req, key, chooser, out);
            }
            Input::Reset { req, pod } => {
                // Go retries a replayable request on a new dial; anything else fails.
                if self.replayable {
                    out.push(Effect::Learn {
                        req,
                        fact: Fact::Retried,
                    });
                    out.push(Effect::Send {
                        req,
                        hops: 1,
                        msg: Msg::Syn { pod, retry: true },
                    });
                } else {
                    out.push(Effect::Learn {
                        req,
                        fact: Fact::Refused,
                    });
                    self.respond(now, req, 500, Cause::KeepAliveReset, out);
                }
            }
            Input::Answer {
                req,
                code,
                cause,
                reuse,
            } => {
                if let Some(pod) = reuse {
                    // The pod wrote it a hop ago: its idle timer for the connection runs
                    // from there.
                    self.pools[pod as usize].checkin(now, now - self.hop_ns);
                }
                self.respond(now, req, code, cause, out);
            }
            Input::Timeout { req } => {
                out.push(Effect::Abandon { req });
                self.respond(now, req, 500, Cause::ProviderTimeout, out);
            }
            Input::Abandoned { req } => self.call(req).state = State::Done,
            Input::ServerClosed { pod } => self.pools[pod as usize].server_closed_all(now),
            Input::Vanished { pod } => self.pools[pod as usize].black_hole_all(),
        }
    }

    fn route(&mut self, pod: PodId, routed: bool, out: &mut Vec<Effect>) {
        let verb = match (self.view.binary_search(&pod), routed) {
            (Err(at), true) => {
                self.view.insert(at, pod);
                "adds"
            }
            (Ok(at), false) => {
                self.view.remove(at);
                "drops"
            }
            _ => return,
        };
        if self.tracing {
            out.push(Effect::Note {
                what: format!("endpoints view {verb} {}", self.names[pod as usize]),
            });
        }
        out.push(Effect::Endpoints {
            count: self.view.len(),
        });
    }

    /// Pick an endpoint (the request's own draw) and send on a pooled connection or dial.
    fn dispatch(
        &mut self,
        now: Nanos,
        req: RequestId,
        key: u64,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        if self.view.is_empty() {
            self.respond(now, req, 503, Cause::NoEndpoints, out);
            return;
        }
        let index = chooser.pick_index_keyed(Stream::Provider, key, self.view.len());
        let pod = self.view[index];
        out.push(Effect::Learn {
            req,
            fact: Fact::Routed(pod),
        });
        let reach = Reach {
            request_ns: self.hop_ns,
            fin_ns: self.hop_ns,
        };
        let checkout = self.pools[pod as usize].checkout(
            now,
            self.config.idle_conn_timeout_ns,
            self.watchdog_idle_ns,
            reach,
        );
        let (hops, msg) = match checkout {
            Checkout::Reused => (
                1,
                Msg::ToPod {
                    pod,
                    reused: true,
                    retry: false,
                    generation: 0,
                },
            ),
            Checkout::Hang => {
                out.push(Effect::Learn {
                    req,
                    fact: Fact::Refused,
                });
                return;
            }
            // The reset comes back a round trip after the request left.
            Checkout::Race => (2, Msg::Reset { pod }),
            Checkout::Dial => (1, Msg::Syn { pod, retry: false }),
        };
        out.push(Effect::Send { req, hops, msg });
    }

    /// Answer the gateway, unless the call is over already; past the server's write timeout
    /// the gateway sees EOF (502). A write_timeout of 0 is none (Go's `http.Server`).
    fn respond(
        &mut self,
        now: Nanos,
        req: RequestId,
        code: u16,
        cause: Cause,
        out: &mut Vec<Effect>,
    ) {
        let write_timeout_ns = self.config.write_timeout_ns;
        let call = self.call(req);
        if call.state != State::Waiting {
            return;
        }
        call.state = State::Done;
        let late =
            server_limit_ns(write_timeout_ns).is_some_and(|limit| now - call.forward_ns > limit);
        let (code, cause) = if late {
            (502, Cause::ProviderWriteTimeout)
        } else {
            (code, cause)
        };
        out.push(Effect::Answer { req, code, cause });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    use crate::choice::First;

    fn provider(replayable: bool) -> Provider {
        let mut p = Provider::new(
            &ProviderConfig::default(),
            5 * NS_PER_S,
            replayable,
            // One nanosecond a hop: the tests' instants are a few nanoseconds apart.
            1,
            true,
        );
        let mut out = Vec::new();
        p.handle(
            0,
            Input::PodCreated {
                pod: 0,
                name: "fn-r1-0".into(),
            },
            &mut First,
            &mut out,
        );
        p
    }

    fn run(p: &mut Provider, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        p.handle(now, input, &mut First, &mut out);
        out
    }

    #[test]
    fn after_sigterm_its_informers_stop_and_it_keeps_proxying_with_the_view_it_had() {
        let mut p = provider(true);
        run(&mut p, 0, Input::Warm { pod: 0 });
        run(&mut p, 1, Input::Sigterm);
        let gone = Input::Route {
            pod: 0,
            routed: false,
        };
        assert!(
            run(&mut p, 2, gone).is_empty(),
            "the view no longer changes"
        );
        assert_eq!(p.endpoints(), 1);
        let out = run(&mut p, 3, Input::Forward { req: 0, key: 0 });
        assert!(
            out.iter().any(|e| matches!(
                e,
                Effect::Learn {
                    fact: Fact::Routed(0),
                    ..
                }
            )),
            "still routed to the pod it knew: {out:?}"
        );
        // A new gateway pod's provider lists the endpoints afresh, with no connection.
        assert_eq!(p.fresh().endpoints(), 1);
    }

    #[test]
    fn with_no_endpoint_it_answers_503_at_once() {
        let mut p = provider(true);
        let out = run(&mut p, 0, Input::Forward { req: 0, key: 0 });
        assert!(out.contains(&Effect::Answer {
            req: 0,
            code: 503,
            cause: Cause::NoEndpoints
        }));
    }

    #[test]
    fn it_dials_then_reuses_the_connection_it_got_back() {
        let mut p = provider(true);
        run(&mut p, 0, Input::Warm { pod: 0 });
        let out = run(&mut p, 0, Input::Forward { req: 0, key: 0 });
        assert_eq!(
            out[0],
            Effect::Deadline {
                req: 0,
                at_ns: 65 * NS_PER_S
            }
        );
        assert!(matches!(
            out.last(),
            Some(Effect::Send {
                msg: Msg::Syn {
                    pod: 0,
                    retry: false
                },
                ..
            })
        ));
        assert!(p.holds(0), "waiting for the pod");
        let answer = Input::Answer {
            req: 0,
            code: 200,
            cause: Cause::Handler,
            reuse: Some(0),
        };
        assert_eq!(
            run(&mut p, 11, answer),
            vec![Effect::Answer {
                req: 0,
                code: 200,
                cause: Cause::Handler
            }]
        );
        assert!(!p.holds(0), "answered");
        let out = run(&mut p, 12, Input::Forward { req: 1, key: 1 });
        assert!(matches!(
            out.last(),
            Some(Effect::Send {
                msg: Msg::ToPod { reused: true, .. },
                ..
            })
        ));
        p.retire_below(1);
        assert!(p.calls.get(0).is_none(), "retired");
        assert!(p.holds(1), "kept");
    }

    #[test]
    fn a_close_it_has_not_seen_yet_races_and_a_get_is_retried_on_a_new_dial() {
        let mut p = provider(true);
        run(&mut p, 0, Input::Warm { pod: 0 });
        run(&mut p, 0, Input::Forward { req: 0, key: 0 });
        let answer = Input::Answer {
            req: 0,
            code: 200,
            cause: Cause::Handler,
            reuse: Some(0),
        };
        run(&mut p, 11, answer);
        run(&mut p, 20, Input::ServerClosed { pod: 0 });
        // The FIN is a hop away: a request sent now meets the close.
        let out = run(&mut p, 20, Input::Forward { req: 1, key: 1 });
        assert!(matches!(
            out.last(),
            Some(Effect::Send {
                hops: 2,
                msg: Msg::Reset { pod: 0 },
                ..
            })
        ));
        let out = run(&mut p, 22, Input::Reset { req: 1, pod: 0 });
        assert_eq!(
            out[0],
            Effect::Learn {
                req: 1,
                fact: Fact::Retried
            }
        );
        let mut post = provider(false);
        run(&mut post, 0, Input::Warm { pod: 0 });
        run(&mut post, 0, Input::Forward { req: 0, key: 0 });
        let out = run(&mut post, 22, Input::Reset { req: 0, pod: 0 });
        assert!(out.contains(&Effect::Answer {
            req: 0,
            code: 500,
            cause: Cause::KeepAliveReset
        }));
    }

    #[test]
    fn its_timeout_gives_up_the_call_once() {
        let mut p = provider(true);
        run(&mut p, 0, Input::Warm { pod: 0 });
        run(&mut p, 0, Input::Forward { req: 0, key: 0 });
        let out = run(&mut p, 65 * NS_PER_S, Input::Timeout { req: 0 });
        assert_eq!(out[0], Effect::Abandon { req: 0 });
        assert_eq!(
            out[1],
            Effect::Answer {
                req: 0,
                code: 500,
                cause: Cause::ProviderTimeout
            }
        );
        let late = Input::Answer {
            req: 0,
            code: 200,
            cause: Cause::Handler,
            reuse: None,
        };
        assert!(
            run(&mut p, 66 * NS_PER_S, late).is_empty(),
            "the call is over"
        );
    }
}
