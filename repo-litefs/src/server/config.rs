//! `ServerConfig`: the forwarding server's limits and identity.

use std::time::Duration;

use crate::allowlist::AllowlistPolicy;
use crate::secret::ClusterSecret;

/// How the forwarding server behaves. Defaults: 4 MiB messages, 64 writes at a time,
/// batches of at most 1,000 steps, plaintext HTTP/2 (a warning at start when bound to a
/// non-loopback address without TLS, unless [`ServerConfig::plaintext`] says it is meant).
///
/// Every limit, its default and what it defends against: docs/SECURITY.md.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(crate) secret: ClusterSecret,
    pub(crate) node_name: String,
    pub(crate) max_message_bytes: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) permit_wait: Duration,
    /// The server's certificate and key, when it serves TLS.
    pub(crate) tls: Option<tonic::transport::Identity>,
    /// Whether forwarded writes are recorded in the ledger (exactly once).
    pub(crate) ledger: bool,
    /// How long the ledger keeps a row (the pruner's `max_age`).
    pub(crate) ledger_retention: Option<Duration>,
    /// The replication position, read after each commit and reported with the answer
    /// (LiteFS's TXID, PostgreSQL's LSN).
    pub(crate) position: Option<std::sync::Arc<dyn crate::backend::ReplicationPosition>>,
    /// The dialect forwarded statements are checked in (default SQLite's).
    pub(crate) dialect: crate::allowlist::SqlDialect,
    /// Most steps in one forwarded batch (`Multi`).
    pub(crate) max_batch_steps: usize,
    /// Whether serving without TLS on a non-loopback address is a deliberate choice.
    pub(crate) plaintext_chosen: bool,
    /// What a forwarded statement may be: size and shape bounds, the recursive CTE policy.
    pub(crate) allowlist: AllowlistPolicy,
    /// Holds a forwarded write's answer until its durability is met, and keeps the
    /// replicas' position reports.
    pub(crate) durability: Option<std::sync::Arc<crate::durability::DurabilityGate>>,
    /// The replication backend, which tells a write its database refused as a replica's.
    pub(crate) backend: Option<std::sync::Arc<dyn crate::backend::Backend>>,
}

impl ServerConfig {
    /// A configuration for node `node_name` that accepts requests carrying `secret`.
    pub fn new(secret: ClusterSecret, node_name: impl Into<String>) -> Self {
        Self {
            secret,
            node_name: node_name.into(),
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrency: 64,
            permit_wait: Duration::from_secs(5),
            tls: None,
            ledger: true,
            ledger_retention: Some(Duration::from_secs(24 * 3600)),
            position: None,
            dialect: crate::allowlist::SqlDialect::Sqlite,
            max_batch_steps: 1_000,
            plaintext_chosen: false,
            allowlist: AllowlistPolicy::default(),
            durability: None,
            backend: None,
        }
    }

