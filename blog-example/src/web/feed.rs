//! `ChangeFeed`: one watcher per node that learns of new comments and newly published posts
//! as they reach this node's own database (written here, or replicated from the primary) and
//! fans them out to this node's WebSocket viewers.
//!
//! The watcher does not ask the rest of the cluster anything: the database is the source.
//! It wakes when the node itself wrote ([`ChangeFeed::wake`], called by the handlers after a
//! write returns) or when another connection committed (LiteFS applying a transaction from
//! the primary, or the primary's writer executing a write forwarded by another node). That
//! check runs every [`CHECK_INTERVAL`], whatever the number of viewers: with the database's
//! files known ([`ChangeFeed::spawn_watching`], what a node uses) it reads a few bytes of the
//! file and its `-wal` ([`ChangeSignal`]: no SQL, no hand-off to SQLite's worker thread, so
//! an idle node costs next to nothing); otherwise it asks SQLite's `PRAGMA data_version` on
//! one connection, or on PostgreSQL the server's WAL position (replayed on a standby, written
//! on the primary), which moves whenever a commit reaches this server. Only a change costs a
//! query, which reads the comments above the last id it announced. Comment ids grow in
//! commit order (SQLite has one writer; on PostgreSQL the node's writer runs one write at a
//! time, so for everything written through the blog's nodes), so "above the last id" misses
//! nothing and repeats nothing.
//! Posts are announced when they are published, in `(published_at, id)` order after the
//! last one announced (the primary's clock sets `published_at`).

use std::sync::Arc;
use std::time::Duration;

use repo_litefs::ChangeSignal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use tokio::sync::{Notify, broadcast};
use tokio::task::AbortHandle;

use super::feed_version::FeedVersion;
use super::{CommentEvent, PostEvent};
use crate::entities::{comment, post};

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
    /// Where newly published posts are announced.
    posts: broadcast::Sender<PostEvent>,
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
        Self::start(db, None)
    }

    /// Starts watching `db`, told of other connections' commits by `files` (see
    /// [`ChangeSignal::sqlite`]) rather than by `PRAGMA data_version`.
    pub fn spawn_watching(db: DatabaseConnection, files: ChangeSignal) -> Self {
        Self::start(db, Some(files))
    }

    fn start(db: DatabaseConnection, files: Option<ChangeSignal>) -> Self {
        let (events, _) = broadcast::channel(CAPACITY);
        let (posts, _) = broadcast::channel(CAPACITY);
        let wake = Arc::new(Notify::new());
        let channels = Channels {
            comments: events.clone(),
            posts: posts.clone(),
        };
        let task = tokio::spawn(watch(db, files, channels, wake.clone()));
        Self {
            events,
            posts,
            wake,
            _watcher: Arc::new(WatcherGuard(task.abort_handle())),
        }
    }

    /// A receiver of every comment announced after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<CommentEvent> {
        self.events.subscribe()
    }

    /// A receiver of every post published after this call.
    pub fn subscribe_posts(&self) -> broadcast::Receiver<PostEvent> {
        self.posts.subscribe()
    }

    /// Tells the watcher this node just stored something, so it looks now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The watcher's two outlets.
struct Channels {
    comments: broadcast::Sender<CommentEvent>,
    posts: broadcast::Sender<PostEvent>,
}

/// What the watcher announced last.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The highest comment id.
    comment: i32,
    /// The last published post, by `(published_at, id)`.
    post: Option<(chrono::NaiveDateTime, i32)>,
}

