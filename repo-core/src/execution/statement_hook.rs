//! `StatementHook`: a transaction hook whose work is in-memory checks and statements, so
//! that the group commit can send it to the database together with the writes.

use sea_orm::Statement;

use crate::error::RepoError;
use crate::request::Request;
use crate::response::Response;

/// A [`TransactionHook`](crate::spi::TransactionHook) said as checks and statements, offered
/// by [`TransactionHook::as_statements`](crate::spi::TransactionHook::as_statements).
///
/// A hook that needs the transaction object between statements (to read, say) cannot be
/// said this way; one that only checks state in memory before a write and adds rows after
/// it (a ledger) can, and then the executor runs `BEGIN` with the writes in one call to
/// SQLite's worker thread and the hook's statements with `COMMIT` in a second, instead of
/// one call per statement (see docs/BENCHMARKS.md, "Issue 17"). Its answers must be the
/// hook's own: [`check`](Self::check) refuses what
/// [`before`](crate::spi::TransactionHook::before) refuses (and `before` never answers in
/// place of a request), and [`statements`](Self::statements) writes what
/// [`after_group`](crate::spi::TransactionHook::after_group) writes.
pub trait StatementHook: Send + Sync {
    /// Checked before `request` runs, touching no database: an error refuses it, and
    /// nothing of its group commits.
    fn check(&self, request: &Request) -> Result<(), RepoError>;

    /// The statements to run after every request of a group ran, in the same transaction,
    /// just before its commit (each request with its response); an error rolls the group
    /// back. Each must be one statement with a positional `?` per value to be sent with the
    /// commit; otherwise the group runs again the hook's own way.
    fn statements(&self, ran: &[(&Request, Response)]) -> Result<Vec<Statement>, RepoError>;
}
