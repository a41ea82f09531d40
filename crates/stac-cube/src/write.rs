//! Writing a cube: one GeoTIFF per timestep, and a quick-look PNG.

use std::path::{Path, PathBuf};

use ndarray::{Array3, Axis};
use stac_raster::{Dataset, GridSpec, Pixel, WriteOptions};

use crate::collection::DatasetCollection;
use crate::data::with_data;
use crate::error::{CubeError, Result, invalid};

/// Options of [`DatasetCollection::write_quicklook`].
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
/// use stac_cube::{CubeOptions, DatasetCollection, QuicklookOptions};
/// let cube = DatasetCollection::from_stac(&items, &["B04"], &CubeOptions::default())?;
/// let png = dir.path().join("t0.png");
/// cube.write_quicklook(0, &png, &QuicklookOptions::default().with_bands(vec![0]).with_percentiles(2.0, 98.0))?;
/// assert!(std::fs::metadata(&png)?.len() > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QuicklookOptions {
    /// Bands (0-based) shown as red, green, blue; one band gives a grey
    /// image (default: the first three bands, or the first band).
    pub bands: Option<Vec<usize>>,
    /// Lower and upper percentiles of the stretch (default 2 and 98).
    pub percentiles: (f64, f64),
}

impl Default for QuicklookOptions {
    fn default() -> Self {
        Self {
            bands: None,
            percentiles: (2.0, 98.0),
        }
    }
}

impl QuicklookOptions {
    /// Choose the bands shown (one, or three for RGB).
    pub fn with_bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bands`")]
    pub fn bands(self, bands: Vec<usize>) -> Self {
        self.with_bands(bands)
    }
    /// Set the stretch percentiles.
    pub fn with_percentiles(mut self, low: f64, high: f64) -> Self {
        self.percentiles = (low, high);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_percentiles`")]
    pub fn percentiles(self, low: f64, high: f64) -> Self {
        self.with_percentiles(low, high)
    }
}

/// Files written by one [`DatasetCollection::to_files_with`] call, removed
/// on drop unless taken out.
struct Written(Vec<PathBuf>);

impl Drop for Written {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A file-name-safe form of a time label (`A-Za-z0-9_.+-` kept, 60 chars max).
pub(crate) fn slug(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if s.is_empty() { "t".into() } else { s }
}

/// `options` with `NUM_THREADS=<threads>` added when it compresses with a
/// driver that reads it (GTiff, COG), `threads` > 1 and no `NUM_THREADS`
/// was given.
fn with_compression_threads(options: &WriteOptions, threads: usize) -> WriteOptions {
    let mut options = options.clone();
    let set = (options.creation_options.iter())
        .any(|o| o.to_ascii_uppercase().starts_with("NUM_THREADS="));
    let format_reads_it = matches!(
        options.format,
        None | Some(stac_raster::Format::GTiff | stac_raster::Format::Cog)
    );
    if threads > 1 && !set && format_reads_it {
        options
            .creation_options
            .push(format!("NUM_THREADS={threads}"));
    }
    options
}

impl DatasetCollection {
    /// Write one GeoTIFF per timestep into `dir` (created if needed):
    /// `<index:04>_<label>.tif`, DEFLATE-compressed and tiled, with band
    /// descriptions and nodata set. Returns the paths in time order.
    ///
    /// Each file is written under a temporary name inside `dir` and renamed;
    /// when a timestep fails, the files this call wrote are removed, so an
    /// error never leaves a partial set. Files already in `dir` are left as
    /// they are: to replace a previous output whole, write into a new
    /// folder and rename it into place (the CLI's `cube --out` does).
    pub fn to_files(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.to_files_with(
            dir,
            &WriteOptions::default()
                .with_creation_option("COMPRESS=DEFLATE")
                .with_creation_option("TILED=YES"),
        )
    }

