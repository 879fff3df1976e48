//! `Session` and `SessionOpener`: the seam between [`crate::RepoTransaction`] and whatever
//! holds its database transaction (this node's writer, or a stream to the primary).

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::error::RepoError;
use crate::executor::Executor;
use crate::request::Operation;
use crate::response::Outcome;
use crate::session::TransactionLimits;

/// One step of an interactive transaction, as data.
#[derive(Debug, Clone)]
pub enum SessionStep {
    /// A statement: [`Operation::Execute`] or [`Operation::Query`]; other operations are
    /// refused.
    Statement(Operation),
    /// Opens savepoint `n` (a nested `begin`); the holder names it, never the caller.
    Savepoint(u32),
    /// Releases savepoint `n` (a nested commit).
    Release(u32),
    /// Rolls back to savepoint `n` and releases it (a nested rollback).
    RollbackTo(u32),
}

/// An open interactive transaction, wherever it is held. Every method fails with
/// [`RepoError::TransactionExpired`] once the transaction is over.
pub trait Session: Send + Sync + fmt::Debug {
    /// Runs one step inside the transaction.
    fn step(&self, step: SessionStep) -> BoxFuture<'_, Result<Outcome, RepoError>>;

    /// Commits the transaction (and, on a replica, waits to read its own writes).
    fn commit(&self) -> BoxFuture<'_, Result<(), RepoError>>;

    /// Rolls the transaction back.
    fn rollback(&self) -> BoxFuture<'_, Result<(), RepoError>>;

    /// Without waiting: rolls back to savepoint `n` (a nested transaction dropped
    /// unfinished), or the whole transaction when `n` is 0.
    fn abandon(&self, n: u32);
}

/// Opens interactive transactions for a repository: set by a transport (the LiteFS node
/// opens them on the primary over a stream when it is a replica). Without one, a
/// repository holds them on its own executor's writer ([`crate::spi::LocalSession`]).
pub trait SessionOpener: Send + Sync + fmt::Debug {
    /// Begins a transaction bounded by `limits`; `executor` is the repository's own.
    fn open<'a>(
        &'a self,
        executor: &'a Executor,
        limits: TransactionLimits,
    ) -> BoxFuture<'a, Result<Arc<dyn Session>, RepoError>>;
}
