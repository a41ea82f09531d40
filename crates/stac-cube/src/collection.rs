//! [`DatasetCollection`]: the cube, and [`CubePlan`]: the cube before its
//! pixels are read.

use ndarray::{Array3, Array4, Axis, s};
use serde_json::{Value, json};
use stac_meta::DataType;
use stac_raster::{Crs, CrsCache, Dataset, GridSpec, Pixel, TargetGrid, Window};

use crate::data::{CubeData, dispatch_type, with_data};
use crate::error::{CubeError, Result, invalid};
use crate::failure::{Failure, Outside};
use crate::grid::GridReport;
use crate::io_stage::IoReport;
use crate::layout::{BandInfo, CubeLayout, GridDescription};
use crate::load::{LoadSpec, load, load_reusing};
use crate::options::CubeOptions;
use crate::place::{Landing, Placement, place, place_where};
use crate::plan::{choose_nodata, dtype_from_file};
use crate::sources::{OpenCache, Slot, Source};
use crate::timeline::Timestep;

/// A `time x band x y x x` cube on one grid: the pixels, the time axis
/// (labels, datetimes, source items), the band names, the grid, nodata,
/// and what went wrong while loading.
///
/// ```no_run
/// use stac_cube::{CubeOptions, DatasetCollection};
/// let items: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string("items.json")?)?;
/// let cube = DatasetCollection::from_stac(&items, &["B04", "B08"], &CubeOptions::default())?;
/// println!("{} timesteps of {:?} on {:?}", cube.time_length(), cube.band_names(), cube.grid());
/// let arr = cube.read_array::<f32>(); // (time, band, y, x)
/// cube.to_files("out")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DatasetCollection {
    data: CubeData,
    grid: TargetGrid,
    band_names: Vec<String>,
    nodata: Option<f64>,
    timesteps: Vec<Timestep>,
    failures: Vec<Failure>,
    report: GridReport,
    io: IoReport,
    /// STAC band metadata, for [`layout`](Self::layout).
    bands: Vec<BandInfo>,
}

/// A planned cube: grid, time axis, bands and sources are known, no pixel
/// has been read. Load it whole ([`load`](Self::load)) or window by window
/// ([`load_window`](Self::load_window), [`windows`](Self::windows)) for
/// outputs larger than memory.
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
/// use stac_cube::{CubeOptions, DatasetCollection};
/// let plan = DatasetCollection::plan(&items, &["B04"], &CubeOptions::default())?;
/// assert_eq!(plan.timesteps().len(), 2);
/// // Load it window by window (here 2 x 4 pixels each): nothing larger than a
/// // window is ever held.
/// let windows = plan.windows(2, 4);
/// assert_eq!(windows.len(), 2);
/// let part = plan.load_window(windows[1])?;
/// assert_eq!(part.shape(), (2, 1, 2, 4));
/// assert_eq!(part.read_array::<u16>()[[1, 0, 0, 0]], 11);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CubePlan {
    pub(crate) sources: Vec<Source>,
    pub(crate) item_sources: Vec<Vec<usize>>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) timesteps: Vec<Timestep>,
    pub(crate) grid: TargetGrid,
    pub(crate) dtype: Option<DataType>,
    /// What planning learnt from opening files, by GDAL path (each file is
    /// opened at most once while planning).
    pub(crate) opened: OpenCache,
    pub(crate) options: CubeOptions,
    pub(crate) report: GridReport,
    pub(crate) plan_failures: Vec<Failure>,
    /// Remote files' headers, staged once for all loads of the plan
    /// (`io_stage.rs`); clones share it.
    pub(crate) stage: std::sync::Arc<crate::io_stage::PlanStage>,
}

impl std::fmt::Debug for CubePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CubePlan")
            .field("grid", &self.grid)
            .field("dtype", &self.dtype)
            .field("bands", &self.band_names())
            .field("timesteps", &self.timesteps.len())
            .field("sources", &self.sources.len())
            .finish_non_exhaustive()
    }
}

