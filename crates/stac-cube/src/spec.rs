//! [`CubeSpec`]: a cube request as plain data (JSON), so that a plan can be
//! sent to another thread, process or machine and re-planned there.
//!
//! A [`CubePlan`](crate::CubePlan) holds signers, closures and open GDAL
//! state and cannot be serialized. A `CubeSpec` holds what produced it:
//! the items, the asset keys and the options that are data. After a first
//! planning, [`CubeSpec::pinned`] fixes the grid, the data type and the
//! nodata that planning chose, so every re-plan of the spec (or of a
//! [`subset`](CubeSpec::subset) of its timesteps and bands) lands on exactly
//! the same lattice with the same type and fill: this is how a Dask task
//! loads one chunk of a cube (the Python package `stac_gdal`).
//!
//! What is not data stays out: a signer, a `patch_url` closure, a progress
//! callback, a custom [`Fusion`] or [`GroupBy::Custom`]. The receiver
//! attaches its own signer and `patch_url` with
//! [`CubeSpec::options`]' result (`CubeOptions::with_signer`, ...); a custom
//! fusion or grouping is refused by [`CubeSpec::from_options`].
//!
//! ```
//! use serde_json::json;
//! use stac_cube::{CubeOptions, CubeSpec, Fusion};
//! let items = vec![json!({"id": "a", "properties": {"datetime": "2023-01-01T00:00:00Z"},
//!     "assets": {"B04": {"href": "B04.tif"}}})];
//! let spec = CubeSpec::from_options(items, &["B04"], &CubeOptions::default().with_fusion(Fusion::Max))?;
//! let text = spec.to_json();
//! let back = CubeSpec::from_json(&text)?;
//! assert_eq!(back, spec);
//! assert_eq!(back.options()?.fusion.name(), "max");
//! # Ok::<(), stac_cube::CubeError>(())
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stac_meta::{DataType, GroupBy, HrefPolicy, item_id};
use stac_raster::{Crs, Resampling, TargetGrid};

use crate::collection::CubePlan;
use crate::error::{Result, invalid};
use crate::fusion::Fusion;
use crate::grid::{Anchor, Bounds, Grid};
use crate::options::{AssetOptions, CubeOptions, TimeOrder};

/// A cube request as data: items, asset keys and options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CubeSpec {
    /// The STAC items (raw JSON).
    pub items: Vec<Value>,
    /// The requested asset keys (`key`, `key.N`, `key.name`), one band each
    /// (or one per band of a multi-band asset).
    pub assets: Vec<String>,
    /// The options that are data.
    #[serde(default)]
    pub options: SpecOptions,
}

/// The data half of [`CubeOptions`]. Every field is optional; an absent
/// field is `CubeOptions::default()`'s value. Names are the CLI's and
/// odc-stac's where they exist.
///
/// ```
/// use stac_cube::CubeSpec;
/// // What another process sends: items, asset keys and options as JSON.
/// let spec = CubeSpec::from_json(r#"{
///     "items": [{"id": "a", "properties": {"datetime": "2024-05-01T10:00:00Z"},
///                "assets": {"B04": {"href": "B04.tif"}}}],
///     "assets": ["B04"],
///     "options": {"crs": "EPSG:32632", "resolution": [20, 20], "groupby": "solar_day",
///                 "fusion": "max", "dtype": "float32", "nodata": -9999}
/// }"#)?;
/// let options = spec.options()?;
/// assert_eq!(options.fusion.name(), "max");
/// assert_eq!(options.nodata, Some(-9999.0));
/// // An unknown option is an error naming it, not silently ignored.
/// let e = CubeSpec::from_json(r#"{"items": [], "assets": [], "options": {"resolutoin": 20}}"#);
/// assert!(e.unwrap_err().to_string().contains("resolutoin"));
/// # Ok::<(), stac_cube::CubeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SpecOptions {
    /// A complete grid, used as is (what [`CubeSpec::pinned`] sets).
    pub grid: Option<SpecGrid>,
    /// The grid CRS: `EPSG:n`, a number, WKT or anything GDAL reads.
    pub crs: Option<String>,
    /// Pixel size `[x, y]` in CRS units.
    pub resolution: Option<[f64; 2]>,
    /// Bounds `[minx, miny, maxx, maxy]` in the grid's CRS.
    pub bounds: Option<[f64; 4]>,
    /// Bounds `[west, south, east, north]` in degrees.
    pub bounds_lonlat: Option<[f64; 4]>,
    /// `auto` (default: the sources' own pixel alignment) or `edge`
    /// (edges at multiples of the resolution, as odc-stac and `-tap`).
    pub anchor: Option<String>,
    /// Resampling name (`nearest`, `bilinear`, ...).
    pub resampling: Option<String>,
    /// Resampling per asset key.
    pub asset_resampling: BTreeMap<String, String>,
    /// Nodata of the pixels of one asset key, replacing what
    /// `raster:bands` or the file declares (odc-stac's per-band nodata).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub asset_nodata: BTreeMap<String, f64>,
    /// Grouping: `none`, `solar_day`, `time`, `id`, or a property name.
    pub groupby: Option<String>,
    /// Fusion name (`first`, `last`, `min`, `max`, `mean`, `median`, `sum`, `count`).
    pub fusion: Option<String>,
    /// `sorted` (default) or `input`.
    pub time_order: Option<String>,
    /// Cube data type (`uint16`, `float32`, ...).
    pub dtype: Option<String>,
    /// Cube nodata.
    pub nodata: Option<f64>,
    /// Keep only items overlapping this lon/lat box.
    pub bbox: Option<[f64; 4]>,
    /// A lon/lat box with west > east crosses the antimeridian.
    pub antimeridian: bool,
    /// Keep the first N items.
    pub max_items: Option<usize>,
    /// Fail on the first unreadable source (default true).
    pub fail_on_error: Option<bool>,
    /// Apply `raster:bands` scale/offset.
    pub rescale: bool,
    /// Reader threads.
    pub threads: Option<usize>,
    /// Use COG overviews when the grid is coarser (default true).
    pub use_overviews: Option<bool>,
    /// Pixel limit per plane.
    pub max_pixels: Option<u64>,
    /// I/O threads for remote sources.
    pub io_concurrency: Option<usize>,
    /// `local` (default: [`HrefPolicy::for_local_items`]), `api`
    /// ([`HrefPolicy::for_api_items`]) or `remote` ([`HrefPolicy::remote_only`]).
    pub href_policy: Option<String>,
}

