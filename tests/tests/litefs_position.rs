//! Read your writes by TXID: the primary reports its `<db>-pos` TXID after the commit, and a
//! replica stops waiting as soon as its own `<db>-pos` reaches it (here no data replicates,
//! so only the TXID can end the wait).

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::RepoError;
use repo_litefs::tracker::{PrimaryState, PrimaryTracker};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, OnLag, ReadYourWrites,
    ServerConfig,
};
use repo_tests::cluster::{SECRET, blog_builder, migrated};
use sea_orm::{Database, Set};

fn pos(txid: u64) -> String {
    format!("{txid:016x}/{:016x}\n", txid * 7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_ends_when_the_local_txid_reaches_the_primarys() {
    let dir = tempfile::tempdir().expect("dir");
    let primary_db = migrated(&dir.path().join("p.db")).await;
    let replica_path = dir.path().join("r.db");
    std::fs::copy(dir.path().join("p.db"), &replica_path).expect("copy");
    let replica_db = Database::connect(format!("sqlite://{}?mode=ro", replica_path.display()))
        .await
        .expect("ro");
    let (primary_pos, replica_pos) = (dir.path().join("p.db-pos"), dir.path().join("r.db-pos"));
    std::fs::write(&primary_pos, pos(5)).expect("pos");
    std::fs::write(&replica_pos, pos(4)).expect("pos");

    let secret = ClusterSecret::new(SECRET).expect("secret");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tracker, _p) = PrimaryTracker::manual(PrimaryState::primary(Some("node-1".into())));
    let primary = blog_builder(primary_db).build();
    let config = ServerConfig::new(secret.clone(), "node-1").litefs_position(&primary_pos);
    tokio::spawn(
        ForwardServer::new(primary.executor(), tracker, config)
            .serve(listener, std::future::pending()),
    );

    let replica = |wait: Duration| {
        let (tracker, handle) =
            PrimaryTracker::manual(PrimaryState::replica(Some("node-1".into())));
        std::mem::forget(handle);
        let ryw = ReadYourWrites::new(replica_db.clone())
            .wait(wait)
            .on_lag(OnLag::Fail)
            .litefs_position(&replica_pos);
        let config = ForwardConfig::new(
            tracker,
            Endpoints::map([("node-1", format!("http://{addr}"))]),
            secret.clone(),
            "node-2",
        )
        .read_your_writes(ryw);
        blog_builder(replica_db.clone())
            .layer(ForwardLayer::new(config))
            .build()
    };

    // The replica's TXID (4) is behind the primary's (5): a short wait ends in a lag error.
    let err = replica(Duration::from_millis(100))
        .insert(tag::ActiveModel {
            name: Set("behind".into()),
            ..Default::default()
        })
        .await
        .expect_err("not caught up");
    assert!(matches!(err, RepoError::ReplicationLag { .. }), "{err:?}");

    // LiteFS applies TXID 5 on the replica while the call waits: the wait ends then.
    let writer = replica(Duration::from_secs(10));
    let replica_pos_later = replica_pos.clone();
    let apply = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::fs::write(&replica_pos_later, pos(5)).expect("pos");
    });
    writer
        .insert(tag::ActiveModel {
            name: Set("caught-up".into()),
            ..Default::default()
        })
        .await
        .expect("caught up by TXID");
    apply.await.expect("join");
}
