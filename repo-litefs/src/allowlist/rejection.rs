//! Why a forwarded statement was refused: a typed reason with a bounded message.

use repo_core::{RejectedStatement, StatementRule};

use super::excerpt::{EXCERPT_LEN, sanitize};

/// Why a statement was refused.
///
/// Every message is bounded: text taken from the statement (the parser's explanation, a
/// name) is cut to [`EXCERPT_LEN`] characters with control characters escaped, so a
/// refusal never echoes unbounded input into a gRPC status or a log line. Build the
/// text-carrying variants with [`Rejection::unparsable`] and friends, which do that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The text is not SQL that the SQLite dialect of `sqlparser` understands.
    #[error("statement could not be parsed: {reason}")]
    Unparsable {
        /// The parser's explanation, bounded and escaped.
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
    #[error(
        "{kind} statements may not be forwarded; only INSERT (or SQLite's REPLACE), UPDATE and DELETE, alone or under a WITH clause"
    )]
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
        /// The table's name as written, bounded and escaped.
        table: String,
    },
    /// The statement calls a function that reaches outside the database.
    #[error("the function {name} may not be called")]
    ForbiddenFunction {
        /// The function's name as written, bounded and escaped.
        name: String,
    },
    /// The statement text is longer than the policy allows.
    #[error(
        "the statement is longer than {limit} bytes \
         (AllowlistPolicy::max_sql_len on the primary)"
    )]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The statement has more tokens than the policy allows.
    #[error(
        "the statement has more than {limit} tokens \
         (AllowlistPolicy::max_tokens on the primary)"
    )]
    TooManyTokens {
        /// The limit in tokens.
        limit: usize,
    },
    /// The statement nests parentheses deeper than the policy allows.
    #[error(
        "the statement nests parentheses deeper than {limit} \
         (AllowlistPolicy::max_nesting on the primary)"
    )]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// An expression chains more operators than the policy allows.
    #[error(
        "an expression in the statement is deeper than {limit} operators \
         (AllowlistPolicy::max_expr_depth on the primary; SQLite's own limit is 1000)"
    )]
    TooComplex {
        /// The expression depth limit.
        limit: usize,
    },
    /// The statement holds a recursive common table expression, which may run forever.
    #[error(
        "recursive common table expressions may not be forwarded \
         (AllowlistPolicy::allow_recursive_cte on the primary)"
    )]
    RecursiveCte,
}

impl Rejection {
    /// [`Rejection::Unparsable`] with `reason` bounded and escaped.
    pub fn unparsable(reason: &str) -> Self {
        Self::Unparsable {
            reason: sanitize(reason, EXCERPT_LEN),
        }
    }

    /// [`Rejection::NotDataChanging`] with `kind` bounded and escaped.
    pub fn not_data_changing(kind: &str) -> Self {
        Self::NotDataChanging {
            kind: sanitize(kind, EXCERPT_LEN),
        }
    }

    /// [`Rejection::SystemTable`] with `table` bounded and escaped.
    pub fn system_table(table: &str) -> Self {
        Self::SystemTable {
            table: sanitize(table, EXCERPT_LEN),
        }
    }

    /// [`Rejection::ForbiddenFunction`] with `name` bounded and escaped.
    pub fn forbidden_function(name: &str) -> Self {
        Self::ForbiddenFunction {
            name: sanitize(name, EXCERPT_LEN),
        }
    }

    /// The rule this refusal enforces, as the stable code a replica receives.
    pub fn rule(&self) -> StatementRule {
        match self {
            Self::Unparsable { .. } => StatementRule::Unparsable,
            Self::Empty => StatementRule::Empty,
            Self::SeveralStatements { .. } => StatementRule::SeveralStatements,
            Self::NotDataChanging { .. } => StatementRule::NotDataChanging,
            Self::UnsupportedTarget => StatementRule::UnsupportedTarget,
            Self::SystemTable { .. } => StatementRule::SystemTable,
            Self::ForbiddenFunction { .. } => StatementRule::ForbiddenFunction,
            Self::TooLong { .. } => StatementRule::TooLong,
            Self::TooManyTokens { .. } => StatementRule::TooManyTokens,
            Self::TooDeep { .. } => StatementRule::TooDeep,
            Self::TooComplex { .. } => StatementRule::TooComplex,
            Self::RecursiveCte => StatementRule::RecursiveCte,
        }
    }
}

/// A refusal as `repo-core` carries it: its rule and its (already bounded) message.
impl From<&Rejection> for RejectedStatement {
    fn from(refusal: &Rejection) -> Self {
        RejectedStatement::new(refusal.rule(), &refusal.to_string())
    }
}