/// The time axis as the summaries print it: one object per timestep.
fn time_json(timesteps: &[Timestep]) -> Vec<Value> {
    timesteps
        .iter()
        .map(|ts| {
            json!({
                "label": ts.label,
                "datetime": ts.datetime.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                "items": ts.items,
            })
        })
        .collect()
}

impl DatasetCollection {
    /// Build a cube from STAC items (see the crate docs for the rules).
    ///
    /// `assets`: one key gives one band per timestep; several keys a band
    /// axis in the given order; `key.N` / `key.name` pick a band of a
    /// multi-band asset. Grid, grouping, fusion, failures and progress come
    /// from `options`.
    pub fn from_stac(items: &[Value], assets: &[&str], options: &CubeOptions) -> Result<Self> {
        Self::plan(items, assets, options)?.load()
    }

    /// Plan a cube without reading pixels: filters, bands, sources (hrefs
    /// signed), grid, time axis. Opens only sources whose items carry no
    /// grid metadata.
    pub fn plan(items: &[Value], assets: &[&str], options: &CubeOptions) -> Result<CubePlan> {
        crate::plan::plan(items, assets, options)
    }

    /// Number of timesteps.
    pub fn time_length(&self) -> usize {
        self.timesteps.len()
    }

    /// The timesteps: labels, datetimes, item ids, properties.
    pub fn timesteps(&self) -> &[Timestep] {
        &self.timesteps
    }

    /// The time labels (datetime or group key).
    pub fn time_labels(&self) -> Vec<&str> {
        self.timesteps.iter().map(|t| t.label.as_str()).collect()
    }

    /// Band names, in band order.
    pub fn band_names(&self) -> &[String] {
        &self.band_names
    }

    /// Number of bands.
    pub fn band_count(&self) -> usize {
        self.band_names.len()
    }

    /// The grid (CRS, geotransform, rows, cols).
    pub fn grid(&self) -> &TargetGrid {
        &self.grid
    }

    /// The CRS.
    pub fn crs(&self) -> &Crs {
        &self.grid.crs
    }

    /// The GDAL geotransform.
    pub fn geotransform(&self) -> [f64; 6] {
        self.grid.geotransform
    }

    /// `(time, band, rows, cols)`.
    pub fn shape(&self) -> (usize, usize, usize, usize) {
        self.data.dim()
    }

    /// The nodata value (`None` for count cubes).
    pub fn nodata(&self) -> Option<f64> {
        self.nodata
    }

    /// The cube's data type.
    pub fn data_type(&self) -> DataType {
        self.data.data_type()
    }

    /// The cube as an xarray Dataset ([`CubeLayout`], see
    /// [`CubePlan::layout`]).
    pub fn layout(&self) -> Result<CubeLayout> {
        Ok(CubeLayout::from_timesteps(
            &grid_description(&self.grid)?,
            &self.timesteps,
            &self.bands,
            self.data_type(),
            self.nodata,
        ))
    }

    /// The pixels in the cube's type.
    pub fn data(&self) -> &CubeData {
        &self.data
    }

    /// The pixels, moved out of the cube (no copy; e.g. handed to NumPy).
    pub fn into_data(self) -> CubeData {
        self.data
    }

    /// Sources that could not be read (with `fail_on_error(false)`).
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// How the grid was chosen, and sources outside it.
    pub fn grid_report(&self) -> &GridReport {
        &self.report
    }

    /// The whole cube as `(time, band, y, x)` in `T`.
    pub fn read_array<T: Pixel>(&self) -> Array4<T> {
        self.data.to_array()
    }

    /// One timestep as `(band, y, x)` in `T`.
    pub fn read_timestep<T: Pixel>(&self, t: usize) -> Result<Array3<T>> {
        self.check_t(t)?;
        Ok(with_data!(&self.data, a => a.index_axis(Axis(0), t).mapv(|v| T::from_f64(v.to_f64()))))
    }

