//! The blog over HTTP: a JSON API, server-rendered pages, live comments over a WebSocket,
//! and `/health` and `/metrics` for operators.
//!
//! [`app`] builds the whole [`Router`] from an [`AppState`], so tests can drive it with
//! `tower::ServiceExt::oneshot` and the binary can serve it with `axum::serve`.
//!
//! ```no_run
//! use blog_example::web::{AppState, HealthInfo, NodeInfo, app};
//! use repo_core::{NodeRole, Repo};
//!
//! # async fn demo(repo: Repo) -> std::io::Result<()> {
//! let node = NodeInfo::new(|| HealthInfo {
//!     node: "local".to_owned(),
//!     role: NodeRole::Primary,
//!     primary: None,
//!     circuit: None,
//!     replication_lag: blog_example::lag::read_lag(None),
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app(AppState::new(repo, node))).await
//! # }
//! ```

mod api;
mod error;
mod extract;
mod feed;
mod feed_version;
mod html;
mod live_posts;
mod not_found;
mod ops;
mod pages;
mod request_span;
mod socket_close;
mod validate;
mod ws;

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use repo_core::{NodeRole, Repo};
use repo_middleware::BreakerState;
use serde::Serialize;

use crate::entities::comment;
use crate::lag::ReplicationLag;

pub use error::ApiError;
pub use feed::{CHECK_INTERVAL, ChangeFeed};
pub use html::escape;
pub use request_span::REQUEST_ID_HEADER;

/// The largest request body the server reads; larger ones get `413 Payload Too Large`.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The repository every read and write goes through.
    pub repo: Repo,
    /// Who this node is and who the primary is, for `/health`.
    pub node: NodeInfo,
    /// New comments on this node's database, fanned out to every WebSocket watching a
    /// post.
    pub feed: ChangeFeed,
    /// Renders `/metrics`; `None` turns the endpoint into a 404.
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    /// State over `repo` with no metrics endpoint, and a [`ChangeFeed`] watching the
    /// repository's own connection (see [`AppState::with_feed`] for a dedicated one).
    pub fn new(repo: Repo, node: NodeInfo) -> Self {
        let feed = ChangeFeed::spawn(repo.connection().clone());
        Self {
            repo,
            node,
            feed,
            metrics: None,
        }
    }

    /// Announces comments from `feed` instead.
    pub fn with_feed(mut self, feed: ChangeFeed) -> Self {
        self.feed = feed;
        self
    }

    /// Serves `/metrics` from `handle`.
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("repo", &self.repo)
            .field("node", &self.node)
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

/// What `/health` reports about this node at the moment it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthInfo {
    /// This node's name.
    pub node: String,
    /// Whether this node writes or forwards its writes.
    pub role: NodeRole,
    /// The primary this node knows of, if any.
    pub primary: Option<String>,
    /// The state of the circuit breaker in the repository's write stack; `None` when the
    /// stack has none.
    pub circuit: Option<BreakerState>,
    /// How far this node's copy of the database is behind the primary, or why that is
    /// not known (see [`crate::lag`]).
    pub replication_lag: ReplicationLag,
}

/// A source of [`HealthInfo`], asked on every `/health` request, so that the binary can
/// plug in whatever tracks the primary (such as the LiteFS tracker). The source may do
/// small blocking reads (such as LiteFS's `.lag` file): `/health` asks it on tokio's
/// blocking pool.
#[derive(Clone)]
pub struct NodeInfo(Arc<dyn Fn() -> HealthInfo + Send + Sync>);

impl NodeInfo {
    /// Asks `source` on every health check.
    pub fn new(source: impl Fn() -> HealthInfo + Send + Sync + 'static) -> Self {
        Self(Arc::new(source))
    }

    /// Always reports `info`.
    pub fn fixed(info: HealthInfo) -> Self {
        Self::new(move || info.clone())
    }

    /// The current view of this node.
    pub fn current(&self) -> HealthInfo {
        (self.0)()
    }
}

impl fmt::Debug for NodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NodeInfo").field(&self.current()).finish()
    }
}

/// A comment as pushed to WebSocket clients: `{id, post_id, author, body, created_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentEvent {
    /// The comment's id.
    pub id: i32,
    /// The post it is on.
    pub post_id: i32,
    /// Who wrote it.
    pub author: String,
    /// What they wrote.
    pub body: String,
    /// When it was stored (UTC).
    pub created_at: chrono::NaiveDateTime,
}

impl From<comment::Model> for CommentEvent {
    fn from(c: comment::Model) -> Self {
        Self {
            id: c.id,
            post_id: c.post_id,
            author: c.author,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// A newly published post as pushed to `/ws` clients: `{id, title, slug, published_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostEvent {
    /// The post's id.
    pub id: i32,
    /// Its title.
    pub title: String,
    /// Its slug.
    pub slug: String,
    /// When it was published (UTC).
    pub published_at: Option<chrono::NaiveDateTime>,
}

impl From<crate::entities::post::Model> for PostEvent {
    fn from(p: crate::entities::post::Model) -> Self {
        Self {
            id: p.id,
            title: p.title,
            slug: p.slug,
            published_at: p.published_at,
        }
    }
}

/// The blog's router: JSON API under `/api`, pages at `/`, `/drafts` and `/posts/{id}` with
/// their form posts, live comments at `/posts/{id}/ws`, newly published posts at `/ws`, and
/// `/health` and `/metrics`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/posts", get(api::list_posts).post(api::create_post))
        .route("/api/posts/archive", post(api::archive_posts))
        .route("/api/posts/{id}", get(api::show_post))
        .route("/api/posts/{id}/comments", post(api::create_comment))
        .route("/api/posts/{id}/publish", post(api::publish_post))
        .route("/api/tags", get(api::list_tags))
        .route("/", get(pages::index))
        .route("/drafts", get(pages::drafts))
        .route("/posts", post(pages::create_form))
        .route("/posts/{id}", get(pages::post_page))
        .route("/posts/{id}/publish", post(pages::publish_form))
        .route("/posts/{id}/comments", post(pages::comment_form))
        .route("/posts/{id}/ws", get(ws::upgrade))
        .route("/ws", get(live_posts::upgrade))
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .fallback(not_found::fallback)
        .method_not_allowed_fallback(not_found::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(request_span::request_span))
        .with_state(state)
}