    /// The node's replication backend: a forwarded write its database refused because it
    /// is not the primary ([`Backend::is_replica_refusal`](
    /// crate::backend::Backend::is_replica_refusal)) is answered
    /// [`repo_core::RepoError::NotPrimary`], so the sender may send it elsewhere.
    pub fn backend(mut self, backend: std::sync::Arc<dyn crate::backend::Backend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Passes forwarded writes through `gate` (`Durability::Candidates`) and records the
    /// replicas' position reports in it. Without one, `Candidates` writes are refused as
    /// misconfigured before they run.
    pub fn durability(mut self, gate: std::sync::Arc<crate::durability::DurabilityGate>) -> Self {
        self.durability = Some(gate);
        self
    }

    /// What a forwarded statement may be (default [`AllowlistPolicy::default`]: 1 MiB of
    /// SQL, 200,000 tokens, nesting 100, operator chains of 1,000, no recursive CTEs).
    pub fn allowlist(mut self, policy: AllowlistPolicy) -> Self {
        self.allowlist = policy;
        self
    }

    /// Most steps in one forwarded batch (default 1,000; at least 1); larger batches are
    /// refused before anything runs.
    pub fn max_batch_steps(mut self, steps: usize) -> Self {
        self.max_batch_steps = steps.max(1);
        self
    }

    /// Serves plaintext HTTP/2 on purpose: the cluster secret, every forwarded statement and
    /// its values, and every answer then travel unencrypted, so only do this on a private
    /// network (Fly's 6PN, a WireGuard mesh, a pod network). Without this, or
    /// [`ServerConfig::tls`], a server bound to a non-loopback address logs a warning at
    /// start.
    pub fn plaintext(mut self) -> Self {
        self.plaintext_chosen = true;
        self
    }

    /// Logs a warning when the server listens on `addr` beyond this machine without TLS and
    /// plaintext was not chosen.
    pub(crate) fn warn_if_exposed(&self, addr: std::net::SocketAddr) {
        if self.tls.is_none() && !addr.ip().is_loopback() {
            if self.plaintext_chosen {
                tracing::info!(%addr, "forwarding server serves plaintext (chosen)");
            } else {
                tracing::warn!(
                    %addr,
                    "forwarding server listens beyond loopback without TLS: the cluster secret \
                     and every forwarded write travel in clear text; set ServerConfig::tls, or \
                     ServerConfig::plaintext on a private network"
                );
            }
        }
    }

    /// Largest request accepted, in bytes (default 4 MiB); larger ones are refused with
    /// `OUT_OF_RANGE` before they are decoded.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes.max(1024);
        self
    }

    /// Serves TLS with this PEM certificate (chain) and PEM private key. Clients then need
    /// [`crate::ForwardConfig::tls`] and an `https://` endpoint.
    pub fn tls(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        self.tls = Some(tonic::transport::Identity::from_pem(cert_pem, key_pem));
        self
    }

    /// Whether each forwarded write is recorded in the ledger, in its own transaction
    /// (default: yes; it needs [`crate::ledger::CreateLedgerTable`] in the migrator).
    /// Without it a retried write whose first response was lost runs twice: turn it off only
    /// to measure its cost, or when every forwarded write is idempotent.
    pub fn ledger(mut self, enabled: bool) -> Self {
        self.ledger = enabled;
        self
    }

    /// How long the ledger keeps a request's row: set it to the pruner's
    /// [`PruneConfig::max_age`](crate::ledger::PruneConfig::max_age) (default 24 h, as the
    /// pruner's; `repo_litefs::Node` keeps the two equal). A time-ordered request id older
    /// than this is refused (`RejectReason::Expired`) rather than run, since its row may be
    /// gone; `None` turns the check off.
    pub fn ledger_retention(mut self, retention: Option<Duration>) -> Self {
        self.ledger_retention = retention;
        self
    }

    /// Reports the TXID from LiteFS's `<db>-pos` file (in the FUSE mount) with each answer,
    /// read right after the commit. Replicas that know their own `<db>-pos` then stop
    /// waiting as soon as their TXID reaches it.
    pub fn litefs_position(self, pos_file: impl Into<std::path::PathBuf>) -> Self {
        self.position(std::sync::Arc::new(crate::backend::LiteFsTxid::new(
            pos_file,
        )))
    }

    /// Reports `position` after each commit (see
    /// [`Backend::position`](crate::backend::Backend::position)); replicas with the same
    /// kind of position stop waiting as soon as theirs reaches it.
    pub fn position(
        mut self,
        position: std::sync::Arc<dyn crate::backend::ReplicationPosition>,
    ) -> Self {
        self.position = Some(position);
        self
    }

    /// The SQL dialect forwarded statements are parsed and checked in (default
    /// [`SqlDialect::Sqlite`](crate::allowlist::SqlDialect::Sqlite)).
    pub fn dialect(mut self, dialect: crate::allowlist::SqlDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Writes executed at a time (default 64; at least 1); further requests wait for a
    /// slot up to their deadline (or 5 s), then get `UNAVAILABLE`.
    pub fn max_concurrency(mut self, writes: usize) -> Self {
        self.max_concurrency = writes.max(1);
        self
    }
}
