//! Primary discovery from LiteFS's `.primary` file drives forwarding end to end, and the
//! forwarding server finishes in-flight writes when it shuts down.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{NamedTransaction, Repo};
use repo_litefs::tracker::{PrimaryState, PrimaryTracker, TrackerConfig};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, ServerConfig,
};
use repo_tests::cluster::{Cluster, SECRET, blog_builder, migrated};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, Set};

#[tokio::test]
async fn a_replica_follows_the_primary_named_in_its_primary_file() {
    // node-1 is the primary, node-2 a writable standby, node-3 a replica whose tracker
    // polls a `.primary` file that the test writes, as LiteFS would.
    let cluster = Cluster::start_with(2, 1).await;
    let mount = tempfile::tempdir().expect("mount dir");
    std::fs::write(mount.path().join(".primary"), "node-1\n").expect("write .primary");
    let tracker = PrimaryTracker::spawn(
        TrackerConfig::new()
            .mount_dir(mount.path())
            .poll_interval(Duration::from_millis(10)),
    );
    let replica_db = cluster.replica(2).db.clone();
    let forward = ForwardLayer::new(
        ForwardConfig::new(
            tracker.clone(),
            cluster.endpoints.clone(),
            ClusterSecret::new(SECRET).expect("secret"),
            "node-3",
        )
        .primary_wait(Duration::from_secs(5)),
    );
    let replica = blog_builder(replica_db).layer(forward).build();

    replica
        .insert(tag::ActiveModel {
            name: Set("first".into()),
            ..Default::default()
        })
        .await
        .expect("to node-1");

    // Failover: LiteFS names node-2; the nodes learn their new roles.
    cluster.set_primary("node-2");
    let mut changes = tracker.subscribe();
    std::fs::write(mount.path().join(".primary"), "node-2\n").expect("rewrite .primary");
    tokio::time::timeout(Duration::from_secs(10), async {
        while tracker.current().primary.as_deref() != Some("node-2") {
            changes.changed().await.expect("tracker alive");
        }
    })
    .await
    .expect("the tracker saw the new primary");
    replica
        .insert(tag::ActiveModel {
            name: Set("second".into()),
            ..Default::default()
        })
        .await
        .expect("to node-2");

    let mut counts = Vec::new();
    for node in &cluster.nodes {
        counts.push(tag::Entity::find().count(&node.db).await.expect("count"));
    }
    assert_eq!(
        counts,
        [1, 1, 0],
        "one write on each primary, none on the replica itself"
    );
}

/// Signals that [`SlowTag`] has started on the server.
static STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Writes a tag, but slowly: long enough for a shutdown to begin meanwhile.
struct SlowTag;

impl NamedTransaction for SlowTag {
    const NAME: &'static str = "slow_tag.v1";
    type Args = String;
    type Output = i32;

    async fn run(txn: &DatabaseTransaction, name: String) -> Result<i32, DbErr> {
        STARTED.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(tag::ActiveModel {
            name: Set(name),
            ..Default::default()
        }
        .insert(txn)
        .await?
        .id)
    }
}

#[tokio::test]
async fn shutdown_finishes_in_flight_writes() {
    let dir = tempfile::tempdir().expect("dir");
    let primary_db = migrated(&dir.path().join("p.db")).await;
    let secret = ClusterSecret::new(SECRET).expect("secret");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tracker, _h) = PrimaryTracker::manual(PrimaryState::primary(Some("node-1".into())));
    let primary = Repo::builder(primary_db.clone())
        .transaction::<SlowTag>()
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        ForwardServer::new(
            primary.executor(),
            tracker,
            ServerConfig::new(secret.clone(), "node-1"),
        )
        .serve(listener, async move {
            let _ = stopped.await;
        }),
    );

    let (replica_tracker, _r) =
        PrimaryTracker::manual(PrimaryState::replica(Some("node-1".into())));
    let replica = Repo::builder(primary_db.clone())
        .transaction::<SlowTag>()
        .layer(ForwardLayer::new(ForwardConfig::new(
            replica_tracker,
            Endpoints::map([("node-1", format!("http://{addr}"))]),
            secret,
            "node-2",
        )))
        .build();
    let write =
        tokio::spawn(async move { replica.transaction::<SlowTag>("in-flight".into()).await });
    // Once the write is running on the server, ask the server to stop.
    tokio::time::timeout(Duration::from_secs(10), STARTED.notified())
        .await
        .expect("the write started");
    let _ = stop.send(());
    let id = write
        .await
        .expect("join")
        .expect("the in-flight write completed and was answered");
    assert!(id > 0);
    server.await.expect("join").expect("clean shutdown");
    assert_eq!(
        tag::Entity::find().count(&primary_db).await.expect("count"),
        1
    );
}
