//! What a queue-worker of either edition (CE's `queue_worker`, Pro's `queue_worker_pro`) asks
//! of its engine about the calls it makes to the gateway and the callbacks it posts: the part
//! the two editions share, so an engine routes it once.

use crate::ledger::{Cause, RequestId, Status};
use crate::queue::MemberId;

/// A queue-worker's call to the gateway, its end, and its callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Execution {
    /// `member` calls the gateway for `inv`: execution `exec`, on a new connection (`dial`).
    Call {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
        /// The execution's id.
        exec: RequestId,
        /// A new connection is dialled first.
        dial: bool,
    },
    /// The call of `exec` ends for the worker with `status`.
    Finish {
        /// The execution.
        exec: RequestId,
        /// What the worker saw.
        status: Status,
        /// Why.
        cause: Cause,
    },
    /// The worker's connection closed under `exec` (or it gave up): the cancel goes down the
    /// chain.
    Abandon {
        /// The execution.
        exec: RequestId,
    },
    /// `member` posts the callback of `inv` with `X-Function-Status: status`.
    Callback {
        /// The member.
        member: MemberId,
        /// The invocation.
        inv: RequestId,
        /// The status it carries.
        status: u16,
    },
}
