//! The second GDAL: build and run the GDAL-facing tests against libgdal 3.12
//! (`cargo xtask test` runs this after the main suite; `cargo xtask gdal-3.12`
//! runs it alone).
//!
//! Every other test runs on Debian's GDAL 3.6.2; most users run 3.8–3.12, and
//! the source layer branches on the version (`/vsicurl?header.X=` and the
//! newer HTTP timeout options exist only from 3.7). The PyPI package
//! `gdal-wheel` ships a complete libgdal 3.12 (its dependencies under
//! hash-suffixed sonames in `gdal_wheel.libs/`, with an RPATH of `$ORIGIN`)
//! and its data files (GDAL data, `proj.db`); gdal-sys 0.12 has prebuilt
//! bindings for 3.12, so no C header is needed. This module:
//!
//! 1. downloads the wheel once into `target/gdal-3.12/download/`, pinned by
//!    version and sha256 (from PyPI's JSON), and unpacks it into
//!    `target/gdal-3.12/wheel-<version>/`;
//! 2. puts a `libgdal.so` symlink beside the hashed library, for the linker;
//! 3. builds in its own target dir, `target/gdal-3.12/` (a different gdal-sys
//!    configuration would otherwise invalidate the main build), with
//!    `GDAL_VERSION` (picks the prebuilt bindings; pkg-config would report
//!    the system's 3.6), `GDAL_LIB_DIR`, an rpath to the wheel's libraries
//!    (so the test binaries load 3.12 and child processes such as the
//!    system's `gdal_translate` keep their own 3.6), `GDAL_DATA`/`PROJ_DATA`
//!    of the wheel, and, to keep CI cheap, dependencies at `opt-level` 0, no
//!    debug info and no incremental state ([`CONFIG`], [`Env`]);
//! 4. runs the unit, integration and doc tests of [`CRATES`], the CLI's
//!    GDAL tests ([`CLI_TESTS`], which also build the `stac-gdal` binary the
//!    e2e tests run) and the e2e targets of [`E2E_TESTS`], with
//!    `STAC_GDAL_EXPECT_GDAL` set, which the
//!    `gdal_version` e2e test checks against the running library (and
//!    prints, with its drivers);
//! 5. runs each of [`EXPECTED_FAILURES`] alone and requires that it fails.
//!
//! Versions that legitimately behave differently are handled in the tests
//! themselves (they ask GDAL for its version), not here.
//!
//! Only x86_64 Linux has the wheel; elsewhere the step is skipped with a note.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{cargo, output, root, step};

/// The pinned wheel.
struct Wheel {
    /// The GDAL (and wheel) version.
    version: &'static str,
    /// The file name on PyPI.
    file: &'static str,
    /// Its sha256, from PyPI's JSON (`releases[version][].digests.sha256`).
    sha256: &'static str,
    /// Its PyPI URL; `pip download` (which honours the user's pip mirrors) is the fallback.
    url: &'static str,
}

const WHEEL: Wheel = Wheel {
    version: "3.12.4",
    file: "gdal_wheel-3.12.4-cp312-cp312-manylinux_2_28_x86_64.whl",
    sha256: "6eb16fcf85dd2a909e7820c713b124148a5913d25f0b5b7b86e7a39fc3d3bdcf",
    url: "https://files.pythonhosted.org/packages/38/80/\
          6dd3be885f8064278550f195d0a73eddc4973a87ac5b9d607a4cddfa7c1a/\
          gdal_wheel-3.12.4-cp312-cp312-manylinux_2_28_x86_64.whl",
};

/// Crates whose whole test suites (`--all-features`: unit, integration and
/// doc tests) run against the second GDAL.
pub(crate) const CRATES: &[&str] = &["stac-raster", "stac-vrt", "stac-cube"];

/// The CLI package, and its tests that read rasters through GDAL (`cube`,
/// `vrt`, `item`). Building them also builds the `stac-gdal` binary the e2e
/// tests run (`STAC_GDAL_BIN`), with the same features as everything else.
const CLI_PACKAGE: &str = "stac-gdal-cli";
const CLI_TESTS: &[&str] = &["cube_cli", "item_cli", "vrt_cli"];

/// Targets of the e2e package (`tests/tests/<name>.rs`) that run against the
/// second GDAL. A name whose file does not exist (yet) is skipped with a
/// note, so the list can name tests that other branches are adding.
pub(crate) const E2E_TESTS: &[&str] = &[
    // Checks (and prints) that the tests really run against the wheel's GDAL.
    "gdal_version",
    // Which version branch of the source layer runs, over real HTTP.
    "gdal_branches",
    // GDAL over HTTP (nginx): range reads, bearer and SAS signers.
    "raster_http",
    "vrt_http",
    // The trust boundary (issue 13).
    "scoping_gdal",
    "hostile_hrefs",
];

