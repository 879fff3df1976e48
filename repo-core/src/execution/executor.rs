//! `Executor`: the innermost service, which runs a request on the local database.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use crate::committer::Committer;
use crate::error::{RejectReason, RepoError};
use crate::hooked::{NoHook, TransactionHook};
use crate::ledger::Ledger;
use crate::request::{BatchStep, Fetch, Operation, Request, StepOperation};
use crate::response::{ExecSummary, Outcome, Response};
use crate::row::{Row, RowShape};
use crate::transaction::TransactionRegistry;
use crate::writer::{Writer, WriterConfig};

/// Runs [`Request`]s on the local sea-orm connection.
///
/// It is the end of every middleware stack: a layer that answers without calling its inner
/// service (the forwarding layer on a replica) keeps the executor from running at all.
/// Statements run one by one; named transactions and batches run inside one database
/// transaction that commits only if every part succeeded.
///
/// Every write runs on the [writer](WriterConfig) connection, one at a time, under a time
/// budget that SQLite enforces while the statement runs. A caller that goes away leaves
/// its write to finish, or be interrupted by its budget, and roll back whole; the next write
/// waits for that. A panic while running one request fails that request only
/// ([`RepoError::Internal`]). Clones share the writer.
///
/// Writes share commits: one that arrives while another write is in flight joins the next
/// *group commit*, one database transaction for every write queued by then (at most
/// [`WriterConfig::max_group`]; a named transaction or a batch in a savepoint of it); one
/// that finds the node idle runs at once. Each keeps its own result and error: a group in
/// which anything fails is rolled back and run again one write at a time.
///
/// A request that carries a caller's idempotency key ([`Request::keyed`]) runs with the
/// executor's [`Ledger`](crate::spi::Ledger), which records it and answers a replay; with no
/// ledger it is refused as misconfigured rather than run without its guarantee.
#[derive(Clone)]
pub struct Executor {
    /// The local database: reads, and the ledger lookups of the forwarding server.
    db: DatabaseConnection,
    /// Named transactions this node can run.
    transactions: Arc<TransactionRegistry>,
    /// The connection writes run on, one turn at a time, under a budget.
    writer: Writer,
    /// Records the writes that carry an idempotency key.
    ledger: Option<Arc<dyn Ledger>>,
    /// The group commit; `None` inside the committer's own task.
    committer: Option<Arc<Committer>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("db", &self.db)
            .field("transactions", &self.transactions)
            .field("writer", &self.writer)
            .field("ledger", &self.ledger.is_some())
            .field("committer", &self.committer)
            .finish()
    }
}

impl Executor {
    /// An executor over `db` that knows `transactions`, with the default [`WriterConfig`].
    pub fn new(db: DatabaseConnection, transactions: Arc<TransactionRegistry>) -> Self {
        Self::with_config(db, transactions, WriterConfig::default())
    }

    /// An executor over `db` that knows `transactions`, writing as `config` says.
    pub fn with_config(
        db: DatabaseConnection,
        transactions: Arc<TransactionRegistry>,
        config: WriterConfig,
    ) -> Self {
        let max_group = config.group_size();
        let writer = Writer::new(&db, config);
        let core = Self {
            db,
            transactions,
            writer,
            ledger: None,
            committer: None,
        };
        Self {
            committer: Some(Arc::new(Committer::new(core.clone(), max_group))),
            ..core
        }
    }

