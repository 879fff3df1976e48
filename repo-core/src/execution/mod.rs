//! Execution: the [`Executor`](crate::Executor) at the end of every stack, its writer (one
//! connection, a time budget, SQLite's limits), hooked execution and group commit, the
//! registry of named transactions, and the boxed stack type.

pub(crate) mod committer;
pub(crate) mod executor;
pub(crate) mod hooked;
pub(crate) mod joined;
pub(crate) mod ledger;
pub(crate) mod round_trip;
pub(crate) mod sqlite_arrays;
pub(crate) mod stack;
pub(crate) mod statement_hook;
pub(crate) mod transaction;
pub(crate) mod writer;
