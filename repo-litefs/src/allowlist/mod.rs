//! What a statement forwarded from a replica may be: one INSERT, REPLACE, UPDATE or DELETE.
//!
//! The primary runs forwarded SQL on behalf of another node, so it checks every statement
//! with [`check_statement`] before executing it. The rule is "a single data-changing
//! statement": the forwarding path exists to carry a replica's writes to rows, never to
//! change the schema, the connection or the database file.
//!
//! The text is parsed with `sqlparser`'s [`SQLiteDialect`] and refused unless:
//!
//! - it holds exactly one statement (a trailing `;` is fine, `INSERT ...; DROP TABLE x` is
//!   not), and the parser consumed all of it: `sqlparser` stops quietly at a stray `END`
//!   after a statement, which SQLite would not, so leftover tokens are refused;
//! - that statement is an `INSERT` (any `OR ...` conflict clause, `ON CONFLICT ... DO
//!   UPDATE/NOTHING`, `DEFAULT VALUES`, `RETURNING`), a `REPLACE`, an `UPDATE` (`OR ...`,
//!   `FROM`, `RETURNING`) or a `DELETE` (`RETURNING`). DDL, `PRAGMA`, `ATTACH`, `VACUUM`,
//!   `ANALYZE`, transaction control, queries and `EXPLAIN` are refused. A statement that
//!   starts with a common table expression (`WITH ... INSERT`) is refused too, for
//!   simplicity: the ORM does not generate it;
//! - the table it writes is a plain table name outside SQLite's reserved `sqlite_`
//!   namespace (`sqlite_schema`, `sqlite_master`, `sqlite_temp_master`, `sqlite_sequence`,
//!   `sqlite_stat1`, `sqlite_dbpage`, ...). Writing those rewrites the schema or the pages
//!   under it, which is exactly what forwarding must not be able to do even if a pragma
//!   such as `writable_schema` were left on;
//! - it calls none of the functions that reach outside the database: `load_extension`
//!   (loads native code), `readfile`, `writefile`, `edit`, `fsdir`, `lsdir`, `zipfile`
//!   (the shell's file-system helpers, present when an extension provides them) and
//!   `fts3_tokenizer` (whose pointer argument has been used to run arbitrary code). A
//!   forwarded statement comes from the network; it must not touch the file system or the
//!   process. The check runs on the token stream, so names inside string literals or
//!   comments are ignored, quoted names (`"edit"(...)`) are caught, and a name written as a
//!   table (`INSERT INTO edit (a) ...`) is not mistaken for a call.
//!
//! Parsing is bounded: the parser's recursion limit ([`RECURSION_LIMIT`]) turns deeply
//! nested input into a refusal instead of a stack overflow, and nothing here panics.
//! Statements `sqlparser` cannot parse (for example `PRAGMA journal_mode = wal`, `DETACH`,
//! `REINDEX`, `VACUUM INTO`) are refused as [`Refusal::Unparsable`].

use std::fmt;

use sqlparser::ast::{
    FromTable, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableFactor, TableObject,
    TableWithJoins,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// How deeply the parser may nest before it refuses the statement.
///
/// The ORM's statements nest a few levels; this is `sqlparser`'s own default, set here
/// explicitly because it is what keeps hostile input such as `((((...` off the stack.
pub const RECURSION_LIMIT: usize = 50;

/// Functions a forwarded statement may not call, in lower case.
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fsdir",
    "lsdir",
    "zipfile",
    "fts3_tokenizer",
];