    /// A window of every timestep as `(time, band, window.rows, window.cols)`.
    pub fn read_window<T: Pixel>(&self, window: Window) -> Result<Array4<T>> {
        let (_, _, h, w) = self.shape();
        if window.rows == 0
            || window.cols == 0
            || window.row_off + window.rows > h
            || window.col_off + window.cols > w
        {
            return Err(invalid(
                "window",
                format!("{window:?} is outside the {h} x {w} grid"),
            ));
        }
        let (r, c) = (window.row_off, window.col_off);
        Ok(with_data!(&self.data, a => a
            .slice(s![.., .., r..r + window.rows, c..c + window.cols])
            .mapv(|v| T::from_f64(v.to_f64()))))
    }

    fn check_t(&self, t: usize) -> Result<()> {
        if t >= self.time_length() {
            return Err(invalid(
                "timestep",
                format!("{t} is out of range (the cube has {})", self.time_length()),
            ));
        }
        Ok(())
    }

    /// Timestep `t` as an in-memory GDAL [`Dataset`] (band names set).
    pub fn dataset(&self, t: usize) -> Result<Dataset> {
        self.check_t(t)?;
        let spec = GridSpec::from_geotransform(self.grid.geotransform, Some(self.grid.crs.clone()));
        let mut ds = with_data!(&self.data, a =>
            Dataset::create_from_array(&a.index_axis(Axis(0), t), &spec, self.nodata)?);
        ds.set_band_names(&self.band_names)?;
        Ok(ds)
    }

    /// Every timestep as a [`Dataset`].
    pub fn datasets(&self) -> Result<Vec<Dataset>> {
        (0..self.time_length()).map(|t| self.dataset(t)).collect()
    }

    /// A JSON summary: time labels, bands, shape, type, nodata, grid and
    /// how it was chosen, failures and sources outside the grid.
    pub fn summary(&self) -> Value {
        let (t, b, h, w) = self.shape();
        json!({
            "time": time_json(&self.timesteps),
            "bands": self.band_names,
            "shape": [t, b, h, w],
            "dtype": self.data_type().as_str(),
            "nodata": self.nodata.map(stac_raster::nodata_json),
            "grid": {
                "crs": crate::grid::crs_label(&self.grid.crs),
                "wkt": self.grid.crs.to_wkt2().ok(),
                "geotransform": self.grid.geotransform,
                "rows": h,
                "cols": w,
                "report": self.report,
            },
            "failures": self.failures,
            "outside": self.report.outside,
            "io": self.io,
        })
    }

    /// What the load fetched and where its time went (see [`IoReport`]).
    pub fn io_report(&self) -> &IoReport {
        &self.io
    }
}

impl CubePlan {
    /// The planned grid.
    pub fn grid(&self) -> &TargetGrid {
        &self.grid
    }

    /// How the grid was chosen.
    pub fn grid_report(&self) -> &GridReport {
        &self.report
    }

    /// The grid's CRS as `AUTH:CODE` when identifiable, else the start of its definition.
    pub fn crs_label(&self) -> String {
        crate::grid::crs_label(&self.grid.crs)
    }

    /// The planned time axis.
    pub fn timesteps(&self) -> &[Timestep] {
        &self.timesteps
    }

    /// The planned band names.
    pub fn band_names(&self) -> Vec<String> {
        self.slots.iter().map(|s| s.name.clone()).collect()
    }

    /// The cube's data type, when the metadata or options decide it
    /// (`None`: read from the first source's file at load time).
    pub fn data_type(&self) -> Option<DataType> {
        self.dtype
    }

    /// Number of reads (item x band) the plan has.
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Bytes the loaded cube will hold, in its [`data_type`](Self::data_type);
    /// `None` while the type is unknown (see
    /// [`resolve_data_type`](Self::resolve_data_type)).
    pub fn output_bytes(&self) -> Option<u64> {
        let size = u64::from(self.dtype?.bits()? / 8).max(1);
        Some(
            (self.timesteps.len() * self.slots.len()) as u64
                * self.grid.rows as u64
                * self.grid.cols as u64
                * size,
        )
    }

