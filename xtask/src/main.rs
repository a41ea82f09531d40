//! `cargo xtask`: the project's automation, in Rust (rust-analyzer style).
//!
//! - `setup`: make a fresh machine ready (system packages, Python venvs,
//!   the `stac_gdal` Python package built into venv `cube-peers`).
//! - `test`: setup, fmt, clippy, the whole test suite, the `stac_gdal`
//!   pytest suite, docs, invariants.
//! - `tour`: run the offline tour example (the seed notebook in Rust).
//! - `bench`: criterion benches and side-by-side peer runs → docs/benchmarks.md.
//! - `package`: crate metadata complete and `cargo package` accepts every
//!   publishable crate (no upload; also a step of `test`).
//! - `fuzz`: the cargo-fuzz targets of `fuzz/` (`fuzz <target|all> --time S`).
//! - `gdal-3.12`: the GDAL-facing tests against libgdal 3.12 from the
//!   `gdal-wheel` PyPI wheel (also a step of `test`).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::ExitCode;

mod bench;
mod bench_client;
mod bench_cube;
mod bench_cube_e2e;
mod bench_geoparquet;
mod bench_latency;
mod bench_python;
mod bench_vrt;
mod bench_zarr;
mod fuzz;
mod gdal_wheel;
mod invariants;
mod package;
mod process;
mod python_pkg;
mod setup;

const USAGE: &str = "usage: cargo xtask <setup|test|tour|bench|invariants|package|fuzz|gdal-3.12>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("test") => test(),
        Some("tour") => tour(),
        Some("bench") => bench::run(&args[1..]),
        Some("invariants") => invariants::run(),
        Some("package") => package::run(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("gdal-3.12") => gdal_wheel::run(),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Everything CI checks, in the order that fails fastest; the fuzz targets last.
fn test() -> Result<(), String> {
    setup::prepare()?;
    process::step(
        "cargo fmt --check",
        process::cargo(&["fmt", "--all", "--check"]),
    )?;
    process::step(
        "cargo clippy",
        process::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    invariants::run()?;
    package::run()?;
    process::step(
        "cargo test",
        process::cargo(&["test", "--workspace", "--all-features", "--no-fail-fast"]),
    )?;
    // `--all-features` turns stac-signers' `network` on everywhere; its offline
    // behaviour (what a default-features user gets) is tested on its own.
    process::step(
        "cargo test -p stac-signers (without `network`)",
        process::cargo(&["test", "-p", "stac-signers", "--test", "without_network"]),
    )?;
    // The Python package: built now (reusing what `cargo test` compiled),
    // installed into venv cube-peers, and its pytest suite.
    python_pkg::install()?;
    python_pkg::test()?;
    // The GDAL-facing tests again, against libgdal 3.12 (its own target dir).
    gdal_wheel::ci()?;
    let mut doc = process::cargo(&["doc", "--workspace", "--all-features", "--no-deps"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    process::step("cargo doc (no warnings)", doc)?;
    // Last: every fuzz target for 30 s (docs/reliability.md).
    fuzz::ci()?;
    Ok(())
}

/// Run the offline tour: the seed notebook's cells, in Rust, on generated data.
fn tour() -> Result<(), String> {
    setup::prepare()?;
    process::step(
        "offline tour",
        process::cargo(&[
            "run",
            "--quiet",
            "--package",
            "stac-gdal",
            "--example",
            "offline_tour",
        ]),
    )
}