/// A complete grid as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SpecGrid {
    /// The CRS: `EPSG:n` when it is one, else its WKT.
    pub crs: String,
    /// GDAL geotransform.
    pub geotransform: [f64; 6],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl SpecGrid {
    /// The grid as data (`EPSG:n` when the CRS is an EPSG code).
    pub fn from_target(grid: &TargetGrid) -> Result<Self> {
        let crs = match &grid.crs {
            Crs::Epsg(n) => format!("EPSG:{n}"),
            other => other.to_wkt2()?,
        };
        Ok(Self {
            crs,
            geotransform: grid.geotransform,
            rows: grid.rows,
            cols: grid.cols,
        })
    }

    /// The grid.
    pub fn to_target(&self) -> Result<TargetGrid> {
        Ok(TargetGrid::new(
            Crs::parse(&self.crs)?,
            self.geotransform,
            self.rows,
            self.cols,
        ))
    }
}

fn parse_name<T: std::str::FromStr>(option: &'static str, v: &str, what: &str) -> Result<T> {
    v.parse()
        .map_err(|_| invalid(option, format!("{v:?} is not {what}")))
}

impl CubeSpec {
    /// A spec from items, asset keys and options. Refuses what is not data:
    /// a custom fusion, a closure grouping (a signer, `patch_url` and
    /// progress are left out: attach them on the receiving side).
    pub fn from_options(items: Vec<Value>, assets: &[&str], o: &CubeOptions) -> Result<Self> {
        let d = CubeOptions::default();
        if matches!(o.fusion, Fusion::Custom(_)) {
            return Err(invalid("fusion", "a custom fusion function is not data"));
        }
        let groupby = match &o.groupby {
            GroupBy::None => None,
            GroupBy::SolarDay => Some("solar_day".to_owned()),
            GroupBy::Time => Some("time".to_owned()),
            GroupBy::Id => Some("id".to_owned()),
            GroupBy::Property(p) => Some(p.clone()),
            _ => return Err(invalid("groupby", "a closure grouping is not data")),
        };
        if o.assets.values().any(|a| a.dtype.is_some()) {
            return Err(invalid(
                "assets",
                "per-asset dtype overrides are not part of a spec yet",
            ));
        }
        let g = &o.grid;
        let (bounds, bounds_lonlat) = match g.bounds {
            Some(Bounds::Grid(b)) => (Some(b), None),
            Some(Bounds::LonLat(b)) => (None, Some(b)),
            None => (None, None),
        };
        let crs = match &g.crs {
            None => None,
            Some(Crs::Epsg(n)) => Some(format!("EPSG:{n}")),
            Some(c) => Some(c.to_wkt2()?),
        };
        let options = SpecOptions {
            grid: g.like.as_ref().map(SpecGrid::from_target).transpose()?,
            crs,
            resolution: g.resolution,
            bounds,
            bounds_lonlat,
            anchor: (g.anchor == Anchor::Edge).then(|| "edge".to_owned()),
            resampling: (o.resampling != d.resampling).then(|| o.resampling.to_string()),
            asset_resampling: o
                .assets
                .iter()
                .filter_map(|(k, a)| a.resampling.map(|r| (k.clone(), r.to_string())))
                .collect(),
            asset_nodata: o
                .assets
                .iter()
                .filter_map(|(k, a)| a.nodata.map(|v| (k.clone(), v)))
                .collect(),
            groupby,
            fusion: (!matches!(o.fusion, Fusion::First)).then(|| o.fusion.name().to_owned()),
            time_order: (o.time_order == TimeOrder::Input).then(|| "input".to_owned()),
            dtype: o.dtype.map(|t| t.as_str().to_owned()),
            nodata: o.nodata,
            bbox: o.bbox,
            antimeridian: o.antimeridian,
            max_items: o.max_items,
            fail_on_error: (!o.fail_on_error).then_some(false),
            rescale: o.rescale,
            threads: o.threads,
            use_overviews: (!o.use_overviews).then_some(false),
            max_pixels: (o.max_pixels != d.max_pixels).then_some(o.max_pixels),
            io_concurrency: o.io_concurrency,
            href_policy: policy_name(&o.href_policy)?,
        };
        Ok(Self {
            items,
            assets: assets.iter().map(|s| (*s).to_owned()).collect(),
            options,
        })
    }

