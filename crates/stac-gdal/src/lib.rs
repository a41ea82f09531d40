//! # stac-gdal
//!
//! STAC catalogs as GDAL-native rasters. This facade re-exports the
//! workspace's crates behind cargo features:
//!
//! | feature | crate | links GDAL | network crates |
//! |---|---|---|---|
//! | `meta` (always) | [`meta`] (`stac-meta`) | no | no |
//! | `signers` | `signers` (`stac-signers`) | no | no |
//! | `signers-network` | `stac-signers/network` | no | yes |
//! | `raster` | `raster` (`stac-raster`) | yes | no |
//! | `vrt` | `vrt` (`stac-vrt`) | yes | no |
//! | `cube` | `cube` (`stac-cube`) | yes | no |
//! | `geoparquet` | `geoparquet` (`stac-geoparquet`) | no | no |
//! | `client` | `client` (`stac-client`) | no | yes |
//! | `client` + `cube` | `stac-client/cube`: `DatasetCollection::from_point` | yes | yes |
//!
//! The default features are the offline capabilities: `meta`, `signers`,
//! `raster`, `vrt`, `cube`, `geoparquet`. Take `default-features = false,
//! features = ["geoparquet"]` to get GeoParquet without libgdal.
//!
//! ```
//! use serde_json::json;
//! let item = json!({"id": "a", "assets": {"B04": {"href": "s3://b/B04.tif"}}});
//! assert_eq!(stac_gdal::which_engine(&item, Some("B04"))?.as_str(), "gdal");
//! # Ok::<(), stac_gdal::meta::MetaError>(())
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

pub use stac_meta as meta;
pub use stac_meta::{
    Engine, ExtensionMetadata, GroupBy, gdal_path, parse_items, read_extension_metadata, redact,
    solar_day, which_engine,
};

#[cfg(feature = "signers")]
pub use stac_signers as signers;
#[cfg(feature = "signers")]
pub use stac_signers::{
    AnonymousSigner, AwsRequesterPaysSigner, BearerTokenSigner, CdseSigner, EarthdataSigner,
    GdalEnv, PlanetaryComputerSigner, Signer, SignerError, resolved_href,
};

#[cfg(feature = "raster")]
pub use stac_raster as raster;
#[cfg(feature = "raster")]
pub use stac_raster::{
    Crs, Dataset, GridSpec, ItemOptions, LoadOptions, RasterError, TargetGrid, load_asset,
    read_item_part, read_item_point, read_item_preview,
};

#[cfg(feature = "vrt")]
pub use stac_vrt as vrt;
#[cfg(feature = "vrt")]
pub use stac_vrt::{VrtOptions, build_vrt_from_stac};

#[cfg(feature = "cube")]
pub use stac_cube as cube;

#[cfg(feature = "geoparquet")]
pub use stac_geoparquet as geoparquet;
#[cfg(feature = "geoparquet")]
pub use stac_geoparquet::{GeoParquetError, from_geoparquet, to_geoparquet};

#[cfg(feature = "client")]
pub use stac_client as client;
#[cfg(feature = "client")]
pub use stac_client::{
    AsyncClient, Client, ClientError, ClientOptions, DownloadOptions, SearchParams, download_item,
    download_items, search,
};
#[cfg(all(feature = "client", feature = "cube"))]
pub mod point;
#[cfg(all(feature = "client", feature = "cube"))]
pub use point::{EdgeUnits, FromPoint, PointError, PointOptions, PointQuery, search_point};
