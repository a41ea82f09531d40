//! `VrtOptions`: everything `build_vrt_from_stac` can be told, as a plain
//! struct with `Default` and builder setters.

use std::fmt;
use std::sync::Arc;

use stac_meta::{DataType, HrefPolicy};
use stac_raster::Timeouts;
use stac_signers::{GdalEnv, Signer};

/// How the mosaic's pixel size is chosen from the sources' pixel sizes
/// (all measured in the target CRS).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Resolution {
    /// The finest source pixel size (odc-stac's rule; the default).
    #[default]
    Highest,
    /// The coarsest source pixel size.
    Lowest,
    /// The mean of the source pixel sizes (`gdalbuildvrt`'s default).
    Average,
    /// An explicit pixel size `(x, y)`, both positive.
    Explicit(f64, f64),
}

impl Resolution {
    /// Parse `highest`, `lowest`, `average`, `<res>` or `<xres>,<yres>`.
    ///
    /// ```
    /// use stac_vrt::Resolution;
    /// assert_eq!(Resolution::parse("lowest"), Some(Resolution::Lowest));
    /// assert_eq!(Resolution::parse("20"), Some(Resolution::Explicit(20.0, 20.0)));
    /// assert_eq!(Resolution::parse("10,20"), Some(Resolution::Explicit(10.0, 20.0)));
    /// assert_eq!(Resolution::parse("-1"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "highest" => return Some(Self::Highest),
            "lowest" => return Some(Self::Lowest),
            "average" => return Some(Self::Average),
            _ => {}
        }
        let parts: Vec<f64> = t
            .split(',')
            .map(|p| p.trim().parse::<f64>().ok())
            .collect::<Option<_>>()?;
        let (x, y) = match parts.as_slice() {
            [r] => (*r, *r),
            [x, y] => (*x, *y),
            _ => return None,
        };
        (x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0).then_some(Self::Explicit(x, y))
    }
}

/// Which item wins where sources overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MosaicOrder {
    /// Later items are painted over earlier ones (GDAL's order; the default).
    #[default]
    LaterOnTop,
    /// Earlier items win: the first valid pixel in item order is kept.
    EarlierOnTop,
}

pub use stac_raster::Resampling;

/// The name a VRT `<ComplexSource resampling=...>` attribute takes, and the
/// warper's `<ResampleAlg>`; `None` for the methods VRT sources lack.
pub(crate) fn vrt_names(r: Resampling) -> Option<(&'static str, &'static str)> {
    Some(match r {
        Resampling::Nearest => ("nearest", "NearestNeighbour"),
        Resampling::Bilinear => ("bilinear", "Bilinear"),
        Resampling::Cubic => ("cubic", "Cubic"),
        Resampling::CubicSpline => ("cubicspline", "CubicSpline"),
        Resampling::Lanczos => ("lanczos", "Lanczos"),
        Resampling::Average => ("average", "Average"),
        Resampling::Mode => ("mode", "Mode"),
        _ => return None,
    })
}

/// Options of [`build_vrt_from_stac`](crate::build_vrt_from_stac).
///
/// ```
/// use stac_vrt::{MosaicOrder, Resolution, VrtOptions};
/// let opts = VrtOptions::default()
///     .with_resolution(Resolution::Explicit(20.0, 20.0))
///     .with_crs("EPSG:32630")
///     .with_bounds([600000.0, 5290000.0, 610000.0, 5300000.0])
///     .with_nodata(0.0)
///     .with_order(MosaicOrder::EarlierOnTop)
///     .with_fail_on_error(false);
/// assert!(!opts.fail_on_error);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct VrtOptions {
    /// Pixel size rule (default [`Resolution::Highest`]).
    pub resolution: Resolution,
    /// Target extent `[minx, miny, maxx, maxy]` in the target CRS (default: union of the sources).
    pub bounds: Option<[f64; 4]>,
    /// Target CRS (anything GDAL's `SetFromUserInput` takes). Without it the
    /// most common CRS among the sources is used and a warning says so when
    /// they differ. Sources in another CRS are wrapped in warped VRTs.
    pub crs: Option<String>,
    /// Nodata of the sources, overriding `raster:bands[].nodata`.
    pub src_nodata: Option<f64>,
    /// Nodata of the VRT bands (default: the sources' nodata when they agree).
    pub vrt_nodata: Option<f64>,
    /// Resampling for resized and warped sources (default nearest).
    pub resampling: Resampling,
    /// One VRT band per item (and per selected band) instead of a mosaic.
    pub separate: bool,
    /// 1-based bands of multi-band assets to use (default: all bands; with
    /// `separate`, band 1).
    pub bands: Option<Vec<usize>>,
    /// Data type for items whose metadata lacks `raster:bands[].data_type`
    /// (lets them use the metadata path), and of the VRT bands.
    pub data_type: Option<DataType>,
    /// Signer for hrefs and GDAL env (headers travel inside `/vsicurl?` paths).
    pub signer: Option<Arc<dyn Signer>>,
    /// Fail when any source is skipped (default `true`); otherwise build a
    /// partial mosaic and report the skipped items.
    pub fail_on_error: bool,
    /// Which item wins on overlap (default later on top).
    pub order: MosaicOrder,
    /// Which hrefs may become sources, judged after resolution and signing
    /// (default [`HrefPolicy::for_local_items`]; connection strings, special
    /// files and remote VRTs are refused; use [`HrefPolicy::for_api_items`]
    /// for items from a STAC API). A refused href is a skipped source that
    /// names the rule.
    pub href_policy: HrefPolicy,
    /// Time bounds on the opens of sources without grid metadata and on
    /// reads of the built VRT.
    pub timeouts: Timeouts,
    /// Extra GDAL config for every source (e.g. `AWS_S3_ENDPOINT`); the
    /// signer's origin-scoped env wins. What every source's env shares is
    /// installed around reads of the built VRT.
    pub env: GdalEnv,
}

