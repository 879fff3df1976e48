//! `ChangeFeed`: one watcher per node that learns of new comments as they reach this node's
//! own database (written here, or replicated from the primary) and fans them out to this
//! node's WebSocket viewers.
//!
//! The watcher does not ask the rest of the cluster anything: the database is the source.
//! It wakes when the node itself wrote ([`ChangeFeed::wake`], called by the handlers after a
//! write returns) or when SQLite's `PRAGMA data_version` says another connection committed
//! (LiteFS applying a transaction from the primary, or the primary's writer executing a
//! write forwarded by another node). That check is one pragma on one connection every
//! [`CHECK_INTERVAL`], whatever the number of viewers; only a change costs a query, which
//! reads the comments above the last id it announced. Comment ids grow in commit order
//! (SQLite has one writer), so "above the last id" misses nothing and repeats nothing.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use tokio::sync::{Notify, broadcast};
use tokio::task::AbortHandle;

use super::CommentEvent;
use crate::entities::comment;

/// How often the watcher asks SQLite whether another connection committed.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// How many comment events a slow viewer may fall behind before it catches up from the
/// database instead.
const CAPACITY: usize = 256;

/// The most comments one wake-up reads; more are read on the next round at once.
const BATCH: u64 = 500;

/// New comments on this node, in id order, each announced once. Cheap to clone; the watcher
/// stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    /// Where new comments are announced; every viewer holds a receiver.
    events: broadcast::Sender<CommentEvent>,
    /// Wakes the watcher at once after this node wrote.
    wake: Arc<Notify>,
    /// Stops the watcher when the last clone goes.
    _watcher: Arc<WatcherGuard>,
}

#[derive(Debug)]
struct WatcherGuard(AbortHandle);

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ChangeFeed {
    /// Starts watching `db`, announcing comments stored from now on. `db` should be a
    /// connection of its own (one pooled connection): `data_version` is per connection.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (events, _) = broadcast::channel(CAPACITY);
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(watch(db, events.clone(), wake.clone()));
        Self {
            events,
            wake,
            _watcher: Arc::new(WatcherGuard(task.abort_handle())),
        }
    }

    /// A receiver of every comment announced after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<CommentEvent> {
        self.events.subscribe()
    }

    /// Tells the watcher this node just stored something, so it looks now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The watcher: wait for a change, announce what is new, repeat.
async fn watch(db: DatabaseConnection, events: broadcast::Sender<CommentEvent>, wake: Arc<Notify>) {
    let mut last_id = loop {
        match max_comment_id(&db).await {
            Ok(id) => break id,
            Err(e) => {
                tracing::warn!(error = %e, "change feed: cannot read comments yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut version = data_version(&db).await.ok();
    let mut more = false;
    loop {
        if !more {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(CHECK_INTERVAL) => {
                    let now = data_version(&db).await.ok();
                    if now == version {
                        continue;
                    }
                    version = now;
                }
            }
        }
        match announce(&db, &events, last_id).await {
            Ok((id, full)) => {
                last_id = id;
                more = full;
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: reading new comments failed");
                more = false;
            }
        }
    }
}

/// Announces the comments above `last_id`; the new last id, and whether a full batch was
/// read (so there may be more).
async fn announce(
    db: &DatabaseConnection,
    events: &broadcast::Sender<CommentEvent>,
    last_id: i32,
) -> Result<(i32, bool), DbErr> {
    let fresh = comments_after(db, None, last_id, BATCH).await?;
    let Some(newest) = fresh.last().map(|c| c.id) else {
        // Nothing above: after a failover that lost the newest rows the ids may have gone
        // back; follow them so that the next comments are not skipped.
        let top = max_comment_id(db).await?;
        return Ok((top.min(last_id), false));
    };
    let full = fresh.len() as u64 == BATCH;
    for comment in fresh {
        tracing::debug!(comment = comment.id, post = comment.post_id, "new comment");
        // No receivers (nobody watching) is not an error.
        let _ = events.send(CommentEvent::from(comment));
    }
    Ok((newest, full))
}

/// The comments above `after` (on `post_id` if given), oldest first, at most `limit`.
pub(crate) async fn comments_after<C: ConnectionTrait>(
    db: &C,
    post_id: Option<i32>,
    after: i32,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let mut query = comment::Entity::find().filter(comment::Column::Id.gt(after));
    if let Some(post_id) = post_id {
        query = query.filter(comment::Column::PostId.eq(post_id));
    }
    query
        .order_by_asc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

async fn max_comment_id(db: &DatabaseConnection) -> Result<i32, DbErr> {
    let newest = comment::Entity::find()
        .order_by_desc(comment::Column::Id)
        .one(db)
        .await?;
    Ok(newest.map_or(0, |c| c.id))
}

/// SQLite's `PRAGMA data_version`: changes when another connection commits.
async fn data_version(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "PRAGMA data_version",
        ))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}
