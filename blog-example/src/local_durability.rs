//! How durable the local cluster's SQLite files are: `synchronous = OFF` by default,
//! `FULL` on request (`LOCAL_CLUSTER_SYNCHRONOUS=full`).
//!
//! The local cluster (`blog-example`, `blog-example cluster`) keeps its databases in a
//! temporary directory removed when it exits: nothing in them outlives the process, so the
//! fsyncs that `FULL` pays at every commit (to survive a power loss) protect nothing. With
//! `OFF` a commit still survives any node process crashing (the bytes are in the kernel's
//! page cache; the emulator replicates from there), not the machine losing power. A node of
//! a real deployment (`blog-example node`) keeps SQLite's default, `FULL`, unless told
//! otherwise (`--sqlite-synchronous`).

use sea_orm::sqlx::sqlite::SqliteSynchronous;

/// The environment variable that chooses the local cluster's `synchronous`.
pub const ENV: &str = "LOCAL_CLUSTER_SYNCHRONOUS";

/// The local cluster's default.
pub const DEFAULT: SqliteSynchronous = SqliteSynchronous::Off;

/// Why the variable's value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid environment variable {ENV}: `{0}` is not one of off, normal, full, extra")]
pub struct InvalidSynchronous(pub String);

/// The local cluster's `synchronous`: [`ENV`] (looked up with `env`) if set, else
/// [`DEFAULT`].
///
/// ```
/// use blog_example::local_durability::{DEFAULT, local_cluster_synchronous};
/// use sea_orm::sqlx::sqlite::SqliteSynchronous;
/// assert_eq!(local_cluster_synchronous(|_| None), Ok(DEFAULT));
/// let full = local_cluster_synchronous(|_| Some("FULL".to_owned()));
/// assert_eq!(full, Ok(SqliteSynchronous::Full));
/// assert!(local_cluster_synchronous(|_| Some("fast".to_owned())).is_err());
/// ```
pub fn local_cluster_synchronous(
    env: impl Fn(&str) -> Option<String>,
) -> Result<SqliteSynchronous, InvalidSynchronous> {
    match env(ENV) {
        None => Ok(DEFAULT),
        Some(value) => value.trim().parse().map_err(|_| InvalidSynchronous(value)),
    }
}

/// The value `--sqlite-synchronous` takes for `synchronous`.
pub fn flag_value(synchronous: SqliteSynchronous) -> &'static str {
    match synchronous {
        SqliteSynchronous::Off => "off",
        SqliteSynchronous::Normal => "normal",
        SqliteSynchronous::Full => "full",
        SqliteSynchronous::Extra => "extra",
    }
}