/// The e2e package.
const E2E_PACKAGE: &str = "stac-gdal-e2e";

/// A test that fails against the wheel's GDAL for a stated reason. The main
/// run skips it; then it runs alone and must fail, so an entry that starts
/// passing (a fixed bug, a wheel with the driver) stops the step until it
/// is removed from [`EXPECTED_FAILURES`].
struct ExpectedFailure {
    /// The test's target (`tests/<target>.rs` of one of [`CRATES`]).
    target: &'static str,
    /// The test function's name.
    test: &'static str,
    /// Why it fails here.
    reason: &'static str,
}

const EXPECTED_FAILURES: &[ExpectedFailure] = &[
    ExpectedFailure {
        target: "load",
        test: "grib2_written_by_gdal",
        reason: "the wheel's GDAL is built without the GRIB driver",
    },
    ExpectedFailure {
        target: "load",
        test: "zarr_store_written_by_gdal",
        reason: "the wheel's GDAL is built without the Zarr driver",
    },
];

/// `cargo xtask gdal-3.12`: this step alone (after `setup`).
pub(crate) fn run() -> Result<(), String> {
    crate::setup::prepare()?;
    ci()
}

/// The step of `cargo xtask test`.
pub(crate) fn ci() -> Result<(), String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        eprintln!(
            "xtask: note: the gdal-wheel {} step needs x86_64 Linux (the only manylinux \
             wheel); skipped on this machine",
            WHEEL.version
        );
        return Ok(());
    }
    let env = Env::new(&ensure_wheel()?);
    let gdal = format!("GDAL {}", WHEEL.version);

    // One package set for every test command, so features resolve the same
    // way each time and nothing is built twice.
    let mut packages: Vec<&str> = CRATES.to_vec();
    packages.extend([CLI_PACKAGE, E2E_PACKAGE]);
    let with_packages = |args: &[&str]| {
        let mut cmd = env.cargo(args);
        for p in &packages {
            cmd.args(["-p", p]);
        }
        cmd.arg("--all-features");
        cmd
    };

    // Targets: the crates' libs and integration tests, and the e2e targets that exist.
    let mut targets: Vec<String> = vec!["--lib".into()];
    for t in crate_test_targets()? {
        targets.extend(["--test".into(), t]);
    }
    for t in CLI_TESTS {
        targets.extend(["--test".into(), (*t).into()]);
    }
    let mut e2e_sources = String::new();
    for name in E2E_TESTS {
        let file = root().join("tests/tests").join(format!("{name}.rs"));
        if let Ok(text) = std::fs::read_to_string(&file) {
            targets.extend(["--test".into(), (*name).into()]);
            e2e_sources.push_str(&text);
        } else {
            eprintln!(
                "xtask: note: e2e test {name:?} (tests/tests/{name}.rs) does not exist yet; \
                 not run against {gdal}"
            );
        }
    }
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();

    let mut build = with_packages(&["test", "--no-run"]);
    build.args(&targets);
    step(
        &format!("build the tests against {gdal} (target/gdal-3.12)"),
        build,
    )?;
    // Examples the e2e tests run, built here with this step's settings (a
    // build the test helper started itself would lack `--config` and
    // rebuild every dependency).
    if e2e_sources.contains("facade_example_bin(") {
        step(
            &format!("build the stac-gdal examples against {gdal}"),
            env.cargo(&["build", "-p", "stac-gdal", "--examples", "--all-features"]),
        )?;
    }

    // Which GDAL the tests run against, in the log (and a wrong one fails here).
    let mut version = with_packages(&["test", "--test", "gdal_version"]);
    version.args(["--", "--show-output"]);
    step(&format!("check that the tests run against {gdal}"), version)?;

    let mut tests = with_packages(&["test", "--no-fail-fast"]);
    tests.args(&targets).args(["--", "--exact"]);
    for f in EXPECTED_FAILURES {
        tests.args(["--skip", f.test]);
    }
    let tests = step(
        &format!("cargo test {} + CLI + e2e against {gdal}", CRATES.join(" ")),
        tests,
    );
    let doc = step(
        &format!("doctests of {} against {gdal}", CRATES.join(" ")),
        with_packages(&["test", "--doc", "--no-fail-fast"]),
    );
    let expected = expected_failures(&with_packages, &gdal);
    tests.and(doc).and(expected)
}

