//! The cross-region harness in a test: real LiteFS with 25 ms each way between nodes
//! (50 ms round trip) for LiteFS's own replication and for our gRPC forwarding. Skips
//! without LiteFS, unless `CI_REQUIRE_LITEFS` is set.

use std::sync::atomic::Ordering;
use std::time::Duration;

use blog_example::entities::tag;
use repo_tests::real_litefs::{LiteFsCluster, Stacks};
use repo_tests::write_script::new_tag;
use sea_orm::EntityTrait;

const ONE_WAY: Duration = Duration::from_millis(25);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_forwarded_across_regions_is_readable_on_the_replica_when_it_returns() {
    let Some(cluster) =
        LiteFsCluster::start_or_skip_across(&["node-1", "node-2", "node-3"], ONE_WAY).await
    else {
        return;
    };
    assert_eq!(cluster.link_delay(), Some(ONE_WAY));
    let stacks = Stacks::start(&cluster).await;
    let replica = stacks.node("node-2");
    let written = replica
        .repo
        .insert(new_tag("far away"))
        .await
        .expect("forwarded across the delayed link");
    let read = tag::Entity::find_by_id(written.id)
        .one(&replica.db)
        .await
        .expect("read on the replica's own file");
    assert_eq!(
        read.map(|t| t.name).as_deref(),
        Some("far away"),
        "read your writes: replicated over the delayed link before the call returned"
    );
    assert_eq!(replica.executed.count(), 0, "not run on the replica");
    // Both kinds of traffic crossed the delayed links to node-1.
    assert!(
        stacks.links[0].accepted.load(Ordering::SeqCst) > 0,
        "the forwarding went through node-1's link"
    );
    assert!(
        cluster.links()[0].accepted.load(Ordering::SeqCst) >= 2,
        "both replicas' LiteFS reached the primary through its link"
    );
    stacks.close().await;
    cluster.shutdown().await;
}
