//! The ledger: exactly-once execution of forwarded writes.
//!
//! The primary records each forwarded request id, with its encoded response, in the table
//! `litefs_ledger` **in the same database transaction as the write**. A request whose id is
//! already there is answered from the ledger and writes nothing: a retry after a lost
//! response gets the original answer. The check costs nothing on the common path: the
//! duplicate's own ledger insert violates the primary key (or its write fails first, e.g.
//! on a unique constraint the first attempt satisfied), its transaction rolls back, and the
//! failure is replaced by the recorded answer. Two attempts racing with one id therefore
//! cannot both write. Forwarded writes are recorded, and local writes that carry a
//! caller's idempotency key ([`repo_core::IdempotencyKey`]); the primary's other local
//! writes never touch the ledger. The same transaction checks that this node is still
//! the primary, at its start and just before its commit. That check reads the tracker's
//! in-memory view, which follows LiteFS's events: it narrows the window, it does not close
//! it. What closes it is LiteFS itself, which refuses writes on a node that lost the lease.
//!
//! # Same id, other request; old ids
//!
//! Each row also holds the request's *fingerprint*, a SHA-256 digest of what it asked
//! (`fingerprint.rs`). A request that meets a row with its id but another fingerprint is
//! refused with [`RepoError::IdempotencyConflict`]: nothing written, nothing of the first
//! answer revealed. A request whose id is time-ordered (UUIDv7: every id the repository
//! makes) and older than the retention is refused with
//! [`RejectReason::Expired`] instead of run: its row may
//! have been pruned. Concurrent copies of one request are serialized by SQLite's single
//! writer: the second waits for the first (bounded by its deadline), then gets its answer.
//!
//! Add [`CreateLedgerTable`] and [`AddLedgerFingerprint`] to the application's migrator (or
//! call [`create_table`]); prune with [`Pruner`]. `repo_litefs::node::Node` does both.
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

mod dialect;
mod fingerprint;
mod migration;
mod outcome;
mod prune;
mod record;

use fingerprint::fingerprint;

use std::time::Duration;

use futures::future::BoxFuture;
use repo_core::spi::{Ledger, LedgerTicket, StatementHook, TransactionHook};
use repo_core::{RejectReason, RepoError, Request, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};

pub(crate) use dialect::statement as ledger_statement;
pub use migration::{AddLedgerFingerprint, CreateLedgerTable, create_table};
pub use outcome::WriteOutcome;
pub(crate) use outcome::resolve;
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
    /// An outcome lookup settled the request as not committed ([`WriteOutcome`]): it never
    /// runs.
    Abandoned,
}

/// The fingerprint of a row that settles a request as abandoned (a real fingerprint is a
/// 32-byte digest, so the two never meet).
pub(crate) const ABANDONED: &[u8] = b"abandoned";

/// What the ledger holds for `request_id`, read through `conn`. Fails only when the
/// ledger cannot be read at all.
pub async fn lookup(
    conn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
) -> Result<Recorded, RepoError> {
    Ok(lookup_row(conn, request_id).await?.0)
}

/// What the ledger holds for `request_id`, and the fingerprint recorded with it (none for
/// a row written before fingerprints, or no row).
async fn lookup_row(
    conn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
) -> Result<(Recorded, Option<Vec<u8>>), RepoError> {
    let stmt = dialect::statement(
        conn.get_database_backend(),
        &format!("SELECT response, fingerprint FROM {TABLE} WHERE request_id = ?"),
        [request_id.as_bytes().to_vec().into()],
    );
    let Some(row) = conn.query_one_raw(stmt).await? else {
        return Ok((Recorded::Absent, None));
    };
    // A value of another type (damage) is unreadable too.
    let bytes: Vec<u8> = row.try_get_by_index(0).unwrap_or_default();
    let fingerprint: Option<Vec<u8>> = row.try_get_by_index(1).unwrap_or_default();
    if fingerprint.as_deref() == Some(ABANDONED) {
        return Ok((Recorded::Abandoned, fingerprint));
    }
    let recorded = match record::decode_record(&bytes) {
        Some(response) => Recorded::Answered(response),
        None => Recorded::Unreadable,
    };
    Ok((recorded, fingerprint))
}

/// The ledger of one node: still the primary? too old to run? already answered, or asked
/// differently? then record the answer with the request's fingerprint. The forwarding
/// server uses it for every forwarded write, the executor for local writes that carry an
/// idempotency key ([`repo_core::spi::Ledger`]).
#[derive(Debug)]
pub struct LedgerHook {
    /// Checked inside the write transaction.
    tracker: PrimaryTracker,
    /// Where duplicates are looked up: this node's database.
    conn: DatabaseConnection,
    /// Whether to look requests up and record them (see `ServerConfig::ledger`).
    record: bool,
    /// How long rows are kept: a time-ordered request id older than this is refused.
    retention: Option<Duration>,
}

impl LedgerHook {
    /// A ledger on `conn` (this node's database) that checks `tracker` for the role and
    /// refuses time-ordered request ids older than `retention` (the pruner's).
    pub fn new(
        tracker: PrimaryTracker,
        conn: DatabaseConnection,
        retention: Option<Duration>,
    ) -> Self {
        Self {
            tracker,
            conn,
            record: true,
            retention,
        }
    }

    /// The same hook, recording nothing when `record` is false (`ServerConfig::ledger`).
    pub(crate) fn recording(mut self, record: bool) -> Self {
        self.record = record;
        self
    }

    fn check_primary(&self) -> Result<(), RepoError> {
        let state = self.tracker.current();
        if state.is_primary() {
            return Ok(());
        }
        Err(RepoError::NotPrimary {
            primary: state.primary.clone(),
        })
    }

