//! `LsnPosition`: PostgreSQL's WAL position as the read-your-writes token.

use futures::future::BoxFuture;
use repo_litefs::backend::ReplicationPosition;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::lsn::parse_lsn;

/// The WAL LSN of this node's PostgreSQL: `pg_current_wal_lsn()` on the primary (read after
/// a commit, it is at or beyond the commit's record, which `synchronous_commit` flushed),
/// `pg_last_wal_replay_lsn()` on a standby (how far it has replayed, so how far its reads
/// see). LSNs keep growing across a promotion (a new timeline starts where the old one
/// was cut), and the forwarding layer trusts a token only from the primary it still
/// follows; every wait is bounded anyway.
#[derive(Debug, Clone)]
pub struct LsnPosition {
    /// This node's connection.
    db: DatabaseConnection,
}

impl LsnPosition {
    /// The position of the database behind `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The LSN `sql` (one `pg_lsn` column, as text) returns, if any.
    async fn read(&self, sql: &str) -> Option<u64> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .ok()??;
        let text: Option<String> = row.try_get_by_index(0).ok()?;
        parse_lsn(&text?)
    }
}

impl ReplicationPosition for LsnPosition {
    fn committed(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(self.read("SELECT pg_current_wal_lsn()::text"))
    }

    fn reached(&self, target: u64) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            self.read("SELECT pg_last_wal_replay_lsn()::text")
                .await
                .is_some_and(|replayed| replayed >= target)
        })
    }
}
