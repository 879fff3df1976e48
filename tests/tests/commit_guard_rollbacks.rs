//! `CommitGuard::on_rollback` is told of every transaction the writer connection rolls
//! back (a failing named transaction, a commit the guard refused) and of nothing else: a
//! guard that notes what a commit is about to write (the LiteFS emulator's) relies on it to
//! forget commits that did not happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use blog_example::entities::tag;
use blog_example::transactions::CreatePostWithTags;
use migrations::{Migrator, MigratorTrait};
use repo_core::{CommitGuard, Repo, WriterConfig};
use repo_tests::cluster::{blog_builder, post_args};
use sea_orm::{Database, Set};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_is_told_of_every_rollback_and_only_of_those() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let db = Database::connect(&url).await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    // The writer asks the guard before it begins and again at the commit: the question
    // numbered `refuse_at` is answered no.
    let (asked, refuse_at) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(usize::MAX)),
    );
    let rollbacks = Arc::new(AtomicUsize::new(0));
    let (counter, at, told) = (asked.clone(), refuse_at.clone(), rollbacks.clone());
    let guard = CommitGuard::new(move || {
        counter.fetch_add(1, Ordering::SeqCst) != at.load(Ordering::SeqCst)
    })
    .on_rollback(move || {
        told.fetch_add(1, Ordering::SeqCst);
    });
    let repo: Repo = blog_builder(db)
        .writer(WriterConfig::default().commit_guard(guard))
        .build();
    let told = || rollbacks.load(Ordering::SeqCst);

    repo.transaction::<CreatePostWithTags>(post_args("first"))
        .await
        .expect("committed");
    repo.insert(tag::ActiveModel {
        name: Set("plain".into()),
        ..Default::default()
    })
    .await
    .expect("committed");
    assert_eq!(told(), 0, "commits are not rollbacks");

    let failed = repo
        .transaction::<CreatePostWithTags>(post_args("first"))
        .await;
    assert!(failed.is_err(), "a duplicate slug fails");
    assert_eq!(told(), 1, "the failed transaction rolled back");

    refuse_at.store(asked.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
    let refused = repo
        .insert(tag::ActiveModel {
            name: Set("refused".into()),
            ..Default::default()
        })
        .await;
    assert!(refused.is_err(), "the guard refused the commit");
    assert_eq!(told(), 2, "the refused commit rolled back");
}
