//! `Request`: one write operation, as data.

use std::fmt;
use std::sync::Arc;

use sea_orm::Statement;
use tokio::time::Instant;

use crate::error::{CommitState, RepoError};
use crate::facts::CallFacts;
use crate::row::RowShape;

/// Identifies one logical write across every attempt to run it.
///
/// Retries reuse the id, so the node that executes a write can recognise a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RequestId(pub uuid::Uuid);

impl RequestId {
    /// A new, time-ordered (UUIDv7) id.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What the caller asked for, for telemetry and policy (the statements say how).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `Repo::insert`, or an `INSERT` through `ConnectionTrait`.
    Insert,
    /// `Repo::update`, or an `UPDATE` through `ConnectionTrait`.
    Update,
    /// `Repo::delete`, or a `DELETE` through `ConnectionTrait`.
    Delete,
    /// `Repo::insert_or_update`.
    InsertOrUpdate,
    /// `Repo::insert_all`.
    InsertAll,
    /// `Repo::update_all`.
    UpdateAll,
    /// `Repo::delete_all`.
    DeleteAll,
    /// `Repo::transaction`: a named transaction.
    Transaction(String),
    /// `Repo::multi`: an atomic batch.
    Multi,
    /// Any other statement that is not a read (DDL, raw SQL through `ConnectionTrait`).
    Execute,
}

impl Action {
    /// A short stable label: `insert`, `update_all`, `transaction:<name>`, …
    pub fn label(&self) -> String {
        match self {
            Action::Transaction(name) => format!("transaction:{name}"),
            other => other.kind().to_owned(),
        }
    }

    /// The label without the transaction name (bounded cardinality, for metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::InsertOrUpdate => "insert_or_update",
            Action::InsertAll => "insert_all",
            Action::UpdateAll => "update_all",
            Action::DeleteAll => "delete_all",
            Action::Transaction(_) => "transaction",
            Action::Multi => "multi",
            Action::Execute => "execute",
        }
    }
}

/// Whether the caller must see its own write in the next local read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Consistency {
    /// Wait, bounded, until the local database has the write (the default).
    #[default]
    ReadYourWrites,
    /// Return as soon as the write committed wherever it ran.
    Eventual,
}

/// The work a request carries.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Run one statement; answers [`crate::Outcome::Executed`].
    Execute(Statement),
    /// Run one statement that returns rows (`RETURNING`); answers [`crate::Outcome::Rows`].
    Query {
        /// The statement.
        statement: Statement,
        /// How to type the returned columns; `None` keeps SQLite's storage classes.
        shape: Option<Arc<RowShape>>,
        /// Whether the caller wants the first row only or all of them.
        fetch: Fetch,
    },
    /// Run a registered named transaction; answers [`crate::Outcome::Transaction`].
    Transaction {
        /// Its registered name.
        name: String,
        /// Its arguments, JSON-encoded.
        args: Vec<u8>,
    },
    /// Run every step in one database transaction, all or nothing; answers
    /// [`crate::Outcome::Batch`].
    Batch(Vec<BatchStep>),
}

/// How many returned rows a query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Fetch {
    /// The first row only (sea-orm's `query_one`; cheaper in sqlx than collecting all).
    One,
    /// Every row.
    All,
}

/// One step of a batch.
#[derive(Debug, Clone)]
pub struct BatchStep {
    /// The step's name, unique within the batch.
    pub name: String,
    /// The statement and whether it returns rows.
    pub operation: StepOperation,
    /// The step fails (and the batch rolls back) unless it affects at least one row.
    pub require_row: bool,
}

/// What a batch step runs.
#[derive(Debug, Clone)]
pub enum StepOperation {
    /// A statement without rows.
    Execute(Statement),
    /// A statement with `RETURNING`.
    Query {
        /// The statement.
        statement: Statement,
        /// How to type the returned columns.
        shape: Option<Arc<RowShape>>,
    },
}

/// A write operation travelling through the middleware stack.
#[derive(Debug, Clone)]
pub struct Request {
    /// Same for every attempt of this write.
    pub id: RequestId,
    /// What the caller asked for.
    pub action: Action,
    /// The table (or the transaction name) the write is about, for telemetry.
    pub target: String,
    /// The work itself.
    pub operation: Operation,
    /// When the caller stops waiting; layers may propagate it (as a remaining duration)
    /// across the network.
    pub deadline: Option<Instant>,
    /// The caller's consistency wish.
    pub consistency: Consistency,
    /// What layers learn about this call; shared by every attempt (clones share it).
    pub facts: CallFacts,
    /// The id comes from the caller's [`IdempotencyKey`](crate::IdempotencyKey): the write
    /// is recorded in the ledger wherever it runs, the primary's own local writes included.
    pub keyed: bool,
    /// When the primary may answer; `None`: the executing node's default.
    pub durability: Option<crate::durability::Durability>,
    /// The caller's request this write belongs to, for logs on every node it reaches: the
    /// [`CorrelationId::current`](crate::CorrelationId::current) when the request was made.
    pub correlation: Option<crate::CorrelationId>,
}

impl Request {
    /// A request with a fresh id, no deadline, the default consistency and the current
    /// task's correlation id.
    pub fn new(action: Action, target: impl Into<String>, operation: Operation) -> Self {
        Self {
            id: RequestId::new(),
            action,
            target: target.into(),
            operation,
            deadline: None,
            consistency: Consistency::default(),
            facts: CallFacts::default(),
            keyed: false,
            durability: None,
            correlation: crate::CorrelationId::current(),
        }
    }

    /// Refuses this request when its deadline has passed: nothing of it ran, so the caller
    /// is told it did not commit. The one owner of that rule: every stage about to start
    /// work on a request (the forwarding server, the executor, each member of a group
    /// commit) asks here.
    ///
    /// # Errors
    ///
    /// [`RepoError::Timeout`] with [`CommitState::NotCommitted`].
    pub fn check_deadline(&self) -> Result<(), RepoError> {
        match self.deadline {
            Some(deadline) if deadline <= Instant::now() => Err(RepoError::Timeout {
                commit: CommitState::NotCommitted,
            }),
            _ => Ok(()),
        }
    }
}
