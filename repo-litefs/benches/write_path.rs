//! Where the database part of a forwarded write goes: the cost of each call to sqlx's
//! SQLite worker thread, measured one call at a time on the writer's kind of connection.
//!
//! One SQLite file (WAL, `synchronous=NORMAL`, as in the `forward` bench) with the notes
//! table and the real ledger table. `REPS` repetitions (default 5) of `ROUNDS` iterations
//! (default 2,000); each iteration runs every variant once, in an order that rotates:
//!
//! - `hop`: `SELECT 1` on a connection held by the bench: a round trip to the worker
//!   thread with (almost) no SQLite work;
//! - `insert, held`: the notes insert, autocommit, on the held connection;
//! - `insert, pool`: the same through sea-orm on a one-connection pool, as a local write
//!   ran before joining (acquire; the ping sqlx sends when a connection goes back to its
//!   pool runs after the call returns, before the next acquire);
//! - `4 calls`: `BEGIN`, the insert, the ledger row, `COMMIT` as four calls (a forwarded
//!   write before joined group commit), each call also timed on its own;
//! - `2 calls`: `BEGIN; insert` then `ledger row; COMMIT` (joined group commit);
//! - `1 call`: all four in one call: the floor if the ledger row did not need the write's
//!   answer.
//!
//! Prints the median over the repetitions of each p50 with its min–max, and the load.
//! Run: `cargo bench -p repo-litefs --bench write_path` (`REPS=…`, `ROUNDS=…`).

use std::time::{Duration, Instant};

use repo_litefs::ledger::CreateLedgerTable;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePoolOptions};
use sea_orm::sqlx::{self, AssertSqlSafe, Connection};
use sea_orm::{ConnectionTrait, Database, DbBackend, Schema, SqlxSqliteConnector, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{Spread, env_count, load_average, percentile, us};
use support::note;

const INSERT: &str = "INSERT INTO notes (title, body, stars) VALUES (?, ?, ?)";
const LEDGER: &str = "INSERT INTO litefs_ledger (request_id, response, created_at, fingerprint) \
     VALUES (?, ?, ?, ?)";

const NAMES: [&str; 11] = [
    "hop (SELECT 1, held connection)",
    "insert, held connection",
    "insert, sea-orm on a 1-connection pool",
    "insert, sqlx: acquire | insert | release",
    "4 calls: BEGIN | insert | ledger | COMMIT",
    "  of which BEGIN",
    "  of which insert",
    "  of which ledger row",
    "  of which COMMIT",
    "2 calls: BEGIN; insert | ledger; COMMIT",
    "1 call: BEGIN; insert; ledger; COMMIT",
];

#[tokio::main]
async fn main() {
    let reps = env_count("REPS", 5).max(1);
    let rounds = env_count("ROUNDS", 2_000).max(1);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("write_path.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Database::connect(&url).await.expect("open");
    db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .await
        .expect("pragmas");
    let schema = Schema::new(db.get_database_backend());
    db.execute(&schema.create_table_from_entity(note::Entity))
        .await
        .expect("table");
    CreateLedgerTable
        .up(&SchemaManager::new(&db))
        .await
        .expect("ledger table");
    let options: SqliteConnectOptions = url.parse().expect("options");
    let options = options.pragma("synchronous", "NORMAL");
    let mut held = SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .expect("pool");
    let pooled = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());

    println!("load average before: {}", load_average());
    let mut reps_p50: Vec<[Duration; 11]> = Vec::new();
    let mut n = 0u64;
    for _ in 0..reps {
        let mut samples: [Vec<Duration>; 11] = Default::default();
        for i in 0..rounds + 200 {
            let mut took = [Duration::ZERO; 11];
            for k in 0..7 {
                let variant = (i + k) % 7;
                n += 1;
                let t = Instant::now();
                match variant {
                    0 => drop(
                        sqlx::query("SELECT 1")
                            .fetch_one(&mut held)
                            .await
                            .expect("hop"),
                    ),
                    1 => drop(insert(INSERT).execute(&mut held).await.expect("insert")),
                    2 => drop(
                        pooled
                            .execute_raw(Statement::from_sql_and_values(
                                DbBackend::Sqlite,
                                INSERT,
                                ["A title".into(), "Some body".into(), 5i64.into()],
                            ))
                            .await
                            .expect("pool insert"),
                    ),
                    3 => {
                        let mut conn = pool.acquire().await.expect("acquire");
                        insert(INSERT).execute(&mut *conn).await.expect("insert");
                        // Release and wait for it (the ping): what the next acquire waits for.
                        conn.return_to_pool().await;
                    }
                    4 => {
                        let mut t = Instant::now();
                        let mut lap = |slot: usize, took: &mut [Duration; 11]| {
                            took[slot] = t.elapsed();
                            t = Instant::now();
                        };
                        sqlx::query("BEGIN")
                            .execute(&mut held)
                            .await
                            .expect("begin");
                        lap(5, &mut took);
                        insert(INSERT).execute(&mut held).await.expect("insert");
                        lap(6, &mut took);
                        ledger(LEDGER, n).execute(&mut held).await.expect("ledger");
                        lap(7, &mut took);
                        sqlx::query("COMMIT")
                            .execute(&mut held)
                            .await
                            .expect("commit");
                        lap(8, &mut took);
                    }
                    5 => {
                        insert(&format!("BEGIN; {INSERT}"))
                            .execute(&mut held)
                            .await
                            .expect("begin; insert");
                        ledger(&format!("{LEDGER}; COMMIT"), n)
                            .execute(&mut held)
                            .await
                            .expect("ledger; commit");
                    }
                    _ => drop(
                        sqlx::query(AssertSqlSafe(format!("BEGIN; {INSERT}; {LEDGER}; COMMIT")))
                            .bind("A title")
                            .bind("Some body")
                            .bind(5i64)
                            .bind(n.to_be_bytes().to_vec())
                            .bind(vec![0u8; 24])
                            .bind(0i64)
                            .bind(vec![0u8; 32])
                            .execute(&mut held)
                            .await
                            .expect("one call"),
                    ),
                }
                let slot = [0, 1, 2, 3, 4, 9, 10][variant];
                took[slot] = t.elapsed();
            }
            if i >= 200 {
                for (s, t) in samples.iter_mut().zip(took) {
                    s.push(t);
                }
            }
        }
        reps_p50.push(samples.map(|mut s| {
            s.sort();
            percentile(&s, 0.5)
        }));
    }
    println!("load average after:  {}", load_average());
    println!("\np50 per variant, median over {reps} repetitions of {rounds} (min–max), µs:");
    for (i, name) in NAMES.iter().enumerate() {
        let spread = Spread::of(reps_p50.iter().map(|r| us(r[i])).collect());
        println!("{name:<44} {}", spread.show(1));
    }
    let saved = Spread::of(reps_p50.iter().map(|r| us(r[4]) - us(r[9])).collect());
    println!(
        "joined saves (4 calls − 2 calls):            {} µs",
        saved.show(1)
    );
}

/// The notes insert with its values.
fn insert(sql: &str) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .bind("A title")
        .bind("Some body")
        .bind(5i64)
}

/// A ledger row (a 24-byte response, a 32-byte fingerprint, as the real ones are sized).
fn ledger(
    sql: &str,
    n: u64,
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut id = vec![0u8; 8];
    id.extend_from_slice(&n.to_be_bytes());
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .bind(vec![0u8; 24])
        .bind(0i64)
        .bind(vec![0u8; 32])
}
