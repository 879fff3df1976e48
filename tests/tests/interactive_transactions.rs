//! sea-orm's own transactions on `&repo` (issue 16): the same code on a replica (held on
//! the primary over one stream) and on the primary (held on its writer) gives the same
//! results, the same errors and the same tables; a transaction that expires, loses its
//! caller or outlives its primary's role rolls back and says so, typed.

use std::time::Duration;

use blog_example::entities::{post, tag};
use repo_core::{Repo, RepoError, RepoTransaction, TransactionLimits};
use std::net::SocketAddr;
use std::sync::Arc;

use repo_litefs::tracker::PrimaryTracker;
use repo_litefs::{ClusterSecret, Endpoints, ForwardConfig, ForwardLayer};
use repo_tests::cluster::{Cluster, SECRET, blog_builder, state_for};
use repo_tests::proxy::Proxy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionError, TransactionSession,
    TransactionTrait,
};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

fn new_post(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.into()),
        body: Set("body".into()),
        ..Default::default()
    }
}

/// What a user sees of an error: its sea-orm classification and text.
fn seen(e: &DbErr) -> String {
    let class = match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => "unique",
        Some(_) => "other sql",
        None => "none",
    };
    format!("{class}: {e}")
}

fn seen_txn(e: &TransactionError<DbErr>) -> String {
    match e {
        TransactionError::Connection(e) => format!("connection {}", seen(e)),
        TransactionError::Transaction(e) => format!("transaction {}", seen(e)),
    }
}

/// Unchanged sea-orm transaction code, generic over the connection: returns a transcript.
async fn script<C>(db: &C) -> Vec<String>
where
    C: TransactionTrait,
    C::Transaction: ConnectionTrait,
{
    let mut log = Vec::new();

    // A closure with writes and reads; the reads see the transaction's own writes.
    let closure = db
        .transaction::<_, _, DbErr>(|txn| {
            Box::pin(async move {
                let p = new_post("first").insert(txn).await?;
                let t = new_tag("rust").insert(txn).await?;
                let found = post::Entity::find()
                    .filter(post::Column::Slug.eq("first"))
                    .one(txn)
                    .await?
                    .map(|p| (p.id, p.slug, p.view_count, p.published));
                let tags = tag::Entity::find().count(txn).await?;
                Ok(format!("{} {} {:?} {tags}", p.id, t.id, found))
            })
        })
        .await;
    log.push(format!("closure: {closure:?}"));

    // Explicit begin / commit, with an update.
    let txn = db.begin().await.expect("begin");
    let t = new_tag("go").insert(&txn).await.expect("insert go");
    let updated = post::Entity::update_many()
        .col_expr(post::Column::ViewCount, sea_orm::sea_query::Expr::val(7))
        .filter(post::Column::Slug.eq("first"))
        .exec(&txn)
        .await
        .expect("update");
    txn.commit().await.expect("commit");
    log.push(format!("begin/commit: {} {}", t.id, updated.rows_affected));

    // An error in the closure rolls everything back.
    let failed = db
        .transaction::<_, (), DbErr>(|txn| {
            Box::pin(async move {
                new_tag("rolled-back").insert(txn).await?;
                Err(DbErr::Custom("the closure failed".into()))
            })
        })
        .await;
    log.push(format!(
        "rollback on error: {}",
        failed.as_ref().map_err(seen_txn).err().unwrap_or_default()
    ));

    // A nested transaction (a savepoint) rolled back while the outer one commits.
    let outer = db.begin().await.expect("outer");
    new_tag("outer").insert(&outer).await.expect("outer insert");
    let inner = outer.begin().await.expect("inner");
    new_tag("inner").insert(&inner).await.expect("inner insert");
    let inside = tag::Entity::find()
        .count(&inner)
        .await
        .expect("count inside");
    inner.rollback().await.expect("inner rollback");
    let after = tag::Entity::find()
        .count(&outer)
        .await
        .expect("count after");
    outer.commit().await.expect("outer commit");
    log.push(format!("savepoint: {inside} then {after}"));

    // A unique violation inside: typed as locally; the transaction stays usable.
    let txn = db.begin().await.expect("begin");
    let dup = new_tag("rust").insert(&txn).await.map_err(|e| seen(&e));
    let next = new_tag("zig").insert(&txn).await.map(|t| t.name);
    txn.commit().await.expect("commit after a violation");
    log.push(format!("unique inside: {dup:?} then {next:?}"));

    // The same violation ending a closure.
    let closure_dup = db
        .transaction::<_, (), DbErr>(|txn| {
            Box::pin(async move {
                new_post("second").insert(txn).await?;
                new_post("first").insert(txn).await?;
                Ok(())
            })
        })
        .await;
    log.push(format!(
        "unique ends closure: {}",
        closure_dup
            .as_ref()
            .map_err(seen_txn)
            .err()
            .unwrap_or_default()
    ));

    // Dropped without a commit: rolled back.
    {
        let txn = db.begin().await.expect("begin");
        new_tag("dropped").insert(&txn).await.expect("insert");
    }
    log
}

