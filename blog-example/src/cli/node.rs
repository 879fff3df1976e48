//! `node`'s settings: each one a flag or an environment variable (the flag wins), most with
//! a default, all checked before the node starts.

use std::net::{Ipv4Addr, SocketAddr};

use clap::builder::NonEmptyStringValueParser;
use repo_litefs::{ClusterSecret, Endpoints};
use sea_orm::sqlx::sqlite::SqliteSynchronous;

use super::error::{CliError, Origin};
use crate::node::NodeConfig;
use crate::postgres::{PostgresDatabase, is_postgres_url};

/// A setting's flag and environment variable.
#[derive(Debug, Clone, Copy)]
pub(super) struct Setting {
    /// The long flag, e.g. `--grpc-addr`.
    pub(super) flag: &'static str,
    /// The environment variable, e.g. `GRPC_ADDR`.
    pub(super) env: &'static str,
}

const fn setting(flag: &'static str, env: &'static str) -> Setting {
    Setting { flag, env }
}

pub(super) const NODE_NAME: Setting = setting("--node-name", "NODE_NAME");
pub(super) const DATABASE_PATH: Setting = setting("--database-path", "DATABASE_PATH");
pub(super) const LITEFS_API: Setting = setting("--litefs-api", "LITEFS_API");
pub(super) const LITEFS_DIR: Setting = setting("--litefs-dir", "LITEFS_DIR");
pub(super) const GRPC_ADDR: Setting = setting("--grpc-addr", "GRPC_ADDR");
pub(super) const HTTP_ADDR: Setting = setting("--http-addr", "HTTP_ADDR");
pub(super) const ENDPOINT_TEMPLATE: Setting = setting("--endpoint-template", "ENDPOINT_TEMPLATE");
pub(super) const CLUSTER_SECRET: Setting = setting("--cluster-secret", "CLUSTER_SECRET");
pub(super) const ENDPOINTS: Setting = setting("--endpoints", "ENDPOINTS");
pub(super) const DATABASE_URL: Setting = setting("--database-url", "DATABASE_URL");
pub(super) const PRIMARY_NAME: Setting = setting("--primary-name", "PRIMARY_NAME");
pub(super) const SQLITE_SYNCHRONOUS: Setting =
    setting("--sqlite-synchronous", "SQLITE_SYNCHRONOUS");

/// Every setting, for `--help` checks.
#[cfg(test)]
pub(super) const ALL: [Setting; 12] = [
    NODE_NAME,
    DATABASE_PATH,
    LITEFS_API,
    LITEFS_DIR,
    GRPC_ADDR,
    HTTP_ADDR,
    ENDPOINT_TEMPLATE,
    ENDPOINTS,
    CLUSTER_SECRET,
    DATABASE_URL,
    PRIMARY_NAME,
    SQLITE_SYNCHRONOUS,
];

/// The fallback for the node name when neither `--node-name` nor `NODE_NAME` is set.
const HOSTNAME: &str = "HOSTNAME";
const DEFAULT_DATABASE_PATH: &str = "/litefs/blog.db";
const DEFAULT_LITEFS_API: &str = "http://127.0.0.1:20202";
const DEFAULT_GRPC_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 50051);
const DEFAULT_HTTP_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
const DEFAULT_ENDPOINT_TEMPLATE: &str = "http://{hostname}:50051";

