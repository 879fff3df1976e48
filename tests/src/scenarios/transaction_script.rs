//! The sea-orm transaction script: unchanged sea-orm transaction code on the replica's
//! repository answers what it answers on a standalone primary of the same backend.

use crate::backends::BackendCluster;
use crate::transaction_script::{assert_script_ran, script, tables};

/// The script ([`script`]: a closure, begin/commit, a rollback on error, a savepoint
/// rolled back inside a committed transaction, unique violations inside) gives the same
/// transcript — results, errors and their classification — through the replica as on a
/// twin, and leaves the same tables on the primary as on the twin.
pub async fn sea_orm_transactions_answer_as_on_a_twin<B: BackendCluster>(cluster: &B) {
    let twin = cluster.twin().await;
    let local = script(&twin.repo).await;
    let forwarded = script(cluster.replica()).await;
    assert_eq!(forwarded, local, "{}: same results and errors", B::NAME);
    let written = tables(cluster.primary_db()).await;
    assert_eq!(
        written,
        tables(twin.repo.connection()).await,
        "{}: same tables",
        B::NAME
    );
    assert_script_ran(&written);
}
