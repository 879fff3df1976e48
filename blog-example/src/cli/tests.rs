//! The command line, parsed from explicit arguments and an explicit environment.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::error::ErrorKind;
use repo_litefs::Endpoints;

use super::node::ALL;
use super::{CliError, Invocation, Origin, parse};
use crate::node::NodeConfig;

const SECRET: &str = "0123456789abcdef-secret";

/// An environment holding exactly `vars`.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn node(args: &[&str], vars: &[(&str, &str)]) -> Result<NodeConfig, CliError> {
    let argv = ["blog-example", "node"].iter().chain(args).copied();
    match parse(argv, env(vars))? {
        Invocation::Node(config) => Ok(*config),
        other => panic!("expected a node, got {other:?}"),
    }
}

#[test]
fn subcommands_default_to_the_cluster() {
    let no_env = env(&[]);
    assert!(matches!(
        parse(["blog-example"], &no_env),
        Ok(Invocation::Cluster)
    ));
    assert!(matches!(
        parse(["blog-example", "cluster"], &no_env),
        Ok(Invocation::Cluster)
    ));
    assert!(matches!(
        parse(["blog-example", "tour"], &no_env),
        Ok(Invocation::Tour {
            database_path: None
        })
    ));
    match parse(["blog-example", "tour", "/tmp/t.db"], &no_env) {
        Ok(Invocation::Tour { database_path }) => {
            assert_eq!(database_path, Some(PathBuf::from("/tmp/t.db")));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(["blog-example", "serve"], &no_env),
        Err(CliError::Usage(e)) if e.kind() == ErrorKind::InvalidSubcommand
    ));
}

