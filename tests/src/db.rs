//! Real SQLite databases in temporary directories, migrated with the blog schema.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Schema};
use tempfile::TempDir;

/// A SQLite database file that lives as long as this value.
pub struct TestDb {
    /// The connection to it.
    pub conn: DatabaseConnection,
    /// Keeps the directory (and the file) alive.
    _dir: TempDir,
}

/// Opens a new SQLite file with the blog schema and the `every_type_rows` table.
///
/// # Panics
/// If the database cannot be created (tests only).
pub async fn fresh() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let conn = Database::connect(&url).await.expect("open sqlite");
    Migrator::up(&conn, None).await.expect("migrate");
    let schema = Schema::new(conn.get_database_backend());
    let create = schema.create_table_from_entity(crate::every_type::Entity);
    conn.execute(&create).await.expect("create every_type_rows");
    TestDb { conn, _dir: dir }
}

/// Two databases with the same schema: one for raw sea-orm, one behind the repository.
pub async fn twins() -> (TestDb, TestDb) {
    (fresh().await, fresh().await)
}
