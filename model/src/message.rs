//! What crosses the network for a request between components, each message a hop (half the
//! round trip) after it is sent. The engine's network carries them and drops those of a leg a
//! timer already ended. They are kept small (they fill the event queue): what the receiver can
//! work out itself (a pooled request left a hop before it arrived) is not carried.

use crate::ledger::{Cause, PodId, Status};

/// One message of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// The request reaches the ingress in front of the gateway.
    ToIngress,
    /// The request reaches the gateway.
    ToGateway,
    /// The provider's SYN reaches a pod.
    Syn {
        /// The pod dialled.
        pod: PodId,
        /// The dial is Go's retry after a keep-alive race.
        retry: bool,
    },
    /// The request reaches a pod's watchdog, on a reused or a new connection.
    ToPod {
        /// The pod.
        pod: PodId,
        /// On a pooled connection.
        reused: bool,
        /// On Go's retry after a keep-alive race.
        retry: bool,
        /// New: the pod's incarnation that accepted the SYN (a crash since kills the
        /// connection).
        generation: u32,
    },
    /// The provider learns that a reused connection was closed under its request.
    Reset {
        /// The pod.
        pod: PodId,
    },
    /// A response (or a transport error) reaches the provider.
    ToProvider {
        /// The status code.
        code: u16,
        /// Why, as the ledger records it.
        cause: Cause,
        /// The pod whose connection goes back to the pool, when it stays usable (the pod
        /// wrote it a hop before it arrives: its idle timer runs from there).
        reuse: Option<PodId>,
    },
    /// The gateway's response (or its broken connection) reaches the ingress.
    FromGateway {
        /// What the gateway wrote.
        status: Status,
        /// Why.
        cause: Cause,
    },
    /// The response (or the gateway's broken connection) reaches the client.
    ToClient {
        /// What the client sees.
        status: Status,
        /// Why.
        cause: Cause,
    },
}
