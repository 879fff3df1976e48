//! `SqliteLimits`: SQLite's run-time limits on the connection that executes writes.

use sea_orm::sqlx::sqlite::SqliteConnection;
use sqlite_limits::{Limit, set_limit};

/// SQLite's run-time limits on the writer connection, which runs every write of this node:
/// local ones and those forwarded from replicas. They bound what one statement can make
/// SQLite do, whatever its text: a value longer than `length` fails with `SQLITE_TOOBIG`
/// (so a 75-byte `zeroblob(67108864)` cannot store 64 MiB that LiteFS would ship to every
/// replica), deeper expressions or longer compound selects fail to prepare.
///
/// Defaults (SQLite's own in brackets): `length` 16 MiB (1 GB), `sql_length` 1 MiB (1 GB),
/// `expr_depth` 1,000 (1,000), `compound_select` 500 (500), `variable_number` 32,766
/// (32,766), `trigger_depth` 100 (1,000), `like_pattern_length` 1,000 (50,000: a pattern of
/// 20,000 `%` overflowed the stack of sqlx's worker thread in SQLite's recursive matcher and
/// aborted the process). SQLite
/// clamps a value above its compile-time maximum to that maximum.
///
/// ```
/// use repo_core::SqliteLimits;
/// let limits = SqliteLimits::default().length(64 * 1024 * 1024); // 64 MiB blobs allowed
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteLimits {
    length: i32,
    sql_length: i32,
    expr_depth: i32,
    compound_select: i32,
    variable_number: i32,
    trigger_depth: i32,
    like_pattern_length: i32,
}

impl Default for SqliteLimits {
    fn default() -> Self {
        Self {
            length: 16 * 1024 * 1024,
            sql_length: 1024 * 1024,
            expr_depth: 1_000,
            compound_select: 500,
            variable_number: 32_766,
            trigger_depth: 100,
            like_pattern_length: 1_000,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(mut self, value: u32) -> Self {
            self.$name = i32::try_from(value).unwrap_or(i32::MAX);
            self
        }
    };
}

impl SqliteLimits {
    setter!(
        /// Largest string or BLOB value, and so the largest row, in bytes (default 16 MiB).
        length
    );
    setter!(
        /// Longest SQL text, in bytes (default 1 MiB).
        sql_length
    );
    setter!(
        /// Deepest expression tree (default 1,000).
        expr_depth
    );
    setter!(
        /// Most terms of a compound `SELECT` (default 500).
        compound_select
    );
    setter!(
        /// Highest parameter number, that is most bound values per statement (default 32,766).
        variable_number
    );
    setter!(
        /// Deepest recursion of triggers (default 100).
        trigger_depth
    );
    setter!(
        /// Longest `LIKE`/`GLOB` pattern, in bytes (default 1,000; SQLite's matcher recurses on
        /// each `%`, on sqlx's worker thread's stack).
        like_pattern_length
    );

    /// Sets every limit on `conn`.
    pub(crate) async fn apply(
        &self,
        conn: &mut SqliteConnection,
    ) -> Result<(), sea_orm::sqlx::Error> {
        let mut handle = conn.lock_handle().await?;
        for (limit, value) in [
            (Limit::Length, self.length),
            (Limit::SqlLength, self.sql_length),
            (Limit::ExprDepth, self.expr_depth),
            (Limit::CompoundSelect, self.compound_select),
            (Limit::VariableNumber, self.variable_number),
            (Limit::TriggerDepth, self.trigger_depth),
            (Limit::LikePatternLength, self.like_pattern_length),
        ] {
            set_limit(&mut handle, limit, value);
        }
        Ok(())
    }
}
