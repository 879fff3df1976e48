//! One suite: [`a_promotion_under_load_loses_and_duplicates_nothing`](repo_tests::scenarios::a_promotion_under_load_loses_and_duplicates_nothing) on the LiteFS
//! emulator and on real PostgreSQL (skipped with a message when PostgreSQL cannot run here,
//! unless CI requires it). Real LiteFS does not take part: the harness runs it with a
//! static lease, whose primary changes only when every LiteFS process restarts with another
//! one named, which unmounts the nodes' databases under the load (see
//! [`Promotable`](repo_tests::backends::Promotable); `tests/tests/real_litefs.rs` checks that
//! writes follow such a restart, without load).

use repo_tests::backends::{Emulator, Postgres, run};
use repo_tests::scenarios::a_promotion_under_load_loses_and_duplicates_nothing;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(a_promotion_under_load_loses_and_duplicates_nothing);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(a_promotion_under_load_loses_and_duplicates_nothing);
}
