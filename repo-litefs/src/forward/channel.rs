//! `PrimaryChannel`: the one reused HTTP/2 connection to the current primary.

use std::sync::Mutex;
use std::time::Duration;

use repo_core::{CommitState, RepoError};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

/// The channel to the current primary, replaced when the primary changes.
#[derive(Debug, Default)]
pub(crate) struct PrimaryChannel {
    /// `(url, channel)` of the last primary used.
    current: Mutex<Option<(String, Channel)>>,
}

impl PrimaryChannel {
    /// The channel to `url`, connecting lazily (TCP_NODELAY set) on first use. A new
    /// plaintext channel to a host beyond loopback logs a warning unless `plaintext_chosen`.
    pub(crate) fn get(
        &self,
        url: &str,
        node: &str,
        tls: Option<&ClientTlsConfig>,
        plaintext_chosen: bool,
    ) -> Result<Channel, RepoError> {
        let mut current = self
            .current
            .lock()
            .map_err(|_| unreachable_err(node, "channel lock poisoned"))?;
        if let Some((cached, channel)) = current.as_ref()
            && cached == url
        {
            return Ok(channel.clone());
        }
        let mut endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|e| unreachable_err(node, &format!("invalid endpoint {url}: {e}")))?;
        if let Some(tls) = tls {
            endpoint = endpoint
                .tls_config(tls.clone())
                .map_err(|e| unreachable_err(node, &format!("TLS setup for {url}: {e}")))?;
        }
        if tls.is_none() && !plaintext_chosen && !is_loopback(endpoint.uri().host()) {
            tracing::warn!(
                endpoint = %url,
                "forwarding to a host beyond loopback without TLS: the cluster secret and every \
                 write travel in clear text; set ForwardConfig::tls, or ForwardConfig::plaintext \
                 on a private network"
            );
        }
        let channel = endpoint
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(2))
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .connect_lazy();
        if let Some((old, _)) = current.replace((url.to_owned(), channel.clone())) {
            tracing::info!(from = %old, to = %url, "forwarding channel switched to the new primary");
        }
        Ok(channel)
    }
}

/// Whether `host` names this machine.
fn is_loopback(host: Option<&str>) -> bool {
    match host {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn unreachable_err(node: &str, message: &str) -> RepoError {
    RepoError::Unreachable {
        node: node.to_owned(),
        message: message.to_owned(),
        commit: CommitState::NotCommitted,
    }
}
