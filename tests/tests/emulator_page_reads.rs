//! The emulator learns which pages a commit of a node's guarded writer writes (from its
//! rollback journal, at the commit hook) and reads only those pages of the primary: its
//! cost follows what changed, not the database's size. The replicas still equal the
//! primary page for page, whatever the writes did (rows inserted, grown, deleted, pages
//! freed and reused, a schema with a foreign key, a trigger and a view).

use std::time::Duration;

use repo_core::Durability;
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use repo_tests::history_row;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// `node`'s database file, its header's change counters masked (each replica's counts
/// its own copies, by design).
fn pages_of(cluster: &EmulatedCluster, node: &str) -> Vec<u8> {
    let path = &cluster.emulator.node(node).expect("node").db_path;
    let mut bytes = std::fs::read(path).expect("read");
    for at in [24..28, 92..96] {
        bytes[at].fill(0);
    }
    bytes
}

fn row(key: String, account: i64) -> history_row::ActiveModel {
    history_row::ActiveModel {
        key: Set(key),
        account_id: Set(Some(account)),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guarded_commits_are_read_by_their_pages_and_replicas_stay_equal() {
    let mut cluster = EmulatedCluster::start(ClusterSpec {
        nodes: 3,
        lag: Duration::from_millis(2),
        durability: Durability::Primary,
        schema: Schema::Relational,
    })
    .await;
    let (primary, replica) = (cluster.node("node-1").repo(), cluster.node("node-2").repo());
    // A few MB of rows, written through the primary's guarded writer.
    for batch in 0..40 {
        let rows = (0..25).map(|i| row(format!("{batch}-{i}-{}", "x".repeat(3000)), i % 4));
        primary
            .insert_all(history_row::Entity::insert_many(rows))
            .await
            .expect("a batch");
    }
    assert!(cluster.emulator.wait_synced(Duration::from_secs(30)).await);
    let size = std::fs::metadata(&cluster.emulator.node("node-1").expect("node").db_path)
        .expect("size")
        .len();
    assert!(size > 3_000_000, "a database of {size} bytes");
    let (reads, whole) = (
        cluster.emulator.primary_reads(),
        cluster.emulator.whole_reads(),
    );

    // Small writes of every kind, from the primary and forwarded from a replica: inserts,
    // growing and shrinking rows, deletes (pages freed), then inserts reusing them.
    for i in 0..60i64 {
        let repo = if i % 2 == 0 { primary } else { replica };
        match i % 4 {
            0 | 1 => {
                repo.insert(row(format!("small-{i}"), i % 4))
                    .await
                    .expect("insert");
            }
            2 => {
                repo.update_all(
                    history_row::Entity::update_many()
                        .col_expr(
                            history_row::Column::Key,
                            sea_orm::sea_query::Expr::value("y".repeat(5000)),
                        )
                        .filter(history_row::Column::Id.eq(i * 7)),
                )
                .await
                .expect("update");
            }
            _ => {
                repo.delete_all(
                    history_row::Entity::delete_many()
                        .filter(history_row::Column::Id.between(i * 10, i * 10 + 5)),
                )
                .await
                .expect("delete");
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(cluster.emulator.wait_synced(Duration::from_secs(30)).await);
    let reads = cluster.emulator.primary_reads() - reads;
    let whole = cluster.emulator.whole_reads() - whole;
    assert!(reads >= 10, "the writes were read apart: {reads} reads");
    assert!(
        whole == 0,
        "{whole} of {reads} reads of the primary were whole-file reads: the guarded commits' \
         pages were not listed"
    );

    cluster.stop_nodes().await;
    assert!(cluster.emulator.wait_synced(Duration::from_secs(30)).await);
    let primary = pages_of(&cluster, "node-1");
    for node in ["node-2", "node-3"] {
        let replica = pages_of(&cluster, node);
        assert_eq!(replica.len(), primary.len(), "{node}'s file length");
        let differ: Vec<usize> = (0..primary.len() / 4096)
            .filter(|p| primary[p * 4096..(p + 1) * 4096] != replica[p * 4096..(p + 1) * 4096])
            .collect();
        assert!(
            differ.is_empty(),
            "{node}'s pages {differ:?} differ from the primary's"
        );
    }
}
