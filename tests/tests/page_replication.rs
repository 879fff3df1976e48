//! Page replication: whatever the schema (plain and cascading foreign keys, a trigger, a
//! view, a `WITHOUT ROWID` table, any column type), the emulator's replication ships the
//! primary's committed state, keeps doing so after many changes, and a write forwarded from
//! a replica is read back there at once.

use std::time::Duration;

use repo_core::Repo;
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

const SCHEMA: &str = "
    CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE child(id INTEGER PRIMARY KEY,
                       parent_id INTEGER NOT NULL REFERENCES parent(id),
                       note TEXT);
    CREATE TABLE cascaded(id INTEGER PRIMARY KEY,
                          parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
    CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT NOT NULL);
    CREATE TRIGGER child_audit AFTER INSERT ON child
        BEGIN INSERT INTO audit(what) VALUES ('child ' || NEW.id); END;
    CREATE VIEW child_names AS
        SELECT c.id AS id, p.name AS name FROM child c JOIN parent p ON p.id = c.parent_id;
    CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB, r REAL, d NUMERIC, j TEXT) WITHOUT ROWID;
";

async fn replicated_cluster() -> Cluster {
    let cluster = Cluster::start_replicated(
        1,
        Replication {
            lag: Duration::from_millis(2),
            wait: Duration::from_secs(5),
            on_lag: OnLag::Fail,
        },
    )
    .await;
    cluster
        .primary()
        .db
        .execute_unprepared(SCHEMA)
        .await
        .expect("schema on the primary");
    cluster
}

/// Runs a write on `repo` (forwarded from a replica), failing the test on any error.
async fn write(repo: &Repo, sql: &str) {
    repo.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index(0)
        .expect("an integer")
}

async fn text(db: &impl ConnectionTrait, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index(0)
        .expect("text")
}

/// The schema and every row of every table of `db`, as text, in a stable order.
async fn dump(db: &DatabaseConnection) -> Vec<String> {
    let mut out = Vec::new();
    let objects = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name, type, coalesce(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
        ))
        .await
        .expect("schema");
    for object in objects {
        let name: String = object.try_get_by_index(0).expect("name");
        let kind: String = object.try_get_by_index(1).expect("type");
        let sql: String = object.try_get_by_index(2).expect("sql");
        out.push(format!("{kind} {name}: {sql}"));
        if kind != "table" {
            continue;
        }
        let columns = text(
            db,
            &format!(
                "SELECT group_concat('quote(\"' || name || '\")', ' || ''|'' || ') \
                 FROM pragma_table_info('{name}')"
            ),
        )
        .await;
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("SELECT {columns} FROM \"{name}\" ORDER BY 1"),
            ))
            .await
            .expect("rows");
        for row in rows {
            let row: String = row.try_get_by_index(0).expect("row text");
            out.push(format!("{name}: {row}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_schema_replicates_and_forwarded_writes_read_back() {
    let cluster = replicated_cluster().await;
    let replica = &cluster.replica(1).repo;

    write(
        replica,
        "INSERT INTO parent(id, name) VALUES (1, 'one'), (2, 'two')",
    )
    .await;
    // A plain foreign key with a child row: a row-copying replicator's DELETE of `parent`
    // fails from here on.
    write(
        replica,
        "INSERT INTO child(id, parent_id, note) VALUES (10, 1, 'first')",
    )
    .await;
    assert_eq!(scalar(replica, "SELECT count(*) FROM child").await, 1);
    write(
        replica,
        "INSERT INTO cascaded(id, parent_id) VALUES (20, 2)",
    )
    .await;
    write(
        replica,
        "INSERT INTO kv(k, v, r, d, j) VALUES ('key', x'00ff10', 1.5, 12.25, '{\"a\":[1,2]}')",
    )
    .await;
    assert_eq!(
        text(
            replica,
            "SELECT hex(v) || '|' || r || '|' || d || '|' || j FROM kv"
        )
        .await,
        "00FF10|1.5|12.25|{\"a\":[1,2]}"
    );

    // ON DELETE CASCADE ran on the primary; the replica sees its result.
    write(replica, "DELETE FROM parent WHERE id = 2").await;
    assert_eq!(scalar(replica, "SELECT count(*) FROM cascaded").await, 0);

    // The trigger ran once per insert, on the primary only; the view sees both children.
    write(
        replica,
        "INSERT INTO child(id, parent_id, note) VALUES (11, 1, 'second')",
    )
    .await;
    assert_eq!(scalar(replica, "SELECT count(*) FROM audit").await, 2);
    assert_eq!(
        text(
            replica,
            "SELECT group_concat(id || name, ',') FROM child_names"
        )
        .await,
        "10one,11one"
    );

    // The replica's file is a sound copy of the primary's.
    let replica_db = &cluster.replica(1).db;
    assert_eq!(text(replica_db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(
        scalar(replica_db, "SELECT count(*) FROM pragma_foreign_key_check").await,
        0
    );
    assert_eq!(dump(&cluster.primary().db).await, dump(replica_db).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_keeps_working_after_many_changes() {
    let cluster = replicated_cluster().await;
    let replica = &cluster.replica(1).repo;
    write(replica, "INSERT INTO parent(id, name) VALUES (1, 'one')").await;
    for i in 0..300 {
        write(
            replica,
            &format!(
                "INSERT INTO child(id, parent_id, note) VALUES ({i} + 100, 1, '{}')",
                "x".repeat(i % 700)
            ),
        )
        .await;
        if i % 3 == 0 {
            write(
                replica,
                &format!("UPDATE child SET note = 'updated' WHERE id = {i} + 100"),
            )
            .await;
        }
        if i % 5 == 0 {
            write(replica, &format!("DELETE FROM child WHERE id = {i} + 100")).await;
        }
    }
    // Read back on the replica, right after the last write.
    assert_eq!(scalar(replica, "SELECT count(*) FROM child").await, 240);
    assert_eq!(scalar(replica, "SELECT count(*) FROM audit").await, 300);
    assert!(
        cluster
            .replicator
            .as_ref()
            .expect("replicated")
            .wait_synced(Duration::from_secs(10))
            .await
    );
    let replica_db = &cluster.replica(1).db;
    assert_eq!(text(replica_db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(dump(&cluster.primary().db).await, dump(replica_db).await);
}
