//! Whether real LiteFS can run here: the `litefs` binary, `/dev/fuse` and `fusermount`.
//!
//! Tests on real LiteFS skip when something is missing, with a message saying what and how
//! to install it, unless [`REQUIRE_VAR`] is set (`.ci/run` sets it): then a missing piece
//! fails the test instead, so that CI cannot pass by skipping.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Set (to anything but empty or `0`) to make a missing LiteFS a failure instead of a skip.
pub const REQUIRE_VAR: &str = "CI_REQUIRE_LITEFS";

/// Names the `litefs` binary to use, overriding the search.
pub const BIN_VAR: &str = "LITEFS_BIN";

const INSTALL: &str = "install Debian's fuse3 and LiteFS with \
    `go install github.com/superfly/litefs/cmd/litefs@v0.5.14` (as .ci/run does), as root";

/// Finds the `litefs` binary and checks that FUSE is usable, or says what is missing.
pub fn find() -> Result<PathBuf, String> {
    let bin = binary()?;
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Err(format!("/dev/fuse cannot be opened: {e}"));
    }
    if on_path("fusermount3").is_none() && on_path("fusermount").is_none() {
        return Err("no `fusermount3` or `fusermount` on PATH".into());
    }
    Ok(bin)
}

/// The binary when LiteFS can run; otherwise `None` after printing why the test is skipped,
/// or a panic when [`REQUIRE_VAR`] is set.
pub fn require() -> Option<PathBuf> {
    match find() {
        Ok(bin) => Some(bin),
        Err(reason) if required() => {
            panic!(
                "real LiteFS is required ({REQUIRE_VAR} is set) but cannot run: {reason}; {INSTALL}"
            )
        }
        Err(reason) => {
            // Straight to stderr: the test harness swallows `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "skipping: real LiteFS cannot run here: {reason}; {INSTALL}"
            );
            None
        }
    }
}

/// Whether [`REQUIRE_VAR`] is set to anything but empty or `0`.
fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `LITEFS_BIN` when set (and then only it), else `litefs` on PATH, in `$GOBIN`, in each
/// `$GOPATH` entry's `bin`, or in `~/go/bin`.
fn binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os(BIN_VAR) {
        let bin = PathBuf::from(bin);
        return if is_executable(&bin) {
            Ok(bin)
        } else {
            Err(format!(
                "{BIN_VAR}={} is not an executable file",
                bin.display()
            ))
        };
    }
    if let Some(bin) = on_path("litefs") {
        return Ok(bin);
    }
    let gobin = std::env::var_os("GOBIN").map(PathBuf::from);
    let gopaths = std::env::var_os("GOPATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("bin"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join("go").join("bin"));
    gobin
        .into_iter()
        .chain(gopaths)
        .chain(home)
        .map(|dir| dir.join("litefs"))
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            format!("no `litefs` binary ({BIN_VAR}, PATH, $GOBIN, $GOPATH/bin or ~/go/bin)")
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first executable called `name` on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}
