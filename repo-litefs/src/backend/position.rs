//! `ReplicationPosition`: how far a database has come, as one number that only grows
//! along one primary's history (LiteFS's TXID, PostgreSQL's WAL LSN).

use std::fmt;

use futures::future::BoxFuture;

/// A backend's replication position, for read-your-writes: the primary reports
/// [`ReplicationPosition::committed`] with each answer, and a replica waits until
/// [`ReplicationPosition::reached`] says yes (bounded: a position may go backwards after a
/// failover, so the forwarding layer trusts it only while the same primary answers).
pub trait ReplicationPosition: fmt::Debug + Send + Sync {
    /// On the primary, right after a commit: a position at or beyond that commit
    /// (`None` when it cannot be read now).
    fn committed(&self) -> BoxFuture<'_, Option<u64>>;

    /// On a replica: whether this node has applied everything up to `target`. A read
    /// error counts as "not yet".
    fn reached(&self, target: u64) -> BoxFuture<'_, bool>;
}
