//! Reading items from a file argument: an Item, FeatureCollection, array or
//! NDJSON file, or a stac-geoparquet catalog (a `.parquet` file, a folder of
//! them, a glob). `--bbox`, `--datetime` and `--filter` are pushed down to a
//! catalog search (row groups and pages pruned, rows filtered before their
//! JSON is built) and applied to JSON inputs with the same semantics.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;
use stac_gdal::client::{Filter, SearchParams};
use stac_gdal::geoparquet::search::{Matcher, Sources, search};

/// `--datetime` and `--filter` for commands that read items.
#[derive(Debug, Args, Default)]
pub(crate) struct CatalogQuery {
    /// Only items whose time range meets this RFC 3339 instant or interval
    /// (`a/b`, `..` for an open end; partial dates like 2023-06 allowed).
    #[arg(long)]
    pub datetime: Option<String>,
    /// Only items matching this CQL2 filter (text, or JSON when it starts with `{`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Read each asset from this alternate href when it has one
    /// (alternate-assets extension, e.g. `s3`); several names: first found wins.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub alternate: Vec<String>,
}

/// `--bbox`, `--datetime` and `--filter` for commands that read items.
#[derive(Debug, Args, Default)]
pub(crate) struct CatalogSelect {
    /// Only items whose geometry meets W,S,E,N (degrees).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub bbox: Option<Vec<f64>>,
    /// Read a --bbox with WEST > EAST as crossing the antimeridian whatever
    /// its width (without it, only boxes up to 180° wide may cross).
    #[arg(long)]
    pub antimeridian: bool,
    #[command(flatten)]
    pub query: CatalogQuery,
}

impl CatalogSelect {
    /// The items of `path`, selected.
    pub(crate) fn read_items(&self, path: &Path) -> Result<Vec<Value>> {
        if let Some(b) = &self.bbox {
            crate::arg_checks::lonlat_bbox(b, self.antimeridian)?;
        }
        self.query.read(path, self.bbox.as_deref(), true)
    }
}

impl CatalogQuery {
    fn params(&self, bbox: Option<&[f64]>) -> Result<Option<SearchParams>> {
        if bbox.is_none() && self.datetime.is_none() && self.filter.is_none() {
            return Ok(None);
        }
        let mut p = SearchParams::new();
        if let Some(b) = bbox {
            p = p.with_bbox(b.to_vec());
        }
        if let Some(d) = &self.datetime {
            p = p.with_datetime(d.clone());
        }
        if let Some(f) = &self.filter {
            p = p.with_filter(Filter::parse(f).context("--filter")?);
        }
        Ok(Some(p))
    }

    /// The items of `path`: a catalog is searched with `bbox`, `--datetime`
    /// and `--filter`; a JSON input is filtered in memory (`bbox` too when
    /// `bbox_on_json`; `cube` applies its own `--bbox` to JSON inputs).
    pub(crate) fn read(
        &self,
        path: &Path,
        bbox: Option<&[f64]>,
        bbox_on_json: bool,
    ) -> Result<Vec<Value>> {
        let mut items = self.read_selected(path, bbox, bbox_on_json)?;
        apply_alternates(&mut items, &self.alternate);
        Ok(items)
    }

    fn read_selected(
        &self,
        path: &Path,
        bbox: Option<&[f64]>,
        bbox_on_json: bool,
    ) -> Result<Vec<Value>> {
        if let Some(b) = bbox {
            check_bbox(b)?;
        }
        if is_catalog(path) {
            let params = self.params(bbox)?.unwrap_or_default();
            let found = search(Sources::from(path), &params)
                .with_context(|| format!("searching {}", path.display()))?;
            return found
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("reading {}", path.display()));
        }
        let items = read_items(path)?;
        let Some(params) = self.params(bbox.filter(|_| bbox_on_json))? else {
            return Ok(items);
        };
        let m = Matcher::new(&params)?;
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            if m.matches(&item)? {
                kept.push(item);
            }
        }
        Ok(kept)
    }
}

