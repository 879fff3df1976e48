//! One suite, three backends: [`sea_orm_transactions_answer_as_on_a_twin`](repo_tests::scenarios::sea_orm_transactions_answer_as_on_a_twin) on the LiteFS
//! emulator, on real LiteFS and on real PostgreSQL (a backend that cannot run here is
//! skipped with a message, unless CI requires it).

use repo_tests::backends::{Emulator, Postgres, RealLiteFs, run};
use repo_tests::scenarios::sea_orm_transactions_answer_as_on_a_twin;

#[test]
fn on_the_emulator() {
    run::<Emulator, _>(sea_orm_transactions_answer_as_on_a_twin);
}

#[test]
fn on_real_litefs() {
    run::<RealLiteFs, _>(sea_orm_transactions_answer_as_on_a_twin);
}

#[test]
fn on_postgres() {
    run::<Postgres, _>(sea_orm_transactions_answer_as_on_a_twin);
}
