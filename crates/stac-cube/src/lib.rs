//! # stac-cube
//!
//! [`DatasetCollection`]: `time x band x y x x` cubes from STAC items, on
//! one grid, loaded in parallel straight into the output buffer.
//!
//! ```
//! use ndarray::Array2;
//! use serde_json::json;
//! use stac_cube::{CubeOptions, DatasetCollection};
//! use stac_raster::{Dataset, GridSpec};
//!
//! let dir = tempfile::tempdir()?;
//! let write = |name: &str, v: u16, cell: f64, n: usize| -> Result<String, Box<dyn std::error::Error>> {
//!     let p = dir.path().join(name);
//!     Dataset::create_from_array(&Array2::from_elem((n, n), v), &GridSpec::north_up([600000.0, 5300000.0], cell, 32630), Some(0.0))?
//!         .to_file(&p)?;
//!     Ok(p.to_string_lossy().into_owned())
//! };
//! let items = vec![json!({"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
//!     "assets": {"B04": {"href": write("B04.tif", 1, 10.0, 4)?}, "B05": {"href": write("B05.tif", 2, 20.0, 2)?}}})];
//! // B05 (20 m) is resampled onto the finest grid (B04's 10 m).
//! let cube = DatasetCollection::from_stac(&items, &["B04", "B05"], &CubeOptions::default())?;
//! assert_eq!(cube.shape(), (1, 2, 4, 4));
//! assert_eq!(cube.band_names(), ["B04", "B05"]);
//! assert!(cube.read_array::<u16>().index_axis(ndarray::Axis(1), 1).iter().all(|&v| v == 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How a cube is built
//!
//! 1. **Filter** items by `bbox` (lon/lat, antimeridian-aware) and `max_items`.
//! 2. **Bands**: each requested asset key is one band (or one per band of a
//!    multi-band asset; `key.N` / `key.name` pick one).
//! 3. **Sources** (item x band): href resolved, `patch_url`, signed; grid,
//!    nodata, type, scale/offset from `proj:*` and `raster:bands` — no I/O.
//!    Only items without grid metadata are opened (reported in
//!    [`GridReport::opened`]).
//! 4. **Grid** ([`Grid`]): CRS explicit or most common; resolution explicit
//!    or the finest requested asset's; bounds explicit (grid CRS or lon/lat)
//!    or the union of footprints, snapped to the resolution (keeping the
//!    sources' native alignment by default, [`Anchor`]). Grids over
//!    [`CubeOptions::max_pixels`] are refused with their size.
//! 5. **Time axis**: one timestep per item sorted by (datetime, id), or per
//!    group key (`groupby`: solar day, time, id, property, closure), sorted.
//! 6. **Load**: blocks of rows of each (timestep, band) plane are read in
//!    parallel; each source is read from the window it covers (COG
//!    overviews when the grid is coarser), mapped by index when on the same
//!    CRS and nearest resampling, else warped by GDAL; fused per pixel
//!    ([`Fusion`]; nodata/NaN never valid). With remote sources, an I/O
//!    stage of [`CubeOptions::io_concurrency`] threads fetches every file's
//!    header once and each block's tiles ahead of the decode threads, with
//!    the bytes in flight capped ([`IoReport`] says what it did).
//! 7. **Failures**: with `fail_on_error(false)`, unreadable sources stay
//!    nodata and are listed in [`DatasetCollection::failures`]; sources whose
//!    footprint misses the grid are listed in [`GridReport::outside`]; a cube
//!    with nothing readable is an error, never silently empty.
//!
//! Links GDAL.
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

mod collection;
mod data;
mod error;
mod failure;
mod fusion;
mod grid;
mod io_stage;
pub mod layout;
mod load;
mod netcdf;
mod options;
mod place;
mod plan;
mod read;
mod sources;
mod spec;
mod timeline;
mod write;
pub mod zarr;

pub use collection::{CubePlan, DatasetCollection};
pub use data::CubeData;
pub use error::{CubeError, Result};
pub use failure::{Failure, Outside};
pub use fusion::{FuseFn, Fusion};
pub use grid::{Anchor, Bounds, Grid, GridReport};
pub use io_stage::IoReport;
pub use layout::{BandInfo, CubeLayout};
pub use netcdf::{NetcdfOptions, NetcdfReport};
pub use options::{
    AssetOptions, CubeOptions, DEFAULT_IO_CONCURRENCY, IO_CONCURRENCY_ENV, PatchUrl, Progress,
    ProgressFn, TimeOrder,
};
pub use spec::{CubeSpec, SpecGrid, SpecOptions};
pub use stac_meta::{GroupBy, GroupKey};
pub use stac_raster::{Crs, Resampling, TargetGrid, Window};
pub use timeline::Timestep;
pub use write::QuicklookOptions;