/// `node`'s flags, as clap parses them; [`NodeArgs::resolve`] adds the environment.
#[derive(Debug, clap::Args)]
pub(super) struct NodeArgs {
    /// This node's name: as LiteFS names it (its lease hostname), or on PostgreSQL the name
    /// other nodes' endpoints know it by
    /// [env: NODE_NAME, then HOSTNAME] [required]
    #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
    node_name: Option<String>,
    /// The database file inside the LiteFS mount
    /// [env: DATABASE_PATH] [default: /litefs/blog.db]
    #[arg(long, value_name = "PATH", value_parser = NonEmptyStringValueParser::new())]
    database_path: Option<String>,
    /// This node's LiteFS HTTP API, followed for the primary's changes
    /// [env: LITEFS_API] [default: http://127.0.0.1:20202]
    #[arg(long, value_name = "URL", value_parser = NonEmptyStringValueParser::new())]
    litefs_api: Option<String>,
    /// The LiteFS mount directory (fuse.dir): its .lag gives /health the replication lag
    /// [env: LITEFS_DIR] [default: none]
    #[arg(long, value_name = "DIR", value_parser = NonEmptyStringValueParser::new())]
    litefs_dir: Option<String>,
    /// Where this node's forwarding (gRPC) server listens
    /// [env: GRPC_ADDR] [default: 0.0.0.0:50051]
    #[arg(long, value_name = "IP:PORT", value_parser = NonEmptyStringValueParser::new())]
    grpc_addr: Option<String>,
    /// Where the web application listens
    /// [env: HTTP_ADDR] [default: 0.0.0.0:8080]
    #[arg(long, value_name = "IP:PORT", value_parser = NonEmptyStringValueParser::new())]
    http_addr: Option<String>,
    /// How to reach a node's forwarding server from the hostname LiteFS reports
    /// [env: ENDPOINT_TEMPLATE] [default: http://{hostname}:50051]
    #[arg(long, value_name = "URL", value_parser = NonEmptyStringValueParser::new())]
    endpoint_template: Option<String>,
    /// A fixed map from hostname to forwarding URL, `NAME=URL,NAME=URL`, instead of the
    /// template (where hostnames do not resolve) [env: ENDPOINTS] [default: none]
    #[arg(long, value_name = "NAME=URL,...", value_parser = NonEmptyStringValueParser::new())]
    endpoints: Option<String>,
    /// Set by the local cluster on the nodes it starts: read-your-writes by the ledger (the
    /// emulator's TXIDs are not LiteFS's), and stop when the cluster closes standard input
    #[arg(long, hide = true)]
    local_cluster_child: bool,
    /// The secret every node of the cluster shares: at least 16 bytes, printable ASCII
    /// without spaces;
    /// prefer the variable, since flags show in `ps` [env: CLUSTER_SECRET] [required]
    #[arg(long, value_name = "SECRET", value_parser = NonEmptyStringValueParser::new())]
    cluster_secret: Option<String>,
    /// Run on PostgreSQL instead of LiteFS: this node's own server, the primary or a
    /// streaming standby (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`); prefer the variable
    /// when it holds a password [env: DATABASE_URL] [default: none: LiteFS]
    #[arg(long, value_name = "URL", value_parser = NonEmptyStringValueParser::new())]
    database_url: Option<String>,
    /// On PostgreSQL: the name of the node next to the primary server, where a standby's
    /// node forwards its writes (mapped by the endpoints) [env: PRIMARY_NAME] [required
    /// with --database-url]
    #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
    primary_name: Option<String>,
    /// SQLite's `synchronous` on the database file: `full` survives a power loss (keep it
    /// on LiteFS); `off` skips the fsyncs and survives only a process crash (the local
    /// cluster's choice for its temporary files) [env: SQLITE_SYNCHRONOUS] [default: full]
    #[arg(long, value_name = "off|normal|full|extra", value_parser = NonEmptyStringValueParser::new())]
    sqlite_synchronous: Option<String>,
}

