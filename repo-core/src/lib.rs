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
//! The crate has three parts, each a folder:
//!
//! - **call API** (`api/`): [`Repo`] and [`RepoBuilder`], typed reads and writes returning
//!   [`WriteCall`]s that take per-call options ([`CallOptions`]) and layers, [`Multi`], named
//!   transaction calls, and `ConnectionTrait` for `&repo` (each statement routed by
//!   [`statement`]'s classification);
//! - **data model** (`model/`): [`Request`] (action, [`Operation`], request id, deadline,
//!   [`Consistency`]), [`Response`] and [`Outcome`], [`Row`]s typed by an entity's `spi::RowShape`,
//!   `spi::WireValue` (every sea-orm value SQLite stores and PostgreSQL arrays of them,
//!   range-checked), [`CallFacts`];
//! - **execution** (`execution/`): the [`Executor`] (the innermost service) and its writer
//!   ([`WriterConfig`]: one connection, a time budget SQLite enforces, [`SqliteLimits`]),
//!   `spi::TransactionHook`s and group commit, the [`TransactionRegistry`] of
//!   [`NamedTransaction`]s, and [`RepoService`] (the boxed stack).
//!
//! What only sibling crates (a transport, a backend) need is in [`spi`].
//!
//! Failures are one [`RepoError`] enum, classified in one place (retryable? committed? which
//! status class?).
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

mod api;
mod error;
mod execution;
mod model;
mod session;

// Each part's modules by their short names, so that `crate::request`, `crate::executor`, …
// read the same wherever they are used.
use api::{call, multi, options, repo, route, transaction_call};
use execution::{
    committer, executor, hooked, joined, ledger, round_trip, stack, statement_hook, transaction,
    writer,
};
use model::{
    correlation_id, durability, facts, idempotency_key, request, response, row, shape, value,
};

pub use api::write;
pub use model::statement;

pub use call::{CallContext, WriteCall, WriteOp};
pub use correlation_id::{CorrelationId, InvalidCorrelationId, MAX_CORRELATION_ID_BYTES};
pub use durability::Durability;
pub use error::{
    CommitState, NamedPart, RejectReason, RejectedStatement, RepoError, StatementRule, TooLarge,
};
pub use executor::Executor;
pub use facts::{CallFacts, NodeRole};
pub use idempotency_key::{IdempotencyKey, InvalidKey, MAX_KEY_BYTES};
pub use multi::{Multi, MultiResult, RunMulti};
pub use options::CallOptions;
pub use repo::{Repo, RepoBuilder};
pub use request::{
    Action, BatchStep, Consistency, Fetch, Operation, Request, RequestId, StepOperation,
};
pub use response::{ExecSummary, Outcome, Response};
pub use row::Row;
pub use session::{ExpiryCause, RepoTransaction, TransactionLimits};
pub use stack::{BoxedLayer, RepoService, wrap_all};
pub use transaction::{NamedTransaction, TransactionRegistry};
pub use transaction_call::RunTransaction;
pub use writer::{CommitGuard, SqliteLimits, WriterConfig};

/// For crates that carry requests to another node or take part in executing them (a
/// transport such as `repo-litefs`'s forwarding, a backend): the wire form of values and
/// rows, the status class every error maps to, and the hook that joins a write's
/// transaction. An application does not need this module.
pub mod spi {
    pub use crate::error::{MAX_REASON_CHARS, StatusClass};
    pub use crate::hooked::TransactionHook;
    pub use crate::ledger::{Ledger, LedgerTicket};
    pub use crate::row::{RowShape, ValueKind};
    pub use crate::session::{LocalSession, Session, SessionOpener, SessionStep};
    pub use crate::shape::shape_of;
    pub use crate::statement_hook::StatementHook;
    pub use crate::value::{
        ArrayElement, ValueError, ValueReason, WireInstant, WireTime, WireValue,
    };
}
