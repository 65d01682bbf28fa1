//! The `nats` host: an in-memory NATS Streaming server holding the channel `faas-request` and
//! the durable queue group `faas`, reached over TCP on :4222 by the gateway (which publishes)
//! and by every queue-worker (which subscribes and acks). Its wire protocol is a few text
//! lines, not NATS's (the server is simulated; the worker speaking to it is the code under
//! test), and its timers are tokio's, so turmoil's simulated time drives them.
//!
//! Behaviour, from nats-io/nats-streaming-server@fb10ab2 `server/server.go`, written here
//! independently of the model's `faasim_model::queue` so the two are compared:
//! - a new message goes to the best member (`findBestQueueSub`): the first, in the group's
//!   order, with the fewest unacknowledged messages among those neither stalled (as many
//!   pending as `MaxInflight`, 1 for the CE worker) nor with a failed heartbeat, else the
//!   first; a member chosen while first in the order moves to the end. A stalled best member
//!   holds new messages back until an ack;
//! - each delivery's ack timer starts when the server sends it; without an ack within the
//!   subscription's `AckWait` the message is redelivered (`performAckExpirationRedelivery`),
//!   again and again, to the best member even if it is stalled (a forced send); a redelivery
//!   to another member moves the message out of the first holder's pending (`processAck`
//!   called with `fromUser == false`);
//! - an ack counts whichever member of the group holds the message now: the server looks in
//!   the other members' pending when the acking one has no such sequence (since @dada3d7);
//! - `stalled` is a per-member flag set by a send that honours `MaxInflight` and fills the
//!   member (or finds it full), cleared only at the end of that member's own `processAck`
//!   when its pending is below `MaxInflight`; the group sends queued messages only while
//!   fewer members are flagged than it has (`sendAvailableMessagesToQueue`);
//! - a subscription with an `AckWait` of 0 seconds is refused (`ErrInvalidAckWait`);
//! - a member whose connection closes without a `Close` (the CE worker killed by SIGTERM)
//!   stays in the group; it stops being preferred after its first failed heartbeat
//!   (`QueueWorkerConfig::failed_heartbeat_ns`, the model's assumption, is used here too).
//!
//! faasim stops redelivering a message after `limits::DELIVERIES_PER_CALL_MAX` deliveries, as
//! the model does (NATS Streaming has no such bound).

use std::collections::VecDeque;
use std::time::Duration;

use faasim_model::ledger::RequestId;
use faasim_model::limits;
use faasim_model::time::NS_PER_S;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::shared::{HostResult, SharedRef, now_ns};

/// The server's host name.
pub(crate) const HOST: &str = "nats";

/// The server's port.
pub(crate) const NATS_PORT: u16 = 4222;

/// A member of the queue group: one queue-worker pod's subscription, numbered in join order.
pub(crate) type MemberId = u32;

/// The gateway's `QueueRequest` (openfaas/faas-provider types/queue.go): what the worker needs
/// to replay the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueRequest {
    /// The invocation: the client's ledger id.
    pub(crate) inv: RequestId,
    /// The gateway's `X-Call-Id`.
    pub(crate) call_id: String,
    /// The `X-Callback-Url`, if the client set one.
    pub(crate) callback_url: Option<String>,
    /// The function's name.
    pub(crate) function: String,
    /// The request body.
    pub(crate) body: Vec<u8>,
}

impl QueueRequest {
    /// The request as space-separated fields (none contains a space; the body in hex).
    pub(crate) fn encode(&self) -> String {
        let body: String = self.body.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{} {} {} {} {}",
            self.inv,
            self.call_id,
            self.callback_url.as_deref().unwrap_or("-"),
            self.function,
            if body.is_empty() { "-" } else { &body }
        )
    }

    /// The request encoded by [`QueueRequest::encode`], from `fields`.
    pub(crate) fn decode<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<QueueRequest> {
        let inv = fields.next()?.parse().ok()?;
        let call_id = fields.next()?.to_string();
        let callback_url = Some(fields.next()?)
            .filter(|u| *u != "-")
            .map(str::to_string);
        let function = fields.next()?.to_string();
        let hex = fields.next()?;
        let body = if hex == "-" {
            Vec::new()
        } else {
            (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        };
        Some(QueueRequest {
            inv,
            call_id,
            callback_url,
            function,
            body,
        })
    }
}