impl NodeArgs {
    /// The node's configuration: each flag, else its environment variable (looked up with
    /// `env`), else its default; a missing required setting or a bad value is an error
    /// naming where it came from.
    pub(super) fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<NodeConfig, CliError> {
        let pick = |flag: Option<String>, setting: Setting| -> Option<(String, Origin)> {
            flag.map(|value| (value, Origin::Flag(setting.flag)))
                .or_else(|| env(setting.env).map(|value| (value, Origin::Env(setting.env))))
        };
        let (name, origin) = pick(self.node_name, NODE_NAME)
            .or_else(|| env(HOSTNAME).map(|value| (value, Origin::Env(HOSTNAME))))
            .ok_or(CliError::Missing {
                flag: NODE_NAME.flag,
                env: "NODE_NAME or HOSTNAME",
            })?;
        if !is_hostname(&name) {
            return Err(CliError::InvalidNodeName {
                origin,
                value: name,
            });
        }
        let (litefs_api, litefs_origin) = match pick(self.litefs_api, LITEFS_API) {
            Some((value, origin)) if !is_http_url(&value) => {
                return Err(CliError::InvalidUrl { origin, value });
            }
            Some((value, origin)) => (value, Some(origin)),
            None => (DEFAULT_LITEFS_API.to_owned(), None),
        };
        let template = match pick(self.endpoint_template, ENDPOINT_TEMPLATE) {
            Some((value, origin)) if !is_http_url(&value) || !value.contains("{hostname}") => {
                return Err(CliError::InvalidTemplate { origin, value });
            }
            Some((value, _)) => value,
            None => DEFAULT_ENDPOINT_TEMPLATE.to_owned(),
        };
        let endpoints = match pick(self.endpoints, ENDPOINTS) {
            Some((value, origin)) => {
                endpoint_map(&value).ok_or(CliError::InvalidEndpoints { origin, value })?
            }
            None => Endpoints::template(template),
        };
        let (secret, origin) =
            pick(self.cluster_secret, CLUSTER_SECRET).ok_or(CliError::Missing {
                flag: CLUSTER_SECRET.flag,
                env: CLUSTER_SECRET.env,
            })?;
        let secret = ClusterSecret::new(secret)
            .map_err(|source| CliError::InvalidSecret { origin, source })?;
        let database_path = pick(self.database_path, DATABASE_PATH);
        let litefs_dir = pick(self.litefs_dir, LITEFS_DIR);
        let synchronous = pick(self.sqlite_synchronous, SQLITE_SYNCHRONOUS);
        let postgres = match pick(self.database_url, DATABASE_URL) {
            None => {
                if let Some((_, origin)) = pick(self.primary_name, PRIMARY_NAME) {
                    return Err(CliError::OnlyWith {
                        origin,
                        needs: DATABASE_URL.flag,
                    });
                }
                None
            }
            Some((url, url_origin)) => {
                if !is_postgres_url(&url) {
                    return Err(CliError::InvalidDatabaseUrl { origin: url_origin });
                }
                let litefs_only = [
                    database_path.as_ref().map(|(_, origin)| *origin),
                    litefs_dir.as_ref().map(|(_, origin)| *origin),
                    synchronous.as_ref().map(|(_, origin)| *origin),
                    litefs_origin,
                ];
                if let Some(origin) = litefs_only.into_iter().flatten().next() {
                    return Err(CliError::Conflicting {
                        origin,
                        other: url_origin,
                    });
                }
                let (primary, origin) =
                    pick(self.primary_name, PRIMARY_NAME).ok_or(CliError::Missing {
                        flag: PRIMARY_NAME.flag,
                        env: PRIMARY_NAME.env,
                    })?;
                if !is_hostname(&primary) {
                    return Err(CliError::InvalidNodeName {
                        origin,
                        value: primary,
                    });
                }
                Some(PostgresDatabase { url, primary })
            }
        };
        let sqlite_synchronous = match synchronous {
            None => None,
            Some((value, origin)) => Some(
                value
                    .parse::<SqliteSynchronous>()
                    .map_err(|_| CliError::InvalidSynchronous { origin, value })?,
            ),
        };
        Ok(NodeConfig {
            name,
            sqlite_synchronous,
            postgres,
            db_path: database_path
                .map_or_else(|| DEFAULT_DATABASE_PATH.into(), |(value, _)| value.into()),
            litefs_api: Some(litefs_api),
            mount_dir: litefs_dir.map(|(value, _)| value.into()),
            grpc_addr: address(pick(self.grpc_addr, GRPC_ADDR), DEFAULT_GRPC_ADDR)?,
            http_addr: address(pick(self.http_addr, HTTP_ADDR), DEFAULT_HTTP_ADDR)?,
            endpoints,
            secret,
            txid_wait: !self.local_cluster_child,
            stop_on_stdin_close: self.local_cluster_child,
            report_commits: self.local_cluster_child,
        })
    }
}

/// The address given, parsed, or `default`.
fn address(given: Option<(String, Origin)>, default: SocketAddr) -> Result<SocketAddr, CliError> {
    match given {
        None => Ok(default),
        Some((value, origin)) => value.parse().map_err(|source| CliError::InvalidAddress {
            origin,
            value,
            source,
        }),
    }
}

/// `NAME=URL,NAME=URL` as an endpoint map; `None` if an entry is not a hostname, `=`, and
/// an `http(s)://` URL.
fn endpoint_map(value: &str) -> Option<Endpoints> {
    let mut entries = Vec::new();
    for entry in value.split(',') {
        let (name, url) = entry.trim().split_once('=')?;
        if !is_hostname(name) || !is_http_url(url) {
            return None;
        }
        entries.push((name.to_owned(), url.to_owned()));
    }
    Some(Endpoints::map(entries))
}

/// `http://` or `https://` followed by a host.
fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    rest.is_some_and(|rest| {
        !rest.starts_with(['/', ':']) && !rest.is_empty() && !rest.contains(char::is_whitespace)
    })
}

/// What the forwarding layer accepts as a primary's hostname (see `Endpoints::resolve`).
fn is_hostname(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}