/// The tables as data, without the clock-dependent columns.
async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let posts = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
        .expect("posts")
        .into_iter()
        .map(|p| format!("post {} {} {} {}", p.id, p.slug, p.view_count, p.published));
    let tags = tag::Entity::find()
        .order_by_asc(tag::Column::Id)
        .all(db)
        .await
        .expect("tags")
        .into_iter()
        .map(|t| format!("tag {} {}", t.id, t.name));
    posts.chain(tags).collect()
}

#[tokio::test]
async fn sea_orm_transactions_on_a_replica_match_the_primary() {
    let here = Cluster::start(1).await;
    let there = Cluster::start(1).await;

    let local = script(&here.primary().repo).await;
    let remote = script(&there.replica(1).repo).await;
    assert_eq!(remote, local, "same results and errors");
    assert_eq!(
        tables(&there.primary().db).await,
        tables(&here.primary().db).await,
        "same tables"
    );
    // The script really ran: the expected rows are there, the rolled-back ones are not.
    let names = tables(&there.primary().db).await.join(",");
    for kept in ["rust", "go", "outer", "zig", "first 7"] {
        assert!(names.contains(kept), "{kept} in {names}");
    }
    for gone in ["rolled-back", "inner", "dropped", "second"] {
        assert!(!names.contains(gone), "{gone} not in {names}");
    }
    assert_eq!(
        tag::Entity::find()
            .count(&there.replica(1).db)
            .await
            .expect("replica tags"),
        0,
        "nothing was written on the replica's own file"
    );
}

/// Begins on `repo` with `limits`, inserts one tag, and hands the transaction back.
async fn open_with_tag(repo: &Repo, limits: TransactionLimits, name: &str) -> RepoTransaction {
    let txn = repo.begin_with_limits(limits).await.expect("begin");
    new_tag(name).insert(&txn).await.expect("insert inside");
    txn
}

/// A write that must not wait behind an abandoned transaction (one holding the writer
/// would make it wait for a minute).
async fn later_write_proceeds(cluster: &Cluster, name: &str) {
    let write = new_tag(name).insert(&cluster.replica(1).repo);
    tokio::time::timeout(Duration::from_secs(20), write)
        .await
        .expect("the writer was released")
        .expect("later write");
}

async fn tag_exists(db: &DatabaseConnection, name: &str) -> bool {
    tag::Entity::find()
        .filter(tag::Column::Name.eq(name))
        .count(db)
        .await
        .expect("count")
        > 0
}

fn long() -> TransactionLimits {
    TransactionLimits::default()
        .max_duration(Duration::from_secs(60))
        .max_idle(Duration::from_secs(60))
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let txn = open_with_tag(&cluster.replica(1).repo, long(), "abandoned").await;
    drop(txn);
    later_write_proceeds(&cluster, "after").await;
    let primary = &cluster.primary().db;
    assert!(
        !tag_exists(primary, "abandoned").await,
        "nothing of it was written"
    );
    assert!(tag_exists(primary, "after").await);
}

