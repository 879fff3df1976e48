//! The ledger: exactly-once execution of forwarded writes.
//!
//! The primary records each forwarded request id, with its encoded response, in the table
//! `litefs_ledger` **in the same database transaction as the write**. A request whose id is
//! already there is answered from the ledger and writes nothing: a retry after a lost
//! response gets the original answer. The check costs nothing on the common path: the
//! duplicate's own ledger insert violates the primary key (or its write fails first, e.g.
//! on a unique constraint the first attempt satisfied), its transaction rolls back, and the
//! failure is replaced by the recorded answer. Two attempts racing with one id therefore
//! cannot both write. Only forwarded writes are recorded; the primary's own
//! local writes never touch the ledger. The same transaction checks that this node is still
//! the primary, at its start and just before its commit. That check reads the tracker's
//! in-memory view, which follows LiteFS's events: it narrows the window, it does not close
//! it. What closes it is LiteFS itself, which refuses writes on a node that lost the lease.
//!
//! Add [`CreateLedgerTable`] to the application's migrator (or call [`create_table`]); prune
//! with [`Pruner`]. `repo_litefs::node::Node` does both.
//!
//! # What a row holds
//!
//! The request id (16 bytes), when it was recorded, and the write's outcome as a protobuf
//! `litefs.forward.v1.Outcome`: the message the primary answers with, so the ledger and the
//! wire share one format. [`lookup`] tells three cases apart ([`Recorded`]): no row, a row
//! with its outcome, and an *unreadable* row. A row is unreadable when it was written by an
//! older version of this crate (up to 0.1 the ledger held a postcard encoding, which
//! protobuf never misreads: it is refused at its first byte) or is damaged. Its write
//! committed, but what the write returned is unknown, so a retry of it is answered with
//! [`RepoError::MaybeCommitted`] (commit state unknown), never with a guess and never with
//! a panic. Rows are pruned after 24 hours by default, so unreadable rows only meet retries
//! that span an upgrade.

mod migration;
mod prune;
mod record;

use futures::future::BoxFuture;
use repo_core::spi::TransactionHook;
use repo_core::{Executor, RepoError, Request, Response};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

pub use migration::{CreateLedgerTable, create_table};
pub use prune::{PruneConfig, Pruner};

use crate::tracker::PrimaryTracker;

/// The ledger's table.
pub const TABLE: &str = "litefs_ledger";

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// What the ledger holds for one request id.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// No row: the request did not commit on this database, or its row was pruned.
    Absent,
    /// The request committed and answered this.
    Answered(Response),
    /// The request committed, but its row cannot be decoded (an older format, or damage):
    /// what it returned is unknown.
    Unreadable,
}

/// What the ledger holds for `request_id`, read through `conn`. Fails only when the
/// ledger cannot be read at all.
pub async fn lookup(
    conn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
) -> Result<Recorded, RepoError> {
    let stmt = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("SELECT response FROM {TABLE} WHERE request_id = ?"),
        [request_id.as_bytes().to_vec().into()],
    );
    let Some(row) = conn.query_one_raw(stmt).await? else {
        return Ok(Recorded::Absent);
    };
    // A value of another type (damage) is unreadable too.
    let bytes: Vec<u8> = row.try_get_by_index(0).unwrap_or_default();
    Ok(match record::decode_record(&bytes) {
        Some(response) => Recorded::Answered(response),
        None => Recorded::Unreadable,
    })
}

/// The server's hook: still the primary? already answered? then record the answer.
#[derive(Debug)]
pub(crate) struct LedgerHook {
    /// Checked inside the write transaction.
    pub(crate) tracker: PrimaryTracker,
    /// Whether to look requests up and record them (see `ServerConfig::ledger`).
    pub(crate) record: bool,
}

impl TransactionHook for LedgerHook {
    fn before<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Option<Response>, RepoError>> {
        Box::pin(async move {
            let state = self.tracker.current();
            if !state.is_primary() {
                return Err(RepoError::NotPrimary {
                    primary: state.primary.clone(),
                });
            }
            // Duplicates are found by the ledger's primary key when the answer is recorded
            // (see `after` and `LedgerHook::settle`), which saves a lookup on every write.
            let _ = (txn, request);
            Ok(None)
        })
    }

    fn after<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
        response: &'a Response,
    ) -> BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async move {
            // Checked again just before the commit, to keep a write that began before a
            // demotion from committing after it.
            let state = self.tracker.current();
            if !state.is_primary() {
                return Err(RepoError::NotPrimary {
                    primary: state.primary.clone(),
                });
            }
            if !self.record {
                return Ok(());
            }
            let stmt = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("INSERT INTO {TABLE} (request_id, response, created_at) VALUES (?, ?, ?)"),
                [
                    request.id.0.as_bytes().to_vec().into(),
                    record::encode_record(response)?.into(),
                    now_ms().into(),
                ],
            );
            txn.execute_raw(stmt).await?;
            Ok(())
        })
    }
}

impl LedgerHook {
    /// A failed write whose request id is in the ledger was a duplicate of one that
    /// committed: it is answered with that one's recorded response (its own attempt rolled
    /// back). Without a ledger (`ServerConfig::ledger(false)`) the failure stands as it is.
    pub(crate) async fn settle(
        &self,
        executor: &Executor,
        id: uuid::Uuid,
        result: Result<Response, RepoError>,
    ) -> Result<Response, RepoError> {
        match result {
            Err(e) if self.record && may_be_duplicate(&e) => {
                match lookup(executor.connection(), id).await {
                    Ok(Recorded::Answered(recorded)) => {
                        metrics::counter!("litefs_ledger_duplicates_total").increment(1);
                        tracing::info!(request_id = %id, "duplicate request answered from the ledger");
                        Ok(recorded)
                    }
                    Ok(Recorded::Absent) => Err(e),
                    Ok(Recorded::Unreadable) => {
                        metrics::counter!("litefs_ledger_unreadable_total").increment(1);
                        tracing::warn!(
                            request_id = %id,
                            "duplicate request whose ledger row is unreadable (older format?): \
                             answered that it may have committed"
                        );
                        Err(RepoError::MaybeCommitted {
                            last: Box::new(RepoError::Codec(UNREADABLE.into())),
                        })
                    }
                    // The write may be a duplicate of one that committed: say so.
                    Err(_) => Err(RepoError::MaybeCommitted { last: Box::new(e) }),
                }
            }
            other => other,
        }
    }
}

/// What a retry whose ledger row is unreadable is told.
const UNREADABLE: &str = "this request committed earlier, but the ledger's record of its \
     outcome is unreadable (written by an older version, or damaged); what it returned is unknown";

/// Whether a failed write may have failed because an earlier attempt of it committed
/// (its ledger row, or a unique value it wrote, already there). A refusal before the write
/// ran (not the primary, out of time before it started, interrupted) cannot.
fn may_be_duplicate(error: &RepoError) -> bool {
    !matches!(
        error,
        RepoError::NotPrimary { .. } | RepoError::Interrupted { .. } | RepoError::Internal { .. }
    )
}
