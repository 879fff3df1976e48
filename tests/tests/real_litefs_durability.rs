//! `Durability::Candidates` on real LiteFS: replicas report their `<db>-pos` (TXID and
//! checksum) to the primary, which answers a write only once every candidate holds it; a
//! stopped candidate makes it "committed, not replicated"; after a failover a replica's
//! report from the old history is not counted, whatever its TXID. Skips without LiteFS.

use std::net::SocketAddr;
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{CommitState, Durability, RepoError};
use repo_litefs::durability::{Candidates, DurabilityConfig};
use repo_litefs::position::read_pos;
use repo_litefs::proto as pb;
use repo_tests::cluster::SECRET;
use repo_tests::real_litefs::{DB, LiteFsCluster, StackOptions, Stacks};
use repo_tests::write_script::new_tag;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::time::Instant;

const NAMES: [&str; 3] = ["node-1", "node-2", "node-3"];

/// Every node must hold a `Candidates` write; waits last at most 5 s.
fn options(without: &[&str]) -> StackOptions {
    StackOptions {
        durability: Some(
            DurabilityConfig::new(Candidates::named(NAMES)).wait(Duration::from_secs(5)),
        ),
        without: without.iter().map(|n| (*n).to_owned()).collect(),
        ..StackOptions::default()
    }
}

async fn tags_named(db: &impl ConnectionTrait, name: &str) -> u64 {
    tag::Entity::find()
        .filter(tag::Column::Name.eq(name))
        .count(db)
        .await
        .expect("count")
}

/// Node `i`'s `<db>-pos`: TXID and checksum.
async fn pos(cluster: &LiteFsCluster, i: usize) -> (u64, u64) {
    read_pos(&cluster.nodes[i].mount.join(format!("{DB}-pos")))
        .await
        .unwrap_or((0, 0))
}

/// Waits until node `i` is at node `of`'s TXID.
async fn caught_up(cluster: &LiteFsCluster, i: usize, of: usize) {
    let until = Instant::now() + Duration::from_secs(20);
    while pos(cluster, i).await.0 < pos(cluster, of).await.0 {
        assert!(Instant::now() < until, "node {i} did not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_not_replicated<T: std::fmt::Debug>(result: Result<T, RepoError>, missing: &str) {
    match result {
        Err(e @ RepoError::NotReplicated { .. }) => {
            assert_eq!(e.commit_state(), CommitState::Committed, "{e}");
            assert!(e.to_string().contains(missing), "{e}");
        }
        other => panic!("expected NotReplicated naming {missing}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_waits_for_both_replicas_and_a_stopped_one_makes_it_not_replicated() {
    let Some(mut cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    let stacks = Stacks::start_with(&cluster, options(&[])).await;
    for (writer, name) in [("node-2", "forwarded"), ("node-1", "local")] {
        stacks
            .node(writer)
            .repo
            .insert(new_tag(name))
            .durability(Durability::Candidates)
            .timeout(Duration::from_secs(10))
            .await
            .expect("acknowledged once both replicas hold it");
        // On return, both replicas already hold it: no waiting here.
        for node in NAMES {
            assert_eq!(
                tags_named(&stacks.node(node).db, name).await,
                1,
                "{name} on {node}"
            );
        }
    }

    tokio::task::block_in_place(|| cluster.nodes[2].stop());
    let result = stacks
        .node("node-2")
        .repo
        .insert(new_tag("unreplicated"))
        .durability(Durability::Candidates)
        .timeout(Duration::from_secs(3))
        .await;
    assert_not_replicated(result, "node-3");
    assert_eq!(
        tags_named(&stacks.node("node-1").db, "unreplicated").await,
        1,
        "committed on the primary"
    );
    stacks.close().await;
    cluster.shutdown().await;
}

/// Sends `node`'s position report to the server at `addr`, as its reporter would.
async fn report(addr: SocketAddr, node: &str, (txid, checksum): (u64, u64)) {
    let Ok(mut client) =
        pb::forwarder_client::ForwarderClient::connect(format!("http://{addr}")).await
    else {
        return;
    };
    let mut request = tonic::Request::new(pb::PositionReport {
        node: node.to_owned(),
        lineage: 0,
        txid,
        checksum,
        primary: "node-2".to_owned(),
    });
    let bearer = format!("Bearer {SECRET}").parse().expect("metadata");
    request.metadata_mut().insert("authorization", bearer);
    let _ = client.report_position(request).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_a_replica_report_from_the_old_history_is_not_counted() {
    let Some(mut cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    stacks
        .node("node-3")
        .repo
        .insert(new_tag("before"))
        .await
        .expect("write");
    caught_up(&cluster, 1, 0).await;
    stacks.close().await;

    // node-2 stops; node-1 writes a tail only node-3 gets: node-3's position then is a
    // state of a history the next primary (node-2) never has.
    tokio::task::block_in_place(|| cluster.nodes[1].stop());
    let primary = Database::connect(format!(
        "sqlite://{}?mode=rw",
        cluster.nodes[0].db_path(DB).display()
    ))
    .await
    .expect("open the primary");
    for i in 0..5 {
        primary
            .execute_unprepared(&format!("INSERT INTO tags (name) VALUES ('tail-{i}')"))
            .await
            .expect("tail");
    }
    primary.close().await.expect("close");
    caught_up(&cluster, 2, 0).await;
    let stale = pos(&cluster, 2).await;

    cluster
        .restart_with_primary(1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stacks = Stacks::start_with(&cluster, options(&["node-3"])).await;
    let new_primary = stacks.node("node-2");
    // Bring node-2 to one TXID below the stale report, so the next write lands on its TXID.
    while pos(&cluster, 1).await.0 + 1 < stale.0 {
        new_primary
            .repo
            .insert(new_tag(&format!("new-{}", pos(&cluster, 1).await.0)))
            .await
            .expect("write on the new primary");
    }
    assert_eq!(
        pos(&cluster, 1).await.0 + 1,
        stale.0,
        "set-up: one TXID below"
    );

    // node-3's old position keeps being reported, as a late reporter would.
    let addr = new_primary.addr;
    let reporting = tokio::spawn(async move {
        loop {
            report(addr, "node-3", stale).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let result = stacks
        .node("node-1")
        .repo
        .insert(new_tag("after"))
        .durability(Durability::Candidates)
        .timeout(Duration::from_secs(3))
        .await;
    reporting.abort();
    let now = pos(&cluster, 1).await;
    assert_eq!(
        now.0, stale.0,
        "set-up: the write is at the stale report's TXID"
    );
    assert_ne!(now.1, stale.1, "set-up: another database at that TXID");
    assert_not_replicated(result, "node-3");

    // node-3's true position (LiteFS brought it onto node-2's history) counts.
    let addr = new_primary.addr;
    let mount = cluster.nodes[2].mount.join(format!("{DB}-pos"));
    let reporting = tokio::spawn(async move {
        loop {
            if let Some(at) = read_pos(&mount).await {
                report(addr, "node-3", at).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let result = stacks
        .node("node-1")
        .repo
        .insert(new_tag("counted"))
        .durability(Durability::Candidates)
        .timeout(Duration::from_secs(10))
        .await;
    reporting.abort();
    result.expect("node-3's true position is counted");
    stacks.close().await;
    cluster.shutdown().await;
}
