//! One suite, three backends: [`interactive_transactions_commit_or_write_nothing`](repo_tests::scenarios::interactive_transactions_commit_or_write_nothing) on the LiteFS
//! emulator, on real LiteFS and on real PostgreSQL (a backend that cannot run here is
//! skipped with a message, unless CI requires it).

use repo_tests::backends::{Emulator, Postgres, RealLiteFs, run};
use repo_tests::scenarios::interactive_transactions_commit_or_write_nothing;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(interactive_transactions_commit_or_write_nothing);
}

#[test]
fn on_real_litefs() {
    run::<RealLiteFs, _>(interactive_transactions_commit_or_write_nothing);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(interactive_transactions_commit_or_write_nothing);
}
