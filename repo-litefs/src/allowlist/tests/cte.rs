//! Recursive common table expressions: refused wherever they are, unless the policy allows.

use crate::allowlist::*;

/// A recursive CTE body that never ends.
const FOREVER: &str = "c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c)";

#[test]
fn the_issues_runaway_insert_is_refused() {
    let sql = "INSERT INTO t (x) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c) \
               SELECT n FROM c WHERE n < 0";
    assert_eq!(check_statement(sql), Err(Rejection::RecursiveCte));
    let allowed = AllowlistPolicy::default().allow_recursive_cte(true);
    assert_eq!(
        check_statement_with(sql, &allowed),
        Ok(StatementKind::Insert)
    );
}

#[test]
fn recursive_ctes_are_refused_in_every_position() {
    for sql in [
        format!("INSERT INTO t (x) WITH {FOREVER} SELECT n FROM c"),
        format!("INSERT INTO t (x) WITH recursive {FOREVER} SELECT n FROM c"),
        format!("INSERT INTO t SELECT * FROM (WITH {FOREVER} SELECT n FROM c)"),
        format!("UPDATE t SET a = (WITH {FOREVER} SELECT max(n) FROM c)"),
        format!("DELETE FROM t WHERE a IN (WITH {FOREVER} SELECT n FROM c)"),
        format!("DELETE FROM t WHERE EXISTS (WITH {FOREVER} SELECT 1 FROM c) RETURNING *"),
        format!("UPDATE t SET a = 1 FROM (WITH {FOREVER} SELECT n FROM c) AS s"),
        format!(
            "INSERT INTO t (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = (WITH {FOREVER} SELECT 1)"
        ),
        "INSERT INTO t SELECT * FROM (WITH \"C\"(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM [c]) SELECT n FROM c)".into(),
        // A nested CTE that names the CTE around it.
        "INSERT INTO t WITH a(n) AS (SELECT * FROM (WITH b AS (SELECT n FROM a) SELECT 1)) SELECT 1".into(),
        // Two CTEs naming each other.
        "INSERT INTO t WITH a(n) AS (SELECT n FROM b), b(n) AS (SELECT n FROM a) SELECT n FROM a".into(),
    ] {
        assert_eq!(check_statement(&sql), Err(Rejection::RecursiveCte), "{sql}");
    }
}

#[test]
fn ordinary_ctes_pass() {
    for sql in [
        "INSERT INTO t (x) WITH c(n) AS (SELECT 1) SELECT n FROM c",
        "INSERT INTO t (x) WITH a AS (SELECT 1 AS n), b AS (SELECT n FROM a) SELECT n FROM b",
        "DELETE FROM t WHERE a IN (WITH c AS (SELECT 2) SELECT * FROM c)",
        // Names in strings, comments or other columns are not references.
        "INSERT INTO t WITH c(n) AS (SELECT 'c' /* c */) SELECT n FROM c",
    ] {
        assert_eq!(check_statement(sql).map(|_| ()), Ok(()), "{sql}");
    }
}

#[test]
fn every_position_is_allowed_by_the_setting() {
    let allowed = AllowlistPolicy::default().allow_recursive_cte(true);
    let sql = format!("DELETE FROM t WHERE a IN (WITH {FOREVER} SELECT n FROM c LIMIT 3)");
    assert_eq!(
        check_statement_with(&sql, &allowed),
        Ok(StatementKind::Delete)
    );
}
