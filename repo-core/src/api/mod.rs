//! The call API: the [`Repo`](crate::Repo), its reads and writes, per-call options, `Multi`,
//! named-transaction calls, and sea-orm's `ConnectionTrait` on `&repo` (with the routing of
//! each statement to the local database or the stack).

pub(crate) mod call;
pub(crate) mod connection;
pub(crate) mod multi;
pub(crate) mod options;
pub(crate) mod read;
pub(crate) mod repo;
pub(crate) mod route;
pub(crate) mod transaction_call;
pub mod write;
