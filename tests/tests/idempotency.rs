//! Idempotency keys and fingerprints, end to end on a cluster (one primary, two replicas,
//! real gRPC): a key replayed through any node writes once and gets the first answer; the
//! same key with another payload is refused and reveals nothing; concurrent copies write
//! once; ids past the ledger's retention are refused; without a ledger a key is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};

use blog_example::entities::{post, tag};
use blog_example::transactions::{CreatePostWithTags, NewPost};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use repo_core::{IdempotencyKey, Multi, RejectReason, Repo, RepoError, RequestId};
use repo_tests::cluster::Cluster;
use repo_tests::requests::insert_tag;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).expect("key")
}

fn tag_named(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

async fn tags(cluster: &Cluster) -> Vec<String> {
    tag::Entity::find()
        .all(&cluster.primary().db)
        .await
        .expect("tags")
        .into_iter()
        .map(|t| t.name)
        .collect()
}

/// The repositories of every node: the primary's first.
fn repos(cluster: &Cluster) -> Vec<Repo> {
    cluster.nodes.iter().map(|n| n.repo.clone()).collect()
}

#[tokio::test]
async fn a_key_replayed_through_any_node_writes_once_and_answers_the_same() {
    let cluster = Cluster::start(2).await;
    let mut answers = Vec::new();
    for repo in repos(&cluster).iter().rev() {
        let model = repo
            .insert(tag_named("once"))
            .idempotency_key(key("order-1"))
            .await
            .expect("insert");
        answers.push(model);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(tags(&cluster).await, ["once"]);

    // A named transaction and a batch, the same way.
    let args = NewPost {
        title: "t".into(),
        slug: "keyed".into(),
        body: "b".into(),
        tags: vec!["x".into()],
    };
    let first = cluster
        .replica(1)
        .repo
        .transaction::<CreatePostWithTags>(args.clone())
        .idempotency_key(key("post-1"))
        .await
        .expect("first");
    let again = cluster
        .primary()
        .repo
        .transaction::<CreatePostWithTags>(args)
        .idempotency_key(key("post-1"))
        .await
        .expect("replay");
    assert_eq!(first, again);
    let multi = || {
        Multi::new()
            .insert("a", tag_named("m1"))
            .insert("b", tag_named("m2"))
    };
    let first = cluster
        .replica(2)
        .repo
        .multi(multi())
        .idempotency_key(key("batch-1"))
        .await
        .expect("first");
    let again = cluster
        .replica(1)
        .repo
        .multi(multi())
        .idempotency_key(key("batch-1"))
        .await
        .expect("replay");
    assert_eq!(format!("{first:?}"), format!("{again:?}"));
    let posts = post::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(posts, 1);
    assert_eq!(tags(&cluster).await, ["once", "x", "m1", "m2"]);
}

#[tokio::test]
async fn a_key_reused_for_another_payload_is_refused_and_reveals_nothing() {
    let cluster = Cluster::start(1).await;
    cluster
        .replica(1)
        .repo
        .insert(tag_named("secret-first"))
        .idempotency_key(key("k-1"))
        .await
        .expect("first");
    for repo in repos(&cluster) {
        let err = repo
            .insert(tag_named("second"))
            .idempotency_key(key("k-1"))
            .await
            .expect_err("conflict");
        assert!(matches!(err, RepoError::IdempotencyConflict), "{err:?}");
        assert!(!format!("{err:?} {err}").contains("secret"), "{err}");
        assert!(!err.is_transient());
    }
    // Another action under the same key is another payload too.
    let err = cluster
        .replica(1)
        .repo
        .delete_all(tag::Entity::delete_many().filter(tag::Column::Name.eq("secret-first")))
        .idempotency_key(key("k-1"))
        .await
        .expect_err("conflict");
    assert!(matches!(err, RepoError::IdempotencyConflict), "{err:?}");
    assert_eq!(
        tags(&cluster).await,
        ["secret-first"],
        "nothing else written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_copies_write_once_with_identical_answers() {
    let cluster = Cluster::start(2).await;
    let repos = repos(&cluster);
    let copies: Vec<_> = (0..8)
        .map(|i| {
            let repo = repos[i % repos.len()].clone();
            tokio::spawn(async move {
                repo.insert(tag_named("raced"))
                    .idempotency_key(key("race-1"))
                    .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for copy in copies {
        answers.push(
            copy.await
                .expect("join")
                .expect("every copy gets the answer"),
        );
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(tags(&cluster).await, ["raced"]);
}

#[tokio::test]
async fn a_request_older_than_the_retention_is_refused_not_run() {
    let cluster = Cluster::start(1).await;
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(48 * 3600);
    let since = two_days_ago
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, since.as_secs(), since.subsec_nanos());
    // Refused by the primary's ledger, which every forwarded write passes through. (The
    // primary's own unkeyed writes do not: they are not replays of anything.)
    let mut request = insert_tag("late-forwarded");
    request.id = RequestId(uuid::Uuid::new_v7(ts));
    let err = cluster
        .replica(1)
        .repo
        .call(request, &Default::default())
        .await
        .expect_err("expired");
    assert!(
        matches!(
            err,
            RepoError::Rejected {
                reason: RejectReason::Expired { .. }
            }
        ),
        "{err:?}"
    );
    assert!(!tags(&cluster).await.contains(&"late-forwarded".to_owned()));
}

#[tokio::test]
async fn a_key_needs_a_ledger() {
    let dir = tempfile::tempdir().expect("dir");
    let db = repo_tests::cluster::migrated(&dir.path().join("plain.db")).await;
    let repo = Repo::builder(db).build();
    let err = repo
        .insert(tag_named("x"))
        .idempotency_key(key("k"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            RepoError::Rejected {
                reason: RejectReason::Misconfigured { .. }
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ledger"), "{err}");
}

/// Any sequence of (key, payload) submissions from any node leaves the table equal to
/// applying each distinct key's first payload once; every later submission of a key gets
/// the first answer (same payload) or a conflict (another one).
#[test]
fn any_sequence_of_submissions_applies_each_key_s_first_payload_once() {
    let runtime = repo_tests::runtime();
    let cluster = runtime.block_on(Cluster::start(2));
    let case = AtomicU32::new(0);
    let submissions = proptest::collection::vec((0..3_usize, 0..4_u8, 0..3_u8), 1..12);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&submissions, |submissions| {
            let case = case.fetch_add(1, Ordering::Relaxed);
            runtime.block_on(async {
                let repos = repos(&cluster);
                let mut first: BTreeMap<u8, (u8, tag::Model)> = BTreeMap::new();
                for (node, k, payload) in submissions {
                    let name = format!("c{case}-k{k}-p{payload}");
                    let result = repos[node]
                        .insert(tag_named(&name))
                        .idempotency_key(key(&format!("c{case}-k{k}")))
                        .await;
                    match (first.get(&k), result) {
                        (None, Ok(model)) => {
                            first.insert(k, (payload, model));
                        }
                        (Some((p, model)), Ok(again)) => {
                            prop_assert_eq!(*p, payload, "another payload was accepted");
                            prop_assert_eq!(model, &again, "a replay got another answer");
                        }
                        (Some((p, _)), Err(RepoError::IdempotencyConflict)) => {
                            prop_assert_ne!(*p, payload, "a replay was refused");
                        }
                        (_, Err(e)) => prop_assert!(false, "unexpected {e:?}"),
                    }
                }
                let prefix = format!("c{case}-");
                let stored: BTreeSet<String> = tags(&cluster)
                    .await
                    .into_iter()
                    .filter(|n| n.starts_with(&prefix))
                    .collect();
                let expected: BTreeSet<String> = first
                    .iter()
                    .map(|(k, (p, _))| format!("c{case}-k{k}-p{p}"))
                    .collect();
                prop_assert_eq!(stored, expected);
                Ok(())
            })
        })
        .expect("property");
}
