//! `cargo xtask fuzz <target|all> [--time S] [--dev]`: the cargo-fuzz targets of
//! `fuzz/`, on the stable toolchain.
//!
//! cargo-fuzz needs nightly only for sanitizers; with `--sanitizer none` the
//! libFuzzer build (SanitizerCoverage through `-Cpasses=sancov-module` and
//! `-Cllvm-args`, both stable) works on stable Rust. Debug assertions are on,
//! so integer overflows are findings. cargo-fuzz is installed with
//! `cargo install cargo-fuzz --locked` when missing.
//!
//! Seeds are derived at run time from `../shared/data` (items, their hrefs,
//! the `.parquet` files) into `fuzz/corpus/<target>` (gitignored, as are the
//! crash artifacts and run logs in `fuzz/artifacts/<target>`). All targets
//! are built by one `cargo fuzz build` into one target directory
//! (`fuzz/target`, or `$CARGO_TARGET_DIR`).

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use crate::process::{cargo, output, root, step};

/// The fuzz targets (binaries of `fuzz/Cargo.toml`): five on bytes, then
/// three structure-aware ones (the `arbitrary` crate: nested WKB, Arrow
/// schemas written to Parquet, STAC API pages with deep or huge structures).
pub(crate) const TARGETS: &[&str] = &[
    "meta",
    "href",
    "geoparquet",
    "stac_api_page",
    "vrt",
    "wkb",
    "arrow_schema",
    "page_structure",
];

/// Flags of `cargo fuzz build`: no sanitizer (stable Rust), debug assertions on.
const BUILD_FLAGS: &[&str] = &["--sanitizer", "none", "--debug-assertions"];

const USAGE: &str = "usage: cargo xtask fuzz <meta|href|geoparquet|stac_api_page|vrt|wkb|arrow_schema|page_structure|all> [--time SECONDS] [--dev]";

/// `cargo xtask fuzz ...`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut seconds = 60u64;
    let mut dev = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("--time needs a number of seconds\n{USAGE}"))?;
            }
            "--dev" => dev = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            t if target.is_none() => target = Some(t.to_owned()),
            other => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
        }
    }
    let target = target.ok_or_else(|| USAGE.to_owned())?;
    let targets: Vec<&str> = match target.as_str() {
        "all" => TARGETS.to_vec(),
        t if TARGETS.contains(&t) => vec![t],
        other => return Err(format!("unknown fuzz target {other:?}\n{USAGE}")),
    };
    fuzz(&targets, seconds, dev)
}

/// What `cargo xtask test` runs: the fuzz package formatted, then every
/// target for 30 seconds (eight targets: 4 minutes), built with `--dev` (`opt-level = 1` in
/// `fuzz/Cargo.toml`: several times quicker to build than release, which
/// matters more than speed for 30 s smoke runs).
pub(crate) fn ci() -> Result<(), String> {
    let manifest = fuzz_dir().join("Cargo.toml");
    let manifest = manifest.to_string_lossy();
    step(
        "cargo fmt --check (fuzz)",
        cargo(&["fmt", "--manifest-path", &manifest, "--check"]),
    )?;
    fuzz(TARGETS, 30, true)
}

fn fuzz(targets: &[&str], seconds: u64, dev: bool) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let fuzz_dir = fuzz_dir();
    let fuzz_dir_arg = fuzz_dir.to_string_lossy().into_owned();
    for t in targets {
        let n = write_seeds(t)?;
        eprintln!("xtask: fuzz {t}: {n} seed(s) in fuzz/corpus/{t}");
    }
    let mut build = cargo(&["fuzz", "build", "--fuzz-dir", &fuzz_dir_arg]);
    build.args(BUILD_FLAGS);
    if dev {
        build.arg("--dev");
    }
    step("cargo fuzz build (all targets)", build)?;
    let bin_dir = bin_dir(dev)?;
    let mut failed = Vec::new();
    for t in targets {
        if let Err(e) = run_target(t, seconds, &bin_dir) {
            eprintln!("xtask: fuzz {t}: {e}");
            failed.push(*t);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz target(s) failed: {}", failed.join(", ")))
    }
}

/// Where `cargo fuzz build` puts the binaries: `<target dir>/<host>/release`
/// (`debug` with `--dev`).
fn bin_dir(dev: bool) -> Result<PathBuf, String> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| fuzz_dir().join("target"), PathBuf::from);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.arg("-vV");
    let version = output(cmd)?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("rustc -vV names no host")?;
    Ok(target_dir
        .join(host.trim())
        .join(if dev { "debug" } else { "release" }))
}

