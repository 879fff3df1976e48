//! `CliError`: why the command line was refused, naming the flag or variable at fault.

use std::fmt;
use std::net::AddrParseError;

use repo_litefs::SecretError;

/// The cluster secret's rule, as `blog-example node --help` states it and as every refusal
/// of a secret repeats it.
pub const SECRET_RULE: &str = "at least 16 bytes, printable ASCII without spaces";

/// What is wrong with a refused secret, without repeating it.
fn secret_problem(error: &SecretError) -> &'static str {
    match error {
        SecretError::TooShort => "this one is shorter",
        SecretError::NotPrintable => {
            "this one holds a space or a character that is not printable ASCII"
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The flag, e.g. `--grpc-addr`.
    Flag(&'static str),
    /// The environment variable, e.g. `GRPC_ADDR`.
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "flag {flag}"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// Why the command line could not be turned into something to run.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Unknown command or flag, a flag without its value, or `--help`/`--version`:
    /// clap's message, which `clap::Error::exit` prints with the right exit code.
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// A required setting was given neither as a flag nor as an environment variable.
    #[error("missing {flag} (or environment variable {env})")]
    Missing {
        /// The flag.
        flag: &'static str,
        /// The environment variable(s) that could give it instead.
        env: &'static str,
    },
    /// An address is not `IP:PORT`.
    #[error("invalid {origin}: `{value}` is not an IP:PORT address such as 0.0.0.0:8080")]
    InvalidAddress {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
        /// What the parser said.
        #[source]
        source: AddrParseError,
    },
    /// The cluster secret was refused (its value is never repeated). The message states
    /// the whole rule, in the words `--help` uses ([`SECRET_RULE`]), then what is wrong.
    #[error(
        "invalid {origin}: a cluster secret must be {SECRET_RULE} ({})",
        secret_problem(source)
    )]
    InvalidSecret {
        /// Where the value came from.
        origin: Origin,
        /// Why it was refused.
        #[source]
        source: SecretError,
    },
    /// LiteFS's API is not an `http://` or `https://` URL with a host.
    #[error("invalid {origin}: `{value}` is not an http:// or https:// URL")]
    InvalidUrl {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
    },
    /// The endpoint template is not an `http(s)://` URL containing `{hostname}`.
    #[error(
        "invalid {origin}: `{value}` must be an http:// or https:// URL containing {{hostname}}"
    )]
    InvalidTemplate {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
    },
    /// The endpoint map is not `NAME=URL,NAME=URL`.
    #[error(
        "invalid {origin}: `{value}` must be NAME=URL pairs separated by commas, each URL \
         http:// or https://"
    )]
    InvalidEndpoints {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
    },
    /// `--sqlite-synchronous` is not one of SQLite's `synchronous` settings.
    #[error("invalid {origin}: `{value}` is not one of off, normal, full, extra")]
    InvalidSynchronous {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
    },
    /// `--database-url` is not a `postgres://` or `postgresql://` URL (its value is not
    /// repeated: it may hold a password).
    #[error("invalid {origin}: not a postgres:// or postgresql:// URL")]
    InvalidDatabaseUrl {
        /// Where the value came from.
        origin: Origin,
    },
    /// A LiteFS setting was given to a node on PostgreSQL.
    #[error("{origin} is a LiteFS setting; it cannot be used with {other} (PostgreSQL)")]
    Conflicting {
        /// The LiteFS setting.
        origin: Origin,
        /// The PostgreSQL setting.
        other: Origin,
    },
    /// A setting that only means something with another one was given alone.
    #[error("{origin} is only used with {needs}")]
    OnlyWith {
        /// The setting given.
        origin: Origin,
        /// The flag it needs.
        needs: &'static str,
    },
    /// The node name is not a hostname LiteFS could report.
    #[error(
        "invalid {origin}: `{value}` is not a hostname (letters, digits, `-`, `.` and `_`, \
         at most 253)"
    )]
    InvalidNodeName {
        /// Where the value came from.
        origin: Origin,
        /// The value given.
        value: String,
    },
}
