//! [`Dataset`]: a GDAL raster handle with the GDAL env it was opened under.

use std::sync::Arc;
use std::time::Instant;

use gdal::Metadata;
use stac_meta::{DataType, HrefPolicy, HrefRule};
use stac_signers::GdalEnv;

use crate::error::{RasterError, Result};
use crate::grid::{Crs, GridSpec};
use crate::limits::{Budget, Limit};
use crate::pixel::data_type_of;
use crate::read::Window;
use crate::thread_env::EnvScope;

/// A GDAL raster and the [`GdalEnv`] it was opened under.
///
/// The env (e.g. a signer's `GDAL_HTTP_HEADERS`) is installed as
/// *thread-local* GDAL configuration around the open and around every later
/// call that can touch the source (reads, warps, writes), and removed right
/// after, so it never leaks to other threads or other datasets.
///
/// # Threading rule
///
/// A `Dataset` is `Send` but not `Sync`: move it to a thread, use it there,
/// and never share one handle between threads. For parallel reads open one
/// handle per thread (opening is cheap; GDAL caches file metadata). The env
/// is re-installed on whichever thread uses the handle.
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let arr = Array2::<u16>::from_elem((4, 4), 1);
/// let ds = Dataset::create_from_array(&arr, &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630), Some(0.0))?;
/// assert_eq!(ds.shape(), (1, 4, 4));
/// assert_eq!(ds.epsg(), Some(32630));
/// assert_eq!(ds.nodata(), vec![Some(0.0)]);
/// assert_eq!(ds.band_names(), vec!["Band_1".to_string()]);
/// assert_eq!(ds.read_array::<u16>()?.sum(), 16);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
pub struct Dataset {
    pub(crate) inner: gdal::Dataset,
    pub(crate) env: GdalEnv,
    /// The path it was opened from, redacted (for messages).
    pub(crate) label: String,
    /// Datasets `inner` reads from (e.g. the file under an in-memory VRT);
    /// declared after `inner` so they are closed after it.
    pub(crate) keep_alive: Vec<gdal::Dataset>,
    /// When the GDAL calls of this handle must end (`GDAL_HTTP_TIMEOUT` is
    /// set to what is left before every call).
    pub(crate) limit: Option<Limit>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("path", &self.label)
            .field("shape", &self.shape())
            .field("env", &self.env)
            .finish()
    }
}

/// Options of [`Dataset::open_with`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::OpenOptions;
/// // Only the drivers named may open the file.
/// let ds = Dataset::open_with(path, &OpenOptions::default().with_drivers(["GTiff"]))?;
/// assert_eq!((ds.rows(), ds.cols()), (2, 3));
/// assert!(Dataset::open_with(path, &OpenOptions::default().with_drivers(["PNG"])).is_err());
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// GDAL config installed (thread-locally) around the open and all later
    /// reads of the handle.
    pub env: GdalEnv,
    /// Restrict the drivers tried further (GDAL short names, e.g. `GTiff`);
    /// only drivers the policy allows are ever tried.
    pub allowed_drivers: Vec<String>,
    /// Driver open options (`KEY=VALUE`).
    pub open_options: Vec<String>,
    /// Which paths may be opened and with which drivers. Default: a path
    /// the user names ([`HrefPolicy::for_local_items`] plus the VRT
    /// driver); connection strings and special files are always refused,
    /// and a VRT's sources are checked before GDAL opens it.
    pub policy: HrefPolicy,
    /// When the open and every later read must end.
    pub deadline: Option<Instant>,
    /// A source's time budget (set by the source layer instead of a
    /// deadline).
    pub(crate) budget: Option<Arc<Budget>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            env: GdalEnv::new(),
            allowed_drivers: Vec::new(),
            open_options: Vec::new(),
            policy: HrefPolicy::for_local_items().with_allow_driver("VRT"),
            deadline: None,
            budget: None,
        }
    }
}

impl OpenOptions {
    /// Set the GDAL env.
    pub fn with_env(mut self, env: GdalEnv) -> Self {
        self.env = env;
        self
    }

