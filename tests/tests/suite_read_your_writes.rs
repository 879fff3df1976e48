//! One suite, three backends: [`a_thousand_writes_are_each_read_back`](repo_tests::scenarios::a_thousand_writes_are_each_read_back) on the LiteFS
//! emulator, on real LiteFS and on real PostgreSQL (a backend that cannot run here is
//! skipped with a message, unless CI requires it).

use repo_tests::backends::{Emulator, Postgres, RealLiteFs, run};
use repo_tests::scenarios::a_thousand_writes_are_each_read_back;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(a_thousand_writes_are_each_read_back);
}

#[test]
fn on_real_litefs() {
    run::<RealLiteFs, _>(a_thousand_writes_are_each_read_back);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(a_thousand_writes_are_each_read_back);
}