    /// The cube's data type, opening the first readable source's header
    /// when no metadata or option decides it (what [`load`](Self::load)
    /// would do; no pixel is read). Afterwards [`data_type`](Self::data_type)
    /// and [`output_bytes`](Self::output_bytes) are known.
    pub fn resolve_data_type(&mut self) -> Result<DataType> {
        if let Some(t) = self.dtype {
            return Ok(t);
        }
        let t = dtype_from_file(&self.sources, &self.opened, &self.options)?;
        self.dtype = Some(t);
        Ok(t)
    }

    /// A JSON summary of the plan, shaped as [`DatasetCollection::summary`]
    /// (the same `time` objects, `bands`, `shape`, `dtype`, `grid`), plus
    /// `output_bytes` and the sources that failed while planning. `dtype`
    /// and `output_bytes` are `null` while the type is unknown (call
    /// [`resolve_data_type`](Self::resolve_data_type) first).
    pub fn summary(&self) -> Value {
        let g = &self.grid;
        json!({
            "time": time_json(&self.timesteps),
            "bands": self.band_names(),
            "shape": [self.timesteps.len(), self.slots.len(), g.rows, g.cols],
            "dtype": self.dtype.map(DataType::as_str),
            "output_bytes": self.output_bytes(),
            "grid": {
                "crs": self.crs_label(),
                "wkt": g.crs.to_wkt2().ok(),
                "geotransform": g.geotransform,
                "rows": g.rows,
                "cols": g.cols,
                "report": self.report,
            },
            "failures": self.plan_failures,
        })
    }

    /// The nodata a load will use: the option, else the first declared
    /// source nodata the cube type can hold, else NaN for floats and 0 for
    /// integers (`None` for count cubes). Needs the data type
    /// ([`resolve_data_type`](Self::resolve_data_type)); `None` before.
    pub fn nodata(&self) -> Option<f64> {
        let dtype = self.dtype?;
        let mut scratch = self.report.clone();
        choose_nodata(&self.sources, &self.options, dtype, &mut scratch)
    }

    /// Windows of at most `rows` x `cols` covering the grid, row-major.
    pub fn windows(&self, rows: usize, cols: usize) -> Vec<Window> {
        let (rows, cols) = (rows.max(1), cols.max(1));
        let mut out = Vec::new();
        let mut r = 0;
        while r < self.grid.rows {
            let h = rows.min(self.grid.rows - r);
            let mut c = 0;
            while c < self.grid.cols {
                let w = cols.min(self.grid.cols - c);
                out.push(Window::new(c, r, w, h));
                c += w;
            }
            r += h;
        }
        out
    }

    /// Load the whole cube.
    pub fn load(&self) -> Result<DatasetCollection> {
        self.load_on(self.grid.clone())
    }

    /// Load one window of the grid (a sub-cube on the same pixel lattice).
    pub fn load_window(&self, window: Window) -> Result<DatasetCollection> {
        let g = &self.grid;
        if window.rows == 0
            || window.cols == 0
            || window.row_off + window.rows > g.rows
            || window.col_off + window.cols > g.cols
        {
            return Err(invalid(
                "window",
                format!("{window:?} is outside the {} x {} grid", g.rows, g.cols),
            ));
        }
        let gt = g.geotransform;
        let [x0, y0] =
            stac_meta::geotransform::apply(&gt, window.col_off as f64, window.row_off as f64);
        let sub = TargetGrid::new(
            g.crs.clone(),
            [x0, gt[1], gt[2], y0, gt[4], gt[5]],
            window.rows,
            window.cols,
        );
        self.load_on(sub)
    }

    /// The options the plan was made with.
    pub(crate) fn options(&self) -> &CubeOptions {
        &self.options
    }

    /// Whether a load would run the I/O stage (some source is remote and
    /// `io_concurrency` > 0).
    pub(crate) fn reads_remote(&self) -> bool {
        self.options.effective_io_concurrency() > 0
            && self.sources.iter().any(|s| {
                s.raster
                    .as_ref()
                    .is_some_and(|r| stac_raster::stage::stageable(r.gdal_path()))
            })
    }

