//! `FeedVersion`: what the change feed compares between two checks to learn that another
//! connection committed: a few bytes of the database's files, or `PRAGMA data_version`.

use repo_litefs::{ChangeSignal, Fingerprint};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// What the watcher compares between two checks.
#[derive(Debug)]
pub(super) enum FeedVersion {
    /// The database's files as last looked at.
    Files(Fingerprint),
    /// `PRAGMA data_version` (`None`: it could not be read).
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

/// SQLite's `PRAGMA data_version`: changes when another connection commits.
async fn data_version(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "PRAGMA data_version",
        ))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}