#[tokio::test]
async fn a_cancelled_caller_rolls_back_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let repo = cluster.replica(1).repo.clone();
    let (started, inside) = tokio::sync::oneshot::channel::<()>();
    let call = tokio::spawn(async move {
        repo.transaction_with_limits::<_, (), DbErr>(long(), |txn| {
            Box::pin(async move {
                new_tag("cancelled").insert(txn).await?;
                let _ = started.send(());
                std::future::pending::<()>().await;
                Ok(())
            })
        })
        .await
    });
    inside.await.expect("the closure ran");
    call.abort();
    let _ = call.await;
    later_write_proceeds(&cluster, "after").await;
    assert!(!tag_exists(&cluster.primary().db, "cancelled").await);
}

#[tokio::test]
async fn a_stream_cut_by_the_network_writes_nothing_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "cut").await;
    proxy.cut();
    let next = new_tag("next")
        .insert(&txn)
        .await
        .expect_err("the stream is gone");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    let commit = txn.commit().await.expect_err("no commit after that");
    assert!(RepoTransaction::is_expired_error(&commit), "{commit}");
    // The primary rolled back when the stream broke: its writer is free.
    let write = new_tag("local").insert(&cluster.primary().repo);
    tokio::time::timeout(Duration::from_secs(20), write)
        .await
        .expect("the writer was released")
        .expect("local write");
    assert!(!tag_exists(&cluster.primary().db, "cut").await);
}

#[tokio::test]
async fn an_idle_transaction_expires_typed_and_writes_nothing() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_idle(Duration::from_millis(200));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "idle").await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let next = new_tag("too-late").insert(&txn).await.expect_err("expired");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(next.to_string().contains("idle"), "{next}");
    let commit = txn.commit().await.expect_err("never a silent commit");
    assert!(RepoTransaction::is_expired_error(&commit), "{commit}");
    let primary = &cluster.primary().db;
    assert!(!tag_exists(primary, "idle").await);
    assert!(
        !tag_exists(primary, "too-late").await,
        "never autocommitted"
    );
    later_write_proceeds(&cluster, "after").await;
}

#[tokio::test]
async fn a_transaction_past_its_maximum_duration_expires_typed_and_writes_nothing() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_duration(Duration::from_millis(300));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "long").await;
    // Busy, never idle: statements keep coming until the maximum duration passes.
    let mut error = None;
    for i in 0..200 {
        match new_tag(&format!("busy-{i}")).insert(&txn).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let error = error.expect("the transaction expired");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(error.to_string().contains("maximum duration"), "{error}");
    assert!(txn.commit().await.is_err(), "never a silent commit");
    let count = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing of it was written");
    later_write_proceeds(&cluster, "after").await;
}

#[tokio::test]
async fn an_untouched_transaction_releases_the_writer_at_its_maximum_duration() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_duration(Duration::from_millis(300));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "untouched").await;
    // No statement arrives: the primary's own timer ends it, not a statement's budget.
    later_write_proceeds(&cluster, "after").await;
    let next = new_tag("next").insert(&txn).await.expect_err("expired");
    assert!(next.to_string().contains("maximum duration"), "{next}");
    assert!(!tag_exists(&cluster.primary().db, "untouched").await);
}

#[tokio::test]
async fn the_primary_local_path_expires_the_same_way() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_idle(Duration::from_millis(200));
    let txn = open_with_tag(&cluster.primary().repo, limits, "idle").await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let next = new_tag("too-late").insert(&txn).await.expect_err("expired");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(!tag_exists(&cluster.primary().db, "idle").await);
}

