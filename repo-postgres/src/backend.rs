//! `Postgres`: PostgreSQL streaming replication as a [`Backend`].

use std::sync::Arc;

use futures::future::BoxFuture;
use repo_core::RepoError;
use repo_litefs::backend::{Backend, ReplicationPosition, SqlDialect};
use repo_litefs::durability::PositionSource;
use repo_litefs::lag::SampledLag;
use repo_litefs::tracker::PrimaryTracker;
use sea_orm::DatabaseConnection;

use crate::position::LsnPosition;
use crate::role::{RoleConfig, RoleFollower};
use crate::wal_position::WalPosition;

/// PostgreSQL as a node's backend: the role from `pg_is_in_recovery()` ([`RoleFollower`]),
/// read-your-writes by LSN ([`LsnPosition`]), `Durability::Candidates` by timeline and
/// flushed LSN ([`WalPosition`]), the PostgreSQL allowlist, errors re-raised with their
/// SQLSTATE ([`crate::reraise`]).
#[derive(Debug, Clone)]
pub struct Postgres {
    /// This node's connection (positions, re-raised errors).
    db: DatabaseConnection,
    /// The role, followed in the background.
    follower: RoleFollower,
}

impl Postgres {
    /// The backend of the node whose connection is `db`; starts following its role.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(db: DatabaseConnection, role: RoleConfig) -> Self {
        let follower = RoleFollower::spawn(db.clone(), role);
        Self { db, follower }
    }

    /// The role follower (to refresh it, or to wrap the executor in a
    /// [`crate::RoleRefreshLayer`]).
    pub fn follower(&self) -> &RoleFollower {
        &self.follower
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn follow(&self) -> PrimaryTracker {
        self.follower.tracker()
    }

    fn position(&self) -> Option<Arc<dyn ReplicationPosition>> {
        Some(Arc::new(LsnPosition::new(self.db.clone())))
    }

    fn durability_source(&self, tracker: &PrimaryTracker) -> Option<Arc<dyn PositionSource>> {
        Some(Arc::new(WalPosition::new(self.db.clone(), tracker)))
    }

    fn dialect(&self) -> SqlDialect {
        SqlDialect::Postgres
    }

    fn replication_lag(&self) -> Option<SampledLag> {
        Some(self.follower.lag())
    }

    fn restore_error(&self, error: RepoError) -> BoxFuture<'_, RepoError> {
        Box::pin(crate::reraise::restore(&self.db, error))
    }

    fn is_replica_refusal(&self, error: &RepoError) -> bool {
        let refused = crate::read_only::is_read_only(error);
        if refused {
            self.follower.refresh();
        }
        refused
    }
}
