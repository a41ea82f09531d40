//! `cargo xtask bench latency` — the cube benchmark over HTTP with
//! object-storage latency: the cube benchmark's COGs (24 scenes x 3 bands,
//! `xtask/peers/cube/generate.py`) served by a real nginx on 127.0.0.1 that
//! answers every request after a fixed delay
//! (`stac_gdal_e2e::latency_nginx`), at 0, 20 and 60 ms; the time stack and
//! the solar-day mosaic; stac-gdal with its defaults and with explicit
//! `--io-concurrency` / `--threads`, odc-stac `load(chunks=None, pool=N)` after
//! `configure_rio(cloud_defaults=True)`, and stackstac with N dask threads.
//!
//! For every run it records the seconds (measured inside the process around
//! the load, as in the local cube benchmark), the peak RSS (`/usr/bin/time`),
//! and, from nginx's access log, what the run asked of the server: requests
//! (HEAD / GET, header re-reads), MB fetched, mean and peak requests in
//! flight, `Upgrade: h2c` and missing `User-Agent`s. The delay itself is
//! checked from the client side (time to first byte). Every cube's
//! checksums are compared with odc-stac's. The latency floor of a setting is
//! its requests ÷ its concurrency × the latency plus its own time at 0 ms
//! (decode, fusion and loopback transfer).
//!
//! Options (after `latency`): `--latencies 0,20,60`, `--cases stack,mosaic`,
//! `--runs 3`, and `--variants FILE` to compare other stac-gdal builds or
//! settings instead of the standard contenders: a JSON array of
//! `{"name": ..., "bin": path (default: the release stac-gdal), "args": [...],
//! "env": {...}, "concurrency": n, "stats_file": path}` (a JSON file the
//! run writes, kept with its raw results); add `--peers` to run odc-stac and
//! stackstac too. With `--variants`, the report goes to
//! `target/bench-latency/<variants file stem>.md` (and `.json`) instead of
//! docs/benchmarks.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use stac_gdal_e2e::latency_nginx::{DelayedNginx, Traffic};

use crate::bench_cube::{ASSETS, ensure_data, loadavg, measured, venv_python};
use crate::process::{cargo, output, root, step};

/// Runs per contender, case and latency (interleaved; the median is reported).
const RUNS: usize = 3;
const LATENCIES_MS: &[u64] = &[0, 20, 60];
/// odc-stac pool sizes, stackstac dask threads, and stac-gdal `--threads`.
const PEER_CONCURRENCY: &[usize] = &[2, 16, 64];
/// stac-gdal `--io-concurrency` settings besides its default (0: the
/// reader threads read remote files themselves, as before issue 20), and
/// `--threads` with that old path.
const OUR_IO_CONCURRENCY: &[usize] = &[0, 4, 64];
const OUR_THREADS: &[usize] = &[16];
/// stac-gdal's default I/O concurrency for remote files (the floor's divisor).
const OUR_DEFAULT_IO_CONCURRENCY: usize = 32;
/// Targets of issue 20.
const TARGET_DEFAULT_VS_BEST: f64 = 1.25;
const TARGET_VS_ODC: f64 = 2.0;
const TARGET_VS_FLOOR: f64 = 2.0;

struct Case {
    name: &'static str,
    what: &'static str,
    groupby: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "stack",
        what: "time stack, 24 scenes of one tile",
        groupby: None,
    },
    Case {
        name: "mosaic",
        what: "solar-day mosaic, 12 days x 2 overlapping tiles",
        groupby: Some("solar_day"),
    },
];

