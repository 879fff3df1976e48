//! The local cluster's console: commands typed on its terminal that act on the LiteFS
//! emulator, so a running cluster can fail over while you watch it.
//!
//! ```text
//! promote node-2     abrupt failover (LiteFS's lease moves; unreplicated writes are lost)
//! handover node-2    graceful failover (the primary hands over after replicating)
//! kill node-1        the node's LiteFS stops (no replication, no lease)
//! restart node-1     it comes back as a replica
//! partition node-3   replication to it stops
//! heal node-3        and resumes
//! status             who is primary
//! help               this list
//! ```

use std::time::Duration;

use repo_litefs::emulator::LiteFsEmulator;

/// One console command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// An abrupt failover to the node.
    Promote(String),
    /// A graceful failover to the node.
    Handover(String),
    /// Stop the node's (emulated) LiteFS.
    Kill(String),
    /// Start it again, as a replica.
    Restart(String),
    /// Cut replication to the node.
    Partition(String),
    /// Restore it.
    Heal(String),
    /// Print who is primary.
    Status,
    /// Print the commands.
    Help,
}

/// The commands, for the banner and `help`.
pub const HELP: &str = "commands: promote NODE | handover NODE | kill NODE | restart NODE | \
                        partition NODE | heal NODE | status | help";

impl Command {
    /// Reads one line; `None` for an empty line, an error naming what was not understood.
    ///
    /// # Errors
    ///
    /// A message for an unknown command or a missing node name.
    pub fn parse(line: &str) -> Result<Option<Self>, String> {
        let mut words = line.split_whitespace();
        let Some(verb) = words.next() else {
            return Ok(None);
        };
        let node = words.next().map(str::to_owned);
        if words.next().is_some() {
            return Err(format!("too many words in {line:?}; {HELP}"));
        }
        let with_node = |make: fn(String) -> Self| {
            node.clone()
                .map(make)
                .ok_or_else(|| format!("`{verb}` needs a node name, e.g. `{verb} node-2`"))
        };
        Ok(Some(match verb {
            "promote" => with_node(Self::Promote)?,
            "handover" => with_node(Self::Handover)?,
            "kill" => with_node(Self::Kill)?,
            "restart" => with_node(Self::Restart)?,
            "partition" => with_node(Self::Partition)?,
            "heal" => with_node(Self::Heal)?,
            "status" if node.is_none() => Self::Status,
            "help" if node.is_none() => Self::Help,
            other => return Err(format!("unknown command `{other}`; {HELP}")),
        }))
    }

    /// Runs the command on `emulator`; what to print.
    pub async fn run(&self, emulator: &LiteFsEmulator) -> String {
        let known = |name: &str| emulator.node(name).is_some();
        match self {
            Self::Status => format!("primary: {}", emulator.primary()),
            Self::Help => HELP.to_owned(),
            Self::Promote(name) => match emulator.promote(name) {
                Ok(()) => format!("promoted {name} (abrupt: writes not yet replicated are lost)"),
                Err(e) => format!("cannot promote {name}: {e}"),
            },
            Self::Handover(name) => match emulator.handover(name, Duration::from_secs(10)).await {
                Ok(()) => format!("handed over to {name}"),
                Err(e) => format!("cannot hand over to {name}: {e}"),
            },
            Self::Kill(name) | Self::Restart(name) | Self::Partition(name) | Self::Heal(name)
                if !known(name) =>
            {
                format!("no node named {name}")
            }
            Self::Kill(name) => {
                emulator.kill(name);
                format!("killed {name}'s LiteFS")
            }
            Self::Restart(name) => {
                emulator.restart(name);
                format!("restarted {name} as a replica")
            }
            Self::Partition(name) => {
                emulator.partition(name);
                format!("partitioned {name}")
            }
            Self::Heal(name) => {
                emulator.heal(name);
                format!("healed {name}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_commands_or_say_what_is_wrong() {
        assert_eq!(
            Command::parse(" promote node-2 "),
            Ok(Some(Command::Promote("node-2".into())))
        );
        assert_eq!(Command::parse("status"), Ok(Some(Command::Status)));
        assert_eq!(Command::parse(""), Ok(None));
        assert!(Command::parse("promote").is_err_and(|e| e.contains("node name")));
        assert!(Command::parse("explode node-1").is_err_and(|e| e.contains("unknown")));
        assert!(Command::parse("kill a b").is_err_and(|e| e.contains("too many")));
    }

    #[tokio::test]
    async fn commands_act_on_the_emulator() {
        let dir = tempfile::tempdir().expect("dir");
        let emulator = LiteFsEmulator::start(
            dir.path(),
            &["node-1", "node-2"],
            "blog.db",
            Duration::from_millis(5),
        )
        .await
        .expect("emulator");
        let run = |line: &str| {
            let command = Command::parse(line).expect("parses").expect("a command");
            let emulator = &emulator;
            async move { command.run(emulator).await }
        };
        assert_eq!(run("status").await, "primary: node-1");
        assert!(run("promote node-2").await.starts_with("promoted node-2"));
        assert_eq!(emulator.primary(), "node-2");
        assert_eq!(run("kill node-9").await, "no node named node-9");
        assert!(run("promote node-9").await.starts_with("cannot promote"));
    }
}
