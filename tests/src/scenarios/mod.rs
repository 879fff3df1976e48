//! Scenario bodies written once and run on every backend ([`crate::backends`]): each test
//! file `tests/tests/suite_*.rs` instantiates one of them for the emulator, real LiteFS and
//! real PostgreSQL (the promotion under load on the emulator and PostgreSQL: see
//! [`crate::backends::Promotable`]).

mod concurrent_copies;
mod exactly_once;
mod interactive;
mod lost_response;
mod promote_under_load;
mod read_your_writes;
mod transaction_script;
mod write_script;

pub use concurrent_copies::concurrent_copies_of_a_request_write_once;
pub use exactly_once::a_retried_request_id_writes_once;
pub use interactive::interactive_transactions_commit_or_write_nothing;
pub use lost_response::a_lost_answer_is_retried_and_answered_once;
pub use promote_under_load::a_promotion_under_load_loses_and_duplicates_nothing;
pub use read_your_writes::a_thousand_writes_are_each_read_back;
pub use transaction_script::sea_orm_transactions_answer_as_on_a_twin;
pub use write_script::every_write_action_answers_as_on_a_twin;

use blog_example::entities::tag;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

/// The rows of `tags` on `db`.
pub(crate) async fn tags_on(db: &DatabaseConnection) -> u64 {
    tag::Entity::find().count(db).await.expect("count tags")
}
