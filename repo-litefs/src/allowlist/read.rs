//! `check_read_with`: what a read inside an interactive transaction may be — one query,
//! under the same bounds and function rules as a write.

use sqlparser::ast::Statement;

use super::{AllowlistPolicy, Rejection};

/// Checks that `sql` is a single query (`SELECT`, `VALUES`, `WITH … SELECT`) that may run
/// inside an interactive transaction on the primary under `policy`: the same bounds as a
/// write, before anything is parsed, and the same refused functions. Anything else (DDL,
/// `PRAGMA`, transaction control, several statements) is refused as a write would be.
///
/// ```
/// use repo_litefs::allowlist::{AllowlistPolicy, check_read_with};
/// let policy = AllowlistPolicy::default();
/// assert!(check_read_with(r#"SELECT "id" FROM "posts" WHERE "slug" = ?"#, &policy).is_ok());
/// assert!(check_read_with("DROP TABLE posts", &policy).is_err());
/// assert!(check_read_with("SELECT load_extension('x')", &policy).is_err());
/// ```
pub fn check_read_with(sql: &str, policy: &AllowlistPolicy) -> Result<(), Rejection> {
    let (statement, tokens) = super::parse_one(sql, policy)?;
    let Statement::Query(query) = &statement else {
        return Err(Rejection::not_data_changing(
            "a statement that is not a query",
        ));
    };
    // A query that changes data (`WITH … INSERT`, a data-modifying CTE) is a write.
    if !super::with_dml::statements(query).is_empty() {
        return Err(Rejection::not_data_changing(
            "a query that changes data (run it as a write)",
        ));
    }
    super::check_calls(&tokens, policy)
}
