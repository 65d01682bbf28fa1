//! The queue of OpenFaaS CE's asynchronous path: NATS Streaming's channel `faas-request` and
//! the durable queue group `faas` the queue-workers subscribe to with `MaxInflight(1)` and
//! their `AckWait`. It owns which member holds each queued call, the ack timer of each
//! delivery and the redeliveries.
//!
//! Behaviour, from nats-io/nats-streaming-server@fb10ab2 `server/server.go` (read, not copied):
//! - a new message goes to the best member (`findBestQueueSub`): the first, in the group's
//!   order, with the fewest unacknowledged messages among those neither stalled (as many
//!   pending as `MaxInflight`) nor with a failed heartbeat, else the first of the group; a
//!   member chosen while first in the order moves to the end. A stalled best member holds new
//!   messages back until an ack;
//! - the ack timer of a delivery starts when the server sends it; without an ack within
//!   `AckWait` the message is redelivered (`performAckExpirationRedelivery`), again and again,
//!   with no maximum; a redelivery is forced (it ignores `MaxInflight`) to the best member, and
//!   when that is another member the message leaves the first holder's pending (an internal
//!   ack, `processAck(.., false)`), which may release that member for new messages;
//! - a member's ack acknowledges the message whichever member now holds it: `processAck` looks
//!   for the sequence in the other members' pending when the acking member no longer has it
//!   (since nats-streaming-server@dada3d7, 2018, "Reduce queue redelivery in some situations");
//! - "stalled" is a flag, not a count: a member is marked stalled when a send that honours
//!   `MaxInflight` fills it (or finds it full), and unmarked only when one of its own acks
//!   (user or internal) brings it below `MaxInflight`; a forced redelivery never marks it. New
//!   messages go out while fewer members are stalled than the group has
//!   (`sendAvailableMessagesToQueue`), and `findBestQueueSub` passes over stalled members.
//!
//! Checked against the real server (nats-streaming-server v0.23.2, 98a0c29, with its vendored
//! stan.go v0.10.2) with a probe subscriber as the CE worker makes it, ack_wait 3 s and a 5 s
//! handler: docs/async.md lists the runs and their counts, which this model gives.
//!
//! A member that dies without closing its connection (SIGTERM: the CE worker handles only
//! SIGINT) stays in the group; the server stops preferring it after its first failed
//! heartbeat (`QueueWorkerConfig::failed_heartbeat_ns`, [inferred] from the 30 s heartbeat
//! interval). Its removal minutes later is not modelled: redeliveries already move its calls.

use std::collections::VecDeque;

use crate::config::QueueWorkerConfig;
use crate::ledger::RequestId;
use crate::limits;
use crate::time::{Nanos, stamp};

/// A member of the queue group: one queue-worker pod's subscription.
pub type MemberId = u32;

/// A timer of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The ack wait of message `msg`'s delivery number `delivery` ran out.
    AckExpired {
        /// The message (its place in the channel).
        msg: u32,
        /// Which delivery it times (older ones are stale).
        delivery: u32,
    },
    /// Member `member`'s first heartbeat went unanswered.
    FailedHeartbeat {
        /// The member.
        member: MemberId,
    },
}

/// What the queue receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The gateway published the call of invocation `inv`.
    Publish {
        /// The invocation (the client's request id).
        inv: RequestId,
    },
    /// A new member subscribed.
    Join {
        /// Its id: members join in id order.
        member: MemberId,
    },
    /// A member acknowledged the message of `inv`.
    Ack {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
    },
    /// A member's process died without closing its connection.
    Died {
        /// The member.
        member: MemberId,
    },
    /// A timer armed earlier is due.
    Timer(Timer),
}

/// What the queue asks of its engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send the message of `inv` to `member`.
    Deliver {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
        /// A redelivery (the ack wait of an earlier one ran out).
        redelivered: bool,
    },
    /// Arm a timer.
    Arm {
        /// When.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
    /// A line for the timeline.
    Note {
        /// What happened.
        what: String,
    },
    /// The input was a timer with nothing left to do (an acknowledged message's).
    Stale,
}

