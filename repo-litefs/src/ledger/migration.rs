//! The ledger's table: a plain function that creates (or upgrades) it, and the same as
//! sea-orm migrations to add to the application's migrator.
//!
//! Version 0.2 added the `fingerprint` column (a digest of what each request asked, see
//! `fingerprint.rs`). [`create_table`] adds it to a table created before; migrator users add
//! [`AddLedgerFingerprint`] after [`CreateLedgerTable`]. Rows recorded before the column
//! existed have none, and a replay of one is answered without the payload check.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

/// Creates `litefs_ledger` and its index on `db` unless they exist (in the connection's
/// dialect: SQLite's `BLOB`/`INTEGER`, PostgreSQL's `bytea`/`bigint`), and adds the columns of
/// newer versions to a table created by an older one: for applications that do not use
/// sea-orm-migration (`repo_litefs::Node` calls it at start). Run it on the primary, after
/// the application's own schema.
///
/// ```
/// # async fn demo() -> Result<(), sea_orm::DbErr> {
/// let db = sea_orm::Database::connect("sqlite::memory:").await?;
/// repo_litefs::ledger::create_table(&db).await?;
/// repo_litefs::ledger::create_table(&db).await?; // idempotent
/// # Ok(()) }
/// ```
pub async fn create_table<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    db.execute(&table()).await?;
    db.execute(&index()).await?;
    add_fingerprint(db).await
}

/// Adds the `fingerprint` column unless the table has it (PostgreSQL says so itself with
/// `IF NOT EXISTS`; SQLite's table is inspected first).
async fn add_fingerprint<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(
            "ALTER TABLE litefs_ledger ADD COLUMN IF NOT EXISTS fingerprint BYTEA",
        )
        .await?;
        return Ok(());
    }
    let columns = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM pragma_table_info('litefs_ledger')",
        ))
        .await?;
    let has = columns.iter().any(|row| {
        row.try_get_by_index::<String>(0)
            .is_ok_and(|n| n == "fingerprint")
    });
    if !has {
        db.execute_unprepared("ALTER TABLE litefs_ledger ADD COLUMN fingerprint BLOB")
            .await?;
    }
    Ok(())
}

fn table() -> TableCreateStatement {
    Table::create()
        .table(Ledger::Table)
        .if_not_exists()
        .col(
            ColumnDef::new(Ledger::RequestId)
                .binary()
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(Ledger::Response).binary().not_null())
        .col(ColumnDef::new(Ledger::CreatedAt).big_integer().not_null())
        .col(ColumnDef::new(Ledger::Fingerprint).binary().null())
        .to_owned()
}

fn index() -> IndexCreateStatement {
    Index::create()
        .name("litefs_ledger_created_at")
        .table(Ledger::Table)
        .col(Ledger::CreatedAt)
        .if_not_exists()
        .to_owned()
}

/// Creates (and on `down`, drops) `litefs_ledger`: one row per forwarded write that the
/// primary executed, keyed by request id, with its encoded response.
///
/// ```ignore
/// fn migrations() -> Vec<Box<dyn MigrationTrait>> {
///     vec![Box::new(m20261127_000001_create_posts::Migration), Box::new(repo_litefs::ledger::CreateLedgerTable)]
/// }
/// ```
pub struct CreateLedgerTable;

impl MigrationName for CreateLedgerTable {
    fn name(&self) -> &str {
        "m20261127_900001_create_litefs_ledger"
    }
}

#[derive(Iden)]
enum Ledger {
    #[iden = "litefs_ledger"]
    Table,
    RequestId,
    Response,
    CreatedAt,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLedgerTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table()).await?;
        manager.create_index(index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Ledger::Table).to_owned())
            .await
    }
}

/// Adds the `fingerprint` column to a `litefs_ledger` created before version 0.2 (a no-op on
/// one [`CreateLedgerTable`] created since). Add it to the migrator after that one.
pub struct AddLedgerFingerprint;

impl MigrationName for AddLedgerFingerprint {
    fn name(&self) -> &str {
        "m20261130_900002_add_litefs_ledger_fingerprint"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddLedgerFingerprint {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_fingerprint(manager.get_connection()).await
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // SQLite before 3.35 cannot drop a column; an unused one is harmless.
        Ok(())
    }
}
