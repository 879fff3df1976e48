//! `create_post_with_tags.v1`: a post and its tags, created together or not at all.

use repo_core::NamedTransaction;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, NotSet, QueryFilter,
    Set,
};
use serde::{Deserialize, Serialize};

use crate::entities::{post, post_tag, tag};

/// Creates a post, creates the tags it names that do not exist yet, and links them.
pub struct CreatePostWithTags;

/// The arguments of [`CreatePostWithTags`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewPost {
    /// Headline.
    pub title: String,
    /// URL name; must be unique.
    pub slug: String,
    /// Content.
    pub body: String,
    /// Tag names; created if missing.
    pub tags: Vec<String>,
}

impl NamedTransaction for CreatePostWithTags {
    const NAME: &'static str = "create_post_with_tags.v1";
    type Args = NewPost;
    type Output = post::Model;

    async fn run(txn: &DatabaseTransaction, args: NewPost) -> Result<post::Model, DbErr> {
        let post = post::ActiveModel {
            title: Set(args.title),
            slug: Set(args.slug),
            body: Set(args.body),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if args.tags.is_empty() {
            return Ok(post);
        }
        let new_tags = args.tags.iter().map(|name| tag::ActiveModel {
            id: NotSet,
            name: Set(name.clone()),
        });
        tag::Entity::insert_many(new_tags)
            .on_conflict_do_nothing_on([tag::Column::Name])
            .exec(txn)
            .await?;
        let tags = tag::Entity::find()
            .filter(tag::Column::Name.is_in(args.tags))
            .all(txn)
            .await?;
        let links = tags.iter().map(|t| post_tag::ActiveModel {
            post_id: Set(post.id),
            tag_id: Set(t.id),
        });
        post_tag::Entity::insert_many(links).exec(txn).await?;
        Ok(post)
    }
}
