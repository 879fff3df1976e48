//! The journal's list checked against what SQLite really writes: random transactions on
//! real files, the file compared page by page before and after each commit.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection};

use super::{CommitPages, MAX_RECORDS, pending_commit};

/// One statement of a generated transaction.
#[derive(Debug, Clone)]
enum Op {
    /// Rows into the parent table, with blobs of this size (overflow pages past ~4 KB).
    Insert { rows: u8, blob: u16 },
    /// Rows into the child table (foreign key, trigger into the audit table).
    Child { rows: u8 },
    /// Rows into the `WITHOUT ROWID` table.
    Keyed { rows: u8 },
    /// Blobs of every `nth` parent row resized.
    Update { nth: u8, blob: u16 },
    /// Every `nth` parent row without children deleted (pages freed).
    Delete { nth: u8 },
    /// A table created, filled and indexed, or dropped.
    Schema { create: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1..40u8, 0..9000u16).prop_map(|(rows, blob)| Op::Insert { rows, blob }),
        (1..20u8).prop_map(|rows| Op::Child { rows }),
        (1..30u8).prop_map(|rows| Op::Keyed { rows }),
        (1..5u8, 0..9000u16).prop_map(|(nth, blob)| Op::Update { nth, blob }),
        (1..5u8).prop_map(|nth| Op::Delete { nth }),
        any::<bool>().prop_map(|create| Op::Schema { create }),
    ]
}

/// How the database is set up.
#[derive(Debug, Clone)]
struct Setup {
    page_size: u32,
    journal_mode: &'static str,
    synchronous: &'static str,
    /// A tiny page cache: changes spill into the file mid-transaction, and the journal gets
    /// several segments.
    cache_pages: i32,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![Just(512u32), Just(1024), Just(4096), Just(65536)],
        prop_oneof![Just("DELETE"), Just("PERSIST"), Just("TRUNCATE")],
        prop_oneof![Just("OFF"), Just("NORMAL"), Just("FULL")],
        prop_oneof![Just(-2000i32), Just(2), Just(10)],
    )
        .prop_map(
            |(page_size, journal_mode, synchronous, cache_pages)| Setup {
                page_size,
                journal_mode,
                synchronous,
                cache_pages,
            },
        )
}

fn sql(op: &Op, step: usize) -> String {
    match op {
        Op::Insert { rows, blob } => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO parent (name, body) SELECT 'p{step}-' || i, randomblob({blob}) FROM n"
        ),
        Op::Child { rows } => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO child (parent_id, note) SELECT (SELECT id FROM parent ORDER BY random() \
             LIMIT 1), 'c{step}-' || i FROM n WHERE EXISTS (SELECT 1 FROM parent)"
        ),
        Op::Keyed { rows } => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT OR REPLACE INTO keyed (k, v) SELECT hex(randomblob(6)), randomblob(200) FROM n"
        ),
        Op::Update { nth, blob } => {
            format!("UPDATE parent SET body = randomblob({blob}) WHERE id % {nth} = 0")
        }
        Op::Delete { nth } => format!(
            "DELETE FROM parent WHERE id % {nth} = 0 AND id NOT IN (SELECT parent_id FROM child)"
        ),
        Op::Schema { create: true } => format!(
            "CREATE TABLE extra{step} (a INTEGER PRIMARY KEY, b TEXT); \
             INSERT INTO extra{step} (b) SELECT name FROM parent; \
             CREATE INDEX extra{step}_b ON extra{step} (b)"
        ),
        Op::Schema { create: false } => "DROP TABLE IF EXISTS audit_copy; \
             CREATE TABLE audit_copy AS SELECT * FROM audit"
            .to_owned(),
    }
}