    /// Restrict the drivers tried.
    pub fn with_drivers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, drivers: I) -> Self {
        self.allowed_drivers = drivers.into_iter().map(Into::into).collect();
        self
    }

    /// Add a driver open option (`KEY=VALUE`).
    pub fn with_open_option(mut self, option: impl Into<String>) -> Self {
        self.open_options.push(option.into());
        self
    }

    /// Set the policy.
    pub fn with_policy(mut self, policy: HrefPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Set the deadline of the open and every later read.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Charge the open and every later read to a source's budget.
    pub(crate) fn with_budget(mut self, budget: Option<Arc<Budget>>) -> Self {
        self.budget = budget;
        self
    }

    /// The limit of the handle these options open.
    fn limit(&self) -> Option<Limit> {
        match (&self.budget, self.deadline) {
            (Some(b), _) => Some(Limit::Budget(b.clone())),
            (None, Some(end)) => Some(Limit::at(end)),
            (None, None) => None,
        }
    }
}

/// Bytes read around a tile besides its own: a COG's `BLOCK_LEADER` and
/// `BLOCK_TRAILER` (4 bytes each), with room to spare.
const TILE_PAD: u64 = 8;

/// `GDALOpenEx` read-only, raster, verbose errors, with these drivers only.
fn open_raw(
    path: &str,
    drivers: &[&str],
    open_options: &[String],
) -> std::result::Result<gdal::Dataset, gdal::errors::GdalError> {
    let opts: Vec<&str> = open_options.iter().map(String::as_str).collect();
    gdal::Dataset::open_ex(
        path,
        gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_RASTER
                | gdal::GdalOpenFlags::GDAL_OF_READONLY
                | gdal::GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
            allowed_drivers: Some(drivers),
            open_options: (!opts.is_empty()).then_some(opts.as_slice()),
            sibling_files: None,
        },
    )
}

/// GDAL's network file systems cache "does not exist" for a URL that
/// failed (e.g. 401 before credentials were given); forget it so a retry
/// with a signer can succeed.
/// Where block `(bx, by)` of a GeoTIFF band lies in its file: `(offset,
/// size)` in bytes, from GDAL's `BLOCK_OFFSET_x_y` / `BLOCK_SIZE_x_y`
/// (`TIFF` domain; both 0 for a sparse block). `None` for other drivers.
pub(crate) fn tiff_block_location(
    band: &gdal::raster::RasterBand<'_>,
    bx: usize,
    by: usize,
) -> Option<(u64, u64)> {
    let item = |what: &str| {
        band.metadata_item(&format!("BLOCK_{what}_{bx}_{by}"), "TIFF")?
            .parse::<u64>()
            .ok()
    };
    Some((item("OFFSET")?, item("SIZE")?))
}

pub(crate) fn forget_failed_remote(path: &str) {
    let remote = [
        "/vsicurl",
        "/vsis3",
        "/vsigs",
        "/vsiaz",
        "/vsiadls",
        "/vsioss",
        "/vsiswift",
        "/vsiwebhdfs",
        "/vsihdfs",
    ];
    if remote.iter().any(|p| path.starts_with(p))
        && let Ok(c) = std::ffi::CString::new(path)
    {
        // SAFETY: valid C string; GDAL only reads it.
        unsafe { gdal_sys::VSICurlPartialClearCache(c.as_ptr()) };
    }
}

impl Dataset {
    /// Open any href or GDAL path read-only (`s3://`, `https://`, local
    /// paths, `/vsi...` paths; hrefs go through [`stac_meta::gdal_path`]).
    /// Opens the file.
    pub fn open(href: &str) -> Result<Self> {
        Self::open_with(href, &OpenOptions::default())
    }

