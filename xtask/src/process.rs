//! Running commands and reporting each step.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// A `cargo` command run at the workspace root.
///
/// Without the variables `cargo run` set for xtask itself: build scripts
/// that track `CARGO_MANIFEST_DIR` (ring's does) would otherwise see
/// xtask's value, unlike in a plain `cargo build`, and every build from
/// xtask would rebuild them and everything above them (ring → rustls →
/// reqwest → stac-client → the CLI), and the next plain build again.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(root());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k == "CARGO_MANIFEST_DIR"
            || k == "CARGO_MANIFEST_PATH"
            || k == "CARGO_PRIMARY_PACKAGE"
            || k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_BIN_")
            || k == "CARGO_CRATE_NAME"
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Run a command, announcing it and timing it; a non-zero exit is an error naming the step.
pub(crate) fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: ── {name}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: cannot start {:?}: {e}", cmd.get_program()))?;
    eprintln!(
        "xtask:    {name}: {} in {:.1}s{}",
        if status.success() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64(),
        free_disk()
            .map(|gb| format!(" ({gb:.1} GB free on the target disk)"))
            .unwrap_or_default()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

/// Free space, in GB, on the disk that holds `target/` (from `df -Pk`), so a
/// CI log shows when a build is about to fill the disk: the S3 and Zarr tests
/// need a few hundred MB, and servers refuse writes on a full disk.
fn free_disk() -> Option<f64> {
    let out = Command::new("df")
        .args(["-Pk", "target"])
        .current_dir(root())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kb: f64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kb * 1024.0 / 1e9)
}

/// Run a command and capture its standard output.
pub(crate) fn output(mut cmd: Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a program is on PATH.
pub(crate) fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}
