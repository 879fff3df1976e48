//! Re-raising an SQLite error on a private in-memory database, so that it is a genuine
//! sqlx `SqliteError` with the primary's extended code and message.
//!
//! Each code that SQLite can be made to raise with a given message has a script: statements
//! that build a temporary schema shaped after the message, and one statement that fails.
//! The script runs in a transaction that is rolled back, so the scratch database stays
//! empty. The error is used only if its code and message are exactly the primary's.

use sea_orm::sqlx::{self, AssertSqlSafe, Connection, SqliteConnection};
use tokio::sync::Mutex;

/// SQLite's extended result codes that have a script.
const TOOBIG: i32 = 18;
const FULL: i32 = 13;
const CONSTRAINT_CHECK: i32 = 275;
const CONSTRAINT_FOREIGNKEY: i32 = 787;
const CONSTRAINT_NOTNULL: i32 = 1299;
const CONSTRAINT_PRIMARYKEY: i32 = 1555;
const CONSTRAINT_TRIGGER: i32 = 1811;
const CONSTRAINT_UNIQUE: i32 = 2067;
const CONSTRAINT_DATATYPE: i32 = 3091;

/// The private in-memory database errors are re-raised on: one connection, opened on first
/// use, reopened after a script left it in an unknown state.
static SCRATCH: Mutex<Option<SqliteConnection>> = Mutex::const_new(None);

/// Opens the scratch database. It has an attached database `spill`, limited to two pages,
/// whose one table a large row overflows (`SQLITE_FULL`).
async fn open() -> Option<SqliteConnection> {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.ok()?;
    for sql in [
        "PRAGMA foreign_keys = ON",
        "ATTACH DATABASE ':memory:' AS \"spill\"",
        "CREATE TABLE \"spill\".\"spill\" (\"x\")",
        "PRAGMA \"spill\".max_page_count = 2",
    ] {
        run(&mut conn, sql).await.ok()?;
    }
    Some(conn)
}

/// Runs `sql` unprepared: none of these statements is worth a place in the statement cache.
async fn run(conn: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(drop)
}

/// Begins a transaction on the scratch database, opening it first if needed, and opening
/// it afresh if it cannot begin one (a caller that gave up mid-script left one open).
async fn begin(scratch: &mut Option<SqliteConnection>) -> Option<&mut SqliteConnection> {
    if let Some(conn) = scratch.as_mut()
        && run(conn, "BEGIN").await.is_ok()
    {
        return scratch.as_mut();
    }
    *scratch = open().await;
    let conn = scratch.as_mut()?;
    run(conn, "BEGIN").await.ok()?;
    Some(conn)
}

