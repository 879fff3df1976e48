//! Database errors across the wire, rebuilt so that a forwarded error is the error the
//! primary saw: same `DbErr` variant, same SQLite extended code, same message, so the same
//! `sql_err()`, `code()`, `kind()` and `Display`.
//!
//! The primary sends the `DbErr` variant, the message and, for an error SQLite raised, its
//! extended result code. The replica rebuilds it in one of two ways:
//!
//! 1. **Re-raised** (`reraise.rs`): for the errors SQLite can be made to raise with any given
//!    message (unique and primary-key violations, foreign keys, NOT NULL, CHECK, a trigger's
//!    `RAISE`, a STRICT datatype mismatch, `SQLITE_TOOBIG`, `SQLITE_FULL`), the replica makes
//!    SQLite raise the very same code and message on a private in-memory database, in a
//!    transaction it rolls back. The result is a genuine sqlx `SqliteError`, so everything
//!    that inspects it — including sea-orm's `sql_err()`, which downcasts to `SqliteError` —
//!    behaves as on the primary. The code and message are checked before the error is used.
//! 2. **Carried** (`primary_error.rs`): any other code (`SQLITE_BUSY`, `SQLITE_ERROR`
//!    with its free-form messages, `SQLITE_READONLY`, …) cannot be raised on demand with an
//!    arbitrary message, and sqlx's `SqliteError` has no public constructor. It arrives as a
//!    `PrimarySqliteError`, which implements `sqlx::error::DatabaseError` with the same
//!    `code()`, `message()`, `kind()` and `Display` as `SqliteError`. sea-orm's `sql_err()`
//!    classifies only codes 1555, 2067 and 787, all of which are re-raised, so it returns
//!    `None` for a carried error exactly as it does for the primary's. The one observable
//!    difference is `try_downcast_ref::<SqliteError>()`, which fails for a carried error.
//! 3. **SQLSTATE** (`sqlstate_error.rs`): an error another database raised (PostgreSQL)
//!    travels with its SQLSTATE instead of a SQLite code, and with PostgreSQL's error
//!    fields (detail, hint, schema, table, column, data type, constraint), and arrives as a
//!    [`SqlStateError`] (same code, message, `kind()`, `constraint()`, `table()`); the
//!    node's backend then raises it again on its own connection so that it is the driver's
//!    genuine error (`repo_litefs::backend::Backend::restore_error`).

mod primary_error;
mod reraise;
mod sqlstate_error;

pub use sqlstate_error::{ErrorFields, SqlStateError};

use std::sync::Arc;

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

use crate::proto as pb;

use primary_error::PrimarySqliteError;

/// Describes a sea-orm error for the wire.
pub fn encode_db_err(err: &DbErr) -> pb::DatabaseError {
    use pb::DbErrKind as K;
    let (kind, runtime) = match err {
        DbErr::Exec(e) => (K::Exec, Some(e)),
        DbErr::Query(e) => (K::Query, Some(e)),
        DbErr::Conn(e) => (K::Conn, Some(e)),
        DbErr::RecordNotFound(_) => (K::RecordNotFound, None),
        DbErr::RecordNotInserted => (K::RecordNotInserted, None),
        DbErr::RecordNotUpdated => (K::RecordNotUpdated, None),
        DbErr::Custom(_) => (K::Custom, None),
        DbErr::Type(_) => (K::Type, None),
        DbErr::Json(_) => (K::Json, None),
        _ => (K::Other, None),
    };
    let mut fields = ErrorFields::default();
    let (message, sqlite_code, sqlstate) = match runtime {
        Some(RuntimeErr::SqlxError(e)) => match e.as_database_error() {
            // A SQLSTATE is five characters; SQLite's codes are numbers of at most four
            // digits, so the two never meet.
            Some(db) => match db.code() {
                Some(code) if sqlstate_error::is_sqlstate(&code) => {
                    fields = error_fields(db);
                    (db.message().to_owned(), None, Some(code.into_owned()))
                }
                code => (
                    db.message().to_owned(),
                    code.and_then(|c| c.parse().ok()),
                    None,
                ),
            },
            None => (e.to_string(), None, None),
        },
        Some(RuntimeErr::Internal(m)) => (m.clone(), None, None),
        None => (
            match err {
                DbErr::RecordNotFound(m) | DbErr::Custom(m) | DbErr::Type(m) | DbErr::Json(m) => {
                    m.clone()
                }
                other => other.to_string(),
            },
            None,
            None,
        ),
    };
    pb::DatabaseError {
        kind: kind as i32,
        message: bounded(message),
        sqlite_code,
        sqlstate,
        detail: fields.detail.map(bounded),
        hint: fields.hint.map(bounded),
        schema: fields.schema.map(bounded),
        table: fields.table.map(bounded),
        column: fields.column.map(bounded),
        data_type: fields.data_type.map(bounded),
        constraint: fields.constraint.map(bounded),
    }
}

