//! What a statement forwarded from a replica may be: one INSERT, REPLACE, UPDATE or DELETE,
//! of bounded size and shape, that cannot loop.
//!
//! The primary runs forwarded SQL on behalf of another node, so it checks every statement
//! with [`check_statement_with`] before executing it. The rule is "a single data-changing
//! statement": the forwarding path exists to carry a replica's writes to rows, never to
//! change the schema, the connection or the database file, and no statement may crash,
//! stall or exhaust the primary.
//!
//! # Bounds, checked before parsing
//!
//! An allocation-free scan of the raw text refuses, before anything is tokenized, a
//! statement that passes one of these bounds of its [`AllowlistPolicy`]. The token count
//! is an upper bound whatever the tokenizer makes of quotes, so memory is bounded before
//! anything is allocated; nesting and expression depth are read outside `'...'` strings,
//! `"..."`, `` `...` `` and `[...]` identifiers and `--` / `/* */` comments, the way the
//! tokenizer reads them. The same bounds are checked again, exactly, on the tokens before
//! they are parsed, and the tokens are parsed once, without a copy.
//!
//! | bound | default | refusal | setting |
//! |---|---|---|---|
//! | text length | 1 MiB | [`Rejection::TooLong`] | [`AllowlistPolicy::max_sql_len`] |
//! | tokens, counted from above: a run of letters and digits is one, any other character is one, inside literals and comments too | 200,000 (room for an insert of SQLite's maximum 32,766 bound values, one per row) | [`Rejection::TooManyTokens`] | [`AllowlistPolicy::max_tokens`] |
//! | parenthesis nesting | 100 (at most [`NESTING_CEILING`]) | [`Rejection::TooDeep`] | [`AllowlistPolicy::max_nesting`] |
//! | expression depth: operators chained in one list item plus the depth of its parenthesised groups | 1,000 (SQLite's `SQLITE_MAX_EXPR_DEPTH`) | [`Rejection::TooComplex`] | [`AllowlistPolicy::max_expr_depth`] |
//! | parser recursion | [`RECURSION_LIMIT`] (50) | [`Rejection::Unparsable`] | fixed |
//!
//! Operators are the infix and postfix ones `sqlparser` chains in a loop: `+ - * / % || &
//! | << >> = == != <> < > <= >= -> ->> ::` and the like, and the keywords `AND OR NOT IS IN
//! LIKE GLOB MATCH REGEXP BETWEEN COLLATE ESCAPE ISNULL NOTNULL` (and `sqlparser`'s other
//! operator keywords). The chain is what makes a ~200 KB `1+1+…+1` a 100,000-deep tree
//! whose drop overflows a thread's stack; the token bound is what keeps a 4 MiB `((((…`
//! from costing hundreds of MiB. A statement within the defaults parses and drops well
//! inside a 2 MiB stack, in a debug build too. `GLOB`, `MATCH` and `REGEXP` count as four
//! operators each, because `sqlparser` deep-copies the expression on their left. What is
//! left to the parser's recursion limit (unary `-`/`~`, nested `CASE`) is bounded by it.
//!
//! # What is allowed
//!
//! The text is parsed with `sqlparser`'s [`SQLiteDialect`] and refused unless:
//!
//! - it holds exactly one statement (a trailing `;` is fine, `INSERT ...; DROP TABLE x` is
//!   not), and the parser consumed all of it: `sqlparser` stops quietly at a stray `END`
//!   after a statement, which SQLite would not, so leftover tokens are refused;
//! - that statement is an `INSERT` (any `OR ...` conflict clause, `ON CONFLICT ... DO
//!   UPDATE/NOTHING`, `DEFAULT VALUES`, `RETURNING`), a `REPLACE`, an `UPDATE` (`OR ...`,
//!   `FROM`, `RETURNING`) or a `DELETE` (`RETURNING`). DDL, `PRAGMA`, `ATTACH`, `VACUUM`,
//!   `ANALYZE`, transaction control, queries and `EXPLAIN` are refused. Under a `WITH`
//!   clause (`WITH x AS (SELECT ...) INSERT ...`) the statement is the one it wraps, and
//!   PostgreSQL's data-modifying common table expressions (`WITH ins AS (INSERT ...
//!   RETURNING id) INSERT ...`) count as writes whose tables are checked like the target;
//!   a query whose only data change is in a CTE (`WITH d AS (DELETE ...) SELECT ...`) is
//!   refused;
//! - every table it writes is a plain table name outside SQLite's reserved `sqlite_`
//!   namespace (`sqlite_schema`, `sqlite_master`, `sqlite_temp_master`, `sqlite_sequence`,
//!   `sqlite_stat1`, `sqlite_dbpage`, ...). Writing those rewrites the schema or the pages
//!   under it, which is exactly what forwarding must not be able to do even if a pragma
//!   such as `writable_schema` were left on;
//! - it calls none of the functions that reach outside the database: `load_extension`
//!   (loads native code), `readfile`, `writefile`, `edit`, `fsdir`, `lsdir`, `zipfile`
//!   (the shell's file-system helpers, present when an extension provides them) and
//!   `fts3_tokenizer` (whose pointer argument has been used to run arbitrary code). The
//!   check runs on the token stream, so names inside string literals or comments are
//!   ignored, quoted names (`"edit"(...)`) are caught, and a name written as a table
//!   (`INSERT INTO edit (a) ...`) is not mistaken for a call;
//! - it holds no recursive common table expression anywhere (the insert's source,
//!   sub-queries, nested CTEs), with or without the `RECURSIVE` keyword: SQLite recurses
//!   whenever a CTE names itself, and such a statement can loop forever while holding the
//!   write lock ([`Rejection::RecursiveCte`]). [`AllowlistPolicy::allow_recursive_cte`]
//!   lifts this for deployments that bound statement time.
//!
//! # PostgreSQL
//!
//! With [`SqlDialect::Postgres`] (a PostgreSQL backend) the text is parsed with
//! `sqlparser`'s `PostgreSqlDialect` and the same rules hold: one `INSERT`, `UPDATE` or
//! `DELETE` (`ON CONFLICT`, `RETURNING`, under a `WITH` clause with data-modifying CTEs); `COPY`, `DO`, `CALL`, `SET`, `LISTEN`/`NOTIFY`,
//! DDL, transaction control and queries are refused as not data-changing. The reserved
//! tables are those of the `pg_catalog`, `pg_toast` and `information_schema` schemas and
//! any table named `pg_…`. The refused functions are every `pg_…` function (advisory
//! locks, `pg_terminate_backend`, `pg_cancel_backend`, `pg_reload_conf`, `pg_read_file`,
//! `pg_sleep`, `pg_notify`, …), `set_config`, `setval`, the large-object functions
//! (`lo_…`), `dblink…`, the index maintenance functions (`brin_summarize…`,
//! `brin_desummarize_range`, `gin_clean_pending_list`), and the functions that run SQL
//! given as a string (`query_to_xml…`, `cursor_to_xml…`, `table_to_xml…`,
//! `schema_to_xml…`, `database_to_xml…`, `ts_stat`, `ts_rewrite`), which would carry any
//! call past this check. This list covers PostgreSQL's own functions; an extension's
//! functions and the application's own are not known to it, so connect the nodes as a role
//! that may do no more than the application needs (not a superuser). Statements run under
//! PostgreSQL's `statement_timeout`, which interrupts any of them.
//!
//! Statements `sqlparser` cannot parse (for example `PRAGMA journal_mode = wal`, `DETACH`,
//! `REINDEX`, `VACUUM INTO`) are refused as [`Rejection::Unparsable`].
//!
//! # What a refusal says
//!
//! Every [`Rejection`] message is bounded: text from the statement (the parser's
//! explanation, a name) is cut to [`EXCERPT_LEN`] characters with control characters
//! escaped, by [`sanitize`], which the server also uses for untrusted log fields. Nothing
//! here panics on any input. [`VerdictCache`] remembers accepted statements, bounded in
//! bytes; refusals are never cached.