    /// Refuses a UUIDv7 request id older than the retention: its row may have been pruned,
    /// so a replay could run it twice. (Ids from idempotency keys carry no time: a key is
    /// remembered while its row is kept, then it is a new write.)
    fn check_age(&self, request: &Request) -> Result<(), RepoError> {
        let Some(retention) = self.retention else {
            return Ok(());
        };
        let Some(timestamp) = request.id.0.get_timestamp() else {
            return Ok(());
        };
        if request.id.0.get_version_num() != 7 {
            return Ok(());
        }
        let (secs, nanos) = timestamp.to_unix();
        let issued = std::time::UNIX_EPOCH + Duration::new(secs, nanos);
        match std::time::SystemTime::now().duration_since(issued) {
            Ok(age) if age > retention => Err(RepoError::Rejected {
                reason: RejectReason::Expired {
                    retention_secs: retention.as_secs(),
                },
            }),
            _ => Ok(()),
        }
    }
}

impl TransactionHook for LedgerHook {
    fn before<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Option<Response>, RepoError>> {
        Box::pin(async move {
            // Duplicates are found by the ledger's primary key when the answer is recorded
            // (see `after` and `settle`), which saves a lookup on every write.
            let _ = txn;
            StatementHook::check(self, request).map(|()| None)
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
            self.check_primary()?;
            if !self.record {
                return Ok(());
            }
            txn.execute_raw(insert_rows(
                txn.get_database_backend(),
                &[(request, response)],
            )?)
            .await?;
            Ok(())
        })
    }

    /// One insert for the rows of a whole group (in chunks far below SQLite's variable
    /// limit): a group commit of n writes costs one ledger statement, not n.
    fn after_group<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        ran: &'a [(&'a Request, Response)],
    ) -> BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async move {
            for statement in StatementHook::statements(self, ran)? {
                txn.execute_raw(statement).await?;
            }
            Ok(())
        })
    }

    /// The ledger is in-memory checks and inserts: the group commit sends its rows with the
    /// commit, in one call to the database.
    fn as_statements(&self) -> Option<&dyn StatementHook> {
        Some(self)
    }
}

impl StatementHook for LedgerHook {
    /// Still the primary; a time-ordered id not older than the retention.
    fn check(&self, request: &Request) -> Result<(), RepoError> {
        self.check_primary()?;
        if self.record {
            self.check_age(request)?;
        }
        Ok(())
    }

    /// Still the primary (checked again just before the commit); then the rows of the
    /// group in inserts of at most 128 rows.
    fn statements(&self, ran: &[(&Request, Response)]) -> Result<Vec<Statement>, RepoError> {
        self.check_primary()?;
        if !self.record {
            return Ok(Vec::new());
        }
        let backend = self.conn.get_database_backend();
        let rows: Vec<_> = ran
            .iter()
            .map(|(request, response)| (*request, response))
            .collect();
        rows.chunks(ROWS_PER_INSERT)
            .map(|chunk| insert_rows(backend, chunk))
            .collect()
    }
}

/// Ledger rows per insert statement: 4 values each, far below SQLite's variable limit.
const ROWS_PER_INSERT: usize = 128;

/// The insert of one ledger row per `(request, response)`.
fn insert_rows(backend: DbBackend, rows: &[(&Request, &Response)]) -> Result<Statement, RepoError> {
    let placeholders = vec!["(?, ?, ?, ?)"; rows.len()].join(", ");
    let created_at = now_ms();
    let mut values = Vec::with_capacity(rows.len() * 4);
    for (request, response) in rows {
        values.push(request.id.0.as_bytes().to_vec().into());
        values.push(record::encode_record(response)?.into());
        values.push(created_at.into());
        values.push(fingerprint(request).into());
    }
    Ok(dialect::statement(
        backend,
        &format!(
            "INSERT INTO {TABLE} (request_id, response, created_at, fingerprint) \
             VALUES {placeholders}"
        ),
        values,
    ))
}

impl Ledger for LedgerHook {
    fn ticket(&self, request: &Request) -> LedgerTicket {
        LedgerTicket {
            id: request.id,
            // Only needed to settle a failure; computed up front because the request is
            // consumed by running it.
            fingerprint: if self.record {
                fingerprint(request)
            } else {
                Vec::new()
            },
        }
    }

    /// A failed write whose request id is in the ledger was a duplicate of one that
    /// committed: it is answered with that one's recorded response (its own attempt rolled
    /// back), or refused with [`RepoError::IdempotencyConflict`] when that one asked for
    /// something else. Without a ledger (`ServerConfig::ledger(false)`) the failure stands.
    fn settle(
        &self,
        ticket: LedgerTicket,
        result: Result<Response, RepoError>,
    ) -> BoxFuture<'_, Result<Response, RepoError>> {
        Box::pin(async move {
            let e = match result {
                Err(e) if self.record && may_be_duplicate(&e) => e,
                other => return other,
            };
            let id = ticket.id.0;
            match lookup_row(&self.conn, id).await {
                Ok((Recorded::Answered(recorded), stored)) => {
                    if stored.is_some_and(|stored| stored != ticket.fingerprint) {
                        metrics::counter!("litefs_ledger_conflicts_total").increment(1);
                        tracing::warn!(request_id = %id, "request id reused for another request: refused");
                        return Err(RepoError::IdempotencyConflict);
                    }
                    metrics::counter!("litefs_ledger_duplicates_total").increment(1);
                    tracing::info!(request_id = %id, "duplicate request answered from the ledger");
                    Ok(recorded)
                }
                Ok((Recorded::Absent, _)) => Err(e),
                Ok((Recorded::Abandoned, _)) => Err(RepoError::Rejected {
                    reason: RejectReason::Abandoned,
                }),
                Ok((Recorded::Unreadable, _)) => {
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
        })
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
