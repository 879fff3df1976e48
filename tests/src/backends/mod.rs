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

use repo_core::{BoxedLayer, Repo};
use sea_orm::DatabaseConnection;

pub use twin::Twin;

mod twin;

/// A running cluster of one backend, as the shared scenarios see it: a replica whose
/// writes are forwarded, and the primary's own connection to check what was written. Every
/// backend has the blog's schema, the `every_type_rows` table, and registers the blog's
/// entities and named transactions.
pub trait BackendCluster: Sized {
    /// The backend's name, for messages.
    const NAME: &'static str;

    /// Starts a primary and one replica whose forwarded writes wait (bounded, failing on
    /// lag) until the replica has them; `None` after printing why the backend is skipped.
    fn start() -> impl Future<Output = Option<Self>>;

    /// The replica's repository (its writes are forwarded to the primary).
    fn replica(&self) -> &Repo;

    /// The replica's own database connection (after [`Promotable::promote_replica`]:
    /// the new primary's).
    fn replica_db(&self) -> &DatabaseConnection;

    /// The primary's own database connection.
    fn primary_db(&self) -> &DatabaseConnection;

    /// A standalone primary of the same backend with the same schema, outside the
    /// cluster: the reference a forwarded call's answer is compared with.
    fn twin(&self) -> impl Future<Output = Twin>;

    /// Starts a second library node on the replica's server, as the replica's is set up,
    /// whose repository has `outer` (in order, outermost first) outside its own layers and
    /// forwarding: where a test puts a fault between the caller and the forwarding layer.
    fn replica_with(&self, outer: Vec<BoxedLayer>) -> impl Future<Output = repo_litefs::Node>;

    /// Stops the nodes and the cluster.
    fn close(self) -> impl Future<Output = ()>;
}

/// A backend whose replica can become the primary while writes run, without losing a
/// committed write: the emulator hands LiteFS's lease over, PostgreSQL stops the primary
/// server and promotes the standby (`pg_ctl promote`). Real LiteFS is not one here: its
/// harness runs a static lease, whose primary changes only when every LiteFS process
/// restarts with another one named, unmounting the nodes' databases under the load.
pub trait Promotable: BackendCluster {
    /// Makes the replica the primary; returns once the backend says it is (the library's
    /// nodes notice on their own).
    fn promote_replica(&self) -> impl Future<Output = ()>;
}

/// `outer` applied to the blog's repository builder, outermost first.
pub(crate) fn with_layers(
    outer: Vec<BoxedLayer>,
) -> impl Fn(repo_core::RepoBuilder) -> repo_core::RepoBuilder + Send + Sync + 'static {
    move |builder| {
        outer.iter().fold(
            crate::cluster::blog_builder_from(builder),
            |builder, layer| builder.boxed_layer(layer.clone()),
        )
    }
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
