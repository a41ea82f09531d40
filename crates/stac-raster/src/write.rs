//! [`Dataset::to_file`]: write a raster, driver chosen by extension.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};

/// Output format of [`Dataset::to_file_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// GeoTIFF (`.tif`, `.tiff`).
    GTiff,
    /// Cloud-optimized GeoTIFF (`.cog.tif`, `.cog.tiff`, `.cog`).
    Cog,
    /// GDAL VRT (`.vrt`).
    Vrt,
    /// PNG (`.png`), for previews.
    Png,
    /// Any other GDAL driver with CreateCopy, by short name.
    Driver(String),
}

impl Format {
    /// The format for a path's extension, `None` when unknown.
    ///
    /// ```
    /// use stac_raster::Format;
    /// assert_eq!(Format::from_path("a/b.cog.tif"), Some(Format::Cog));
    /// assert_eq!(Format::from_path("b.TIF"), Some(Format::GTiff));
    /// assert_eq!(Format::from_path("b.vrt"), Some(Format::Vrt));
    /// assert_eq!(Format::from_path("b.xyz"), None);
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Option<Self> {
        let name = path
            .as_ref()
            .file_name()?
            .to_string_lossy()
            .to_ascii_lowercase();
        if name.ends_with(".cog.tif") || name.ends_with(".cog.tiff") || name.ends_with(".cog") {
            Some(Self::Cog)
        } else if name.ends_with(".tif") || name.ends_with(".tiff") {
            Some(Self::GTiff)
        } else if name.ends_with(".vrt") {
            Some(Self::Vrt)
        } else if name.ends_with(".png") {
            Some(Self::Png)
        } else {
            None
        }
    }

    /// GDAL's driver short name.
    pub fn driver_name(&self) -> &str {
        match self {
            Self::GTiff => "GTiff",
            Self::Cog => "COG",
            Self::Vrt => "VRT",
            Self::Png => "PNG",
            Self::Driver(name) => name,
        }
    }
}

/// Options of [`Dataset::to_file_with`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{Format, WriteOptions};
/// let ds = Dataset::open(path)?;
/// let out = dir.path().join("b.tif");
/// ds.to_file_with(&out, &WriteOptions::default()
///     .with_format(Format::Cog)
///     .with_creation_option("COMPRESS=ZSTD"))?;
/// assert_eq!(Dataset::open(out.to_str().unwrap())?.read_array::<u16>()?[[0, 1, 2]], 7);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The format (`None` = from the extension).
    pub format: Option<Format>,
    /// Driver creation options (`KEY=VALUE`, e.g. `COMPRESS=DEFLATE`).
    pub creation_options: Vec<String>,
}

impl WriteOptions {
    /// Force a format.
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Add a creation option (`KEY=VALUE`).
    pub fn with_creation_option(mut self, option: impl Into<String>) -> Self {
        self.creation_options.push(option.into());
        self
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Dataset {
    /// Write the raster to `path`, the driver chosen by extension (`.tif` →
    /// GeoTIFF, `.cog.tif` → COG, `.vrt` → VRT, `.png` → PNG). Band names
    /// are written as band descriptions. The file is written under a
    /// temporary name in the same directory and renamed into place, so a
    /// failed write never leaves a half-written file at `path`.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_file_with(path, &WriteOptions::default())
    }

    /// [`to_file`](Self::to_file) with an explicit format and creation options.
    pub fn to_file_with(&self, path: impl AsRef<Path>, options: &WriteOptions) -> Result<()> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let format = match &options.format {
            Some(f) => f.clone(),
            None => Format::from_path(path).ok_or_else(|| {
                RasterError::InvalidArgument(format!(
                    "cannot choose a format for '{shown}': use .tif, .cog.tif, .vrt or .png, or set WriteOptions::format"
                ))
            })?,
        };
        let driver = gdal::DriverManager::get_driver_by_name(format.driver_name())
            .map_err(|e| RasterError::gdal("driver", &shown, e))?;
        let mut copts = gdal::cpl::CslStringList::new();
        for o in &options.creation_options {
            let (k, v) = o.split_once('=').ok_or_else(|| {
                RasterError::InvalidArgument(format!("creation option '{o}' is not KEY=VALUE"))
            })?;
            copts
                .set_name_value(k, v)
                .map_err(|e| RasterError::gdal("creation option", &shown, e))?;
        }
        let tmp = TempGuard(temp_sibling(path)?);
        let out = self
            .scoped(|ds| ds.create_copy(&driver, &tmp.0, &copts))
            .map_err(|e| RasterError::gdal("write", &shown, e))?;
        out.close()
            .map_err(|e| RasterError::gdal("write", &shown, e))?;
        std::fs::rename(&tmp.0, path).map_err(|source| RasterError::Io {
            operation: "rename into",
            path: shown.clone(),
            source,
        })?;
        let tmp = tmp.disarm();
        // A PAM side-car (.aux.xml) written next to the temp file follows it.
        let tmp_aux = sidecar(&tmp, ".aux.xml");
        if tmp_aux.exists() {
            std::fs::rename(&tmp_aux, sidecar(path, ".aux.xml")).map_err(|source| {
                RasterError::Io {
                    operation: "rename side-car of",
                    path: shown.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A temp file (and its side-car) removed when dropped: on an error, a
/// panic unwinding, anything but [`TempGuard::disarm`] after the rename.
struct TempGuard(PathBuf);

impl TempGuard {
    /// The path, no longer removed on drop.
    fn disarm(self) -> PathBuf {
        let mut me = std::mem::ManuallyDrop::new(self);
        std::mem::take(&mut me.0)
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        remove_with_sidecars(&self.0);
    }
}

fn remove_with_sidecars(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(sidecar(path, ".aux.xml"));
}

/// `dir/.name.tmp-<pid>-<n>` next to `path` (same file system, so the
/// rename is atomic).
fn temp_sibling(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        RasterError::InvalidArgument(format!("'{}' has no file name", path.display()))
    })?;
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp_name = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp_name))
}
