//! `meta`, `engine` and `href`: zero-I/O metadata subcommands.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::input::{pick_item, read_items};

/// Which asset of which item.
#[derive(Debug, Args)]
pub struct AssetSelector {
    /// STAC Item, FeatureCollection, JSON array or NDJSON file (`-` for stdin).
    file: PathBuf,
    /// Asset key.
    #[arg(long)]
    asset: String,
    /// Item id (required when the file holds several items).
    #[arg(long)]
    item: Option<String>,
}

/// Arguments of `stac-gdal meta`.
#[derive(Debug, Args)]
pub struct MetaArgs {
    #[command(flatten)]
    sel: AssetSelector,
}

/// Arguments of `stac-gdal engine`.
#[derive(Debug, Args)]
pub struct EngineArgs {
    #[command(flatten)]
    sel: AssetSelector,
}

/// Arguments of `stac-gdal href`.
#[derive(Debug, Args)]
pub struct HrefArgs {
    #[command(flatten)]
    sel: AssetSelector,
    /// Print the GDAL path (`/vsis3/...`, `/vsicurl/...`) instead of the href.
    #[arg(long)]
    gdal: bool,
}

fn load(sel: &AssetSelector) -> Result<serde_json::Value> {
    pick_item(read_items(&sel.file)?, sel.item.as_deref(), &sel.file)
}

/// `stac-gdal meta`
pub fn meta(args: MetaArgs) -> Result<()> {
    let item = load(&args.sel)?;
    let meta = stac_gdal::read_extension_metadata(&item, Some(&args.sel.asset))?;
    let mut json = serde_json::to_value(&meta)?;
    // `epsg` also from a `proj:code` of the form EPSG:<n> (the library keeps
    // pyramids' key, which reads `proj:epsg` only).
    json["epsg"] = meta.epsg_code().into();
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// `stac-gdal engine`
pub fn engine(args: EngineArgs) -> Result<()> {
    let item = load(&args.sel)?;
    println!("{}", stac_gdal::which_engine(&item, Some(&args.sel.asset))?);
    Ok(())
}

/// `stac-gdal href`
pub fn href(args: HrefArgs) -> Result<()> {
    let item = load(&args.sel)?;
    let href = stac_gdal::resolved_href(&item, Some(&args.sel.asset), None)?;
    if args.gdal {
        println!("{}", stac_gdal::gdal_path(&href));
    } else {
        println!("{href}");
    }
    Ok(())
}