/// Run one built target for `seconds` (the binary itself, so a source edit
/// meanwhile does not trigger a rebuild); its libFuzzer output goes to
/// `fuzz/artifacts/<target>/run.log` and a one-line summary to stderr.
fn run_target(target: &str, seconds: u64, bin_dir: &Path) -> Result<(), String> {
    let artifacts = fuzz_dir().join("artifacts").join(target);
    fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    let log_path = artifacts.join("run.log");
    let mut cmd = Command::new(bin_dir.join(target));
    cmd.current_dir(fuzz_dir()).args([
        fuzz_dir()
            .join("corpus")
            .join(target)
            .to_string_lossy()
            .into_owned(),
        format!("-artifact_prefix={}/", artifacts.display()),
        format!("-max_total_time={seconds}"),
        // One input may take this long before it is a finding (a hang).
        "-timeout=20".to_owned(),
        "-rss_limit_mb=2048".to_owned(),
        "-print_final_stats=1".to_owned(),
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    eprintln!(
        "xtask: ── fuzz {target} for {seconds}s (log: {})",
        log_path.display()
    );
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin_dir.join(target).display()))?;
    let mut log = String::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    let status = child.wait().map_err(|e| format!("{target}: {e}"))?;
    fs::write(&log_path, &log).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let stat = |key: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    eprintln!(
        "xtask:    fuzz {target}: {} in {:.0}s: {} executions ({}/s), {} corpus entries, peak RSS {} MB",
        if status.success() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64(),
        stat("stat::number_of_executed_units:"),
        stat("stat::average_exec_per_sec:"),
        corpus_size(target),
        stat("stat::peak_rss_mb:"),
    );
    if status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        Err(format!(
            "failed ({status}); crash input and log in {}",
            artifacts.display()
        ))
    }
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let ok = cargo(&["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    step(
        "cargo install cargo-fuzz --locked",
        cargo(&["install", "cargo-fuzz", "--locked"]),
    )
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

fn corpus_size(target: &str) -> usize {
    fs::read_dir(fuzz_dir().join("corpus").join(target)).map_or(0, |d| d.count())
}

/// `../shared/data/stac-items`, next to the repository (or under
/// `$STAC_GDAL_SHARED`); may be missing.
fn data_dir() -> PathBuf {
    stac_fixtures::locate_shared()
        .join("data")
        .join("stac-items")
}

/// Write the seeds of `target` into `fuzz/corpus/<target>` (named by a hash
/// of their content, so reruns add nothing twice). Returns the seed count.
fn write_seeds(target: &str) -> Result<usize, String> {
    let dir = fuzz_dir().join("corpus").join(target);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let items = fixture_items();
    let seeds = match target {
        "meta" => meta_seeds(&items),
        "href" => href_seeds(&items),
        "geoparquet" => geoparquet_seeds()?,
        "stac_api_page" => page_seeds(&items),
        "vrt" => vrt_seeds(&items),
        // Structure-aware: the input is decoded by `arbitrary`, so any bytes
        // are an input; a few of varied shapes start the corpus.
        "wkb" | "arrow_schema" | "page_structure" => structured_seeds(),
        other => return Err(format!("no seeds for {other}")),
    };
    for seed in &seeds {
        let path = dir.join(format!("seed-{:016x}", fnv1a(seed)));
        if !path.exists() {
            fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(seeds.len())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Every item of every JSON fixture, with the name of its file.
fn fixture_items() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(data_dir()) else {
        eprintln!(
            "xtask: fuzz: {} is missing; using the built-in seeds only",
            data_dir().display()
        );
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "json" && ext != "geojson" {
            continue;
        }
        let Some(value) = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match value.get("features").and_then(Value::as_array) {
            Some(features) => out.extend(features.iter().map(|f| (name.clone(), f.clone()))),
            None => out.push((name, value)),
        }
    }
    out
}

fn meta_seeds(items: &[(String, Value)]) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = items
        .iter()
        .map(|(_, item)| item.to_string().into_bytes())
        .collect();
    // The containers: a FeatureCollection, an array, NDJSON.
    if let [(_, a), (_, b), ..] = items {
        seeds.push(
            json!({"type": "FeatureCollection", "features": [a, b]})
                .to_string()
                .into(),
        );
        seeds.push(json!([a, b]).to_string().into());
        seeds.push(format!("{a}\n\n{b}\n").into());
    }
    let hostile = [
        r#"{"id":"nan","bbox":["NaN",0,1,1],"properties":{"datetime":"+262143-12-31T23:59:59"},"assets":{"a":{"href":"x.tif","proj:transform":[0,0,0,0,0,0],"proj:shape":[0,0]}}}"#.to_owned(),
        r#"{"id":"big","bbox":[1e308,-90,1e308,90],"properties":{"datetime":"-262144-01-01T00:00:00"},"assets":{"a":{"href":"s3://b/k.tif","proj:shape":[1e9,1e9],"proj:transform":[1e-160,0,0,0,-1e-160,0],"proj:epsg":4294967296}}}"#.to_owned(),
        r#"{"id":"e","properties":{"start_datetime":"2021-01-01","end_datetime":"1900-01-01T00:00:00z","datetime":null},"assets":{"a":{"href":"","raster:bands":[{"nodata":"-inf","data_type":"cfloat64","scale":"1e400"}],"eo:bands":[{"name":""}],"bands":[{"name":"x"}]}}}"#.to_owned(),
        format!("{}1{}", "[".repeat(200), "]".repeat(200)),
        format!(r#"{{"id":"deep","assets":{{"a":{}1{}}}}}"#, "{\"x\":".repeat(130), "}".repeat(130)),
    ];
    seeds.extend(hostile.into_iter().map(String::into_bytes));
    seeds
}

/// Every string under an `href` key, anywhere in `value`.
fn collect_hrefs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == "href" => {
                        out.insert(s.clone());
                    }
                    other => collect_hrefs(other, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_hrefs(v, out)),
        _ => {}
    }
}

fn fixture_hrefs(items: &[(String, Value)]) -> BTreeSet<String> {
    let mut hrefs = BTreeSet::new();
    for (_, item) in items {
        collect_hrefs(item, &mut hrefs);
    }
    hrefs
}

const HOSTILE_HREFS: &[&str] = &[
    "file:///etc/passwd",
    "file://host/srv/x.tif",
    "file:///C:/data/x%20y.tif",
    "file://s3://bucket/x",
    "https://user:pass@h/a.tif?sig=SECRET&token=T",
    "/vsicurl?header.Authorization=Bearer%20T&url=https%3A%2F%2Fh%2Fa.tif",
    "/vsizip//vsicurl/https://h/a.zip/b.tif",
    "abfss://fs@acct.dfs.core.windows.net/p/x.tif",
    "dods://h/x.nc",
    "NETCDF:\"/vsis3/b/x.nc\":t2m",
    "https://h/a.tar.gz/b.tif",
    "../../../../etc/passwd",
    "/data/a\u{0}b.tif",
    "https://h/a\"b<c&d]]>e'.tif",
    "s3://b/\r\nX-Injected: 1",
    "\u{feff}https://h/\u{fffe}.tif",
];

fn href_seeds(items: &[(String, Value)]) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = fixture_hrefs(items)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    seeds.extend(HOSTILE_HREFS.iter().map(|h| h.as_bytes().to_vec()));
    // Relative hrefs with a base (second line) and a media type (third).
    seeds.push(b"./B04.tif\nhttps://h/c/items/x.json\nimage/tiff; application=geotiff".to_vec());
    seeds.push(b"../B04.tif\n/data/c/x.json?token=T\napplication/x-netcdf".to_vec());
    seeds
}

