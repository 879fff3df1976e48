//! `InteractiveSessions`: where a LiteFS node holds an interactive transaction — on its own
//! writer when it is the primary, on the primary over one `Interactive` stream when it is
//! a replica ([`RemoteSession`]).
//!
//! Each step is one message and one reply, in order. Once the primary reports the
//! transaction over (its limits, a demotion), or the stream breaks, the session remembers
//! why and answers every later step with that error, without sending it: never a statement
//! outside the transaction. A commit whose answer is lost is resolved by asking the primary
//! (a `resolve` stream: it waits for its writer, then looks the commit's request id up in
//! its ledger): committed, or [`RepoError::TransactionExpired`]; only when the primary
//! cannot answer is it reported as possibly committed ([`RepoError::Unreachable`] with
//! [`CommitState::Unknown`]). After a commit, the session waits until this node reads its
//! own writes, as a forwarded write does.

mod remote;
mod resolve;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use repo_core::spi::{LocalSession, Session, SessionOpener};
use repo_core::{Executor, RepoError, TransactionLimits};
use tokio::time::Instant;

pub use remote::RemoteSession;

use super::{ForwardLayer, Shared, wait_for_primary};

/// How much longer than the transaction's maximum duration a replica waits for an answer
/// before it considers the stream lost.
pub(super) const GRACE: Duration = Duration::from_secs(2);

/// Opens interactive transactions for a node's repository (set by [`crate::Node`]).
#[derive(Debug, Clone)]
pub struct InteractiveSessions {
    shared: Arc<Shared>,
}

impl ForwardLayer {
    /// Where this node's interactive transactions are held: give it to
    /// `RepoBuilder::sessions` (as [`crate::Node`] does).
    pub fn interactive_sessions(&self) -> InteractiveSessions {
        InteractiveSessions {
            shared: self.shared.clone(),
        }
    }
}

impl SessionOpener for InteractiveSessions {
    fn open<'a>(
        &'a self,
        executor: &'a Executor,
        limits: TransactionLimits,
    ) -> BoxFuture<'a, Result<Arc<dyn Session>, RepoError>> {
        Box::pin(async move {
            let deadline = Instant::now() + limits.duration();
            let state = self.shared.config.tracker.current();
            if state.is_primary() {
                return Ok(Arc::new(LocalSession::begin(executor, limits).await?) as Arc<_>);
            }
            let state = wait_for_primary(&self.shared, Some(deadline)).await?;
            match state.primary.clone() {
                Some(_) if state.is_primary() => {
                    Ok(Arc::new(LocalSession::begin(executor, limits).await?) as Arc<_>)
                }
                Some(primary) => Ok(Arc::new(
                    RemoteSession::open(self.shared.clone(), primary, limits).await?,
                ) as Arc<_>),
                None => Err(RepoError::PrimaryUnavailable {
                    waited: limits.duration(),
                }),
            }
        })
    }
}