    /// The same executor, recording the writes that carry an idempotency key in `ledger`.
    #[must_use]
    pub fn with_ledger(mut self, ledger: Arc<dyn Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The writer, for the executing code in this crate.
    pub(crate) fn writer(&self) -> &Writer {
        &self.writer
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
        if request.keyed {
            return self.execute_keyed(request).await;
        }
        self.dispatch(request, None).await
    }

    /// Runs `request` and `hook` in one database transaction: all of it commits, or none.
    ///
    /// Like [`Executor::execute`], it runs on the writer, under the request's budget, and a
    /// write joins a group commit (one transaction, `hook` run for each) when
    /// other writes are in flight.
    pub async fn execute_with(
        &self,
        request: Request,
        hook: Arc<dyn TransactionHook>,
    ) -> Result<Response, RepoError> {
        self.dispatch(request, Some(hook)).await
    }

    /// Through the group commit (on its own when nothing else is in flight).
    async fn dispatch(
        &self,
        request: Request,
        hook: Option<Arc<dyn TransactionHook>>,
    ) -> Result<Response, RepoError> {
        super::sqlite_arrays::refuse_arrays(self.db.get_database_backend(), &request.operation)?;
        match &self.committer {
            Some(committer) => committer.run(request, hook).await,
            None => self.run_alone(request, hook.as_deref()).await,
        }
    }

    /// Runs a request that carries an idempotency key with the ledger, exactly once.
    async fn execute_keyed(&self, request: Request) -> Result<Response, RepoError> {
        let Some(ledger) = &self.ledger else {
            return Err(RepoError::Rejected {
                reason: RejectReason::misconfigured(
                    "a write with an idempotency key needs a ledger on the node that runs it \
                     (repo_litefs::Node sets one; or RepoBuilder::ledger)",
                ),
            });
        };
        self.execute_once(request, ledger.clone()).await
    }

    /// Runs `request` exactly once with `ledger`: recorded in the write's own transaction,
    /// and a failure that came from an earlier attempt of it settled with that attempt's
    /// answer (or refused, when it asked something else). The forwarding server runs every
    /// forwarded write this way; [`Executor::execute`] runs a keyed write this way with the
    /// executor's own ledger.
    pub async fn execute_once(
        &self,
        request: Request,
        ledger: Arc<dyn Ledger>,
    ) -> Result<Response, RepoError> {
        let ticket = ledger.ticket(&request);
        let hook: Arc<dyn TransactionHook> = ledger.clone();
        let result = self.dispatch(request, Some(hook)).await;
        ledger.settle(ticket, result).await
    }

    /// Runs `request` on its own, in the calling task: with `hook`, in a transaction with
    /// it; without, as it is (a single statement autocommits).
    pub(crate) async fn run_alone(
        &self,
        request: Request,
        hook: Option<&dyn TransactionHook>,
    ) -> Result<Response, RepoError> {
        match hook {
            None => contain(self.execute_here(request)).await,
            Some(hook) => {
                contain(async {
                    let mut turn = self.writer.turn(request.deadline).await?;
                    self.execute_in_turn(&mut turn, &request, hook).await
                })
                .await
            }
        }
    }

    /// [`Executor::execute`] in the calling task, without a hook.
    async fn execute_here(&self, request: Request) -> Result<Response, RepoError> {
        request.check_deadline()?;
        let mut turn = self.writer.turn(request.deadline).await?;
        if turn.bounds_on_server(request.deadline) {
            // PostgreSQL: the deadline becomes the server's statement timeout, which only a
            // transaction can carry (`SET LOCAL`), even for a single statement.
            return self.execute_in_turn(&mut turn, &request, &NoHook).await;
        }
        turn.budget_for(request.deadline);
        let outcome = run_operation(
            self.writer.connection(),
            &self.transactions,
            request.operation,
        )
        .await;
        Ok(Response::new(turn.classify(outcome)?))
    }
}

/// Runs `operation` on `conn`: **the one dispatch over [`Operation`]**, for the executor's
/// own writes (`conn` is the writer connection: a single statement autocommits) and for
/// hooked writes (`conn` is the hook's transaction). A named transaction or a batch runs in
/// a transaction of its own on `conn` (a savepoint when `conn` is already a transaction),
/// committed when it succeeds and rolled back when it fails.
pub(crate) async fn run_operation<C>(
    conn: &C,
    transactions: &TransactionRegistry,
    operation: Operation,
) -> Result<Outcome, RepoError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
{
    match operation {
        Operation::Execute(stmt) => Ok(Outcome::Executed(summary(
            conn.get_database_backend(),
            &conn.execute_raw(stmt).await?,
        ))),
        Operation::Query {
            statement,
            shape,
            fetch,
        } => query(conn, statement, shape.as_deref(), fetch)
            .await
            .map(Outcome::Rows),
        Operation::Transaction { name, args } => {
            if !transactions.contains(&name) {
                return Err(RepoError::UnknownTransaction(name));
            }
            let txn = conn.begin().await?;
            let output = transactions.run(&name, &txn, &args).await;
            finish(txn, output).await.map(Outcome::Transaction)
        }
        Operation::Batch(steps) => {
            let txn = conn.begin().await?;
            let outcomes = run_steps(&txn, steps).await;
            finish(txn, outcomes).await.map(Outcome::Batch)
        }
    }
}

/// Runs a batch's steps in order inside `txn`; the first failure names its step.
async fn run_steps(
    txn: &sea_orm::DatabaseTransaction,
    steps: Vec<BatchStep>,
) -> Result<Vec<Outcome>, RepoError> {
    let mut outcomes = Vec::with_capacity(steps.len());
    for step in steps {
        let outcome = run_step(txn, step.operation, step.require_row)
            .await
            .map_err(|source| RepoError::MultiStep {
                step: step.name,
                source: Box::new(source),
            })?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Commits `txn` when `result` is a success, rolls it back otherwise.
async fn finish<T>(
    txn: sea_orm::DatabaseTransaction,
    result: Result<T, RepoError>,
) -> Result<T, RepoError> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(e) => {
            roll_back(txn).await;
            Err(e)
        }
    }
}

/// Rolls `txn` back. A failure to do so is logged, not returned: the caller reports why it
/// rolled back, and SQLite has already rolled back a transaction whose statement was
/// interrupted (so its rollback finds no transaction).
pub(crate) async fn roll_back(txn: sea_orm::DatabaseTransaction) {
    if let Err(e) = txn.rollback().await {
        tracing::debug!(error = %e, "rollback after a failed write did not run");
    }
}

/// Runs `work`, turning a panic inside it into a failure of this request only (counted in
/// `repo_executor_panics_total`). Catching costs nothing while nothing panics.
pub(crate) async fn contain<F>(work: F) -> Result<Response, RepoError>
where
    F: std::future::Future<Output = Result<Response, RepoError>>,
{
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(panicked()))
}