/// The kind of a statement that passed [`check_statement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `INSERT`, with or without an `OR ...` or `ON CONFLICT` clause.
    Insert,
    /// `REPLACE INTO ...` (SQLite's alias of `INSERT OR REPLACE`).
    Replace,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl StatementKind {
    /// The statement's leading keyword, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Replace => "REPLACE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The text is not SQL that the SQLite dialect of `sqlparser` understands.
    #[error("statement could not be parsed: {reason}")]
    Unparsable {
        /// The parser's explanation.
        reason: String,
    },
    /// The text holds no statement (only whitespace, comments or semicolons).
    #[error("no statement was given")]
    Empty,
    /// The text holds more than one statement.
    #[error("only one statement may be forwarded, got {count}")]
    SeveralStatements {
        /// How many statements were parsed.
        count: usize,
    },
    /// The statement does not (only) change rows.
    #[error("{kind} statements may not be forwarded; only INSERT, REPLACE, UPDATE and DELETE")]
    NotDataChanging {
        /// The statement's leading keywords, such as `CREATE TABLE`, `PRAGMA` or `SELECT`.
        kind: String,
    },
    /// The statement writes something other than one plainly named table.
    #[error("the statement's target is not a single named table")]
    UnsupportedTarget,
    /// The statement writes one of SQLite's internal `sqlite_` tables.
    #[error("the internal table {table} may not be written")]
    SystemTable {
        /// The table's name as written.
        table: String,
    },
    /// The statement calls a function that reaches outside the database.
    #[error("the function {name} may not be called")]
    ForbiddenFunction {
        /// The function's name as written.
        name: String,
    },
}

/// Checks that `sql` is a single data-changing statement that may be forwarded.
///
/// Returns what kind of statement it is, or why it was refused. Never panics.
///
/// ```
/// use repo_litefs::allowlist::{Refusal, StatementKind, check_statement};
///
/// let kind = check_statement(r#"DELETE FROM "tags" WHERE "tags"."name" <> ? RETURNING *"#);
/// assert_eq!(kind, Ok(StatementKind::Delete));
///
/// let refused = check_statement("PRAGMA writable_schema = 1");
/// assert_eq!(refused, Err(Refusal::NotDataChanging { kind: "PRAGMA".into() }));
/// ```
pub fn check_statement(sql: &str) -> Result<StatementKind, Refusal> {
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Refusal::Unparsable {
            reason: e.to_string(),
        })?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens.clone());
    let statements = parser.parse_statements().map_err(|e| Refusal::Unparsable {
        reason: e.to_string(),
    })?;
    let leftover = parser.peek_token();
    if leftover.token != Token::EOF {
        return Err(Refusal::Unparsable {
            reason: format!("unexpected {} after the statement", leftover.token),
        });
    }
    let statement = match statements.as_slice() {
        [] => return Err(Refusal::Empty),
        [statement] => statement,
        several => {
            return Err(Refusal::SeveralStatements {
                count: several.len(),
            });
        }
    };
    let kind = data_changing_kind(statement, &tokens)?;
    for table in target_tables(statement)? {
        check_target(table)?;
    }
    check_function_calls(&tokens)?;
    Ok(kind)
}

/// The kind of an allowed statement, or `NotDataChanging` naming what it is instead.
fn data_changing_kind(
    statement: &Statement,
    tokens: &[TokenWithSpan],
) -> Result<StatementKind, Refusal> {
    // Only INSERT (REPLACE), UPDATE and DELETE pass; the other arms merely name the refusal.
    let kind = match statement {
        Statement::Insert(_) if leading_keyword(tokens) == Some(Keyword::REPLACE) => {
            return Ok(StatementKind::Replace);
        }
        Statement::Insert(_) => return Ok(StatementKind::Insert),
        Statement::Update(_) => return Ok(StatementKind::Update),
        Statement::Delete(_) => return Ok(StatementKind::Delete),
        Statement::Query(query) => query_kind(query).to_owned(),
        Statement::CreateTable(_) => "CREATE TABLE".to_owned(),
        Statement::CreateVirtualTable { .. } => "CREATE VIRTUAL TABLE".to_owned(),
        Statement::CreateIndex(_) => "CREATE INDEX".to_owned(),
        Statement::CreateView(_) => "CREATE VIEW".to_owned(),
        Statement::CreateTrigger(_) => "CREATE TRIGGER".to_owned(),
        Statement::Drop { object_type, .. } => format!("DROP {object_type}"),
        Statement::DropTrigger(_) => "DROP TRIGGER".to_owned(),
        Statement::AlterTable(_) => "ALTER TABLE".to_owned(),
        Statement::Pragma { .. } => "PRAGMA".to_owned(),
        Statement::AttachDatabase { .. } => "ATTACH".to_owned(),
        Statement::Vacuum(_) => "VACUUM".to_owned(),
        Statement::Analyze(_) => "ANALYZE".to_owned(),
        Statement::Explain { .. } | Statement::ExplainTable { .. } => "EXPLAIN".to_owned(),
        Statement::StartTransaction { .. } => "BEGIN".to_owned(),
        Statement::Commit { .. } => "COMMIT".to_owned(),
        Statement::Rollback { .. } => "ROLLBACK".to_owned(),
        Statement::Savepoint { .. } => "SAVEPOINT".to_owned(),
        Statement::ReleaseSavepoint { .. } => "RELEASE".to_owned(),
        other => other
            .to_string()
            .split_whitespace()
            .next()
            .unwrap_or("unknown")
            .to_ascii_uppercase(),
    };
    Err(Refusal::NotDataChanging { kind })
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
    match tokens.iter().map(|t| &t.token).find(|t| !is_whitespace(t)) {
        Some(Token::Word(word)) => Some(word.keyword),
        _ => None,
    }
}

