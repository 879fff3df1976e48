//! The functions a forwarded statement may not call, found on the token stream.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::tokens::significant;
use super::{Rejection, SqlDialect};

/// PostgreSQL functions a forwarded statement may not call, in lower case (beyond every
/// name starting with one of [`POSTGRES_FORBIDDEN_PREFIXES`]).
///
/// `ts_stat` and `ts_rewrite` run SQL given as text (as `query_to_xml` does); the BRIN and
/// GIN maintenance functions rewrite index pages.
const POSTGRES_FORBIDDEN_FUNCTIONS: &[&str] = &[
    "set_config",
    "setval",
    "dblink",
    "ts_stat",
    "ts_rewrite",
    "brin_summarize_new_values",
    "brin_summarize_range",
    "brin_desummarize_range",
    "gin_clean_pending_list",
];

/// Prefixes of PostgreSQL function names a forwarded statement may not call: the server's
/// own administrative functions (`pg_terminate_backend`, `pg_advisory_lock`, `pg_sleep`,
/// `pg_read_file`, ...), large objects, `dblink_*`, and the functions that run SQL given
/// as a string (which would carry any call past this check).
const POSTGRES_FORBIDDEN_PREFIXES: &[&str] = &[
    "pg_",
    "lo_",
    "dblink_",
    "query_to_xml",
    "cursor_to_xml",
    "table_to_xml",
    "schema_to_xml",
    "database_to_xml",
];

/// Whether `name` is a function `dialect` refuses.
fn forbidden(name: &str, dialect: SqlDialect) -> bool {
    match dialect {
        SqlDialect::Sqlite => FORBIDDEN_FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name)),
        SqlDialect::Postgres => {
            POSTGRES_FORBIDDEN_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(name))
                || POSTGRES_FORBIDDEN_PREFIXES.iter().any(|prefix| {
                    name.get(..prefix.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                })
        }
    }
}

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
    // One call of these can run for minutes inside SQLite's C code, where the statement
    // budget cannot interrupt it (the progress handler runs between VM instructions): a
    // search or substitution costs the product of its arguments' lengths (`instr`,
    // `replace`), or it makes large values out of a few bytes (`randomblob`, `zeroblob`,
    // `printf`/`format` with a width). The ORM binds values and never needs them.
    "instr",
    "replace",
    "randomblob",
    "zeroblob",
    "printf",
    "format",
];

/// Refuses a call of a [`FORBIDDEN_FUNCTIONS`] member anywhere in the statement.
///
/// A call is a name followed by `(`. The name is not a call when it follows `.` (SQLite
/// has no qualified function names, so that is `schema.table (columns)`), `INTO` (the
/// insert target and its column list) or `AS` (an alias or a type name).
pub(super) fn check_function_calls(
    tokens: &[TokenWithSpan],
    dialect: SqlDialect,
) -> Result<(), Rejection> {
    let mut tokens = significant(tokens).map(|(_, token)| token);
    let mut previous: Option<&Token> = None;
    let mut current = tokens.next();
    while let Some(token) = current {
        let next = tokens.next();
        if let Token::Word(word) = token
            && next == Some(&Token::LParen)
            && forbidden(&word.value, dialect)
            && !previous.is_some_and(|p| names_a_table_or_type(p, dialect))
        {
            return Err(Rejection::forbidden_function(&word.value));
        }
        previous = Some(token);
        current = next;
    }
    Ok(())
}

/// Whether a name after this token is a table, an alias or a type rather than a function.
/// PostgreSQL qualifies function names (`pg_catalog.pg_sleep(1)`), so there a name after
/// `.` is taken as a call (a `schema.pg_…` table is refused as a target anyway).
fn names_a_table_or_type(previous: &Token, dialect: SqlDialect) -> bool {
    (matches!(previous, Token::Period) && dialect == SqlDialect::Sqlite)
        || matches!(previous, Token::Word(w) if matches!(w.keyword, Keyword::INTO | Keyword::AS))
}
