//! The blog's named transactions: multi-statement writes that run on the primary.
//!
//! Register them on every node with [`register`].

mod add_comment;
mod create_post_with_tags;
mod publish_post;

pub use add_comment::{AddComment, NewComment};
pub use create_post_with_tags::{CreatePostWithTags, NewPost};
pub use publish_post::{NOT_A_DRAFT, PublishPost};

/// Registers every blog transaction on a repository builder.
pub fn register(builder: repo_core::RepoBuilder) -> repo_core::RepoBuilder {
    builder
        .transaction::<AddComment>()
        .transaction::<CreatePostWithTags>()
        .transaction::<PublishPost>()
}
