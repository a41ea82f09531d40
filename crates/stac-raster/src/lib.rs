//! # stac-raster
//!
//! [`Dataset`]: a GDAL raster handle shared by the cube and VRT code —
//! create from an ndarray, open any href under a scoped GDAL env, write,
//! read arrays and windows, band names, nodata, grid, warp onto a grid —
//! plus `load_asset`, item-level windowed reads and `Dataset::to_stac_item`.
//!
//! Links GDAL (through the `gdal` crate).
//!
//! ## Threading rule
//!
//! A [`Dataset`] is `Send`, not `Sync`: one handle per thread. GDAL
//! configuration (signer credentials, HTTP tuning) is installed as
//! *thread-local* GDAL config around each open/read/warp/write of a handle
//! ([`EnvScope`]) and restored afterwards; this crate never sets GDAL's
//! process-global configuration.
//!
//! ```
//! use ndarray::Array2;
//! use stac_raster::{Dataset, GridSpec};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("B04.tif");
//! let arr = Array2::<u16>::from_elem((4, 4), 1);
//! Dataset::create_from_array(&arr, &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630), Some(0.0))?
//!     .to_file(&path)?;
//! let ds = Dataset::open(path.to_str().unwrap())?;
//! assert_eq!(ds.geotransform(), Some([600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]));
//! assert_eq!(ds.bounds(), Some([600000.0, 5299960.0, 600040.0, 5300000.0]));
//! # Ok::<(), stac_raster::RasterError>(())
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

mod block_cache;
mod block_read;
mod create;
mod dataset;
mod deflate_block;
mod error;
mod footprint;
mod grid;
mod limits;
mod load;
pub mod multidim;
mod pixel;
mod read;
mod resampling;
mod secrets;
mod source;
mod stac_item;
pub mod stage;
mod thread_env;
mod valid_data;
mod vrt_guard;
mod warp;
mod window;
mod write;

pub use block_cache::{
    BlockCacheLimit, block_cache_max, block_cache_used, limit_block_cache, release_freed_heap,
};
pub use block_read::MAX_DIRECT_BLOCK_BYTES;
pub use dataset::{Dataset, OpenOptions};
pub use deflate_block::deflate_blocks_inflated;
pub use error::{RasterError, Result};
pub use footprint::{Footprint, FootprintMode, FootprintOptions, bounds_footprint};
pub use grid::{Crs, CrsCache, GridSpec, TargetGrid};
pub use limits::{Timeouts, carries_http_credentials, gdal_version, guard_redirects};
pub use load::{LoadOptions, load_asset};
pub use pixel::Pixel;
pub use read::{ReadOptions, Window};
pub use resampling::Resampling;
pub use secrets::{redact_message, remember_env_secrets, remember_href_secrets, remember_secrets};
pub use source::{BandInfo, PatchUrl, RasterSource, SourceInfo, SourceOptions, fast_read_preset};
pub use stac_item::{
    BandOptions, EO_SCHEMA, ItemOptions, PROJECTION_SCHEMA, PROJECTION_V2_SCHEMA,
    ProjectionVersion, RASTER_SCHEMA, nodata_json,
};
pub use stac_meta::{DataType, HrefPolicy, HrefRule};
pub use stac_signers::GdalEnv;
pub use thread_env::{
    EnvScope, GdalMessage, GdalMessageLevel, set_gdal_message_handler, thread_config, with_env,
};
pub use warp::WarpOptions;
pub use window::{
    Part, PartOptions, read_item_part, read_item_point, read_item_preview, transform_bounds,
    transform_point,
};
pub use write::{Format, WriteOptions};
