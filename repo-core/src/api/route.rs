//! Routing sea-orm statements: reads to the local database, writes through the stack.
//!
//! [`Route`] implements sea-orm's `ConnectionTrait`, so sea-orm's own code (an
//! `ActiveModel::insert`, an `UpdateMany::exec`) runs against it unchanged: every statement
//! it issues is classified, reads run locally, and each write becomes one [`Request`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use crate::error::RepoError;
use crate::options::CallOptions;
use crate::repo::Repo;
use crate::request::{Action, Fetch, Operation, Request};
use crate::response::Outcome;
use crate::row::{RowShape, into_exec_result, into_query_results};
use crate::statement::{StatementKind, WriteTarget, classify};

/// A connection for one repository call.
pub(crate) struct Route<'a> {
    /// The repository whose connection and stack are used.
    repo: &'a Repo,
    /// The call's layers, timeout and consistency.
    options: &'a CallOptions,
    /// What the typed call is (`None` on the plain `ConnectionTrait` path: derived from SQL).
    action: Option<(Action, String)>,
    /// The row shape of the entity a typed call is about.
    shape: Option<Arc<RowShape>>,
    /// The typed error (timeout, circuit open, …) of the last failed write, kept because
    /// sea-orm's API only carries `DbErr`; the typed call returns it instead.
    failure: Mutex<Option<RepoError>>,
    /// How many requests this call has sent: the `n` of each one's id under the call's
    /// idempotency key.
    sent: AtomicU32,
}

impl<'a> Route<'a> {
    /// A route for a typed call about `target` (a table or a transaction name).
    pub(crate) fn typed(
        repo: &'a Repo,
        options: &'a CallOptions,
        action: Action,
        target: String,
        shape: Option<Arc<RowShape>>,
    ) -> Self {
        Self {
            repo,
            options,
            action: Some((action, target)),
            shape,
            failure: Mutex::new(None),
            sent: AtomicU32::new(0),
        }
    }

    /// A route for plain sea-orm code using the repository as its connection.
    pub(crate) fn plain(repo: &'a Repo, options: &'a CallOptions) -> Self {
        Self {
            repo,
            options,
            action: None,
            shape: None,
            failure: Mutex::new(None),
            sent: AtomicU32::new(0),
        }
    }

    /// Turns the result of sea-orm's code into the typed call's result, restoring the
    /// typed error that a failed write flattened into a `DbErr`.
    pub(crate) fn finish<T>(&self, result: Result<T, DbErr>) -> Result<T, RepoError> {
        result.map_err(|db| {
            self.failure
                .lock()
                .ok()
                .and_then(|mut f| f.take())
                .unwrap_or(RepoError::Database(db))
        })
    }

    /// The request's action and target: the typed call's, or what the statement says.
    fn target(&self, write: WriteTarget) -> (Action, String) {
        match &self.action {
            Some((action, target)) => (action.clone(), target.clone()),
            None => (write.action, write.table),
        }
    }

    async fn send(&self, mut request: Request) -> Result<Outcome, DbErr> {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        if let Some(key) = &self.options.idempotency_key {
            request.id = key.request_id(n);
            request.keyed = true;
        }
        match self.repo.call(request, self.options).await {
            Ok(response) => Ok(response.outcome),
            // A database error goes back to sea-orm as it is, so `sql_err()` still works;
            // any other error is kept aside for the typed call and described to sea-orm.
            Err(RepoError::Database(db)) => Err(db),
            Err(error) => {
                let described = DbErr::Custom(error.to_string());
                if let Ok(mut slot) = self.failure.lock() {
                    *slot = Some(error);
                }
                Err(described)
            }
        }
    }

    async fn write_exec(&self, stmt: Statement, write: WriteTarget) -> Result<ExecResult, DbErr> {
        let (action, target) = self.target(write);
        let request = Request::new(action, target, Operation::Execute(stmt));
        match self.send(request).await? {
            Outcome::Executed(summary) => into_exec_result(summary).await,
            other => Err(unexpected("a statement", &other)),
        }
    }

    async fn write_query(
        &self,
        stmt: Statement,
        write: WriteTarget,
        fetch: Fetch,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let shape = self
            .shape
            .clone()
            .or_else(|| self.repo.shape_for_table(&write.table));
        let (action, target) = self.target(write);
        let request = Request::new(
            action,
            target,
            Operation::Query {
                statement: stmt,
                shape,
                fetch,
            },
        );
        match self.send(request).await? {
            Outcome::Rows(rows) => into_query_results(rows).await,
            other => Err(unexpected("rows", &other)),
        }
    }
}

fn unexpected(wanted: &str, got: &Outcome) -> DbErr {
    DbErr::Custom(format!("expected {wanted} in the response, got {got:?}"))
}

#[async_trait::async_trait]
impl ConnectionTrait for Route<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.repo.connection().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match classify(&stmt.sql) {
            StatementKind::Read => self.repo.connection().execute_raw(stmt).await,
            StatementKind::Write(write) => self.write_exec(stmt, write).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match classify(sql) {
            StatementKind::Read => self.repo.connection().execute_unprepared(sql).await,
            StatementKind::Write(write) => {
                let stmt = Statement::from_string(self.get_database_backend(), sql);
                self.write_exec(stmt, write).await
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match classify(&stmt.sql) {
            StatementKind::Read => self.repo.connection().query_one_raw(stmt).await,
            StatementKind::Write(write) => Ok(self
                .write_query(stmt, write, Fetch::One)
                .await?
                .into_iter()
                .next()),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match classify(&stmt.sql) {
            StatementKind::Read => self.repo.connection().query_all_raw(stmt).await,
            StatementKind::Write(write) => self.write_query(stmt, write, Fetch::All).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self.action {
            // Typed calls know their entity's row shape.
            Some(_) => self.repo.connection().support_returning(),
            None => self.repo.sea_orm_returning(),
        }
    }
}
