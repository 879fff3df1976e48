//! Named transactions: multi-statement writes that can run on another node.
//!
//! A closure cannot cross the network, so a transaction is a type with a stable name and
//! serde arguments. Every node registers the same types; a replica sends the name and the
//! encoded arguments, and the node that executes runs it in one database transaction.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{DatabaseTransaction, DbErr};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RepoError;

/// A write transaction that can be run by name, here or on the primary.
///
/// ```
/// use repo_core::NamedTransaction;
/// use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Statement};
///
/// struct BumpViews;
///
/// impl NamedTransaction for BumpViews {
///     const NAME: &'static str = "bump_views.v1";
///     type Args = i32;
///     type Output = u64;
///
///     async fn run(txn: &DatabaseTransaction, post_id: i32) -> Result<u64, DbErr> {
///         let stmt = Statement::from_sql_and_values(
///             txn.get_database_backend(),
///             "UPDATE posts SET view_count = view_count + 1 WHERE id = ?",
///             [post_id.into()],
///         );
///         Ok(txn.execute_raw(stmt).await?.rows_affected())
///     }
/// }
/// ```
pub trait NamedTransaction: Send + Sync + 'static {
    /// The stable name it is registered and sent under; version it (`"publish_post.v1"`)
    /// when its arguments change, since nodes may run different releases during a deploy.
    const NAME: &'static str;
    /// Its arguments, JSON-encoded on the way.
    type Args: Serialize + DeserializeOwned + Send + 'static;
    /// What it returns, JSON-encoded on the way back.
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// The body. Returning an error rolls back everything it wrote.
    fn run(
        txn: &DatabaseTransaction,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, DbErr>> + Send;
}

/// A registered transaction with its types erased, so that a name can find it.
trait ErasedTransaction: Send + Sync {
    fn run<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        args: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, RepoError>>;
}

struct Registered<T>(PhantomData<fn() -> T>);

impl<T: NamedTransaction> ErasedTransaction for Registered<T> {
    fn run<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        args: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, RepoError>> {
        Box::pin(async move {
            let args: T::Args = decode(T::NAME, "arguments", args)?;
            let output =
                T::run(txn, args)
                    .await
                    .map_err(|source| RepoError::TransactionFailed {
                        name: T::NAME.into(),
                        source,
                    })?;
            encode(T::NAME, "output", &output)
        })
    }
}

/// The named transactions a repository knows, by name.
#[derive(Clone, Default)]
pub struct TransactionRegistry {
    /// Name → type-erased runner.
    by_name: HashMap<&'static str, Arc<dyn ErasedTransaction>>,
}

impl std::fmt::Debug for TransactionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

impl TransactionRegistry {
    /// Registers `T` under `T::NAME`, replacing any transaction of the same name.
    pub fn register<T: NamedTransaction>(&mut self) {
        self.by_name
            .insert(T::NAME, Arc::new(Registered::<T>(PhantomData)));
    }

    /// Whether a transaction is registered under `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every registered name.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Runs the transaction registered as `name` inside `txn` (the caller commits).
    pub async fn run(
        &self,
        name: &str,
        txn: &DatabaseTransaction,
        args: &[u8],
    ) -> Result<Vec<u8>, RepoError> {
        let tx = self
            .by_name
            .get(name)
            .ok_or_else(|| RepoError::UnknownTransaction(name.to_owned()))?;
        tx.run(txn, args).await
    }
}

/// JSON-encodes a transaction's arguments or output.
pub(crate) fn encode<V: Serialize>(
    name: &str,
    what: &str,
    value: &V,
) -> Result<Vec<u8>, RepoError> {
    serde_json::to_vec(value)
        .map_err(|e| RepoError::Codec(format!("cannot encode the {what} of `{name}`: {e}")))
}

/// Decodes a transaction's JSON-encoded arguments or output.
pub(crate) fn decode<V: DeserializeOwned>(
    name: &str,
    what: &str,
    bytes: &[u8],
) -> Result<V, RepoError> {
    serde_json::from_slice(bytes)
        .map_err(|e| RepoError::Codec(format!("cannot decode the {what} of `{name}`: {e}")))
}
