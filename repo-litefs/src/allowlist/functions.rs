//! The functions a forwarded statement may not call, found on the token stream.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::Rejection;
use super::tokens::significant;

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
pub(super) fn check_function_calls(tokens: &[TokenWithSpan]) -> Result<(), Rejection> {
    let mut tokens = significant(tokens).map(|(_, token)| token);
    let mut previous: Option<&Token> = None;
    let mut current = tokens.next();
    while let Some(token) = current {
        let next = tokens.next();
        if let Token::Word(word) = token
            && next == Some(&Token::LParen)
            && FORBIDDEN_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(&word.value))
            && !previous.is_some_and(names_a_table_or_type)
        {
            return Err(Rejection::forbidden_function(&word.value));
        }
        previous = Some(token);
        current = next;
    }
    Ok(())
}

/// Whether a name after this token is a table, an alias or a type rather than a function.
fn names_a_table_or_type(previous: &Token) -> bool {
    matches!(previous, Token::Period)
        || matches!(previous, Token::Word(w) if matches!(w.keyword, Keyword::INTO | Keyword::AS))
}