/// One member's subscription as the server sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Member {
    /// Messages sent to it and not acknowledged (`len(acksPending)`).
    pending: u32,
    /// The server's `stalled` flag (see the module's notes): not always `pending >= max`.
    stalled: bool,
    /// Its first heartbeat failed: it is no longer preferred.
    failed_heartbeat: bool,
}

/// One message of the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Message {
    /// The invocation it carries.
    inv: RequestId,
    /// The member holding it (its latest delivery), `None` while it waits.
    holder: Option<MemberId>,
    /// Acknowledged.
    acked: bool,
    /// Deliveries so far.
    deliveries: u32,
}

/// The channel and its queue group: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    /// The subscription's `AckWait`, whole seconds.
    ack_wait_ns: Nanos,
    /// The subscription's `MaxInflight`.
    max_inflight: u32,
    /// How long after a member's death its heartbeat fails.
    failed_heartbeat_ns: Nanos,
    /// Every member, by id.
    members: Vec<Member>,
    /// The group's order, which `findBestQueueSub` scans and rotates.
    order: Vec<MemberId>,
    /// Members whose `stalled` flag is set (`stalledSubCount`).
    stalled_count: u32,
    /// Every message, in publishing order.
    messages: Vec<Message>,
    /// Each invocation's message, by invocation.
    by_inv: Vec<Option<u32>>,
    /// Messages not yet delivered, oldest first.
    backlog: VecDeque<u32>,
    /// Whether the timeline is recorded.
    tracing: bool,
}

impl Queue {
    /// An empty channel for workers with `config`'s ack wait (the CE subscription's
    /// `MaxInflight` is 1 whatever the worker's settings say).
    pub fn new(config: &QueueWorkerConfig, tracing: bool) -> Queue {
        Queue {
            ack_wait_ns: config.ack_wait_ns,
            max_inflight: 1,
            failed_heartbeat_ns: config.failed_heartbeat_ns,
            members: Vec::new(),
            order: Vec::new(),
            stalled_count: 0,
            messages: Vec::new(),
            by_inv: Vec::new(),
            backlog: VecDeque::new(),
            tracing,
        }
    }

    /// The call of `inv` may still run: its message is unacknowledged.
    pub fn unacked(&self, inv: RequestId) -> bool {
        self.by_inv
            .get(inv as usize)
            .copied()
            .flatten()
            .is_some_and(|msg| !self.messages[msg as usize].acked)
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(&mut self, now: Nanos, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Publish { inv } => {
                let msg = self.messages.len() as u32;
                self.messages.push(Message {
                    inv,
                    holder: None,
                    acked: false,
                    deliveries: 0,
                });
                *crate::slots::slot(&mut self.by_inv, inv as usize) = Some(msg);
                self.backlog.push_back(msg);
                self.send_backlog(now, out);
            }
            Input::Join { member } => {
                assert_eq!(member as usize, self.members.len(), "members join in order");
                self.members.push(Member::default());
                self.order.push(member);
                self.send_backlog(now, out);
            }
            Input::Ack { member, inv } => self.user_ack(now, member, inv, out),
            Input::Died { member } => out.push(Effect::Arm {
                at_ns: now + self.failed_heartbeat_ns,
                timer: Timer::FailedHeartbeat { member },
            }),
            Input::Timer(Timer::FailedHeartbeat { member }) => {
                self.members[member as usize].failed_heartbeat = true;
            }
            Input::Timer(Timer::AckExpired { msg, delivery }) => {
                let message = self.messages[msg as usize];
                if message.acked || message.deliveries != delivery {
                    out.push(Effect::Stale);
                    return;
                }
                if message.deliveries >= limits::DELIVERIES_PER_CALL_MAX {
                    out.push(Effect::Note {
                        what: format!(
                            "call {} reached faasim's bound of {} deliveries: no more \
                             redeliveries (NATS Streaming has none)",
                            message.inv,
                            limits::DELIVERIES_PER_CALL_MAX
                        ),
                    });
                    return;
                }
                let Some(pick) = self.best() else {
                    return;
                };
                if self.tracing {
                    out.push(Effect::Note {
                        what: format!(
                            "call {} unacknowledged after ack_wait {}: redelivered to \
                             queue-worker member {pick}",
                            message.inv,
                            stamp(self.ack_wait_ns)
                        ),
                    });
                }
                // A forced send always goes out.
                self.send_to_picked(now, msg, pick, true, out);
                if let Some(holder) = message.holder
                    && holder != pick
                {
                    // The internal ack: the message leaves the first holder's pending.
                    let old = &mut self.members[holder as usize];
                    assert!(old.pending > 0, "the holder counts the message it holds");
                    old.pending -= 1;
                    self.release(now, holder, out);
                }
            }
        }
    }