#[tokio::test]
async fn a_demoted_primary_aborts_the_transaction_typed_and_a_retry_goes_to_the_new_one() {
    // node-1 primary, node-2 writable (the next primary), node-3 a read-only replica.
    let cluster = Cluster::start_with(2, 1).await;
    let replica = &cluster.replica(2).repo;
    let txn = open_with_tag(replica, long(), "demoted").await;
    cluster.set_primary("node-2");
    let next = new_tag("after-demotion")
        .insert(&txn)
        .await
        .expect_err("aborted");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(next.to_string().contains("aborted"), "{next}");
    assert!(txn.commit().await.is_err());
    assert!(!tag_exists(&cluster.primary().db, "demoted").await);
    // Retried as a whole, it runs on the new primary.
    // `Repo::transaction::<T>` is the named-transaction call: the sea-orm one by its trait.
    TransactionTrait::transaction::<_, _, DbErr>(replica, |txn| {
        Box::pin(async move { new_tag("retried").insert(txn).await })
    })
    .await
    .expect("retry");
    assert!(tag_exists(&cluster.nodes[1].db, "retried").await);
}

#[tokio::test]
async fn statements_inside_pass_the_allowlist_reads_included_ddl_never() {
    let cluster = Cluster::start(1).await;
    let txn = cluster.replica(1).repo.begin().await.expect("begin");
    let ddl = txn
        .execute_unprepared("DROP TABLE tags")
        .await
        .expect_err("DDL is refused");
    assert!(ddl.to_string().contains("refused"), "{ddl}");
    let pragma = txn
        .execute_unprepared("PRAGMA writable_schema = 1")
        .await
        .expect_err("PRAGMA is refused");
    assert!(pragma.to_string().contains("refused"), "{pragma}");
    // Refusals leave the transaction open; reads and writes still run.
    new_tag("kept").insert(&txn).await.expect("write");
    assert_eq!(tag::Entity::find().count(&txn).await.expect("read"), 1);
    txn.commit().await.expect("commit");
    assert!(tag_exists(&cluster.primary().db, "kept").await);
    let ledger = cluster
        .primary()
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("SELECT COUNT(*) AS n FROM {}", repo_litefs::ledger::TABLE),
        ))
        .await
        .expect("ledger")
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    assert_eq!(ledger, Some(1), "the commit's request id is in the ledger");
}

#[tokio::test]
async fn begin_errors_are_typed() {
    let cluster = Cluster::start(1).await;
    let txn = cluster.primary().repo.begin_with_limits(long()).await;
    assert!(txn.is_ok());
    // The writer is held: a second transaction cannot begin within its own short limit.
    let second = cluster
        .replica(1)
        .repo
        .begin_with_limits(long().max_duration(Duration::from_millis(200)))
        .await
        .expect_err("the writer is busy");
    assert!(
        matches!(second, RepoError::Timeout { .. }),
        "typed: {second:?}"
    );
}

/// A TCP proxy whose directions can be held (bytes stop flowing, nothing is lost or
/// corrupted) and whose connections can be cut: a commit's answer lost, deterministically.
mod hold {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::AbortHandle;

    #[derive(Default)]
    pub(crate) struct Flags {
        /// Replies (primary → replica) stop flowing.
        pub(crate) replies: AtomicBool,
        /// Requests (replica → primary) stop flowing.
        pub(crate) requests: AtomicBool,
    }

    pub(crate) struct HoldProxy {
        pub(crate) addr: SocketAddr,
        pub(crate) flags: Arc<Flags>,
        links: Arc<Mutex<Vec<AbortHandle>>>,
        accept: AbortHandle,
    }

    async fn pump(
        mut from: impl AsyncRead + Unpin,
        mut to: impl AsyncWrite + Unpin,
        held: impl Fn() -> bool,
    ) {
        let mut buf = vec![0_u8; 16 * 1024];
        loop {
            while held() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    while held() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    if to.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    impl HoldProxy {
        pub(crate) async fn start(target: SocketAddr) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let flags = Arc::new(Flags::default());
            let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
            let (f, l) = (flags.clone(), links.clone());
            let accept = tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    let f = f.clone();
                    let link = tokio::spawn(async move {
                        let Ok(outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
                        let (ri, wi) = inbound.into_split();
                        let (ro, wo) = outbound.into_split();
                        let (f1, f2) = (f.clone(), f);
                        tokio::join!(
                            pump(ri, wo, move || f1.requests.load(Ordering::SeqCst)),
                            pump(ro, wi, move || f2.replies.load(Ordering::SeqCst)),
                        );
                    });
                    l.lock().expect("links").push(link.abort_handle());
                }
            })
            .abort_handle();
            Self {
                addr,
                flags,
                links,
                accept,
            }
        }

