//! A small blog built on sea-orm: posts, their comments, and tags.
//!
//! The schema lives in the `migrations` crate; [`entities`] mirrors it, one
//! table per module.
//!
//! # Example
//!
//! ```no_run
//! use blog_example::entities::{post, prelude::Post};
//! use migrations::{Migrator, MigratorTrait};
//! use sea_orm::{ActiveModelTrait, Database, EntityTrait, Set};
//!
//! # async fn run() -> Result<(), sea_orm::DbErr> {
//! let db = Database::connect("sqlite::memory:").await?;
//! Migrator::up(&db, None).await?;
//!
//! // `created_at` and `updated_at` are filled in by the post's `before_save`.
//! let saved = post::ActiveModel {
//!     title: Set("Hello".to_owned()),
//!     slug: Set("hello".to_owned()),
//!     body: Set("First post.".to_owned()),
//!     ..Default::default()
//! }
//! .insert(&db)
//! .await?;
//! assert!(Post::find_by_id(saved.id).one(&db).await?.is_some());
//! # Ok(())
//! # }
//! ```

pub mod cli;
pub mod console;
pub mod entities;
pub use repo_litefs::lag;
pub mod local_cluster;
pub mod local_durability;
pub mod node;
pub mod observability;
pub mod postgres;
pub mod process_cluster;
pub mod tour;
pub mod transactions;
pub mod web;
