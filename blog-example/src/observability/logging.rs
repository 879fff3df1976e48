//! Logs through `tracing-subscriber`: `RUST_LOG` chooses what is written (default `info`);
//! the per-statement logs of sqlx and sea-orm stay at `warn` unless `RUST_LOG` names them
//! (`RUST_LOG=info,sqlx=info`). `LOG_FORMAT=json` writes one JSON object per line instead of
//! text. Logs go to standard error, in colour only on a terminal.

use tracing_subscriber::EnvFilter;

/// The variable that chooses the format: `text` (the default) or `json`.
pub const FORMAT_VARIABLE: &str = "LOG_FORMAT";

/// What is logged when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info";

/// Targets that log every SQL statement at `info`, quieted unless `RUST_LOG` names them.
const STATEMENT_LOGS: [&str; 2] = ["sqlx", "sea_orm"];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The format `value` names (`json`, else text).
    pub fn from_variable(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Installs the process's subscriber: `filter` (`RUST_LOG`'s value) or the default, in
/// `format`. A second call, or one after another subscriber was installed, does nothing.
pub fn init(filter: Option<&str>, format: LogFormat) {
    let mut directives = filter.unwrap_or(DEFAULT_FILTER).to_owned();
    for target in STATEMENT_LOGS {
        if !directives.contains(target) {
            directives.push_str(&format!(",{target}=warn"));
        }
    }
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("RUST_LOG `{directives}` is not a valid filter ({e}); logging at info");
        EnvFilter::new(DEFAULT_FILTER)
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