    /// `processAck(.., true)`: `member` acknowledged the message of `inv`. It counts whichever
    /// member holds the message now; then the member may be released for new messages.
    fn user_ack(&mut self, now: Nanos, member: MemberId, inv: RequestId, out: &mut Vec<Effect>) {
        let Some(Some(msg)) = self.by_inv.get(inv as usize).copied() else {
            return;
        };
        let message = &mut self.messages[msg as usize];
        match message.holder {
            Some(holder) if !message.acked => {
                message.acked = true;
                let m = &mut self.members[holder as usize];
                assert!(m.pending > 0, "the holder counts the message it holds");
                m.pending -= 1;
                if holder != member && self.tracing {
                    out.push(Effect::Note {
                        what: format!(
                            "ack of call {inv} from queue-worker member {member} acknowledges \
                             the copy member {holder} holds"
                        ),
                    });
                }
            }
            _ => {
                if self.tracing {
                    out.push(Effect::Note {
                        what: format!(
                            "ack of call {inv} from queue-worker member {member} ignored: \
                             already acknowledged"
                        ),
                    });
                }
            }
        }
        self.release(now, member, out);
    }

    /// The end of `processAck`: a stalled member below `MaxInflight` is stalled no more, and
    /// the group sends what waits.
    fn release(&mut self, now: Nanos, member: MemberId, out: &mut Vec<Effect>) {
        let m = &mut self.members[member as usize];
        if m.stalled && m.pending < self.max_inflight {
            m.stalled = false;
            // The server guards its count the same way (`if qs.stalledSubCount > 0`).
            self.stalled_count = self.stalled_count.saturating_sub(1);
            self.send_backlog(now, out);
        }
    }

    /// `findBestQueueSub`: the first member in the group's order with the fewest pending
    /// among those neither stalled nor with a failed heartbeat, else the first; the pick
    /// moves to the end of the order when it was first.
    fn best(&mut self) -> Option<MemberId> {
        let mut best: Option<(u32, MemberId)> = None;
        for &member in &self.order {
            let m = &self.members[member as usize];
            if !m.stalled && !m.failed_heartbeat && best.is_none_or(|(least, _)| m.pending < least)
            {
                best = Some((m.pending, member));
            }
        }
        let pick = best
            .map(|(_, member)| member)
            .or(self.order.first().copied())?;
        if self.order.len() > 1 && self.order[0] == pick {
            self.order.rotate_left(1);
        }
        Some(pick)
    }

    /// `sendAvailableMessagesToQueue`: send waiting messages, honouring `MaxInflight`, while
    /// fewer members are stalled than the group has and the best member takes one.
    fn send_backlog(&mut self, now: Nanos, out: &mut Vec<Effect>) {
        while (self.stalled_count as usize) < self.members.len() {
            let Some(&msg) = self.backlog.front() else {
                return;
            };
            let Some(pick) = self.best() else {
                return;
            };
            if !self.send_to_picked(now, msg, pick, false, out) {
                return;
            }
            self.backlog.pop_front();
        }
    }