/// The tables an allowed statement writes.
fn target_tables(statement: &Statement) -> Result<Vec<&ObjectName>, Refusal> {
    match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => Ok(vec![name]),
            TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                Err(Refusal::UnsupportedTarget)
            }
        },
        Statement::Update(update) => Ok(vec![plain_table(&update.table)?]),
        Statement::Delete(delete) => {
            // `DELETE t1, t2 FROM ...` (MySQL) names its targets before FROM.
            if !delete.tables.is_empty() || delete.using.is_some() {
                return Err(Refusal::UnsupportedTarget);
            }
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            match from.as_slice() {
                [table] => Ok(vec![plain_table(table)?]),
                _ => Err(Refusal::UnsupportedTarget),
            }
        }
        _ => Err(Refusal::UnsupportedTarget),
    }
}

/// The name of a table reference that is a bare table without joins.
fn plain_table(table: &TableWithJoins) -> Result<&ObjectName, Refusal> {
    match &table.relation {
        TableFactor::Table {
            name, args: None, ..
        } if table.joins.is_empty() => Ok(name),
        _ => Err(Refusal::UnsupportedTarget),
    }
}

/// Refuses a target in SQLite's reserved `sqlite_` namespace, in any schema.
fn check_target(name: &ObjectName) -> Result<(), Refusal> {
    let Some(ObjectNamePart::Identifier(table)) = name.0.last() else {
        return Err(Refusal::UnsupportedTarget);
    };
    let reserved = table
        .value
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
    if reserved {
        return Err(Refusal::SystemTable {
            table: table.value.clone(),
        });
    }
    Ok(())
}

/// Refuses a call of a [`FORBIDDEN_FUNCTIONS`] member anywhere in the statement.
///
/// A call is a name followed by `(`. The name is not a call when it follows `.` (SQLite
/// has no qualified function names, so that is `schema.table (columns)`), `INTO` (the
/// insert target and its column list) or `AS` (an alias or a type name).
fn check_function_calls(tokens: &[TokenWithSpan]) -> Result<(), Refusal> {
    let significant: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !is_whitespace(t))
        .collect();
    for (i, token) in significant.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        let forbidden = FORBIDDEN_FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&word.value));
        if !forbidden || significant.get(i + 1) != Some(&&Token::LParen) {
            continue;
        }
        let not_a_call = i.checked_sub(1).and_then(|p| significant.get(p)).is_some_and(|prev| {
            matches!(prev, Token::Period)
                || matches!(prev, Token::Word(w) if matches!(w.keyword, Keyword::INTO | Keyword::AS))
        });
        if !not_a_call {
            return Err(Refusal::ForbiddenFunction {
                name: word.value.clone(),
            });
        }
    }
    Ok(())
}

/// Whether a token is whitespace or a comment.
fn is_whitespace(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

#[cfg(test)]
mod tests;
