//! [`Twin`]: a standalone primary of a backend, the reference of the parity script.

use repo_core::Repo;

/// A standalone primary with the blog's schema and entities, outside any cluster: no
/// forwarding, no ledger. Its database lives as long as the twin (SQLite) or as the
/// backend's servers (PostgreSQL: a database of its own on the primary's server).
pub struct Twin {
    /// The twin's repository.
    pub repo: Repo,
    /// The SQLite twin's directory.
    _dir: Option<tempfile::TempDir>,
}

impl Twin {
    /// A twin over a fresh SQLite file.
    pub async fn sqlite() -> Self {
        let (dir, repo) = crate::write_script::twin().await;
        Self {
            repo,
            _dir: Some(dir),
        }
    }

    /// A twin over `db`, migrated here.
    pub async fn over(db: sea_orm::DatabaseConnection) -> Self {
        crate::cluster::migrate(&db).await;
        Self {
            repo: crate::cluster::blog_builder(db).build(),
            _dir: None,
        }
    }
}