impl Default for VrtOptions {
    fn default() -> Self {
        Self {
            resolution: Resolution::default(),
            bounds: None,
            crs: None,
            src_nodata: None,
            vrt_nodata: None,
            resampling: Resampling::default(),
            separate: false,
            bands: None,
            data_type: None,
            signer: None,
            fail_on_error: true,
            order: MosaicOrder::default(),
            href_policy: HrefPolicy::default(),
            timeouts: Timeouts::default(),
            env: GdalEnv::new(),
        }
    }
}

impl fmt::Debug for VrtOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VrtOptions")
            .field("resolution", &self.resolution)
            .field("bounds", &self.bounds)
            .field("crs", &self.crs)
            .field("src_nodata", &self.src_nodata)
            .field("vrt_nodata", &self.vrt_nodata)
            .field("resampling", &self.resampling)
            .field("separate", &self.separate)
            .field("bands", &self.bands)
            .field("data_type", &self.data_type)
            .field("signer", &self.signer.as_ref().map(|s| s.name().to_owned()))
            .field("fail_on_error", &self.fail_on_error)
            .field("order", &self.order)
            .field("href_policy", &self.href_policy)
            .field("timeouts", &self.timeouts)
            .field("env", &self.env)
            .finish()
    }
}

impl VrtOptions {
    /// Set the pixel size rule.
    pub fn with_resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = resolution;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resolution`")]
    pub fn resolution(self, resolution: Resolution) -> Self {
        self.with_resolution(resolution)
    }
    /// Set the target extent `[minx, miny, maxx, maxy]` (in the target CRS).
    pub fn with_bounds(mut self, bounds: [f64; 4]) -> Self {
        self.bounds = Some(bounds);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bounds`")]
    pub fn bounds(self, bounds: [f64; 4]) -> Self {
        self.with_bounds(bounds)
    }
    /// Set the target CRS.
    pub fn with_crs(mut self, crs: impl Into<String>) -> Self {
        self.crs = Some(crs.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_crs`")]
    pub fn crs(self, crs: impl Into<String>) -> Self {
        self.with_crs(crs)
    }
    /// Set both the sources' and the VRT's nodata.
    pub fn with_nodata(mut self, nodata: f64) -> Self {
        self.src_nodata = Some(nodata);
        self.vrt_nodata = Some(nodata);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_nodata`")]
    pub fn nodata(self, nodata: f64) -> Self {
        self.with_nodata(nodata)
    }
    /// Set the sources' nodata only.
    pub fn with_src_nodata(mut self, nodata: f64) -> Self {
        self.src_nodata = Some(nodata);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_src_nodata`")]
    pub fn src_nodata(self, nodata: f64) -> Self {
        self.with_src_nodata(nodata)
    }
    /// Set the VRT bands' nodata only.
    pub fn with_vrt_nodata(mut self, nodata: f64) -> Self {
        self.vrt_nodata = Some(nodata);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_vrt_nodata`")]
    pub fn vrt_nodata(self, nodata: f64) -> Self {
        self.with_vrt_nodata(nodata)
    }
    /// Set the resampling.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resampling`")]
    pub fn resampling(self, resampling: Resampling) -> Self {
        self.with_resampling(resampling)
    }
    /// One band per item instead of a mosaic.
    pub fn with_separate(mut self, separate: bool) -> Self {
        self.separate = separate;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_separate`")]
    pub fn separate(self, separate: bool) -> Self {
        self.with_separate(separate)
    }
    /// Select 1-based bands of multi-band assets.
    pub fn with_bands(mut self, bands: impl Into<Vec<usize>>) -> Self {
        self.bands = Some(bands.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bands`")]
    pub fn bands(self, bands: impl Into<Vec<usize>>) -> Self {
        self.with_bands(bands)
    }
    /// Set the fallback/VRT data type.
    pub fn with_data_type(mut self, data_type: DataType) -> Self {
        self.data_type = Some(data_type);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_data_type`")]
    pub fn data_type(self, data_type: DataType) -> Self {
        self.with_data_type(data_type)
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
    /// Fail on skipped sources (`true`, the default) or build a partial mosaic.
    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.fail_on_error = fail;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_fail_on_error`")]
    pub fn strict(self, strict: bool) -> Self {
        self.with_fail_on_error(strict)
    }
    /// Set which item wins on overlap.
    pub fn with_order(mut self, order: MosaicOrder) -> Self {
        self.order = order;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_order`")]
    pub fn order(self, order: MosaicOrder) -> Self {
        self.with_order(order)
    }
    /// Restrict which hrefs may become sources (e.g. [`HrefPolicy::remote_only`]).
    pub fn with_href_policy(mut self, policy: HrefPolicy) -> Self {
        self.href_policy = policy;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_href_policy`")]
    pub fn href_policy(self, policy: HrefPolicy) -> Self {
        self.with_href_policy(policy)
    }
    /// Set the time bounds.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Extra GDAL config for every source (the signer's scoped env wins).
    pub fn with_env(mut self, env: GdalEnv) -> Self {
        self.env = env;
        self
    }

    /// The source-layer options of every source.
    pub(crate) fn source_options(&self) -> stac_raster::SourceOptions {
        let mut o = stac_raster::SourceOptions::default()
            .with_policy(self.href_policy.clone())
            .with_timeouts(self.timeouts)
            .with_env(self.env.clone());
        if let Some(s) = &self.signer {
            o = o.with_signer(s.clone());
        }
        o
    }
}
