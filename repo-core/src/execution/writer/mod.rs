//! `Writer`: the one connection every write of this node runs on, one turn at a time, under
//! a time budget and SQLite's limits.
//!
//! SQLite runs one write transaction at a time whatever the pool; the writer makes that
//! explicit. A write takes a [`Turn`] (waiting for it no longer than its deadline), and
//! while it holds the turn its statements run on the writer connection with a budget:
//! SQLite's progress handler interrupts any statement still running when the turn's
//! deadline passes — the request's own deadline or the writer's maximum statement time,
//! whichever comes first. An interrupted write rolls back; the connection stays healthy and
//! the next turn starts at once. Reads never wait for the writer: they run on the
//! repository's own connection.
//!
//! The writer connection is a second, single-connection pool over the same database file,
//! with the same connect options (so `mode=ro` stays read-only) plus the budget and
//! [`SqliteLimits`]; the per-connection settings an application may have set with a
//! `PRAGMA` on its own connection (`synchronous`, `foreign_keys`, `recursive_triggers`,
//! `busy_timeout`) are copied from it when the writer connects. For a database the writer cannot open a second connection to — an
//! in-memory database, or a non-SQLite backend — writes run on the repository's own
//! connection, one turn at a time, and the budget is only checked between statements (a
//! warning says so once). On PostgreSQL the server enforces it instead
//! ([`StatementTimeout`]): a write with a deadline runs in a transaction whose statements
//! are cancelled when the deadline, less a margin for the answer, passes.
//!
//! A [`CommitGuard`] in the config is asked at every commit on the writer connection
//! (SQLite's commit hook); a refused commit rolls back and the write fails with
//! [`RepoError::NotPrimary`]: how a fenced node (a LiteFS lease lost, the emulator's
//! failover) stops writing before its own view of its role has caught up.

mod budget;
mod commit_guard;
mod limits;
mod settings;
mod statement_timeout;
mod turn;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sea_orm::sqlx::{ConnectOptions, Connection};
use sea_orm::{DatabaseConnection, DatabaseConnectionType, DbBackend, SqlxSqliteConnector};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{CommitState, RepoError};
use budget::{Budget, CHECK_EVERY_OPS};
pub use commit_guard::CommitGuard;
use commit_guard::Refusals;
pub use limits::SqliteLimits;
use statement_timeout::StatementTimeout;
pub(crate) use turn::Turn;

/// How the executor's writer behaves. Defaults: statements interrupted after 5 s, SQLite
/// limits as in [`SqliteLimits::default`], no [`CommitGuard`], group commits of at most 64
/// statements.
///
/// ```
/// use std::time::Duration;
/// use repo_core::{SqliteLimits, WriterConfig};
/// let config = WriterConfig::default()
///     .max_statement_time(Duration::from_secs(2))
///     .limits(SqliteLimits::default().length(1024 * 1024));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// The longest one write (a statement, a named transaction, a batch or a group commit
    /// member) may run before SQLite interrupts it.
    max_statement_time: Duration,
    /// SQLite's limits on the writer connection.
    limits: SqliteLimits,
    /// Asked at every commit whether this node may commit.
    guard: Option<CommitGuard>,
    /// The most writes one group commit holds.
    max_group: usize,
}

impl PartialEq for WriterConfig {
    fn eq(&self, other: &Self) -> bool {
        self.max_statement_time == other.max_statement_time
            && self.limits == other.limits
            && self.max_group == other.max_group
            && match (&self.guard, &other.guard) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same(b),
                _ => false,
            }
    }
}

impl Eq for WriterConfig {}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            max_statement_time: Duration::from_secs(5),
            limits: SqliteLimits::default(),
            guard: None,
            max_group: 64,
        }
    }
}

impl WriterConfig {
    /// The longest one write may run before SQLite interrupts it (default 5 s; at least
    /// 1 ms). A request's earlier deadline interrupts it sooner.
    pub fn max_statement_time(mut self, time: Duration) -> Self {
        self.max_statement_time = time.max(Duration::from_millis(1));
        self
    }

