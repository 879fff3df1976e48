//! An Ecto-like repository over sea-orm whose writes pass through a tower middleware stack.
//!
//! [`Repo`] gives typed reads (`all`, `one`, `get`, `get_by`, `count`, `exists`) that run on
//! the local database, and typed writes (`insert`, `update`, `delete`, `insert_or_update`,
//! `insert_all`, `update_all`, `delete_all`, named [`transaction`](Repo::transaction)s and
//! atomic [`Multi`] batches) that become [`Request`]s: plain data that passes through the
//! repository's tower layers and ends in the [`Executor`]. A layer may answer without
//! calling its inner service; that is how the LiteFS forwarding layer sends a replica's
//! writes to the primary. `Repo` also implements sea-orm's `ConnectionTrait`, so existing
//! sea-orm code works with `&repo` unchanged.
//!
//! ```no_run
//! use repo_core::Repo;
//! use sea_orm::Database;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::connect("sqlite://blog.db?mode=rwc").await?;
//! let repo = Repo::builder(db).build();
//! // let post = repo.insert(post_am).timeout(Duration::from_secs(2)).await?;
//! // let same = repo.get::<post::Entity>(post.id).await?;
//! # Ok(()) }
//! ```

mod call;
mod connection;
mod error;
mod executor;
mod facts;
mod multi;
mod named;
mod options;
mod read;
mod recorded;
mod repo;
mod request;
mod response;
mod route;
mod row;
mod shape;
mod stack;
pub mod statement;
mod transaction;
mod value;
pub mod write;
mod writer;

pub use call::{CallContext, WriteCall, WriteOp};
pub use error::{
    CommitState, MAX_REASON_CHARS, NamedPart, RejectReason, RejectedStatement, RepoError,
    SqlErrorKind, StatementRule, StatusClass, TooLarge,
};
pub use executor::Executor;
pub use facts::{CallFacts, NodeRole};
pub use multi::{Multi, MultiResult, RunMulti};
pub use named::RunTransaction;
pub use options::CallOptions;
pub use recorded::{NoHook, TransactionHook};
pub use repo::{Repo, RepoBuilder};
pub use request::{
    Action, BatchStep, Consistency, Fetch, Operation, Request, RequestId, StepOperation,
};
pub use response::{ExecSummary, Outcome, Response};
pub use row::{Row, RowShape, ValueKind, into_exec_result, into_query_results};
pub use shape::{shape_of, table_of};
pub use stack::{BoxedLayer, RepoService, wrap_all};
pub use transaction::{NamedTransaction, TransactionRegistry};
pub use value::{ValueError, ValueReason, WireInstant, WireTime, WireValue};
pub use writer::{SqliteLimits, WriterConfig};