    /// [`open`](Self::open) with options; `options.env` is installed
    /// (thread-locally) for the open and kept for later reads.
    ///
    /// A failed open of a network path clears GDAL's cached "does not
    /// exist" for it, so retrying with credentials works. Note GDAL's
    /// `/vsicurl/` block cache is process-wide: bytes fetched with one
    /// handle's credentials can serve another handle of the *same URL*
    /// (credentials themselves never cross threads).
    pub fn open_with(href: &str, options: &OpenOptions) -> Result<Self> {
        options.policy.check(href)?;
        let env = crate::limits::guarded_env(&options.env);
        crate::secrets::remember_env_secrets(&env);
        let path = stac_meta::gdal_path(href);
        let mut drivers = options.policy.allowed_drivers(&path);
        if !options.allowed_drivers.is_empty() {
            drivers.retain(|d| {
                options
                    .allowed_drivers
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(d))
            });
            if drivers.is_empty() {
                return Err(stac_meta::MetaError::HrefNotAllowed {
                    href: stac_meta::redact(&path).into_owned(),
                    rule: HrefRule::Driver,
                    reason: format!(
                        "none of the drivers {} is allowed",
                        options.allowed_drivers.join(", ")
                    ),
                }
                .into());
            }
        }
        let label = stac_meta::redact(&path).into_owned();
        let limit = options.limit();
        let scope_env = |f: &mut dyn FnMut() -> Result<gdal::Dataset>| {
            let _scope = EnvScope::install(&env);
            let _call = limit.as_ref().map(Limit::call);
            f()
        };
        let vrt_allowed = drivers.iter().any(|d| d.eq_ignore_ascii_case("VRT"));
        let inner = scope_env(&mut || {
            // A VRT names other files: read it once, check its sources,
            // and open the checked text. Anything else opens without the
            // VRT driver, so its content cannot turn into a VRT later.
            if vrt_allowed {
                let head = crate::vrt_guard::read_head(&path, 1024).unwrap_or_default();
                if crate::vrt_guard::is_vrt_document(&head) {
                    let xml = crate::vrt_guard::checked_vrt(&path, &options.policy)?;
                    return open_raw(&xml, &["VRT"], &options.open_options)
                        .map_err(|e| RasterError::gdal("open", &path, e));
                }
            }
            let names: Vec<&str> = drivers
                .iter()
                .map(String::as_str)
                .filter(|d| !d.eq_ignore_ascii_case("VRT"))
                .collect();
            open_raw(&path, &names, &options.open_options).map_err(|e| {
                forget_failed_remote(&path);
                RasterError::gdal("open", &path, e)
            })
        })?;
        let mut inner = inner;
        if vrt_allowed {
            // A VRT opened from its text would describe itself as that text.
            let _ = inner.set_description(&label);
        }
        Ok(Self {
            inner,
            env,
            label,
            keep_alive: Vec::new(),
            limit,
        })
    }

    /// Open a file of the byte stage (`crate::stage`): GTiff only, the
    /// source's env and limit; `label` (the source's redacted href) names it
    /// in messages. The policy judged the real path when the source was
    /// resolved; the staged path is ours.
    pub(crate) fn open_staged(
        path: &str,
        label: &str,
        env: &GdalEnv,
        limit: Option<Limit>,
    ) -> Result<Self> {
        let env = crate::limits::guarded_env(env);
        let inner = {
            let _scope = EnvScope::install(&env);
            let _call = limit.as_ref().map(Limit::call);
            open_raw(path, &["GTiff"], &[])
        }
        .map_err(|e| RasterError::Gdal {
            operation: "open",
            path: label.to_owned(),
            message: crate::secrets::redact_message(&e.to_string()),
        })?;
        Ok(Self {
            inner,
            env,
            label: label.to_owned(),
            keep_alive: Vec::new(),
            limit,
        })
    }

    /// The byte ranges `(offset, length)` of the TIFF tiles or strips (with
    /// the 4-byte leader and trailer a COG keeps around each) that
    /// hold `window` of band `band` (1-based) at full resolution or at
    /// overview `overview`, sorted, merged across gaps of at most `gap`
    /// bytes (COG tiles are separated by 8-byte leaders and trailers).
    /// `None` when the file does not expose its tile offsets (not a TIFF)
    /// or the window is empty. No I/O beyond the TIFF header.
    pub fn tile_ranges(
        &self,
        band: usize,
        overview: Option<usize>,
        window: Window,
        gap: u64,
    ) -> Option<Vec<(u64, u64)>> {
        if window.cols == 0 || window.rows == 0 {
            return None;
        }
        let _scope = EnvScope::install(&self.env);
        let _call = self.limit_call();
        let b = self.band(band).ok()?;
        let target = match overview {
            None => b,
            Some(i) => b.overview(i).ok()?,
        };
        let (bw, bh) = target.block_size();
        if bw == 0 || bh == 0 {
            return None;
        }
        let mut r = Vec::new();
        for by in window.row_off / bh..=(window.row_off + window.rows - 1) / bh {
            for bx in window.col_off / bw..=(window.col_off + window.cols - 1) / bw {
                let (o, s) = tiff_block_location(&target, bx, by)?;
                if s > 0 {
                    // GDAL also reads the 4-byte size leader before a COG
                    // tile and the 4-byte trailer after it.
                    let a = o.saturating_sub(TILE_PAD);
                    r.push((a, s + (o - a) + TILE_PAD));
                }
            }
        }
        r.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(r.len());
        for (o, s) in r {
            match merged.last_mut() {
                Some((mo, ms)) if o <= (*mo + *ms).saturating_add(gap) => {
                    *ms = (*ms).max(o + s - *mo);
                }
                _ => merged.push((o, s)),
            }
        }
        Some(merged)
    }

    /// Open a VRT document this process built (every source already judged
    /// by the caller's policy): only the VRT driver is tried, and the
    /// document itself never becomes the dataset's description. `label`
    /// names it in messages.
    pub fn from_vrt_xml(xml: &str, label: &str, options: &OpenOptions) -> Result<Self> {
        let env = crate::limits::guarded_env(&options.env);
        crate::secrets::remember_env_secrets(&env);
        let limit = options.limit();
        let inner = {
            let _scope = EnvScope::install(&env);
            let _call = limit.as_ref().map(Limit::call);
            open_raw(xml, &["VRT"], &options.open_options)
        }
        .map_err(|e| RasterError::Gdal {
            operation: "open",
            path: label.to_owned(),
            message: crate::secrets::redact_message(&e.to_string()),
        })?;
        let mut inner = inner;
        let _ = inner.set_description(label);
        Ok(Self {
            inner,
            env,
            label: label.to_owned(),
            keep_alive: Vec::new(),
            limit,
        })
    }

    /// Wrap an existing GDAL dataset (e.g. a VRT built elsewhere); `env` is
    /// installed around later reads.
    pub fn from_gdal(inner: gdal::Dataset, env: GdalEnv) -> Self {
        let label = stac_meta::redact(&inner.description().unwrap_or_default()).into_owned();
        Self {
            inner,
            env,
            label,
            keep_alive: Vec::new(),
            limit: None,
        }
    }

    /// The wrapped GDAL dataset. Calls on it that touch the source should run
    /// inside [`scoped`](Self::scoped) so the env is installed.
    pub fn inner(&self) -> &gdal::Dataset {
        &self.inner
    }

    /// The wrapped GDAL dataset, mutably.
    pub fn inner_mut(&mut self) -> &mut gdal::Dataset {
        &mut self.inner
    }

    /// Unwrap into the GDAL dataset and its env.
    ///
    /// When the dataset is an in-memory VRT over another open dataset (after
    /// [`set_band_names`](Self::set_band_names) on a file), that VRT cannot
    /// outlive this handle, so it is first copied into memory (`MEM`,
    /// reading all pixels); if even that fails, the VRT over the original
    /// file is dropped and the original dataset is returned.
    pub fn into_inner(mut self) -> (gdal::Dataset, GdalEnv) {
        if self.keep_alive.is_empty() {
            return (self.inner, self.env);
        }
        let copied = gdal::DriverManager::get_driver_by_name("MEM").and_then(|mem| {
            self.scoped(|ds| ds.create_copy(&mem, "", &gdal::cpl::CslStringList::new()))
        });
        match copied {
            Ok(copy) => (copy, self.env),
            Err(_) => (self.keep_alive.swap_remove(0), self.env),
        }
    }

    /// The GDAL env installed around reads.
    pub fn env(&self) -> &GdalEnv {
        &self.env
    }

    /// Replace the GDAL env installed around later reads (credentials in
    /// it get [`guard_redirects`](crate::guard_redirects) too).
    pub fn set_env(&mut self, env: GdalEnv) {
        self.env = crate::limits::guarded_env(&env);
    }

    /// Run `f` on the GDAL dataset with this dataset's env installed on the
    /// current thread.
    pub fn scoped<T>(&self, f: impl FnOnce(&gdal::Dataset) -> T) -> T {
        let _scope = EnvScope::install(&self.env);
        let _call = self.limit_call();
        f(&self.inner)
    }

    /// Around one GDAL call on this handle: its time limit (see
    /// [`Limit::call`]), when it has one.
    pub(crate) fn limit_call(&self) -> Option<crate::limits::CallGuard> {
        self.limit.as_ref().map(Limit::call)
    }

    /// The length of the handle's time limit, in seconds (for messages).
    pub(crate) fn deadline_seconds(&self) -> f64 {
        self.limit.as_ref().map_or(0.0, Limit::seconds)
    }

    /// Whether this handle's deadline (or its source's time budget) is spent.
    pub fn deadline_passed(&self) -> bool {
        self.limit.as_ref().is_some_and(Limit::passed)
    }

    /// The path it was opened from, redacted (query string removed).
    pub fn path(&self) -> &str {
        &self.label
    }

    /// GDAL driver short name (`GTiff`, `MEM`, `VRT` ...).
    pub fn driver_name(&self) -> String {
        self.inner.driver().short_name()
    }

    /// Number of bands.
    pub fn band_count(&self) -> usize {
        self.inner.raster_count()
    }

    /// Rows (y size).
    pub fn rows(&self) -> usize {
        self.inner.raster_size().1
    }

    /// Columns (x size).
    pub fn cols(&self) -> usize {
        self.inner.raster_size().0
    }

    /// `(bands, rows, cols)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        let (cols, rows) = self.inner.raster_size();
        (self.band_count(), rows, cols)
    }

    /// The GDAL geotransform, `None` when the raster has none.
    pub fn geotransform(&self) -> Option<[f64; 6]> {
        self.inner.geo_transform().ok()
    }

    /// The CRS, `None` when the raster has none.
    pub fn crs(&self) -> Option<Crs> {
        let wkt = self.inner.projection();
        (!wkt.trim().is_empty()).then_some(Crs::Wkt(wkt))
    }

    /// The EPSG code of the CRS, when it has one.
    pub fn epsg(&self) -> Option<u32> {
        self.crs()?.epsg()
    }

    /// CRS + geotransform (the geotransform defaults to GDAL's identity when
    /// missing).
    pub fn grid(&self) -> GridSpec {
        GridSpec {
            geotransform: self
                .geotransform()
                .unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
            crs: self.crs(),
        }
    }

    /// `[minx, miny, maxx, maxy]` in the raster's CRS, `None` without a
    /// geotransform.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        let gt = self.geotransform()?;
        Some(stac_meta::geotransform::bounds(
            &gt,
            self.rows(),
            self.cols(),
        ))
    }

    /// Cell size `(dx, dy)` (dy negative for north-up rasters).
    pub fn cell_size(&self) -> Option<(f64, f64)> {
        self.geotransform().map(|gt| (gt[1], gt[5]))
    }

    pub(crate) fn band(&self, index: usize) -> Result<gdal::raster::RasterBand<'_>> {
        self.inner
            .rasterband(index)
            .map_err(|e| RasterError::gdal("band", &self.label, e))
    }

    /// The nodata value of each band (`None` = the band declares none).
    pub fn nodata(&self) -> Vec<Option<f64>> {
        (1..=self.band_count())
            .map(|i| self.band(i).ok().and_then(|b| b.no_data_value()))
            .collect()
    }

    /// Set (or clear with `None`) the nodata value of every band. Values a
    /// band's type cannot hold are rejected.
    pub fn set_nodata(&mut self, nodata: Option<f64>) -> Result<()> {
        for i in 1..=self.band_count() {
            if let Some(v) = nodata {
                crate::create::check_nodata(self.data_type_of_band(i), v)?;
            }
            let mut band = self
                .inner
                .rasterband(i)
                .map_err(|e| RasterError::gdal("band", &self.label, e))?;
            band.set_no_data_value(nodata)
                .map_err(|e| RasterError::gdal("set nodata", &self.label, e))?;
        }
        Ok(())
    }

    /// The raster-extension data type of band 1 (`uint16`, `float32` ...).
    pub fn data_type(&self) -> DataType {
        self.data_type_of_band(1)
    }

    /// The data type of each band.
    pub fn data_types(&self) -> Vec<DataType> {
        (1..=self.band_count())
            .map(|i| self.data_type_of_band(i))
            .collect()
    }

    pub(crate) fn data_type_of_band(&self, index: usize) -> DataType {
        match self.band(index) {
            Ok(b) => {
                let gdt = b.band_type() as gdal_sys::GDALDataType::Type;
                let signed = b
                    .metadata_item("PIXELTYPE", "IMAGE_STRUCTURE")
                    .is_some_and(|v| v == "SIGNEDBYTE");
                data_type_of(gdt, signed)
            }
            Err(_) => DataType::Other,
        }
    }

    /// `(scale, offset)` of each band (identity `(1, 0)` when undeclared).
    pub fn scale_offset(&self) -> Vec<(f64, f64)> {
        (1..=self.band_count())
            .map(|i| match self.band(i) {
                Ok(b) => (b.scale().unwrap_or(1.0), b.offset().unwrap_or(0.0)),
                Err(_) => (1.0, 0.0),
            })
            .collect()
    }

    /// Band names: each band's description when set, else `Band_<i>`
    /// (1-based, as pyramids names them).
    pub fn band_names(&self) -> Vec<String> {
        (1..=self.band_count())
            .map(|i| {
                self.band(i)
                    .ok()
                    .and_then(|b| b.description().ok())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| format!("Band_{i}"))
            })
            .collect()
    }

    /// Set band names (written as band descriptions by [`to_file`](Self::to_file)).
    ///
    /// A dataset opened from a file is first wrapped in an in-memory VRT so
    /// the source file (and its `.aux.xml`) is never modified.
    pub fn set_band_names<S: AsRef<str>>(&mut self, names: &[S]) -> Result<()> {
        if names.len() != self.band_count() {
            return Err(RasterError::InvalidArgument(format!(
                "{} band names for {} bands",
                names.len(),
                self.band_count()
            )));
        }
        let driver = self.driver_name();
        if driver != "MEM" && driver != "VRT" {
            self.wrap_in_vrt()?;
        }
        for (i, name) in names.iter().enumerate() {
            let mut band = self
                .inner
                .rasterband(i + 1)
                .map_err(|e| RasterError::gdal("band", &self.label, e))?;
            band.set_description(name.as_ref())
                .map_err(|e| RasterError::gdal("set band name", &self.label, e))?;
        }
        Ok(())
    }

    /// Replace the inner dataset with an in-memory VRT over it (cheap: no
    /// pixels are copied).
    fn wrap_in_vrt(&mut self) -> Result<()> {
        let vrt = gdal::DriverManager::get_driver_by_name("VRT")
            .map_err(|e| RasterError::gdal("VRT driver", &self.label, e))?;
        let copy = self
            .scoped(|ds| ds.create_copy(&vrt, "", &gdal::cpl::CslStringList::new()))
            .map_err(|e| RasterError::gdal("wrap in VRT", &self.label, e))?;
        let source = std::mem::replace(&mut self.inner, copy);
        self.keep_alive.push(source);
        Ok(())
    }
}
