//! sea-orm entities for the blog schema, one table per module.
//!
//! Each module matches a table created by the `migrations` crate column for
//! column; [`prelude`] re-exports the `Entity` types under table-like names.

pub mod prelude;

pub mod comment;
pub mod post;
pub mod post_tag;
pub mod tag;
