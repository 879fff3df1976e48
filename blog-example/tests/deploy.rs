//! `deploy/` agrees with the node's real command line: the command `litefs.yml` execs
//! parses with `blog-example`'s own parser, names the node as LiteFS's lease does, and
//! uses the mount, API and ports that `litefs.yml` and `fly.toml` declare.

use std::path::PathBuf;

use blog_example::cli::{Invocation, parse};

fn deploy_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What LiteFS would expand `${..}` to on a Fly machine.
fn expand(text: &str) -> String {
    text.replace("${FLY_ALLOC_ID}", "3d8d9e1c2f0e48")
        .replace("${FLY_APP_NAME}", "litefs-blog")
}

/// The value of the first `key: value` line that follows `section:` (quotes removed).
fn value_in(yaml: &str, section: &str, key: &str) -> String {
    let after = yaml
        .split_once(&format!("\n{section}:"))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no `{section}:` section"));
    after
        .lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no `{key}:` under `{section}:`"))
}

/// The value of the first `key = value` line after the `[section]` header of a TOML file.
fn toml_value(toml: &str, section: &str, key: &str) -> String {
    let (_, after) = toml
        .split_once(&format!("[{section}]\n"))
        .unwrap_or_else(|| panic!("no [{section}]"));
    after
        .lines()
        .find_map(|line| line.trim().strip_prefix(key)?.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no `{key} =` under [{section}]"))
}

/// The `exec` command (a `>-` folded block: its lines joined by spaces), split into words
/// as LiteFS does (shell-like, with single quotes).
fn exec_words(yaml: &str) -> Vec<String> {
    let (_, block) = yaml
        .split_once("- cmd: >-\n")
        .expect("an exec `cmd: >-` block");
    let command: Vec<&str> = block
        .lines()
        .take_while(|line| line.starts_with("      "))
        .map(str::trim)
        .collect();
    let mut words = Vec::new();
    for word in command.join(" ").split_whitespace() {
        assert!(
            !word.contains('"') && word.matches('\'').count() % 2 == 0,
            "keep each quoted word free of spaces: {word}"
        );
        words.push(word.replace('\'', ""));
    }
    words
}

fn port(address: &str) -> u16 {
    let (_, port) = address.rsplit_once(':').expect("host:port");
    port.trim_end_matches('/').parse().expect("a port")
}

#[test]
fn litefs_yml_runs_the_node_with_flags_it_accepts_and_values_that_fit() {
    let yaml = expand(&deploy_file("litefs.yml"));
    let words = exec_words(&yaml);
    // LiteFS refuses unknown keys, and an exec entry has only `cmd` and `if-candidate`.
    let (_, exec) = yaml.split_once("\nexec:\n").expect("an exec section");
    let entry_lines = exec
        .lines()
        .filter(|l| !l.starts_with("      ") && !l.trim_start().starts_with('#'));
    for line in entry_lines {
        let key = line
            .trim_start_matches([' ', '-'])
            .split(':')
            .next()
            .unwrap_or("");
        assert!(
            ["cmd", "if-candidate"].contains(&key) || line.trim().is_empty(),
            "litefs.yml: LiteFS does not know exec key `{key}`"
        );
    }
    assert_eq!(words.first().map(String::as_str), Some("blog-example"));
    assert!(
        !words.iter().any(|w| w.contains('$')),
        "unexpanded: {words:?}"
    );

    // The secret comes from the environment (a Fly secret), not from the command line.
    let env = |name: &str| (name == "CLUSTER_SECRET").then(|| "0123456789abcdef-fly".to_owned());
    let config = match parse(&words, env) {
        Ok(Invocation::Node(config)) => config,
        other => panic!("`{}` does not parse as a node: {other:?}", words.join(" ")),
    };
    assert!(!words.iter().any(|w| w == "--cluster-secret"));

    let lease_hostname = value_in(&yaml, "lease", "hostname");
    assert_eq!(
        config.name, lease_hostname,
        "--node-name is LiteFS's name for the node"
    );
    let fuse_dir = value_in(&yaml, "fuse", "dir");
    assert_eq!(config.mount_dir, Some(PathBuf::from(&fuse_dir)));
    assert!(
        config.db_path.starts_with(&fuse_dir),
        "{:?}",
        config.db_path
    );
    let litefs_api = config.litefs_api.clone().expect("an API URL");
    assert_eq!(port(&litefs_api), port(&value_in(&yaml, "http", "addr")));
    assert_eq!(
        value_in(&yaml, "lease", "advertise-url"),
        format!(
            "http://{lease_hostname}:{}",
            port(&value_in(&yaml, "http", "addr"))
        ),
        "other nodes reach this one's LiteFS by its lease hostname and HTTP port"
    );

    let primary_url = config.endpoints.resolve(&lease_hostname).expect("resolves");
    assert_eq!(
        primary_url,
        format!("http://{lease_hostname}:{}", config.grpc_addr.port())
    );
    assert!(config.grpc_addr.ip().is_unspecified() && config.http_addr.ip().is_unspecified());

    let fly = deploy_file("fly.toml");
    assert_eq!(
        toml_value(&fly, "http_service", "internal_port"),
        config.http_addr.port().to_string()
    );
    assert_eq!(
        toml_value(&fly, "mounts", "destination"),
        value_in(&yaml, "data", "dir")
    );
}
