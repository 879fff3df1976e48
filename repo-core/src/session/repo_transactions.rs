//! sea-orm's `TransactionTrait` on [`Repo`]: `begin` and `transaction` on any node.

use std::future::Future;
use std::pin::Pin;

use sea_orm::{
    AccessMode, DbErr, IsolationLevel, TransactionError, TransactionOptions, TransactionTrait,
};

use crate::error::RepoError;
use crate::repo::Repo;
use crate::session::transaction::run_in;
use crate::session::{LocalSession, RepoTransaction, TransactionLimits};

impl Repo {
    /// Begins an interactive transaction bounded by `limits` instead of the repository's
    /// default [`TransactionLimits`].
    ///
    /// # Errors
    ///
    /// [`RepoError::Timeout`] when the writer stayed busy past the maximum duration, a
    /// transport error when the primary cannot be reached, a database error when `BEGIN`
    /// fails.
    pub async fn begin_with_limits(
        &self,
        limits: TransactionLimits,
    ) -> Result<RepoTransaction, RepoError> {
        let executor = self.executor();
        let session = match self.session_opener() {
            Some(opener) => opener.open(&executor, limits).await?,
            None => std::sync::Arc::new(LocalSession::begin(&executor, limits).await?),
        };
        Ok(RepoTransaction::new(self.clone(), session))
    }

    /// Runs `callback` in an interactive transaction bounded by `limits`: committed when it
    /// returns `Ok`, rolled back when it returns `Err` (as sea-orm's
    /// `TransactionTrait::transaction`).
    ///
    /// ```no_run
    /// # async fn demo(repo: repo_core::Repo) -> Result<(), sea_orm::TransactionError<sea_orm::DbErr>> {
    /// use std::time::Duration;
    /// use repo_core::TransactionLimits;
    /// use sea_orm::ConnectionTrait;
    /// let limits = TransactionLimits::default().max_duration(Duration::from_secs(1));
    /// repo.transaction_with_limits::<_, _, sea_orm::DbErr>(limits, |txn| {
    ///     Box::pin(async move {
    ///         txn.execute_unprepared("UPDATE posts SET view_count = view_count + 1").await?;
    ///         Ok(())
    ///     })
    /// })
    /// .await
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As sea-orm's: `TransactionError::Connection` when beginning or committing failed,
    /// `TransactionError::Transaction` with the callback's error.
    pub async fn transaction_with_limits<F, T, E>(
        &self,
        limits: TransactionLimits,
        callback: F,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c RepoTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self
            .begin_with_limits(limits)
            .await
            .map_err(|e| TransactionError::Connection(e.into_db_err()))?;
        run_in(txn, callback).await
    }
}

/// sea-orm's transactions on `&repo`, held where this node writes (see
/// [`RepoTransaction`]); bounded by the repository's default [`TransactionLimits`].
/// SQLite has no per-transaction isolation level or access mode: those settings are
/// ignored, and every transaction begins `IMMEDIATE` (it holds the write lock from the
/// start, so a read followed by a write never fails with `SQLITE_BUSY`).
#[async_trait::async_trait]
impl TransactionTrait for Repo {
    type Transaction = RepoTransaction;

    async fn begin(&self) -> Result<RepoTransaction, DbErr> {
        self.begin_with_limits(self.transaction_limits())
            .await
            .map_err(RepoError::into_db_err)
    }

    async fn begin_with_config(
        &self,
        _isolation_level: Option<IsolationLevel>,
        _access_mode: Option<AccessMode>,
    ) -> Result<RepoTransaction, DbErr> {
        self.begin().await
    }

    async fn begin_with_options(
        &self,
        _options: TransactionOptions,
    ) -> Result<RepoTransaction, DbErr> {
        self.begin().await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c RepoTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.transaction_with_limits(self.transaction_limits(), callback)
            .await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        _isolation_level: Option<IsolationLevel>,
        _access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c RepoTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.transaction_with_limits(self.transaction_limits(), callback)
            .await
    }
}
