//! What became of a write, by its request id: the ledger's answer to a caller whose write
//! ended without one (a timeout, a lost connection: `CommitState::Unknown`).
//!
//! Asked on the primary, the ledger knows three things for sure: the write committed (and
//! what it answered), or it is unknown (not committed *yet*, never received, or pruned).
//! An unknown write can be *settled*: the primary then records the id as abandoned, in the
//! ledger, so that no attempt of it can commit later (its ledger insert collides and it is
//! refused with [`RejectReason::Abandoned`](repo_core::RejectReason::Abandoned)), and the
//! answer becomes a final "not committed". `repo_litefs::Node::outcome` asks this of the
//! primary from any node.

use repo_core::{Action, Executor, Operation, RepoError, Request, RequestId, Response};
use sea_orm::SqlErr;

use super::{ABANDONED, Recorded, TABLE, lookup, now_ms};
use crate::tracker::PrimaryTracker;

/// What became of a write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// It committed, and answered this.
    Committed(Response),
    /// It committed, but its recorded answer is unreadable (a row of an older version).
    CommittedAnswerUnknown,
    /// It did not commit, and never will: settled by a lookup (this one or an earlier one).
    NotCommitted,
    /// The primary has no record of it: it has not committed *yet*, never arrived, or its
    /// record was pruned (after the ledger's retention). Ask again with settling for a
    /// final answer.
    Unknown,
}

/// The outcome of `id` on this node, which must be the primary; with `settle`, an unknown
/// id is recorded as abandoned first (see the module docs).
///
/// # Errors
///
/// [`RepoError::NotPrimary`] on a replica; a database error when the ledger cannot be read
/// or written.
pub(crate) async fn resolve(
    executor: &Executor,
    tracker: &PrimaryTracker,
    id: RequestId,
    settle: bool,
) -> Result<WriteOutcome, RepoError> {
    let state = tracker.current();
    if !state.is_primary() {
        return Err(RepoError::NotPrimary {
            primary: state.primary.clone(),
        });
    }
    match lookup(executor.connection(), id.0).await? {
        Recorded::Answered(response) => return Ok(WriteOutcome::Committed(response)),
        Recorded::Unreadable => return Ok(WriteOutcome::CommittedAnswerUnknown),
        Recorded::Abandoned => return Ok(WriteOutcome::NotCommitted),
        Recorded::Absent if !settle => return Ok(WriteOutcome::Unknown),
        Recorded::Absent => {}
    }
    // Record the id as abandoned, on the writer, so that it serializes with the writes: an
    // attempt that commits first makes this insert collide, and the lookup says so.
    let tombstone = Request::new(
        Action::Execute,
        TABLE,
        Operation::Execute(super::dialect::statement(
            executor.connection().get_database_backend(),
            &format!(
                "INSERT INTO {TABLE} (request_id, response, created_at, fingerprint) \
                 VALUES (?, ?, ?, ?)"
            ),
            [
                id.0.as_bytes().to_vec().into(),
                Vec::<u8>::new().into(),
                now_ms().into(),
                ABANDONED.to_vec().into(),
            ],
        )),
    );
    match executor.execute(tombstone).await {
        Ok(_) => Ok(WriteOutcome::NotCommitted),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Box::pin(resolve(executor, tracker, id, false)).await
        }
        Err(e) => Err(e),
    }
}
