//! `PrimarySqliteError`: an error SQLite raised on the primary that cannot be re-raised here.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use sea_orm::sqlx::error::{DatabaseError, ErrorKind};

/// An error SQLite raised on the primary, carried to the replica with its extended result
/// code and message, for codes SQLite cannot be made to raise on demand (`SQLITE_BUSY`,
/// `SQLITE_ERROR`, `SQLITE_READONLY`, …).
///
/// It answers exactly as sqlx's `SqliteError` does: [`DatabaseError::code`] is the extended
/// code as a string, [`DatabaseError::message`] SQLite's message, [`DatabaseError::kind`]
/// the same classification, and it displays as `(code: N) message`. So a `DbErr` wrapping it
/// has the same `Display` and the same `sql_err()` as the primary's. Only a downcast to
/// `SqliteError` tells them apart; that downcast is how a caller can tell a carried error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrimarySqliteError {
    /// SQLite's extended result code on the primary.
    code: i32,
    /// SQLite's message on the primary (`sqlite3_errmsg`).
    message: String,
}

impl PrimarySqliteError {
    /// The error SQLite raised on the primary with extended result `code` and `message`.
    pub(crate) fn new(code: i32, message: String) -> Self {
        Self { code, message }
    }
}

impl fmt::Display for PrimarySqliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same shape as sqlx's `SqliteError`.
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl StdError for PrimarySqliteError {}

/// SQLite's extended codes that sqlx classifies (`SqliteError::kind`).
const CONSTRAINT_CHECK: i32 = 275;
const CONSTRAINT_FOREIGNKEY: i32 = 787;
const CONSTRAINT_NOTNULL: i32 = 1299;
const CONSTRAINT_PRIMARYKEY: i32 = 1555;
const CONSTRAINT_UNIQUE: i32 = 2067;

impl DatabaseError for PrimarySqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
