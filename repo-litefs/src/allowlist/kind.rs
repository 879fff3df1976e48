//! The kinds of statement a replica may forward.

use std::fmt;

/// The kind of a statement that passed [`check_statement`](super::check_statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `INSERT`, with or without an `OR ...` or `ON CONFLICT` clause.
    Insert,
    /// `REPLACE INTO ...` (SQLite's alias of `INSERT OR REPLACE`).
    Replace,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl StatementKind {
    /// The statement's leading keyword, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Replace => "REPLACE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
