//! The full default stack (telemetry → timeout → retry → breaker → executor) on the local
//! path, against raw `am.insert(&db)` on the same SQLite file, with telemetry off and on.
//!
//! Three variants, interleaved call by call in rotating order, `REPS` repetitions (default
//! 5) of `ROUNDS` calls each; each figure is the median over the repetitions with its
//! min–max:
//! - `raw`: `am.insert(&db)`;
//! - `stack`: `repo.insert(am)` through the default stack, with no tracing subscriber and
//!   no metrics recorder doing anything, as in an application that has set up neither;
//! - `stack + telemetry`: the same with what an application in production pays for: a
//!   `tracing-subscriber` fmt subscriber at INFO (writing to a sink) around the call, and
//!   a Prometheus recorder (`metrics-exporter-prometheus`) receiving the stack's metrics.
//!   The recorder is installed once, globally, behind a switch that is on only during this
//!   variant's calls (metrics are looked up per call, so the switch costs one atomic load).
//!
//! Run: `cargo bench -p repo-middleware --bench stack_ratio` (`REPS=…`, `ROUNDS=…`).

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use repo_core::Repo;
use repo_middleware::StackConfig;
use sea_orm::ActiveModelTrait;
use tracing::instrument::WithSubscriber;

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{Spread, env_count, load_average, new_note, notes_db, percentile, us};

/// Whether the Prometheus recorder receives metrics (on during the telemetry variant).
static RECORDING: AtomicBool = AtomicBool::new(false);

/// A Prometheus recorder that records only while [`RECORDING`] is on.
struct Switched(PrometheusRecorder);

impl Recorder for Switched {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
}

const NAMES: [&str; 3] = [
    "raw am.insert(&db)",
    "repo.insert, default stack",
    "  + subscriber and Prometheus",
];

#[tokio::main]
async fn main() {
    let reps = env_count("REPS", 5).max(1);
    let rounds = env_count("ROUNDS", 10_000).max(1);
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(Switched(recorder)).expect("the only recorder");
    let subscriber = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(std::io::sink)
            .with_max_level(tracing::Level::INFO)
            .finish(),
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let db = notes_db(dir.path()).await;
    let mut builder = Repo::builder(db.clone());
    for layer in StackConfig::default().layers() {
        builder = builder.boxed_layer(layer);
    }
    let stacked = builder.build();

    println!("load average before: {}", load_average());
    let mut p50s: Vec<[Duration; 3]> = Vec::new();
    let mut p99s: Vec<[Duration; 3]> = Vec::new();
    for _ in 0..reps {
        let mut samples: [Vec<Duration>; 3] = Default::default();
        for i in 0..rounds + 500 {
            let mut took = [Duration::ZERO; 3];
            for k in 0..3 {
                let variant = (i + k) % 3;
                let t = Instant::now();
                match variant {
                    0 => drop(new_note().insert(&db).await.expect("raw")),
                    1 => drop(stacked.insert(new_note()).await.expect("stack")),
                    _ => {
                        RECORDING.store(true, Ordering::Relaxed);
                        let call = stacked
                            .insert(new_note())
                            .into_future()
                            .with_subscriber(subscriber.clone());
                        drop(call.await.expect("stack with telemetry"));
                        RECORDING.store(false, Ordering::Relaxed);
                    }
                }
                took[variant] = t.elapsed();
            }
            if i >= 500 {
                for (s, t) in samples.iter_mut().zip(took) {
                    s.push(t);
                }
            }
        }
        let sorted = samples.map(|mut s| {
            s.sort();
            s
        });
        p50s.push([0, 1, 2].map(|v| percentile(&sorted[v], 0.5)));
        p99s.push([0, 1, 2].map(|v| percentile(&sorted[v], 0.99)));
    }
    println!("load average after:  {}", load_average());
    assert!(
        handle.render().contains("repo_"),
        "the Prometheus recorder received the stack's metrics"
    );

    println!(
        "insert on the local path, {rounds} interleaved calls per variant and repetition; \
         median over {reps} repetitions (min–max)"
    );
    for (v, name) in NAMES.iter().enumerate() {
        let p50 = Spread::of(p50s.iter().map(|r| us(r[v])).collect());
        let p99 = Spread::of(p99s.iter().map(|r| us(r[v])).collect());
        let ratio = Spread::of(
            p50s.iter()
                .map(|r| r[v].as_secs_f64() / r[0].as_secs_f64())
                .collect(),
        );
        println!(
            "{name:<32} p50 {} µs  p99 {} µs  p50 / raw {}",
            p50.show(1),
            p99.show(1),
            ratio.show(3)
        );
    }
    let telemetry = Spread::of(
        p50s.iter()
            .map(|r| r[2].as_secs_f64() / r[1].as_secs_f64())
            .collect(),
    );
    println!("telemetry on / off, p50: {}", telemetry.show(3));
}
