//! A fake LiteFS HTTP API on `127.0.0.1:0` whose `/info` and `/events` the test drives.
//!
//! `/info` answers the JSON last given to [`FakeLiteFs::set_info`]; `/events` keeps each
//! connection open and streams exactly the lines the test sends with [`FakeLiteFs::send`], until
//! [`FakeLiteFs::close_events`] ends it. [`FakeLiteFs::fail_with`] makes both answer an error.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long a test waits for something the tracker should do promptly.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`PATIENCE`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {PATIENCE:?} waiting for {what}"),
    }
}

/// What the fake answers, shared with its handlers.
#[derive(Clone)]
struct Shared {
    /// Body of `/info`.
    info: Arc<Mutex<Value>>,
    /// When set, `/info` and `/events` answer this status instead.
    failure: Arc<Mutex<Option<StatusCode>>>,
    /// The newest `/events` connection's line sender.
    current: Arc<Mutex<Option<mpsc::UnboundedSender<Vec<u8>>>>>,
    /// `/events` connections opened so far.
    connections: watch::Sender<usize>,
    /// `/info` requests answered so far (successfully or not).
    info_reads: watch::Sender<usize>,
}

/// The running fake; the server stops when it is dropped.
pub struct FakeLiteFs {
    url: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl FakeLiteFs {
    /// Starts the fake with `info` as the body of `/info`.
    pub async fn start(info: Value) -> Self {
        let shared = Shared {
            info: Arc::new(Mutex::new(info)),
            failure: Arc::default(),
            current: Arc::default(),
            connections: watch::Sender::new(0),
            info_reads: watch::Sender::new(0),
        };
        let app = Router::new()
            .route("/info", get(serve_info))
            .route("/events", get(serve_events))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake LiteFS serves");
        });
        Self {
            url: format!("http://{addr}"),
            shared,
            server,
        }
    }

    /// The API's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the body of `/info`.
    pub fn set_info(&self, info: Value) {
        *self.shared.info.lock().expect("lock") = info;
    }

    /// Makes `/info` and `/events` answer `status` (`None`: answer normally again).
    pub fn fail_with(&self, status: Option<StatusCode>) {
        *self.shared.failure.lock().expect("lock") = status;
    }

    /// `/events` connections opened so far.
    pub fn connections(&self) -> usize {
        *self.shared.connections.borrow()
    }

    /// `/info` requests so far.
    pub fn info_reads(&self) -> usize {
        *self.shared.info_reads.borrow()
    }

    /// Waits until at least `n` `/events` connections were opened.
    pub async fn wait_for_connections(&self, n: usize) {
        let mut rx = self.shared.connections.subscribe();
        within(
            &format!("{n} /events connections"),
            rx.wait_for(|c| *c >= n),
        )
        .await
        .expect("fake alive");
    }

    /// Waits until `/info` was requested at least `n` times.
    pub async fn wait_for_info_reads(&self, n: usize) {
        let mut rx = self.shared.info_reads.subscribe();
        within(&format!("{n} /info reads"), rx.wait_for(|c| *c >= n))
            .await
            .expect("fake alive");
    }

    /// Sends `line` and a `\n` on the newest `/events` connection.
    pub fn send(&self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        self.send_bytes(bytes);
    }

    /// Sends raw bytes on the newest `/events` connection.
    pub fn send_bytes(&self, bytes: Vec<u8>) {
        let current = self.shared.current.lock().expect("lock");
        let sender = current.as_ref().expect("an open /events connection");
        sender.send(bytes).expect("the /events connection is open");
    }

    /// Ends the newest `/events` response (a clean end of the chunked body).
    pub fn close_events(&self) {
        self.shared.current.lock().expect("lock").take();
    }

    /// Waits until the client has gone from the newest `/events` connection, sending harmless
    /// `tx` lines meanwhile so that the server notices the closed socket.
    pub async fn wait_for_client_to_leave(&self) {
        let sender = self
            .shared
            .current
            .lock()
            .expect("lock")
            .clone()
            .expect("an /events connection");
        within("the tracker to close /events", async {
            let tx = br#"{"type":"tx","db":"x.db","data":{}}"#.to_vec();
            while sender.send([tx.clone(), b"\n".to_vec()].concat()).is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
}

impl Drop for FakeLiteFs {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve_info(State(shared): State<Shared>) -> Response {
    shared.info_reads.send_modify(|n| *n += 1);
    if let Some(status) = *shared.failure.lock().expect("lock") {
        return status.into_response();
    }
    let body = shared.info.lock().expect("lock").to_string();
    ([("content-type", "application/json")], body).into_response()
}

async fn serve_events(State(shared): State<Shared>) -> Response {
    if let Some(status) = *shared.failure.lock().expect("lock") {
        return status.into_response();
    }
    let (sender, receiver) = mpsc::unbounded_channel::<Vec<u8>>();
    *shared.current.lock().expect("lock") = Some(sender);
    shared.connections.send_modify(|n| *n += 1);
    let lines = futures::stream::unfold(receiver, |mut receiver| async move {
        let bytes = receiver.recv().await?;
        Some((Ok::<_, Infallible>(bytes), receiver))
    });
    (
        [("content-type", "application/json")],
        Body::from_stream(lines),
    )
        .into_response()
}
