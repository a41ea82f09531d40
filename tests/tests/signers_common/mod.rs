//! Helpers shared by the signer end-to-end tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Write a small COG (256×256 Byte, 128-px tiles, DEFLATE, EPSG:32633) with
/// `gdal_translate`, returning its path. Panics with "run `cargo xtask setup`"
/// when GDAL's tools are missing.
pub(crate) fn make_cog(dir: &Path) -> PathBuf {
    let raw = dir.join("noise.raw");
    let data: Vec<u8> = (0..256u32 * 256)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&raw, data).unwrap();
    std::fs::write(
        dir.join("noise.hdr"),
        "ENVI\nsamples = 256\nlines = 256\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\ndata type = 1\ninterleave = bsq\nbyte order = 0\n",
    )
    .unwrap();
    let cog = dir.join("cog.tif");
    let status = Command::new("gdal_translate")
        .args([
            "-q",
            "-of",
            "COG",
            "-co",
            "BLOCKSIZE=128",
            "-co",
            "COMPRESS=DEFLATE",
        ])
        .args([
            "-a_srs",
            "EPSG:32633",
            "-a_ullr",
            "500000",
            "4600000",
            "502560",
            "4597440",
        ])
        .arg(&raw)
        .arg(&cog)
        .status()
        .unwrap_or_else(|e| panic!("gdal_translate not runnable ({e}): run `cargo xtask setup`"));
    assert!(status.success(), "gdal_translate failed");
    cog
}

/// `gdalinfo -checksum <path>` with exactly `env` added (inherited `AWS_*`
/// and `GDAL_HTTP_*` variables removed): (success, checksum if printed, stderr).
pub(crate) fn gdal_checksum(path: &str, env: &[(String, String)]) -> (bool, Option<u64>, String) {
    let mut cmd = Command::new("gdalinfo");
    cmd.args(["-checksum", path]);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("GDAL_HTTP") || k.starts_with("CPL_") {
            cmd.env_remove(k);
        }
    }
    // No GDAL caches between runs of the same URL.
    cmd.env("CPL_VSIL_CURL_NON_CACHED", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("gdalinfo not runnable ({e}): run `cargo xtask setup`"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let checksum = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Checksum="))
        .and_then(|c| c.parse().ok());
    (
        out.status.success(),
        checksum,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A ureq agent that reports HTTP errors as responses.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Send a request; (status, body).
pub(crate) fn send(request: http::Request<Vec<u8>>) -> (u16, Vec<u8>) {
    let mut resp = agent().run(request).expect("HTTP exchange");
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(10 << 20)
        .read_to_vec()
        .unwrap();
    (status, body)
}

/// An env as owned pairs.
pub(crate) fn env_pairs(env: &stac_signers::GdalEnv) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A temp dir with a COG served by nginx (bearer/sig token `token`), and the
/// COG's local checksum.
pub(crate) fn nginx_with_cog(
    token: &str,
) -> (tempfile::TempDir, stac_gdal_e2e::nginx::Nginx, Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let cog = make_cog(dir.path());
    let (ok, checksum, err) = gdal_checksum(cog.to_str().unwrap(), &[]);
    assert!(ok && checksum.is_some(), "local gdalinfo failed: {err}");
    let server = stac_gdal_e2e::nginx::Nginx::start(dir.path(), token);
    (dir, server, checksum)
}

/// GDAL options that keep `/vsicurl/` from probing sidecar files.
pub(crate) fn no_probe() -> (String, String) {
    (
        "GDAL_DISABLE_READDIR_ON_OPEN".to_owned(),
        "EMPTY_DIR".to_owned(),
    )
}
