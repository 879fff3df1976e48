//! The ledger's own statements in the dialect of the connection they run on: written once
//! with `?` placeholders (SQLite's), numbered `$1, $2, …` for PostgreSQL.

use sea_orm::{DbBackend, Statement, Value};

/// `sql` (the ledger's own text: no `?` inside literals) with `values`, for `backend`.
pub(crate) fn statement(
    backend: DbBackend,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    Statement::from_sql_and_values(backend, placeholders(backend, sql), values)
}

/// `sql` with its `?` placeholders in `backend`'s form.
pub(crate) fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_and_sqlite_ones_kept() {
        let sql = "INSERT INTO t (a, b) VALUES (?, ?)";
        assert_eq!(
            placeholders(DbBackend::Postgres, sql),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
        assert_eq!(placeholders(DbBackend::Sqlite, sql), sql);
    }
}
