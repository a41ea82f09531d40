//! [`CubeOptions`]: everything `from_stac` can be told, as one struct with
//! `Default` and setters.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use stac_meta::{DataType, GroupBy, HrefPolicy};
use stac_raster::{GdalEnv, Resampling, SourceOptions, Timeouts};
use stac_signers::Signer;

use crate::fusion::Fusion;
use crate::grid::Grid;

pub use stac_raster::PatchUrl;

/// Receives load progress.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Load progress: sources (item x asset band reads) done out of total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Sources finished (read, failed or outside the grid).
    pub done: usize,
    /// All sources.
    pub total: usize,
}

/// Order of the time axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeOrder {
    /// Sorted by (datetime, id); items without a datetime last. Inside a
    /// group, the same order decides which item is "first".
    #[default]
    Sorted,
    /// The input order (after filtering); groups still sort by key, but
    /// inside a group the input order decides priority.
    Input,
}

/// Per-asset overrides.
///
/// ```
/// use ndarray::Array2;
/// use serde_json::{json, Value};
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// // Two 4 x 4 scenes of one tile, on two days.
/// let items: Vec<Value> = (0..2u16)
///     .map(|d| {
///         let path = dir.path().join(format!("b04-{d}.tif"));
///         Dataset::create_from_array(&Array2::<u16>::from_elem((4, 4), 10 + d),
///             &GridSpec::north_up([500_000.0, 4_000_040.0], 10.0, 32632), Some(0.0))?
///             .to_file(&path)?;
///         Ok(json!({"type": "Feature", "id": format!("s{d}"),
///             "properties": {"datetime": format!("2024-05-0{}T10:00:00Z", d + 1)},
///             "assets": {"B04": {"href": path.to_str().unwrap(), "type": "image/tiff"}}}))
///     })
///     .collect::<Result<_, stac_raster::RasterError>>()?;
/// use stac_cube::{AssetOptions, CubeOptions, DatasetCollection};
/// use stac_raster::DataType;
/// // B04 loaded as float32 with -1 as its nodata.
/// let options = CubeOptions::default().with_asset(
///     "B04",
///     AssetOptions::default().with_data_type(DataType::Float32).with_nodata(-1.0),
/// );
/// let cube = DatasetCollection::from_stac(&items, &["B04"], &options)?;
/// assert_eq!(cube.data_type(), DataType::Float32);
/// assert_eq!(cube.read_array::<f32>()[[0, 0, 0, 0]], 10.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AssetOptions {
    /// Nodata of the asset's pixels, replacing what `raster:bands` or the file declares.
    pub nodata: Option<f64>,
    /// Data type of the asset, replacing `raster:bands` `data_type` (used
    /// to choose the cube's type).
    pub dtype: Option<DataType>,
    /// Resampling of this asset when it is warped onto the grid.
    pub resampling: Option<Resampling>,
}

