//! A partition between a replica and the primary: the circuit breaker opens, calls fail
//! fast without touching the network, and forwarding recovers once the partition heals.

use std::sync::atomic::Ordering;
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::RepoError;
use repo_litefs::tracker::PrimaryTracker;
use repo_litefs::{ClusterSecret, Endpoints, ForwardConfig, ForwardLayer};
use repo_middleware::{BreakerConfig, BreakerState, CircuitBreakerLayer};
use repo_tests::cluster::{Cluster, SECRET, blog_builder, state_for};
use repo_tests::proxy::Proxy;
use sea_orm::{EntityTrait, PaginatorTrait, Set};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_on_a_partition_and_closes_after_it_heals() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let breaker = CircuitBreakerLayer::new(
        BreakerConfig::default()
            .name("node-1")
            .consecutive_failures(3)
            .open_for(Duration::from_millis(300))
            .half_open(1, 1),
    );
    let (tracker, _handle) = PrimaryTracker::manual(state_for("node-2", "node-1"));
    let forward = ForwardLayer::new(ForwardConfig::new(
        tracker,
        Endpoints::map([("node-1", format!("http://{}", proxy.addr))]),
        ClusterSecret::new(SECRET).expect("secret"),
        "node-2",
    ));
    let replica = blog_builder(cluster.replica(1).db.clone())
        .layer(breaker.clone())
        .layer(forward)
        .build();

    replica
        .insert(new_tag("before"))
        .await
        .expect("through the proxy");

    proxy.cut();
    for i in 0..3 {
        let err = replica
            .insert(new_tag(&format!("cut-{i}")))
            .timeout(Duration::from_secs(5))
            .await
            .expect_err("partitioned");
        assert!(
            matches!(
                err,
                RepoError::Unreachable { .. } | RepoError::Timeout { .. }
            ),
            "{err:?}"
        );
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let attempts = proxy.accepted.load(Ordering::SeqCst);
    let err = replica
        .insert(new_tag("fast"))
        .await
        .expect_err("fails fast");
    assert!(matches!(err, RepoError::CircuitOpen { .. }), "{err:?}");
    assert_eq!(
        proxy.accepted.load(Ordering::SeqCst),
        attempts,
        "an open breaker does not touch the network"
    );

    proxy.heal();
    tokio::time::sleep(Duration::from_millis(350)).await; // the breaker's open period
    replica
        .insert(new_tag("after"))
        .await
        .expect("the probe goes through");
    assert_eq!(breaker.state(), BreakerState::Closed);
    let names: Vec<String> = tag::Entity::find()
        .all(&cluster.primary().db)
        .await
        .expect("rows")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        ["before", "after"],
        "nothing from the partition was written"
    );
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.replica(1).db)
            .await
            .expect("count"),
        0
    );
}
