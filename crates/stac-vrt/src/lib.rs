//! # stac-vrt
//!
//! [`build_vrt_from_stac`]: a GDAL VRT mosaic of one asset across STAC items.
//!
//! - **Metadata path.** When an item's asset carries a CRS (`proj:code`,
//!   `proj:epsg`, `proj:wkt2`, `proj:projjson`), `proj:transform`,
//!   `proj:shape` and a data type (`raster:bands[].data_type`, or
//!   [`VrtOptions::data_type`]), its source is written into the VRT from
//!   those fields alone. **No file is opened**: each source carries
//!   `SourceProperties`, so GDAL opens it only when its pixels are read.
//! - **Open path.** Only items lacking that metadata are opened (under the
//!   signer's GDAL env) to read their grid; the XML is still ours.
//! - **Grid.** Target CRS given, or the most common one (a warning names the
//!   others); sources in another CRS (or on rotated grids) become inline
//!   warped VRTs. Resolution highest (default) / lowest / average / explicit;
//!   extent the union of footprints or given bounds; placement uses
//!   `gdalbuildvrt`'s arithmetic, so both give the same pixels.
//! - **Credentials.** Hrefs go through the signer; the HTTP headers of its
//!   host-scoped GDAL env (`gdal_env_for(href)`) are embedded per source in
//!   GDAL's `/vsicurl?header.<Name>=...&empty_dir=yes&url=...` form (GDAL >=
//!   3.7), or, on older GDAL, `/vsicurl?header_file=/vsimem/...` pointing at
//!   an in-memory header file valid in this process. Options that cannot
//!   travel in a VRT (AWS keys, user/password) are named in a warning.
//!   Errors, `Debug` and reports hold redacted hrefs only; only
//!   [`Vrt::xml`] may hold a credential, and a warning says so.
//! - **Skips.** `fail_on_error` (default) fails naming the skipped sources
//!   (`skipped N of M`); `with_fail_on_error(false)` builds a partial mosaic
//!   and lists them.
//!
//! Module map: [`options`] (what can be asked), `sources` (href → GDAL path,
//! grid from metadata or file), `plan` (CRS, resolution, extent, placement),
//! `warp` (warped-VRT documents), `xml` (escaping, the document),
//! [`report`] (summary), [`vrt`] (the result), [`error`].
//!
//! ```
//! use serde_json::json;
//! use stac_vrt::{build_vrt_from_stac, VrtOptions};
//! let item = |id: &str, x: f64| json!({
//!     "id": id,
//!     "properties": {"proj:epsg": 32630},
//!     "assets": {"data": {
//!         "href": format!("/nowhere/{id}.tif"),
//!         "proj:shape": [4, 4],
//!         "proj:transform": [10.0, 0.0, x, 0.0, -10.0, 5300000.0],
//!         "raster:bands": [{"data_type": "uint16", "nodata": 0}]
//!     }}
//! });
//! let items = [item("a", 600000.0), item("b", 600040.0)];
//! // The files do not exist: the metadata path never opens them.
//! let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default())?;
//! assert_eq!(vrt.summary().shape, [4, 8]);
//! assert_eq!(vrt.summary().geotransform, [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]);
//! assert_eq!(vrt.summary().opened, 0);
//! let ds = vrt.open()?; // still nothing read
//! assert_eq!(ds.shape(), (1, 4, 8));
//! # Ok::<(), stac_vrt::VrtError>(())
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

pub mod error;
pub mod options;
mod plan;
pub mod report;
mod sources;
pub mod vrt;
mod warp;
mod xml;

use std::borrow::Borrow;

use serde_json::Value;
use stac_meta::DataType;

pub use error::{Result, VrtError};
pub use options::{MosaicOrder, Resampling, Resolution, VrtOptions};
pub use report::{SkippedSource, SourceSummary, VrtSummary};
pub use vrt::Vrt;

/// Build a VRT mosaic of `asset` over `items` (Items, FeatureCollections or
/// arrays of Items, as `serde_json::Value`s).
///
/// Opens no file for items whose metadata describes the grid (see the crate
/// docs); opens the others to read their grid. Nothing is read until pixels
/// are asked for from [`Vrt::open`].
///
/// Errors: no items; invalid options; with `fail_on_error` (the default) any
/// skipped source (`skipped N of M`, naming up to five, redacted); no usable
/// source at all.
///
/// ```
/// use serde_json::json;
/// use stac_vrt::{build_vrt_from_stac, VrtOptions};
/// let item = json!({
///     "id": "a",
///     "properties": {"proj:epsg": 32630},
///     "assets": {"data": {
///         "href": "/nowhere/a.tif",
///         "proj:shape": [4, 4],
///         "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
///         "raster:bands": [{"data_type": "uint16", "nodata": 0}]
///     }}
/// });
/// // An item without the asset: an error by default ...
/// let items = vec![item, json!({"id": "b", "properties": {}, "assets": {}})];
/// let e = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap_err();
/// assert!(e.to_string().contains("skipped 1 of 2"), "{e}");
/// // ... or skipped and reported.
/// let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default().with_fail_on_error(false))?;
/// assert_eq!(vrt.summary().skipped.len(), 1);
/// assert_eq!(vrt.summary().skipped[0].item, "b");
/// # Ok::<(), stac_vrt::VrtError>(())
/// ```
pub fn build_vrt_from_stac<I>(items: I, asset: &str, options: &VrtOptions) -> Result<Vrt>
where
    I: IntoIterator,
    I::Item: Borrow<Value>,
{
    let held: Vec<I::Item> = items.into_iter().collect();
    let mut flat: Vec<&Value> = Vec::with_capacity(held.len());
    for v in &held {
        flat.extend(stac_meta::item_slice(v.borrow())?);
    }
    let plan = plan::plan(&flat, asset, options)?;
    let xml = xml::mosaic(&plan, false);
    // Only a mosaic with embedded headers has another public form.
    let public_xml = plan
        .sources
        .iter()
        .any(|s| s.public_filename.is_some())
        .then(|| xml::mosaic(&plan, true));
    let summary = VrtSummary {
        shape: [plan.rows, plan.cols],
        band_count: plan.bands.len(),
        geotransform: plan.geotransform,
        crs: plan.crs.clone(),
        data_types: plan
            .bands
            .iter()
            .map(|b| {
                // The raster extension's lower-case names, as the cube's.
                DataType::from_gdal_name(b.data_type).map_or_else(
                    || b.data_type.to_ascii_lowercase(),
                    |t| t.as_str().to_owned(),
                )
            })
            .collect(),
        nodata: plan.bands.iter().map(|b| b.nodata).collect(),
        sources: plan.sources.iter().map(|s| s.summary.clone()).collect(),
        skipped: plan.skipped,
        outside_bounds: plan.outside_bounds,
        warnings: plan.warnings,
        opened: plan.opened,
    };
    Ok(Vrt {
        xml,
        public_xml,
        summary,
        env: plan.env,
        asset: asset.to_owned(),
    })
}
