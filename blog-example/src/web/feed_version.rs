//! `FeedVersion`: what the change feed compares between two checks to learn that another
//! connection committed: a few bytes of the database's files, `PRAGMA data_version`, or on
//! PostgreSQL the server's WAL position.

use repo_litefs::{ChangeSignal, Fingerprint};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// What the watcher compares between two checks.
#[derive(Debug)]
pub(super) enum FeedVersion {
    /// The database's files as last looked at.
    Files(Fingerprint),
    /// `PRAGMA data_version`, or on PostgreSQL the WAL position (`None`: it could not be
    /// read).
    DataVersion(Option<i64>),
}

impl FeedVersion {
    /// Looks now: at `files` if given, else asks `db`.
    pub(super) async fn now(db: &DatabaseConnection, files: Option<&ChangeSignal>) -> Self {
        match files {
            Some(files) => Self::Files(files.look()),
            None => Self::DataVersion(data_version(db).await.ok()),
        }
    }

    /// Whether something may have changed since `before`.
    pub(super) fn differs_from(&self, before: &FeedVersion) -> bool {
        match (self, before) {
            (Self::Files(now), Self::Files(then)) => now.changed_since(then),
            (Self::DataVersion(now), Self::DataVersion(then)) => now != then,
            _ => true,
        }
    }
}

/// A number that changes when a commit reached this node's database: SQLite's
/// `PRAGMA data_version` (another connection committed), PostgreSQL's WAL position (the
/// standby's replayed one, the primary's written one).
async fn data_version(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
             ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn)::bigint"
        }
        _ => "PRAGMA data_version",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}