    /// SQLite's limits on the writer connection.
    pub fn limits(mut self, limits: SqliteLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Asks `guard` at every commit on the writer connection whether this node may commit;
    /// a refused commit rolls back and fails with [`RepoError::NotPrimary`] (see
    /// [`CommitGuard`]). Only a dedicated writer connection (a SQLite file) can be guarded.
    pub fn commit_guard(mut self, guard: CommitGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The most writes that share one commit when they arrive together (default 64; at
    /// least 1, which turns group commit off). A group in which anything fails runs again
    /// one write at a time, so a larger group risks more repeated work
    /// for a rare failure; each member still has its own time budget.
    pub fn max_group(mut self, statements: usize) -> Self {
        self.max_group = statements.max(1);
        self
    }

    /// The configured maximum statement time.
    pub fn statement_time(&self) -> Duration {
        self.max_statement_time
    }

    /// The configured group commit size.
    pub fn group_size(&self) -> usize {
        self.max_group
    }
}

/// The connection writes run on, its turn and its budget; cheap to clone (clones share it).
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    /// Where writes run.
    db: DatabaseConnection,
    /// Interrupts a statement that outlives its turn; `None` when writes share the
    /// repository's connection (no handler could be installed on it).
    budget: Option<Arc<Budget>>,
    /// Has the server cancel a statement that outlives its turn; `Some` on PostgreSQL only.
    server: Option<Arc<StatementTimeout>>,
    /// The dedicated connection's pool, to know when an abandoned turn's work has ended.
    pool: Option<SqlitePool>,
    /// One write at a time.
    turn: Arc<Mutex<()>>,
    /// The limits and the maximum statement time.
    config: WriterConfig,
    /// Whether the commit guard refused a commit during the current turn.
    refusals: Arc<Refusals>,
}

impl Writer {
    /// A writer for the database behind `db`. Opens nothing yet: the writer connection is
    /// made on the first write (so a read-only replica never opens it).
    pub(crate) fn new(db: &DatabaseConnection, config: WriterConfig) -> Self {
        let turn = Arc::new(Mutex::new(()));
        let refusals = Arc::new(Refusals::default());
        match dedicated(db, &config, &refusals) {
            Some((pool, budget)) => Self {
                db: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone()),
                budget: Some(budget),
                server: None,
                pool: Some(pool),
                turn,
                config,
                refusals,
            },
            None => {
                if config.guard.is_some() {
                    tracing::warn!(
                        "the commit guard needs a dedicated writer connection (a SQLite file); \
                         it is not consulted on this database"
                    );
                }
                let server = (db.get_database_backend() == DbBackend::Postgres)
                    .then(|| Arc::new(StatementTimeout::default()));
                Self {
                    db: db.clone(),
                    budget: None,
                    server,
                    pool: None,
                    turn,
                    config,
                    refusals,
                }
            }
        }
    }

    /// The connection writes run on.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The dedicated connection's pool (one connection), for calls sea-orm has no words for
    /// (statements joined into one round trip); `None` when writes share the repository's
    /// connection.
    pub(crate) fn pool(&self) -> Option<&SqlitePool> {
        self.pool.as_ref()
    }

    /// Waits for the writer's turn, no longer than `deadline`.
    pub(crate) async fn turn(&self, deadline: Option<Instant>) -> Result<Turn, RepoError> {
        let guard = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, self.turn.clone().lock_owned())
                .await
                .map_err(|_| RepoError::Timeout {
                    commit: CommitState::NotCommitted,
                })?,
            None => self.turn.clone().lock_owned().await,
        };
        self.refusals.clear();
        if self.config.guard.as_ref().is_some_and(|g| !g.allows()) {
            // Refused before anything runs; the commit hook closes the race with a change
            // of lease during the write.
            metrics::counter!("repo_commits_refused_total").increment(1);
            return Err(RepoError::NotPrimary { primary: None });
        }
        Ok(Turn::new(
            guard,
            self.budget.clone(),
            self.server.clone(),
            self.pool.clone(),
            self.config.max_statement_time,
            self.refusals.clone(),
        ))
    }
}

/// A single-connection pool over the same SQLite file as `db`, with the budget's progress
/// handler and `config`'s limits; `None` when `db` is not a file-backed sqlx SQLite pool.
fn dedicated(
    db: &DatabaseConnection,
    config: &WriterConfig,
    refusals: &Arc<Refusals>,
) -> Option<(SqlitePool, Arc<Budget>)> {
    let DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &db.inner else {
        return None;
    };
    let options = db.get_sqlite_connection_pool().connect_options();
    let in_memory = options
        .to_url_lossy()
        .query_pairs()
        .any(|(k, v)| k == "mode" && v == "memory");
    if in_memory {
        tracing::debug!(
            "in-memory database: writes share the repository's connection; the statement \
             budget is checked between statements only"
        );
        return None;
    }
    let budget = Budget::new();
    let handler_budget = budget.clone();
    let limits = config.limits;
    let guard = config.guard.clone();
    let refusals = refusals.clone();
    let app = db.clone();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        // A file connection that was idle a moment ago cannot have gone away: no ping per
        // write (it would cost a round trip to sqlx's worker thread).
        .test_before_acquire(false)
        // sqlx counts transactions itself and does not uncount one whose COMMIT failed
        // (refused by the commit guard, busy, I/O) although SQLite rolled it back. Kept,
        // such a connection would turn its next rollback into `ROLLBACK TO SAVEPOINT`,
        // which leaves a transaction open that no later commit ends: writes answered as
        // committed that never reach the file, its lock held for good. A connection
        // given back inside a transaction is closed instead; the next one starts clean.
        .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
        .after_connect(move |conn, _| {
            let (budget, app) = (handler_budget.clone(), app.clone());
            let guarded = guard.clone().map(|g| refusals.clone().hook(g));
            let rollback = guard.as_ref().and_then(CommitGuard::rollback_hook);
            Box::pin(async move {
                settings::copy(&app, conn).await;
                limits.apply(conn).await?;
                let mut handle = conn.lock_handle().await?;
                handle.set_progress_handler(CHECK_EVERY_OPS, budget.handler());
                if let Some(hook) = guarded {
                    handle.set_commit_hook(hook);
                }
                if let Some(hook) = rollback {
                    handle.set_rollback_hook(hook);
                }
                Ok(())
            })
        })
        .connect_lazy_with((*options).clone());
    Some((pool, budget))
}
