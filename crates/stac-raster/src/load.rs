//! [`load_asset`]: open one STAC asset with the reader `which_engine` names.

use std::sync::Arc;

use gdal::Metadata;
use serde_json::Value;
use stac_meta::{Engine, HrefPolicy};
use stac_signers::{GdalEnv, Signer};

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::grid::GridSpec;
use crate::limits::Timeouts;
use crate::source::{RasterSource, SourceOptions};

/// Options of [`load_asset`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use serde_json::json;
/// use stac_raster::{load_asset, HrefPolicy, LoadOptions, RasterError};
/// let item = json!({"id": "a", "assets": {"B04": {"href": path, "type": "image/tiff"}}});
/// // A local file is refused where only remote hrefs may be read ...
/// let remote = LoadOptions::default().with_href_policy(HrefPolicy::remote_only());
/// assert!(matches!(load_asset(&item, Some("B04"), &remote), Err(RasterError::Refused { .. })));
/// // ... and read where local files are allowed.
/// assert_eq!(load_asset(&item, Some("B04"), &LoadOptions::default())?.band_count(), 1);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Signs the href (href hook) and provides the GDAL env (called once).
    pub signer: Option<Arc<dyn Signer>>,
    /// Alternate-assets names to prefer, in order.
    pub alternates: Vec<String>,
    /// Apply `raster:bands` scale/offset: the result is `float32` with
    /// nodata NaN (GDAL-engine assets only; others are returned as stored).
    pub rescale: bool,
    /// NetCDF / Zarr variable (subdataset) to open. `None`: the file itself
    /// when it has bands, else its only subdataset, else an error listing
    /// the variables.
    pub variable: Option<String>,
    /// Extra GDAL config for this open (the signer's env wins over it).
    pub env: GdalEnv,
    /// Which hrefs may be opened, judged after the href is resolved against
    /// the item's `self` link and signed (default: items from a local file;
    /// connection strings and special files are always refused). Use
    /// [`HrefPolicy::for_api_items`] for items from a STAC API.
    pub href_policy: HrefPolicy,
    /// Time bounds on the open and later reads.
    pub timeouts: Timeouts,
}

impl LoadOptions {
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = Some(signer.into());
        self
    }

    /// Prefer these alternate hrefs, in order.
    pub fn with_alternates<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.alternates = names.into_iter().map(Into::into).collect();
        self
    }

    /// Apply `raster:bands` scale/offset.
    pub fn with_rescale(mut self, rescale: bool) -> Self {
        self.rescale = rescale;
        self
    }

    /// Open this NetCDF / Zarr variable.
    pub fn with_variable(mut self, variable: impl Into<String>) -> Self {
        self.variable = Some(variable.into());
        self
    }

    /// Extra GDAL config for the open and later reads.
    pub fn with_env(mut self, env: GdalEnv) -> Self {
        self.env = env;
        self
    }

    /// Restrict which hrefs may be opened (see [`HrefPolicy`]).
    pub fn with_href_policy(mut self, policy: HrefPolicy) -> Self {
        self.href_policy = policy;
        self
    }

    /// Set the time bounds.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The source-layer options these describe.
    pub fn source_options(&self) -> SourceOptions {
        let mut o = SourceOptions::default()
            .with_alternates(self.alternates.iter().cloned())
            .with_policy(self.href_policy.clone())
            .with_timeouts(self.timeouts)
            .with_env(self.env.clone());
        if let Some(s) = &self.signer {
            o = o.with_signer(s.clone());
        }
        o
    }
}