/// The integration-test targets of [`CRATES`] (from `cargo metadata`).
fn crate_test_targets() -> Result<Vec<String>, String> {
    let meta = output(cargo(&["metadata", "--no-deps", "--format-version", "1"]))?;
    let meta: serde_json::Value =
        serde_json::from_str(&meta).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut names = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        if !CRATES.contains(&package["name"].as_str().unwrap_or_default()) {
            continue;
        }
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_test = target["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "test"));
            if let (true, Some(name)) = (is_test, target["name"].as_str()) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
    }
    if names.is_empty() {
        return Err(format!("cargo metadata lists no test target of {CRATES:?}"));
    }
    Ok(names)
}

/// Run each of [`EXPECTED_FAILURES`] alone and require that it fails.
fn expected_failures(with_packages: &dyn Fn(&[&str]) -> Command, gdal: &str) -> Result<(), String> {
    if EXPECTED_FAILURES.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: ── tests expected to fail against {gdal}");
    let mut wrong = Vec::new();
    for f in EXPECTED_FAILURES {
        let mut cmd = with_packages(&["test", "--test", f.target]);
        cmd.args(["--", "--exact", f.test]);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run cargo test: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let failed = stdout.contains(&format!("test {} ... FAILED", f.test));
        if failed {
            eprintln!("xtask:    {} fails as expected: {}", f.test, f.reason);
        } else {
            eprintln!(
                "{stdout}{}\nxtask:    {} did not fail against {gdal}: if it passes now, \
                 remove it from EXPECTED_FAILURES in xtask/src/gdal_wheel.rs",
                String::from_utf8_lossy(&out.stderr),
                f.test
            );
            wrong.push(f.test);
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected failures that did not fail: {}",
            wrong.join(", ")
        ))
    }
}

/// The settings of every cargo command of this step.
struct Env {
    vars: Vec<(&'static str, String)>,
}

/// Dependencies at `opt-level` 0 (the workspace's dev profile has 1): this
/// build exists to run tests once, and optimising the dependencies more than
/// doubled the CPU of the whole cold step (563 s against 238 s, measured on
/// the 2-core machine) for a few seconds of test time.
const CONFIG: &str = "profile.dev.package.\"*\".opt-level=0";

impl Env {
    fn new(wheel: &WheelDirs) -> Self {
        let lib = wheel.lib.to_string_lossy().into_owned();
        let rpath = format!("-C link-arg=-Wl,-rpath,{lib}");
        let target = target_dir();
        Self {
            vars: vec![
                ("CARGO_TARGET_DIR", target.to_string_lossy().into_owned()),
                // gdal-sys: link `-lgdal` from here, with the 3.12 prebuilt
                // bindings (GDAL_VERSION wins over pkg-config's system 3.6,
                // which gdal-sys still probes, but only for its version).
                ("GDAL_LIB_DIR", lib),
                ("GDAL_VERSION", WHEEL.version.to_owned()),
                // The test binaries (and doctests) find the wheel's libgdal,
                // and it finds its dependencies through its own `$ORIGIN`
                // RPATH; children do not inherit an rpath, so the system's
                // GDAL tools the tests run keep their 3.6.
                ("RUSTFLAGS", rpath.clone()),
                ("RUSTDOCFLAGS", rpath),
                ("GDAL_DATA", wheel.gdal_data.to_string_lossy().into_owned()),
                ("PROJ_DATA", wheel.proj_data.to_string_lossy().into_owned()),
                ("PROJ_LIB", wheel.proj_data.to_string_lossy().into_owned()),
                // Smaller objects and faster links for a build nobody debugs
                // in; no incremental state for a build that is mostly cold.
                ("CARGO_PROFILE_DEV_DEBUG", "0".to_owned()),
                ("CARGO_INCREMENTAL", "0".to_owned()),
                // The e2e helpers run the CLI built for this GDAL.
                (
                    "STAC_GDAL_BIN",
                    target
                        .join("debug")
                        .join("stac-gdal")
                        .to_string_lossy()
                        .into_owned(),
                ),
                ("STAC_GDAL_EXPECT_GDAL", WHEEL.version.to_owned()),
            ],
        }
    }

    /// `cargo <args> --config <CONFIG>` with this step's environment.
    fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = cargo(args);
        cmd.args(["--config", CONFIG]);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }
}

/// `target/gdal-3.12`: the cargo target dir of this step, and the wheel's cache.
fn target_dir() -> PathBuf {
    let minor = WHEEL
        .version
        .rsplit_once('.')
        .map_or(WHEEL.version, |(v, _)| v);
    root().join("target").join(format!("gdal-{minor}"))
}

