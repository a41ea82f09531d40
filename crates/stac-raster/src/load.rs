//! [`load_asset`]: open one STAC asset with the reader `which_engine` names.

use std::sync::Arc;

use gdal::Metadata;
use serde_json::Value;
use stac_meta::{Engine, HrefPolicy};
use stac_signers::{GdalEnv, Signer};

use crate::dataset::{Dataset, OpenOptions};
use crate::error::{RasterError, Result};
use crate::grid::GridSpec;

/// The GDAL config installed for remote GDAL-engine (GeoTIFF/COG/JPEG2000)
/// opens, before the signer's env (which wins on conflicts).
pub fn fast_read_preset() -> GdalEnv {
    GdalEnv::new()
        .with("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
        .with("GDAL_HTTP_MULTIPLEX", "YES")
        .with("GDAL_HTTP_VERSION", "2")
        .with("GDAL_HTTP_MULTIRANGE", "YES")
        .with("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES")
}

/// Options of [`load_asset`].
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
    /// the item's `self` link and signed (default: any; NUL bytes are always
    /// refused). E.g. [`HrefPolicy::remote_only`] refuses
    /// `file:///etc/passwd` in a catalog expected to hold only URLs.
    pub href_policy: HrefPolicy,
}

impl LoadOptions {
    /// Use a signer.
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
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
}

/// Open `item`'s asset `asset_key` (`None`: `item` is itself the asset)
/// through GDAL with the reader [`stac_meta::which_engine`] names: GeoTIFF /
/// COG / JPEG2000, NetCDF (subdataset by variable), GRIB or Zarr. Opens the
/// file (remote hrefs: network).
///
/// The href is resolved against the item's `self` link and passed through
/// the signer's href hook; the signer's GDAL env (asked once) is installed
/// thread-locally for the open and kept on the returned [`Dataset`] for
/// later reads. Remote GDAL-engine hrefs also get [`fast_read_preset`]
/// (the signer's env wins). An href that `options.href_policy` refuses (or
/// that holds a NUL byte) is a [`RasterError::Meta`] error, before any I/O.
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
    let href =
        stac_signers::resolved_href_with(item, asset_key, options.signer.as_deref(), &alternates)?;
    options.href_policy.check(&href)?;
    let ctx = AssetContext {
        item: stac_meta::item_id(item).to_owned(),
        asset: asset_key.unwrap_or("<asset>").to_owned(),
        href: stac_meta::redact(&href).into_owned(),
    };
    let signer_env = match &options.signer {
        Some(s) => s.gdal_env_for(&href)?,
        None => GdalEnv::new(),
    };
    let path = stac_meta::gdal_path(&href);
    let mut env = GdalEnv::new();
    if engine == Engine::Gdal && stac_meta::is_remote(&href) {
        env.merge(&fast_read_preset());
    }
    env.merge(&options.env);
    env.merge(&signer_env);

    let open = |p: &str, drivers: &[&str]| {
        let opts = OpenOptions::default()
            .with_env(env.clone())
            .with_drivers(drivers.iter().copied());
        Dataset::open_with(p, &opts).map_err(|e| ctx.wrap("cannot open", e))
    };
    let ds = match engine {
        Engine::Gdal => open(&path, &[])?,
        Engine::Grib => open(&path, &["GRIB"])?,
        Engine::NetCdf => open_variable(&path, "NETCDF", "netCDF", options, &ctx, &open)?,
        Engine::Zarr => open_variable(&path, "ZARR", "Zarr", options, &ctx, &open)?,
        other => {
            return Err(ctx.message(format!("no reader for engine '{other}'")));
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
            return rescaled(&ds, &packing).map_err(|e| ctx.wrap("cannot rescale", e));
        }
    }
    Ok(ds)
}

/// Item/asset/href of an asset being loaded, for error messages.
pub(crate) struct AssetContext {
    pub(crate) item: String,
    pub(crate) asset: String,
    pub(crate) href: String,
}

impl AssetContext {
    pub(crate) fn wrap(&self, message: &str, source: RasterError) -> RasterError {
        RasterError::Asset {
            item: self.item.clone(),
            asset: self.asset.clone(),
            href: self.href.clone(),
            message: format!("{message}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn message(&self, message: String) -> RasterError {
        RasterError::Asset {
            item: self.item.clone(),
            asset: self.asset.clone(),
            href: self.href.clone(),
            message,
            source: None,
        }
    }
}

/// Open a NetCDF / Zarr variable: `PREFIX:"path":var` (Zarr arrays are
/// named `/var`), or the file itself / its only subdataset.
fn open_variable(
    path: &str,
    prefix: &str,
    driver: &str,
    options: &LoadOptions,
    ctx: &AssetContext,
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
        [] => Err(ctx.message("has no raster variables".into())),
        many => {
            let names: Vec<&str> = many
                .iter()
                .map(|s| s.rsplit(':').next().unwrap_or(s))
                .collect();
            Err(ctx.message(format!(
                "has {} variables ({}): choose one with LoadOptions::variable",
                many.len(),
                names.join(", ")
            )))
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
