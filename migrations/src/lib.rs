//! Schema migrations for the blog example, applied in order by [`Migrator`].
//!
//! The schema has four tables: `posts`, `tags`, `comments` (each belongs to
//! one post) and the `post_tags` junction between posts and tags. Deleting a
//! post or a tag cascades to the rows that reference it. Two indexes serve the
//! change feed's questions (posts in publication order, a post's comments).
//!
//! # Example
//!
//! ```no_run
//! use migrations::{Migrator, MigratorTrait};
//! use sea_orm_migration::sea_orm::Database;
//!
//! # async fn run() -> Result<(), sea_orm_migration::DbErr> {
//! let db = Database::connect("sqlite::memory:").await?;
//! Migrator::up(&db, None).await?;
//! # Ok(())
//! # }
//! ```

use sea_orm_migration::prelude::*;

/// Re-exported so callers can run [`Migrator`] (`Migrator::up`, `status`, ...)
/// without depending on `sea-orm-migration` themselves.
pub use sea_orm_migration::MigratorTrait;

mod m20261127_000001_create_posts;
mod m20261127_000002_create_tags;
mod m20261127_000003_create_comments;
mod m20261127_000004_create_post_tags;
mod m20261130_000005_index_feed_queries;

/// Runs the blog schema migrations in the order they were written.
///
/// Use it through [`MigratorTrait`] (`Migrator::up(&db, None)`) from code,
/// or through the `migrations` binary, which wraps sea-orm's migration CLI.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_posts::Migration),
            Box::new(m20261127_000002_create_tags::Migration),
            Box::new(m20261127_000003_create_comments::Migration),
            Box::new(m20261127_000004_create_post_tags::Migration),
            Box::new(repo_litefs::ledger::CreateLedgerTable),
            Box::new(repo_litefs::ledger::AddLedgerFingerprint),
            Box::new(m20261130_000005_index_feed_queries::Migration),
        ]
    }
}