impl AssetOptions {
    /// Set the nodata override.
    pub fn with_nodata(mut self, nodata: f64) -> Self {
        self.nodata = Some(nodata);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_nodata`")]
    pub fn nodata(self, nodata: f64) -> Self {
        self.with_nodata(nodata)
    }
    /// Set the data type override.
    pub fn with_data_type(mut self, dtype: DataType) -> Self {
        self.dtype = Some(dtype);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_data_type`")]
    pub fn dtype(self, dtype: DataType) -> Self {
        self.with_data_type(dtype)
    }
    /// Set the resampling of this asset.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = Some(resampling);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resampling`")]
    pub fn resampling(self, resampling: Resampling) -> Self {
        self.with_resampling(resampling)
    }
}

/// Options of [`DatasetCollection::from_stac`](crate::DatasetCollection::from_stac).
///
/// ```
/// use stac_cube::{CubeOptions, Fusion, Grid};
/// use stac_meta::GroupBy;
/// let opts = CubeOptions::default()
///     .with_groupby(GroupBy::SolarDay)
///     .with_fusion(Fusion::Median)
///     .with_grid(Grid::default().with_crs_epsg(32630).with_resolution(20.0))
///     .with_fail_on_error(false);
/// assert!(opts.align);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct CubeOptions {
    /// The output grid request (default: planned from the items).
    pub grid: Grid,
    /// Warp sources onto the grid (default true); `false` requires every
    /// source to sit on the grid's CRS, resolution and pixel alignment.
    pub align: bool,
    /// Default resampling when warping (default nearest).
    pub resampling: Resampling,
    /// Grouping of items into timesteps (default: one per item).
    pub groupby: GroupBy,
    /// How a group's items fuse into one timestep (default first valid).
    pub fusion: Fusion,
    /// Order of the time axis and of items inside a group.
    pub time_order: TimeOrder,
    /// Data type of the cube (default: the widest of the sources'; float32
    /// for rescale and for mean/median of integers; uint32 for count).
    pub dtype: Option<DataType>,
    /// Nodata of the cube (default: the first declared source nodata; NaN
    /// for floats; 0 for integers when nothing declares one, reported).
    pub nodata: Option<f64>,
    /// Per-asset overrides, by asset key.
    pub assets: BTreeMap<String, AssetOptions>,
    /// Apply `raster:bands` scale/offset (cube becomes float32).
    pub rescale: bool,
    /// Rewrite hrefs before signing.
    pub patch_url: Option<PatchUrl>,
    /// Signer: its href hook is applied to every href; each source gets its
    /// GDAL env scoped to that source's origin (`Signer::gdal_env_for`).
    pub signer: Option<Arc<dyn Signer>>,
    /// Extra GDAL config installed (thread-locally) around every open and read.
    pub env: GdalEnv,
    /// Keep only items whose bbox overlaps this lon/lat box
    /// (antimeridian-aware; items without bbox are kept).
    pub bbox: Option<[f64; 4]>,
    /// Read a lon/lat box (`bbox`, or `Grid` bounds in lon/lat) with west >
    /// east as crossing the antimeridian even when it would span more than
    /// 180° of longitude (default `false`: such a box is an error, since it
    /// is more often west and east swapped; see
    /// [`stac_meta::check_lonlat_bbox`]).
    pub antimeridian: bool,
    /// Keep only the first N items (after the bbox filter; at least 1).
    pub max_items: Option<usize>,
    /// Fail on the first unreadable source (default true); `false` fills
    /// nodata and reports it in [`failures`](crate::DatasetCollection::failures).
    /// When every source fails, the load is a
    /// [`CubeError::Read`](crate::CubeError::Read) either way: an all-nodata
    /// cube is never returned.
    pub fail_on_error: bool,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Reader threads (default: available parallelism).
    pub threads: Option<usize>,
    /// Pixels per load block (the unit of parallel work and of the working
    /// set per thread; default 4 Mi).
    pub block_pixels: usize,
    /// Refuse grids with more pixels per plane than this (default 250 M).
    pub max_pixels: u64,
    /// Read COG overviews when the grid is coarser than a source (default true).
    pub use_overviews: bool,
    /// Which hrefs may be opened, judged after `patch_url` and signing
    /// (default [`HrefPolicy::for_local_items`]: local paths allowed;
    /// connection strings, special files, remote VRTs and drivers outside
    /// the allow-list refused). Use [`HrefPolicy::for_api_items`] for items
    /// from a STAC API. A refused href is a failure of its source, naming
    /// the rule; nothing is opened for it.
    pub href_policy: HrefPolicy,
    /// Time bounds on every source's open and reads (connect, stall,
    /// per-source deadline).
    pub timeouts: Timeouts,
    /// Requests in flight for remote sources: the I/O threads that fetch
    /// COG bytes ahead of the decode threads (`threads`). `None`: the
    /// `STAC_GDAL_IO_CONCURRENCY` environment variable when set, else
    /// [`DEFAULT_IO_CONCURRENCY`]. `0` reads remote sources like local ones
    /// (on the decode threads). Local-only loads never use it.
    pub io_concurrency: Option<usize>,
    /// Cap on bytes fetched but not yet decoded (default 64 MiB; a task
    /// needing more runs alone).
    pub io_bytes: u64,
}

/// Default I/O threads for loads with remote sources: enough to hide
/// 60 ms per request behind two decode threads (docs/object-storage-io.md).
/// It was 16 until the decode threads got faster (the vendored inflate):
/// the same-day mosaic at 60 ms then waited on its 288 requests (16 in
/// flight: a floor of 288 x 60 ms / 16 = 1.08 s against ~0.6 s of
/// decoding), and 64 in flight took 0.75x the time for 3 % more memory.
pub const DEFAULT_IO_CONCURRENCY: usize = 32;

/// The environment variable that sets the I/O concurrency when the
/// options do not.
pub const IO_CONCURRENCY_ENV: &str = "STAC_GDAL_IO_CONCURRENCY";

impl Default for CubeOptions {
    fn default() -> Self {
        Self {
            grid: Grid::default(),
            align: true,
            resampling: Resampling::Nearest,
            groupby: GroupBy::None,
            fusion: Fusion::First,
            time_order: TimeOrder::Sorted,
            dtype: None,
            nodata: None,
            assets: BTreeMap::new(),
            rescale: false,
            patch_url: None,
            signer: None,
            env: GdalEnv::default(),
            bbox: None,
            antimeridian: false,
            max_items: None,
            fail_on_error: true,
            progress: None,
            threads: None,
            block_pixels: 4 << 20,
            max_pixels: 250_000_000,
            use_overviews: true,
            href_policy: HrefPolicy::default(),
            timeouts: Timeouts::default(),
            io_concurrency: None,
            io_bytes: 64 << 20,
        }
    }
}

