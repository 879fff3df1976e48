//! What the interactive-transaction tests share: rows to write, a transaction opened with
//! one row in it, checks on the primary, and a replica forwarding through a proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{Repo, RepoTransaction, TransactionLimits};
use repo_litefs::tracker::PrimaryTracker;
use repo_litefs::{ClusterSecret, Endpoints, ForwardConfig, ForwardLayer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use crate::cluster::{Cluster, SECRET, blog_builder, state_for};

/// A tag to insert.
pub fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

/// Begins on `repo` with `limits`, inserts one tag, and hands the transaction back.
///
/// # Panics
/// If it cannot begin or insert.
pub async fn open_with_tag(repo: &Repo, limits: TransactionLimits, name: &str) -> RepoTransaction {
    let txn = repo.begin_with_limits(limits).await.expect("begin");
    new_tag(name).insert(&txn).await.expect("insert inside");
    txn
}

/// Writes a tag through `repo`: a write that must not wait behind an abandoned
/// transaction (one still holding the writer would make it wait for a minute).
///
/// # Panics
/// If the write waits 20 s or fails.
pub async fn later_write_proceeds(repo: &Repo, name: &str) {
    let write = new_tag(name).insert(repo);
    tokio::time::timeout(Duration::from_secs(20), write)
        .await
        .expect("the writer was released")
        .expect("later write");
}

/// Whether the tag `name` is in `db`.
///
/// # Panics
/// If `db` cannot be read.
pub async fn tag_exists(db: &DatabaseConnection, name: &str) -> bool {
    tag::Entity::find()
        .filter(tag::Column::Name.eq(name))
        .count(db)
        .await
        .expect("count")
        > 0
}

/// Limits no test reaches: a minute in all and idle.
pub fn long() -> TransactionLimits {
    TransactionLimits::default()
        .max_duration(Duration::from_secs(60))
        .max_idle(Duration::from_secs(60))
}

/// A replica repository whose forwarding goes through `proxy`.
pub fn replica_through(cluster: &Cluster, proxy: SocketAddr) -> Repo {
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
