//! Shared setup for the web tests: a migrated SQLite file in a temporary directory.

#![allow(dead_code, unreachable_pub)]

pub mod socket;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use blog_example::lag::ReplicationLag;
use blog_example::transactions;
use blog_example::web::{AppState, HealthInfo, NodeInfo, app};
use http_body_util::BodyExt;
use migrations::{Migrator, MigratorTrait};
use repo_core::{NodeRole, Repo};
use sea_orm::{Database, DatabaseConnection};
use serde_json::Value;
use tower::ServiceExt;

/// A migrated SQLite file in a fresh temporary directory; keep the directory alive.
pub async fn database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let db = Database::connect(url).await.expect("open database");
    Migrator::up(&db, None).await.expect("migrate");
    (dir, db)
}

/// The app's state over a fresh database; keep the directory alive for the test.
pub async fn state() -> (tempfile::TempDir, AppState) {
    let (dir, db) = database().await;
    let repo = transactions::register(Repo::builder(db)).build();
    let node = NodeInfo::fixed(HealthInfo {
        node: "node-a".to_owned(),
        role: NodeRole::Primary,
        primary: Some("node-a".to_owned()),
        circuit: None,
        replication_lag: ReplicationLag::NoMountDir,
    });
    (dir, AppState::new(repo, node))
}

/// A response's status, content type and body text.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// Sends `request` to a fresh router over `state`.
pub async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8 body");
    Reply {
        status,
        content_type,
        text,
    }
}

/// `GET uri`.
pub async fn get(state: &AppState, uri: &str) -> Reply {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send(state, request).await
}

/// `POST uri` with a raw JSON body.
pub async fn post_raw(state: &AppState, uri: &str, body: impl Into<Body>) -> Reply {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request");
    send(state, request).await
}

/// `POST uri` with `body` as JSON.
pub async fn post_json(state: &AppState, uri: &str, body: &Value) -> Reply {
    post_raw(state, uri, body.to_string()).await
}

/// Creates a post through the API and returns its JSON.
pub async fn create_post(state: &AppState, title: &str, slug: &str, tags: &[&str]) -> Value {
    let reply = post_json(
        state,
        "/api/posts",
        &serde_json::json!({ "title": title, "slug": slug, "body": "Some text.", "tags": tags }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}
