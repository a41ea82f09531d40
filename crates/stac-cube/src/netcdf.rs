//! NetCDF output: a cube written as the netCDF-4 file xarray's
//! `to_netcdf` makes of `odc.stac.load(...)`, laid out by
//! [`CubeLayout`](crate::layout::CubeLayout) (the same description the
//! Zarr output uses), through GDAL's multidimensional API and its netCDF
//! driver ([`stac_raster::multidim::MdWriter`]).
//!
//! The file holds: dimensions `time`, `y`, `x`; coordinate variables
//! `time` (int64 with CF `units`/`calendar`), `y`, `x` (pixel centres,
//! float64); the scalar `spatial_ref` with `crs_wkt`, `spatial_ref`,
//! `GeoTransform`; the string coordinates `stac_items` (and `group_key`);
//! one variable per band, `(time, y, x)`, chunked one timestep by
//! [`NetcdfOptions::with_chunk`] pixels, DEFLATE-compressed by default,
//! with the layout's attributes and `_FillValue` (floating bands).
//!
//! A plan is written window by window (full-width strips of whole chunks):
//! each strip is loaded with [`CubePlan::load_window`] while the previous
//! one is written on a writer thread, so memory holds at most two strips
//! and the writing overlaps the load. The file is written under a
//! temporary name beside the target and renamed when complete; an error
//! removes it, so nothing that looks complete is left.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use ndarray::s;
use serde_json::Value;
use stac_meta::DataType;
use stac_raster::Pixel;
use stac_raster::Window;
use stac_raster::multidim::{AttrValue, MdArray, MdType, MdWriter};

use crate::collection::{CubePlan, DatasetCollection};
use crate::data::{CubeData, dispatch_type, with_data};
use crate::error::{CubeError, Result, invalid};
use crate::layout::{CubeLayout, GRID_MAPPING};

/// Options of the NetCDF output ([`CubePlan::to_netcdf`],
/// [`DatasetCollection::to_netcdf`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NetcdfOptions {
    /// Chunk size in pixels (rows, cols); every chunk is one timestep.
    /// Default 512 x 512 (512 KiB of uint16).
    pub chunk: (usize, usize),
    /// DEFLATE level 1-9; 0 stores the data uncompressed (xarray's own
    /// default). Default 1: most of the size gain at a fraction of the time.
    pub deflate_level: u8,
    /// Rows loaded and written at a time, rounded up to whole chunks
    /// (default: one chunk row). Memory holds two such strips.
    pub strip_rows: Option<usize>,
}

impl Default for NetcdfOptions {
    fn default() -> Self {
        Self {
            chunk: (512, 512),
            deflate_level: 1,
            strip_rows: None,
        }
    }
}

impl NetcdfOptions {
    /// Set the chunk size (rows, cols), each at least 1.
    pub fn with_chunk(mut self, rows: usize, cols: usize) -> Self {
        self.chunk = (rows.max(1), cols.max(1));
        self
    }
    /// Set the DEFLATE level (0: none, 1-9).
    pub fn with_deflate_level(mut self, level: u8) -> Self {
        self.deflate_level = level;
        self
    }
    /// Set the rows loaded and written at a time (rounded up to chunks).
    pub fn with_strip_rows(mut self, rows: usize) -> Self {
        self.strip_rows = Some(rows.max(1));
        self
    }

    fn check(&self) -> Result<()> {
        if self.deflate_level > 9 {
            return Err(invalid(
                "deflate_level",
                format!("{} is not 0 (none) or 1-9", self.deflate_level),
            ));
        }
        Ok(())
    }
}

/// What [`CubePlan::to_netcdf`] wrote.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NetcdfReport {
    /// The file, at its final path.
    pub path: PathBuf,
    /// Strips written (one load each).
    pub strips: usize,
    /// Sources that failed (with `fail_on_error(false)`), over all strips.
    pub failures: Vec<crate::Failure>,
    /// Strips written as nodata because every source reaching them failed
    /// (with `fail_on_error(false)`; their sources are in `failures`).
    pub failed_strips: usize,
}

