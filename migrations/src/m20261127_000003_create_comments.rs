//! Creates the `comments` table: reader comments, each on exactly one post.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_create_posts::Posts;

/// Creates (and on `down`, drops) the `comments` table.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .if_not_exists()
                    .col(pk_auto(Comments::Id))
                    .col(integer(Comments::PostId))
                    .col(string(Comments::Author))
                    .col(text(Comments::Body))
                    .col(date_time(Comments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-comments-post_id")
                            .from(Comments::Table, Comments::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop a foreign key on its own; dropping the table
        // removes it on every backend.
        manager
            .drop_table(Table::drop().table(Comments::Table).to_owned())
            .await
    }
}

/// Identifiers of the `comments` table and its columns.
#[derive(DeriveIden)]
pub(crate) enum Comments {
    Table,
    Id,
    PostId,
    Author,
    Body,
    CreatedAt,
}
