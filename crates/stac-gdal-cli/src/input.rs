//! Reading items from a file argument (Item, FeatureCollection, array or NDJSON).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// All items of a file (`-` reads standard input).
pub fn read_items(path: &Path) -> Result<Vec<Value>> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    stac_gdal::parse_items(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The item with `id`, or the only item when `id` is `None`.
pub fn pick_item(items: Vec<Value>, id: Option<&str>, path: &Path) -> Result<Value> {
    match id {
        Some(id) => {
            let found = items.iter().position(|i| stac_gdal::meta::item_id(i) == id);
            match found {
                Some(pos) => Ok(items.into_iter().nth(pos).expect("position is in range")),
                None => bail!(
                    "no item with id {id:?} in {} ({} items)",
                    path.display(),
                    items.len()
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
