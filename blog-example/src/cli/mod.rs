//! The command line: `cluster` (the default), `tour [DATABASE_PATH]` and `node`, whose
//! settings come from flags or environment variables, a flag winning over its variable.
//!
//! [`parse`] takes the arguments and the environment as a lookup function, so tests pass
//! both explicitly and the binary passes the process's.
//!
//! ```
//! use blog_example::cli::{Invocation, parse};
//!
//! let env = |name: &str| (name == "CLUSTER_SECRET").then(|| "0123456789abcdef".to_owned());
//! let Invocation::Node(config) =
//!     parse(["blog-example", "node", "--node-name", "node-1"], env)?
//! else {
//!     unreachable!("`node` was asked for");
//! };
//! assert_eq!(config.name, "node-1");
//! assert_eq!(config.http_addr.to_string(), "0.0.0.0:8080");
//! # Ok::<(), blog_example::cli::CliError>(())
//! ```

mod error;
mod node;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::node::NodeConfig;

pub use error::{CliError, Origin, SECRET_RULE};
use node::NodeArgs;

#[derive(Debug, Parser)]
#[command(
    name = "blog-example",
    version,
    about = "The blog on the forwarding repository: a local cluster, a tour, or one node \
             (LiteFS or PostgreSQL)"
)]
struct Cli {
    /// What to run; `cluster` when omitted.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Three nodes on 127.0.0.1 over the LiteFS emulator, until Ctrl-C (the default). Its
    /// files are in a temporary directory removed on exit, opened with SQLite's synchronous
    /// OFF (a commit survives a node crashing, not a power loss; no fsync per commit):
    /// LOCAL_CLUSTER_SYNCHRONOUS=full to fsync every commit as a LiteFS node does;
    /// LOCAL_CLUSTER_LAG_MS sets the emulated replication lag (default 5)
    Cluster,
    /// A single-node tour of the repository API on a SQLite file
    Tour {
        /// The database file to use (default: one in a temporary directory)
        database_path: Option<PathBuf>,
    },
    /// One node of a LiteFS deployment, or of PostgreSQL streaming replicas with
    /// --database-url; each setting is a flag or an environment variable, and the flag wins
    Node(Box<NodeArgs>),
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// A local three-node cluster over the LiteFS emulator.
    Cluster,
    /// The single-node tour, on `database_path` or a temporary file.
    Tour {
        /// The database file, if one was given.
        database_path: Option<PathBuf>,
    },
    /// One node with this configuration.
    Node(Box<NodeConfig>),
}

/// Parses `args` (the program name first, as in [`std::env::args_os`]), looking up
/// environment variables with `env` (`None` for unset; an empty value counts as unset).
pub fn parse<I, T>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Invocation, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    Ok(match cli.command {
        None | Some(Command::Cluster) => Invocation::Cluster,
        Some(Command::Tour { database_path }) => Invocation::Tour { database_path },
        Some(Command::Node(args)) => {
            let env = |name: &str| env(name).filter(|value| !value.is_empty());
            Invocation::Node(Box::new(args.resolve(env)?))
        }
    })
}