/// The fields of a SQLSTATE error: `constraint()` and `table()` from any driver's error,
/// and PostgreSQL's own (detail, hint, schema, column, data type) from sqlx's
/// `PgDatabaseError` with the `postgres` feature (or from a carried [`SqlStateError`]).
fn error_fields(db: &dyn sqlx::error::DatabaseError) -> ErrorFields {
    if let Some(carried) = db.try_downcast_ref::<SqlStateError>() {
        return carried.fields().clone();
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return ErrorFields::from_postgres(pg);
    }
    let owned = |s: Option<&str>| s.map(str::to_owned);
    ErrorFields {
        table: owned(db.table()),
        constraint: owned(db.constraint()),
        ..ErrorFields::default()
    }
}

/// The longest database message carried, in bytes: SQLite quotes identifiers it was given
/// (a 900 KB table name makes a 900 KB "no such table"), and the answer must stay small. A
/// longer message is cut on a character boundary (and is then carried, not re-raised).
const MAX_DB_MESSAGE_BYTES: usize = 4096;

fn bounded(mut message: String) -> String {
    if message.len() > MAX_DB_MESSAGE_BYTES {
        let mut end = MAX_DB_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

/// Rebuilds the sea-orm error the primary saw.
///
/// An error SQLite raised on the primary comes back as a `sqlx::Error::Database` with the
/// same extended code and message (see the module documentation for how); any other error
/// keeps its sea-orm variant and message.
pub async fn decode_db_err(err: pb::DatabaseError) -> DbErr {
    use pb::DbErrKind as K;
    let kind = K::try_from(err.kind).unwrap_or(K::Other);
    let message = err.message;
    let fields = ErrorFields {
        detail: err.detail,
        hint: err.hint,
        schema: err.schema,
        table: err.table,
        column: err.column,
        data_type: err.data_type,
        constraint: err.constraint,
    };
    let runtime = |message: String| async move {
        match (err.sqlite_code, err.sqlstate) {
            (Some(code), _) => RuntimeErr::SqlxError(sqlite_error(code, message).await),
            (None, Some(sqlstate)) if sqlstate_error::is_sqlstate(&sqlstate) => {
                RuntimeErr::SqlxError(Arc::new(sqlx::Error::Database(Box::new(
                    SqlStateError::with_fields(sqlstate, message, fields),
                ))))
            }
            (None, _) => RuntimeErr::Internal(message),
        }
    };
    match kind {
        K::Exec => DbErr::Exec(runtime(message).await),
        K::Query => DbErr::Query(runtime(message).await),
        K::Conn => DbErr::Conn(runtime(message).await),
        K::RecordNotFound => DbErr::RecordNotFound(message),
        K::RecordNotInserted => DbErr::RecordNotInserted,
        K::RecordNotUpdated => DbErr::RecordNotUpdated,
        K::Custom | K::Other => DbErr::Custom(message),
        K::Type => DbErr::Type(message),
        K::Json => DbErr::Json(message),
    }
}

/// The error SQLite raised on the primary: re-raised here if SQLite can raise it, carried
/// as a `PrimarySqliteError` otherwise.
async fn sqlite_error(code: i32, message: String) -> Arc<sqlx::Error> {
    match reraise::reraise(code, &message).await {
        Some(genuine) => Arc::new(genuine),
        None => Arc::new(sqlx::Error::Database(Box::new(PrimarySqliteError::new(
            code, message,
        )))),
    }
}