#[test]
fn node_defaults_need_only_a_name_and_a_secret() {
    let config = node(&[], &[("HOSTNAME", "host-7"), ("CLUSTER_SECRET", SECRET)]).expect("config");
    assert_eq!(config.name, "host-7");
    assert_eq!(config.db_path, PathBuf::from("/litefs/blog.db"));
    assert_eq!(config.litefs_api.as_deref(), Some("http://127.0.0.1:20202"));
    assert_eq!(config.mount_dir, None);
    assert_eq!(config.grpc_addr.to_string(), "0.0.0.0:50051");
    assert_eq!(config.http_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(
        config.endpoints,
        Endpoints::template("http://{hostname}:50051")
    );
}

const FLAGS: [&str; 10] = [
    "--node-name=node-f",
    "--database-path=/f/blog.db",
    "--litefs-api=http://127.0.0.1:1",
    "--litefs-dir=/f",
    "--grpc-addr=127.0.0.1:2",
    "--http-addr",
    "[::1]:3",
    "--endpoint-template=https://{hostname}.f:4",
    "--cluster-secret",
    "flag-secret-0123456789",
];

const VARS: [(&str, &str); 8] = [
    ("NODE_NAME", "node-e"),
    ("DATABASE_PATH", "/e/blog.db"),
    ("LITEFS_API", "http://127.0.0.1:5"),
    ("LITEFS_DIR", "/e"),
    ("GRPC_ADDR", "127.0.0.1:6"),
    ("HTTP_ADDR", "127.0.0.1:7"),
    ("ENDPOINT_TEMPLATE", "http://{hostname}.e:8"),
    ("CLUSTER_SECRET", SECRET),
];

#[test]
fn every_setting_comes_from_its_environment_variable() {
    let config = node(&[], &VARS).expect("config");
    assert_eq!(config.name, "node-e");
    assert_eq!(config.db_path, PathBuf::from("/e/blog.db"));
    assert_eq!(config.litefs_api.as_deref(), Some("http://127.0.0.1:5"));
    assert_eq!(config.mount_dir, Some(PathBuf::from("/e")));
    assert_eq!(config.grpc_addr.to_string(), "127.0.0.1:6");
    assert_eq!(config.http_addr.to_string(), "127.0.0.1:7");
    assert_eq!(
        config.endpoints,
        Endpoints::template("http://{hostname}.e:8")
    );
}

#[test]
fn every_flag_wins_over_its_environment_variable() {
    let config = node(&FLAGS, &VARS).expect("config");
    assert_eq!(config.name, "node-f");
    assert_eq!(config.db_path, PathBuf::from("/f/blog.db"));
    assert_eq!(config.litefs_api.as_deref(), Some("http://127.0.0.1:1"));
    assert_eq!(config.mount_dir, Some(PathBuf::from("/f")));
    assert_eq!(config.grpc_addr.to_string(), "127.0.0.1:2");
    assert_eq!(config.http_addr.to_string(), "[::1]:3");
    assert_eq!(
        config.endpoints,
        Endpoints::template("https://{hostname}.f:4")
    );
    // The secret is opaque; it is accepted from the flag even though the variable is set.
    let short = node(&["--cluster-secret", "short"], &VARS).map(|_| ());
    assert!(matches!(
        short,
        Err(CliError::InvalidSecret {
            origin: Origin::Flag("--cluster-secret"),
            ..
        })
    ));
}

#[test]
fn node_name_falls_back_to_hostname_and_empty_variables_count_as_unset() {
    let vars = [
        ("NODE_NAME", "named"),
        ("HOSTNAME", "host"),
        ("CLUSTER_SECRET", SECRET),
    ];
    assert_eq!(node(&[], &vars).expect("config").name, "named");
    let vars = [
        ("NODE_NAME", ""),
        ("HOSTNAME", "host"),
        ("LITEFS_DIR", ""),
        ("HTTP_ADDR", ""),
        ("CLUSTER_SECRET", SECRET),
    ];
    let config = node(&[], &vars).expect("config");
    assert_eq!(config.name, "host");
    assert_eq!(config.mount_dir, None);
    assert_eq!(config.http_addr.to_string(), "0.0.0.0:8080");
}

#[test]
fn missing_settings_name_the_flag_and_the_variable() {
    let error = node(&[], &[("CLUSTER_SECRET", SECRET)]).expect_err("no name");
    assert!(matches!(
        error,
        CliError::Missing {
            flag: "--node-name",
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.contains("--node-name")
            && message.contains("NODE_NAME")
            && message.contains("HOSTNAME"),
        "{message}"
    );

    let error = node(&["--node-name", "n"], &[]).expect_err("no secret");
    assert_eq!(
        error.to_string(),
        "missing --cluster-secret (or environment variable CLUSTER_SECRET)"
    );
}

#[test]
fn bad_values_name_where_they_came_from() {
    let base = [("NODE_NAME", "n"), ("CLUSTER_SECRET", SECRET)];
    let with = |extra: (&'static str, &'static str)| {
        let mut vars = base.to_vec();
        vars.push(extra);
        node(&[], &vars)
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    };
    let message = with(("GRPC_ADDR", "localhost:50051"));
    assert!(
        message.contains("environment variable GRPC_ADDR") && message.contains("localhost:50051"),
        "{message}"
    );
    let message = with(("HTTP_ADDR", "8080"));
    assert!(message.contains("HTTP_ADDR"), "{message}");
    let message = with(("LITEFS_API", "127.0.0.1:20202"));
    assert!(
        message.contains("LITEFS_API") && message.contains("http://"),
        "{message}"
    );
    let message = with(("ENDPOINT_TEMPLATE", "http://node:50051"));
    assert!(
        message.contains("ENDPOINT_TEMPLATE") && message.contains("{hostname}"),
        "{message}"
    );
    let message = with(("ENDPOINT_TEMPLATE", "{hostname}:50051"));
    assert!(message.contains("ENDPOINT_TEMPLATE"), "{message}");
    let message = with(("NODE_NAME", "not/a host"));
    assert!(message.contains("NODE_NAME"), "{message}");

    let message = node(&["--grpc-addr", "nowhere"], &base)
        .map(|_| ())
        .expect_err("refused")
        .to_string();
    assert!(message.contains("flag --grpc-addr"), "{message}");

    for (secret, problem) in [
        ("short", "shorter"),
        ("long enough but with spaces", "space"),
    ] {
        let message = node(&[], &[("NODE_NAME", "n"), ("CLUSTER_SECRET", secret)])
            .map(|_| ())
            .expect_err("refused")
            .to_string();
        assert!(
            message.contains(super::error::SECRET_RULE) && message.contains(problem),
            "the whole rule, as --help says it, and what is wrong: {message}"
        );
    }

    let secret = "has a space in it, too long";
    let message = node(&[], &[("NODE_NAME", "n"), ("CLUSTER_SECRET", secret)])
        .map(|_| ())
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains("CLUSTER_SECRET") && !message.contains(secret),
        "{message}"
    );
}

#[test]
fn empty_and_unknown_flags_are_usage_errors() {
    let vars = [("NODE_NAME", "n"), ("CLUSTER_SECRET", SECRET)];
    let empty = node(&["--node-name", ""], &vars).map(|_| ());
    assert!(matches!(empty, Err(CliError::Usage(e)) if e.kind() == ErrorKind::InvalidValue));
    let unknown = node(&["--primary", "x"], &vars).map(|_| ());
    assert!(matches!(unknown, Err(CliError::Usage(e)) if e.kind() == ErrorKind::UnknownArgument));
}

#[test]
fn node_help_lists_every_flag_and_its_variable() {
    let Err(CliError::Usage(help)) = parse(["blog-example", "node", "--help"], env(&[])) else {
        panic!("--help is reported as clap's DisplayHelp");
    };
    assert_eq!(help.kind(), ErrorKind::DisplayHelp);
    let text = help.render().to_string();
    // The secret's rule, in the words every refusal of a secret uses.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains(super::error::SECRET_RULE), "{text}");
    for setting in ALL {
        assert!(
            text.contains(setting.flag),
            "{} missing from:\n{text}",
            setting.flag
        );
        assert!(
            text.contains(&format!("[env: {}", setting.env)),
            "{} missing from:\n{text}",
            setting.env
        );
    }
}

#[test]
fn a_database_url_runs_the_node_on_postgres_with_the_primary_named() {
    let pg = [
        ("NODE_NAME", "fra-1"),
        ("CLUSTER_SECRET", SECRET),
        ("DATABASE_URL", "postgres://app:pw@127.0.0.1:5432/blog"),
        ("PRIMARY_NAME", "ams-1"),
    ];
    let config = node(&[], &pg).expect("config");
    let postgres = config.postgres.expect("on PostgreSQL");
    assert_eq!(postgres.url, "postgres://app:pw@127.0.0.1:5432/blog");
    assert_eq!(postgres.primary, "ams-1");
    assert!(
        !format!("{postgres:?}").contains("pw"),
        "no password in logs"
    );
    let flag = node(&["--primary-name", "lhr-1"], &pg).expect("config");
    assert_eq!(flag.postgres.expect("on PostgreSQL").primary, "lhr-1");
    // Without a URL the node is on LiteFS.
    let litefs = node(&[], &[("NODE_NAME", "n"), ("CLUSTER_SECRET", SECRET)]).expect("config");
    assert_eq!(litefs.postgres, None);

    let missing = node(&[], &pg[..3]).map(|_| ());
    assert!(
        matches!(
            missing,
            Err(CliError::Missing {
                flag: "--primary-name",
                ..
            })
        ),
        "{missing:?}"
    );
    let bad = node(&["--database-url", "mysql://x/y"], &pg).map(|_| ());
    assert!(matches!(
        bad,
        Err(CliError::InvalidDatabaseUrl {
            origin: Origin::Flag("--database-url")
        })
    ));
    let mixed = node(&["--litefs-dir", "/litefs"], &pg).map(|_| ());
    assert!(matches!(
        mixed,
        Err(CliError::Conflicting {
            origin: Origin::Flag("--litefs-dir"),
            other: Origin::Env("DATABASE_URL"),
        })
    ));
    let alone = node(
        &[],
        &[
            ("NODE_NAME", "n"),
            ("CLUSTER_SECRET", SECRET),
            ("PRIMARY_NAME", "p"),
        ],
    )
    .map(|_| ());
    assert!(matches!(
        alone,
        Err(CliError::OnlyWith {
            origin: Origin::Env("PRIMARY_NAME"),
            needs: "--database-url"
        })
    ));
}

#[test]
fn sqlite_synchronous_is_full_unless_chosen_by_flag_or_variable() {
    use sea_orm::sqlx::sqlite::SqliteSynchronous;
    let base = [("NODE_NAME", "fra-1"), ("CLUSTER_SECRET", SECRET)];
    assert_eq!(node(&[], &base).expect("config").sqlite_synchronous, None);
    let flag = node(&["--sqlite-synchronous", "off"], &base).expect("config");
    assert_eq!(flag.sqlite_synchronous, Some(SqliteSynchronous::Off));
    let mut vars = base.to_vec();
    vars.push(("SQLITE_SYNCHRONOUS", "NORMAL"));
    let var = node(&[], &vars).expect("config");
    assert_eq!(var.sqlite_synchronous, Some(SqliteSynchronous::Normal));
    let wins = node(&["--sqlite-synchronous", "full"], &vars).expect("config");
    assert_eq!(wins.sqlite_synchronous, Some(SqliteSynchronous::Full));
    assert!(matches!(
        node(&["--sqlite-synchronous", "fast"], &base),
        Err(CliError::InvalidSynchronous { origin: Origin::Flag("--sqlite-synchronous"), value })
            if value == "fast"
    ));
    let mut pg = base.to_vec();
    pg.extend([
        ("DATABASE_URL", "postgres://app@127.0.0.1:5432/blog"),
        ("PRIMARY_NAME", "ams-1"),
    ]);
    assert!(matches!(
        node(&["--sqlite-synchronous", "off"], &pg),
        Err(CliError::Conflicting { .. })
    ));
}