/// Makes SQLite raise the error `code`/`message` and returns it, if it can be reproduced
/// exactly.
pub(super) async fn reraise(code: i32, message: &str) -> Option<sqlx::Error> {
    let (setup, failing) = script(code, message)?;
    let mut scratch = SCRATCH.lock().await;
    let conn = begin(&mut scratch).await?;
    let mut raised = None;
    let mut ready = true;
    for sql in &setup {
        if run(conn, sql).await.is_err() {
            ready = false;
            break;
        }
    }
    if ready {
        raised = run(conn, &failing).await.err();
    }
    if run(conn, "ROLLBACK").await.is_err() {
        // Nothing to roll back (SQLite may end a transaction itself on some errors) or a
        // broken connection: start afresh next time rather than guess.
        *scratch = None;
    }
    let raised = raised?;
    let same = raised.as_database_error().is_some_and(|d| {
        d.message() == message && d.code().and_then(|c| c.parse::<i32>().ok()) == Some(code)
    });
    same.then_some(raised)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A table and one column whose `table.column` is `list`: SQLite reports columns as
/// `t.a, t.b`, and one column named `a, t.b` of table `t` is reported the same way. Any
/// text with a dot can be reproduced so, whatever dots and commas the names hold.
fn table_column(list: &str) -> Option<(&str, &str)> {
    list.split_once('.')
}

/// The SQL that makes SQLite raise `code` with `message`: setup statements, then the one
/// that fails. `None` if this code cannot be re-raised or the message has an unknown shape.
fn script(code: i32, message: &str) -> Option<(Vec<String>, String)> {
    match code {
        CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY => {
            let list = message.strip_prefix("UNIQUE constraint failed: ")?;
            if let Some(index) = list
                .strip_prefix("index '")
                .and_then(|r| r.strip_suffix('\''))
            {
                // A unique index on an expression names the index, not columns.
                if code != CONSTRAINT_UNIQUE {
                    return None;
                }
                let insert = "INSERT INTO \"reraise\" VALUES (1)".to_owned();
                return Some((
                    vec![
                        "CREATE TEMP TABLE \"reraise\" (\"x\")".into(),
                        format!(
                            "CREATE UNIQUE INDEX \"temp\".{} ON \"reraise\" (\"x\" + 0)",
                            quote(index)
                        ),
                        insert.clone(),
                    ],
                    insert,
                ));
            }
            let (name, column) = table_column(list)?;
            let key = if code == CONSTRAINT_PRIMARYKEY {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let insert = format!("INSERT INTO {} VALUES (1)", quote(name));
            let create = format!(
                "CREATE TEMP TABLE {} ({}, {key} ({}))",
                quote(name),
                quote(column),
                quote(column)
            );
            Some((vec![create, insert.clone()], insert))
        }
        CONSTRAINT_FOREIGNKEY if message == "FOREIGN KEY constraint failed" => Some((
            vec![
                "CREATE TEMP TABLE \"parent\" (\"id\" INTEGER PRIMARY KEY)".into(),
                "CREATE TEMP TABLE \"child\" (\"parent_id\" REFERENCES \"parent\" (\"id\"))".into(),
            ],
            "INSERT INTO \"child\" VALUES (1)".into(),
        )),
        CONSTRAINT_NOTNULL => {
            let (name, column) =
                table_column(message.strip_prefix("NOT NULL constraint failed: ")?)?;
            Some((
                vec![format!(
                    "CREATE TEMP TABLE {} ({} NOT NULL)",
                    quote(name),
                    quote(column)
                )],
                format!("INSERT INTO {} VALUES (NULL)", quote(name)),
            ))
        }
        CONSTRAINT_CHECK => {
            // A named constraint is reported by its name, so any text can be reproduced,
            // including the expression an unnamed constraint is reported by.
            let name = message.strip_prefix("CHECK constraint failed: ")?;
            Some((
                vec![format!(
                    "CREATE TEMP TABLE \"reraise\" (\"x\", CONSTRAINT {} CHECK (0))",
                    quote(name)
                )],
                "INSERT INTO \"reraise\" VALUES (1)".into(),
            ))
        }
        CONSTRAINT_TRIGGER => Some((
            vec![
                "CREATE TEMP TABLE \"reraise\" (\"x\")".into(),
                format!(
                    "CREATE TEMP TRIGGER \"reraise\" BEFORE INSERT ON \"reraise\" \
                     BEGIN SELECT RAISE(ABORT, {}); END",
                    literal(message)
                ),
            ],
            "INSERT INTO \"reraise\" VALUES (1)".into(),
        )),
        CONSTRAINT_DATATYPE => {
            // `cannot store TEXT value in INTEGER column t.c`
            let rest = message.strip_prefix("cannot store ")?;
            let (value_type, rest) = rest.split_once(" value in ")?;
            let (column_type, rest) = rest.split_once(" column ")?;
            let (name, column) = table_column(rest)?;
            let value = match value_type {
                "INT" => "1",
                "REAL" => "0.5",
                "TEXT" => "'x'",
                "BLOB" => "x'00'",
                _ => return None,
            };
            if !["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"].contains(&column_type) {
                return None;
            }
            Some((
                vec![format!(
                    "CREATE TEMP TABLE {} ({} {column_type}) STRICT",
                    quote(name),
                    quote(column)
                )],
                format!("INSERT INTO {} VALUES ({value})", quote(name)),
            ))
        }
        // Longer than any SQLITE_LIMIT_LENGTH can be; zeroblob checks before allocating.
        TOOBIG => Some((vec![], "SELECT zeroblob(9223372036854775807)".into())),
        FULL => Some((
            vec![],
            "INSERT INTO \"spill\".\"spill\" VALUES (zeroblob(65536))".into(),
        )),
        _ => None,
    }
}
