//! NDJSON ⇄ stac-geoparquet with the library alone (what `cargo xtask bench`
//! times against rustac and stac-geoparquet, and what the memory test runs).
//!
//! ```text
//! ndjson_io write IN.ndjson OUT.parquet [zstd|snappy|none] [spec|blob] [--sort S] [--threads N] [--parallel-parse yes]
//! ndjson_io read IN.parquet OUT.ndjson
//! ndjson_io search SOURCE OUT.ndjson [--bbox W,S,E,N] [--datetime A/B] [--filter CQL2] [--sort hilbert|time]
//! ```
//!
//! `search` is `stac-gdal search SOURCE ... --ndjson` (same library call,
//! same output) without linking GDAL; `--sort` applies to `write`.
//!
//! Prints `{"items": N, "seconds": S, "peak_rss_kb": K}` on standard output.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use stac_geoparquet::search::{Filter, SearchParams, search};
use stac_geoparquet::{Compression, Layout, Reader, SortOrder, WriteOptions, Writer};

/// Same allocator as the `stac-gdal` binary (glibc malloc spends much of a
/// conversion consolidating free lists).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The `stac-gdal` binary's allocator settings, from its own source file
/// (transparent huge pages off, mimalloc's purge delay, glibc's mmap and
/// trim thresholds), so that this stand-in allocates as the CLI does:
/// without them, mimalloc's huge pages made the selective search's system
/// time 3× the CLI's (kernel zeroing 2 MiB pages touched in part).
#[path = "../../stac-gdal-cli/src/allocator.rs"]
mod allocator;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    allocator::return_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ndjson_io write IN.ndjson OUT.parquet [zstd|snappy|none] [spec|blob] [--sort S] | read IN.parquet OUT.ndjson | search SOURCE OUT.ndjson [--bbox W,S,E,N] [--datetime A/B] [--filter CQL2]";
    let flag = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let positional: Vec<&String> = {
        let mut v = Vec::new();
        let mut skip = false;
        for a in &args {
            if skip {
                skip = false;
            } else if a.starts_with("--") {
                skip = true;
            } else {
                v.push(a);
            }
        }
        v
    };
    if args.len() < 3 {
        return Err(usage.into());
    }
    let start = Instant::now();
    let items = match args[0].as_str() {
        "write" => {
            let compression = positional
                .get(3)
                .map(|c| c.parse::<Compression>().map_err(|_| "bad compression"))
                .transpose()?
                .unwrap_or_default();
            let layout = positional
                .get(4)
                .map(|l| l.parse::<Layout>().map_err(|_| "bad layout"))
                .transpose()?
                .unwrap_or_default();
            let sort: SortOrder = flag("--sort").as_deref().unwrap_or("none").parse()?;
            let mut options = WriteOptions::default();
            if let Some(t) = flag("--threads") {
                options = options.with_threads(t.parse()?);
            }
            let options = options
                .with_compression(compression)
                .with_layout(layout)
                .with_sort(sort);
            let mut writer = Writer::create(&args[2], options)?;
            // Line by line: the schema pass reads each line as borrowed
            // JSON (no `serde_json::Value`); the encoding pass runs on
            // `--threads` workers. `--parallel-parse` goes through
            // `push_ndjson` (the same work, reading the lines itself).
            if flag("--parallel-parse").is_some() {
                writer.push_ndjson(BufReader::with_capacity(1 << 20, File::open(&args[1])?))?;
            } else {
                for line in BufReader::with_capacity(1 << 20, File::open(&args[1])?).lines() {
                    let line = line?;
                    if !line.trim().is_empty() {
                        writer.push_json(&line)?;
                    }
                }
            }
            writer.finish()?
        }
        "read" => {
            // Straight from the Arrow columns (no `Value` built).
            let mut out = File::create(&args[2])?;
            let n = Reader::open(&args[1])?.write_ndjson(&mut out)?;
            out.flush()?;
            n
        }
        "search" => {
            let mut params = SearchParams::new();
            if let Some(b) = flag("--bbox") {
                let b: Vec<f64> = b.split(',').map(str::parse).collect::<Result<_, _>>()?;
                params = params.with_bbox(b);
            }
            if let Some(d) = flag("--datetime") {
                params = params.with_datetime(d);
            }
            if let Some(f) = flag("--filter") {
                params = params.with_filter(Filter::parse(&f)?);
            }
            let mut found = search(args[1].as_str(), &params)?;
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&args[2])?);
            let n = found.write_ndjson(&mut out)?;
            out.flush()?;
            eprintln!("{:?}", found.stats());
            n
        }
        _ => return Err(usage.into()),
    };
    println!(
        "{{\"items\": {items}, \"seconds\": {}, \"peak_rss_kb\": {}}}",
        start.elapsed().as_secs_f64(),
        peak_rss_kb()
    );
    Ok(())
}
