//! Test doubles: a scripted inner service, a span recorder and a metrics snapshot helper.
#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{Action, ExecSummary, Operation, Outcome, RepoError, Request, Response};
use sea_orm::{DbBackend, DbErr, RuntimeErr, Statement};
use tokio::time::Instant;
use tower::Service;

/// What the scripted service does with one call.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Ok,
    ConnectionLost,
    Rejected,
    NotDispatchedTimeout,
    /// Marks the write dispatched, then never answers.
    Hang,
}

/// Answers calls from a script (then `Ok` forever) and records what it saw, and when.
#[derive(Clone, Default)]
pub struct Scripted {
    script: Arc<Mutex<VecDeque<Step>>>,
    pub seen: Arc<Mutex<Vec<(Instant, Request)>>>,
}

impl Scripted {
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            script: Arc::new(Mutex::new(steps.into_iter().collect())),
            seen: Default::default(),
        }
    }

    pub fn calls(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }

    pub fn times(&self) -> Vec<Instant> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .map(|(t, _)| *t)
            .collect()
    }
}

pub fn ok() -> Response {
    Response::new(Outcome::Executed(ExecSummary {
        rows_affected: 1,
        last_insert_id: 1,
    }))
}

pub fn connection_lost() -> RepoError {
    RepoError::Database(DbErr::Conn(RuntimeErr::Internal(
        "connection reset by peer".into(),
    )))
}

impl Service<Request> for Scripted {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let step = self
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Step::Ok);
        let facts = request.facts.clone();
        self.seen
            .lock()
            .expect("lock")
            .push((Instant::now(), request));
        Box::pin(async move {
            match step {
                Step::Ok => {
                    facts.mark_dispatched();
                    Ok(ok())
                }
                Step::ConnectionLost => Err(connection_lost()),
                Step::Rejected => Err(RepoError::UnknownTransaction("nope".into())),
                Step::NotDispatchedTimeout => Err(RepoError::Timeout {
                    commit: repo_core::CommitState::NotCommitted,
                }),
                Step::Hang => {
                    facts.mark_dispatched();
                    futures::future::pending().await
                }
            }
        })
    }
}

/// A plain write request.
pub fn request() -> Request {
    Request::new(
        Action::Insert,
        "posts",
        Operation::Execute(Statement::from_string(
            DbBackend::Sqlite,
            "INSERT INTO posts DEFAULT VALUES",
        )),
    )
}

/// A real unique violation, from a real (in-memory) SQLite.
pub async fn unique_violation() -> RepoError {
    use sea_orm::{ConnectionTrait, Database};
    let db = Database::connect("sqlite::memory:").await.expect("sqlite");
    db.execute_unprepared("CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1);")
        .await
        .expect("setup");
    let err = db
        .execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .expect_err("duplicate");
    RepoError::Database(err)
}

/// Fields of every `repo.call` span, as text, recorded by a tracing layer.
#[derive(Clone, Default)]
pub struct Spans(pub Arc<Mutex<Vec<HashMap<String, String>>>>);

struct Visitor<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for Spans
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() != "repo.call" {
            return;
        }
        let mut fields = HashMap::new();
        attrs.record(&mut Visitor(&mut fields));
        let mut all = self.0.lock().expect("lock");
        fields.insert("#".into(), all.len().to_string());
        all.push(fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(all.len() - 1);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let Some(index) = span.extensions().get::<usize>().copied() else {
            return;
        };
        let mut all = self.0.lock().expect("lock");
        values.record(&mut Visitor(&mut all[index]));
    }
}

/// Emitted metrics: `(name, sorted labels) -> value` (counter, gauge, or histogram count).
pub type Metrics = HashMap<(String, Vec<(String, String)>), f64>;

/// Runs `body` on a paused current-thread runtime with a local metrics recorder, and
/// returns its result and the metrics it emitted as `(name, sorted labels) -> value`.
pub fn with_metrics<T>(body: impl std::future::Future<Output = T>) -> (T, Metrics) {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let out = metrics::with_local_recorder(&recorder, || runtime.block_on(body));
    let mut metrics = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let v = match value {
            DebugValue::Counter(c) => c as f64,
            DebugValue::Gauge(g) => g.into_inner(),
            DebugValue::Histogram(h) => h.len() as f64,
        };
        metrics.insert((key.name().to_owned(), labels), v);
    }
    (out, metrics)
}

/// Looks a metric up by name and labels (in any order).
pub fn metric(all: &Metrics, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    all.get(&(name.to_owned(), labels)).copied()
}

/// A layer that counts the requests passing through it.
#[derive(Clone, Default)]
pub struct Counter(Arc<std::sync::atomic::AtomicUsize>);

impl Counter {
    pub fn load(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl tower::Layer<repo_core::RepoService> for Counter {
    type Service = Counting;
    fn layer(&self, inner: repo_core::RepoService) -> Counting {
        Counting {
            inner,
            count: self.0.clone(),
        }
    }
}

/// The service of [`Counter`].
#[derive(Clone)]
pub struct Counting {
    inner: repo_core::RepoService,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

impl Service<Request> for Counting {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }
    fn call(&mut self, request: Request) -> Self::Future {
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(self.inner.call(request))
    }
}
