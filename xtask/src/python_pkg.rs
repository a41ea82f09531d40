//! The Python package `stac_gdal` (`crates/stac-gdal-py`): built with
//! maturin into the `cube-peers` venv (which has xarray, dask, odc-stac),
//! and its pytest suite.
//!
//! The build is `maturin develop` (an editable install): it runs cargo on
//! the workspace's own target directory and dev profile, so it reuses the
//! GDAL stack `cargo test` already built; only pyo3, numpy and the crate
//! itself are compiled for it.

use std::process::Command;

use crate::process::{root, step};

const VENV: &str = "target/venvs/cube-peers";
const MANIFEST: &str = "crates/stac-gdal-py/Cargo.toml";

/// A command in the venv, without the variables `cargo run` set for xtask
/// (see [`crate::process::cargo`]: they would make maturin's cargo rebuild
/// build scripts).
fn in_venv(program: &str) -> Command {
    let venv = root().join(VENV);
    let mut cmd = Command::new(venv.join("bin").join(program));
    cmd.current_dir(root());
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
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv.join("bin")];
    paths.extend(std::env::split_paths(&path));
    cmd.env("VIRTUAL_ENV", &venv)
        .env("PATH", std::env::join_paths(paths).unwrap_or(path));
    cmd
}

/// Build the extension and install `stac_gdal` into the venv (editable).
pub(crate) fn install() -> Result<(), String> {
    let mut m = in_venv("maturin");
    m.args(["develop", "--quiet", "-m", MANIFEST]);
    step("maturin develop (stac_gdal into venv cube-peers)", m)
}

/// The same, built in release (for `cargo xtask bench`; the next `setup`
/// installs the dev build again).
pub(crate) fn install_release() -> Result<(), String> {
    let mut m = in_venv("maturin");
    m.args(["develop", "--release", "--quiet", "-m", MANIFEST]);
    step(
        "maturin develop --release (stac_gdal, for the benchmark)",
        m,
    )
}

/// Run the pytest suite of `stac_gdal`.
pub(crate) fn test() -> Result<(), String> {
    let mut t = in_venv("python");
    t.args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "crates/stac-gdal-py/tests",
    ]);
    step("pytest crates/stac-gdal-py/tests", t)
}
