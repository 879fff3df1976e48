//! One suite, three backends: the shared scenarios ([`crate::scenarios`]) run their same
//! bodies against any [`BackendCluster`] — the LiteFS emulator ([`Emulator`]), real LiteFS
//! ([`RealLiteFs`]) and real PostgreSQL streaming replication ([`Postgres`]). A backend
//! whose binary is missing is skipped with a message, unless CI requires it
//! (`CI_REQUIRE_LITEFS`, `CI_REQUIRE_POSTGRES`: see each harness's `install` module).

mod emulator;
mod postgres;
mod real_litefs;

pub use emulator::Emulator;
pub use postgres::Postgres;
pub use real_litefs::RealLiteFs;

use std::future::Future;

use repo_core::Repo;
use sea_orm::DatabaseConnection;

/// A running cluster of one backend, as the shared scenarios see it: a replica whose
/// writes are forwarded, and the primary's own connection to check what was written. Every
/// backend has the blog's `tags` table and registers its entity.
pub trait BackendCluster: Sized {
    /// The backend's name, for messages.
    const NAME: &'static str;

    /// Starts a primary and one replica whose forwarded writes wait (bounded, failing on
    /// lag) until the replica has them; `None` after printing why the backend is skipped.
    fn start() -> impl Future<Output = Option<Self>>;

    /// The replica's repository (its writes are forwarded to the primary).
    fn replica(&self) -> &Repo;

    /// The primary's own database connection.
    fn primary_db(&self) -> &DatabaseConnection;

    /// Stops the nodes and the cluster.
    fn close(self) -> impl Future<Output = ()>;
}

/// Runs `scenario` on a fresh cluster of backend `B`, on a two-thread runtime; returns
/// without running it when `B` is skipped here.
pub fn run<B, F>(scenario: F)
where
    B: BackendCluster,
    F: AsyncFnOnce(&B),
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let Some(cluster) = B::start().await else {
            return;
        };
        scenario(&cluster).await;
        cluster.close().await;
    });
}
