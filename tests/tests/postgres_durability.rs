//! `Durability::Candidates` on real PostgreSQL 15 (a primary and two streaming standbys,
//! a node on each): a write is answered only once both standbys have flushed it; with one
//! standby down it is committed on the primary and answered `NotReplicated`, forwarded or
//! local, while `Durability::Primary` writes go on; once the standby is back, `Candidates`
//! writes are answered again. Skips with a message when PostgreSQL is missing, unless
//! `CI_REQUIRE_POSTGRES` is set.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{CommitState, Durability, RepoError};
use repo_litefs::Node;
use repo_litefs::durability::{Candidates, DurabilityConfig};
use repo_postgres::RoleConfig;
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::listeners::listeners;
use repo_tests::postgres::nodes::{scalar, test_config};
use repo_tests::write_script::new_tag;
use sea_orm::DatabaseConnection;

/// How long the primary waits for the candidates.
const WAIT: Duration = Duration::from_secs(2);

async fn connect(url: &str) -> DatabaseConnection {
    repo_postgres::connect(url, Duration::from_secs(5))
        .await
        .expect("connect")
}

/// The rows of `tags` named `name` on `db`.
async fn named(db: &DatabaseConnection, name: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT count(*) FROM tags WHERE name = '{name}'"),
    )
    .await
}

/// Whether `error` says the write committed on the primary but not on every candidate.
fn not_replicated(error: &RepoError) -> bool {
    matches!(error, RepoError::NotReplicated { .. })
        && error.commit_state() == CommitState::Committed
}

#[test]
fn candidates_writes_are_answered_once_every_standby_flushed_them() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.add_standby().expect("a second standby");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (mut ls, endpoints) = listeners(3).await;
        let durability =
            DurabilityConfig::new(Candidates::named(["pg-1", "pg-2", "pg-3"])).wait(WAIT);
        let urls = [
            cluster.primary.url(),
            cluster.standby.url(),
            cluster.more[0].url(),
        ];
        let mut nodes = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            let name = format!("pg-{}", i + 1);
            let role = RoleConfig::new(&name, "pg-1").interval(Duration::from_millis(100));
            let config =
                test_config(&connect(url).await, &endpoints, role).durability(durability.clone());
            let node = Node::start(config, ls.remove(0)).await.expect("start");
            nodes.push(node);
        }
        let (pg1, pg2) = (&nodes[0], &nodes[1]);
        let primary_db = connect(&urls[0]).await;

        // Both standbys up: answered, from a standby (forwarded) and on the primary (local).
        for (node, name) in [(pg2, "held-fwd"), (pg1, "held-local")] {
            node.repo()
                .insert(new_tag(name))
                .durability(Durability::Candidates)
                .await
                .unwrap_or_else(|e| panic!("{name} with both standbys up: {e}"));
            assert_eq!(named(&primary_db, name).await, 1);
        }

        // pg-3's server down: committed on the primary, answered `NotReplicated`.
        cluster.more[0].stop().expect("stop standby-2");
        for (node, name) in [(pg2, "unheld-fwd"), (pg1, "unheld-local")] {
            let error = node
                .repo()
                .insert(new_tag(name))
                .durability(Durability::Candidates)
                .await
                .expect_err("a candidate is down");
            assert!(not_replicated(&error), "{name}: {error:?}");
            assert_eq!(named(&primary_db, name).await, 1, "{name} committed once");
        }
        let primary_only = pg2
            .repo()
            .insert(new_tag("primary-only"))
            .durability(Durability::Primary)
            .await
            .expect("Durability::Primary does not wait for the candidates");
        assert_eq!(
            pg2.repo()
                .get::<tag::Entity>(primary_only.id)
                .await
                .expect("read"),
            Some(primary_only)
        );

        // pg-3's server back: it catches up and reports, and writes are answered again
        // (its first reports may come after the first tries' wait).
        cluster.more[0].start().expect("restart standby-2");
        cluster
            .wait_streaming(Duration::from_secs(60))
            .expect("streaming again");
        let mut answered = None;
        for attempt in 0..10 {
            let name = format!("held-again-{attempt}");
            match pg2
                .repo()
                .insert(new_tag(&name))
                .durability(Durability::Candidates)
                .await
            {
                Ok(row) => {
                    answered = Some(row);
                    break;
                }
                Err(e) if not_replicated(&e) => continue,
                Err(e) => panic!("{name}: {e:?}"),
            }
        }
        assert!(
            answered.is_some(),
            "no Candidates write answered in 10 tries after standby-2 came back"
        );

        for node in nodes {
            node.shutdown().await;
        }
    });
}
