//! The `comments` table: reader comments, each on exactly one post.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A comment left on a post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    /// Database-assigned identifier.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The post this comment is on; deleting the post deletes the comment.
    pub post_id: i32,
    /// Display name of whoever wrote the comment.
    pub author: String,
    /// The comment text.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// When the comment was written (UTC).
    pub created_at: DateTime,
}

/// How a comment relates to other tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The post this comment is on.
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
