//! `Response`: what a write produced, as data.

use crate::row::Row;

/// The result of [`crate::Operation::Execute`] (sea-orm's `ExecResult`, as data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecSummary {
    /// Rows changed by the statement.
    pub rows_affected: u64,
    /// SQLite's last insert rowid after the statement.
    pub last_insert_id: u64,
}

/// What an operation produced; one variant per [`crate::Operation`] variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A statement ran.
    Executed(ExecSummary),
    /// A statement returned rows.
    Rows(Vec<Row>),
    /// A named transaction committed; its JSON-encoded output.
    Transaction(Vec<u8>),
    /// A batch committed; one outcome per step, in order.
    Batch(Vec<Outcome>),
}

/// The answer to a [`crate::Request`].
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// What the operation produced.
    pub outcome: Outcome,
    /// The executing node's LiteFS TXID right after the commit, when it reported one: a
    /// replica whose own TXID has reached it has the write.
    pub txid: Option<u64>,
}

impl Response {
    /// A response carrying `outcome`.
    pub fn new(outcome: Outcome) -> Self {
        Self {
            outcome,
            txid: None,
        }
    }
}
