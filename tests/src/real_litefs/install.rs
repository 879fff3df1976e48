//! Whether real LiteFS can run here: the `litefs` binary, `/dev/fuse` and `fusermount`.
//!
//! Tests on real LiteFS skip when something is missing, with a message saying what and how
//! to install it, unless [`REQUIRE_VAR`] is set (`.ci/run` sets it): then a missing piece
//! fails the test instead, so that CI cannot pass by skipping.

use std::path::{Path, PathBuf};

/// Set (to anything but empty) to make a missing LiteFS a failure instead of a skip.
pub const REQUIRE_VAR: &str = "CI_REQUIRE_LITEFS";

/// Names the `litefs` binary to use, overriding the search.
pub const BIN_VAR: &str = "LITEFS_BIN";

const INSTALL: &str = "install Debian's fuse3 and LiteFS with \
    `go install github.com/superfly/litefs/cmd/litefs@v0.5.14` (as .ci/run does), as root";

/// Finds the `litefs` binary and checks that FUSE is usable, or says what is missing.
pub fn find() -> Result<PathBuf, String> {
    let bin = binary()
        .ok_or_else(|| format!("no `litefs` binary ({BIN_VAR}, PATH, $GOPATH/bin or ~/go/bin)"))?;
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
            eprintln!("skipping: real LiteFS cannot run here: {reason}; {INSTALL}");
            None
        }
    }
}

fn required() -> bool {
    std::env::var_os(REQUIRE_VAR).is_some_and(|v| !v.is_empty())
}

fn binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(BIN_VAR) {
        return Some(PathBuf::from(bin)).filter(|p| p.is_file());
    }
    if let Some(bin) = on_path("litefs") {
        return Some(bin);
    }
    let go_paths = std::env::var_os("GOPATH")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join("go")));
    go_paths
        .map(|dir| dir.join("bin").join("litefs"))
        .find(|p| p.is_file())
}

/// The first executable called `name` on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