mod cache;
mod cte;
mod excerpt;
mod functions;
mod kind;
mod meter;
mod policy;
mod prescan;
mod read;
mod rejection;
mod target;
mod tokens;
mod with_dml;

use sqlparser::ast::{Query, SetExpr, Statement};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

pub use cache::VerdictCache;
pub use excerpt::{EXCERPT_LEN, sanitize};
pub use kind::StatementKind;
pub use policy::{AllowlistPolicy, NESTING_CEILING, SqlDialect};
pub use read::check_read_with;
pub use rejection::Rejection;

/// How deeply the parser may recurse before it refuses the statement.
///
/// The ORM's statements nest a few levels; this is `sqlparser`'s own default, set here
/// explicitly because it bounds what the pre-scan leaves to the parser (unary chains,
/// nested `CASE`).
pub const RECURSION_LIMIT: usize = 50;

/// Checks only the bounds of `sql` under `policy` (length, tokens, nesting, expression
/// depth), with the allocation-free scan [`check_statement_with`] runs first: nothing is
/// tokenized or parsed, and the work is one pass over the text.
///
/// ```
/// use repo_litefs::allowlist::{AllowlistPolicy, Rejection, check_bounds};
///
/// let parens = "(".repeat(4 << 20);
/// let policy = AllowlistPolicy::default();
/// assert_eq!(check_bounds(&parens, &policy), Err(Rejection::TooLong { limit: 1 << 20 }));
/// ```
pub fn check_bounds(sql: &str, policy: &AllowlistPolicy) -> Result<(), Rejection> {
    prescan::prescan(sql, policy)
}

