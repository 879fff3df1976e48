//! Creates the `tags` table: the unique labels that posts can carry.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates (and on `down`, drops) the `tags` table.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .if_not_exists()
                    .col(pk_auto(Tags::Id))
                    .col(string_uniq(Tags::Name))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tags::Table).to_owned())
            .await
    }
}

/// Identifiers of the `tags` table and its columns.
#[derive(DeriveIden)]
pub(crate) enum Tags {
    Table,
    Id,
    Name,
}
