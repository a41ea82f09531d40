//! `geoparquet`: arbitrary bytes as a Parquet file → `stac_geoparquet`'s
//! `Reader` and `from_geoparquet`. Every input must give items or an `Err`:
//! never a panic, an abort or unbounded memory.
//!
//! Two modes, chosen by the first byte:
//! - even: the rest of the input is the file (seeds: the `.parquet` fixtures).
//! - odd: structured mutation of a valid file. The second byte picks a base
//!   file written at start-up by `to_geoparquet` from fixture-like items
//!   (spec and JSON-blob layouts, several compressions); the rest is a list
//!   of 4-byte edits `[op, pos_lo, pos_hi, value]`: overwrite a byte
//!   anywhere, overwrite a byte in the footer (the Thrift metadata and the
//!   JSON key-value metadata, where a reader is most exposed), truncate, or
//!   insert a byte.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use stac_geoparquet::{Compression, Layout, Reader, WriteOptions};

/// At most this many items are decoded per input (bounds the time per run).
const MAX_ITEMS: usize = 10_000;

struct Fixture {
    dir: PathBuf,
    bases: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // The reader turns panics of the Parquet decoder into errors; the
        // hook libfuzzer-sys installs would abort on them even when caught.
        // This one only prints a line (no backtrace); a panic that escapes
        // the target still aborts (fuzz_target! does), after that line.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic (caught unless followed by a crash): {info}")
        }));
        let root = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = root.join(format!("stac-gdal-fuzz-geoparquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let items = base_items();
        let mut bases = Vec::new();
        for (i, (layout, compression)) in [
            (Layout::Spec, Compression::None),
            (Layout::Spec, Compression::Snappy),
            (Layout::Spec, Compression::Zstd(1)),
            (Layout::Blob, Compression::None),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.join(format!("base-{i}.parquet"));
            let options = WriteOptions::default()
                .with_layout(layout)
                .with_compression(compression)
                .with_row_group_size(2);
            stac_geoparquet::to_geoparquet(&items, &path, &options).expect("base file");
            bases.push(std::fs::read(&path).expect("base file"));
        }
        Fixture { dir, bases }
    })
}

/// Small items with the shapes the fixtures have: datetimes, nested assets,
/// raster bands, links, a polygon, mixed numbers and explicit nulls.
fn base_items() -> Vec<Value> {
    (0..5)
        .map(|i| {
            json!({
                "type": "Feature",
                "stac_version": "1.1.0",
                "stac_extensions": ["https://stac-extensions.github.io/projection/v2.0.0/schema.json"],
                "id": format!("item-{i}"),
                "collection": "c",
                "geometry": {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]},
                "bbox": [0.0, 0.0, 1.0, 1.0 + f64::from(i)],
                "properties": {
                    "datetime": format!("2021-06-0{}T10:00:00.{}Z", i + 1, 100 * i),
                    "eo:cloud_cover": if i % 2 == 0 { json!(i) } else { json!(1.5) },
                    "proj:code": "EPSG:32630",
                    "platform": if i == 3 { Value::Null } else { json!("sentinel-2a") },
                    "tags": ["a", "b"],
                },
                "links": [{"rel": "self", "href": format!("https://h/items/{i}.json")}],
                "assets": {
                    "B04": {
                        "href": format!("s3://bucket/{i}/B04.tif"),
                        "type": "image/tiff; application=geotiff",
                        "proj:shape": [10980, 10980],
                        "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
                        "raster:bands": [{"data_type": "uint16", "nodata": 0, "scale": 0.0001}],
                    }
                }
            })
        })
        .collect()
}

fn mutate(base: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut file = base.to_vec();
    // The footer: the last 8 bytes hold its length and the magic.
    let footer_len = file
        .len()
        .checked_sub(8)
        .and_then(|i| file.get(i..i + 4))
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    for e in edits.chunks_exact(4) {
        if file.is_empty() {
            break;
        }
        let pos = usize::from(u16::from_le_bytes([e[1], e[2]]));
        let len = file.len();
        match e[0] % 4 {
            0 => file[pos * len / 65_536] = e[3],
            1 => {
                let footer = footer_len.clamp(1, len);
                let at = len.saturating_sub(8 + footer) + pos % (footer + 8);
                if at < len {
                    file[at] = e[3];
                }
            }
            2 => file.truncate(pos * len / 65_536),
            _ => file.insert(pos * len / 65_536, e[3]),
        }
    }
    file
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let file = match data {
        [mode, pick, edits @ ..] if mode % 2 == 1 => {
            mutate(&fx.bases[usize::from(*pick) % fx.bases.len()], edits)
        }
        [_, rest @ ..] => rest.to_vec(),
        [] => return,
    };
    let path = fx.dir.join("input.parquet");
    std::fs::write(&path, &file).expect("write input");

    // The streaming reader, bounded.
    match Reader::open(&path) {
        Ok(reader) => {
            let _ = reader.layout();
            let _ = reader.num_rows();
            let _ = reader.schema();
            let _ = reader.collections();
            for item in reader.take(MAX_ITEMS) {
                match item {
                    Ok(item) => assert!(item.is_object()),
                    Err(e) => {
                        let _ = e.to_string();
                        break;
                    }
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // The whole-file reader (only small files: it has no item cap).
    if file.len() < 64 * 1024
        && let Err(e) = stac_geoparquet::from_geoparquet(&path)
    {
        let _ = e.to_string();
    }
});
