//! Optional TLS between nodes: a replica that trusts the primary's certificate forwards
//! over TLS; one that speaks plain HTTP/2 to a TLS server is refused and writes nothing.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::RepoError;
use repo_litefs::tracker::{PrimaryState, PrimaryTracker};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, ServerConfig,
};
use repo_tests::cluster::{SECRET, blog_builder, migrated};
use sea_orm::{Database, EntityTrait, PaginatorTrait, Set};

#[tokio::test]
async fn forwarding_over_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let primary_db = migrated(&dir.path().join("p.db")).await;
    let replica_path = dir.path().join("r.db");
    std::fs::copy(dir.path().join("p.db"), &replica_path).expect("copy");
    let replica_db = Database::connect(format!("sqlite://{}?mode=ro", replica_path.display()))
        .await
        .expect("ro");

    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let secret = ClusterSecret::new(SECRET).expect("secret");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (primary_tracker, _p) =
        PrimaryTracker::manual(PrimaryState::primary(Some("node-1".into())));
    let primary = blog_builder(primary_db.clone()).build();
    let server = ForwardServer::new(
        primary.executor(),
        primary_tracker,
        ServerConfig::new(secret.clone(), "node-1").tls(&cert_pem, &key_pem),
    );
    tokio::spawn(server.serve(listener, std::future::pending()));

    let replica = |url: String, tls: bool| {
        let (tracker, handle) =
            PrimaryTracker::manual(PrimaryState::replica(Some("node-1".into())));
        std::mem::forget(handle);
        let mut config = ForwardConfig::new(
            tracker,
            Endpoints::map([("node-1", url)]),
            secret.clone(),
            "node-2",
        )
        .primary_wait(Duration::from_millis(100));
        if tls {
            config = config.tls(&cert_pem, Some("localhost".into()));
        }
        blog_builder(replica_db.clone())
            .layer(ForwardLayer::new(config))
            .build()
    };

    let secure = replica(format!("https://127.0.0.1:{port}"), true);
    let stored = secure
        .insert(tag::ActiveModel {
            name: Set("over-tls".into()),
            ..Default::default()
        })
        .await
        .expect("forwarded over TLS");
    assert_eq!(stored.name, "over-tls");

    let plain = replica(format!("http://127.0.0.1:{port}"), false);
    let err = plain
        .insert(tag::ActiveModel {
            name: Set("in-clear".into()),
            ..Default::default()
        })
        .timeout(Duration::from_secs(5))
        .await
        .expect_err("plain text to a TLS server");
    assert!(
        matches!(
            err,
            RepoError::Unreachable { .. } | RepoError::Timeout { .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        tag::Entity::find().count(&primary_db).await.expect("count"),
        1
    );
}
