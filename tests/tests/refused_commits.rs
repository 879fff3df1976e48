//! A commit the guard refuses (the lease lost while a write ran) must leave the writer as
//! it found it, whatever comes next: every write answered as committed is in the file, no
//! write answered with an error is. Generated sequences of single writes, named
//! transactions, failing ones, bursts that commit together and refusals at the commit.
//! (A refused `COMMIT` once left sqlx counting a transaction SQLite had rolled back; a
//! later rollback then left a transaction open, and later writes were answered as
//! committed without reaching the file.)

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use blog_example::entities::{post, tag};
use blog_example::transactions::CreatePostWithTags;
use migrations::{Migrator, MigratorTrait};
use proptest::prelude::*;
use repo_core::{CommitGuard, Repo, WriterConfig};
use repo_tests::cluster::{blog_builder, post_args};
use sea_orm::{Database, EntityTrait, Set};

/// One step of a generated sequence.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Insert a tag of its own name.
    Insert,
    /// Insert the seeded tag again (fails).
    Duplicate,
    /// A named transaction: a post of its own slug, with a tag of its own.
    Transaction,
    /// The named transaction again on the seeded post's slug (fails, rolled back).
    FailingTransaction,
    /// Refuse the guard's next question but one (the commit, when a write runs next).
    RefuseCommit,
    /// This many inserts at once (they share commits).
    Burst(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Insert),
        1 => Just(Step::Duplicate),
        2 => Just(Step::Transaction),
        2 => Just(Step::FailingTransaction),
        3 => Just(Step::RefuseCommit),
        1 => (2usize..8).prop_map(Step::Burst),
    ]
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
}

/// What the answers promise: the tags and posts answered as committed, and those whose
/// writes were answered with an error.
#[derive(Debug, Default)]
struct Promised {
    tags: Vec<String>,
    posts: Vec<String>,
    refused_tags: Vec<String>,
    refused_posts: Vec<String>,
}

impl Promised {
    fn tag(&mut self, name: String, ok: bool) {
        if ok {
            self.tags.push(name);
        } else {
            self.refused_tags.push(name);
        }
    }
}

async fn run(steps: &[Step]) {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let db = Database::connect(&url).await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    let asked = Arc::new(AtomicUsize::new(0));
    let refuse_at = Arc::new(AtomicUsize::new(usize::MAX));
    let (counter, at) = (asked.clone(), refuse_at.clone());
    let repo: Repo = blog_builder(db)
        .writer(
            WriterConfig::default().commit_guard(CommitGuard::new(move || {
                counter.fetch_add(1, Ordering::SeqCst) != at.load(Ordering::SeqCst)
            })),
        )
        .build();
    repo.insert(new_tag("seed")).await.expect("seed tag");
    repo.transaction::<CreatePostWithTags>(post_args("seed"))
        .await
        .expect("seed post");
    let mut promised = Promised::default();
    for (i, step) in steps.iter().enumerate() {
        match *step {
            Step::Insert => {
                let name = format!("tag-{i}");
                let ok = repo.insert(new_tag(&name)).await.is_ok();
                promised.tag(name, ok);
            }
            Step::Duplicate => {
                assert!(repo.insert(new_tag("seed")).await.is_err());
            }
            Step::Transaction => {
                let slug = format!("post-{i}");
                let ok = repo
                    .transaction::<CreatePostWithTags>(post_args(&slug))
                    .await
                    .is_ok();
                promised.tag(format!("tag-of-{slug}"), ok);
                if ok {
                    promised.posts.push(slug);
                } else {
                    promised.refused_posts.push(slug);
                }
            }
            Step::FailingTransaction => {
                let answer = repo
                    .transaction::<CreatePostWithTags>(post_args("seed"))
                    .await;
                assert!(answer.is_err(), "a duplicate slug fails");
            }
            Step::RefuseCommit => {
                refuse_at.store(asked.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
            }
            Step::Burst(n) => {
                let names: Vec<String> = (0..n).map(|k| format!("tag-{i}-{k}")).collect();
                let answers = futures::future::join_all(
                    names
                        .iter()
                        .map(|name| repo.insert(new_tag(name)).into_future()),
                )
                .await;
                for (name, answer) in names.into_iter().zip(answers) {
                    promised.tag(name, answer.is_ok());
                }
            }
        }
    }
    // What another connection finds in the file.
    let other = Database::connect(&url).await.expect("another connection");
    let tags: Vec<String> = tag::Entity::find()
        .all(&other)
        .await
        .expect("tags")
        .into_iter()
        .map(|t| t.name)
        .collect();
    let posts: Vec<String> = post::Entity::find()
        .all(&other)
        .await
        .expect("posts")
        .into_iter()
        .map(|p| p.slug)
        .collect();
    for name in &promised.tags {
        assert!(
            tags.contains(name),
            "tag {name} answered as committed, not in the file; steps {steps:?}"
        );
    }
    for slug in &promised.posts {
        assert!(
            posts.contains(slug),
            "post {slug} answered as committed, not in the file; steps {steps:?}"
        );
    }
    for name in &promised.refused_tags {
        assert!(
            !tags.contains(name),
            "tag {name} answered with an error, in the file; steps {steps:?}"
        );
    }
    for slug in &promised.refused_posts {
        assert!(
            !posts.contains(slug),
            "post {slug} answered with an error, in the file; steps {steps:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_write_answered_as_committed_is_in_the_file(steps in prop::collection::vec(step(), 1..16)) {
        let runtime = repo_tests::runtime();
        runtime.block_on(run(&steps));
    }
}
