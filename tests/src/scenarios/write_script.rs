//! The parity write script: every write action through the replica answers what the same
//! call answers on a standalone primary of the same backend.

use crate::backends::BackendCluster;
use crate::write_script::{dump, every_write_action};

/// Every write action ([`every_write_action`]), run twice through the replica and on a
/// twin of the same backend (SQLite for both LiteFS backends, a database of its own on the
/// PostgreSQL server), answers the same each time; afterwards the primary holds exactly
/// what the twin holds (each write ran once).
pub async fn every_write_action_answers_as_on_a_twin<B: BackendCluster>(cluster: &B) {
    let twin = cluster.twin().await;
    for i in 1..=2 {
        every_write_action(cluster.replica(), &twin.repo, i).await;
    }
    assert_eq!(
        dump(cluster.primary_db()).await,
        dump(twin.repo.connection()).await,
        "{}: the primary holds exactly what the twin holds",
        B::NAME
    );
}
