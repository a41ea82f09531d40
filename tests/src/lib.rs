//! Support for the workspace's end-to-end tests: where the shared fixtures
//! live, and how to run the built `stac-gdal` binary.
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

// Used by the `peak_rss` binary of this package, not by the library.
use libc as _;

pub mod fault_server;
pub mod latency_nginx;
pub mod nginx;
pub mod origins;
pub mod pgstac;
pub mod rss;
pub mod rustac_server;
pub mod seaweed;
pub mod signer_cases;
pub mod token_server;

use std::path::{Path, PathBuf};

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The shared folder beside the repository (`../shared`), or
/// `$STAC_GDAL_SHARED`; panics with a clear message when it is missing (the
/// workspace's one copy of that rule, `stac-fixtures`).
pub use stac_fixtures::shared_dir;

/// Every JSON fixture file under `shared/data/stac-items` (Items, arrays,
/// FeatureCollections), sorted.
pub use stac_fixtures::stac_item_files as stac_item_fixtures;

/// Read and parse a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}

/// A program inside one of the Python venvs that `cargo xtask setup` creates
/// under `target/venvs/<venv>` (see `VENVS` in `xtask/src/setup.rs`).
///
/// Panics with the command to run when the venv is missing.
pub fn venv_bin(venv: &str, program: &str) -> PathBuf {
    let path = repo_root()
        .join("target")
        .join("venvs")
        .join(venv)
        .join("bin")
        .join(program);
    assert!(
        path.exists(),
        "{} not found: run `cargo xtask setup` first",
        path.display()
    );
    path
}

/// A child process (a test server) killed by PID when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: std::process::Child,
    /// What it is, for messages.
    pub name: String,
}

impl ChildGuard {
    /// Spawn `cmd` and keep it until the guard drops.
    pub fn spawn(name: &str, cmd: &mut std::process::Command) -> Self {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            child,
            name: name.to_owned(),
        }
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Wait until something accepts TCP connections on 127.0.0.1:`port` (panics after `secs`).
pub fn wait_for_port(port: u16, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listening on 127.0.0.1:{port} after {secs}s");
}

/// The `stac-gdal` binary for end-to-end CLI tests.
///
/// `$STAC_GDAL_BIN` when set; else the binary cargo already built in this
/// target dir (`cargo test --workspace` builds it before any test runs, with
/// the same features, so no second build happens); else it is built now.
pub fn stac_gdal_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("STAC_GDAL_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf();
    let bin = dir.join("stac-gdal");
    if bin.exists() {
        return bin;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "stac-gdal-cli",
        "--bin",
        "stac-gdal",
    ]);
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    cmd.env("CARGO_TARGET_DIR", dir.parent().expect("target dir"));
    assert!(
        cmd.status().expect("cargo build runs").success(),
        "building stac-gdal failed"
    );
    bin
}

/// An example of the facade crate (`crates/stac-gdal/examples/<name>.rs`)
/// for end-to-end tests.
///
/// `cargo test --workspace --all-features` builds every example before any
/// test runs (into `target/<profile>/examples/`), so that binary is used and
/// no second build happens; otherwise (this package's tests run alone) it
/// is built now with `features` (also when the example's source is newer
/// than the binary).
pub fn facade_example_bin(name: &str, features: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf();
    let bin = dir.join("examples").join(name);
    let source = repo_root()
        .join("crates/stac-gdal/examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&bin).is_some_and(|b| modified(&source).is_none_or(|s| s <= b)) {
        return bin;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "stac-gdal", "--example", name])
        .args(["--features", features]);
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    cmd.env("CARGO_TARGET_DIR", dir.parent().expect("target dir"));
    assert!(
        cmd.status().expect("cargo build runs").success(),
        "building the example {name} failed"
    );
    bin
}
