//! The blog on PostgreSQL streaming replicas instead of LiteFS: which server a node uses
//! and which node stands next to the primary.
//!
//! A node on PostgreSQL reads and writes its own server (the primary, or a streaming
//! standby of it); `repo_postgres` learns the role from `pg_is_in_recovery()` and waits for
//! forwarded writes by WAL LSN. PostgreSQL says whether a server is a standby, not who the
//! primary is: the primary's node name comes from configuration and is mapped to its
//! forwarding server by the node's endpoints, as on LiteFS.

use std::fmt;
use std::time::Duration;

/// How long one statement may run on PostgreSQL (`statement_timeout`): the upper bound of
/// the writer's time budget on this backend (a call's nearer deadline bounds its write).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A node's PostgreSQL: its own server and the primary's node name.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresDatabase {
    /// `postgres://…` of this node's own server (the primary, or a streaming standby).
    pub url: String,
    /// The name of the node that runs next to the primary server: where this node forwards
    /// its writes while its server is a standby.
    pub primary: String,
}

impl fmt::Debug for PostgresDatabase {
    /// The URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDatabase")
            .field("url", &without_password(&self.url))
            .field("primary", &self.primary)
            .finish()
    }
}

/// Whether `url` names a PostgreSQL server (`postgres://` or `postgresql://` and a host).
///
/// ```
/// use blog_example::postgres::is_postgres_url;
/// assert!(is_postgres_url("postgres://app@127.0.0.1:5432/blog"));
/// assert!(!is_postgres_url("sqlite:///litefs/blog.db"));
/// assert!(!is_postgres_url("postgres://"));
/// ```
pub fn is_postgres_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
}

/// `url` with the password of its user info, if any, replaced by `***` (for logs).
///
/// ```
/// use blog_example::postgres::without_password;
/// assert_eq!(without_password("postgres://app:s3cret@db/blog"), "postgres://app:***@db/blog");
/// assert_eq!(without_password("postgres://app@db/blog"), "postgres://app@db/blog");
/// ```
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some((user_info, host)) = rest[..authority_end].rsplit_once('@') else {
        return url.to_owned();
    };
    match user_info.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..]),
        None => url.to_owned(),
    }
}
