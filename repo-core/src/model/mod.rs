//! The data model: a write as data ([`Request`](crate::Request)), its answer
//! ([`Response`](crate::Response)), rows typed by entity shapes, statements and the wire form
//! of sea-orm values, and the facts layers report about a call.

pub(crate) mod array_column;
pub(crate) mod correlation_id;
pub(crate) mod durability;
pub(crate) mod facts;
pub(crate) mod idempotency_key;
#[cfg(feature = "postgres")]
pub(crate) mod postgres_row;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod row;
pub(crate) mod shape;
pub mod statement;
pub(crate) mod value;
