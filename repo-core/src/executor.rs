//! `Executor`: the innermost service, which runs a request on the local database.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use tokio::time::Instant;

use crate::error::{CommitState, RepoError};
use crate::request::{BatchStep, Fetch, Operation, Request, StepOperation};
use crate::response::{ExecSummary, Outcome, Response};
use crate::row::{Row, RowShape};
use crate::transaction::TransactionRegistry;

/// Runs [`Request`]s on the local sea-orm connection.
///
/// It is the end of every middleware stack: a layer that answers without calling its inner
/// service (the forwarding layer on a replica) keeps the executor from running at all.
/// Statements run one by one on the connection; named transactions and batches run inside
/// one database transaction that commits only if every part succeeded.
#[derive(Clone, Debug)]
pub struct Executor {
    /// The local database.
    db: DatabaseConnection,
    /// Named transactions this node can run.
    transactions: Arc<TransactionRegistry>,
}

impl Executor {
    /// An executor over `db` that knows `transactions`.
    pub fn new(db: DatabaseConnection, transactions: Arc<TransactionRegistry>) -> Self {
        Self { db, transactions }
    }

    /// The named transactions, shared.
    pub(crate) fn registry(&self) -> &Arc<TransactionRegistry> {
        &self.transactions
    }

    /// The local database connection.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The named transactions this executor can run.
    pub fn transactions(&self) -> &TransactionRegistry {
        &self.transactions
    }

    /// Runs `request` to completion.
    pub async fn execute(&self, request: Request) -> Result<Response, RepoError> {
        if request.deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(RepoError::Timeout {
                commit: CommitState::NotCommitted,
            });
        }
        let outcome = match request.operation {
            Operation::Execute(stmt) => {
                Outcome::Executed(summary(&self.db.execute_raw(stmt).await?))
            }
            Operation::Query {
                statement,
                shape,
                fetch,
            } => Outcome::Rows(query(&self.db, statement, shape.as_deref(), fetch).await?),
            Operation::Transaction { name, args } => {
                Outcome::Transaction(self.run_transaction(&name, &args).await?)
            }
            Operation::Batch(steps) => Outcome::Batch(self.run_batch(steps).await?),
        };
        Ok(Response::new(outcome))
    }

    async fn run_transaction(&self, name: &str, args: &[u8]) -> Result<Vec<u8>, RepoError> {
        if !self.transactions.contains(name) {
            return Err(RepoError::UnknownTransaction(name.to_owned()));
        }
        let txn = self.db.begin().await?;
        match self.transactions.run(name, &txn, args).await {
            Ok(output) => {
                txn.commit().await?;
                Ok(output)
            }
            Err(e) => {
                txn.rollback().await?;
                Err(e)
            }
        }
    }

    async fn run_batch(&self, steps: Vec<BatchStep>) -> Result<Vec<Outcome>, RepoError> {
        let txn = self.db.begin().await?;
        let mut outcomes = Vec::with_capacity(steps.len());
        for step in steps {
            match run_step(&txn, step.operation, step.require_row).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(source) => {
                    txn.rollback().await?;
                    return Err(RepoError::MultiStep {
                        step: step.name,
                        source: Box::new(source),
                    });
                }
            }
        }
        txn.commit().await?;
        Ok(outcomes)
    }
}

pub(crate) async fn run_step<C: ConnectionTrait>(
    conn: &C,
    operation: StepOperation,
    require_row: bool,
) -> Result<Outcome, RepoError> {
    let (outcome, touched) = match operation {
        StepOperation::Execute(stmt) => {
            let s = summary(&conn.execute_raw(stmt).await?);
            (Outcome::Executed(s), s.rows_affected > 0)
        }
        StepOperation::Query { statement, shape } => {
            let rows = query(conn, statement, shape.as_deref(), Fetch::All).await?;
            let touched = !rows.is_empty();
            (Outcome::Rows(rows), touched)
        }
    };
    if require_row && !touched {
        return Err(RepoError::Database(DbErr::RecordNotFound(
            "the step matched no row".into(),
        )));
    }
    Ok(outcome)
}

pub(crate) async fn query<C: ConnectionTrait>(
    conn: &C,
    statement: sea_orm::Statement,
    shape: Option<&RowShape>,
    fetch: Fetch,
) -> Result<Vec<Row>, RepoError> {
    let results = match fetch {
        Fetch::One => conn.query_one_raw(statement).await?.into_iter().collect(),
        Fetch::All => conn.query_all_raw(statement).await?,
    };
    results
        .iter()
        .map(|r| Row::read(r, shape).map_err(RepoError::from))
        .collect()
}

pub(crate) fn summary(result: &sea_orm::ExecResult) -> ExecSummary {
    ExecSummary {
        rows_affected: result.rows_affected(),
        last_insert_id: result.last_insert_id(),
    }
}

impl tower::Service<Request> for Executor {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.execute(request).await })
    }
}
