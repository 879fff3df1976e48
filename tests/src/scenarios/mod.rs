//! Scenario bodies written once and run on every backend ([`crate::backends`]): each test
//! file `tests/tests/suite_*.rs` instantiates one of them for the emulator, real LiteFS and
//! real PostgreSQL.

mod exactly_once;
mod interactive;
mod read_your_writes;

pub use exactly_once::a_retried_request_id_writes_once;
pub use interactive::interactive_transactions_commit_or_write_nothing;
pub use read_your_writes::a_thousand_writes_are_each_read_back;

use blog_example::entities::tag;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

/// The rows of `tags` on `db`.
pub(crate) async fn tags_on(db: &DatabaseConnection) -> u64 {
    tag::Entity::find().count(db).await.expect("count tags")
}
