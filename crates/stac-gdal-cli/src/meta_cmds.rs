//! `meta`, `engine` and `href`: zero-I/O metadata subcommands.
//!
//! `meta` prints one asset of one item as pretty JSON; without `--item` on
//! a file of several items, or without `--asset`, it lists every selected
//! item and asset as NDJSON, one line each (`{"item", "asset", ...}`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use crate::input::{apply_alternates, pick_item, read_items};

/// Which asset of which item.
#[derive(Debug, Args)]
pub(crate) struct AssetSelector {
    /// STAC Item, FeatureCollection, JSON array or NDJSON file (`-` for stdin).
    file: PathBuf,
    /// Asset key.
    #[arg(long)]
    asset: String,
    /// Item id (required when the file holds several items).
    #[arg(long)]
    item: Option<String>,
    /// Prefer these alternate hrefs (alternate-assets extension, e.g. `s3`), in order.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    alternate: Vec<String>,
}

/// Arguments of `stac-gdal meta`.
#[derive(Debug, Args)]
pub(crate) struct MetaArgs {
    /// STAC Item, FeatureCollection, JSON array or NDJSON file (`-` for stdin).
    file: PathBuf,
    /// Asset key; without it, every asset (NDJSON, one line per item and asset).
    #[arg(long)]
    asset: Option<String>,
    /// Item id; without it, every item of the file (NDJSON when there are several).
    #[arg(long)]
    item: Option<String>,
}

/// Arguments of `stac-gdal engine`.
#[derive(Debug, Args)]
pub(crate) struct EngineArgs {
    #[command(flatten)]
    sel: AssetSelector,
}

/// Arguments of `stac-gdal href`.
#[derive(Debug, Args)]
pub(crate) struct HrefArgs {
    #[command(flatten)]
    sel: AssetSelector,
    /// Print the GDAL path (`/vsis3/...`, `/vsicurl/...`) instead of the href.
    #[arg(long)]
    gdal: bool,
}

fn load(sel: &AssetSelector) -> Result<Value> {
    let mut items = read_items(&sel.file)?;
    apply_alternates(&mut items, &sel.alternate);
    pick_item(items, sel.item.as_deref(), &sel.file)
}

/// The metadata as JSON, `epsg` also from a `proj:code` of the form
/// EPSG:<n> (the library keeps pyramids' key, which reads `proj:epsg` only).
fn meta_json(meta: &stac_gdal::meta::ExtensionMetadata<'_>) -> Result<Value> {
    let mut json = serde_json::to_value(meta)?;
    json["epsg"] = meta.epsg_code().into();
    Ok(json)
}

/// `stac-gdal meta`
pub(crate) fn meta(args: MetaArgs) -> Result<()> {
    let items = read_items(&args.file)?;
    // One item and one asset: the metadata object itself.
    if let Some(asset) = &args.asset
        && (args.item.is_some() || items.len() == 1)
    {
        let item = pick_item(items, args.item.as_deref(), &args.file)?;
        let meta = stac_gdal::read_extension_metadata(&item, Some(asset))?;
        return crate::output::print_json(&meta_json(&meta)?);
    }
    let items = match &args.item {
        Some(id) => vec![pick_item(items, Some(id), &args.file)?],
        None if items.is_empty() => anyhow::bail!("{} holds no items", args.file.display()),
        None => items,
    };
    let mut out = std::io::BufWriter::new(crate::output::Stdout::lock());
    for item in &items {
        let id = stac_gdal::meta::item_id(item);
        let keys: Vec<&str> = match &args.asset {
            Some(a) => vec![a.as_str()],
            None => item
                .get("assets")
                .and_then(Value::as_object)
                .map(|a| a.keys().map(String::as_str).collect())
                .unwrap_or_default(),
        };
        for key in keys {
            let mut line = serde_json::json!({"item": id, "asset": key});
            match stac_gdal::read_extension_metadata(item, Some(key)) {
                Ok(meta) => line["meta"] = meta_json(&meta)?,
                Err(e) => line["error"] = e.to_string().into(),
            }
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush().context("writing to standard output")
}

/// `stac-gdal engine`
pub(crate) fn engine(args: EngineArgs) -> Result<()> {
    let item = load(&args.sel)?;
    let alternates = alternates(&args.sel);
    crate::output::print(stac_gdal::meta::which_engine_with(
        &item,
        Some(&args.sel.asset),
        &alternates,
    )?)
}

fn alternates(sel: &AssetSelector) -> Vec<&str> {
    sel.alternate.iter().map(String::as_str).collect()
}

/// `stac-gdal href`
pub(crate) fn href(args: HrefArgs) -> Result<()> {
    let item = load(&args.sel)?;
    let alternates = alternates(&args.sel);
    let href =
        stac_gdal::signers::resolved_href_with(&item, Some(&args.sel.asset), None, &alternates)?;
    if args.gdal {
        crate::output::print(stac_gdal::gdal_path(&href))
    } else {
        crate::output::print(href)
    }
}
