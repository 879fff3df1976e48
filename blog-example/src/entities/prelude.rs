//! The blog's entities under their table-like names (`Post`, `Tag`, ...).

pub use super::comment::Entity as Comment;
pub use super::post::Entity as Post;
pub use super::post_tag::Entity as PostTag;
pub use super::tag::Entity as Tag;