    /// Timesteps `times` of one window, bands `bands` (the band selector:
    /// a block writer loads one band of a chunk at a time, so a worker
    /// holds one band's chunk, not every band's), for the block writers,
    /// on `threads` threads and without progress: `(time, band, y, x)`
    /// pixels (`bands.len()` bands) and the sources that failed. A block
    /// no source reaches is nodata (not an error: other blocks have data);
    /// a failed source is an error when `fail_on_error`, else listed.
    /// `spare` is a previous block to load into when it is large enough
    /// (its memory is reused, its pages already resident).
    pub(crate) fn load_block(
        &self,
        window: Window,
        times: std::ops::Range<usize>,
        bands: std::ops::Range<usize>,
        threads: usize,
        (dtype, nodata): (DataType, Option<f64>),
        spare: Option<CubeData>,
    ) -> Result<(CubeData, Vec<Failure>)> {
        if bands.is_empty() || bands.end > self.slots.len() {
            return Err(crate::error::invalid(
                "bands",
                format!(
                    "{bands:?} is not a band range of {} bands",
                    self.slots.len()
                ),
            ));
        }
        let g = &self.grid;
        let gt = g.geotransform;
        let [x0, y0] =
            stac_meta::geotransform::apply(&gt, window.col_off as f64, window.row_off as f64);
        let grid = TargetGrid::new(
            g.crs.clone(),
            [x0, gt[1], gt[2], y0, gt[4], gt[5]],
            window.rows,
            window.cols,
        );
        let mut same = CrsCache::default();
        // Only the sources of the bands loaded are placed.
        let mut wanted = vec![false; self.sources.len()];
        for row in &self.item_sources {
            for &si in &row[bands.clone()] {
                if let Some(w) = wanted.get_mut(si) {
                    *w = true;
                }
            }
        }
        let landings: Vec<Landing> = place_where(&self.sources, &grid, &mut same, |i| wanted[i]);
        let o = &self.options;
        let spec = LoadSpec {
            grid: &grid,
            sources: &self.sources,
            landings: &landings,
            timesteps: &self.timesteps[times],
            item_sources: &self.item_sources,
            first_slot: bands.start,
            slots: bands.len(),
            fusion: &o.fusion,
            nodata,
            rescale: o.rescale,
            threads: threads.max(1),
            block_pixels: o.block_pixels,
            fail_on_error: o.fail_on_error,
            use_overviews: o.use_overviews,
            progress: None,
            io: crate::io_stage::IoSettings {
                concurrency: o.effective_io_concurrency(),
                max_bytes: o.io_bytes,
            },
            stage: &self.stage,
        };
        let failures;
        let data = dispatch_type!(dtype, T => {
            let spare = spare.map(CubeData::into_raw_vec::<T>).unwrap_or_default();
            let (arr, f, _) = load_reusing::<T>(&spec, spare)?;
            failures = f;
            arr
        });
        Ok((data, failures))
    }

