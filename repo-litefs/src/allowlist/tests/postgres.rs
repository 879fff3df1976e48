//! The allowlist in the PostgreSQL dialect: what sea-orm generates for PostgreSQL passes;
//! COPY, DO, CALL, DDL, SET, advisory locks and administrative functions are refused.
use crate::allowlist::*;

fn check(sql: &str) -> Result<StatementKind, Rejection> {
    check_statement_with(
        sql,
        &AllowlistPolicy::default().dialect(SqlDialect::Postgres),
    )
}

#[test]
fn sea_orm_postgres_statements_pass() {
    for (sql, kind) in [
        (
            r#"INSERT INTO "tags" ("name") VALUES ($1) RETURNING "id", "name""#,
            StatementKind::Insert,
        ),
        (
            r#"INSERT INTO "tags" ("name") VALUES ($1), ($2) ON CONFLICT ("name") DO UPDATE SET "name" = "excluded"."name" RETURNING "id""#,
            StatementKind::Insert,
        ),
        (
            r#"UPDATE "posts" SET "title" = $1, "meta" = $2::jsonb WHERE "posts"."id" = $3 RETURNING *"#,
            StatementKind::Update,
        ),
        (
            r#"DELETE FROM "public"."tags" WHERE "tags"."name" = ANY($1)"#,
            StatementKind::Delete,
        ),
        (
            r#"UPDATE "counters" SET "n" = "n" + 1 WHERE "id" = $1 AND "at" < now()"#,
            StatementKind::Update,
        ),
    ] {
        assert_eq!(check(sql), Ok(kind), "{sql}");
    }
}

#[test]
fn statements_that_are_not_dml_are_refused() {
    for sql in [
        "COPY tags FROM '/etc/passwd'",
        "COPY tags TO PROGRAM 'rm -rf /'",
        "DO $$ BEGIN PERFORM pg_sleep(10); END $$",
        "CALL do_things()",
        "SET statement_timeout = 0",
        "SET ROLE postgres",
        "RESET ALL",
        "CREATE TABLE x (a int)",
        "DROP TABLE tags",
        "ALTER TABLE tags ADD COLUMN x int",
        "TRUNCATE tags",
        "GRANT ALL ON tags TO public",
        "LISTEN x",
        "NOTIFY x",
        "BEGIN",
        "SELECT 1",
        "VACUUM",
        "LOCK TABLE tags",
        "INSERT INTO tags VALUES (1); DROP TABLE tags",
    ] {
        let refused = check(sql);
        assert!(
            refused.is_err(),
            "{sql:?} must be refused in the PostgreSQL dialect, got {refused:?}"
        );
    }
}

#[test]
fn functions_with_side_effects_are_refused() {
    for (sql, name) in [
        (
            "UPDATE tags SET name = 'x' WHERE pg_terminate_backend(42)",
            "pg_terminate_backend",
        ),
        (
            "UPDATE tags SET name = 'x' WHERE pg_cancel_backend(42)",
            "pg_cancel_backend",
        ),
        (
            "INSERT INTO tags (name) SELECT pg_advisory_lock(1)::text",
            "pg_advisory_lock",
        ),
        (
            "INSERT INTO tags (name) VALUES (pg_try_advisory_xact_lock(1)::text)",
            "pg_try_advisory_xact_lock",
        ),
        (
            "DELETE FROM tags WHERE pg_catalog.pg_sleep(5) IS NULL",
            "pg_sleep",
        ),
        (
            "INSERT INTO tags (name) VALUES (pg_read_file('/etc/passwd'))",
            "pg_read_file",
        ),
        (
            "UPDATE tags SET name = set_config('role', 'postgres', false)",
            "set_config",
        ),
        (
            "INSERT INTO tags (name) VALUES (lo_import('/etc/passwd')::text)",
            "lo_import",
        ),
        (
            "INSERT INTO tags (name) SELECT query_to_xml('select pg_reload_conf()', true, true, '')::text",
            "query_to_xml",
        ),
        (
            "UPDATE tags SET name = \"pg_reload_conf\"()::text",
            "pg_reload_conf",
        ),
        (
            "INSERT INTO tags (name) VALUES (setval('tags_id_seq', 1)::text)",
            "setval",
        ),
        // SQL given as text, run by the function (found by an outsider's attack).
        (
            "INSERT INTO audit (what) SELECT count(*)::text FROM ts_stat('SELECT to_tsvector(pg_advisory_lock(4711)::text)')",
            "ts_stat",
        ),
        (
            "INSERT INTO audit (what) SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')::text",
            "ts_rewrite",
        ),
        (
            "INSERT INTO audit (what) SELECT pg_catalog.TS_STAT('SELECT 1')::text",
            "TS_STAT",
        ),
        (
            "INSERT INTO audit (n) SELECT brin_summarize_new_values('some_brin_index')",
            "brin_summarize_new_values",
        ),
    ] {
        match check(sql) {
            Err(Rejection::ForbiddenFunction { name: refused }) => {
                assert_eq!(refused, name, "{sql}")
            }
            other => panic!("{sql:?} gave {other:?}, expected {name} refused"),
        }
    }
    // A name in a literal is data, not a call.
    assert_eq!(
        check("INSERT INTO tags (name) VALUES ('pg_terminate_backend(1)')"),
        Ok(StatementKind::Insert)
    );
}

