//! Fencing on the emulator, as LiteFS's lease does it: after an abrupt `promote` or a
//! `kill` the old primary cannot commit (its writer's commit guard refuses, typed as "not
//! the primary"), two nodes never commit in the same period, the new primary starts from
//! its own position and the old one's unreplicated tail is discarded when it rejoins; a
//! graceful `handover` loses nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blog_example::entities::{post, tag};
use blog_example::transactions::CreatePostWithTags;
use migrations::{Migrator, MigratorTrait};
use repo_core::{CommitGuard, Repo, RepoError, WriterConfig};
use repo_litefs::emulator::LiteFsEmulator;
use repo_tests::cluster::blog_builder;
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use tempfile::TempDir;

struct Cluster {
    emulator: LiteFsEmulator,
    _dir: TempDir,
}

impl Cluster {
    /// `nodes` emulated nodes (node-1 primary) with the blog schema replicated.
    async fn start(nodes: usize, lag: Duration) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let names: Vec<String> = (1..=nodes).map(|i| format!("node-{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let emulator = LiteFsEmulator::start(dir.path(), &names, "blog.db", lag)
            .await
            .expect("emulator");
        let primary = open(&emulator, "node-1").await;
        Migrator::up(&primary, None).await.expect("migrate");
        assert!(emulator.wait_synced(Duration::from_secs(10)).await);
        for name in &names[1..] {
            let tables = tag::Entity::find()
                .count(&open(&emulator, name).await)
                .await;
            assert!(tables.is_ok(), "{name} has the schema: {tables:?}");
        }
        Self {
            emulator,
            _dir: dir,
        }
    }

    /// Node `name`'s repository (no forwarding: writes run on its own writer), its writer
    /// guarded by `guard`.
    async fn repo(&self, name: &str, guard: CommitGuard) -> Repo {
        blog_builder(open(&self.emulator, name).await)
            .writer(WriterConfig::default().commit_guard(guard))
            .build()
    }

    /// Node `name`'s repository, guarded by the emulator.
    async fn guarded(&self, name: &str) -> Repo {
        self.repo(name, self.emulator.commit_guard(name)).await
    }

    /// Waits (bounded) until `name` holds the lease.
    async fn lease_to(&self, name: &str) {
        for _ in 0..2000 {
            if self.emulator.may_commit(name) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{name} never got the lease");
    }

    async fn tags_named(&self, node: &str, name: &str) -> u64 {
        tag::Entity::find()
            .filter(tag::Column::Name.eq(name))
            .count(&open(&self.emulator, node).await)
            .await
            .expect("count")
    }
}

async fn open(emulator: &LiteFsEmulator, name: &str) -> DatabaseConnection {
    let node = emulator.node(name).expect("node");
    Database::connect(format!("sqlite://{}?mode=rw", node.db_path.display()))
        .await
        .expect("open")
}

async fn insert(repo: &Repo, name: &str) -> Result<tag::Model, RepoError> {
    repo.insert(tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    })
    .await
}

fn assert_not_primary(result: Result<tag::Model, RepoError>) {
    match result {
        Err(e @ RepoError::NotPrimary { .. }) => assert!(e.is_transient(), "{e}"),
        other => panic!("expected a refusal as not the primary, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_abrupt_promote_the_old_primary_cannot_commit() {
    let cluster = Cluster::start(3, Duration::from_millis(5)).await;
    let (one, two) = (
        cluster.guarded("node-1").await,
        cluster.guarded("node-2").await,
    );
    insert(&one, "before").await.expect("the primary commits");
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);

    cluster.emulator.promote("node-2").expect("promote");
    // node-1 still believes it is the primary (nothing told its repository otherwise): its
    // commit is refused all the same, and nothing reaches its file.
    assert_not_primary(insert(&one, "after").await);
    assert_eq!(cluster.tags_named("node-1", "after").await, 0);

    cluster.lease_to("node-2").await;
    insert(&two, "on-two")
        .await
        .expect("the new primary commits");
    assert_not_primary(insert(&one, "still-after").await);
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    for node in ["node-1", "node-3"] {
        assert_eq!(cluster.tags_named(node, "before").await, 1, "{node}");
        assert_eq!(cluster.tags_named(node, "on-two").await, 1, "{node}");
        assert_eq!(cluster.tags_named(node, "still-after").await, 0, "{node}");
    }
}

/// A commit guard that records, in one log, every time it lets a write or a commit through.
fn logged(
    cluster: &Cluster,
    name: &'static str,
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> CommitGuard {
    let inner = cluster.emulator.commit_guard(name);
    let log = log.clone();
    CommitGuard::new(move || {
        let Ok(mut log) = log.lock() else {
            return false;
        };
        let allowed = inner.allows();
        if allowed {
            log.push(name);
        }
        allowed
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_racing_a_promote_never_come_from_both_nodes() {
    let cluster = Cluster::start(2, Duration::from_millis(2)).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let one = cluster
        .repo("node-1", logged(&cluster, "node-1", &log))
        .await;
    let two = cluster
        .repo("node-2", logged(&cluster, "node-2", &log))
        .await;
    let promoted = Arc::new(AtomicBool::new(false));

    let old = {
        let promoted = promoted.clone();
        tokio::spawn(async move {
            let (mut acked, mut acked_after_promote) = (0, 0);
            for i in 0..100_000 {
                let before = promoted.load(Ordering::SeqCst);
                match insert(&one, &format!("one-{i}")).await {
                    Ok(_) if before => acked_after_promote += 1,
                    Ok(_) => acked += 1,
                    Err(RepoError::NotPrimary { .. }) if before => break,
                    Err(RepoError::NotPrimary { .. }) => {}
                    Err(e) => panic!("node-1: {e}"),
                }
            }
            (acked, acked_after_promote)
        })
    };
    let new = tokio::spawn(async move {
        let mut acked = 0;
        for i in 0..100_000 {
            match insert(&two, &format!("two-{i}")).await {
                Ok(_) => acked += 1,
                Err(RepoError::NotPrimary { .. }) => tokio::task::yield_now().await,
                Err(e) => panic!("node-2: {e}"),
            }
            if acked == 50 {
                break;
            }
        }
        acked
    });
    // Let node-1 commit for a while, then fail over under its feet.
    while log.lock().expect("log").len() < 40 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    cluster.emulator.promote("node-2").expect("promote");
    promoted.store(true, Ordering::SeqCst);
    let (acked_one, acked_one_after) = old.await.expect("node-1 writer");
    let acked_two = new.await.expect("node-2 writer");

    assert!(acked_one > 0, "node-1 committed before the promote");
    assert_eq!(acked_two, 50, "node-2 committed after it");
    assert_eq!(
        acked_one_after, 0,
        "node-1 acknowledged a write begun after the promote"
    );
    let log = log.lock().expect("log").clone();
    let first_two = log
        .iter()
        .position(|n| *n == "node-2")
        .expect("node-2 committed");
    assert!(
        log[first_two..].iter().all(|n| *n == "node-2"),
        "node-1 committed after node-2 had begun: {:?}",
        &log[first_two.saturating_sub(3)..(first_two + 5).min(log.len())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_primarys_unreplicated_tail_is_discarded_when_it_rejoins() {
    let cluster = Cluster::start(2, Duration::from_millis(5)).await;
    let (one, two) = (
        cluster.guarded("node-1").await,
        cluster.guarded("node-2").await,
    );
    cluster.emulator.partition("node-2");
    insert(&one, "tail")
        .await
        .expect("committed, never replicated");
    assert_eq!(cluster.tags_named("node-2", "tail").await, 0);

    cluster.emulator.promote("node-2").expect("promote");
    cluster.emulator.heal("node-2");
    cluster.lease_to("node-2").await;
    insert(&two, "new").await.expect("the new primary commits");
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    // The new primary started from its own position; the old one now holds exactly that.
    assert_eq!(cluster.tags_named("node-2", "tail").await, 0);
    assert_eq!(
        cluster.tags_named("node-1", "tail").await,
        0,
        "tail discarded"
    );
    assert_eq!(cluster.tags_named("node-1", "new").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_handover_loses_nothing() {
    // A long lag: the last write cannot have replicated before the handover starts.
    let cluster = Cluster::start(2, Duration::from_millis(500)).await;
    let (one, two) = (
        cluster.guarded("node-1").await,
        cluster.guarded("node-2").await,
    );
    insert(&one, "last").await.expect("committed");
    cluster
        .emulator
        .handover("node-2", Duration::from_secs(10))
        .await
        .expect("handover");
    assert_eq!(cluster.tags_named("node-2", "last").await, 1);
    assert_eq!(cluster.emulator.primary(), "node-2");
    assert_not_primary(insert(&one, "refused").await);
    insert(&two, "first")
        .await
        .expect("the new primary commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_cannot_commit_and_rejoins_as_a_replica() {
    let cluster = Cluster::start(2, Duration::from_millis(5)).await;
    let (one, two) = (
        cluster.guarded("node-1").await,
        cluster.guarded("node-2").await,
    );
    cluster.emulator.kill("node-1");
    assert_not_primary(insert(&one, "dead").await);
    cluster.emulator.promote("node-2").expect("promote");
    cluster.lease_to("node-2").await;
    insert(&two, "alive")
        .await
        .expect("the new primary commits");
    cluster.emulator.restart("node-1");
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(cluster.tags_named("node-1", "alive").await, 1);
    assert_not_primary(insert(&one, "replica").await);
}

/// A commit the guard refused leaves sqlx counting a transaction SQLite has already rolled
/// back; the next rollback (a failed write) then only rolled back to a savepoint, leaving a
/// transaction open that later "commits" never ended: writes answered as committed, never
/// in the file, the file's lock held (seen as acknowledged writes lost in the Jepsen test).
/// After a refusal, a failed write and a good one, the good one is in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_refused_commit_and_a_failed_write_the_next_write_reaches_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let db = Database::connect(&url).await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    // The guard is asked when a write's turn begins and again by the commit hook: refusing
    // only the `refuse_at`-th question refuses a commit after the write ran (the lease
    // lost mid-write).
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let refuse_at = Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let (counter, at) = (asked.clone(), refuse_at.clone());
    let repo = blog_builder(db)
        .writer(
            WriterConfig::default().commit_guard(CommitGuard::new(move || {
                counter.fetch_add(1, Ordering::SeqCst) != at.load(Ordering::SeqCst)
            })),
        )
        .build();
    insert(&repo, "before").await.expect("a write commits");
    let post = |slug: &str| blog_example::transactions::NewPost {
        title: format!("Title {slug}"),
        slug: slug.into(),
        body: "body".into(),
        tags: vec!["before".into()],
    };
    // A named transaction runs in a database transaction; its commit (the second
    // question) is refused.
    refuse_at.store(asked.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
    let refused = repo
        .transaction::<CreatePostWithTags>(post("refused"))
        .await;
    assert!(
        matches!(refused, Err(RepoError::NotPrimary { .. })),
        "{refused:?}"
    );
    repo.transaction::<CreatePostWithTags>(post("taken"))
        .await
        .expect("a named transaction commits");
    assert!(
        repo.transaction::<CreatePostWithTags>(post("taken"))
            .await
            .is_err(),
        "a duplicate slug fails the transaction"
    );
    insert(&repo, "after").await.expect("answered as committed");
    repo.transaction::<CreatePostWithTags>(post("after"))
        .await
        .expect("answered as committed");
    let other = Database::connect(&url).await.expect("another connection");
    let tags = tag::Entity::find()
        .filter(tag::Column::Name.eq("after"))
        .count(&other)
        .await
        .expect("count");
    let posts = post::Entity::find()
        .filter(post::Column::Slug.is_in(["after", "taken", "refused"]))
        .count(&other)
        .await
        .expect("count");
    assert_eq!(
        (tags, posts),
        (1, 2),
        "every write answered as committed is in the file, no other"
    );
}
