//! The JetStream work queue of OpenFaaS Pro's asynchronous path, as its docs describe it (the
//! Pro queue-worker is closed source): a stream with WorkQueue retention and one pull
//! consumer with explicit acks and no maximum of deliveries (openfaas/docs@eac50c7
//! `openfaas-pro/jetstream.md`, docs@f4557ee). It owns each queued call's state: ready to be
//! fetched, waiting for a retry's delay, leased to a worker, or done (acknowledged or
//! terminated), and how many times it was delivered (JetStream's `NumDelivered`, which the
//! worker reads as the attempt number).
//!
//! The lease: "while a function is in flight, the queue-worker extends the lease
//! automatically" (docs `reference/async.md`), so a leased message is never redelivered while
//! its worker lives. [inferred] The extension is continuous (JetStream `InProgress` sent well
//! within the ack wait): when the worker dies, the lease runs out `ack_wait` after its death
//! and the message is ready again for any worker. A retry is [inferred] a NAK with a delay:
//! the message waits in the stream ("messages that are queued for retries are also considered
//! pending"), so any worker may fetch the next attempt.
//!
//! A plain value driven by the Pro queue-worker (`queue_worker_pro`), which arms the timers
//! of the delays and lease expiries it is told of; messages between the workers and NATS take
//! no time here (the model's hops are on the HTTP path).

use std::collections::VecDeque;

use crate::ledger::RequestId;
use crate::queue::MemberId;
use crate::slots::slot;
use crate::time::Nanos;

/// Where one queued call is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Not published (no such call).
    #[default]
    Absent,
    /// In the stream, ready to be fetched.
    Ready,
    /// NAKed with a delay, or its lease ran out after its worker died: ready again when the
    /// timer of this generation fires.
    Delayed,
    /// Fetched by `member`, whose lease it extends while it lives.
    Leased {
        /// The worker.
        member: MemberId,
    },
    /// Acknowledged or terminated: gone from the work queue.
    Done,
}

/// One queued call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Message {
    /// Where it is.
    state: State,
    /// Deliveries so far (`NumDelivered`).
    deliveries: u32,
    /// Bumped at every change, so a delay's or lease's timer of an older state is stale.
    generation: u32,
}

/// The stream and its consumer: a plain value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JetStream {
    /// The consumer's ack wait: how long a dead worker's lease lasts.
    ack_wait_ns: Nanos,
    /// Each call's message, by invocation.
    messages: Vec<Message>,
    /// Calls ready to be fetched, in the order they became ready.
    ready: VecDeque<RequestId>,
}

impl JetStream {
    /// An empty stream whose consumer has `ack_wait_ns`.
    pub fn new(ack_wait_ns: Nanos) -> JetStream {
        JetStream {
            ack_wait_ns,
            ..JetStream::default()
        }
    }

    /// The gateway published the call of `inv`.
    pub fn publish(&mut self, inv: RequestId) {
        let message = slot(&mut self.messages, inv as usize);
        debug_assert_eq!(message.state, State::Absent, "each call is published once");
        message.state = State::Ready;
        self.ready.push_back(inv);
    }

    /// A call is ready to be fetched.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// `member` fetches the oldest ready call: its lease, and the delivery's number (1 for
    /// the first).
    pub fn fetch(&mut self, member: MemberId) -> Option<(RequestId, u32)> {
        let inv = self.ready.pop_front()?;
        let message = &mut self.messages[inv as usize];
        debug_assert_eq!(message.state, State::Ready);
        message.state = State::Leased { member };
        message.deliveries += 1;
        message.generation += 1;
        Some((inv, message.deliveries))
    }

    /// `member` acknowledges (or terminates) `inv`: it leaves the work queue.
    pub fn ack(&mut self, member: MemberId, inv: RequestId) {
        let message = &mut self.messages[inv as usize];
        if message.state == (State::Leased { member }) {
            message.state = State::Done;
            message.generation += 1;
        }
    }

    /// `member` NAKs `inv` with a delay: returns the generation whose timer makes it ready.
    pub fn nak(&mut self, member: MemberId, inv: RequestId) -> Option<u32> {
        let message = &mut self.messages[inv as usize];
        if message.state != (State::Leased { member }) {
            return None;
        }
        message.state = State::Delayed;
        message.generation += 1;
        Some(message.generation)
    }

    /// `member` died: each lease it held runs out `ack_wait` later. Returns each call with
    /// the instant and generation of its expiry.
    pub fn died(&mut self, now: Nanos, member: MemberId) -> Vec<(RequestId, Nanos, u32)> {
        let mut expiries = Vec::new();
        for (inv, message) in self.messages.iter_mut().enumerate() {
            if message.state == (State::Leased { member }) {
                message.state = State::Delayed;
                message.generation += 1;
                expiries.push((inv as RequestId, now + self.ack_wait_ns, message.generation));
            }
        }
        expiries
    }

    /// The timer of `inv`'s `generation` fired: the call is ready again, unless it moved on
    /// since (false: a stale timer).
    pub fn due(&mut self, inv: RequestId, generation: u32) -> bool {
        let message = &mut self.messages[inv as usize];
        if message.state != State::Delayed || message.generation != generation {
            return false;
        }
        message.state = State::Ready;
        self.ready.push_back(inv);
        true
    }

    /// The call of `inv` is still in the work queue (ready, delayed or leased).
    pub fn pending(&self, inv: RequestId) -> bool {
        self.messages.get(inv as usize).is_some_and(|m| {
            matches!(
                m.state,
                State::Ready | State::Delayed | State::Leased { .. }
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leased_call_stays_leased_until_acked_and_a_nak_waits_for_its_timer() {
        let mut js = JetStream::new(60);
        js.publish(0);
        js.publish(1);
        assert_eq!(js.fetch(7), Some((0, 1)));
        assert_eq!(js.fetch(7), Some((1, 1)));
        assert_eq!(js.fetch(7), None);
        let generation = js.nak(7, 0).expect("leased");
        assert!(!js.has_ready(), "a NAK with a delay is not ready at once");
        assert!(js.due(0, generation));
        assert_eq!(js.fetch(8), Some((0, 2)), "any worker takes the retry");
        js.ack(8, 0);
        assert!(!js.pending(0));
        assert!(js.pending(1));
        assert!(!js.due(0, generation), "a timer of an older state is stale");
    }

    #[test]
    fn a_dead_workers_leases_run_out_one_ack_wait_after_its_death() {
        let mut js = JetStream::new(60);
        js.publish(3);
        js.fetch(1);
        let expiries = js.died(100, 1);
        assert_eq!(expiries.len(), 1);
        let (inv, at, generation) = expiries[0];
        assert_eq!((inv, at), (3, 160));
        js.ack(1, 3);
        assert!(js.pending(3), "the dead worker's ack is too late");
        assert!(js.due(3, generation));
        assert_eq!(js.fetch(2), Some((3, 2)));
    }
}