fn geoparquet_seeds() -> Result<Vec<Vec<u8>>, String> {
    let mut seeds = Vec::new();
    if let Ok(entries) = fs::read_dir(data_dir()) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.iter().filter(|p| has_ext(p, "parquet")) {
            let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            // Mode byte 0: the file as is.
            let mut seed = vec![0u8];
            seed.extend_from_slice(&bytes);
            seeds.push(seed);
        }
    }
    // Mode 1: one base file per pick, a few edits (footer, truncation).
    for pick in 0..4u8 {
        seeds.push(vec![1, pick]);
        seeds.push(vec![1, pick, 1, 0x10, 0x00, 0xff, 2, 0xf0, 0xff, 0]);
    }
    Ok(seeds)
}

/// Seeds for the structure-aware targets: byte patterns that `arbitrary`
/// decodes into small, medium and deeply nested structures.
fn structured_seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        vec![0u8; 64],
        vec![0xff; 64],
        (0..=255u8).collect::<Vec<_>>(),
    ];
    // Repeating patterns: lists of the same variant, nesting.
    for step in [3u8, 7, 13, 29] {
        seeds.push((0..512u32).map(|i| (i as u8).wrapping_mul(step)).collect());
    }
    seeds
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some(ext)
}

fn page_seeds(items: &[(String, Value)]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let with_mode = |mode: u8, page: &Value| {
        let mut seed = vec![mode];
        seed.extend(page.to_string().into_bytes());
        seed
    };
    for pair in items.chunks(2).take(12) {
        let features: Vec<&Value> = pair.iter().map(|(_, v)| v).collect();
        seeds.push(with_mode(
            0,
            &json!({"type": "FeatureCollection", "features": features,
                "links": [{"rel": "next", "href": "?page=2&token=abc"}]}),
        ));
    }
    let page = |links: Value| json!({"type": "FeatureCollection", "features": [{"id": "a"}], "links": links});
    for (mode, links) in [
        (
            1,
            json!([{"rel": "next", "href": "search", "method": "POST", "merge": true,
            "body": {"token": "t2"}, "headers": {"X-Page": ["2", 3]}}]),
        ),
        (
            1,
            json!([{"rel": "next", "href": "https://other.example/search", "method": "POST", "body": {"next": "x"}}]),
        ),
        (
            0,
            json!([{"rel": "next", "href": "http://[::1", "method": "get"}]),
        ),
        (
            0,
            json!([{"rel": "next", "href": "/s", "method": "DELETE"}]),
        ),
        (2, json!([{"rel": "self", "href": "x"}, {"rel": "next"}])),
        (3, json!({"rel": "next"})),
    ] {
        seeds.push(with_mode(mode, &page(links)));
    }
    seeds.push(b"\x00<html><body>502 Bad Gateway</body></html>".to_vec());
    seeds.push(b"\x01{\"features\": [1, {\"id\": \"\xff\xfe\"}]}".to_vec());
    seeds
}

