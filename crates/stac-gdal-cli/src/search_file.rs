//! `search` over a catalog file, a folder of files or a glob: the same
//! flags and output as a STAC API search, evaluated by
//! `stac_geoparquet::search` (no network). A source that is not an
//! `http://` or `https://` URL is a catalog.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use stac_gdal::client::SearchParams;
use stac_gdal::cube::DatasetCollection;
use stac_gdal::geoparquet::search::{Sources, search as search_catalog};
use stac_gdal::signers::Signer;
use stac_gdal::{PointOptions, PointQuery};

/// Whether `source` names a catalog (file, folder, glob) rather than an API.
pub fn is_catalog(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    !(lower.starts_with("http://") || lower.starts_with("https://"))
}

/// The catalog path of a source (`file://` stripped).
fn path_of(source: &str) -> &str {
    source.strip_prefix("file://").unwrap_or(source)
}

/// Search the catalog and print the items (an ItemCollection, or NDJSON).
pub fn search(
    source: &str,
    params: SearchParams,
    method_given: bool,
    signer: Option<Arc<dyn Signer>>,
    ndjson: bool,
) -> Result<()> {
    if method_given {
        bail!("--method applies to STAC APIs; {source} is a catalog file");
    }
    let items = search_catalog(Sources::from(path_of(source)), &params)
        .with_context(|| format!("searching {source}"))?;
    let sign = |mut item: Value| -> Result<Value> {
        if let Some(s) = &signer {
            s.sign_item(&mut item)
                .with_context(|| format!("signing item {}", stac_gdal::meta::item_id(&item)))?;
        }
        Ok(item)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    if ndjson {
        for item in items {
            serde_json::to_writer(&mut out, &sign(item?)?)?;
            out.write_all(b"\n")?;
        }
    } else {
        // Streamed: the ItemCollection is never held whole in memory.
        out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut out, &sign(item?)?)?;
        }
        out.write_all(b"]}\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `point` over a catalog: the same UTM grid and search bbox as over an
/// API (`PointQuery::grid`), the collection, datetime and `--query` pushed
/// down to the catalog search, then the cube on exactly that grid.
pub fn point_cube(
    catalog: &str,
    query: &PointQuery<'_>,
    options: &PointOptions,
) -> Result<DatasetCollection> {
    query.validate()?;
    let grid = query.grid(options.units)?;
    let mut params = SearchParams::new()
        .collections([query.collection])
        .bbox(grid.bbox.to_vec())
        .datetime(query.datetime());
    if let Some(q) = &options.query {
        params = params.query(q.clone());
    }
    let items: Vec<Value> = search_catalog(Sources::from(path_of(catalog)), &params)
        .with_context(|| format!("searching {catalog}"))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("searching {catalog}"))?;
    DatasetCollection::from_stac(&items, query.bands, &options.cube_options(&grid)).with_context(
        || {
            format!(
                "point ({}, {}) in {catalog}: {} item(s) found",
                query.lat,
                query.lon,
                items.len()
            )
        },
    )
}
