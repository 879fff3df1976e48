//! `InsertTags`: a named transaction of one statement per tag, registered on both
//! PostgreSQL test nodes (so the standby can forward it by name).

use blog_example::entities::tag;
use repo_core::NamedTransaction;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, Set};
use serde::{Deserialize, Serialize};

/// What [`InsertTags`] inserts, and where it gives up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagBatch {
    /// One `INSERT` per name, in order.
    pub names: Vec<String>,
    /// Fail with an error of its own after this many inserts (everything rolls back).
    pub fail_after: Option<usize>,
}

/// Inserts each of [`TagBatch::names`] in one transaction and returns their ids.
#[derive(Debug)]
pub struct InsertTags;

impl NamedTransaction for InsertTags {
    const NAME: &'static str = "insert_tags.v1";
    type Args = TagBatch;
    type Output = Vec<i32>;

    async fn run(txn: &DatabaseTransaction, batch: TagBatch) -> Result<Vec<i32>, DbErr> {
        let mut ids = Vec::with_capacity(batch.names.len());
        for (i, name) in batch.names.into_iter().enumerate() {
            if batch.fail_after == Some(i) {
                return Err(DbErr::Custom(format!("gave up after {i} inserts")));
            }
            let model = tag::ActiveModel {
                name: Set(name),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            ids.push(model.id);
        }
        Ok(ids)
    }
}
