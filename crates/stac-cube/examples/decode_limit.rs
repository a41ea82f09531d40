//! The physical limit of the cube benchmark (`cargo xtask bench`): decode
//! every source file fully with GDAL alone, in parallel over files.
//!
//! `decode_limit [--touch BYTES] THREADS FILE...` opens each file with the
//! `gdal` crate, reads band 1 at full resolution into a reused per-thread
//! `u16` buffer (one `GDALRasterIO` call per file, GDAL's default config),
//! and prints `{"seconds", "files", "pixels", "sum"}` as JSON. No grid, no
//! fusion, no output array: what any loader of the same tiles must at least
//! spend.
//!
//! With `--touch BYTES` it then also times, as `touch_seconds`, writing one
//! byte per page of a fresh zeroed buffer of that size on the same threads:
//! the page faults any loader pays to fill a new output array (large on
//! virtual machines whose memory the host backs lazily).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::time::Instant;

use gdal::Dataset;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: decode_limit [--touch BYTES] THREADS FILE...";
    let mut args = std::env::args().skip(1).peekable();
    let mut touch = None;
    if args.peek().is_some_and(|a| a == "--touch") {
        args.next();
        touch = Some(args.next().ok_or(usage)?.parse::<usize>()?);
    }
    let threads: usize = args.next().ok_or(usage)?.parse()?;
    let files: Vec<String> = args.collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let start = Instant::now();
    let per_file: Vec<(u64, u64)> = pool.install(|| {
        files
            .par_iter()
            .map_init(Vec::<u16>::new, |buf, path| {
                let ds = Dataset::open(path).map_err(|e| format!("{path}: {e}"))?;
                let band = ds.rasterband(1).map_err(|e| format!("{path}: {e}"))?;
                let (cols, rows) = band.size();
                buf.resize(cols * rows, 0);
                band.read_into_slice((0, 0), (cols, rows), (cols, rows), buf, None)
                    .map_err(|e| format!("{path}: {e}"))?;
                let sum = buf.iter().map(|&v| u64::from(v)).sum::<u64>();
                Ok::<_, String>(((cols * rows) as u64, sum))
            })
            .collect::<Result<_, String>>()
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (pixels, sum) = per_file
        .iter()
        .fold((0, 0), |(p, s), (fp, fs)| (p + fp, s + fs));
    let mut out =
        serde_json::json!({"seconds": seconds, "files": files.len(), "pixels": pixels, "sum": sum});
    if let Some(bytes) = touch {
        let start = Instant::now();
        let mut fresh = vec![0u8; bytes];
        pool.install(|| {
            fresh.par_chunks_mut(1 << 20).for_each(|chunk| {
                for page in chunk.chunks_mut(4096) {
                    page[0] = 1;
                }
            });
        });
        out["touch_seconds"] = start.elapsed().as_secs_f64().into();
        out["touched"] = fresh
            .iter()
            .step_by(4096)
            .map(|&b| u64::from(b))
            .sum::<u64>()
            .into();
    }
    println!("{out}");
    Ok(())
}
