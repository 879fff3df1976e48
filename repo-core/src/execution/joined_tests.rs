//! Joined execution against the statement-by-statement path, on real SQLite files.

use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
};

use crate::error::RepoError;
use crate::executor::Executor;
use crate::hooked::TransactionHook;
use crate::request::{Action, Fetch, Operation, Request};
use crate::response::Response;
use crate::statement_hook::StatementHook;
use crate::transaction::TransactionRegistry;

/// Records each write's target in `audit`, in the write's transaction; joined or not as
/// `joined` says.
struct Audit {
    joined: bool,
}

fn audit_row(request: &Request) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO audit (target) VALUES (?)",
        [request.target.clone().into()],
    )
}

impl TransactionHook for Audit {
    fn before<'a>(
        &'a self,
        _: &'a DatabaseTransaction,
        _: &'a Request,
    ) -> BoxFuture<'a, Result<Option<Response>, RepoError>> {
        Box::pin(async { Ok(None) })
    }

    fn after<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
        _: &'a Response,
    ) -> BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async move {
            txn.execute_raw(audit_row(request)).await?;
            Ok(())
        })
    }

    fn as_statements(&self) -> Option<&dyn StatementHook> {
        self.joined.then_some(self as &dyn StatementHook)
    }
}

impl StatementHook for Audit {
    fn check(&self, _: &Request) -> Result<(), RepoError> {
        Ok(())
    }

    fn statements(&self, ran: &[(&Request, Response)]) -> Result<Vec<Statement>, RepoError> {
        Ok(ran.iter().map(|(request, _)| audit_row(request)).collect())
    }
}

async fn database(dir: &tempfile::TempDir, name: &str) -> (DatabaseConnection, Executor) {
    let path = dir.path().join(name);
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open");
    db.execute_unprepared(
        "PRAGMA journal_mode=WAL; \
         CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, stars INTEGER); \
         CREATE TABLE audit (target TEXT NOT NULL)",
    )
    .await
    .expect("schema");
    let executor = Executor::new(db.clone(), Arc::new(TransactionRegistry::default()));
    (db, executor)
}

fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// Writes of every kind the joined path takes, and some it refuses; failures included.
fn script() -> Vec<Request> {
    let insert = |title: &str| {
        Operation::Execute(statement(
            "INSERT INTO notes (title, stars) VALUES (?, ?)",
            vec![title.into(), 1i64.into()],
        ))
    };
    let returning = |title: &str, fetch| Operation::Query {
        statement: statement(
            "INSERT INTO notes (title, stars) VALUES (?, 2) RETURNING id, title",
            vec![title.into()],
        ),
        shape: None,
        fetch,
    };
    let ops = vec![
        (Action::Insert, insert("a")),
        (Action::Insert, insert("b")),
        (Action::Insert, insert("a")), // unique violation
        (Action::Insert, returning("c", Fetch::One)),
        (Action::Insert, returning("d", Fetch::All)),
        (
            Action::UpdateAll,
            Operation::Query {
                statement: statement(
                    "UPDATE notes SET stars = stars + 1 WHERE stars >= ? RETURNING title",
                    vec![1i64.into()],
                ),
                shape: None,
                fetch: Fetch::All,
            },
        ),
        (
            Action::UpdateAll,
            Operation::Execute(statement(
                "UPDATE notes SET stars = 0 WHERE title = ?",
                vec!["none".into()],
            )),
        ),
        (Action::Insert, insert("e -- not a comment")),
        (
            Action::Insert,
            // Not joinable (a comment): the statement-by-statement path, same answer.
            Operation::Execute(statement(
                "INSERT INTO notes (title, stars) VALUES (?, 3) -- a comment",
                vec!["f".into()],
            )),
        ),
        (
            Action::Insert,
            Operation::Execute(statement(
                "INSERT INTO notes (title, stars) VALUES (?1, ?2)",
                vec!["g".into(), 4i64.into()],
            )),
        ),
        (
            Action::Delete,
            Operation::Execute(statement(
                "DELETE FROM notes WHERE title = ?",
                vec!["b".into()],
            )),
        ),
        (Action::Insert, insert("b")),
    ];
    ops.into_iter()
        .map(|(action, op)| Request::new(action, "notes", op))
        .collect()
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(statement(sql, vec![]))
        .await
        .expect("read")
        .iter()
        .map(|r| format!("{:?}", crate::row::Row::read(r, None).expect("row")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_writes_answer_and_write_as_the_statement_by_statement_path() {
    let dir = tempfile::tempdir().expect("dir");
    let (joined_db, joined) = database(&dir, "joined.db").await;
    let (plain_db, plain) = database(&dir, "plain.db").await;
    let joined_hook: Arc<dyn TransactionHook> = Arc::new(Audit { joined: true });
    let plain_hook: Arc<dyn TransactionHook> = Arc::new(Audit { joined: false });
    // One at a time (each alone), then all at once (one group).
    for (a, b) in script().into_iter().zip(script()) {
        let got = joined.execute_with(a, joined_hook.clone()).await;
        let want = plain.execute_with(b, plain_hook.clone()).await;
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
    }
    let got = joined
        .execute_group_with(script(), joined_hook.as_ref())
        .await;
    let want = plain
        .execute_group_with(script(), plain_hook.as_ref())
        .await;
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    for table in [
        "SELECT * FROM notes ORDER BY id",
        "SELECT * FROM audit ORDER BY rowid",
    ] {
        assert_eq!(rows(&joined_db, table).await, rows(&plain_db, table).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_write_whose_caller_goes_away_leaves_no_transaction_open() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, executor) = database(&dir, "abandoned.db").await;
    let hook: Arc<dyn TransactionHook> = Arc::new(Audit { joined: true });
    let insert = |title: String| {
        Request::new(
            Action::Insert,
            "notes",
            Operation::Execute(statement(
                "INSERT INTO notes (title, stars) VALUES (?, 1)",
                vec![title.into()],
            )),
        )
    };
    // Drop joined writes after more and more polls, so that some are dropped between
    // their `BEGIN` and their `COMMIT`; after each, a plain write must commit on its own.
    for polls in 0..40 {
        let mut write =
            Box::pin(executor.execute_with(insert(format!("dropped {polls}")), hook.clone()));
        for _ in 0..polls {
            if futures::poll!(write.as_mut()).is_ready() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(write);
        let title = format!("kept {polls}");
        executor
            .execute(insert(title.clone()))
            .await
            .expect("plain write");
        let seen = db
            .query_one_raw(statement(
                "SELECT 1 FROM notes WHERE title = ?",
                vec![title.into()],
            ))
            .await
            .expect("read");
        assert!(
            seen.is_some(),
            "a write after a dropped one did not commit (poll {polls})"
        );
    }
}
