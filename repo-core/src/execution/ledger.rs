//! `Ledger`: what makes a write run exactly once, seen from the executor.
//!
//! A ledger is a [`TransactionHook`] (it records each request id with its answer in the
//! write's own transaction) that can also *settle* a failed attempt: when the failure came
//! from an earlier attempt of the same request having committed, the ledger answers with
//! that attempt's recorded response, or refuses a request that reuses an id for another
//! payload. The forwarding server of `repo-litefs` settles every forwarded write this way;
//! the [`Executor`](crate::Executor) settles the local writes that carry a caller's
//! idempotency key (see [`crate::IdempotencyKey`]).

use futures::future::BoxFuture;

use crate::error::RepoError;
use crate::hooked::TransactionHook;
use crate::request::{Request, RequestId};
use crate::response::Response;

/// What a ledger keeps of a request before it runs, to settle its outcome afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTicket {
    /// The request's id.
    pub id: RequestId,
    /// A digest of what the request asks, as the ledger computes it.
    pub fingerprint: Vec<u8>,
}

/// Exactly-once execution: a transaction hook that records requests and settles failures.
pub trait Ledger: TransactionHook {
    /// What to keep of `request` before it runs.
    fn ticket(&self, request: &Request) -> LedgerTicket;

    /// The final answer for the request of `ticket`, given how its attempt ended: the
    /// recorded answer of an earlier attempt that committed, a refusal when that attempt
    /// asked something else, or `result` as it is.
    fn settle(
        &self,
        ticket: LedgerTicket,
        result: Result<Response, RepoError>,
    ) -> BoxFuture<'_, Result<Response, RepoError>>;
}
