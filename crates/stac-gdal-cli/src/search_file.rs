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

/// Search the catalog and write the items to `out` (an ItemCollection,
/// or NDJSON).
pub fn search(
    source: &str,
    params: SearchParams,
    method_given: bool,
    signer: Option<Arc<dyn Signer>>,
    ndjson: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if method_given {
        bail!("--method applies to STAC APIs; {source} is a catalog file");
    }
    let mut items = search_catalog(Sources::from(path_of(source)), &params)
        .with_context(|| format!("searching {source}"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    match signer {
        // Unsigned items are decoded and serialised on every core.
        None if ndjson => {
            items.write_ndjson(&mut out)?;
        }
        None => {
            out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
            items.write_ndjson(&mut Commas::new(&mut out))?;
            out.write_all(b"]}\n")?;
        }
        Some(s) => {
            let sign = |mut item: Value| -> Result<Value> {
                s.sign_item(&mut item)
                    .with_context(|| format!("signing item {}", stac_gdal::meta::item_id(&item)))?;
                Ok(item)
            };
            if !ndjson {
                out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
            }
            for (i, item) in items.enumerate() {
                if !ndjson && i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut out, &sign(item?)?)?;
                if ndjson {
                    out.write_all(b"\n")?;
                }
            }
            if !ndjson {
                out.write_all(b"]}\n")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// NDJSON lines joined by commas (the features array of an
/// ItemCollection): every newline ends an item (serialised JSON has none
/// inside), and becomes a comma before the next one.
struct Commas<W> {
    inner: W,
    pending: bool,
}

impl<W: Write> Commas<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            pending: false,
        }
    }
}

impl<W: Write> Write for Commas<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for chunk in buf.split_inclusive(|b| *b == b'\n') {
            if chunk.is_empty() {
                continue;
            }
            if self.pending {
                self.inner.write_all(b",")?;
                self.pending = false;
            }
            match chunk.strip_suffix(b"\n") {
                Some(item) => {
                    self.inner.write_all(item)?;
                    self.pending = true;
                }
                None => self.inner.write_all(chunk)?,
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