const SCHEMA: &str = "\
    CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, body BLOB);\
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT);\
    CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\
    CREATE TRIGGER child_audit AFTER INSERT ON child BEGIN INSERT INTO audit (what) VALUES (NEW.note); END;\
    CREATE VIEW parents_with_children AS SELECT p.name, count(c.id) AS n FROM parent p JOIN child c ON c.parent_id = p.id GROUP BY p.id;\
    CREATE TABLE keyed (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;";

/// A new database at `db`, set up by `pragmas`, with [`SCHEMA`].
async fn open(db: &std::path::Path, pragmas: String) -> SqliteConnection {
    let options: SqliteConnectOptions = format!("sqlite://{}?mode=rwc", db.display())
        .parse()
        .expect("a database URL");
    let mut conn: SqliteConnection = options.foreign_keys(true).connect().await.expect("open");
    sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
        .execute(&mut conn)
        .await
        .expect("the pragmas");
    sqlx::raw_sql(SCHEMA)
        .execute(&mut conn)
        .await
        .expect("schema");
    conn
}

/// Runs `transactions` on a fresh database set up by `setup` (with `auto_vacuum` if
/// asked); after each commit, checks the hook's report against the file's pages.
async fn check(setup: &Setup, auto_vacuum: bool, transactions: &[Vec<Op>]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("t.db");
    let pragmas = format!(
        "PRAGMA page_size = {}; PRAGMA auto_vacuum = {}; PRAGMA journal_mode = {}; \
         PRAGMA synchronous = {}; PRAGMA cache_size = {};",
        setup.page_size,
        if auto_vacuum { "FULL" } else { "NONE" },
        setup.journal_mode,
        setup.synchronous,
        setup.cache_pages,
    );
    let mut conn = open(&db, pragmas).await;
    let reports: Arc<Mutex<Vec<Option<CommitPages>>>> = Arc::default();
    {
        let (reports, db) = (reports.clone(), db.clone());
        let mut handle = conn.lock_handle().await.expect("the connection's handle");
        handle.set_commit_hook(move || {
            reports
                .lock()
                .expect("the reports")
                .push(pending_commit(&db));
            true
        });
    }
    let page_size = setup.page_size as usize;
    for (step, ops) in transactions.iter().enumerate() {
        let before = std::fs::read(&db).expect("the database file");
        let mut tx = conn.begin().await.expect("begin");
        for (i, op) in ops.iter().enumerate() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql(op, step * 16 + i)))
                .execute(&mut *tx)
                .await
                .expect("a generated statement");
        }
        tx.commit().await.expect("commit");
        let after = std::fs::read(&db).expect("the database file");
        let report = reports
            .lock()
            .expect("the reports")
            .pop()
            .expect("the hook ran");
        let changed: Vec<usize> = (0..after.len().div_ceil(page_size))
            .filter(|p| {
                let range = p * page_size..((p + 1) * page_size).min(after.len());
                before.get(range.clone()) != Some(&after[range])
            })
            .collect();
        let Some(report) = report else {
            // A transaction that changed nothing opens no journal and needs no report.
            assert!(
                auto_vacuum || changed.is_empty() || changed.len() as u64 > MAX_RECORDS / 2,
                "no report for a commit of {} pages ({setup:?})",
                changed.len()
            );
            continue;
        };
        assert!(!auto_vacuum, "auto-vacuum commits must not be reported");
        let counter = u32::from_be_bytes(after[24..28].try_into().expect("four bytes"));
        assert_eq!(report.counter, counter, "the counter the commit left");
        assert_eq!(report.original_pages as usize, before.len() / page_size);
        for page in changed {
            assert!(
                page == 0
                    || page >= report.original_pages as usize
                    || report.pages.binary_search(&(page as u32)).is_ok(),
                "page index {page} changed but was not listed (step {step}, {setup:?}, \
                 listed {:?})",
                report.pages
            );
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every page a commit changes is listed, page 1 and appended pages aside; the counter
    /// is the one the commit leaves.
    #[test]
    fn every_changed_page_is_listed(
        setup in setup(),
        transactions in prop::collection::vec(prop::collection::vec(op(), 1..5), 1..12),
    ) {
        runtime().block_on(check(&setup, false, &transactions));
    }
}

