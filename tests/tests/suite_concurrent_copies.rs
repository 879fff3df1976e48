//! One suite, three backends: [`concurrent_copies_of_a_request_write_once`](repo_tests::scenarios::concurrent_copies_of_a_request_write_once) on the LiteFS
//! emulator, on real LiteFS and on real PostgreSQL (a backend that cannot run here is
//! skipped with a message, unless CI requires it).

use repo_tests::backends::{Emulator, Postgres, RealLiteFs, run};
use repo_tests::scenarios::concurrent_copies_of_a_request_write_once;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(concurrent_copies_of_a_request_write_once);
}

#[test]
fn on_real_litefs() {
    run::<RealLiteFs, _>(concurrent_copies_of_a_request_write_once);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(concurrent_copies_of_a_request_write_once);
}
