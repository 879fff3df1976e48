//! `RepoTransaction`: sea-orm's transaction API on a repository, wherever the transaction
//! is held.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult,
    Statement, TransactionError, TransactionOptions, TransactionSession, TransactionTrait,
};

use crate::error::RepoError;
use crate::repo::Repo;
use crate::request::{Fetch, Operation};
use crate::response::Outcome;
use crate::row::{RowShape, into_exec_result, into_query_results};
use crate::session::{Session, SessionStep};
use crate::statement::{StatementKind, classify, read_table};

/// An open interactive transaction of a [`Repo`]: what `repo.begin()` returns and what a
/// `repo.transaction(|txn| …)` closure receives. sea-orm code runs against it unchanged
/// (`ConnectionTrait`, nested `begin` as savepoints, `commit`, `rollback`).
///
/// On the primary it is a transaction on the node's writer; on a replica every statement —
/// reads included, so a read sees the transaction's own writes — runs on the primary over
/// one stream. Rows come back typed by the registered entity of the table a statement
/// reads or writes ([`crate::RepoBuilder::entity`]); other columns by SQLite's storage
/// class. Dropped without a commit, it rolls back (a nested one, to its savepoint).
///
/// It is bounded by [`crate::TransactionLimits`]: past them it is rolled back and every
/// later statement fails with [`RepoError::TransactionExpired`] (as `DbErr::Custom` with
/// that message through sea-orm's API; [`RepoTransaction::is_expired_error`] recognises
/// it).
#[derive(Debug)]
pub struct RepoTransaction {
    /// For the backend, the entities' row shapes and `RETURNING`.
    repo: Repo,
    /// Holds the database transaction: on this node's writer or over a stream.
    session: Arc<dyn Session>,
    /// 0 for the transaction itself, `n` for the savepoint of the `n`-th nested `begin`.
    depth: u32,
    /// Whether it is still open (not committed or rolled back): a drop then rolls back.
    open: AtomicBool,
}

impl RepoTransaction {
    pub(crate) fn new(repo: Repo, session: Arc<dyn Session>) -> Self {
        Self {
            repo,
            session,
            depth: 0,
            open: AtomicBool::new(true),
        }
    }

    /// Whether `err` (as sea-orm's API returns it) says that the transaction expired or was
    /// aborted by a failover: the whole transaction should run again.
    pub fn is_expired_error(err: &DbErr) -> bool {
        matches!(err, DbErr::Custom(m) if m.starts_with("transaction expired")
            || m.starts_with("transaction aborted"))
    }

    /// Runs `step`, with non-database errors described to sea-orm.
    async fn step(&self, step: SessionStep) -> Result<Outcome, DbErr> {
        self.session
            .step(step)
            .await
            .map_err(RepoError::into_db_err)
    }

    /// The row shape of the table `sql` writes or reads, when its entity is registered.
    fn shape(&self, sql: &str) -> Option<Arc<RowShape>> {
        let table = match classify(sql) {
            StatementKind::Write(write) => Some(write.table),
            StatementKind::Read => read_table(sql),
        }?;
        self.repo.shape_for_table(&table)
    }

    async fn query(&self, stmt: Statement, fetch: Fetch) -> Result<Vec<QueryResult>, DbErr> {
        let shape = self.shape(&stmt.sql);
        let operation = Operation::Query {
            statement: stmt,
            shape,
            fetch,
        };
        match self.step(SessionStep::Statement(operation)).await? {
            Outcome::Rows(rows) => into_query_results(rows).await,
            other => Err(unexpected("rows", &other)),
        }
    }

    fn close(&self) -> bool {
        self.open.swap(false, Ordering::SeqCst)
    }
}

fn unexpected(wanted: &str, got: &Outcome) -> DbErr {
    DbErr::Custom(format!("expected {wanted} in the response, got {got:?}"))
}

impl Drop for RepoTransaction {
    fn drop(&mut self) {
        if self.close() {
            self.session.abandon(self.depth);
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for RepoTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.repo.connection().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self
            .step(SessionStep::Statement(Operation::Execute(stmt)))
            .await?
        {
            Outcome::Executed(summary) => into_exec_result(summary).await,
            other => Err(unexpected("a statement", &other)),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let stmt = Statement::from_string(self.get_database_backend(), sql);
        self.execute_raw(stmt).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query(stmt, Fetch::One).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.query(stmt, Fetch::All).await
    }

    fn support_returning(&self) -> bool {
        self.repo.sea_orm_returning()
    }
}

#[async_trait::async_trait]
impl TransactionSession for RepoTransaction {
    async fn commit(self) -> Result<(), DbErr> {
        self.close();
        let result = match self.depth {
            0 => self.session.commit().await,
            n => self.session.step(SessionStep::Release(n)).await.map(drop),
        };
        result.map_err(RepoError::into_db_err)
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.close();
        let result = match self.depth {
            0 => self.session.rollback().await,
            n => self
                .session
                .step(SessionStep::RollbackTo(n))
                .await
                .map(drop),
        };
        match result {
            // Already rolled back (it expired, or its connection broke): nothing to undo.
            Err(RepoError::TransactionExpired { .. } | RepoError::TransactionAborted { .. }) => {
                Ok(())
            }
            other => other.map_err(RepoError::into_db_err),
        }
    }
}

#[async_trait::async_trait]
impl TransactionTrait for RepoTransaction {
    type Transaction = RepoTransaction;

    /// A nested transaction: a savepoint in this one.
    async fn begin(&self) -> Result<RepoTransaction, DbErr> {
        let depth = self.depth + 1;
        self.step(SessionStep::Savepoint(depth)).await?;
        Ok(Self {
            repo: self.repo.clone(),
            session: self.session.clone(),
            depth,
            open: AtomicBool::new(true),
        })
    }

    /// A nested transaction; SQLite has no per-transaction isolation level or access
    /// mode, so both are ignored (as sea-orm does for SQLite savepoints).
    async fn begin_with_config(
        &self,
        _isolation_level: Option<IsolationLevel>,
        _access_mode: Option<AccessMode>,
    ) -> Result<RepoTransaction, DbErr> {
        self.begin().await
    }

    /// A nested transaction; the options are ignored (see `begin_with_config`).
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
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>,
            > + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        run_in(txn, callback).await
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
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>,
            > + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.transaction(callback).await
    }
}

/// Runs `callback` in `txn`: commits when it succeeds, rolls back when it fails.
pub(crate) async fn run_in<F, T, E>(
    txn: RepoTransaction,
    callback: F,
) -> Result<T, TransactionError<E>>
where
    F: for<'c> FnOnce(
            &'c RepoTransaction,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>,
        > + Send,
    T: Send,
    E: std::fmt::Display + std::fmt::Debug + Send,
{
    let result = callback(&txn).await;
    match result {
        Ok(value) => {
            txn.commit().await.map_err(TransactionError::Connection)?;
            Ok(value)
        }
        Err(e) => {
            txn.rollback().await.map_err(TransactionError::Connection)?;
            Err(TransactionError::Transaction(e))
        }
    }
}
