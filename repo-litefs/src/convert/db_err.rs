//! Database errors across the wire, rebuilt so that `DbErr::sql_err()` still classifies them.
//!
//! sea-orm classifies a unique or foreign-key violation by downcasting to sqlx's
//! `SqliteError`, which cannot be constructed outside sqlx. So the replica rebuilds a
//! constraint violation the only honest way: it makes SQLite raise the same error, with the
//! same code and message, on a private in-memory database (a temporary table shaped after
//! the message, in a transaction that is rolled back). The result is a genuine sea-orm
//! `DbErr` that is indistinguishable from the primary's. Any other database error keeps its
//! sea-orm variant and message.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr, TransactionTrait};
use tokio::sync::OnceCell;

use crate::proto as pb;

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
    let (message, sqlite_code) = match runtime {
        Some(RuntimeErr::SqlxError(e)) => match e.as_database_error() {
            Some(db) => (
                db.message().to_owned(),
                db.code().and_then(|c| c.parse().ok()),
            ),
            None => (e.to_string(), None),
        },
        Some(RuntimeErr::Internal(m)) => (m.clone(), None),
        None => (
            match err {
                DbErr::RecordNotFound(m) | DbErr::Custom(m) | DbErr::Type(m) | DbErr::Json(m) => {
                    m.clone()
                }
                other => other.to_string(),
            },
            None,
        ),
    };
    pb::DatabaseError {
        kind: kind as i32,
        message,
        sqlite_code,
    }
}

/// Rebuilds the sea-orm error the primary saw.
pub async fn decode_db_err(err: pb::DatabaseError) -> DbErr {
    use pb::DbErrKind as K;
    let kind = K::try_from(err.kind).unwrap_or(K::Other);
    let message = err.message;
    match kind {
        K::Exec | K::Query => {
            let rebuilt = match err.sqlite_code {
                Some(code) => reraise(code, &message).await,
                None => None,
            };
            let runtime = match rebuilt {
                Some(e) => RuntimeErr::SqlxError(e),
                None => RuntimeErr::Internal(message),
            };
            if kind == K::Exec {
                DbErr::Exec(runtime)
            } else {
                DbErr::Query(runtime)
            }
        }
        K::Conn => DbErr::Conn(RuntimeErr::Internal(message)),
        K::RecordNotFound => DbErr::RecordNotFound(message),
        K::RecordNotInserted => DbErr::RecordNotInserted,
        K::RecordNotUpdated => DbErr::RecordNotUpdated,
        K::Custom | K::Other => DbErr::Custom(message),
        K::Type => DbErr::Type(message),
        K::Json => DbErr::Json(message),
    }
}

/// The private in-memory database errors are re-raised on.
async fn scratch() -> Option<&'static DatabaseConnection> {
    static SCRATCH: OnceCell<Option<DatabaseConnection>> = OnceCell::const_new();
    SCRATCH
        .get_or_init(|| async { Database::connect("sqlite::memory:").await.ok() })
        .await
        .as_ref()
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `posts.slug, posts.lang` → (`posts`, [`slug`, `lang`]).
fn constraint_columns(message: &str) -> Option<(String, Vec<String>)> {
    let list = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut columns = Vec::new();
    for item in list.split(", ") {
        let (t, c) = item.split_once('.')?;
        if table.get_or_insert_with(|| t.to_owned()) != t {
            return None;
        }
        columns.push(c.to_owned());
    }
    Some((table?, columns))
}

/// The SQL that makes SQLite raise `code` with `message`, if this code can be re-raised.
fn script(code: i32, message: &str) -> Option<(Vec<String>, String)> {
    match code {
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
        2067 | 1555 => {
            let (table, columns) = constraint_columns(message)?;
            let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let key = if code == 1555 {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let create = format!(
                "CREATE TEMP TABLE {} ({}, {key} ({}))",
                quote(&table),
                cols.join(", "),
                cols.join(", ")
            );
            let insert = format!(
                "INSERT INTO {} VALUES ({})",
                quote(&table),
                vec!["1"; cols.len()].join(", ")
            );
            Some((vec![create, insert.clone()], insert))
        }
        // SQLITE_CONSTRAINT_FOREIGNKEY.
        787 if message == "FOREIGN KEY constraint failed" => Some((
            vec![
                "PRAGMA foreign_keys = ON".into(),
                "CREATE TEMP TABLE \"parent\" (\"id\" INTEGER PRIMARY KEY)".into(),
                "CREATE TEMP TABLE \"child\" (\"parent_id\" REFERENCES \"parent\" (\"id\"))".into(),
            ],
            "INSERT INTO \"child\" VALUES (1)".into(),
        )),
        _ => None,
    }
}

/// Makes SQLite raise the error `code`/`message` and returns it, if it can be reproduced
/// exactly.
async fn reraise(code: i32, message: &str) -> Option<std::sync::Arc<sea_orm::sqlx::Error>> {
    let (setup, failing) = script(code, message)?;
    let db = scratch().await?;
    let txn = db.begin().await.ok()?;
    for sql in setup {
        txn.execute_unprepared(&sql).await.ok()?;
    }
    let err = txn.execute_unprepared(&failing).await.err();
    let _ = txn.rollback().await;
    let DbErr::Exec(RuntimeErr::SqlxError(e)) = err? else {
        return None;
    };
    let same = e.as_database_error().is_some_and(|d| {
        d.message() == message && d.code().and_then(|c| c.parse::<i32>().ok()) == Some(code)
    });
    same.then_some(e)
}