/// An item id, an asset href and a band name.
type Source = (String, String, String);

/// The vrt target's input: 16 control bytes, then `id\nhref\nband` lines.
fn vrt_seeds(items: &[(String, Value)]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut by_file: Vec<(&str, Vec<Source>)> = Vec::new();
    for (file, item) in items {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("x")
            .to_owned();
        let Some(assets) = item.get("assets").and_then(Value::as_object) else {
            continue;
        };
        for asset in assets.values().take(2) {
            let href = asset
                .get("href")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let band = asset
                .get("eo:bands")
                .and_then(|b| b.get(0))
                .and_then(|b| b.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("B1")
                .to_owned();
            match by_file.iter_mut().find(|(f, _)| *f == file.as_str()) {
                Some((_, list)) => list.push((id.clone(), href, band)),
                None => by_file.push((file.as_str(), vec![(id.clone(), href, band)])),
            }
        }
    }
    let controls: [[u8; 16]; 4] = [
        [
            1, 0, 0, 0, 1, 1, 0, 1, 100, 101, 102, 103, 104, 105, 106, 107,
        ],
        [
            2,
            0b0000_1011,
            0b0101_0100,
            2,
            2,
            2,
            1,
            2,
            128,
            129,
            200,
            50,
            0,
            255,
            7,
            9,
        ],
        [
            3,
            0b0101_0001,
            0b1110_0100,
            9,
            3,
            7,
            3,
            4,
            10,
            20,
            30,
            40,
            50,
            60,
            70,
            80,
        ],
        [
            5,
            0b1011_1000,
            0b0001_1011,
            1,
            1,
            2,
            4,
            5,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
        ],
    ];
    for (k, (_, list)) in by_file.iter().enumerate() {
        let mut seed = controls[k % controls.len()].to_vec();
        for (id, href, band) in list.iter().take(4) {
            seed.extend(format!("{id}\n{href}\n{band}\n").into_bytes());
        }
        seeds.push(seed);
    }
    for (k, href) in HOSTILE_HREFS.iter().enumerate() {
        let mut seed = controls[k % controls.len()].to_vec();
        seed.extend(format!("id<&\"{k}\u{0}\n{href}\nband]]>\u{7}\n").into_bytes());
        seeds.push(seed);
    }
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_named_by_content() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }

    #[test]
    fn hostile_seeds_exist_without_fixtures() {
        assert!(href_seeds(&[]).len() >= HOSTILE_HREFS.len());
        assert!(vrt_seeds(&[]).len() >= HOSTILE_HREFS.len());
        assert!(meta_seeds(&[]).len() >= 5);
    }
}
