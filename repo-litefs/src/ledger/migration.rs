//! The ledger's table: a plain function that creates it, and the same as a sea-orm
//! migration to add to the application's migrator.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

/// Creates `litefs_ledger` and its index on `db` unless they exist: for applications that
/// do not use sea-orm-migration. Run it on the primary, after the application's own schema.
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