    fn load_on(&self, grid: TargetGrid) -> Result<DatasetCollection> {
        let mut same = CrsCache::default();
        let landings: Vec<Landing> = place(&self.sources, &grid, &mut same);
        let mut report = self.report.clone();
        report.outside = self
            .sources
            .iter()
            .zip(&landings)
            .filter(|(_, l)| l.placement == Placement::Outside)
            .map(|(s, _)| Outside {
                item: s.item_id.clone(),
                asset: s.asset.clone(),
            })
            .collect();
        let readable = landings
            .iter()
            .filter(|l| matches!(l.placement, Placement::Direct | Placement::Warp))
            .count();
        if readable == 0 {
            let gb = grid_bounds(&grid);
            return Err(CubeError::Empty {
                reason: format!(
                    "grid {} bounds {:?}; {} sources outside it ({}), {} unreadable",
                    grid.crs.short(),
                    gb,
                    report.outside.len(),
                    report
                        .outside
                        .iter()
                        .take(5)
                        .map(|o| format!("{}/{}", o.item, o.asset))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.plan_failures.len()
                ),
            });
        }
        let o = &self.options;
        let dtype = match self.dtype {
            Some(t) => t,
            None => dtype_from_file(&self.sources, &self.opened, o)?,
        };
        let nodata = choose_nodata(&self.sources, o, dtype, &mut report);
        let spec = LoadSpec {
            grid: &grid,
            sources: &self.sources,
            landings: &landings,
            timesteps: &self.timesteps,
            item_sources: &self.item_sources,
            first_slot: 0,
            slots: self.slots.len(),
            fusion: &o.fusion,
            nodata,
            rescale: o.rescale,
            threads: o.threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
            block_pixels: o.block_pixels,
            fail_on_error: o.fail_on_error,
            use_overviews: o.use_overviews,
            progress: o.progress.as_ref(),
            io: crate::io_stage::IoSettings {
                concurrency: o.effective_io_concurrency(),
                max_bytes: o.io_bytes,
            },
            stage: &self.stage,
        };
        let mut failures = self.plan_failures.clone();
        let planned = failures.len();
        let io;
        let data = dispatch_type!(dtype, T => {
            let (arr, f, r) = load::<T>(&spec)?;
            failures.extend(f);
            io = r;
            arr
        });
        // At most one failure per source: when every readable source failed,
        // nothing was read. Even with `fail_on_error(false)`, an all-nodata
        // cube is never returned.
        if failures.len() - planned >= readable {
            return Err(CubeError::Read { failures });
        }
        Ok(DatasetCollection {
            data,
            grid,
            band_names: self.band_names(),
            nodata,
            timesteps: self.timesteps.clone(),
            failures,
            report,
            io,
            bands: self.band_infos(),
        })
    }

    /// The bands' STAC metadata; scale and offset only when the cube keeps
    /// the stored values (not rescaled), from the first readable source.
    fn band_infos(&self) -> Vec<BandInfo> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let src = self
                    .sources
                    .iter()
                    .find(|s| s.slot == i && s.broken.is_none());
                let (scale, offset) = match src {
                    Some(s) if !self.options.rescale => (Some(s.scale), Some(s.offset)),
                    _ => (None, None),
                };
                BandInfo::new(slot.name.clone())
                    .with_common_name(slot.meta.common_name.clone())
                    .with_wavelength(slot.meta.wavelength)
                    .with_unit(slot.meta.unit.clone())
                    .with_scale_offset(scale, offset)
            })
            .collect()
    }

    /// The cube as an xarray Dataset ([`CubeLayout`]): what the Zarr and
    /// NetCDF writers produce, known before any pixel is read. Opens the
    /// first readable source's header only when no metadata or option
    /// decides the data type (as [`resolve_data_type`](Self::resolve_data_type)).
    pub fn layout(&self) -> Result<CubeLayout> {
        let dtype = match self.dtype {
            Some(t) => t,
            None => dtype_from_file(&self.sources, &self.opened, &self.options)?,
        };
        let nodata = choose_nodata(
            &self.sources,
            &self.options,
            dtype,
            &mut GridReport::default(),
        );
        Ok(CubeLayout::from_timesteps(
            &grid_description(&self.grid)?,
            &self.timesteps,
            &self.band_infos(),
            dtype,
            nodata,
        ))
    }
}

/// The grid as the layout takes it (CRS as WKT2 2019, EPSG, units).
pub(crate) fn grid_description(g: &TargetGrid) -> Result<GridDescription> {
    let srs = g.crs.to_spatial_ref().map_err(CubeError::from)?;
    let wkt = g.crs.to_wkt2().map_err(CubeError::from)?;
    let unit = srs
        .linear_units_name()
        .unwrap_or_else(|| "metre".to_owned());
    Ok(GridDescription::new(
        wkt,
        g.crs.epsg(),
        srs.is_geographic(),
        &unit,
        g.geotransform,
        g.rows,
        g.cols,
    ))
}

fn grid_bounds(g: &TargetGrid) -> [f64; 4] {
    stac_meta::geotransform::bounds(&g.geotransform, g.rows, g.cols)
}
