//! The `posts` table: blog posts, with their publication state and timestamps.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue, Set};
use serde::{Deserialize, Serialize};

/// A blog post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    /// Database-assigned identifier.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Headline shown to readers.
    pub title: String,
    /// URL-safe name of the post; unique across all posts.
    #[sea_orm(unique)]
    pub slug: String,
    /// The post's content.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Whether readers can see the post; new posts start unpublished.
    #[sea_orm(default_value = false)]
    pub published: bool,
    /// How many times the post has been read.
    #[sea_orm(default_value = 0)]
    pub view_count: i64,
    /// Whether the post has been retired from listings without being deleted.
    #[sea_orm(default_value = false)]
    pub archived: bool,
    /// When the post was first saved (UTC); set on insert if not given.
    pub created_at: DateTime,
    /// When the post was last saved (UTC); refreshed on every save.
    pub updated_at: DateTime,
    /// When the post was published (UTC), if it ever was.
    pub published_at: Option<DateTime>,
}

/// How a post relates to other tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Comments left on this post.
    #[sea_orm(has_many = "super::comment::Entity")]
    Comment,
    /// The `post_tags` rows that attach tags to this post.
    #[sea_orm(has_many = "super::post_tag::Entity")]
    PostTag,
}

impl Related<super::comment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Comment.def()
    }
}

impl Related<super::post_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PostTag.def()
    }
}

/// Tags on this post, reached through `post_tags`.
impl Related<super::tag::Entity> for Entity {
    fn to() -> RelationDef {
        super::post_tag::Relation::Tag.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::post_tag::Relation::Post.def().rev())
    }
}

/// Keeps the timestamps honest: `updated_at` is set on every save, and
/// `created_at` on insert unless the caller already chose one.
#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        let now = chrono::Utc::now().naive_utc();
        if insert && matches!(self.created_at, ActiveValue::NotSet) {
            self.created_at = Set(now);
        }
        self.updated_at = Set(now);
        Ok(self)
    }
}