/// Auto-vacuum moves pages at commit, after the hook: such commits are not reported.
#[test]
fn auto_vacuum_commits_are_not_reported() {
    let setup = Setup {
        page_size: 1024,
        journal_mode: "DELETE",
        synchronous: "FULL",
        cache_pages: -2000,
    };
    let fill = vec![Op::Insert {
        rows: 30,
        blob: 3000,
    }];
    let shrink = vec![Op::Delete { nth: 2 }];
    runtime().block_on(check(&setup, true, &[fill, shrink]));
}

/// A journal that is missing, not a journal, or of another page size gives no report.
#[test]
fn an_unreadable_journal_gives_no_report() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("t.db");
    let mut header = vec![0u8; 4096];
    header[..16].copy_from_slice(b"SQLite format 3\0");
    header[16..18].copy_from_slice(&4096u16.to_be_bytes());
    header[18] = 1;
    header[19] = 1;
    std::fs::write(&db, &header).expect("write");
    assert_eq!(pending_commit(&db), None, "no journal");
    let journal = super::journal_path(&db);
    std::fs::write(
        &journal,
        b"not a journal at all, but long enough to hold a header",
    )
    .expect("write");
    assert_eq!(pending_commit(&db), None, "no magic");
    let mut other = super::MAGIC.to_vec();
    for field in [0u32, 7, 3, 512, 1024] {
        other.extend_from_slice(&field.to_be_bytes());
    }
    std::fs::write(&journal, &other).expect("write");
    assert_eq!(pending_commit(&db), None, "another page size");
    let mut good = super::MAGIC.to_vec();
    for field in [u32::MAX, 7, 1, 512, 4096] {
        good.extend_from_slice(&field.to_be_bytes());
    }
    good.resize(512, 0);
    good.extend_from_slice(&1u32.to_be_bytes());
    let mut page = header.clone();
    page[24..28].copy_from_slice(&41u32.to_be_bytes());
    good.extend_from_slice(&page);
    // The nonce plus every 200th byte from the end (all zero here).
    good.extend_from_slice(&7u32.to_be_bytes());
    // A record of an earlier transaction: another nonce, not read.
    good.extend_from_slice(&2u32.to_be_bytes());
    good.extend_from_slice(&page);
    good.extend_from_slice(&9u32.to_be_bytes());
    std::fs::write(&journal, &good).expect("write");
    assert_eq!(
        pending_commit(&db),
        Some(CommitPages {
            counter: 42,
            original_pages: 1,
            pages: vec![0],
        }),
        "page 1 journaled: its original counter, plus one"
    );
}

/// What reading a commit's journal costs inside the commit (a measurement: run with
/// `--release --ignored --nocapture`): commits of a blog-like write, with and without.
#[test]
#[ignore = "a measurement"]
fn cost_of_reading_the_journal_at_each_commit() {
    runtime().block_on(async {
        for hooked in [false, true, true, false, false, true] {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let db = dir.path().join("t.db");
            let mut conn = open(&db, "PRAGMA synchronous = OFF".to_owned()).await;
            if hooked {
                let db = db.clone();
                let mut handle = conn.lock_handle().await.expect("the connection's handle");
                handle.set_commit_hook(move || {
                    std::hint::black_box(pending_commit(&db));
                    true
                });
            }
            let start = std::time::Instant::now();
            for step in 0..2000 {
                let mut tx = conn.begin().await.expect("begin");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql(
                    &Op::Insert { rows: 1, blob: 300 },
                    step,
                )))
                .execute(&mut *tx)
                .await
                .expect("an insert");
                tx.commit().await.expect("commit");
            }
            println!("hooked {hooked}: {:?} per commit", start.elapsed() / 2000);
        }
    });
}
