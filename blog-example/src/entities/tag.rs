//! The `tags` table: unique labels that posts can carry.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A tag, such as `rust` or `databases`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    /// Database-assigned identifier.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The tag's label; unique across all tags.
    #[sea_orm(unique)]
    pub name: String,
}

/// How a tag relates to other tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The `post_tags` rows that attach this tag to posts.
    #[sea_orm(has_many = "super::post_tag::Entity")]
    PostTag,
}

impl Related<super::post_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PostTag.def()
    }
}

/// Posts carrying this tag, reached through `post_tags`.
impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        super::post_tag::Relation::Post.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::post_tag::Relation::Tag.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
