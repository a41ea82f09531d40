//! `vrt`: items with hostile hrefs, ids and band names → `build_vrt_from_stac`
//! on its metadata path (every item carries `proj:*` and a data type, so no
//! source file is opened) → the XML must be well-formed and GDAL must open it.
//!
//! Input: 16 control bytes, then UTF-8 (lossy) text whose lines are taken,
//! per item, as: id, href, band name. Controls choose the item count, CRSs,
//! pixel size (including 0, negative, 1e-160 and 1e300), `proj:shape`
//! (including 0, 10^9 and 3·10^9), data type, nodata, origins and options
//! (separate, strict, order, resolution rule, band selection, target CRS,
//! a bearer signer whose token may hold CR/LF, `HrefPolicy::remote_only`).
//! Items whose metadata is incomplete would be opened (I/O): their hrefs are
//! replaced by a local path that does not exist, so the run stays offline.
//!
//! Invariants: no panic; on success the XML parses (roxmltree), so do the
//! warped VRTs inlined as source names, the band count matches the summary,
//! GDAL opens the document with the summary's size, and nothing was opened
//! but the items without a grid; on error, the bearer token is not in the
//! message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use stac_meta::HrefPolicy;
use stac_vrt::{MosaicOrder, Resolution, VrtOptions};

const CRSS: &[&str] = &["EPSG:32630", "EPSG:32631", "EPSG:4326", "EPSG:3857"];
const PIXEL: &[f64] = &[10.0, 0.5, 30.0, 1e-9, 1e9, 0.0, -10.0, 1e-160, 1e300, 60.0];
const SHAPE: &[u64] = &[1, 4, 100, 10_980, 0, 1_000_000_000, 3_000_000_000, 65_535];
const TYPES: &[&str] = &[
    "uint16", "uint8", "int16", "float32", "float64", "int8", "cfloat32", "other",
];
const TOKENS: &[&str] = &[
    "SECRETTOKEN",
    "SECRETTOKEN\r\nX-Injected: 1",
    "SECRETTOKEN\"&<>",
];

fn nodata(c: u8) -> Value {
    match c % 6 {
        0 => Value::Null,
        1 => json!(0),
        2 => json!("nan"),
        3 => json!("-inf"),
        4 => json!(-9999),
        _ => json!(1e300),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut c = [0u8; 16];
    let n = data.len().min(16);
    c[..n].copy_from_slice(&data[..n]);
    let text = String::from_utf8_lossy(&data[n..]);
    let mut lines = text.split('\n');

    let count = 1 + usize::from(c[0]) % 6;
    let pixel = PIXEL[usize::from(c[3]) % PIXEL.len()];
    let rows = SHAPE[usize::from(c[4]) % SHAPE.len()];
    let cols = SHAPE[usize::from(c[5]) % SHAPE.len()];
    let dtype = TYPES[usize::from(c[6]) % TYPES.len()];
    let mut needs_open = 0;
    let mut items = Vec::new();
    for i in 0..count {
        let id = lines
            .next()
            .map_or_else(|| format!("item-{i}"), str::to_owned);
        let mut href = lines
            .next()
            .map_or_else(|| format!("/nowhere/{i}.tif"), str::to_owned);
        let band = lines.next().unwrap_or("B04").to_owned();
        let crs = CRSS[usize::from(c[2] >> ((i % 4) * 2)) & 3];
        let dx = (f64::from(c[8 + i % 8]) - 128.0) * 3.0;
        let x0 = if crs == "EPSG:4326" {
            dx / 100.0
        } else {
            500_000.0 + dx * pixel.abs().min(1e6)
        };
        let y0 = if crs == "EPSG:4326" {
            45.0
        } else {
            5_300_000.0
        };
        // What the metadata path cannot use is opened: keep those offline.
        let opened = rows == 0 || cols == 0 || pixel == 0.0 || (dtype == "other" && c[9] & 2 == 0);
        let too_big = rows > i32::MAX as u64 || cols > i32::MAX as u64;
        if opened && !too_big {
            href = format!("/nonexistent-stac-gdal-fuzz/{i}.tif");
            needs_open += 1;
        }
        items.push(json!({
            "type": "Feature",
            "id": id,
            "properties": {"proj:code": crs, "datetime": "2021-06-01T10:00:00Z"},
            "assets": {"data": {
                "href": href,
                "proj:shape": [rows, cols],
                "proj:transform": [pixel, 0.0, x0, 0.0, -pixel, y0],
                "raster:bands": [{"data_type": dtype, "nodata": nodata(c[7])}],
                "eo:bands": [{"name": band}],
            }},
        }));
    }

    let mut options = VrtOptions::default()
        .with_separate(c[1] & 1 != 0)
        .with_fail_on_error(c[1] & 2 != 0)
        .with_order(if c[1] & 4 != 0 {
            MosaicOrder::EarlierOnTop
        } else {
            MosaicOrder::default()
        })
        .with_resolution(match (c[1] >> 4) & 3 {
            0 => Resolution::Highest,
            1 => Resolution::Lowest,
            2 => Resolution::Average,
            _ => Resolution::Explicit(10.0, 10.0),
        });
    if c[1] & 8 != 0 {
        let token = TOKENS[usize::from(c[9] >> 4) % TOKENS.len()];
        options = options.with_signer(stac_signers::BearerTokenSigner::new(token));
    }
    if c[1] & 64 != 0 {
        options = options.with_bands([1]);
    }
    if c[1] & 128 != 0 {
        options = options.with_crs("EPSG:32630");
    }
    if c[9] & 1 != 0 {
        options = options.with_href_policy(HrefPolicy::remote_only());
    }
    if c[9] & 2 != 0 {
        options = options.with_data_type(stac_meta::DataType::Float32);
    }

    match stac_vrt::build_vrt_from_stac(&items, "data", &options) {
        Ok(vrt) => {
            let summary = vrt.summary();
            assert!(
                summary.opened <= needs_open,
                "opened {} > {needs_open}",
                summary.opened
            );
            let doc = roxmltree::Document::parse(vrt.xml())
                .unwrap_or_else(|e| panic!("malformed VRT XML ({e}):\n{}", vrt.xml()));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "VRTDataset");
            let bands = root
                .children()
                .filter(|n| n.has_tag_name("VRTRasterBand"))
                .count();
            assert_eq!(bands, summary.band_count);
            for name in doc
                .descendants()
                .filter(|n| n.has_tag_name("SourceFilename"))
            {
                // Hrefs that GDAL would parse as a document are refused, so
                // a name starting with `<` is a warped VRT we wrote.
                let inner = name.text().unwrap_or_default();
                if inner.trim_start().starts_with('<') {
                    roxmltree::Document::parse(inner)
                        .unwrap_or_else(|e| panic!("malformed warped VRT ({e}):\n{inner}"));
                }
            }
            let ds = vrt
                .open()
                .unwrap_or_else(|e| panic!("GDAL cannot open the VRT: {e}\n{}", vrt.xml()));
            assert_eq!([ds.rows(), ds.cols()], summary.shape);
        }
        Err(e) => {
            let text = e.to_string();
            // The fuzzer may write the token's text into an id or href
            // itself; only a message that holds it otherwise is a leak.
            let planted = items.iter().any(|i| i.to_string().contains("SECRETTOKEN"));
            assert!(
                planted || !text.contains("SECRETTOKEN"),
                "the token leaked: {text}"
            );
        }
    }
});
