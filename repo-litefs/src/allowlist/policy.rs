//! The limits and switches a primary applies to forwarded statements, with their defaults.

/// The highest parenthesis nesting a policy may allow; [`AllowlistPolicy::max_nesting`]
/// clamps to it. The pre-scan keeps one small record per open parenthesis on the stack, and
/// `sqlparser`'s recursion limit refuses far shallower nesting anyway.
pub const NESTING_CEILING: usize = 256;

/// What the primary accepts from a replica besides the statement rules themselves: the
/// bounds on a statement's size and shape, and whether recursive CTEs may run.
///
/// Every bound is checked by an allocation-free scan of the text *before* it is tokenized,
/// and again on the tokens before they are parsed, so no input makes parsing crash or
/// balloon. The defaults accept everything sea-orm generates (a 3,000-row, 10-column
/// `INSERT` of placeholders included) and refuse what SQLite would refuse anyway.
///
/// ```
/// use repo_litefs::allowlist::AllowlistPolicy;
///
/// let policy = AllowlistPolicy::default()
///     .max_sql_len(256 * 1024)
///     .allow_recursive_cte(true);
/// assert_eq!(policy.sql_len_limit(), 256 * 1024);
/// assert_eq!(policy.token_limit(), 200_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllowlistPolicy {
    /// Longest statement text in bytes; the first and cheapest bound.
    max_sql_len: usize,
    /// Most tokens the statement may have, counted from above before tokenizing, which
    /// bounds the memory tokenizing and parsing take.
    max_tokens: usize,
    /// Deepest parenthesis nesting, which bounds the parser's recursion.
    max_nesting: usize,
    /// Longest operator chain in one expression (plus the depth of what it nests), which
    /// bounds the depth of the expression tree the parser builds without recursing.
    max_expr_depth: usize,
    /// Whether a recursive common table expression may run on the primary.
    allow_recursive_cte: bool,
    /// The SQL dialect statements are parsed in, and whose reserved names and dangerous
    /// functions are refused.
    dialect: SqlDialect,
}

/// The SQL dialect of forwarded statements: which parser reads them, and which reserved
/// tables and functions with side effects the allowlist refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SqlDialect {
    /// SQLite (LiteFS): the `sqlite_` namespace and SQLite's file and extension functions
    /// are refused.
    #[default]
    Sqlite,
    /// PostgreSQL: the `pg_catalog`, `information_schema` and `pg_` names, and the
    /// server's administrative functions (`pg_*`, advisory locks, `set_config`, large
    /// objects, `dblink`, SQL run from strings) are refused.
    Postgres,
}

impl AllowlistPolicy {
    /// Default [`max_sql_len`](Self::max_sql_len): 1 MiB.
    pub const DEFAULT_MAX_SQL_LEN: usize = 1 << 20;
    /// Default [`max_tokens`](Self::max_tokens): 200,000, room for an insert with SQLite's maximum of 32,766 bound values.
    pub const DEFAULT_MAX_TOKENS: usize = 200_000;
    /// Default [`max_nesting`](Self::max_nesting): 100.
    pub const DEFAULT_MAX_NESTING: usize = 100;
    /// Default [`max_expr_depth`](Self::max_expr_depth): 1,000, SQLite's own
    /// `SQLITE_MAX_EXPR_DEPTH`, so a longer chain would be refused by SQLite anyway.
    pub const DEFAULT_MAX_EXPR_DEPTH: usize = 1_000;

    /// The longest statement text accepted, in bytes (default 1 MiB).
    pub fn max_sql_len(mut self, bytes: usize) -> Self {
        self.max_sql_len = bytes;
        self
    }

    /// The most tokens a statement may have (default 200,000), counted from above before
    /// tokenizing: a run of letters, digits and `_` is one token (two if it starts with a
    /// digit), any other character is one, whitespace included (the tokenizer stores each
    /// whitespace character as a token) and inside literals and comments too. A 3,000-row,
    /// 10-column `INSERT` of `?` placeholders counts about 96,000.
    pub fn max_tokens(mut self, tokens: usize) -> Self {
        self.max_tokens = tokens;
        self
    }

    /// The deepest parenthesis nesting accepted (default 100, at most [`NESTING_CEILING`]).
    pub fn max_nesting(mut self, depth: usize) -> Self {
        self.max_nesting = depth.min(NESTING_CEILING);
        self
    }

    /// The deepest expression accepted (default 1,000): the number of operators chained in
    /// one expression (`+`, `||`, `AND`, `COLLATE`, `IS`, ...) plus the depth of the
    /// parenthesised expressions it contains. Items of a list (`VALUES (?, ?)`, arguments,
    /// `SET a = ?, b = ?`) are separate expressions.
    pub fn max_expr_depth(mut self, depth: usize) -> Self {
        self.max_expr_depth = depth;
        self
    }

    /// Whether recursive common table expressions may be forwarded (default `false`).
    ///
    /// A recursive CTE can loop forever (`WITH c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM
    /// c) ...`) while holding the primary's write lock. Allow them only when every
    /// statement also runs under a time budget.
    pub fn allow_recursive_cte(mut self, allow: bool) -> Self {
        self.allow_recursive_cte = allow;
        self
    }

    /// The SQL dialect statements are parsed and checked in (default
    /// [`SqlDialect::Sqlite`]).
    pub fn dialect(mut self, dialect: SqlDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The dialect statements are parsed in.
    pub fn sql_dialect(&self) -> SqlDialect {
        self.dialect
    }

    /// The statement length limit in bytes.
    pub fn sql_len_limit(&self) -> usize {
        self.max_sql_len
    }

    /// The token count limit.
    pub fn token_limit(&self) -> usize {
        self.max_tokens
    }

    /// The parenthesis nesting limit.
    pub fn nesting_limit(&self) -> usize {
        self.max_nesting
    }

    /// The expression depth limit.
    pub fn expr_depth_limit(&self) -> usize {
        self.max_expr_depth
    }

    /// Whether recursive CTEs are allowed.
    pub fn recursive_cte_allowed(&self) -> bool {
        self.allow_recursive_cte
    }
}

impl Default for AllowlistPolicy {
    fn default() -> Self {
        Self {
            max_sql_len: Self::DEFAULT_MAX_SQL_LEN,
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            max_nesting: Self::DEFAULT_MAX_NESTING,
            max_expr_depth: Self::DEFAULT_MAX_EXPR_DEPTH,
            allow_recursive_cte: false,
            dialect: SqlDialect::Sqlite,
        }
    }
}
