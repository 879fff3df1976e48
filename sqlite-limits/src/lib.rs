//! SQLite's run-time limits (`sqlite3_limit`) on a sqlx SQLite connection.
//!
//! sqlx exposes the raw connection handle but no wrapper for `sqlite3_limit`; this crate is
//! that wrapper, and the only crate of the workspace that needs `unsafe`. Limits can only be
//! lowered below SQLite's compile-time maxima, never raised past them; SQLite clamps them.
//!
//! ```no_run
//! # async fn demo(conn: &mut sqlx_sqlite::SqliteConnection) -> Result<(), sqlx_sqlite::SqliteError> {
//! use sqlite_limits::{Limit, set_limit};
//! let mut handle = conn.lock_handle().await.expect("connection alive");
//! let previous = set_limit(&mut handle, Limit::Length, 8 * 1024 * 1024);
//! # let _ = previous; Ok(()) }
//! ```

#![allow(unsafe_code)]

use libsqlite3_sys as ffi;
use sqlx_sqlite::LockedSqliteHandle;

/// One of SQLite's run-time limits (see <https://sqlite.org/c3ref/c_limit_attached.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Largest string or BLOB, in bytes (also the largest row).
    Length,
    /// Longest SQL text, in bytes.
    SqlLength,
    /// Most columns in a table, index, view, result set, `ORDER BY` or `GROUP BY`.
    Column,
    /// Deepest expression tree.
    ExprDepth,
    /// Most terms in a compound `SELECT`.
    CompoundSelect,
    /// Most instructions of one prepared statement's program.
    VdbeOp,
    /// Most arguments of one function call.
    FunctionArg,
    /// Most attached databases.
    Attached,
    /// Longest pattern of `LIKE` or `GLOB`.
    LikePatternLength,
    /// Highest `?NNN` parameter number.
    VariableNumber,
    /// Deepest recursion of triggers.
    TriggerDepth,
}

impl Limit {
    fn id(self) -> i32 {
        match self {
            Self::Length => ffi::SQLITE_LIMIT_LENGTH,
            Self::SqlLength => ffi::SQLITE_LIMIT_SQL_LENGTH,
            Self::Column => ffi::SQLITE_LIMIT_COLUMN,
            Self::ExprDepth => ffi::SQLITE_LIMIT_EXPR_DEPTH,
            Self::CompoundSelect => ffi::SQLITE_LIMIT_COMPOUND_SELECT,
            Self::VdbeOp => ffi::SQLITE_LIMIT_VDBE_OP,
            Self::FunctionArg => ffi::SQLITE_LIMIT_FUNCTION_ARG,
            Self::Attached => ffi::SQLITE_LIMIT_ATTACHED,
            Self::LikePatternLength => ffi::SQLITE_LIMIT_LIKE_PATTERN_LENGTH,
            Self::VariableNumber => ffi::SQLITE_LIMIT_VARIABLE_NUMBER,
            Self::TriggerDepth => ffi::SQLITE_LIMIT_TRIGGER_DEPTH,
        }
    }
}

/// Sets `limit` to `value` on the connection behind `handle` and returns the previous value.
///
/// A negative `value` leaves the limit unchanged (so `get_limit` is `set_limit(.., -1)`);
/// values above SQLite's compile-time maximum are clamped to it by SQLite.
pub fn set_limit(handle: &mut LockedSqliteHandle<'_>, limit: Limit, value: i32) -> i32 {
    let db = handle.as_raw_handle();
    // SAFETY: `db` is the live connection owned by the locked handle: the lock keeps sqlx's
    // worker thread off the connection for as long as `handle` is borrowed, and the
    // connection is open (sqlx closes it only when the connection is dropped).
    // `sqlite3_limit` takes any limit id and value and only reads/writes the limit array.
    unsafe { ffi::sqlite3_limit(db.as_ptr(), limit.id(), value) }
}

/// The current value of `limit` on the connection behind `handle`.
pub fn get_limit(handle: &mut LockedSqliteHandle<'_>, limit: Limit) -> i32 {
    set_limit(handle, limit, -1)
}