/// What the server's loop takes, from its connections and its timers.
#[derive(Debug)]
enum Event {
    /// A publisher sent a message.
    Publish(QueueRequest),
    /// A worker subscribed, with its ack wait in whole seconds and its connection's writer.
    Subscribe {
        /// The member it says it is (its pod's number), checked against the join order.
        member: MemberId,
        /// `AckWait` as stan.go sends it.
        ack_wait_s: u64,
        /// Lines to the worker.
        writer: mpsc::UnboundedSender<String>,
    },
    /// A member acknowledged message `seq`.
    Ack {
        /// The member.
        member: MemberId,
        /// The message.
        seq: usize,
    },
    /// A member's connection closed (its process died without a `Close`).
    Gone(MemberId),
    /// The ack wait of delivery number `delivery` of message `seq` ran out.
    AckExpired {
        /// The message.
        seq: usize,
        /// Which delivery it times (older ones are stale).
        delivery: u32,
    },
    /// A dead member's first heartbeat went unanswered.
    FailedHeartbeat(MemberId),
}

/// One member's subscription.
#[derive(Debug)]
struct Member {
    /// Messages sent to it and not acknowledged.
    pending: u32,
    /// The server's `stalled` flag.
    stalled: bool,
    /// Its first heartbeat failed: it is no longer preferred.
    failed_heartbeat: bool,
    /// Its `AckWait`.
    ack_wait: Duration,
    /// Lines to the worker (sending fails once its connection is gone).
    writer: mpsc::UnboundedSender<String>,
}

/// One message of the channel.
#[derive(Debug)]
struct Message {
    /// What was published.
    request: QueueRequest,
    /// The member holding it (its latest delivery), `None` while it waits.
    holder: Option<MemberId>,
    /// Acknowledged.
    acked: bool,
    /// Deliveries so far.
    deliveries: u32,
    /// The ack timer of its latest delivery runs (it may still be redelivered).
    timing: bool,
}

/// The channel and its queue group.
struct Server {
    /// What the hosts share (the harness reads what is unacknowledged).
    shared: SharedRef,
    /// Its own events, for the timers it arms.
    events: mpsc::UnboundedSender<Event>,
    /// Every member, by id.
    members: Vec<Member>,
    /// The group's order, which `findBestQueueSub` scans and rotates.
    order: Vec<MemberId>,
    /// Every message, in publishing order.
    messages: Vec<Message>,
    /// Messages not yet delivered, oldest first.
    backlog: VecDeque<usize>,
    /// `MaxInflight` of the CE subscription.
    max_inflight: u32,
    /// How many members have their `stalled` flag set (`stalledSubCount`).
    stalled_subs: usize,
    /// How long after a member's death its heartbeat fails.
    failed_heartbeat: Duration,
}

/// The NATS Streaming server on :4222.
pub(crate) async fn nats_main(shared: SharedRef) -> HostResult {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", NATS_PORT)).await?;
    let failed_heartbeat_ns = shared
        .lock()
        .config
        .asynchronous
        .as_ref()
        .map_or(30 * NS_PER_S, |a| a.queue_worker.failed_heartbeat_ns);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut server = Server {
        shared,
        events: tx.clone(),
        members: Vec::new(),
        order: Vec::new(),
        messages: Vec::new(),
        backlog: VecDeque::new(),
        max_inflight: 1,
        stalled_subs: 0,
        failed_heartbeat: Duration::from_nanos(failed_heartbeat_ns),
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                tokio::task::spawn_local(connection(stream, tx.clone()));
            }
            Some(event) = rx.recv() => server.handle(event),
        }
    }
}