    /// Parse a spec from JSON (unknown fields are errors).
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| invalid("spec", e.to_string()))
    }

    /// The spec as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a CubeSpec is always serializable")
    }

    /// The options this spec stands for (no signer, `patch_url` or progress).
    pub fn options(&self) -> Result<CubeOptions> {
        let s = &self.options;
        let mut o = CubeOptions::default();
        let mut grid = Grid::default();
        if let Some(g) = &s.grid {
            grid = Grid::from_target(g.to_target()?);
        }
        if let Some(c) = &s.crs {
            grid = grid.with_crs(Crs::parse(c)?);
        }
        if let Some([x, y]) = s.resolution {
            if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
                return Err(invalid(
                    "resolution",
                    format!("[{x}, {y}] must be positive numbers"),
                ));
            }
            grid = grid.with_resolution_xy(x, y);
        }
        match (s.bounds, s.bounds_lonlat) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "bounds",
                    "give bounds in the grid CRS or in lon/lat, not both",
                ));
            }
            (Some(b), None) => grid = grid.with_bounds(b),
            (None, Some(b)) => grid = grid.with_bounds_lonlat(b),
            (None, None) => {}
        }
        if let Some(a) = &s.anchor {
            grid = grid.with_anchor(match a.to_ascii_lowercase().as_str() {
                "auto" | "native" => Anchor::Auto,
                "edge" | "tap" => Anchor::Edge,
                other => return Err(invalid("anchor", format!("{other:?} is not auto or edge"))),
            });
        }
        o = o.with_grid(grid);
        if let Some(r) = &s.resampling {
            o = o.with_resampling(parse_name::<Resampling>("resampling", r, "a resampling")?);
        }
        for (k, r) in &s.asset_resampling {
            o = o.with_asset(
                k.clone(),
                AssetOptions::default().with_resampling(parse_name::<Resampling>(
                    "resampling",
                    r,
                    "a resampling",
                )?),
            );
        }
        for (k, v) in &s.asset_nodata {
            o.assets.entry(k.clone()).or_default().nodata = Some(*v);
        }
        if let Some(g) = &s.groupby {
            o = o.with_groupby(GroupBy::parse(g));
        }
        if let Some(f) = &s.fusion {
            o = o.with_fusion(f.parse()?);
        }
        if let Some(t) = &s.time_order {
            o = o.with_time_order(match t.to_ascii_lowercase().as_str() {
                "sorted" => TimeOrder::Sorted,
                "input" => TimeOrder::Input,
                other => {
                    return Err(invalid(
                        "time_order",
                        format!("{other:?} is not sorted or input"),
                    ));
                }
            });
        }
        if let Some(t) = &s.dtype {
            o = o.with_data_type(
                DataType::parse(t)
                    .ok_or_else(|| invalid("dtype", format!("{t:?} is not a data type")))?,
            );
        }
        if let Some(v) = s.nodata {
            o = o.with_nodata(v);
        }
        if let Some(b) = s.bbox {
            o = o.with_bbox(b);
        }
        o = o.with_antimeridian(s.antimeridian);
        if let Some(n) = s.max_items {
            o = o.with_max_items(n);
        }
        if let Some(f) = s.fail_on_error {
            o = o.with_fail_on_error(f);
        }
        o = o.with_rescale(s.rescale);
        if let Some(n) = s.threads {
            o = o.with_threads(n);
        }
        if let Some(u) = s.use_overviews {
            o = o.with_use_overviews(u);
        }
        if let Some(n) = s.max_pixels {
            o = o.with_max_pixels(n);
        }
        if let Some(n) = s.io_concurrency {
            o = o.with_io_concurrency(n);
        }
        if let Some(p) = &s.href_policy {
            o = o.with_href_policy(match p.to_ascii_lowercase().as_str() {
                "local" => HrefPolicy::for_local_items(),
                "api" => HrefPolicy::for_api_items(),
                "remote" => HrefPolicy::remote_only(),
                other => {
                    return Err(invalid(
                        "href_policy",
                        format!("{other:?} is not local, api or remote"),
                    ));
                }
            });
        }
        Ok(o)
    }

    /// The asset keys as `&str`s, for [`DatasetCollection::plan`](crate::DatasetCollection::plan).
    pub fn asset_keys(&self) -> Vec<&str> {
        self.assets.iter().map(String::as_str).collect()
    }

    /// Plan the spec with `options` (from [`options`](Self::options), plus
    /// whatever the receiver attaches: signer, `patch_url`, progress).
    pub fn plan_with(&self, options: &CubeOptions) -> Result<CubePlan> {
        crate::DatasetCollection::plan(&self.items, &self.asset_keys(), options)
    }

    /// This spec with what `plan` decided fixed: the grid, the data type
    /// and the nodata, one asset request per cube band (a multi-band
    /// `key` becomes `key.1`, `key.2`, ...), and only the items the plan
    /// kept (after `bbox` and `max_items`, which are then dropped). Re-planning it, or any
    /// [`subset`](Self::subset), gives the same grid, type and nodata.
    /// Resolves the plan's data type (may open one file header when no
    /// metadata declares it).
    pub fn pinned(&self, plan: &mut CubePlan) -> Result<Self> {
        let dtype = plan.resolve_data_type()?;
        let nodata = plan.nodata();
        let kept: HashSet<&str> = plan
            .timesteps()
            .iter()
            .flat_map(|t| t.items.iter().map(String::as_str))
            .collect();
        let mut out = self.clone();
        out.items.retain(|item| kept.contains(item_id(item)));
        // One request per cube band (`key`, `key.N`, `key.name`: the band
        // names are requests that address exactly that band), so a subset
        // picks bands by index.
        out.assets = plan.band_names();
        let o = &mut out.options;
        o.grid = Some(SpecGrid::from_target(plan.grid())?);
        o.crs = None;
        o.resolution = None;
        o.bounds = None;
        o.bounds_lonlat = None;
        o.anchor = None;
        o.bbox = None;
        o.max_items = None;
        o.dtype = Some(dtype.as_str().to_owned());
        o.nodata = nodata;
        Ok(out)
    }

    /// The spec of timesteps `times` (indices into `timesteps`, the plan's
    /// time axis) and bands `assets` (indices into [`assets`](Self::assets),
    /// which are the cube's bands in a pinned spec):
    /// only their items and asset keys. Meant for a [`pinned`](Self::pinned)
    /// spec, whose grid, type and nodata do not depend on the items.
    pub fn subset(
        &self,
        timesteps: &[crate::Timestep],
        times: std::ops::Range<usize>,
        assets: &[usize],
    ) -> Result<Self> {
        if times.end > timesteps.len() || times.is_empty() {
            return Err(invalid(
                "subset",
                format!("timesteps {times:?} of {}", timesteps.len()),
            ));
        }
        let ids: HashSet<&str> = timesteps[times]
            .iter()
            .flat_map(|t| t.items.iter().map(String::as_str))
            .collect();
        let mut keys = Vec::with_capacity(assets.len());
        for &i in assets {
            keys.push(
                self.assets
                    .get(i)
                    .ok_or_else(|| invalid("subset", format!("band {i} of {}", self.assets.len())))?
                    .clone(),
            );
        }
        Ok(Self {
            items: self
                .items
                .iter()
                .filter(|item| ids.contains(item_id(item)))
                .cloned()
                .collect(),
            assets: keys,
            options: self.options.clone(),
        })
    }
}

/// The name of one of the three named policies; a policy built by hand is
/// refused (the receiver would otherwise read with a different one).
fn policy_name(p: &HrefPolicy) -> Result<Option<String>> {
    if *p == HrefPolicy::default() || *p == HrefPolicy::for_local_items() {
        Ok(None)
    } else if *p == HrefPolicy::for_api_items() {
        Ok(Some("api".to_owned()))
    } else if *p == HrefPolicy::remote_only() {
        Ok(Some("remote".to_owned()))
    } else {
        Err(invalid(
            "href_policy",
            "only the local, api and remote policies can be sent in a spec",
        ))
    }
}
