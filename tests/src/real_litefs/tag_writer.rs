//! `TagWriter`: one way for a node to write a `tags` row, for the benchmarks that compare
//! our forwarding with LiteFS's own (the HALT lock) on real LiteFS.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::Repo;
use sea_orm::{ActiveModelTrait, Database, DatabaseConnection, Set};

use super::process::LiteFsProcess;
use super::{DB, HaltLock};

/// How a benchmark writes: through our repository, under LiteFS's HALT lock, or on the
/// primary itself (the commit every way pays).
#[derive(Clone)]
pub enum TagWriter {
    /// `repo.insert(am)`: forwarded from a replica, then the read-your-writes wait.
    Forwarded(Repo),
    /// `am.insert(&db)` on a replica's own file under the HALT lock of the mount in the path
    /// (taken and released around each write, as `litefs run -with-halt-lock-on` does).
    Halt(DatabaseConnection, Arc<PathBuf>),
    /// `am.insert(&db)` on the primary.
    PrimaryLocal(DatabaseConnection),
}

impl TagWriter {
    /// HALT-lock writes on `node`'s own file.
    ///
    /// # Panics
    /// If the file cannot be opened (benchmarks only).
    pub async fn halt_on(node: &LiteFsProcess) -> Self {
        Self::Halt(open_for_halt(node).await, Arc::new(node.mount.clone()))
    }

    /// Closes what this writer opened itself (the HALT variant's file), before the cluster
    /// unmounts.
    pub async fn close(self) {
        if let Self::Halt(db, _) = self {
            let _ = db.close().await;
        }
    }

    /// What to call it in a report.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Forwarded(_) => "forwarded (ours)",
            Self::Halt(..) => "HALT lock (LiteFS)",
            Self::PrimaryLocal(_) => "primary local",
        }
    }

    /// This writer's own open `<db>-lock`, for the HALT variant.
    ///
    /// # Panics
    /// If the lock file cannot be opened (benchmarks only).
    pub fn lock(&self) -> Option<Arc<HaltLock>> {
        match self {
            Self::Halt(_, mount) => Some(Arc::new(HaltLock::open(mount, DB).expect("lock file"))),
            _ => None,
        }
    }

    /// Writes the tag `name` and says how long it took; `lock` is this writer's own
    /// [`TagWriter::lock`].
    ///
    /// # Panics
    /// If the write fails (benchmarks only).
    pub async fn write(&self, name: String, lock: Option<&Arc<HaltLock>>) -> Duration {
        let am = tag::ActiveModel {
            name: Set(name),
            ..Default::default()
        };
        let started = Instant::now();
        match self {
            Self::Forwarded(repo) => {
                repo.insert(am).await.expect("forwarded");
            }
            Self::Halt(db, _) => {
                let lock = lock.expect("a HALT writer has its lock");
                lock.acquire_within(Duration::from_secs(120))
                    .await
                    .expect("halt lock");
                let written = am.insert(db).await;
                lock.release().expect("release");
                written.expect("write under the HALT lock");
            }
            Self::PrimaryLocal(db) => {
                am.insert(db).await.expect("local");
            }
        }
        started.elapsed()
    }
}

/// `node`'s own database file, opened read-write for writes under the HALT lock.
///
/// # Panics
/// If it cannot be opened (benchmarks only).
pub async fn open_for_halt(node: &LiteFsProcess) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode=rw", node.db_path(DB).display()))
        .await
        .expect("open the replica's file for HALT writes")
}