impl CubePlan {
    /// Write the cube to a netCDF-4 file at `path`, window by window (see
    /// the module docs): peak memory is about two strips of
    /// `time x bands x strip rows x cols` values, whatever the cube's size.
    ///
    /// A strip that no source reaches is written as nodata; a source that
    /// fails is an error (`fail_on_error`, the default) or listed in the
    /// report; with `fail_on_error(false)` a strip whose every source
    /// failed is written as nodata and counted in `failed_strips` (the
    /// file is still an error when no strip could be read at all). The
    /// file appears at `path` only when complete.
    pub fn to_netcdf(
        &self,
        path: impl AsRef<Path>,
        options: &NetcdfOptions,
    ) -> Result<NetcdfReport> {
        options.check()?;
        let path = path.as_ref();
        let layout = self.layout()?;
        let [_, rows, cols] = layout.shape();
        let chunk_rows = options.chunk.0.min(rows.max(1));
        let strip = options
            .strip_rows
            .unwrap_or(chunk_rows)
            .div_ceil(chunk_rows)
            * chunk_rows;
        let windows = self.windows(strip, cols.max(1));
        let mut failures = Vec::new();
        let mut failed_strips = 0;
        let keep_going = !self.options().fail_on_error;
        let strips = windows.len();
        write_file(path, &layout, options, |send| {
            let mut nothing = None;
            let mut loaded = 0;
            for w in windows {
                let part = match self.load_window(w) {
                    Ok(p) => p,
                    // A strip no source reaches is nodata, not an error
                    // (unless no strip has any source: below).
                    Err(e @ CubeError::Empty { .. }) => {
                        nothing = Some(e);
                        send(w, Pixels::Owned(empty_strip(&layout, w)))?;
                        continue;
                    }
                    // Every source of this strip failed, and the caller
                    // keeps going: a nodata strip and its failures, not a
                    // failed file (other strips have data).
                    Err(CubeError::Read { failures: f }) if keep_going => {
                        failures.extend(f.iter().cloned());
                        failed_strips += 1;
                        nothing = Some(CubeError::Read { failures: f });
                        send(w, Pixels::Owned(empty_strip(&layout, w)))?;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                loaded += 1;
                failures.extend(part.failures().iter().cloned());
                send(w, Pixels::Loaded(Box::new(part)))?;
            }
            // A cube no source reaches is an error, never an all-nodata file.
            match (loaded, nothing) {
                (0, Some(e)) => Err(e),
                _ => Ok(()),
            }
        })?;
        failures.sort_by(|a, b| (&a.item, &a.asset).cmp(&(&b.item, &b.asset)));
        failures.dedup_by(|a, b| a.item == b.item && a.asset == b.asset);
        Ok(NetcdfReport {
            path: path.to_path_buf(),
            strips,
            failures,
            failed_strips,
        })
    }
}

impl DatasetCollection {
    /// Write the loaded cube to a netCDF-4 file at `path` (the same file
    /// as [`CubePlan::to_netcdf`]), atomically.
    ///
    /// ```no_run
    /// use stac_cube::{CubeOptions, DatasetCollection, NetcdfOptions};
    /// let items: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string("items.json")?)?;
    /// let cube = DatasetCollection::from_stac(&items, &["B04"], &CubeOptions::default())?;
    /// cube.to_netcdf("cube.nc", &NetcdfOptions::default())?;
    /// // xarray.open_dataset("cube.nc") gives what odc.stac.load(...) gives.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_netcdf(&self, path: impl AsRef<Path>, options: &NetcdfOptions) -> Result<PathBuf> {
        options.check()?;
        let path = path.as_ref();
        let layout = self.layout()?;
        let (_, _, rows, cols) = self.shape();
        write_file(path, &layout, options, |send| {
            if rows > 0 && cols > 0 {
                send(Window::new(0, 0, cols, rows), Pixels::Borrowed(self.data()))?;
            }
            Ok(())
        })?;
        Ok(path.to_path_buf())
    }
}

/// A strip of nodata (NaN for floats without nodata, else 0).
fn empty_strip(layout: &CubeLayout, w: Window) -> CubeData {
    let (t, b) = (layout.shape()[0], layout.bands.len());
    let dtype = layout.bands.first().map_or(DataType::Uint8, |b| b.dtype);
    let fill = layout
        .bands
        .first()
        .and_then(|b| b.nodata)
        .unwrap_or(if dtype.is_float() { f64::NAN } else { 0.0 });
    let shape = (t, b, w.rows, w.cols);
    dispatch_type!(dtype, T => ndarray::Array4::<T>::from_elem(shape, T::from_f64(fill)))
}

/// A strip's pixels, as the loading side has them.
enum Pixels<'a> {
    /// A loaded window.
    Loaded(Box<DatasetCollection>),
    /// Pixels made here (a strip of nodata).
    Owned(CubeData),
    /// The whole cube of [`DatasetCollection::to_netcdf`].
    Borrowed(&'a CubeData),
}

impl Pixels<'_> {
    fn data(&self) -> &CubeData {
        match self {
            Self::Loaded(c) => c.data(),
            Self::Owned(d) => d,
            Self::Borrowed(d) => d,
        }
    }
}

