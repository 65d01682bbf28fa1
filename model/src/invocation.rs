//! Asynchronous invocations in the ledger: each request of an async load is one invocation,
//! accepted with 202 by the gateway and run by the queue-worker as executions, each a call to
//! `/function/NAME` with a ledger record of its own. An invocation is judged from them at
//! the end of the run (scenario-format.md, "Keys added for asynchronous invocations"): its
//! status is its last execution's, and its outcome `lost` when it never completed with a 2xx
//! and no retry is left, `duplicated` when its handler started more than once.

use crate::ledger::{Outcome, Record, Status};

/// What the report adds for one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The gateway accepted it (202).
    pub accepted: bool,
    /// It carries an `X-Callback-Url` (`load.callback`).
    pub callback: bool,
    /// How many times the handler started it (a 429 or a refused call is not an execution).
    pub executions: u32,
    /// The `X-Function-Status` of each callback received, in order.
    pub callbacks: Vec<Status>,
}

/// Judge one invocation: `record` is the client's request (its 202), `executions` the records
/// of its executions in the order they started, `pending` whether its message is still
/// unacknowledged or held by a live worker when the run stopped. Rewrites the record's
/// status, end, cause and outcome, and fills `invocation.executions`.
pub fn judge(
    record: &mut Record,
    executions: &[&Record],
    invocation: &mut Invocation,
    pending: bool,
) {
    invocation.accepted = record.status == Some(Status::Code(202));
    invocation.executions = executions.iter().filter(|e| e.started).count() as u32;
    if !invocation.accepted {
        return;
    }
    // The execution that ended last (on equal instants, the later one).
    let last = executions
        .iter()
        .filter(|e| e.end_ns.is_some())
        .max_by_key(|e| e.end_ns);
    if let Some(last) = last {
        record.status = last.status;
        record.end_ns = last.end_ns;
        record.cause = last.cause;
        record.pod = last.pod;
    }
    let succeeded = executions
        .iter()
        .any(|e| matches!(e.status, Some(Status::Code(200..=299))));
    record.outcome = if !succeeded && pending {
        Outcome::Unfinished
    } else if !succeeded {
        Outcome::Lost
    } else if invocation.executions > 1 {
        Outcome::Duplicated
    } else {
        Outcome::Ok
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Cause, Fact};

    fn accepted() -> Record {
        let mut record = Record::new(0, 0, 0);
        record.finish(1, Status::Code(202), Cause::Queued);
        record
    }

    fn execution(end: u64, code: u16, cause: Cause) -> Record {
        let mut record = Record::new(9, 0, 0);
        record.learn(Fact::Started);
        record.finish(end, Status::Code(code), cause);
        record
    }

    #[test]
    fn two_successful_runs_are_duplicated_with_the_last_ones_status() {
        let (a, b) = (
            execution(50, 200, Cause::Handler),
            execution(100, 200, Cause::Handler),
        );
        let mut record = accepted();
        let mut inv = Invocation::default();
        judge(&mut record, &[&a, &b], &mut inv, false);
        assert_eq!(inv.executions, 2);
        assert_eq!(record.outcome, Outcome::Duplicated);
        assert_eq!(record.end_ns, Some(100));
    }

    #[test]
    fn a_failure_with_nothing_left_is_lost_and_pending_is_unfinished() {
        let a = execution(60, 502, Cause::UpstreamTimeout);
        let mut record = accepted();
        let mut inv = Invocation::default();
        judge(&mut record, &[&a], &mut inv, false);
        assert_eq!(record.outcome, Outcome::Lost);
        assert_eq!(record.status, Some(Status::Code(502)));
        let mut record = accepted();
        judge(&mut record, &[&a], &mut inv, true);
        assert_eq!(record.outcome, Outcome::Unfinished);
    }

    #[test]
    fn a_refused_submission_keeps_its_own_outcome() {
        let mut record = Record::new(0, 0, 0);
        record.finish(1, Status::Error, Cause::GatewayRefused);
        let mut inv = Invocation::default();
        judge(&mut record, &[], &mut inv, false);
        assert!(!inv.accepted);
        assert_eq!(record.outcome, Outcome::Refused);
    }
}
