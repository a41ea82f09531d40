//! NDJSON ⇄ stac-geoparquet with the library alone (what `cargo xtask bench`
//! times against rustac and stac-geoparquet, and what the memory test runs).
//!
//! ```text
//! ndjson_io write IN.ndjson OUT.parquet [zstd|snappy|none] [spec|blob]
//! ndjson_io read IN.parquet OUT.ndjson
//! ```
//!
//! Prints `{"items": N, "seconds": S, "peak_rss_kb": K}` on standard output.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use stac_geoparquet::{Compression, Layout, Reader, WriteOptions, Writer};

/// Same allocator as the `stac-gdal` binary (glibc malloc spends much of a
/// conversion consolidating free lists).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ndjson_io write IN.ndjson OUT.parquet [zstd|snappy|none] [spec|blob] | read IN.parquet OUT.ndjson";
    if args.len() < 3 {
        return Err(usage.into());
    }
    let start = Instant::now();
    let items = match args[0].as_str() {
        "write" => {
            let compression = args
                .get(3)
                .map(|c| Compression::parse(c).ok_or("bad compression"))
                .transpose()?
                .unwrap_or_default();
            let layout = args
                .get(4)
                .map(|l| Layout::parse(l).ok_or("bad layout"))
                .transpose()?
                .unwrap_or_default();
            let options = WriteOptions::default()
                .with_compression(compression)
                .with_layout(layout);
            let mut writer = Writer::create(&args[2], options)?;
            for line in BufReader::with_capacity(1 << 20, File::open(&args[1])?).lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    writer.push_json(&line)?;
                }
            }
            writer.finish()?
        }
        "read" => {
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&args[2])?);
            let mut n = 0u64;
            for item in Reader::open(&args[1])? {
                serde_json::to_writer(&mut out, &item?)?;
                out.write_all(b"\n")?;
                n += 1;
            }
            out.flush()?;
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
