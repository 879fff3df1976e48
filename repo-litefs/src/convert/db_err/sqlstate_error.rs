//! `SqlStateError`: an error a SQL server (PostgreSQL) raised on the primary, carried to
//! the replica with its SQLSTATE, message and PostgreSQL's error fields.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use sea_orm::sqlx::error::{DatabaseError, ErrorKind};

/// An error PostgreSQL raised on the primary, as it arrives on a replica: its SQLSTATE
/// ([`DatabaseError::code`]) and message, classified by [`DatabaseError::kind`] as sqlx
/// classifies PostgreSQL's own errors (23505 unique, 23503 foreign key, 23502 not null,
/// 23514 check).
///
/// sea-orm's `sql_err()` only classifies a genuine `PgDatabaseError`, which has no public
/// constructor: a backend that can raise one on its own connection turns this into it
/// (`repo_litefs::backend::Backend::restore_error`; the PostgreSQL backend re-raises it with
/// `RAISE ... USING ERRCODE`). Without that step the code, message and kind are the
/// primary's, and only `sql_err()` differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStateError {
    /// The five-character SQLSTATE on the primary.
    sqlstate: String,
    /// The primary's message.
    message: String,
    /// PostgreSQL's fields of the error, as far as the primary reported them.
    fields: ErrorFields,
}

/// The fields PostgreSQL reports with an error besides its code and message, each when it
/// set it (sqlx's `PgDatabaseError` getters of the same names). These are the ones
/// PL/pgSQL's `RAISE ... USING` can set again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// `DETAIL` ("Key (email)=(a@example.com) already exists.").
    pub detail: Option<String>,
    /// `HINT`.
    pub hint: Option<String>,
    /// The schema of the object the error concerns.
    pub schema: Option<String>,
    /// The table the error concerns.
    pub table: Option<String>,
    /// The column the error concerns (a not-null violation's).
    pub column: Option<String>,
    /// The data type the error concerns.
    pub data_type: Option<String>,
    /// The constraint violated.
    pub constraint: Option<String>,
}

#[cfg(feature = "postgres")]
impl ErrorFields {
    /// The fields of a PostgreSQL error, as sqlx reports them.
    pub fn from_postgres(pg: &sea_orm::sqlx::postgres::PgDatabaseError) -> Self {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Self {
            detail: owned(pg.detail()),
            hint: owned(pg.hint()),
            schema: owned(pg.schema()),
            table: owned(pg.table()),
            column: owned(pg.column()),
            data_type: owned(pg.data_type()),
            constraint: owned(pg.constraint()),
        }
    }
}

impl SqlStateError {
    /// The error with `sqlstate` and `message`, and no other field.
    pub fn new(sqlstate: String, message: String) -> Self {
        Self::with_fields(sqlstate, message, ErrorFields::default())
    }

    /// The error with `sqlstate`, `message` and PostgreSQL's `fields`.
    pub fn with_fields(sqlstate: String, message: String, fields: ErrorFields) -> Self {
        Self {
            sqlstate,
            message,
            fields,
        }
    }

    /// The SQLSTATE (`23505`, ...).
    pub fn sqlstate(&self) -> &str {
        &self.sqlstate
    }

    /// PostgreSQL's fields of the error.
    pub fn fields(&self) -> &ErrorFields {
        &self.fields
    }
}

impl fmt::Display for SqlStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sqlx's `PgDatabaseError` displays its message alone.
        f.write_str(&self.message)
    }
}

impl StdError for SqlStateError {}

/// Whether `code` has the shape of a SQLSTATE: five digits or upper-case letters.
pub(crate) fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

impl DatabaseError for SqlStateError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.sqlstate))
    }

    fn constraint(&self) -> Option<&str> {
        self.fields.constraint.as_deref()
    }

    fn table(&self) -> Option<&str> {
        self.fields.table.as_deref()
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
        match self.sqlstate.as_str() {
            "23505" => ErrorKind::UniqueViolation,
            "23503" => ErrorKind::ForeignKeyViolation,
            "23502" => ErrorKind::NotNullViolation,
            "23514" => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_told_from_sqlite_codes() {
        assert!(is_sqlstate("23505"));
        assert!(is_sqlstate("42P01"));
        assert!(!is_sqlstate("2067"));
        assert!(!is_sqlstate("787"));
        assert!(!is_sqlstate("42p01"));
    }
}
