//! `rustac serve` (PyPI `rustac`, in-memory backend) on a free 127.0.0.1
//! port (recipe: `shared/reference/local-servers.md` §1b). Needs the
//! `rustac` venv from `cargo xtask setup`. Stopped by PID on drop.
//!
//! Paging is `skip`-based. Known bug (rustac 0.9.18): GET /search with
//! `bbox` or `collections` and more results than `limit` answers HTTP 500.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{ChildGuard, free_port, venv_bin, wait_for_port};

/// A running `rustac serve`.
#[derive(Debug)]
pub struct RustacServer {
    _child: ChildGuard,
    port: u16,
}

impl RustacServer {
    /// Serve these files (Collections, FeatureCollections, ndjson).
    pub fn start(files: &[&Path]) -> RustacServer {
        let rustac = venv_bin("rustac", "rustac");
        let port = free_port();
        let mut cmd = Command::new(rustac);
        cmd.arg("serve")
            .args(files)
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = ChildGuard::spawn("rustac serve", &mut cmd);
        wait_for_port(port, 30);
        RustacServer {
            _child: child,
            port,
        }
    }

    /// The API root, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}
