//! [`Dataset::to_stac_item`]: describe a raster as a STAC Item (projection
//! and raster extensions), field by field as pyramids writes it.

use serde_json::{Map, Value, json};

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::footprint::{Footprint, FootprintMode, FootprintOptions, bounds_footprint};

/// Projection extension schema URL written in `stac_extensions`.
pub const PROJECTION_SCHEMA: &str =
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json";
/// Projection extension v2.0.0 schema URL (with [`ProjectionVersion::V2`]).
pub const PROJECTION_V2_SCHEMA: &str =
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json";
/// Raster extension schema URL written in `stac_extensions`.
pub const RASTER_SCHEMA: &str = "https://stac-extensions.github.io/raster/v1.1.0/schema.json";
/// EO extension schema URL written in `stac_extensions`.
pub const EO_SCHEMA: &str = "https://stac-extensions.github.io/eo/v1.1.0/schema.json";

/// Per-band metadata options of [`ItemOptions`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{BandOptions, ItemOptions};
/// let ds = Dataset::open(path)?;
/// let bands = BandOptions { with_stats: true, ..BandOptions::default() };
/// let item = ds.to_stac_item("a", &ItemOptions::new("a.tif").with_bands(bands))?;
/// let band = &item["assets"]["data"]["raster:bands"][0];
/// assert_eq!(band["statistics"]["maximum"], 7.0);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BandOptions {
    /// Write `statistics {minimum, maximum, mean, stddev}` (reads pixels;
    /// nodata and non-finite cells excluded).
    pub with_stats: bool,
    /// Write `histogram {count, min, max, buckets}` (reads pixels).
    pub with_histogram: bool,
    /// Histogram bins (default 10).
    pub histogram_bins: usize,
    /// Write `eo:bands` with each band's name.
    pub with_eo: bool,
    /// Compute statistics and histogram from a decimated read (at most
    /// 1024 cells a side; default true).
    pub stats_approx_ok: bool,
}

impl Default for BandOptions {
    fn default() -> Self {
        Self {
            with_stats: false,
            with_histogram: false,
            histogram_bins: 10,
            with_eo: false,
            stats_approx_ok: true,
        }
    }
}

/// Which projection-extension fields [`Dataset::to_stac_item`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProjectionVersion {
    /// pyramids-compatible (default): declares v1.1.0 and writes
    /// `proj:epsg` and `proj:code`. Note `proj:code` is a v2.0.0 field that
    /// the v1.1.0 schema rejects; use [`V2`](Self::V2) for schema-valid output.
    #[default]
    V1_1,
    /// Declares v2.0.0 and writes `proj:code` (no `proj:epsg`, which v2.0.0
    /// removed); `proj:wkt2` when the CRS has no authority code.
    V2,
}

/// Options of [`Dataset::to_stac_item`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{ItemOptions, ProjectionVersion};
/// let ds = Dataset::open(path)?;
/// let options = ItemOptions::new("s3://bucket/a.tif")
///     .with_asset_key("B04")
///     .with_datetime("2024-05-01T10:00:00Z")
///     .with_roles(["data"])
///     .with_projection(ProjectionVersion::V2);
/// let item = ds.to_stac_item("a", &options)?;
/// assert_eq!(item["assets"]["B04"]["href"], "s3://bucket/a.tif");
/// assert_eq!(item["properties"]["proj:code"], "EPSG:32632");
/// assert_eq!(item["properties"]["datetime"], "2024-05-01T10:00:00Z");
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOptions {
    /// The asset href.
    pub href: String,
    /// The asset key (default `data`).
    pub asset_key: String,
    /// The asset media type.
    pub media_type: Option<String>,
    /// The asset roles (default `["data"]`).
    pub roles: Vec<String>,
    /// `datetime` (RFC 3339, checked, written verbatim). `None` with both start and end → `null`;
    /// `None` otherwise → the current UTC time.
    pub datetime: Option<String>,
    /// `start_datetime`, verbatim.
    pub start_datetime: Option<String>,
    /// `end_datetime`, verbatim.
    pub end_datetime: Option<String>,
    /// Per-band metadata.
    pub bands: BandOptions,
    /// Footprint computation.
    pub footprint: FootprintOptions,
    /// Write projection fields (default true).
    pub with_proj: bool,
    /// Write `raster:bands` (default true).
    pub with_raster: bool,
    /// Projection fields flavour (default pyramids-compatible v1.1.0).
    pub projection: ProjectionVersion,
}

