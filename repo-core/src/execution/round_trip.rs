//! `RoundTrip`: several statements sent to SQLite's worker thread in one call.
//!
//! sqlx drives each SQLite connection from a worker thread of its own: every call (a
//! statement, a `BEGIN`, a `COMMIT`, the ping when a connection goes back to its pool) is a
//! round trip to that thread, 25–45 µs on a busy 2-core machine, several times SQLite's
//! own work for an ORM insert (docs/BENCHMARKS.md, "Issue 17"). sqlx's SQLite driver also
//! runs a string of several statements in one call, binding the arguments in order across
//! them and reporting each statement's rows and summary as it ends. A round trip joins
//! statements that way: the group commit sends `BEGIN` and its writes in one call, the
//! hook's rows (the ledger's) and `COMMIT` in a second.
//!
//! Joining is only sound for a statement whose text is exactly one statement with one
//! positional `?` per value: [`RoundTrip::push`] checks that with a scan of the text
//! (quoted strings and identifiers skipped; `;`, comments, numbered or named parameters
//! refused) and refuses anything else, which then runs statement by statement.

use sea_orm::sqlx::sqlite::{SqliteConnection, SqliteQueryResult, SqliteRow};
use sea_orm::sqlx::{self, AssertSqlSafe, Either, Executor as _};
use sea_orm::{Statement, Value, Values};
use sea_query_sqlx::SqlxValues;

use futures::StreamExt;

/// The longest joined text sent at once: far below the writer's default SQL length limit
/// (1 MiB, which SQLite applies to the rest of the string at each statement).
const MAX_SQL: usize = 256 * 1024;

/// Statements joined into one call (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct RoundTrip {
    /// The statements' texts, separated by `;`.
    sql: String,
    /// Their values, in order.
    values: Vec<Value>,
    /// How many statements were joined: one summary is expected for each.
    parts: usize,
}

/// What one joined statement returned: its rows, then its summary.
#[derive(Debug)]
pub(crate) struct Part {
    /// The rows it returned (`RETURNING`), in order.
    pub(crate) rows: Vec<SqliteRow>,
    /// Its summary (rows changed, last insert rowid).
    pub(crate) done: SqliteQueryResult,
}

/// Why a round trip stopped: the statement it stopped at (by its position in the round trip)
/// and the driver's error. The statements before it ran; the ones after did not.
#[derive(Debug)]
pub(crate) struct Stopped {
    /// The position of the statement that failed.
    pub(crate) part: usize,
    /// What the driver said.
    pub(crate) error: sqlx::Error,
}

impl RoundTrip {
    /// An empty round trip.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a statement of ours without values (`BEGIN`, `COMMIT`).
    pub(crate) fn push_sql(&mut self, sql: &'static str) {
        self.separate();
        self.sql.push_str(sql);
        self.parts += 1;
    }

    /// Adds `statement`, or answers `false` (adding nothing) when it cannot be joined: it is
    /// not exactly one statement with one positional `?` per value, or the joined text would
    /// grow too long.
    pub(crate) fn push(&mut self, statement: &Statement) -> bool {
        let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        if !single_positional(&statement.sql, values.len())
            || self.sql.len() + statement.sql.len() + 2 > MAX_SQL
        {
            return false;
        }
        self.separate();
        self.sql.push_str(&statement.sql);
        self.values.extend(values.iter().cloned());
        self.parts += 1;
        true
    }

    /// How many statements it holds.
    pub(crate) fn len(&self) -> usize {
        self.parts
    }

    fn separate(&mut self) {
        if !self.sql.is_empty() {
            self.sql.push_str("; ");
        }
    }

    /// Runs every statement on `conn` in one call to its worker thread; stops at the first
    /// that fails.
    pub(crate) async fn run(self, conn: &mut SqliteConnection) -> Result<Vec<Part>, Stopped> {
        let expected = self.parts;
        // A group's text changes with its members: cache only the short, repeating ones,
        // so that groups do not push the single statements out of sqlx's cache.
        let query = sqlx::query_with(AssertSqlSafe(self.sql), SqlxValues(Values(self.values)))
            .persistent(expected <= 3);
        let mut parts = Vec::with_capacity(expected);
        let mut rows = Vec::new();
        let mut stream = conn.fetch_many(query);
        while let Some(item) = stream.next().await {
            match item {
                Ok(Either::Right(row)) => rows.push(row),
                Ok(Either::Left(done)) => parts.push(Part {
                    rows: std::mem::take(&mut rows),
                    done,
                }),
                Err(error) => {
                    return Err(Stopped {
                        part: parts.len(),
                        error,
                    });
                }
            }
        }
        if parts.len() != expected {
            // Cannot happen for statements `push` accepted; refuse rather than misattribute.
            return Err(Stopped {
                part: parts.len(),
                error: sqlx::Error::Protocol(format!(
                    "a joined round trip of {expected} statements reported {}",
                    parts.len()
                )),
            });
        }
        Ok(parts)
    }
}

/// Whether `sql` is one non-empty statement whose parameters are `values` positional `?`s:
/// outside quoted strings and identifiers, no `;`, no comment, no `?NNN`, `:name`, `@name`
/// or `$name`, and exactly `values` `?`s. Conservative: text it cannot vouch for is refused.
fn single_positional(sql: &str, values: usize) -> bool {
    let bytes = sql.as_bytes();
    let mut params = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match b {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if b == b'[' { b']' } else { b };
                // A doubled quote inside is an escape: it closes and reopens, same result.
                match bytes[i + 1..].iter().position(|&c| c == close) {
                    Some(at) => i += at + 1,
                    None => return false,
                }
            }
            b';' | b'$' | b':' | b'@' | b'#' => return false,
            b'-' if next == Some(b'-') => return false,
            b'/' if next == Some(b'*') => return false,
            b'?' if next.is_some_and(|c| c.is_ascii_digit()) => return false,
            b'?' => params += 1,
            _ => {}
        }
        i += 1;
    }
    params == values && !sql.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::single_positional;

    #[test]
    fn only_one_statement_with_positional_parameters_is_joinable() {
        assert!(single_positional("INSERT INTO t (a, b) VALUES (?, ?)", 2));
        assert!(single_positional(
            "INSERT INTO \"t\" (\"a\") VALUES (?) RETURNING \"id\"",
            1
        ));
        assert!(single_positional(
            "UPDATE t SET a = 'x;y?--' WHERE b = ?",
            1
        ));
        assert!(single_positional("UPDATE t SET a = 'it''s' WHERE b = ?", 1));
        assert!(
            !single_positional("INSERT INTO t VALUES (?, ?)", 1),
            "count"
        );
        assert!(!single_positional(
            "INSERT INTO t VALUES (1); DELETE FROM t",
            0
        ));
        assert!(!single_positional("INSERT INTO t VALUES (?) -- c", 1));
        assert!(!single_positional("INSERT INTO t VALUES (?) /* c */", 1));
        assert!(!single_positional("INSERT INTO t VALUES (?1, ?1)", 1));
        assert!(!single_positional("INSERT INTO t VALUES (:a)", 1));
        assert!(!single_positional("INSERT INTO t VALUES ($1)", 1));
        assert!(!single_positional("INSERT INTO t VALUES (@a)", 1));
        assert!(!single_positional("INSERT INTO t VALUES ('open", 0));
        assert!(!single_positional("   ", 0));
    }
}
