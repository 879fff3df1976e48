//! One suite, three backends: [`a_lost_answer_is_retried_and_answered_once`](repo_tests::scenarios::a_lost_answer_is_retried_and_answered_once) on the LiteFS
//! emulator, on real LiteFS and on real PostgreSQL (a backend that cannot run here is
//! skipped with a message, unless CI requires it).

use repo_tests::backends::{Emulator, Postgres, RealLiteFs, run};
use repo_tests::scenarios::a_lost_answer_is_retried_and_answered_once;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(a_lost_answer_is_retried_and_answered_once);
}

#[test]
fn on_real_litefs() {
    run::<RealLiteFs, _>(a_lost_answer_is_retried_and_answered_once);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(a_lost_answer_is_retried_and_answered_once);
}