impl ItemOptions {
    /// Options for an asset at `href`, everything else default.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            asset_key: "data".into(),
            media_type: None,
            roles: vec!["data".into()],
            datetime: None,
            start_datetime: None,
            end_datetime: None,
            bands: BandOptions::default(),
            footprint: FootprintOptions::default(),
            with_proj: true,
            with_raster: true,
            projection: ProjectionVersion::default(),
        }
    }

    /// Choose the projection-extension flavour.
    pub fn with_projection(mut self, version: ProjectionVersion) -> Self {
        self.projection = version;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_projection`")]
    pub fn projection(self, version: ProjectionVersion) -> Self {
        self.with_projection(version)
    }

    /// Set the asset media type.
    pub fn with_media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = Some(media_type.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_media_type`")]
    pub fn media_type(self, media_type: impl Into<String>) -> Self {
        self.with_media_type(media_type)
    }

    /// Set `datetime`.
    pub fn with_datetime(mut self, datetime: impl Into<String>) -> Self {
        self.datetime = Some(datetime.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_datetime`")]
    pub fn datetime(self, datetime: impl Into<String>) -> Self {
        self.with_datetime(datetime)
    }

    /// Set `start_datetime` and `end_datetime`.
    pub fn with_range(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.start_datetime = Some(start.into());
        self.end_datetime = Some(end.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_range`")]
    pub fn range(self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.with_range(start, end)
    }

    /// Set the asset key.
    pub fn with_asset_key(mut self, key: impl Into<String>) -> Self {
        self.asset_key = key.into();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_asset_key`")]
    pub fn asset_key(self, key: impl Into<String>) -> Self {
        self.with_asset_key(key)
    }

    /// Set the asset roles.
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Deprecated alias of [`with_roles`](Self::with_roles).
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_roles`")]
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        self.with_roles(roles)
    }

    /// Set the band options.
    pub fn with_bands(mut self, bands: BandOptions) -> Self {
        self.bands = bands;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bands`")]
    pub fn bands(self, bands: BandOptions) -> Self {
        self.with_bands(bands)
    }

    /// Set the footprint options.
    pub fn with_footprint(mut self, footprint: FootprintOptions) -> Self {
        self.footprint = footprint;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_footprint`")]
    pub fn footprint(self, footprint: FootprintOptions) -> Self {
        self.with_footprint(footprint)
    }

    /// Write projection fields or not.
    pub fn with_proj(mut self, on: bool) -> Self {
        self.with_proj = on;
        self
    }

    /// Write `raster:bands` or not.
    pub fn with_raster(mut self, on: bool) -> Self {
        self.with_raster = on;
        self
    }
}

impl Dataset {
    /// Describe this raster as a STAC Item (`serde_json::Value`, keys in
    /// pyramids' order): footprint in EPSG:4326 (densified edges,
    /// antimeridian split), projection fields (`proj:epsg` + `proj:code`,
    /// or `proj:wkt2` + `proj:code` of another authority when the CRS has
    /// no EPSG code), one asset with `raster:bands`. Reads pixels only for
    /// statistics and histograms.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use stac_raster::{Dataset, GridSpec, ItemOptions};
    /// let ds = Dataset::create_from_array(&Array2::<u16>::from_elem((4, 4), 1),
    ///     &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630), Some(0.0))?;
    /// let item = ds.to_stac_item("scene-0", &ItemOptions::new("B04.tif")
    ///     .with_media_type("image/tiff; application=geotiff").with_datetime("2021-06-01T00:00:00Z"))?;
    /// assert_eq!(item["properties"]["proj:code"], "EPSG:32630");
    /// assert_eq!(item["bbox"][0].as_f64().unwrap(), -1.663418);
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn to_stac_item(&self, id: &str, options: &ItemOptions) -> Result<Value> {
        // STAC datetimes are RFC 3339 date-times: anything else would make
        // an invalid item, so it is refused, naming the field.
        for (field, value) in [
            ("datetime", &options.datetime),
            ("start_datetime", &options.start_datetime),
            ("end_datetime", &options.end_datetime),
        ] {
            if let Some(v) = value
                && chrono::DateTime::parse_from_rfc3339(v).is_err()
            {
                return Err(RasterError::InvalidArgument(format!(
                    "{field} {v:?} is not an RFC 3339 date-time (e.g. 2021-06-01T10:00:00Z)"
                )));
            }
        }
        let crs = self.crs();
        let gt = self.geotransform();
        let bounds = self.bounds();
        let epsg = crs.as_ref().and_then(|c| c.epsg());

        let footprint = match (&crs, bounds) {
            (Some(c), Some(b)) => {
                let data = match options.footprint.mode {
                    FootprintMode::Data { band } => {
                        crate::valid_data::valid_data_footprint(self, band, c, &options.footprint)?
                    }
                    _ => None,
                };
                match data {
                    Some(f) => f,
                    None => bounds_footprint(b, c, &options.footprint)?,
                }
            }
            _ => Footprint::world(),
        };

        let mut props = Map::new();
        let datetime = match (
            &options.datetime,
            &options.start_datetime,
            &options.end_datetime,
        ) {
            (Some(d), _, _) => Value::String(d.clone()),
            (None, Some(_), Some(_)) => Value::Null,
            (None, _, _) => Value::String(now_utc()),
        };
        props.insert("datetime".into(), datetime);
        if let Some(s) = &options.start_datetime {
            props.insert("start_datetime".into(), json!(s));
        }
        if let Some(e) = &options.end_datetime {
            props.insert("end_datetime".into(), json!(e));
        }
        let mut with_proj = false;
        if options.with_proj
            && let (Some(c), Some(gt), Some(b)) = (&crs, gt, bounds)
        {
            let v2 = options.projection == ProjectionVersion::V2;
            match epsg {
                Some(code) => {
                    if !v2 {
                        props.insert("proj:epsg".into(), json!(code));
                    }
                    props.insert("proj:code".into(), json!(format!("EPSG:{code}")));
                }
                None => {
                    let authority = c.authority();
                    if let Some((auth, code)) = &authority {
                        props.insert("proj:code".into(), json!(format!("{auth}:{code}")));
                    }
                    if !v2 || authority.is_none() {
                        props.insert("proj:wkt2".into(), json!(c.to_wkt2()?));
                    }
                }
            }
            props.insert("proj:shape".into(), json!([self.rows(), self.cols()]));
            props.insert(
                "proj:transform".into(),
                json!([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]),
            );
            props.insert("proj:bbox".into(), json!(b));
            with_proj = true;
        }

        let mut asset = Map::new();
        asset.insert("href".into(), json!(options.href));
        asset.insert("roles".into(), json!(options.roles));
        if let Some(t) = &options.media_type {
            asset.insert("type".into(), json!(t));
        }
        if options.with_raster {
            asset.insert(
                "raster:bands".into(),
                Value::Array(self.raster_bands(&options.bands)?),
            );
        }
        if options.bands.with_eo {
            let eo: Vec<Value> = self
                .band_names()
                .into_iter()
                .map(|n| json!({"name": n}))
                .collect();
            asset.insert("eo:bands".into(), Value::Array(eo));
        }
        let mut assets = Map::new();
        assets.insert(options.asset_key.clone(), Value::Object(asset));

        let mut extensions = Vec::new();
        if with_proj {
            extensions.push(match options.projection {
                ProjectionVersion::V2 => PROJECTION_V2_SCHEMA,
                _ => PROJECTION_SCHEMA,
            });
        }
        if options.with_raster {
            extensions.push(RASTER_SCHEMA);
        }
        if options.bands.with_eo {
            extensions.push(EO_SCHEMA);
        }

        let mut item = Map::new();
        item.insert("type".into(), json!("Feature"));
        item.insert("stac_version".into(), json!("1.0.0"));
        item.insert("id".into(), json!(id));
        item.insert("geometry".into(), footprint.geometry);
        item.insert("bbox".into(), json!(footprint.bbox));
        item.insert("properties".into(), Value::Object(props));
        item.insert("assets".into(), Value::Object(assets));
        item.insert("links".into(), json!([]));
        item.insert("stac_extensions".into(), json!(extensions));
        Ok(Value::Object(item))
    }

    fn raster_bands(&self, options: &BandOptions) -> Result<Vec<Value>> {
        let types = self.data_types();
        let nodata = self.nodata();
        let packing = self.scale_offset();
        let mut out = Vec::with_capacity(self.band_count());
        for i in 0..self.band_count() {
            let mut b = Map::new();
            b.insert("data_type".into(), json!(types[i].as_str()));
            if let Some(nd) = nodata[i] {
                b.insert("nodata".into(), nodata_json(nd));
            }
            let (scale, offset) = packing[i];
            if scale.is_finite() && scale != 0.0 && scale != 1.0 {
                b.insert("scale".into(), json!(scale));
            }
            if offset.is_finite() && offset != 0.0 {
                b.insert("offset".into(), json!(offset));
            }
            if options.with_stats || options.with_histogram {
                let values = self.band_values(i + 1, nodata[i], options.stats_approx_ok)?;
                if let Some(stats) = Stats::of(&values) {
                    if options.with_stats {
                        b.insert(
                            "statistics".into(),
                            json!({"minimum": stats.min, "maximum": stats.max, "mean": stats.mean, "stddev": stats.stddev}),
                        );
                    }
                    if options.with_histogram && stats.max > stats.min && options.histogram_bins > 0
                    {
                        b.insert(
                            "histogram".into(),
                            json!({"count": options.histogram_bins, "min": stats.min, "max": stats.max,
                                   "buckets": histogram(&values, stats.min, stats.max, options.histogram_bins)}),
                        );
                    }
                }
            }
            out.push(Value::Object(b));
        }
        Ok(out)
    }
}

impl Dataset {
    /// The valid (non-nodata, finite) values of a band; `approx` reads a
    /// decimated version (at most 1024 cells a side, overviews when present).
    fn band_values(&self, band: usize, nodata: Option<f64>, approx: bool) -> Result<Vec<f64>> {
        let mut ro = crate::read::ReadOptions::default().with_bands(vec![band]);
        let (rows, cols) = (self.rows(), self.cols());
        if approx && rows.max(cols) > 1024 {
            let f = rows.max(cols) as f64 / 1024.0;
            ro = ro.with_out_shape(
                ((rows as f64 / f) as usize).max(1),
                ((cols as f64 / f) as usize).max(1),
            );
        }
        let data = self.read_with::<f64>(&ro)?;
        Ok(data
            .iter()
            .copied()
            .filter(|v| v.is_finite() && nodata.is_none_or(|n| *v != n))
            .collect())
    }
}

struct Stats {
    min: f64,
    max: f64,
    mean: f64,
    stddev: f64,
}

impl Stats {
    /// Population statistics; `None` for no values.
    fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let (mut min, mut max, mut sum) = (f64::MAX, f64::MIN, 0.0);
        for &v in values {
            min = min.min(v);
            max = max.max(v);
            sum += v;
        }
        let mean = sum / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Some(Self {
            min,
            max,
            mean,
            stddev: var.sqrt(),
        })
    }
}

/// Equal-width bins over [min, max] (max falls in the last bin).
fn histogram(values: &[f64], min: f64, max: f64, bins: usize) -> Vec<u64> {
    let mut counts = vec![0u64; bins];
    let width = (max - min) / bins as f64;
    for &v in values {
        let i = (((v - min) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
}

/// A nodata value as the raster extension writes it: a number, or the
/// strings `"nan"`, `"inf"`, `"-inf"`.
pub fn nodata_json(v: f64) -> Value {
    if v.is_nan() {
        json!("nan")
    } else if v == f64::INFINITY {
        json!("inf")
    } else if v == f64::NEG_INFINITY {
        json!("-inf")
    } else {
        json!(v)
    }
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
