//! Interactive transactions: sea-orm's own `TransactionTrait` on `&repo`.
//!
//! `repo.begin()` and `repo.transaction(|txn| …)` return a [`RepoTransaction`], which
//! implements sea-orm's `ConnectionTrait`, `TransactionTrait` (nested `begin` as
//! savepoints) and `TransactionSession` (`commit`, `rollback`): unchanged sea-orm code
//! compiles against `&repo`, as long as it names the transaction type generically
//! (`&impl ConnectionTrait`, `&C::Transaction`) rather than `&DatabaseTransaction`.
//! sea-orm's `TransactionTrait` only asks its `Transaction` type to implement those three
//! traits, so no sea-orm `DatabaseTransaction` (which cannot wrap a remote connection
//! without the `proxy` feature, which does not build) is needed.
//!
//! The transaction is held by a [`Session`]: by default a [`LocalSession`] on this node's
//! writer; a transport may set a [`SessionOpener`] (the LiteFS node holds it on the
//! primary over one gRPC stream when it is a replica). Either way the rules of
//! [`TransactionLimits`] and [`ExpiryCause`] apply.
//!
//! Prefer a [`crate::NamedTransaction`] when the transaction's logic can be registered on
//! every node: one round trip, and no write lock held across the network. An interactive
//! one holds the primary's writer for its whole duration (every other write in the cluster
//! waits), but takes any code as it is.

mod expiry;
mod handle;
mod limits;
mod local;
mod repo_transactions;
mod transaction;

pub use expiry::ExpiryCause;
pub use handle::{Session, SessionOpener, SessionStep};
pub use limits::TransactionLimits;
pub use local::LocalSession;
pub use transaction::RepoTransaction;
