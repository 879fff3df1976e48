//! Resolving a commit whose answer was lost: the replica asks the primary, on a stream of
//! its own, whether the commit's request id is in its ledger — never guesses.

use std::time::Duration;

use repo_core::{RepoError, RequestId};

use super::GRACE;
use super::remote::{RemoteSession, decode_failure};
use crate::proto as pb;
use crate::secret::AUTHORIZATION;

impl RemoteSession {
    /// Asks the primary, on a stream of its own, whether the commit of `id` committed:
    /// `Ok(Ok(()))` it did, `Ok(Err(e))` it did not (`e` says why), `Err(())` no answer.
    pub(super) async fn resolve(&self, id: RequestId) -> Result<Result<(), RepoError>, ()> {
        for attempt in 0..3_u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100) * attempt).await;
            }
            if let Some(answer) = self.ask_resolve(id).await {
                metrics::counter!("litefs_interactive_commits_resolved_total").increment(1);
                return Ok(answer);
            }
        }
        Err(())
    }

    /// One `resolve` stream; `None` when it got no definite answer.
    async fn ask_resolve(&self, id: RequestId) -> Option<Result<(), RepoError>> {
        let config = &self.shared.config;
        let url = config.endpoints.resolve(&self.primary).ok()?;
        let channel = self
            .shared
            .channel
            .get(&url, &self.primary, config.tls.as_ref(), config.plaintext)
            .ok()?;
        let message = pb::TransactionMessage {
            message: Some(pb::transaction_message::Message::Resolve(
                id.0.as_bytes().to_vec(),
            )),
        };
        let mut grpc = tonic::Request::new(futures::stream::iter([message]));
        grpc.set_timeout(crate::server::MAX_TRANSACTION + GRACE);
        grpc.metadata_mut()
            .insert(AUTHORIZATION, config.secret.bearer().parse().ok()?);
        let mut client = pb::forwarder_client::ForwarderClient::new(channel);
        let mut inbound = client.interactive(grpc).await.ok()?.into_inner();
        match inbound.message().await.ok()??.reply? {
            pb::transaction_reply::Reply::Done(_) => Some(Ok(())),
            pb::transaction_reply::Reply::Failed(failure) => {
                let error = decode_failure(&failure, &self.primary).await;
                // Only "it did not commit" settles it; anything else leaves it unknown.
                error.retry_whole_transaction().then_some(Err(error))
            }
            pb::transaction_reply::Reply::Begun(_) => None,
        }
    }
}