impl fmt::Debug for CubeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CubeOptions")
            .field("grid", &self.grid)
            .field("align", &self.align)
            .field("resampling", &self.resampling)
            .field("groupby", &self.groupby)
            .field("fusion", &self.fusion)
            .field("time_order", &self.time_order)
            .field("dtype", &self.dtype)
            .field("nodata", &self.nodata)
            .field("assets", &self.assets)
            .field("rescale", &self.rescale)
            .field("patch_url", &self.patch_url.as_ref().map(|_| "<fn>"))
            .field("signer", &self.signer.as_ref().map(|s| s.name().to_owned()))
            .field("env", &self.env)
            .field("bbox", &self.bbox)
            .field("antimeridian", &self.antimeridian)
            .field("max_items", &self.max_items)
            .field("fail_on_error", &self.fail_on_error)
            .field("progress", &self.progress.as_ref().map(|_| "<fn>"))
            .field("threads", &self.threads)
            .field("block_pixels", &self.block_pixels)
            .field("max_pixels", &self.max_pixels)
            .field("use_overviews", &self.use_overviews)
            .field("href_policy", &self.href_policy)
            .field("timeouts", &self.timeouts)
            .field("io_concurrency", &self.io_concurrency)
            .field("io_bytes", &self.io_bytes)
            .finish()
    }
}