    /// `sendMsgToQueueGroup` after its pick, and `sendMsgToSub`: unless `force`, a member at
    /// `MaxInflight` is marked stalled and gets nothing, and a send that fills it marks it.
    /// Whether the message went out.
    fn send_to_picked(
        &mut self,
        now: Nanos,
        msg: u32,
        member: MemberId,
        force: bool,
        out: &mut Vec<Effect>,
    ) -> bool {
        let max = self.max_inflight;
        let holds = self.messages[msg as usize].holder == Some(member);
        let m = &mut self.members[member as usize];
        let was_stalled = m.stalled;
        if !force && m.pending >= max {
            m.stalled = true;
            if !was_stalled {
                self.stalled_count += 1;
            }
            return false;
        }
        if !holds {
            m.pending += 1;
        }
        if !force && m.pending == max {
            m.stalled = true;
        }
        if !force && !was_stalled && m.stalled {
            self.stalled_count += 1;
        }
        self.deliver(now, msg, member, force, out);
        true
    }

    /// Delivery to `member`, with its ack timer.
    fn deliver(
        &mut self,
        now: Nanos,
        msg: u32,
        member: MemberId,
        redelivered: bool,
        out: &mut Vec<Effect>,
    ) {
        let message = &mut self.messages[msg as usize];
        message.holder = Some(member);
        message.deliveries += 1;
        out.push(Effect::Deliver {
            member,
            inv: message.inv,
            redelivered,
        });
        out.push(Effect::Arm {
            at_ns: now + self.ack_wait_ns,
            timer: Timer::AckExpired {
                msg,
                delivery: message.deliveries,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn queue(ack_wait_s: u64) -> Queue {
        let config = QueueWorkerConfig {
            ack_wait_ns: ack_wait_s * NS_PER_S,
            ..QueueWorkerConfig::default()
        };
        Queue::new(&config, true)
    }

    fn run(q: &mut Queue, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        q.handle(now, input, &mut out);
        out
    }

    fn deliveries(out: &[Effect]) -> Vec<(MemberId, RequestId, bool)> {
        out.iter()
            .filter_map(|e| match e {
                Effect::Deliver {
                    member,
                    inv,
                    redelivered,
                } => Some((*member, *inv, *redelivered)),
                _ => None,
            })
            .collect()
    }

    fn expiry(out: &[Effect]) -> (Nanos, Timer) {
        out.iter()
            .find_map(|e| match e {
                Effect::Arm { at_ns, timer } => Some((*at_ns, *timer)),
                _ => None,
            })
            .expect("an ack timer")
    }

    #[test]
    fn one_member_takes_one_call_at_a_time_and_gets_it_again_after_ack_wait() {
        let mut q = queue(30);
        run(&mut q, 0, Input::Join { member: 0 });
        let out = run(&mut q, 0, Input::Publish { inv: 0 });
        assert_eq!(deliveries(&out), vec![(0, 0, false)]);
        let (at, timer) = expiry(&out);
        assert_eq!(at, 30 * NS_PER_S);
        // A second call waits: the member is stalled at MaxInflight(1).
        let out = run(&mut q, NS_PER_S, Input::Publish { inv: 1 });
        assert!(deliveries(&out).is_empty());
        // No ack within 30 s: forced redelivery to the same (only) member.
        let out = run(&mut q, at, Input::Timer(timer));
        assert_eq!(deliveries(&out), vec![(0, 0, true)]);
        let (again, _) = expiry(&out);
        assert_eq!(again, 60 * NS_PER_S);
        // The ack clears it; the waiting call goes out; the old timer is stale.
        let out = run(&mut q, 50 * NS_PER_S, Input::Ack { member: 0, inv: 0 });
        assert_eq!(deliveries(&out), vec![(0, 1, false)]);
        assert!(!q.unacked(0));
        assert!(q.unacked(1));
        let out = run(
            &mut q,
            again,
            Input::Timer(Timer::AckExpired {
                msg: 0,
                delivery: 2,
            }),
        );
        assert!(deliveries(&out).is_empty());
    }

    /// Two members, one 50 s call, ack_wait 30 s: the real server (v0.23.2) ran it on w0 from 0
    /// s and on w1 from the redelivery at 30 s; w0's ack at 50 s acknowledged the copy w1
    /// holds, and nothing more was sent.
    #[test]
    fn a_redelivery_goes_to_the_idle_member_and_the_first_holders_ack_still_counts() {
        let mut q = queue(30);
        run(&mut q, 0, Input::Join { member: 0 });
        run(&mut q, 0, Input::Join { member: 1 });
        let out = run(&mut q, 0, Input::Publish { inv: 0 });
        assert_eq!(deliveries(&out), vec![(0, 0, false)]);
        let (at, timer) = expiry(&out);
        let out = run(&mut q, at, Input::Timer(timer));
        assert_eq!(deliveries(&out), vec![(1, 0, true)]);
        let (again_at, again) = expiry(&out);
        let out = run(&mut q, 50 * NS_PER_S, Input::Ack { member: 0, inv: 0 });
        assert!(matches!(&out[..], [Effect::Note { what }] if what.contains("acknowledges")));
        assert!(!q.unacked(0), "the first holder's ack counts for the group");
        assert_eq!(
            run(&mut q, again_at, Input::Timer(again)),
            vec![Effect::Stale]
        );
        // The second holder's own ack finds nothing left to acknowledge.
        let out = run(&mut q, 80 * NS_PER_S, Input::Ack { member: 1, inv: 0 });
        assert!(matches!(&out[..], [Effect::Note { what }] if what.contains("already")));
    }

    #[test]
    fn a_dead_member_is_passed_over_after_its_heartbeat_fails() {
        let mut q = queue(60);
        run(&mut q, 0, Input::Join { member: 0 });
        let out = run(&mut q, 0, Input::Publish { inv: 0 });
        let (at, timer) = expiry(&out);
        let out = run(&mut q, 10 * NS_PER_S, Input::Died { member: 0 });
        let (hb_at, hb) = expiry(&out);
        assert_eq!(hb_at, 40 * NS_PER_S);
        run(&mut q, 10 * NS_PER_S, Input::Join { member: 1 });
        run(&mut q, hb_at, Input::Timer(hb));
        let out = run(&mut q, at, Input::Timer(timer));
        assert_eq!(deliveries(&out), vec![(1, 0, true)]);
    }

    #[test]
    fn new_calls_spread_over_idle_members_in_the_groups_order() {
        let mut q = queue(30);
        for member in 0..2 {
            run(&mut q, 0, Input::Join { member });
        }
        let first = run(&mut q, 0, Input::Publish { inv: 0 });
        let second = run(&mut q, 0, Input::Publish { inv: 1 });
        let third = run(&mut q, 0, Input::Publish { inv: 2 });
        assert_eq!(deliveries(&first), vec![(0, 0, false)]);
        assert_eq!(deliveries(&second), vec![(1, 1, false)]);
        assert!(deliveries(&third).is_empty(), "both members are stalled");
        let out = run(&mut q, NS_PER_S, Input::Ack { member: 1, inv: 1 });
        assert_eq!(deliveries(&out), vec![(1, 2, false)]);
    }

    #[test]
    fn redelivery_stops_at_faasims_bound_and_says_so() {
        let mut q = queue(1);
        run(&mut q, 0, Input::Join { member: 0 });
        let mut out = run(&mut q, 0, Input::Publish { inv: 0 });
        let mut deliveries = 1;
        loop {
            let (at, timer) = expiry(&out);
            out = run(&mut q, at, Input::Timer(timer));
            if !out.iter().any(|e| matches!(e, Effect::Deliver { .. })) {
                break;
            }
            deliveries += 1;
        }
        assert_eq!(deliveries, limits::DELIVERIES_PER_CALL_MAX);
        assert!(matches!(&out[..], [Effect::Note { what }] if what.contains("bound")));
        assert!(q.unacked(0));
    }
}
