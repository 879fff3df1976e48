//! The `post_tags` table: which tags each post carries.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One tag attached to one post; the pair is the primary key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "post_tags")]
pub struct Model {
    /// The tagged post; deleting it removes this link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub post_id: i32,
    /// The tag attached; deleting it removes this link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i32,
}

/// How a post–tag link relates to the two tables it joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The tagged post.
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    /// The attached tag.
    #[sea_orm(
        belongs_to = "super::tag::Entity",
        from = "Column::TagId",
        to = "super::tag::Column::Id",
        on_delete = "Cascade"
    )]
    Tag,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tag.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