/// The watcher: wait for a change, announce what is new, repeat.
async fn watch(
    db: DatabaseConnection,
    files: Option<ChangeSignal>,
    channels: Channels,
    wake: Arc<Notify>,
) {
    let mut seen = loop {
        match current(&db).await {
            Ok(seen) => break seen,
            Err(e) => {
                tracing::warn!(error = %e, "change feed: cannot read the database yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut version = FeedVersion::now(&db, files.as_ref()).await;
    let mut more = false;
    loop {
        if !more {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(CHECK_INTERVAL) => {
                    let now = FeedVersion::now(&db, files.as_ref()).await;
                    if !now.differs_from(&version) {
                        continue;
                    }
                    version = now;
                }
            }
        }
        let comments = announce(&db, &channels.comments, seen.comment).await;
        let posts = announce_posts(&db, &channels.posts, seen.post).await;
        more = false;
        match comments {
            Ok((id, full)) => {
                seen.comment = id;
                more |= full;
            }
            Err(e) => tracing::warn!(error = %e, "change feed: reading new comments failed"),
        }
        match posts {
            Ok((last, full)) => {
                seen.post = last;
                more |= full;
            }
            Err(e) => tracing::warn!(error = %e, "change feed: reading published posts failed"),
        }
    }
}

/// Where the database stands now: nothing before it is announced.
async fn current(db: &DatabaseConnection) -> Result<Seen, DbErr> {
    let post = post::Entity::find()
        .filter(post::Column::Published.eq(true))
        .order_by_desc(post::Column::PublishedAt)
        .order_by_desc(post::Column::Id)
        .one(db)
        .await?
        .and_then(|p| Some((p.published_at?, p.id)));
    Ok(Seen {
        comment: max_comment_id(db).await?,
        post,
    })
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

/// Announces the posts published after `last`; the new last, and whether a full batch was
/// read.
async fn announce_posts(
    db: &DatabaseConnection,
    events: &broadcast::Sender<PostEvent>,
    last: Option<(chrono::NaiveDateTime, i32)>,
) -> Result<(Option<(chrono::NaiveDateTime, i32)>, bool), DbErr> {
    let mut fresh = Vec::new();
    for query in posts_published_after(last) {
        let room = BATCH - fresh.len() as u64;
        if room == 0 {
            break;
        }
        fresh.extend(query.limit(room).all(db).await?);
    }
    let full = fresh.len() as u64 == BATCH;
    let mut newest = last;
    for post in fresh {
        if let Some(at) = post.published_at {
            newest = Some((at, post.id));
        }
        tracing::debug!(post = post.id, "post published");
        let _ = events.send(PostEvent::from(post));
    }
    Ok((newest, full))
}

/// The queries for the posts published after `last` (publication time, then id), each
/// oldest first: without `last`, every published post; with it, those published at the
/// same instant with a higher id, then those published later. Each is one range of the
/// posts' publication index (see the migration `m20261130_000005_index_feed_queries`); a
/// single query with `OR` (or a row-value comparison) would make SQLite read the index
/// from `at` on, every post of that instant included.
fn posts_published_after(last: Option<(chrono::NaiveDateTime, i32)>) -> Vec<Select<post::Entity>> {
    let published = || {
        post::Entity::find()
            .filter(post::Column::Published.eq(true))
            .filter(post::Column::Archived.eq(false))
            .order_by_asc(post::Column::PublishedAt)
            .order_by_asc(post::Column::Id)
    };
    match last {
        None => vec![published()],
        Some((at, id)) => vec![
            published()
                .filter(post::Column::PublishedAt.eq(at))
                .filter(post::Column::Id.gt(id)),
            published().filter(post::Column::PublishedAt.gt(at)),
        ],
    }
}

/// The comments above `after` (on `post_id` if given), oldest first, at most `limit`.
pub(crate) async fn comments_after<C: ConnectionTrait>(
    db: &C,
    post_id: Option<i32>,
    after: i32,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    comments_after_query(post_id, after, limit).all(db).await
}

/// The query behind [`comments_after`].
fn comments_after_query(post_id: Option<i32>, after: i32, limit: u64) -> Select<comment::Entity> {
    let mut query = comment::Entity::find().filter(comment::Column::Id.gt(after));
    if let Some(post_id) = post_id {
        query = query.filter(comment::Column::PostId.eq(post_id));
    }
    query.order_by_asc(comment::Column::Id).limit(limit)
}

async fn max_comment_id(db: &DatabaseConnection) -> Result<i32, DbErr> {
    let newest = comment::Entity::find()
        .order_by_desc(comment::Column::Id)
        .one(db)
        .await?;
    Ok(newest.map_or(0, |c| c.id))
}

#[cfg(test)]
#[path = "feed_plans.rs"]
mod plans;
