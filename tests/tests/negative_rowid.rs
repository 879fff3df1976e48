//! A row inserted with a negative rowid (`INSERT … VALUES (-1, …)`) is an ordinary write:
//! it commits once and is answered as committed, locally and forwarded. (sea-orm panics
//! when asked for a negative last insert id; asked after the statement had committed, that
//! panic once answered "internal error, rolled back" for a row that was in the file.)

use std::time::Duration;

use repo_core::Durability;
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

async fn count(cluster: &EmulatedCluster, id: i64) -> i64 {
    let db = cluster.open("node-1").await;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT count(*) FROM history_rows WHERE id = {id}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get_by_index(0).expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_rowid_commits_once_and_is_answered_as_committed() {
    let cluster = EmulatedCluster::start(ClusterSpec {
        nodes: 2,
        lag: Duration::from_millis(2),
        durability: Durability::Primary,
        schema: Schema::Plain,
    })
    .await;
    for (node, id) in [("node-1", -1), ("node-2", -2)] {
        let answer = cluster
            .node(node)
            .repo()
            .execute_unprepared(&format!(
                "INSERT INTO history_rows (id, key) VALUES ({id}, 'negative')"
            ))
            .await;
        let result = answer.unwrap_or_else(|e| panic!("through {node}: {e}"));
        assert_eq!(result.rows_affected(), 1, "through {node}");
        assert_eq!(
            count(&cluster, id).await,
            1,
            "through {node}: the row, once"
        );
    }
}
