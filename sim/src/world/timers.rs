//! The router's per-request timer table: one deadline per component that times a request,
//! one queued wake-up for the earliest, and the documented tie rule (innermost first).

use faasim_model::ledger::RequestId;
use faasim_model::{client, gateway, ingress, pod, provider};

use super::{NONE_NS, World};

impl World<'_> {
    /// Make sure a wake-up is queued for the request's earliest deadline.
    pub(super) fn arm(&mut self, req: RequestId) {
        let flight = self.flight(req);
        let due = flight.earliest_deadline();
        if due < flight.wake_ns {
            flight.wake_ns = due;
            // Each timer is a fixed delay after an instant that only moves forward, so its
            // wake-ups come in time order: one FIFO lane per timer.
            let lane = if due == flight.exec_deadline_ns {
                0
            } else if due == flight.provider_deadline_ns {
                1
            } else if due == flight.upstream_deadline_ns {
                2
            } else if due == flight.ingress_deadline_ns {
                3
            } else {
                4
            };
            // A wake-up names its request but does not hold it open (`Ev::request`).
            self.queue.push_id(lane, due, req);
        }
    }

    /// The request's earliest deadline is due: hand it to the component whose timer it is.
    /// At equal instants the innermost fires first (its response is already on its way
    /// out), one per wake-up.
    pub(super) fn wake(&mut self, req: RequestId) {
        if req < self.flights.base() {
            // Its request ended and was retired since.
            self.stale = true;
            return;
        }
        let now = self.now;
        let flight = self.flight(req);
        if flight.done || flight.wake_ns != now {
            self.stale = true;
            return;
        }
        flight.wake_ns = NONE_NS;
        let mut fired = false;
        if flight.exec_deadline_ns <= now {
            flight.exec_deadline_ns = NONE_NS;
            // The watchdog's timer died with its call when nobody waits for it any more.
            if self.pods.wanted(req) {
                self.feed_pods(pod::Input::ExecTimeout { req });
                fired = true;
            }
        }
        if !fired {
            let flight = *self.flight(req);
            let gateway = flight.gateway;
            if flight.provider_deadline_ns <= now {
                self.feed_provider(gateway, provider::Input::Timeout { req });
            } else if flight.upstream_deadline_ns <= now {
                self.feed_gateway(gateway, gateway::Input::UpstreamTimeout { req });
            } else if flight.ingress_deadline_ns <= now {
                self.feed_ingress(ingress::Input::ReadTimeout { req });
            } else if flight.client_deadline_ns <= now {
                self.feed_client(client::Input::Timeout { req });
            }
        }
        if !self.flight(req).done {
            self.arm(req);
        }
    }
}