/// The error of a request whose execution panicked.
pub(crate) fn panicked() -> RepoError {
    metrics::counter!("repo_executor_panics_total").increment(1);
    tracing::error!("a write panicked inside the executor; its transaction rolled back");
    RepoError::Internal {
        message: "the write panicked while running; it rolled back".into(),
    }
}

pub(crate) async fn run_step<C: ConnectionTrait>(
    conn: &C,
    operation: StepOperation,
    require_row: bool,
) -> Result<Outcome, RepoError> {
    let (outcome, touched) = match operation {
        StepOperation::Execute(stmt) => {
            let s = summary(conn.get_database_backend(), &conn.execute_raw(stmt).await?);
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

/// What a statement did, as the database on `backend` reports it. PostgreSQL has no last
/// insert id (sea-orm panics when asked for one: it wants `RETURNING`), so it is 0 there;
/// so is a negative SQLite rowid (an explicit `INSERT … VALUES (-1, …)`), which sea-orm's
/// `u64` cannot hold and panics on: asked after the statement ran, such a panic would fail
/// a write that had committed.
pub(crate) fn summary(backend: sea_orm::DbBackend, result: &sea_orm::ExecResult) -> ExecSummary {
    let last_insert_id = match backend {
        sea_orm::DbBackend::Postgres => 0,
        _ => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| result.last_insert_id()))
            .unwrap_or(0),
    };
    ExecSummary {
        rows_affected: result.rows_affected(),
        last_insert_id,
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