/// A sibling temp file removed on drop unless renamed into place.
struct Temp(Option<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn temp_sibling(path: &Path) -> Result<PathBuf> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| invalid("path", format!("'{}' names no file", path.display())))?;
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp))
}

/// Strips sent from the loading thread to the writer thread.
type Strip<'a> = (Window, Pixels<'a>);

/// Write `layout` to `path` (through a temp file), the pixels given by
/// `produce`, which calls its `send` once per strip, in any order. The
/// writer runs on its own thread while `produce` loads the next strip.
fn write_file<'a>(
    path: &Path,
    layout: &CubeLayout,
    options: &NetcdfOptions,
    produce: impl FnOnce(&mut dyn FnMut(Window, Pixels<'a>) -> Result<()>) -> Result<()>,
) -> Result<()> {
    if path.is_dir() {
        return Err(invalid(
            "path",
            format!("'{}' is a folder, not a NetCDF file", path.display()),
        ));
    }
    let tmp = Temp(Some(temp_sibling(path)?));
    let tmp_path = tmp.0.clone().unwrap_or_default();
    // One strip in the channel, one being written, one being loaded.
    let (tx, rx) = mpsc::sync_channel::<Strip<'a>>(1);
    let written = std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<()> {
            let mut file = NcFile::create(&tmp_path, layout, options)?;
            for (w, data) in rx {
                file.write_strip(w, data.data())?;
            }
            file.close()
        });
        let mut send = |w: Window, data: Pixels<'a>| -> Result<()> {
            // A closed channel: the writer failed; its error is reported.
            tx.send((w, data)).map_err(|_| CubeError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other("the NetCDF writer stopped"),
            })
        };
        let produced = produce(&mut send);
        drop(tx);
        let wrote = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // The writer's error explains a failed send; else the load's.
        wrote.and(produced)
    });
    written?;
    std::fs::rename(&tmp_path, path).map_err(|source| CubeError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut tmp = tmp;
    tmp.0 = None;
    Ok(())
}

/// An open NetCDF file with the layout's variables defined.
struct NcFile {
    w: MdWriter,
    bands: Vec<MdArray>,
    dtype: DataType,
}

/// A layout attribute (JSON) as a NetCDF attribute.
fn attr(v: &Value) -> Option<AttrValue> {
    match v {
        Value::String(s) => Some(AttrValue::Text(s.clone())),
        Value::Number(n) => n
            .as_i64()
            .map(AttrValue::Int)
            .or_else(|| n.as_f64().map(AttrValue::Float)),
        Value::Bool(b) => Some(AttrValue::Int(i64::from(*b))),
        Value::Array(a) => Some(AttrValue::Floats(
            a.iter().filter_map(Value::as_f64).collect(),
        )),
        _ => None,
    }
}

