//! Running a command and measuring its peak resident set.
//!
//! A child's `ru_maxrss` includes the high-water mark of the process it was
//! exec'd from (Linux records the old address space's peak at `exec`), so a
//! big test process would measure itself. The command is run through the
//! small `peak_rss` helper of this package, which forks it and reports the
//! command's own `wait4` figure.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

/// What a measured run gives back.
#[derive(Debug)]
pub struct Measured {
    /// The exit status (the helper exits with the command's code, or
    /// 128 + the signal that killed it).
    pub status: ExitStatus,
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr.
    pub stderr: Vec<u8>,
    /// Peak resident set of the command, in bytes.
    pub peak_rss: u64,
}

/// The `peak_rss` helper, beside the test executable (cargo builds the
/// package's binaries for its integration tests).
fn helper() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let bin = dir.join("peak_rss");
    assert!(
        bin.exists(),
        "{} is missing (built with the package's tests)",
        bin.display()
    );
    bin
}

/// Run `program args` to its end (stdout and stderr captured) and measure
/// its peak resident set.
pub fn run_measured(program: impl Into<PathBuf>, args: &[&std::ffi::OsStr]) -> Measured {
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let o = Command::new(helper())
        .arg(program.into())
        .args(args)
        .env("PEAK_RSS_OUT", out.path())
        .stdin(Stdio::null())
        .output()
        .expect("run the peak_rss helper");
    let kb: u64 = std::fs::read_to_string(out.path())
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "peak_rss wrote no figure: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
    Measured {
        status: o.status,
        stdout: o.stdout,
        stderr: o.stderr,
        peak_rss: kb * 1024,
    }
}
