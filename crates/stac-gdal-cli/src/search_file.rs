//! `search` over a catalog file, a folder of files or a glob: the same
//! flags and output as a STAC API search, evaluated by
//! `stac_geoparquet::search` (no network). A source that is not an
//! `http://` or `https://` URL is a catalog; a JSON or NDJSON items file
//! (or `-`, standard input) is filtered in memory with the same semantics
//! (`Matcher`).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use stac_gdal::client::SearchParams;
use stac_gdal::cube::DatasetCollection;
use stac_gdal::geoparquet::search::{
    SearchOptions, Sources, search as search_catalog, search_with,
};
use stac_gdal::signers::Signer;
use stac_gdal::{PointOptions, PointQuery};

/// Whether `source` names a catalog (file, folder, glob) rather than an API.
pub(crate) fn is_catalog(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    !(lower.starts_with("http://") || lower.starts_with("https://"))
}

/// The catalog path of a source (`file://` stripped).
pub(crate) fn path_of(source: &str) -> &str {
    source.strip_prefix("file://").unwrap_or(source)
}

/// How found items are written.
pub(crate) struct Found {
    /// `--method` was given (an error for a catalog).
    pub method_given: bool,
    /// `--sign-items`: the signer applied to each item.
    pub signer: Option<Arc<dyn Signer>>,
    /// One item a line instead of an ItemCollection.
    pub ndjson: bool,
    /// Decoding threads (default: all cores).
    pub threads: Option<usize>,
}

/// Search the catalog and write the items to `out` (an ItemCollection,
/// or NDJSON).
pub(crate) fn search(
    source: &str,
    params: SearchParams,
    found: &Found,
    out: &mut dyn Write,
) -> Result<()> {
    if found.method_given {
        bail!("--method applies to STAC APIs; {source} is a catalog file");
    }
    let mut options = SearchOptions::default();
    if let Some(n) = found.threads {
        options = options.with_threads(n);
    }
    let mut items = search_with(Sources::from(path_of(source)), &params, &options)
        .with_context(|| format!("searching {source}"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let ndjson = found.ndjson;
    match &found.signer {
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

/// Items read from JSON (standard input), filtered by the search
/// parameters with the catalog search's semantics, then written as
/// [`search`] writes them.
pub(crate) fn search_json(
    path: &std::path::Path,
    params: SearchParams,
    found: &Found,
    out: &mut dyn Write,
) -> Result<()> {
    if found.method_given {
        bail!("--method applies to STAC APIs, not to items on standard input");
    }
    if !params.sortby.is_empty() || params.fields.is_some() {
        bail!("--sortby and --fields apply to catalogs and APIs, not to JSON on standard input");
    }
    let matcher = stac_gdal::geoparquet::search::Matcher::new(&params)?;
    let max = params.max_items.unwrap_or(usize::MAX);
    let items = crate::input::read_items(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    if !found.ndjson {
        out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
    }
    let mut n = 0;
    for mut item in items {
        if n == max {
            break;
        }
        if !matcher.matches(&item)? {
            continue;
        }
        if let Some(s) = &found.signer {
            s.sign_item(&mut item)
                .with_context(|| format!("signing item {}", stac_gdal::meta::item_id(&item)))?;
        }
        if !found.ndjson && n > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut out, &item)?;
        if found.ndjson {
            out.write_all(b"\n")?;
        }
        n += 1;
    }
    if !found.ndjson {
        out.write_all(b"]}\n")?;
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
pub(crate) fn point_cube(
    catalog: &str,
    query: &PointQuery<'_>,
    options: &PointOptions,
) -> Result<DatasetCollection> {
    query.validate()?;
    let grid = query.grid(options.units)?;
    let mut params = SearchParams::new()
        .with_collections([query.collection])
        .with_bbox(grid.bbox.to_vec())
        .with_datetime(query.datetime());
    if let Some(q) = &options.query {
        params = params.with_query(q.clone());
    }
    let path = std::path::Path::new(path_of(catalog));
    let items: Vec<Value> = if crate::input::is_catalog(path) {
        search_catalog(Sources::from(path_of(catalog)), &params)
            .with_context(|| format!("searching {catalog}"))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("searching {catalog}"))?
    } else {
        // A JSON items file: the same parameters as a filter.
        let matcher = stac_gdal::geoparquet::search::Matcher::new(&params)?;
        let mut kept = Vec::new();
        for item in crate::input::read_items(path)? {
            if matcher.matches(&item)? {
                kept.push(item);
            }
        }
        kept
    };
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