impl CubeOptions {
    /// Set the grid request.
    pub fn with_grid(mut self, grid: Grid) -> Self {
        self.grid = grid;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_grid`")]
    pub fn grid(self, grid: Grid) -> Self {
        self.with_grid(grid)
    }
    /// Warp sources onto the grid (`true`, default) or require them aligned.
    pub fn with_align(mut self, align: bool) -> Self {
        self.align = align;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_align`")]
    pub fn align(self, align: bool) -> Self {
        self.with_align(align)
    }
    /// Default resampling for warped sources.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resampling`")]
    pub fn resampling(self, resampling: Resampling) -> Self {
        self.with_resampling(resampling)
    }
    /// Resampling for one asset key.
    pub fn with_asset_resampling(
        mut self,
        asset: impl Into<String>,
        resampling: Resampling,
    ) -> Self {
        self.assets.entry(asset.into()).or_default().resampling = Some(resampling);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_asset_resampling`")]
    pub fn asset_resampling(self, asset: impl Into<String>, resampling: Resampling) -> Self {
        self.with_asset_resampling(asset, resampling)
    }
    /// Group items into timesteps.
    pub fn with_groupby(mut self, groupby: GroupBy) -> Self {
        self.groupby = groupby;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_groupby`")]
    pub fn groupby(self, groupby: GroupBy) -> Self {
        self.with_groupby(groupby)
    }
    /// Fusion inside a group.
    pub fn with_fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = fusion;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_fusion`")]
    pub fn fusion(self, fusion: Fusion) -> Self {
        self.with_fusion(fusion)
    }
    /// Order of the time axis.
    pub fn with_time_order(mut self, order: TimeOrder) -> Self {
        self.time_order = order;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_time_order`")]
    pub fn time_order(self, order: TimeOrder) -> Self {
        self.with_time_order(order)
    }
    /// Data type of the cube.
    pub fn with_data_type(mut self, dtype: DataType) -> Self {
        self.dtype = Some(dtype);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_data_type`")]
    pub fn dtype(self, dtype: DataType) -> Self {
        self.with_data_type(dtype)
    }
    /// Nodata of the cube.
    pub fn with_nodata(mut self, nodata: f64) -> Self {
        self.nodata = Some(nodata);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_nodata`")]
    pub fn nodata(self, nodata: f64) -> Self {
        self.with_nodata(nodata)
    }
    /// Overrides for one asset key.
    pub fn with_asset(mut self, key: impl Into<String>, options: AssetOptions) -> Self {
        self.assets.insert(key.into(), options);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_asset`")]
    pub fn asset(self, key: impl Into<String>, options: AssetOptions) -> Self {
        self.with_asset(key, options)
    }
    /// Apply `raster:bands` scale/offset.
    pub fn with_rescale(mut self, rescale: bool) -> Self {
        self.rescale = rescale;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_rescale`")]
    pub fn rescale(self, rescale: bool) -> Self {
        self.with_rescale(rescale)
    }
    /// Rewrite hrefs before signing.
    pub fn with_patch_url(mut self, f: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.patch_url = Some(Arc::new(f));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_patch_url`")]
    pub fn patch_url(self, f: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.with_patch_url(f)
    }
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = Some(signer.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_signer`")]
    pub fn signer(self, signer: Arc<dyn Signer>) -> Self {
        self.with_signer(signer)
    }
    /// Extra GDAL config for opens and reads.
    pub fn with_env(mut self, env: GdalEnv) -> Self {
        self.env = env;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_env`")]
    pub fn env(self, env: GdalEnv) -> Self {
        self.with_env(env)
    }
    /// Keep items overlapping a lon/lat box.
    pub fn with_bbox(mut self, bbox: [f64; 4]) -> Self {
        self.bbox = Some(bbox);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bbox`")]
    pub fn bbox(self, bbox: [f64; 4]) -> Self {
        self.with_bbox(bbox)
    }
    /// Accept lon/lat boxes with west > east as crossing the antimeridian
    /// whatever their width (see [`antimeridian`](Self::antimeridian)).
    pub fn with_antimeridian(mut self, yes: bool) -> Self {
        self.antimeridian = yes;
        self
    }
    /// Keep the first N items (N = 0 is refused when planning).
    pub fn with_max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_max_items`")]
    pub fn max_items(self, n: usize) -> Self {
        self.with_max_items(n)
    }
    /// Fail on unreadable sources (`true`) or report them and fill nodata.
    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.fail_on_error = fail;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_fail_on_error`")]
    pub fn fail_on_error(self, fail: bool) -> Self {
        self.with_fail_on_error(fail)
    }
    /// Progress callback.
    pub fn with_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_progress`")]
    pub fn progress(self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.with_progress(f)
    }
    /// Reader threads.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = Some(n.max(1));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_threads`")]
    pub fn threads(self, n: usize) -> Self {
        self.with_threads(n)
    }
    /// Pixels per load block.
    pub fn with_block_pixels(mut self, n: usize) -> Self {
        self.block_pixels = n.max(1);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_block_pixels`")]
    pub fn block_pixels(self, n: usize) -> Self {
        self.with_block_pixels(n)
    }
    /// Pixel limit per plane.
    pub fn with_max_pixels(mut self, n: u64) -> Self {
        self.max_pixels = n;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_max_pixels`")]
    pub fn max_pixels(self, n: u64) -> Self {
        self.with_max_pixels(n)
    }
    /// Use COG overviews for coarser grids.
    pub fn with_use_overviews(mut self, on: bool) -> Self {
        self.use_overviews = on;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_use_overviews`")]
    pub fn use_overviews(self, on: bool) -> Self {
        self.with_use_overviews(on)
    }

    /// Restrict which hrefs may be opened (e.g. [`HrefPolicy::remote_only`]).
    pub fn with_href_policy(mut self, policy: HrefPolicy) -> Self {
        self.href_policy = policy;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_href_policy`")]
    pub fn href_policy(self, policy: HrefPolicy) -> Self {
        self.with_href_policy(policy)
    }

    /// Set the time bounds of every source's open and reads.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Requests in flight for remote sources (see [`io_concurrency`](Self::io_concurrency)).
    ///
    /// ```
    /// use stac_cube::CubeOptions;
    /// let o = CubeOptions::default().with_io_concurrency(32);
    /// assert_eq!(o.effective_io_concurrency(), 32);
    /// ```
    pub fn with_io_concurrency(mut self, n: usize) -> Self {
        self.io_concurrency = Some(n);
        self
    }

    /// Cap on fetched-but-not-decoded bytes (at least 1 MiB).
    pub fn with_io_bytes(mut self, bytes: u64) -> Self {
        self.io_bytes = bytes.max(1 << 20);
        self
    }

    /// The I/O concurrency a load uses: the option, else
    /// `STAC_GDAL_IO_CONCURRENCY` (an unsigned integer; anything else is
    /// ignored), else [`DEFAULT_IO_CONCURRENCY`]; at most 256.
    pub fn effective_io_concurrency(&self) -> usize {
        self.io_concurrency
            .or_else(|| {
                std::env::var(IO_CONCURRENCY_ENV)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(DEFAULT_IO_CONCURRENCY)
            .min(256)
    }

    /// The source-layer options of every source of the cube.
    pub fn source_options(&self) -> SourceOptions {
        let mut o = SourceOptions::default()
            .with_policy(self.href_policy.clone())
            .with_timeouts(self.timeouts)
            .with_env(self.env.clone());
        if let Some(s) = &self.signer {
            o = o.with_signer(s.clone());
        }
        if let Some(f) = &self.patch_url {
            o = o.with_patch_url(f.clone());
        }
        o
    }

    pub(crate) fn asset_options(&self, key: &str) -> Option<&AssetOptions> {
        self.assets.get(key)
    }
}
