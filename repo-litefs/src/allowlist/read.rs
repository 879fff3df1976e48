//! `check_read_with`: what a read inside an interactive transaction may be — one query,
//! under the same bounds and function rules as a write.

use sqlparser::ast::Statement;
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{AllowlistPolicy, RECURSION_LIMIT, Rejection, cte, functions, tokens};

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
    super::check_bounds(sql, policy)?;
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Rejection::unparsable(&e.to_string()))?;
    tokens::check_tokens(&tokens, policy)?;
    let mut parser = Parser::new(&dialect)
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
    match statements.as_slice() {
        [] => return Err(Rejection::Empty),
        [Statement::Query(_)] => {}
        [_] => {
            return Err(Rejection::not_data_changing(
                "a statement that is not a query",
            ));
        }
        several => {
            return Err(Rejection::SeveralStatements {
                count: several.len(),
            });
        }
    }
    functions::check_function_calls(&tokens)?;
    if !policy.recursive_cte_allowed() && cte::has_recursive_cte(&tokens) {
        return Err(Rejection::RecursiveCte);
    }
    Ok(())
}