/// Checks `sql` under the default [`AllowlistPolicy`]; see [`check_statement_with`].
///
/// ```
/// use repo_litefs::allowlist::{Rejection, StatementKind, check_statement};
///
/// let kind = check_statement(r#"DELETE FROM "tags" WHERE "tags"."name" <> ? RETURNING *"#);
/// assert_eq!(kind, Ok(StatementKind::Delete));
///
/// let refused = check_statement("PRAGMA writable_schema = 1");
/// assert_eq!(refused, Err(Rejection::NotDataChanging { kind: "PRAGMA".into() }));
/// ```
pub fn check_statement(sql: &str) -> Result<StatementKind, Rejection> {
    check_statement_with(sql, &AllowlistPolicy::default())
}

/// Checks that `sql` is a single data-changing statement that may be forwarded under
/// `policy`.
///
/// Returns what kind of statement it is, or why it was refused. Never panics, and never
/// tokenizes or parses a statement that passes the policy's bounds.
///
/// ```
/// use repo_litefs::allowlist::{AllowlistPolicy, Rejection, check_statement_with};
///
/// let chain = format!("UPDATE t SET a = 1{}", "+1".repeat(5_000));
/// let refused = check_statement_with(&chain, &AllowlistPolicy::default());
/// assert_eq!(refused, Err(Rejection::TooComplex { limit: 1_000 }));
/// ```
pub fn check_statement_with(
    sql: &str,
    policy: &AllowlistPolicy,
) -> Result<StatementKind, Rejection> {
    let (statement, tokens) = parse_one(sql, policy)?;
    let kind = data_changing_kind(&statement, &tokens)?;
    target::check_targets(&statement, policy.sql_dialect())?;
    check_calls(&tokens, policy)?;
    Ok(kind)
}

/// The one bounded parse of a forwarded statement, write or read: the text bounds before
/// anything is tokenized, the token bounds, then a parse with a recursion limit; exactly
/// one statement, and its tokens (handed back by the parser, not copied).
fn parse_one(
    sql: &str,
    policy: &AllowlistPolicy,
) -> Result<(Statement, Vec<TokenWithSpan>), Rejection> {
    check_bounds(sql, policy)?;
    let dialect: &dyn Dialect = match policy.sql_dialect() {
        SqlDialect::Sqlite => &SQLiteDialect {},
        SqlDialect::Postgres => &PostgreSqlDialect {},
    };
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Rejection::unparsable(&e.to_string()))?;
    tokens::check_tokens(&tokens, policy)?;
    let mut parser = Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let parsed = parser.parse_statements();
    let leftover = parser.peek_token().token;
    let tokens = parser.into_tokens();
    let statements = parsed.map_err(|e| Rejection::unparsable(&e.to_string()))?;
    if leftover != Token::EOF {
        return Err(Rejection::unparsable(&format!(
            "unexpected {leftover} after the statement"
        )));
    }
    let count = statements.len();
    match <[Statement; 1]>::try_from(statements) {
        Ok([statement]) => Ok((statement, tokens)),
        Err(_) if count == 0 => Err(Rejection::Empty),
        Err(_) => Err(Rejection::SeveralStatements { count }),
    }
}

