//! # stac-meta
//!
//! Zero-I/O access to STAC metadata held as raw JSON ([`serde_json::Value`]).
//! No STAC object model, no GDAL, no network: every function here is a pure
//! function of its arguments.
//!
//! What this crate owns:
//! - **Items and assets** ([`item`]): parse an Item, a FeatureCollection, a
//!   bare array or NDJSON ([`parse_items`]); ids, properties, bbox, assets,
//!   hrefs, media types, collection ids, `alternate` hrefs, the `self` link.
//! - **Extension metadata** ([`extension`]): [`read_extension_metadata`]
//!   turns `proj:*`, `raster:bands`, `eo:bands` and STAC 1.1 `bands` into a
//!   grid (CRS, geotransform, shape) and typed band metadata.
//! - **Engines** ([`engine`]): [`which_engine`] picks the reader (GDAL,
//!   NetCDF, GRIB, Zarr) from media type or extension.
//! - **Hrefs** ([`href`]): [`gdal_path`] maps `s3://`, `gs://`, `https://`...
//!   to `/vsi*` paths; [`resolve_relative`] resolves hrefs against the
//!   item's `self` link; [`redact`] strips credentials before an href reaches
//!   a message; [`HrefPolicy`] says which hrefs may be opened (e.g. remote
//!   only: no `file:///etc/passwd` from a catalog), judged by [`href_kind`].
//! - **Time** ([`datetime`], [`group`]): item datetimes and intervals,
//!   [`solar_day`] and the [`GroupBy`] keys used for same-day mosaics.
//! - **Search parameters** ([`search`]): [`search::SearchParams`], the STAC
//!   API Item Search parameters shared by the API client and the search over
//!   stac-geoparquet catalog files.
//! - **Bounded parsing** ([`budget`]): JSON parsed into a `Value` that may
//!   take at most a given number of bytes in memory (search pages, JSON
//!   text read from Parquet).
//!
//! ```
//! use serde_json::json;
//! let item = json!({"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
//!                   "assets": {"B04": {"href": "s3://bucket/B04.tif"}}});
//! assert_eq!(stac_meta::which_engine(&item, Some("B04"))?.as_str(), "gdal");
//! assert_eq!(stac_meta::gdal_path(stac_meta::asset_href(&item, "B04")?), "/vsis3/bucket/B04.tif");
//! # Ok::<(), stac_meta::MetaError>(())
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

pub mod budget;
pub mod datetime;
pub mod engine;
pub mod error;
pub mod extension;
pub mod geotransform;
pub mod group;
pub mod href;
pub mod item;
pub mod policy;
pub mod search;

pub use datetime::{datetime_property, item_datetime, item_interval, parse_datetime};
pub use engine::{
    AssetKind, Engine, asset_kind, asset_roles, engine_for, item_asset_kind, require_raster,
    which_engine, which_engine_with,
};
pub use error::{Location, MetaError, Result};
pub use extension::{
    BandMetadata, DataType, ExtensionMetadata, affine_to_geotransform, geotransform_to_affine,
    parse_number, read_extension_metadata,
};
pub use group::{GroupBy, GroupFn, GroupKey, solar_day};
pub use href::{
    gdal_path, href_kind, is_remote, is_vsi, redact, redact_text, resolve_relative, scheme,
};
pub use item::{
    AssetSource, Bbox, alternate_href, asset, asset_href, asset_source, assets, bbox,
    check_lonlat_bbox, collection_id, item_id, item_slice, items_from_value, media_type,
    parse_items, properties, property, self_href,
};
pub use policy::{DEFAULT_DRIVERS, HrefPolicy, HrefRule};
