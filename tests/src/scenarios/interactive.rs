//! Interactive transactions (sea-orm's `begin` on the repository) from a replica.

use sea_orm::{ActiveModelTrait, TransactionSession, TransactionTrait};

use super::tags_on;
use crate::backends::BackendCluster;
use crate::write_script::new_tag;

/// A transaction begun on the replica runs on the primary: nothing is visible there
/// before the commit, everything after; a rolled-back one writes nothing.
pub async fn interactive_transactions_commit_or_write_nothing<B: BackendCluster>(cluster: &B) {
    let replica = cluster.replica();
    let txn = replica
        .begin()
        .await
        .unwrap_or_else(|e| panic!("{}: begin: {e}", B::NAME));
    let first = new_tag("in-txn-1").insert(&txn).await.expect("insert");
    let second = new_tag("in-txn-2").insert(&txn).await.expect("insert");
    assert_ne!(first.id, second.id, "{}", B::NAME);
    assert_eq!(
        tags_on(cluster.primary_db()).await,
        0,
        "{}: nothing visible before the commit",
        B::NAME
    );
    txn.commit().await.expect("commit");
    assert_eq!(tags_on(cluster.primary_db()).await, 2, "{}", B::NAME);
    let rolled_back = replica.begin().await.expect("begin");
    new_tag("never").insert(&rolled_back).await.expect("insert");
    rolled_back.rollback().await.expect("rollback");
    assert_eq!(
        tags_on(cluster.primary_db()).await,
        2,
        "{}: a rolled-back transaction wrote nothing",
        B::NAME
    );
}