/// One client connection: a publisher's `PUB` lines, or a worker's `SUB` then `ACK` lines.
async fn connection(stream: turmoil::net::TcpStream, events: mpsc::UnboundedSender<Event>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut member = None;
    let (writer, mut outgoing) = mpsc::unbounded_channel::<String>();
    // The writer half: lines for the worker, in order, until the connection goes.
    tokio::task::spawn_local(async move {
        while let Some(line) = outgoing.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    while let Ok(Some(line)) = lines.next_line().await {
        let mut fields = line.split(' ');
        let event = match fields.next() {
            Some("PUB") => QueueRequest::decode(fields).map(Event::Publish),
            Some("SUB") => {
                let id: Option<MemberId> = fields.next().and_then(|f| f.parse().ok());
                let ack_wait_s = fields.next().and_then(|f| f.parse().ok());
                match (id, ack_wait_s) {
                    (Some(id), Some(ack_wait_s)) => {
                        member = Some(id);
                        Some(Event::Subscribe {
                            member: id,
                            ack_wait_s,
                            writer: writer.clone(),
                        })
                    }
                    _ => None,
                }
            }
            Some("ACK") => match (member, fields.next().and_then(|f| f.parse().ok())) {
                (Some(member), Some(seq)) => Some(Event::Ack { member, seq }),
                _ => None,
            },
            _ => None,
        };
        let Some(event) = event else {
            debug_assert!(false, "nats: a malformed line {line:?}");
            return;
        };
        let _ = events.send(event);
    }
    if let Some(member) = member {
        let _ = events.send(Event::Gone(member));
    }
}

impl Server {
    fn note(&self, what: String) {
        self.shared.lock().note(now_ns(), "nats", what);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Publish(request) => {
                let seq = self.messages.len();
                {
                    let mut s = self.shared.lock();
                    if let Some(a) = s.asynchronous.as_mut() {
                        a.received += 1;
                        a.unacked.insert(request.inv);
                    }
                }
                self.messages.push(Message {
                    request,
                    holder: None,
                    acked: false,
                    deliveries: 0,
                    timing: false,
                });
                self.backlog.push_back(seq);
                self.send_backlog();
            }
            Event::Subscribe {
                member,
                ack_wait_s,
                writer,
            } => {
                if ack_wait_s == 0 {
                    let _ = writer.send("-ERR invalid ack wait time, should be >= 1s\n".into());
                    return;
                }
                assert_eq!(member as usize, self.members.len(), "members join in order");
                let _ = writer.send("+OK\n".into());
                self.members.push(Member {
                    pending: 0,
                    stalled: false,
                    failed_heartbeat: false,
                    ack_wait: Duration::from_secs(ack_wait_s),
                    writer,
                });
                self.order.push(member);
                self.send_backlog();
            }
            Event::Ack { member, seq } => {
                let Some(message) = self.messages.get_mut(seq) else {
                    return;
                };
                let inv = message.request.inv;
                match message.holder {
                    Some(holder) if !message.acked => {
                        message.acked = true;
                        let timing = std::mem::replace(&mut message.timing, false);
                        let m = &mut self.members[holder as usize];
                        assert!(m.pending > 0, "member {holder} holds call {inv}");
                        m.pending -= 1;
                        if holder != member {
                            self.note(format!(
                                "ack of call {inv} from queue-worker member {member} \
                                 acknowledges the copy member {holder} holds"
                            ));
                        }
                        let mut s = self.shared.lock();
                        if let Some(a) = s.asynchronous.as_mut() {
                            a.unacked.remove(&inv);
                            a.outstanding -= u32::from(timing);
                        }
                    }
                    _ => self.note(format!(
                        "ack of call {inv} from queue-worker member {member} ignored: already \
                         acknowledged"
                    )),
                }
                self.unstall(member);
            }
            Event::Gone(member) => {
                let events = self.events.clone();
                let after = self.failed_heartbeat;
                tokio::task::spawn_local(async move {
                    tokio::time::sleep(after).await;
                    let _ = events.send(Event::FailedHeartbeat(member));
                });
            }
            Event::FailedHeartbeat(member) => {
                self.members[member as usize].failed_heartbeat = true;
            }
            Event::AckExpired { seq, delivery } => self.expired(seq, delivery),
        }
    }

    /// The ack wait of a delivery ran out: redeliver to the best member, unless acked since.
    fn expired(&mut self, seq: usize, delivery: u32) {
        let message = &self.messages[seq];
        if message.acked || message.deliveries != delivery {
            return;
        }
        let inv = message.request.inv;
        if message.deliveries >= limits::DELIVERIES_PER_CALL_MAX {
            self.note(format!(
                "call {inv} reached faasim's bound of {} deliveries: no more redeliveries \
                 (NATS Streaming has none)",
                limits::DELIVERIES_PER_CALL_MAX
            ));
            // Its timer is over: nothing outstanding remains for it.
            self.messages[seq].timing = false;
            if let Some(a) = self.shared.lock().asynchronous.as_mut() {
                a.outstanding -= 1;
            }
            return;
        }
        let Some(pick) = self.best() else {
            return;
        };
        let holder = self.messages[seq].holder;
        let ack_wait = self.members[pick as usize].ack_wait;
        self.note(format!(
            "call {inv} unacknowledged after ack_wait {}s: redelivered to queue-worker member \
             {pick}",
            ack_wait.as_secs()
        ));
        self.send(seq, pick, true);
        if let Some(holder) = holder
            && holder != pick
        {
            // Out of the first holder's pending, as an ack the server makes itself.
            let old = &mut self.members[holder as usize];
            assert!(old.pending > 0, "member {holder} held call {inv}");
            old.pending -= 1;
            self.unstall(holder);
        }
    }

    /// The end of `processAck` for `member`: below `MaxInflight` again, it is no longer
    /// stalled, and the group sends what waits.
    fn unstall(&mut self, member: MemberId) {
        let m = &mut self.members[member as usize];
        if m.stalled && m.pending < self.max_inflight {
            m.stalled = false;
            // As the server: its count is only lowered while above zero.
            self.stalled_subs = self.stalled_subs.saturating_sub(1);
            self.send_backlog();
        }
    }

    /// `sendMsgToSub` to the member `findBestQueueSub` picked, counting a member newly stalled
    /// as `sendMsgToQueueGroup` does. Unless `forced`, a full member is flagged and gets
    /// nothing. Whether it was sent.
    fn send(&mut self, seq: usize, member: MemberId, forced: bool) -> bool {
        let already_holds = self.messages[seq].holder == Some(member);
        let max = self.max_inflight;
        let m = &mut self.members[member as usize];
        let before = m.stalled;
        let sent = if !forced && m.pending >= max {
            m.stalled = true;
            false
        } else {
            if !already_holds {
                m.pending += 1;
            }
            if !forced && m.pending == max {
                m.stalled = true;
            }
            true
        };
        if !forced && !before && m.stalled {
            self.stalled_subs += 1;
        }
        if sent {
            self.deliver(seq, member, forced);
        }
        sent
    }

    /// `findBestQueueSub`: the first member in the group's order with the fewest pending among
    /// those neither stalled nor with a failed heartbeat, else the first; the pick moves to the
    /// end of the order when it was first.
    fn best(&mut self) -> Option<MemberId> {
        let mut best: Option<(u32, MemberId)> = None;
        for &member in &self.order {
            let m = &self.members[member as usize];
            let usable = !m.stalled && !m.failed_heartbeat;
            if usable && best.is_none_or(|(least, _)| m.pending < least) {
                best = Some((m.pending, member));
            }
        }
        let pick = best.map(|(_, m)| m).or(self.order.first().copied())?;
        if self.order.len() > 1 && self.order[0] == pick {
            self.order.rotate_left(1);
        }
        Some(pick)
    }

    /// `sendAvailableMessagesToQueue`: queued messages go out, honouring `MaxInflight`, while
    /// fewer members are stalled than the group has and the best member takes one.
    fn send_backlog(&mut self) {
        while self.stalled_subs < self.members.len() {
            let Some(&seq) = self.backlog.front() else {
                return;
            };
            let Some(pick) = self.best() else {
                return;
            };
            if !self.send(seq, pick, false) {
                return;
            }
            self.backlog.pop_front();
        }
    }

    /// Send message `seq` to `member` and start its ack timer.
    fn deliver(&mut self, seq: usize, member: MemberId, redelivered: bool) {
        let message = &mut self.messages[seq];
        message.holder = Some(member);
        message.deliveries += 1;
        let delivery = message.deliveries;
        // A redelivery's timer replaces the expired one.
        let counted = std::mem::replace(&mut message.timing, true);
        let line = format!(
            "MSG {seq} {} {}\n",
            u8::from(redelivered),
            message.request.encode()
        );
        let m = &self.members[member as usize];
        // A dead member's connection is gone: the message is lost until its timer runs out.
        let _ = m.writer.send(line);
        let ack_wait = m.ack_wait;
        if !counted && let Some(a) = self.shared.lock().asynchronous.as_mut() {
            a.outstanding += 1;
        }
        let events = self.events.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(ack_wait).await;
            let _ = events.send(Event::AckExpired { seq, delivery });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_request_survives_the_wire() {
        let request = QueueRequest {
            inv: 7,
            call_id: "faasim-call-7".into(),
            callback_url: Some("http://callback:8000/".into()),
            function: "report".into(),
            body: b"{\"a\": 1}".to_vec(),
        };
        let line = request.encode();
        assert_eq!(QueueRequest::decode(line.split(' ')), Some(request.clone()));
        let bare = QueueRequest {
            callback_url: None,
            body: Vec::new(),
            ..request
        };
        assert_eq!(QueueRequest::decode(bare.encode().split(' ')), Some(bare));
    }
}
