//! The per-connection settings the writer copies from the application's connection.
//!
//! SQLite keeps some settings per connection, and applications often set them with a
//! `PRAGMA` on their connection rather than in the connect options (`PRAGMA synchronous =
//! NORMAL` after opening, say). The writer is a connection of its own, so it reads them from
//! the application's connection when it connects: writes keep the durability, foreign-key
//! enforcement and lock waiting the application chose.

use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The settings copied, each an integer-valued pragma.
const COPIED: [&str; 4] = [
    "synchronous",
    "foreign_keys",
    "recursive_triggers",
    "busy_timeout",
];

/// Copies [`COPIED`] from `app` to `conn`. Best effort: a setting that cannot be read or set
/// keeps the connect options' value, and says so at debug level.
pub(super) async fn copy(app: &DatabaseConnection, conn: &mut SqliteConnection) {
    for pragma in COPIED {
        let read = Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {pragma}"));
        let value = match app.query_one_raw(read).await {
            Ok(Some(row)) => row.try_get_by_index::<i64>(0).ok(),
            _ => None,
        };
        let Some(value) = value else {
            tracing::debug!(pragma, "could not read the application's setting");
            continue;
        };
        let set = format!("PRAGMA {pragma} = {value}");
        let set = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(set));
        if let Err(e) = set.execute(&mut *conn).await {
            tracing::debug!(pragma, error = %e, "could not copy the application's setting");
        }
    }
}