        /// Drops every open connection (new ones go through, unheld).
        pub(crate) fn cut(&self) {
            for link in self.links.lock().expect("links").drain(..) {
                link.abort();
            }
            self.flags.replies.store(false, Ordering::SeqCst);
            self.flags.requests.store(false, Ordering::SeqCst);
        }
    }

    impl Drop for HoldProxy {
        fn drop(&mut self) {
            self.cut();
            self.accept.abort();
        }
    }
}

/// A replica repository whose forwarding goes through `proxy`.
fn replica_through(cluster: &Cluster, proxy: SocketAddr) -> Repo {
    let (tracker, _handle) = PrimaryTracker::manual(state_for("node-2", "node-1"));
    let forward = ForwardLayer::new(ForwardConfig::new(
        tracker,
        Endpoints::map([("node-1", format!("http://{proxy}"))]),
        ClusterSecret::new(SECRET).expect("secret"),
        "node-2",
    ));
    blog_builder(cluster.replica(1).db.clone())
        .sessions(Arc::new(forward.interactive_sessions()))
        .layer(forward)
        .build()
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_is_resolved_by_asking_the_primary() {
    let cluster = Cluster::start(1).await;
    let proxy = hold::HoldProxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "once").await;
    // The commit reaches the primary and commits; its answer is held, then the
    // connection is cut.
    proxy
        .flags
        .replies
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let commit = tokio::spawn(async move { txn.commit().await });
    let primary = cluster.primary().db.clone();
    let mut committed = false;
    for _ in 0..400 {
        if tag_exists(&primary, "once").await {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(committed, "the commit ran on the primary");
    proxy.cut();
    commit
        .await
        .expect("joined")
        .expect("resolved as committed by asking the primary");
    let count = tag::Entity::find()
        .filter(tag::Column::Name.eq("once"))
        .count(&primary)
        .await
        .expect("count");
    assert_eq!(count, 1, "exactly once");
}

#[tokio::test]
async fn a_commit_that_never_arrived_is_resolved_as_not_committed() {
    let cluster = Cluster::start(1).await;
    let proxy = hold::HoldProxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "never").await;
    // The commit never leaves the proxy; the connection is then cut.
    proxy
        .flags
        .requests
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let commit = tokio::spawn(async move { txn.commit().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.cut();
    let error = commit.await.expect("joined").expect_err("not committed");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(!tag_exists(&cluster.primary().db, "never").await);
}

#[tokio::test]
async fn a_primary_fenced_mid_transaction_aborts_it_typed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let db = repo_tests::db::fresh().await;
    let lease = Arc::new(AtomicBool::new(true));
    let held = lease.clone();
    let repo = blog_builder(db.conn.clone())
        .writer(
            repo_core::WriterConfig::default()
                .commit_guard(repo_core::CommitGuard::new(move || held.load(Ordering::SeqCst))),
        )
        .build();
    let txn = open_with_tag(&repo, long(), "fenced").await;
    // The lease is lost before the commit: the writer's guard refuses it.
    lease.store(false, Ordering::SeqCst);
    let error = txn.commit().await.expect_err("aborted");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(error.to_string().contains("aborted"), "{error}");
    assert!(!tag_exists(&db.conn, "fenced").await);
    // Typed through the repository's own API too.
    lease.store(true, Ordering::SeqCst);
    let txn = open_with_tag(&repo, long(), "fenced-again").await;
    lease.store(false, Ordering::SeqCst);
    drop(txn);
    let error = repo
        .transaction_with_limits::<_, (), DbErr>(long(), |_| Box::pin(async { Ok(()) }))
        .await
        .expect_err("refused at begin");
    assert!(format!("{error}").contains("not the primary"), "{error}");
}