/// Where the unpacked wheel keeps what the build and the tests need.
struct WheelDirs {
    /// `gdal_wheel.libs/`, with the `libgdal.so` symlink.
    lib: PathBuf,
    /// `osgeo/data/gdal`.
    gdal_data: PathBuf,
    /// `osgeo/data/proj` (holds `proj.db`).
    proj_data: PathBuf,
}

/// Download (once), verify and unpack the wheel; returns its directories.
fn ensure_wheel() -> Result<WheelDirs, String> {
    let base = target_dir();
    let unpacked = base.join(format!("wheel-{}", WHEEL.version));
    let marker = unpacked.join(".xtask-sha256");
    if std::fs::read_to_string(&marker).map_or(true, |s| s.trim() != WHEEL.sha256) {
        let wheel = download(&base.join("download"))?;
        unpack(&wheel, &unpacked)?;
        std::fs::write(&marker, WHEEL.sha256)
            .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    }
    let dirs = WheelDirs {
        lib: unpacked.join("gdal_wheel.libs"),
        gdal_data: unpacked.join("osgeo/data/gdal"),
        proj_data: unpacked.join("osgeo/data/proj"),
    };
    link_libgdal(&dirs.lib)?;
    for (what, dir) in [
        ("GDAL data", &dirs.gdal_data),
        ("PROJ data", &dirs.proj_data),
    ] {
        if !dir.is_dir() {
            return Err(format!("the wheel has no {what} at {}", dir.display()));
        }
    }
    if !dirs.proj_data.join("proj.db").is_file() {
        return Err(format!("no proj.db in {}", dirs.proj_data.display()));
    }
    Ok(dirs)
}

/// The wheel file in `dir`, downloaded and checked against the pinned sha256.
fn download(dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(WHEEL.file);
    if path.is_file() && sha256(&path)? == WHEEL.sha256 {
        return Ok(path);
    }
    let part = dir.join(format!("{}.part", WHEEL.file));
    let _ = std::fs::remove_file(&part);
    let mut curl = Command::new("curl");
    curl.args([
        "-fsSL",
        "--retry",
        "3",
        "--connect-timeout",
        "30",
        "--max-time",
        "600",
        "-o",
    ])
    .arg(&part)
    .arg(WHEEL.url);
    let fetched = step(&format!("download {}", WHEEL.file), curl).is_ok()
        && std::fs::rename(&part, &path).is_ok();
    if !fetched {
        // pip knows the user's index and mirrors.
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args([
            "--python-version",
            "3.12",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .arg(format!("gdal-wheel=={}", WHEEL.version))
        .arg("-d")
        .arg(dir);
        step(&format!("pip download gdal-wheel=={}", WHEEL.version), pip)?;
    }
    let got = sha256(&path)?;
    if got != WHEEL.sha256 {
        let _ = std::fs::remove_file(&path);
        return Err(format!(
            "{}: sha256 {got}, expected {} (pinned from PyPI); the download was removed",
            WHEEL.file, WHEEL.sha256
        ));
    }
    Ok(path)
}

/// Unpack `wheel` (a zip) into `dest`, replacing it; through a sibling temp
/// dir, so an interrupted unpack never looks complete.
fn unpack(wheel: &Path, dest: &Path) -> Result<(), String> {
    let tmp = dest.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let mut unzip = Command::new("python3");
    unzip.args(["-m", "zipfile", "-e"]).arg(wheel).arg(&tmp);
    step(&format!("unpack {}", WHEEL.file), unzip)?;
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&tmp, dest)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), dest.display()))
}

/// `lib/libgdal.so` → the hash-suffixed `libgdal-<hash>.so.<abi>.<version>`.
fn link_libgdal(lib: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(lib).map_err(|e| format!("cannot list {}: {e}", lib.display()))?;
    let real: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("libgdal-") && n.contains(".so."))
        .collect();
    let [real] = real.as_slice() else {
        return Err(format!(
            "expected one libgdal-<hash>.so.* in {}, found {real:?}",
            lib.display()
        ));
    };
    let link = lib.join("libgdal.so");
    if std::fs::read_link(&link).is_ok_and(|t| t == Path::new(real)) {
        return Ok(());
    }
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(real, &link);
    #[cfg(not(unix))]
    let linked = std::fs::copy(lib.join(real), &link).map(drop);
    linked.map_err(|e| format!("cannot link {} -> {real}: {e}", link.display()))
}

/// The sha256 of a file, in lowercase hex (coreutils' `sha256sum`).
fn sha256(path: &Path) -> Result<String, String> {
    let mut cmd = Command::new("sha256sum");
    cmd.arg(path);
    let out = output(cmd)?;
    out.split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| format!("sha256sum printed nothing for {}", path.display()))
}
