//! Retiring settled requests: the router moves a request's record out of the open tables, and
//! every component forgets it, once nothing can touch it again. Requests retire in id order,
//! so the tables hold only the window from the oldest open request to the newest, and a long
//! run's memory follows the requests in flight, not the requests sent.

use faasim_model::ledger::RequestId;
use faasim_model::time::Nanos;
use faasim_model::{gateway, pod};

use super::{Ev, World};

/// How often the router looks for settled requests: often enough that the window stays near
/// the requests in flight, rarely enough that the look costs nothing next to the events.
pub const RETIRE_EVERY_EVENTS: u64 = 4096;

impl Ev {
    /// The request an event names, if any: the latest such event queued is kept per request. A
    /// wake-up is not: it only acts on a request the client still waits for, so one left in
    /// the queue by a request that ended (timers are dropped lazily) must not hold it open for
    /// the length of its longest timer; a wake-up that finds its request retired is stale.
    pub(super) fn request(&self) -> Option<RequestId> {
        match *self {
            Ev::Deliver(req, _, _) | Ev::Cancel(req, _, _) => Some(req),
            Ev::Gateway(_, gateway::Timer::Poll { req }) => Some(req),
            Ev::Pod(_, _, pod::Timer::HandlerDone { req }) => Some(req),
            _ => None,
        }
    }
}

impl World<'_> {
    /// Queue `event` at `at_ns`, noting it on the request it names.
    pub(super) fn schedule(&mut self, at_ns: Nanos, event: Ev) {
        self.count(at_ns, event);
        self.queue.push(at_ns, event);
    }

    fn count(&mut self, at_ns: Nanos, event: Ev) {
        if let Some(req) = event.request() {
            let flight = self.flight(req);
            flight.last_event_ns = flight.last_event_ns.max(at_ns);
        }
    }

    /// Nothing can touch `req` again: the client has its answer, no queued event names it (the
    /// latest one was due before now, and events pop in time order), and no component holds it. (A component's broadcast inputs, SIGTERM or a gateway's exit, act
    /// only on the requests it holds.)
    fn settled(&self, req: RequestId) -> bool {
        let flight = &self.flights[req];
        flight.done
            && flight.last_event_ns < self.now
            && !self.client.holds(req)
            && self.ingress.as_ref().is_none_or(|i| !i.holds(req))
            && !self.gateways.iter().any(|g| g.holds(req))
            && !self.providers.iter().any(|p| p.holds(req))
            && !self.pods.holds(req)
    }

    /// Retire every settled request from the oldest open one on, stopping at the first that
    /// is not: its record goes to the retired ledger, and every table forgets it.
    pub(super) fn retire(&mut self) {
        if let Some(tally) = &mut self.tally {
            tally.open_peak = tally.open_peak.max(self.ledger.len() as u64);
        }
        let from = self.ledger.base();
        let end = self.ledger.end();
        let mut upto = from;
        while upto < end && self.settled(upto) {
            upto += 1;
        }
        if upto == from {
            return;
        }
        match &mut self.tally {
            Some(tally) => self
                .ledger
                .retire_below_with(upto, |record| tally.add(record)),
            None => {
                let retired = &mut self.retired;
                self.ledger
                    .retire_below_with(upto, |record| retired.push(record.clone()));
            }
        }
        self.flights.retire_below(upto);
        self.client.retire_below(upto);
        if let Some(ingress) = &mut self.ingress {
            ingress.retire_below(upto);
        }
        for gateway in &mut self.gateways {
            gateway.retire_below(upto);
        }
        for provider in &mut self.providers {
            provider.retire_below(upto);
        }
        self.pods.retire_below(upto);
    }
}