/// Open `item`'s asset `asset_key` (`None`: `item` is itself the asset)
/// through GDAL with the reader [`stac_meta::which_engine`] names: GeoTIFF /
/// COG / JPEG2000, NetCDF (subdataset by variable), GRIB or Zarr. Opens the
/// file (remote hrefs: network).
///
/// The asset goes through the source layer ([`RasterSource::resolve`]):
/// resolved against the item's `self` link, signed, judged by
/// `options.href_policy`, with the signer's env scoped to the href's origin
/// installed thread-locally for the open and every later read of the
/// returned [`Dataset`], under `options.timeouts`. A refused href is a
/// [`RasterError::Refused`] before any I/O; a hit deadline is
/// [`RasterError::Deadline`].
///
/// ```
/// use ndarray::Array2;
/// use serde_json::json;
/// use stac_raster::{load_asset, Dataset, GridSpec, LoadOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("B04.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 2), 100),
///     &GridSpec::north_up([0.0, 20.0], 10.0, 32630), Some(0.0))?.to_file(&path)?;
/// let item = json!({"id": "a", "assets": {"B04": {"href": path.to_str().unwrap(),
///     "type": "image/tiff; application=geotiff",
///     "raster:bands": [{"scale": 0.5, "offset": 1.0}]}}});
/// let ds = load_asset(&item, Some("B04"), &LoadOptions::default().with_rescale(true))?;
/// assert_eq!(ds.read_array::<f32>()?[[0, 0, 0]], 51.0);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
pub fn load_asset(item: &Value, asset_key: Option<&str>, options: &LoadOptions) -> Result<Dataset> {
    let alternates: Vec<&str> = options.alternates.iter().map(String::as_str).collect();
    let engine = stac_meta::which_engine_with(item, asset_key, &alternates)?;
    let source = RasterSource::resolve(item, asset_key, &options.source_options())?;
    let path = source.gdal_path().to_owned();
    let open = |p: &str, drivers: &[&str]| source.open_path(p, drivers);
    let ds = match engine {
        Engine::Gdal => open(&path, &[])?,
        Engine::Grib => open(&path, &["GRIB"])?,
        Engine::NetCdf => open_variable(&path, "NETCDF", "netCDF", options, &source, &open)?,
        Engine::Zarr => open_variable(&path, "ZARR", "Zarr", options, &source, &open)?,
        other => {
            return Err(source.error(
                "cannot open",
                RasterError::InvalidArgument(format!("no reader for engine '{other}'")),
            ));
        }
    };
    if options.rescale && engine == Engine::Gdal {
        let meta = stac_meta::read_extension_metadata(item, asset_key)?;
        let packing: Vec<(f64, f64)> = (0..ds.band_count())
            .map(|i| {
                meta.bands.get(i).map_or((1.0, 0.0), |b| {
                    (b.scale.unwrap_or(1.0), b.offset.unwrap_or(0.0))
                })
            })
            .collect();
        if packing.iter().any(|&(s, o)| s != 1.0 || o != 0.0) {
            return rescaled(&ds, &packing).map_err(|e| source.error("cannot rescale", e));
        }
    }
    Ok(ds)
}

/// Open a NetCDF / Zarr variable: `PREFIX:"path":var` (Zarr arrays are
/// named `/var`), or the file itself / its only subdataset.
fn open_variable(
    path: &str,
    prefix: &str,
    driver: &str,
    options: &LoadOptions,
    ctx: &RasterSource,
    open: &dyn Fn(&str, &[&str]) -> Result<Dataset>,
) -> Result<Dataset> {
    if let Some(var) = &options.variable {
        let var = if prefix == "ZARR" && !var.starts_with('/') {
            format!("/{var}")
        } else {
            var.clone()
        };
        return open(&format!("{prefix}:\"{path}\":{var}"), &[driver]);
    }
    let ds = open(path, &[driver])?;
    if ds.band_count() > 0 {
        return Ok(ds);
    }
    let subs: Vec<String> = ds
        .inner()
        .metadata_domain("SUBDATASETS")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            k.ends_with("_NAME").then(|| v.to_owned())
        })
        .collect();
    match subs.as_slice() {
        [only] => open(only, &[driver]),
        [] => Err(ctx.error(
            "cannot open",
            RasterError::InvalidArgument("the file has no raster variables".into()),
        )),
        many => {
            let names: Vec<&str> = many
                .iter()
                .map(|s| s.rsplit(':').next().unwrap_or(s))
                .collect();
            Err(ctx.error(
                "cannot open",
                RasterError::InvalidArgument(format!(
                    "the file has {} variables ({}): choose one with LoadOptions::variable",
                    many.len(),
                    names.join(", ")
                )),
            ))
        }
    }
}

/// `x * scale + offset` per band into an in-memory float32 raster with
/// nodata NaN (stored nodata cells become NaN).
fn rescaled(ds: &Dataset, packing: &[(f64, f64)]) -> Result<Dataset> {
    let mut data = ds.read_array::<f64>()?;
    let nodata = ds.nodata();
    for (b, mut plane) in data.outer_iter_mut().enumerate() {
        let (scale, offset) = packing[b];
        let nd = nodata.get(b).copied().flatten();
        plane.mapv_inplace(|v| {
            let missing = match nd {
                Some(n) if n.is_nan() => v.is_nan(),
                Some(n) => v == n,
                None => false,
            };
            if missing {
                f64::NAN
            } else {
                v * scale + offset
            }
        });
    }
    let data32 = data.mapv(|v| v as f32);
    let grid = GridSpec {
        geotransform: ds.geotransform().unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
        crs: ds.crs(),
    };
    let mut out = Dataset::create_from_array(&data32, &grid, Some(f64::NAN))?;
    out.set_band_names(&ds.band_names())?;
    out.env = ds.env.clone();
    out.label = ds.label.clone();
    Ok(out)
}