/// The rules on what a statement calls, for writes and reads alike: no refused function,
/// no recursive CTE unless the policy allows it.
fn check_calls(tokens: &[TokenWithSpan], policy: &AllowlistPolicy) -> Result<(), Rejection> {
    functions::check_function_calls(tokens, policy.sql_dialect())?;
    if !policy.recursive_cte_allowed() && cte::has_recursive_cte(tokens) {
        return Err(Rejection::RecursiveCte);
    }
    Ok(())
}

/// The kind of an allowed statement, or `NotDataChanging` naming what it is instead.
fn data_changing_kind(
    statement: &Statement,
    tokens: &[TokenWithSpan],
) -> Result<StatementKind, Rejection> {
    // Only INSERT (REPLACE), UPDATE and DELETE pass; the other arms merely name the refusal.
    let kind = match statement {
        Statement::Insert(_) if leading_keyword(tokens) == Some(Keyword::REPLACE) => {
            return Ok(StatementKind::Replace);
        }
        Statement::Insert(_) => return Ok(StatementKind::Insert),
        Statement::Update(_) => return Ok(StatementKind::Update),
        Statement::Delete(_) => return Ok(StatementKind::Delete),
        // `WITH … INSERT/UPDATE/DELETE`: the statement it wraps decides.
        Statement::Query(query) => match with_dml::wrapped(query) {
            Some(inner) => return data_changing_kind(inner, tokens),
            None => query_kind(query),
        },
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::CreateVirtualTable { .. } => "CREATE VIRTUAL TABLE",
        Statement::CreateIndex(_) => "CREATE INDEX",
        Statement::CreateView(_) => "CREATE VIEW",
        Statement::CreateTrigger(_) => "CREATE TRIGGER",
        Statement::Drop { object_type, .. } => {
            return Err(Rejection::not_data_changing(&format!("DROP {object_type}")));
        }
        Statement::DropTrigger(_) => "DROP TRIGGER",
        Statement::AlterTable(_) => "ALTER TABLE",
        Statement::Pragma { .. } => "PRAGMA",
        Statement::AttachDatabase { .. } => "ATTACH",
        Statement::Vacuum(_) => "VACUUM",
        Statement::Analyze(_) => "ANALYZE",
        Statement::Explain { .. } | Statement::ExplainTable { .. } => "EXPLAIN",
        Statement::StartTransaction { .. } => "BEGIN",
        Statement::Commit { .. } => "COMMIT",
        Statement::Rollback { .. } => "ROLLBACK",
        Statement::Savepoint { .. } => "SAVEPOINT",
        Statement::ReleaseSavepoint { .. } => "RELEASE",
        // Named by its first word, without printing the whole statement.
        _ => {
            let word = leading_word(tokens).unwrap_or("unknown");
            return Err(Rejection::not_data_changing(&word.to_ascii_uppercase()));
        }
    };
    Err(Rejection::not_data_changing(kind))
}

/// Names a statement that `sqlparser` files as a query.
fn query_kind(query: &Query) -> &'static str {
    if query.with.is_some() {
        return "WITH";
    }
    match query.body.as_ref() {
        SetExpr::Values(_) => "VALUES",
        _ => "SELECT",
    }
}

/// The first keyword of the text, skipping whitespace and comments.
fn leading_keyword(tokens: &[TokenWithSpan]) -> Option<Keyword> {
    match tokens::significant(tokens).next() {
        Some((_, Token::Word(word))) => Some(word.keyword),
        _ => None,
    }
}

/// The first word of the text, skipping whitespace and comments.
fn leading_word(tokens: &[TokenWithSpan]) -> Option<&str> {
    match tokens::significant(tokens).next() {
        Some((_, Token::Word(word))) => Some(&word.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