#[test]
fn system_catalogs_are_not_targets() {
    for sql in [
        "UPDATE pg_catalog.pg_authid SET rolsuper = true",
        "DELETE FROM pg_database",
        "INSERT INTO information_schema.sql_features VALUES (1)",
        "UPDATE PG_CATALOG.pg_class SET relname = 'x'",
    ] {
        assert!(
            matches!(check(sql), Err(Rejection::SystemTable { .. })),
            "{sql:?} gave {:?}",
            check(sql)
        );
    }
}

#[test]
fn the_sqlite_dialect_is_unchanged_by_default() {
    // `?` placeholders and `pg_…` names mean nothing special to SQLite's allowlist.
    assert_eq!(
        check_statement_with(
            "INSERT INTO pg_notes (a) VALUES (?)",
            &AllowlistPolicy::default()
        ),
        Ok(StatementKind::Insert)
    );
    assert!(check("INSERT INTO pg_notes (a) VALUES ($1)").is_err());
}

#[test]
fn dml_under_a_with_clause_passes_and_its_every_target_is_checked() {
    for (sql, kind) in [
        (
            "WITH x AS (SELECT 'cte' AS w) INSERT INTO audit (what) SELECT w FROM x",
            StatementKind::Insert,
        ),
        (
            "WITH ins AS (INSERT INTO audit (what) VALUES ('inner') RETURNING id) \
             INSERT INTO audit (what, n) SELECT 'outer', id FROM ins",
            StatementKind::Insert,
        ),
        (
            "WITH x AS (SELECT 1 AS id) UPDATE tags SET name = 'n' WHERE id IN (SELECT id FROM x)",
            StatementKind::Update,
        ),
        (
            "WITH d AS (DELETE FROM old RETURNING id) DELETE FROM tags WHERE id IN (SELECT id FROM d)",
            StatementKind::Delete,
        ),
    ] {
        assert_eq!(check(sql), Ok(kind), "{sql}");
    }
    for sql in [
        // A system table written by a data-modifying CTE, or by the wrapped statement.
        "WITH d AS (DELETE FROM pg_catalog.pg_authid RETURNING 1) INSERT INTO t (a) SELECT 1 FROM d",
        "WITH x AS (SELECT 1) INSERT INTO pg_catalog.pg_class (relname) SELECT 'x' FROM x",
        "WITH x AS (SELECT 1) UPDATE pg_settings SET setting = '0'",
    ] {
        assert!(
            matches!(check(sql), Err(Rejection::SystemTable { .. })),
            "{sql}: {:?}",
            check(sql)
        );
    }
    for sql in [
        // Data changed under a query that is not itself an INSERT, UPDATE or DELETE.
        "WITH d AS (DELETE FROM tags RETURNING *) SELECT * FROM d",
        // Functions and recursion are refused under a WITH as anywhere.
        "WITH x AS (SELECT pg_sleep(10)) INSERT INTO t (a) SELECT 1 FROM x",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) INSERT INTO t (a) SELECT n FROM r",
    ] {
        assert!(check(sql).is_err(), "{sql}");
    }
}

#[test]
fn a_read_in_a_transaction_may_not_change_data_under_a_with_clause() {
    let policy = AllowlistPolicy::default().dialect(SqlDialect::Postgres);
    assert!(check_read_with("WITH x AS (SELECT 1 AS a) SELECT a FROM x", &policy).is_ok());
    for sql in [
        "WITH d AS (DELETE FROM tags RETURNING *) SELECT * FROM d",
        "WITH x AS (SELECT 1) INSERT INTO tags (name) SELECT 'n' FROM x RETURNING id",
    ] {
        assert!(check_read_with(sql, &policy).is_err(), "{sql}");
    }
}