    /// [`to_files`](Self::to_files) with explicit write options (e.g. the COG
    /// format or other creation options).
    ///
    /// Timesteps are compressed in parallel: up to one thread per core, each
    /// writing its own timestep. When there are fewer timesteps than cores,
    /// each write also gets GDAL's `NUM_THREADS` creation option (the GTiff
    /// and COG drivers compress blocks on that many threads) unless
    /// `options` sets it. The files are the same, byte for byte, as written
    /// one at a time on one thread.
    pub fn to_files_with(
        &self,
        dir: impl AsRef<Path>,
        options: &WriteOptions,
    ) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| CubeError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let cog = matches!(options.format, Some(stac_raster::Format::Cog));
        let ext = if cog { "cog.tif" } else { "tif" };
        let paths: Vec<PathBuf> = (self.timesteps().iter().enumerate())
            .map(|(t, ts)| dir.join(format!("{t:04}_{}.{ext}", slug(&ts.label))))
            .collect();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let workers = cores.min(paths.len()).max(1);
        let options = with_compression_threads(options, cores / workers);
        // Until every timestep is written, the files written so far are
        // removed on drop: an error leaves no partial set that looks whole.
        let written = std::sync::Mutex::new(Written(Vec::with_capacity(paths.len())));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let write_one = |t: usize| -> Result<()> {
            self.dataset(t)?.to_file_with(&paths[t], &options)?;
            written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0
                .push(paths[t].clone());
            Ok(())
        };
        // Each worker takes the next timestep until none is left or one
        // failed; the first error (in time order) is returned.
        let errors: Vec<(usize, CubeError)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut errors = Vec::new();
                        loop {
                            use std::sync::atomic::Ordering::SeqCst;
                            let t = next.fetch_add(1, SeqCst);
                            if t >= paths.len() || failed.load(SeqCst) {
                                return errors;
                            }
                            if let Err(e) = write_one(t) {
                                failed.store(true, SeqCst);
                                errors.push((t, e));
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut written = written
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, e)) = errors.into_iter().min_by_key(|(t, _)| *t) {
            return Err(e);
        }
        std::mem::take(&mut written.0);
        Ok(paths)
    }

    /// Write timestep `t` as an 8-bit PNG with a percentile stretch per band
    /// (nodata transparent through an alpha band).
    pub fn write_quicklook(
        &self,
        t: usize,
        path: impl AsRef<Path>,
        options: &QuicklookOptions,
    ) -> Result<PathBuf> {
        if t >= self.time_length() {
            return Err(invalid(
                "timestep",
                format!("{t} is out of range (the cube has {})", self.time_length()),
            ));
        }
        let nb = self.band_count();
        let bands = options
            .bands
            .clone()
            .unwrap_or_else(|| if nb >= 3 { vec![0, 1, 2] } else { vec![0] });
        if !(bands.len() == 1 || bands.len() == 3) || bands.iter().any(|&b| b >= nb) {
            return Err(invalid(
                "quicklook bands",
                format!("{bands:?}: give one or three band indices below {nb}"),
            ));
        }
        let (lo, hi) = options.percentiles;
        if !(0.0..=100.0).contains(&lo) || !(0.0..=100.0).contains(&hi) || lo >= hi {
            return Err(invalid(
                "percentiles",
                format!("({lo}, {hi}) must satisfy 0 <= low < high <= 100"),
            ));
        }
        let nodata = self.nodata();
        let planes: Vec<Vec<f64>> = with_data!(self.data(), a => bands
            .iter()
            .map(|&b| a.index_axis(Axis(0), t).index_axis(Axis(0), b).iter().map(|v| v.to_f64()).collect())
            .collect());
        let (_, _, h, w) = self.shape();
        let valid = |v: f64| !v.is_nan() && Some(v) != nodata;
        let mut alpha = vec![255u8; h * w];
        let mut out = Array3::<u8>::zeros((bands.len() + 1, h, w));
        for (k, plane) in planes.iter().enumerate() {
            let mut vals: Vec<f64> = plane.iter().copied().filter(|v| valid(*v)).collect();
            vals.sort_by(f64::total_cmp);
            let pick = |p: f64| -> f64 {
                if vals.is_empty() {
                    0.0
                } else {
                    vals[((p / 100.0) * (vals.len() - 1) as f64).round() as usize]
                }
            };
            let (a, b) = (pick(lo), pick(hi));
            let span = if b > a { b - a } else { 1.0 };
            let mut band = out.index_axis_mut(Axis(0), k);
            for (i, (o, v)) in band.iter_mut().zip(plane).enumerate() {
                if valid(*v) {
                    *o = (1.0 + 254.0 * ((v - a) / span).clamp(0.0, 1.0)).round() as u8;
                } else {
                    alpha[i] = 0;
                }
            }
        }
        out.index_axis_mut(Axis(0), bands.len())
            .iter_mut()
            .zip(&alpha)
            .for_each(|(o, a)| *o = *a);
        let spec = GridSpec::from_geotransform(self.geotransform(), Some(self.crs().clone()));
        let ds = Dataset::create_from_array(&out, &spec, None)?;
        let path = path.as_ref().to_path_buf();
        ds.to_file_with(
            &path,
            &WriteOptions::default().with_format(stac_raster::Format::Png),
        )?;
        Ok(path)
    }
}