/// Whether `path` names a stac-geoparquet catalog: a folder, a glob, a
/// `.parquet`/`.geoparquet` file, or a file starting with Parquet's magic.
pub(crate) fn is_catalog(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    if path.is_dir() {
        return true;
    }
    let text = path.to_string_lossy();
    if text.contains(['*', '?']) && !path.exists() {
        return true;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if matches!(ext.as_str(), "parquet" | "geoparquet") {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"PAR1")
}

/// `--bbox W,S,E,N`: four finite numbers, south <= north, latitudes in
/// [-90, 90], longitudes in [-180, 180]. (West > east: `arg_checks::lonlat_bbox`.)
pub(crate) fn check_bbox(b: &[f64]) -> Result<()> {
    let [w, s, e, n] = <[f64; 4]>::try_from(b).map_err(|_| {
        anyhow::anyhow!("--bbox needs 4 numbers W,S,E,N (degrees), got {}", b.len())
    })?;
    if !b.iter().all(|v| v.is_finite()) {
        bail!("--bbox values must be finite numbers");
    }
    if s > n {
        bail!("--bbox south ({s}) is greater than north ({n})");
    }
    if !(-90.0..=90.0).contains(&s) || !(-90.0..=90.0).contains(&n) {
        bail!("--bbox latitudes must lie in [-90, 90], got south {s}, north {n}");
    }
    if !(-180.0..=180.0).contains(&w) || !(-180.0..=180.0).contains(&e) {
        bail!("--bbox longitudes must lie in [-180, 180], got west {w}, east {e}");
    }
    // West > east: `arg_checks::lonlat_bbox` (the library's one rule).
    Ok(())
}

/// Fail unless some item has an asset `key` (a typo is not "nothing to
/// do"); the message lists the keys the items have.
pub(crate) fn check_asset(items: &[Value], key: &str, flag: &str) -> Result<()> {
    let has = |i: &Value| i.get("assets").and_then(|a| a.get(key)).is_some();
    if items.is_empty() || items.iter().any(has) {
        return Ok(());
    }
    let keys: std::collections::BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i.get("assets").and_then(Value::as_object))
        .flat_map(|a| a.keys().map(String::as_str))
        .collect();
    let shown: Vec<&str> = keys.iter().copied().take(20).collect();
    bail!(
        "{flag} {key:?}: no item has an asset with that key ({} item{} read; assets: {}{})",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if keys.len() > shown.len() {
            ", …"
        } else {
            ""
        }
    )
}

/// Replace each asset's `href` (and `type`, when the alternate names one)
/// by its first alternate in `names` that has an href, as
/// `resolved_href_with` chooses; assets without one keep theirs.
pub(crate) fn apply_alternates(items: &mut [Value], names: &[String]) {
    if names.is_empty() {
        return;
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for item in items.iter_mut() {
        let keys: Vec<String> = item
            .get("assets")
            .and_then(Value::as_object)
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        for key in keys {
            let Ok(src) = stac_gdal::meta::asset_source(item, Some(&key), &names) else {
                continue;
            };
            if src.alternate.is_none() {
                continue;
            }
            let (href, media_type) = (src.href.to_owned(), src.media_type.map(str::to_owned));
            let asset = &mut item["assets"][&key];
            asset["href"] = href.into();
            if let Some(t) = media_type {
                asset["type"] = t.into();
            }
        }
    }
}

/// All items of a JSON file (`-` reads standard input), or of a catalog.
pub(crate) fn read_items(path: &Path) -> Result<Vec<Value>> {
    if is_catalog(path) {
        return CatalogQuery::default().read(path, None, false);
    }
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read items file {}: {e}", path.display()))?
    };
    let shown = if path.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    };
    if text.trim().is_empty() {
        bail!("{shown} is empty: expected a STAC Item, FeatureCollection, array or NDJSON");
    }
    let items = stac_gdal::parse_items(&text).with_context(|| format!("parsing {shown}"))?;
    for (i, item) in items.iter().enumerate() {
        let is_item = item.get("type").and_then(Value::as_str) == Some("Feature")
            || item.get("assets").is_some_and(Value::is_object);
        if !is_item {
            bail!(
                "{shown}: {} is not a STAC Item (no \"type\": \"Feature\" and no assets); \
                 expected a STAC Item, FeatureCollection, array or NDJSON",
                if items.len() == 1 {
                    "the document".to_owned()
                } else {
                    format!("entry {}", i + 1)
                }
            );
        }
    }
    Ok(items)
}

/// The item with `id`, or the only item when `id` is `None`.
pub(crate) fn pick_item(items: Vec<Value>, id: Option<&str>, path: &Path) -> Result<Value> {
    match id {
        Some(id) => {
            let found = items.iter().position(|i| stac_gdal::meta::item_id(i) == id);
            match found {
                Some(pos) => Ok(items.into_iter().nth(pos).expect("position is in range")),
                None => bail!(
                    "--item {id:?}: no such item in {} ({} item{})",
                    path.display(),
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                ),
            }
        }
        None => match items.len() {
            1 => Ok(items.into_iter().next().expect("one item")),
            0 => bail!("{} holds no items", path.display()),
            n => bail!(
                "{} holds {n} items: choose one with --item ID",
                path.display()
            ),
        },
    }
}