impl NcFile {
    fn create(path: &Path, layout: &CubeLayout, options: &NetcdfOptions) -> Result<Self> {
        let [nt, ny, nx] = layout.shape();
        let dtype = layout.bands.first().map_or(DataType::Uint8, |b| b.dtype);
        if dtype == DataType::Int8 {
            return Err(invalid(
                "dtype",
                "int8 cubes cannot be written to NetCDF through GDAL 3.6 (no signed byte type); use --dtype int16",
            ));
        }
        let mut w = MdWriter::create("netCDF", path, &["FORMAT=NC4".to_owned()])?;
        let [tname, yname, xname] = layout.dims();
        let td = w.dimension(tname, "TEMPORAL", nt as u64)?;
        let yd = w.dimension(yname, "HORIZONTAL_Y", ny as u64)?;
        let xd = w.dimension(xname, "HORIZONTAL_X", nx as u64)?;

        let time = w.array(tname, &[&td], MdType::Int64, &[])?;
        for (k, v) in layout.time_attrs() {
            if k == "_FillValue" {
                w.set_nodata(&time, crate::layout::NAT as f64)?;
            } else if let Some(a) = attr(&v) {
                w.array_attribute(&time, &k, &a)?;
            }
        }
        let y = w.array(yname, &[&yd], MdType::Raster(DataType::Float64), &[])?;
        let x = w.array(xname, &[&xd], MdType::Raster(DataType::Float64), &[])?;
        for (arr, coord) in [(&y, &layout.y), (&x, &layout.x)] {
            // Of the CF axis attributes only `long_name`: with `axis` or
            // `standard_name` on `y`, GDAL 3.12.4's classic netCDF reader returns
            // rows shifted and zeros for a north-up file written in strips (3.6 and
            // xarray read it right); `cargo xtask gdal-3.12` runs the test that
            // showed it (docs/reliability.md).
            let cf = coord
                .cf_attrs()
                .into_iter()
                .filter(|(k, _)| k == "long_name");
            for (k, v) in coord.attrs().into_iter().chain(cf) {
                if let Some(a) = attr(&v) {
                    w.array_attribute(arr, &k, &a)?;
                }
            }
        }
        let sref = w.array(GRID_MAPPING, &[], MdType::Raster(DataType::Int32), &[])?;
        for (k, v) in layout.spatial_ref.attrs() {
            if let Some(a) = attr(&v) {
                w.array_attribute(&sref, &k, &a)?;
            }
        }
        let strings: Vec<(MdArray, Vec<String>)> = layout
            .string_coords()
            .into_iter()
            .map(|(name, values)| Ok((w.array(name, &[&td], MdType::String, &[])?, values)))
            .collect::<Result<_>>()?;

        let (cr, cc) = (
            options.chunk.0.clamp(1, ny.max(1)),
            options.chunk.1.clamp(1, nx.max(1)),
        );
        let mut create = vec![format!("BLOCKSIZE=1,{cr},{cc}")];
        if options.deflate_level > 0 {
            create.push("COMPRESS=DEFLATE".into());
            create.push(format!("ZLEVEL={}", options.deflate_level));
        }
        let mut bands = Vec::with_capacity(layout.bands.len());
        for b in &layout.bands {
            let arr = w.array(&b.name, &[&td, &yd, &xd], MdType::Raster(b.dtype), &create)?;
            if let Some(f) = b.fill_value {
                w.set_nodata(&arr, f)?;
            }
            for (k, v) in b.attrs() {
                let a = if k == "nodata" {
                    // The number itself (NaN included), in the band's kind.
                    b.nodata.map(|n| {
                        if b.dtype.is_float() {
                            AttrValue::Float(n)
                        } else {
                            AttrValue::Int(n as i64)
                        }
                    })
                } else {
                    attr(&v)
                };
                if let Some(a) = a {
                    w.array_attribute(&arr, &k, &a)?;
                }
            }
            bands.push(arr);
        }
        for (k, v) in layout.global_attrs() {
            if let Some(a) = attr(&v) {
                w.attribute(&k, &a)?;
            }
        }

        // Coordinates now; the bands strip by strip.
        w.write_i64(&time, &[0], &[nt], &layout.time.encoded)?;
        w.write::<f64>(&y, &[0], &[ny], &layout.y.values)?;
        w.write::<f64>(&x, &[0], &[nx], &layout.x.values)?;
        w.write::<i32>(&sref, &[], &[], &[layout.spatial_ref.epsg])?;
        for (arr, values) in &strings {
            w.write_strings(arr, values)?;
        }
        Ok(Self { w, bands, dtype })
    }

    /// Write a `(time, band, rows, cols)` strip at the window's place.
    fn write_strip(&mut self, win: Window, data: &CubeData) -> Result<()> {
        if data.data_type() != self.dtype {
            return Err(invalid(
                "strip",
                format!(
                    "{} pixels for a {} file",
                    data.data_type().as_str(),
                    self.dtype.as_str()
                ),
            ));
        }
        let (nt, _, h, wd) = data.dim();
        let start = [0, win.row_off as u64, win.col_off as u64];
        let count = [nt, h, wd];
        let Self { w, bands, .. } = self;
        with_data!(data, a => {
            for (b, arr) in bands.iter().enumerate() {
                let plane = a.slice(s![.., b, .., ..]);
                let values: Vec<_> = match plane.as_slice() {
                    Some(s) => s.to_vec(),
                    None => plane.iter().copied().collect(),
                };
                w.write(arr, &start, &count, &values)?;
            }
        });
        Ok(())
    }

    fn close(self) -> Result<()> {
        // The arrays hold the file open (GDAL shares it between the dataset
        // and its arrays): release them first, so the close below is the
        // real one and its errors (a full disk at the last flush) are seen.
        let Self { w, bands, .. } = self;
        drop(bands);
        Ok(w.close()?)
    }
}