#[derive(Clone, Debug)]
enum Kind {
    Ours {
        bin: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    Odc,
    Stackstac,
}

/// One tool with one setting.
#[derive(Clone, Debug)]
struct Contender {
    name: String,
    kind: Kind,
    /// Threads / pool size / concurrency the setting asks for (the floor's divisor).
    concurrency: usize,
    /// stac-gdal with no flag.
    default: bool,
    /// A JSON file the run writes (variants only), kept with the sample.
    stats_file: Option<PathBuf>,
}

/// One measured run.
#[derive(Clone, Debug)]
struct Sample {
    seconds: f64,
    rss_kb: u64,
    traffic: Traffic,
    /// shape, geotransform, band_sums, plane_checksum.
    cube: Value,
    /// stac-gdal's whole JSON summary (phase 2 adds I/O counters to it).
    summary: Value,
}

struct Options {
    latencies: Vec<u64>,
    cases: Vec<&'static Case>,
    runs: usize,
    variants: Option<PathBuf>,
    peers: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        latencies: LATENCIES_MS.to_vec(),
        cases: CASES.iter().collect(),
        runs: RUNS,
        variants: None,
        peers: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--latencies" => {
                o.latencies = value()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse()
                            .map_err(|e| format!("--latencies {s:?}: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--cases" => {
                let v = value()?;
                o.cases = v
                    .split(',')
                    .map(|s| {
                        CASES
                            .iter()
                            .find(|c| c.name == s.trim())
                            .ok_or_else(|| format!("--cases: unknown case {s:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => {
                o.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?;
                o.runs = o.runs.max(1);
            }
            "--variants" => {
                o.variants = Some(PathBuf::from(value()?));
                o.peers = false;
            }
            "--peers" => o.peers = true,
            other => return Err(format!("bench latency: unknown option {other:?}")),
        }
    }
    if o.variants.is_some() && args.iter().any(|a| a == "--peers") {
        o.peers = true;
    }
    Ok(o)
}

fn standard_contenders(ours_bin: &Path, cores: usize) -> Vec<Contender> {
    let ours = |name: String, args: &[String], concurrency: usize, default: bool| Contender {
        name,
        kind: Kind::Ours {
            bin: ours_bin.to_owned(),
            args: args.to_vec(),
            env: Vec::new(),
        },
        concurrency,
        default,
        stats_file: None,
    };
    let mut v = vec![ours(
        "stac-gdal (no flags)".into(),
        &[],
        OUR_DEFAULT_IO_CONCURRENCY,
        true,
    )];
    for &n in OUR_IO_CONCURRENCY {
        let args = ["--io-concurrency".to_owned(), n.to_string()];
        v.push(ours(
            format!("stac-gdal --io-concurrency {n}"),
            &args,
            if n == 0 { cores } else { n },
            false,
        ));
    }
    for &n in OUR_THREADS {
        let args = [
            "--io-concurrency".to_owned(),
            "0".to_owned(),
            "--threads".to_owned(),
            n.to_string(),
        ];
        v.push(ours(
            format!("stac-gdal --io-concurrency 0 --threads {n}"),
            &args,
            n,
            false,
        ));
    }
    v
}

fn peer_contenders() -> Vec<Contender> {
    let mut v = Vec::new();
    for &n in PEER_CONCURRENCY {
        v.push(Contender {
            name: format!("odc-stac pool={n}"),
            kind: Kind::Odc,
            concurrency: n,
            default: false,
            stats_file: None,
        });
    }
    for &n in PEER_CONCURRENCY {
        v.push(Contender {
            name: format!("stackstac {n} threads"),
            kind: Kind::Stackstac,
            concurrency: n,
            default: false,
            stats_file: None,
        });
    }
    v
}

fn variant_contenders(
    file: &Path,
    ours_bin: &Path,
    cores: usize,
) -> Result<Vec<Contender>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let list: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    list.iter()
        .map(|v| {
            let name = v["name"]
                .as_str()
                .ok_or_else(|| format!("{}: a variant without a name", file.display()))?;
            let bin = v["bin"]
                .as_str()
                .map(|b| root().join(b))
                .unwrap_or_else(|| ours_bin.to_owned());
            let args: Vec<String> = v["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            let env: Vec<(String, String)> = v["env"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect();
            let threads = args
                .iter()
                .position(|a| a == "--threads")
                .and_then(|i| args.get(i + 1))
                .and_then(|n| n.parse().ok());
            Ok(Contender {
                name: name.to_owned(),
                concurrency: v["concurrency"]
                    .as_u64()
                    .map(|n| n as usize)
                    .or(threads)
                    .unwrap_or(cores),
                default: args.is_empty() && env.is_empty() && v["bin"].is_null(),
                stats_file: v["stats_file"].as_str().map(PathBuf::from),
                kind: Kind::Ours { bin, args, env },
            })
        })
        .collect()
}

/// Items whose hrefs point at `base` (the served directory) instead of `dir`.
fn http_items(dir: &Path, case: &Case, base: &str) -> Result<PathBuf, String> {
    let src = dir.join(format!("{}.json", case.name));
    let text = std::fs::read_to_string(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut items: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", src.display()))?;
    let prefix = format!("{}/", dir.display());
    for f in items["features"].as_array_mut().into_iter().flatten() {
        for (_, a) in f["assets"].as_object_mut().into_iter().flatten() {
            let Some(h) = a["href"].as_str() else {
                continue;
            };
            // The files sit at `<dir>/<case>/<name>`; a data folder copied
            // from another checkout (a worktree's warm target) keeps the
            // other folder in its hrefs: match on the last two parts.
            let rel = h.strip_prefix(&prefix).map(str::to_string).or_else(|| {
                let p = Path::new(h);
                let name = p.file_name()?;
                let case = p.parent()?.file_name()?;
                let rel = Path::new(case).join(name);
                dir.join(&rel)
                    .is_file()
                    .then(|| rel.to_string_lossy().into_owned())
            });
            match rel {
                Some(rel) => a["href"] = Value::String(format!("{base}{rel}")),
                // A local href would silently benchmark local reads.
                None => {
                    return Err(format!(
                        "{}: href {h:?} is not under {}",
                        src.display(),
                        dir.display()
                    ));
                }
            }
        }
    }
    let out = dir.join(format!("http-{}.json", case.name));
    std::fs::write(&out, serde_json::to_string(&items).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

fn run_one(
    c: &Contender,
    case: &Case,
    items: &Path,
    dir: &Path,
    server: &DelayedNginx,
) -> Result<Sample, String> {
    let rss_file = dir.join("rss.txt");
    let cmd = match &c.kind {
        Kind::Ours { bin, args, env } => {
            let mut cmd = Command::new(bin);
            cmd.arg("cube")
                .arg(items)
                .args(["--asset", ASSETS, "--quiet", "--no-write", "--checksum"])
                .args(args)
                .arg("--out")
                .arg(dir.join("out"));
            if let Some(g) = case.groupby {
                cmd.args(["--groupby", g]);
            }
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd
        }
        Kind::Odc | Kind::Stackstac => {
            let mut cmd = Command::new(venv_python());
            cmd.arg(root().join("xtask/peers/cube/peers.py"))
                .arg(if matches!(c.kind, Kind::Odc) {
                    "odc"
                } else {
                    "stackstac"
                })
                .arg(items)
                .arg(case.name)
                .arg(c.concurrency.to_string())
                .arg("--cloud");
            cmd
        }
    };
    let mut cmd = cmd;
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    let mark = server.mark();
    let (out, rss_kb) = measured(&c.name, &cmd, &rss_file)?;
    // nginx logs a request when it has handed the last byte to the socket,
    // which is before the client read it: the log is complete by now, but
    // give the log write a moment anyway.
    std::thread::sleep(Duration::from_millis(50));
    let traffic = Traffic::of(&server.requests_since(mark));
    let (seconds, cube) = match c.kind {
        Kind::Ours { .. } => {
            let ck = &out["checksum"];
            let seconds = ck["load_seconds"].as_f64().unwrap_or(f64::NAN);
            (
                seconds,
                json!({
                    "shape": out["shape"],
                    "geotransform": out["grid"]["geotransform"],
                    "band_sums": ck["band_sums"],
                    "plane_checksum": ck["plane_checksum"],
                }),
            )
        }
        _ => (
            out["seconds"].as_f64().unwrap_or(f64::NAN),
            json!({
                "shape": out["shape"],
                "geotransform": out["geotransform"],
                "band_sums": out["band_sums"],
                "plane_checksum": out["plane_checksum"],
                "versions": out["versions"],
            }),
        ),
    };
    eprintln!(
        "xtask:      {:.2} s, {} requests ({} HEAD), {:.0} MB, {:.1} in flight (peak {}), RSS {} MB",
        seconds,
        traffic.requests,
        traffic.heads,
        traffic.body_bytes as f64 / 1e6,
        traffic.mean_in_flight,
        traffic.peak_in_flight,
        rss_kb / 1024
    );
    Ok(Sample {
        seconds,
        rss_kb,
        traffic,
        cube,
        summary: {
            let mut out = out;
            // A variant's own statistics file (`"stats_file"`), if it wrote one.
            if let Some(f) = &c.stats_file
                && let Some(v) = std::fs::read_to_string(f)
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            {
                out["variant_stats"] = v;
                let _ = std::fs::remove_file(f);
            }
            out
        },
    })
}

fn same_cube(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let gt_ok = a["geotransform"]
        .as_array()
        .zip(b["geotransform"].as_array())
        .is_some_and(|(x, y)| {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| (num(p) - num(q)).abs() < 1e-6)
        });
    // Numbers compare by value: stac-gdal prints sums as floats (`1.0`),
    // the Python peers as integers (`1`), and JSON values of different
    // number types are never `==`.
    let sums_ok = a["band_sums"]
        .as_array()
        .zip(b["band_sums"].as_array())
        .is_some_and(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| num(p) == num(q)));
    a["shape"] == b["shape"]
        && gt_ok
        && sums_ok
        && num(&a["plane_checksum"]) == num(&b["plane_checksum"])
}

/// The sample with the median time (the upper middle one for an even count).
fn median(samples: &[Sample]) -> Option<&Sample> {
    let mut v: Vec<&Sample> = samples.iter().collect();
    v.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    v.get(v.len() / 2).copied()
}

/// Key of a result: (latency, case, contender index).
type Key = (u64, &'static str, usize);

/// Run the benchmark and append its section to `report` (standard mode), or
/// write a variants report under `target/bench-latency/`.
pub(crate) fn append(report: &mut String, args: &[String]) -> Result<(), String> {
    let opts = parse_options(args)?;
    step(
        "build stac-gdal (release)",
        cargo(&["build", "--release", "-p", "stac-gdal-cli"]),
    )?;
    let ours_bin = crate::bench::target_dir().join("release/stac-gdal");
    let dir = crate::bench::target_dir().join("bench-data/cube");
    ensure_data(&dir)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut contenders = match &opts.variants {
        Some(f) => variant_contenders(f, &ours_bin, cores)?,
        None => standard_contenders(&ours_bin, cores),
    };
    if opts.peers {
        contenders.extend(peer_contenders());
    }
    let load_before = loadavg();
    let mut results: BTreeMap<Key, Vec<Sample>> = BTreeMap::new();
    let mut ttfb: BTreeMap<u64, f64> = BTreeMap::new();
    for &latency in &opts.latencies {
        let server = DelayedNginx::start(&dir, Duration::from_millis(latency));
        // The delay as a client sees it: the median of 5 one-byte requests.
        let mut t: Vec<f64> = (0..5)
            .map(|_| server.time_to_first_byte("stack/S00_B02.tif").as_secs_f64())
            .collect();
        t.sort_by(f64::total_cmp);
        let measured_ttfb = t[2];
        if measured_ttfb * 1e3 < latency as f64 {
            return Err(format!(
                "delayed nginx: time to first byte {:.1} ms < {latency} ms",
                measured_ttfb * 1e3
            ));
        }
        ttfb.insert(latency, measured_ttfb);
        eprintln!(
            "xtask: ── stac-cube over HTTP, {latency} ms per request (time to first byte {:.1} ms, nginx pid {})",
            measured_ttfb * 1e3,
            server.pid()
        );
        let items: Vec<PathBuf> = opts
            .cases
            .iter()
            .map(|c| http_items(&dir, c, &server.base_url()))
            .collect::<Result<_, _>>()?;
        let n = contenders.len();
        for r in 0..opts.runs {
            for (ci, case) in opts.cases.iter().enumerate() {
                // Rotate the order every run (see bench_cube).
                for k in 0..n {
                    let i = (k + r) % n;
                    eprintln!(
                        "xtask:    {latency} ms, {}, run {}/{}: {}",
                        case.name,
                        r + 1,
                        opts.runs,
                        contenders[i].name
                    );
                    let s = run_one(&contenders[i], case, &items[ci], &dir, &server)?;
                    results.entry((latency, case.name, i)).or_default().push(s);
                }
            }
        }
    }
    let load_after = loadavg();
    let _ = std::fs::remove_file(dir.join("rss.txt"));

    let mut section = String::new();
    write_section(
        &mut section,
        &opts,
        &contenders,
        &results,
        &ttfb,
        cores,
        (&load_before, &load_after),
    );
    // Every run's figures, for both modes (the standard run's go to
    // target/bench-latency/standard.json).
    let out_dir = crate::bench::target_dir().join("bench-latency");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let stem = opts
        .variants
        .as_ref()
        .and_then(|f| f.file_stem())
        .map_or_else(|| "standard".into(), |s| s.to_string_lossy().into_owned());
    match &opts.variants {
        None => report.push_str(&section),
        Some(_) => {
            let md = out_dir.join(format!("{stem}.md"));
            std::fs::write(&md, &section).map_err(|e| format!("{}: {e}", md.display()))?;
        }
    }
    let contenders = &contenders;
    let raw: Vec<Value> = results
        .iter()
        .flat_map(|((lat, case, i), samples)| {
            samples.iter().map(move |s| {
                json!({
                    "latency_ms": lat, "case": case, "contender": contenders[*i].name,
                    "seconds": s.seconds, "rss_kb": s.rss_kb,
                    "traffic": s.traffic.to_json(), "cube": s.cube,
                    "summary": if matches!(contenders[*i].kind, Kind::Ours { .. }) {
                        let mut v = s.summary.clone();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("time");
                        }
                        v
                    } else { Value::Null },
                })
            })
        })
        .collect();
    let js = out_dir.join(format!("{stem}.json"));
    std::fs::write(&js, serde_json::to_string_pretty(&raw).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", js.display()))?;
    if opts.variants.is_some() {
        println!("{section}");
    }
    eprintln!("xtask: wrote {}", js.display());
    Ok(())
}

fn write_section(
    report: &mut String,
    opts: &Options,
    contenders: &[Contender],
    results: &BTreeMap<Key, Vec<Sample>>,
    ttfb: &BTreeMap<u64, f64>,
    cores: usize,
    (load_before, load_after): (&str, &str),
) {
    let gdal = output({
        let mut c = Command::new("gdal-config");
        c.arg("--version");
        c
    })
    .unwrap_or_default();
    let date = output({
        let mut c = Command::new("date");
        c.args(["-u", "+%Y-%m-%d %H:%M UTC"]);
        c
    })
    .unwrap_or_default();
    let versions = results
        .iter()
        .find_map(|((_, _, i), s)| {
            matches!(contenders[*i].kind, Kind::Odc).then(|| s[0].cube["versions"].clone())
        })
        .unwrap_or(Value::Null);
    let ttfb_text = ttfb
        .iter()
        .map(|(l, t)| format!("{l} ms → {:.1} ms", t * 1e3))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        report,
        "## stac-cube over HTTP with latency: cube loads vs odc-stac and stackstac\n"
    )
    .unwrap();
    writeln!(
        report,
        "The cube benchmark's 72 COGs (24 scenes x 3 bands, see the local cube section) served \
         by a real nginx on 127.0.0.1 that answers every request after a fixed delay (the \
         `echo_sleep` timer of Debian's nginx echo module, then the static file handler: \
         `stac_gdal_e2e::latency_nginx`), like object storage whose every request waits; the \
         delay is checked from the client side as the time to first byte of a one-byte Range \
         request ({ttfb_text}). Same cases, grid and output as the local benchmark, {cores} cores. \
         stac-gdal: `stac-gdal cube --no-write --checksum` (plan + load timed inside the process) \
         with no flags (its default: one decode thread per core and, for remote files, an I/O \
         stage of 16 threads fetching ahead of them), with `--io-concurrency N` (0: the reader \
         threads read remote files themselves, the behaviour before issue 20) and with \
         `--io-concurrency 0 --threads N`; *io wait / decode* are stac-gdal's own counters from \
         its JSON summary (decode threads waiting for bytes, and opening + decoding + fusing, \
         summed over decode threads); \
         odc-stac: `configure_rio(cloud_defaults=True)` then `odc.stac.load(chunks=None, pool=N)`; \
         stackstac: `.compute()` with N dask threads. Median of {} interleaved runs (order \
         rotated each run); each row is that median run. *Requests*, *MB* (response bodies) and \
         *in flight* come from nginx's access log of the run: mean in flight = the sum of the \
         request durations ÷ the span from the first request's start to the last one's end; \
         *peak* = the most at once. *Floor* = requests ÷ the setting's concurrency × latency + \
         the same setting's time at 0 ms (its decode, fusion and loopback transfer); *vs floor* = \
         seconds ÷ floor. *Same as odc-stac*: shape, geotransform, per-band sums and \
         plane-order checksum equal odc-stac's. Peak RSS is the whole process's.\n",
        opts.runs
    )
    .unwrap();
    writeln!(
        report,
        "- date: {}; GDAL {} (stac-gdal), {} (rasterio wheel); odc-stac {}, odc-loader {}, \
         rasterio {}, numpy {}\n- load average before / after: {load_before} / {load_after}{}\n",
        date.trim(),
        gdal.trim(),
        versions["gdal"].as_str().unwrap_or("?"),
        versions["odc-stac"].as_str().unwrap_or("?"),
        versions["odc-loader"].as_str().unwrap_or("?"),
        versions["rasterio"].as_str().unwrap_or("?"),
        versions["numpy"].as_str().unwrap_or("?"),
        if load_before
            .split_whitespace()
            .next()
            .and_then(|l| l.parse::<f64>().ok())
            .is_some_and(|l| l > cores as f64 * 0.5)
        {
            " (the machine was shared with other work during the run: compare ratios)"
        } else {
            ""
        }
    )
    .unwrap();

    let mut checks: Vec<String> = Vec::new();
    let mut differs = false;
    for case in &opts.cases {
        for &lat in &opts.latencies {
            let med: Vec<Option<&Sample>> = (0..contenders.len())
                .map(|i| results.get(&(lat, case.name, i)).and_then(|s| median(s)))
                .collect();
            let reference = contenders
                .iter()
                .position(|c| matches!(c.kind, Kind::Odc))
                .and_then(|i| med[i])
                .or(med.iter().flatten().next().copied());
            let base = contenders
                .iter()
                .position(|c| c.default)
                .and_then(|i| med[i])
                .or(med[0]);
            let shape = reference
                .and_then(|r| r.cube["shape"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" x ");
            writeln!(
                report,
                "### {}, {lat} ms per request ({} → {shape})\n",
                case.name, case.what
            )
            .unwrap();
            writeln!(
                report,
                "| tool, setting | seconds | vs stac-gdal default | requests (HEAD) | header reads / files | MB | mean in flight (peak) | io wait / decode s (summary) | floor | vs floor | peak RSS | same as odc-stac |\n\
                 |---|---|---|---|---|---|---|---|---|---|---|---|"
            )
            .unwrap();
            for (i, c) in contenders.iter().enumerate() {
                let Some(s) = med[i] else { continue };
                let t = &s.traffic;
                let zero = results
                    .get(&(0, case.name, i))
                    .and_then(|v| median(v))
                    .map(|z| z.seconds);
                let floor = zero.map(|z| {
                    t.requests as f64 / c.concurrency.max(1) as f64 * lat as f64 / 1e3 + z
                });
                let same = reference.is_some_and(|r| same_cube(&r.cube, &s.cube));
                differs |= !same;
                let name = if c.default {
                    format!("**{}**", c.name)
                } else {
                    c.name.clone()
                };
                writeln!(
                    report,
                    "| {name} | {:.2} | {} | {} ({}) | {} / {} | {:.0} | {:.1} ({}) | {} | {} | {} | {:.0} MB | {} |",
                    s.seconds,
                    base.map_or("-".into(), |b| format!("{:.2}×", s.seconds / b.seconds)),
                    t.requests,
                    t.heads,
                    t.header_reads,
                    t.files,
                    t.body_bytes as f64 / 1e6,
                    t.mean_in_flight,
                    t.peak_in_flight,
                    io_times(&s.summary),
                    floor.map_or("-".into(), |f| format!("{f:.2}")),
                    floor.map_or("-".into(), |f| format!("{:.2}×", s.seconds / f)),
                    s.rss_kb as f64 * 1024.0 / 1e6,
                    if same { "yes" } else { "**NO**" },
                )
                .unwrap();
            }
            writeln!(report).unwrap();
            // Targets (issue 20), stated for the standard contenders.
            let ours: Vec<(usize, &Sample)> = contenders
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.kind, Kind::Ours { .. }))
                .filter_map(|(i, _)| med[i].map(|s| (i, s)))
                .collect();
            let best_ours = ours
                .iter()
                .min_by(|a, b| a.1.seconds.total_cmp(&b.1.seconds));
            let best_odc = contenders
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.kind, Kind::Odc))
                .filter_map(|(i, _)| med[i])
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds));
            if let (Some(d), Some((bi, b))) = (base, best_ours) {
                let mut line = format!(
                    "- {}, {lat} ms: default {:.2} s = {:.2}× its best setting ({}, {:.2} s; target ≤ {TARGET_DEFAULT_VS_BEST}×: {})",
                    case.name,
                    d.seconds,
                    d.seconds / b.seconds,
                    contenders[*bi].name,
                    b.seconds,
                    met(d.seconds / b.seconds <= TARGET_DEFAULT_VS_BEST)
                );
                if let Some(o) = best_odc {
                    let ratio = o.seconds / d.seconds;
                    write!(
                        line,
                        "; the best odc-stac setting takes {ratio:.2}× the default's time{}",
                        if lat > 0 {
                            format!(
                                " (target ≥ {TARGET_VS_ODC}×: {})",
                                met(ratio >= TARGET_VS_ODC)
                            )
                        } else {
                            String::new()
                        }
                    )
                    .unwrap();
                }
                let di = contenders.iter().position(|c| c.default);
                let zero = di.and_then(|i| results.get(&(0, case.name, i)).and_then(|v| median(v)));
                if let (Some(z), Some(i), true) = (zero, di, lat > 0) {
                    let floor = d.traffic.requests as f64 / contenders[i].concurrency as f64
                        * lat as f64
                        / 1e3
                        + z.seconds;
                    write!(
                        line,
                        "; {:.2}× its floor (target ≤ {TARGET_VS_FLOOR}×: {})",
                        d.seconds / floor,
                        met(d.seconds / floor <= TARGET_VS_FLOOR)
                    )
                    .unwrap();
                }
                checks.push(line);
            }
        }
    }
    if !checks.is_empty() {
        writeln!(report, "Targets of issue 20:\n").unwrap();
        for c in &checks {
            writeln!(report, "{c}").unwrap();
        }
        writeln!(report).unwrap();
    }
    // Request hygiene, from the logs of stac-gdal's default runs.
    if let Some(i) = contenders.iter().position(|c| c.default) {
        let (mut n, mut h2c, mut no_ua) = (0, 0, 0);
        for ((_, _, j), v) in results {
            if *j == i {
                for s in v {
                    n += s.traffic.requests;
                    h2c += s.traffic.h2c_upgrades;
                    no_ua += s.traffic.without_user_agent;
                }
            }
        }
        writeln!(
            report,
            "Request hygiene (stac-gdal, no flags, all runs): {h2c} of {n} requests carried \
             `Upgrade: h2c` and {no_ua} had no `User-Agent`.\n"
        )
        .unwrap();
    }
    if differs {
        eprintln!("xtask: WARNING: a cube differs from odc-stac's (see the report)");
        writeln!(
            report,
            "**Warning: a cube differs from odc-stac's; the timings compare different outputs.**\n"
        )
        .unwrap();
    }
}

/// "io wait / decode" seconds from stac-gdal's summary (`io`), or "-".
fn io_times(summary: &Value) -> String {
    let io = &summary["io"];
    match (
        io["io_wait_seconds"].as_f64(),
        io["decode_seconds"].as_f64(),
    ) {
        (Some(w), Some(d)) => format!("{w:.2} / {d:.2}"),
        _ => "-".into(),
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
