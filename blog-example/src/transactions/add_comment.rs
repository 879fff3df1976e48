//! `add_comment.v1`: store a comment, stamped with the primary's clock.
//!
//! A named transaction rather than a plain insert so that what the request asks is the
//! comment alone: the timestamp is taken where the write runs. A retried request (same
//! `Idempotency-Key`) is then the same request, and the ledger answers it with the first
//! answer; with the time taken on the calling node, each retry would ask for another row.

use repo_core::NamedTransaction;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, Set};
use serde::{Deserialize, Serialize};

use crate::entities::comment;

/// Adds a comment to a post.
pub struct AddComment;

/// The arguments of [`AddComment`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewComment {
    /// The post commented on.
    pub post_id: i32,
    /// Who wrote it.
    pub author: String,
    /// What it says.
    pub body: String,
}

impl NamedTransaction for AddComment {
    const NAME: &'static str = "add_comment.v1";
    type Args = NewComment;
    type Output = comment::Model;

    async fn run(txn: &DatabaseTransaction, args: NewComment) -> Result<comment::Model, DbErr> {
        comment::ActiveModel {
            post_id: Set(args.post_id),
            author: Set(args.author),
            body: Set(args.body),
            created_at: Set(chrono::Utc::now().naive_utc()),
            ..Default::default()
        }
        .insert(txn)
        .await
    }
}
