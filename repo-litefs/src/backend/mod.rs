//! The seam between the shared machinery and a replication backend.
//!
//! Everything that forwards a write, records it exactly once, answers it and waits for it
//! is shared: the repository and its stack, the forwarding layer and its protocol, the
//! ledger's logic, the server, the node's assembly. What differs per backend is small,
//! and sits behind [`Backend`]:
//!
//! | what | LiteFS ([`LiteFs`]) | PostgreSQL (crate `repo-postgres`) |
//! |---|---|---|
//! | role and primary ([`Backend::follow`]) | LiteFS's `/events`, `/info`, `.primary` | `pg_is_in_recovery()`, polled in the background |
//! | position for read-your-writes ([`Backend::position`]) | the TXID in `<db>-pos` | the WAL LSN |
//! | dialect of the allowlist ([`Backend::dialect`]) | [`SqlDialect::Sqlite`] | [`SqlDialect::Postgres`] |
//! | errors from the primary ([`Backend::restore_error`]) | re-raised while decoding (SQLite codes) | re-raised on the replica's connection (SQLSTATE) |
//! | positions for `Durability::Candidates` ([`Backend::durability_source`]) | `<db>-pos` (TXID + checksum) | timeline + WAL LSN flushed on the standby |
//!
//! Two more differences follow from the connection itself, not from this trait: the
//! ledger's DDL and the placeholders of its statements (chosen by the connection's
//! `DbBackend`), and the writer (a dedicated SQLite connection with a budget, or the
//! repository's own connection elsewhere). docs/BACKENDS.md explains the choices.

mod litefs;
mod position;

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use repo_core::RepoError;

pub use crate::allowlist::SqlDialect;
pub use litefs::{LiteFs, LiteFsTxid};
pub use position::ReplicationPosition;

use crate::durability::PositionSource;
use crate::lag::SampledLag;
use crate::tracker::PrimaryTracker;

/// What one replication backend provides to a node (see the [module docs](self)).
pub trait Backend: fmt::Debug + Send + Sync + 'static {
    /// A short name for logs (`litefs`, `postgres`).
    fn name(&self) -> &'static str;

    /// Starts following this node's role and the primary's name, in the background; the
    /// node calls it once, at start. Reading the tracker costs no I/O.
    fn follow(&self) -> PrimaryTracker;

    /// The position token of read-your-writes: the primary reports it after each commit,
    /// a replica compares its own with it. `None`: waits end by the ledger row alone.
    fn position(&self) -> Option<Arc<dyn ReplicationPosition>>;

    /// Where this node's position comes from for `Durability::Candidates`, following its
    /// role through `tracker`: replicas report it to the primary, the primary compares the
    /// reports with its own after each commit (see [`crate::durability`]). `None`: the
    /// backend cannot say, and a node with durability settings needs a source given in
    /// them (`DurabilityConfig::position_source`).
    fn durability_source(&self, tracker: &PrimaryTracker) -> Option<Arc<dyn PositionSource>> {
        let _ = tracker;
        None
    }

    /// The SQL dialect forwarded statements are parsed and checked in.
    fn dialect(&self) -> SqlDialect;

    /// This node's replication lag, kept up to date by the backend, for health checks.
    /// `None` (the default): LiteFS's `.lag` in the node's mount directory.
    fn replication_lag(&self) -> Option<SampledLag> {
        None
    }

    /// Turns an error as it arrived from the primary into the error the same failure would
    /// be here (so `sql_err()` matches). The default keeps it as it is.
    fn restore_error(&self, error: RepoError) -> BoxFuture<'_, RepoError> {
        Box::pin(std::future::ready(error))
    }

    /// Whether `error`, from a write this node ran, is its database refusing to write
    /// because it is not the primary (a primary demoted without this node knowing yet).
    /// Such a write did not run, so the forwarding server answers
    /// [`RepoError::NotPrimary`] instead, which the sender may retry elsewhere; a backend
    /// that answers yes also learns its role again. The default: never (LiteFS fences its
    /// writer instead).
    fn is_replica_refusal(&self, error: &RepoError) -> bool {
        let _ = error;
        false
    }
}
