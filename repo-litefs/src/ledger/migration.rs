//! The ledger's table, as a sea-orm migration to add to the application's migrator.

use sea_orm_migration::prelude::*;

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
        manager
            .create_table(
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
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("litefs_ledger_created_at")
                    .table(Ledger::Table)
                    .col(Ledger::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Ledger::Table).to_owned())
            .await
    }
}
