//! `from_point` (feature `cube`): a cube of `edge_size` pixels around a
//! point, on the point's local UTM grid, from a STAC API search. The steps
//! are documented on [`FromPoint`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;
use stac_cube::{CubeError, CubeOptions, DatasetCollection, Grid};
use stac_raster::{Crs, TargetGrid, transform_point};
use stac_signers::{PlanetaryComputerSigner, Signer};

use crate::blocking::search_with;
use crate::datetime::expand_datetime;
use crate::error::{ClientError, Result};
use crate::options::ClientOptions;
use crate::params::SearchParams;

/// Planetary Computer's STAC API, the default endpoint of
/// [`PointOptions`] (as in pyramids and the seed notebook).
pub const PLANETARY_COMPUTER_STAC: &str = "https://planetarycomputer.microsoft.com/api/stac/v1";

/// The unit of [`PointQuery::edge_size`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgeUnits {
    /// Pixels (`"px"`, default): the cube is `edge_size x edge_size` pixels.
    #[default]
    Pixels,
    /// Metres (`"m"`): the square is `edge_size` metres wide, its pixel
    /// edges snapped outwards to multiples of the resolution.
    Meters,
}

impl FromStr for EdgeUnits {
    type Err = ClientError;

    /// `"px"` or `"m"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "px" => Ok(Self::Pixels),
            "m" => Ok(Self::Meters),
            other => Err(ClientError::InvalidParameter {
                parameter: "units",
                reason: format!("units must be 'px' or 'm', got {other:?}"),
            }),
        }
    }
}

impl fmt::Display for EdgeUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pixels => "px",
            Self::Meters => "m",
        })
    }
}

/// What [`FromPoint::from_point`] is asked for: the seed's keyword
/// arguments, as a struct literal.
///
/// ```
/// use stac_client::{EdgeUnits, PointQuery};
/// let q = PointQuery {
///     lat: 46.0, lon: 11.0, collection: "sentinel-2-l2a", bands: &["B04", "B03", "B02"],
///     start_date: "2021-06-01", end_date: "2021-06-10", edge_size: 64, resolution: 10.0,
/// };
/// let g = q.grid(EdgeUnits::Pixels)?; // projects the point (GDAL), no network
/// assert_eq!(g.epsg, 32632);
/// assert_eq!((g.grid.rows, g.grid.cols), (64, 64));
/// assert_eq!(q.datetime(), "2021-06-01T00:00:00Z/2021-06-10T23:59:59Z");
/// # Ok::<(), stac_client::ClientError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointQuery<'a> {
    /// Latitude of the centre, degrees (-90..=90).
    pub lat: f64,
    /// Longitude of the centre, degrees (any value; wrapped into [-180, 180)).
    pub lon: f64,
    /// The collection searched.
    pub collection: &'a str,
    /// Asset keys, one cube band each (as in `from_stac`).
    pub bands: &'a [&'a str],
    /// Start of the search interval: an RFC 3339 date-time or a partial
    /// date (`2021-06-01`, `2021-06`, `2021`: its first second).
    pub start_date: &'a str,
    /// End of the search interval (a partial date: its last second).
    pub end_date: &'a str,
    /// Side of the square, in [`PointOptions::units`] (pixels by default).
    pub edge_size: u32,
    /// Pixel size in metres (UTM units).
    pub resolution: f64,
}

/// The grid [`FromPoint::from_point`] loads onto, and the bbox it searches.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PointGrid {
    /// The UTM zone's EPSG code (`326NN` or `327NN`).
    pub epsg: u32,
    /// The point in UTM, snapped to the nearest multiple of the resolution.
    pub center: [f64; 2],
    /// The square around the centre `[minx, miny, maxx, maxy]` (UTM metres),
    /// before snapping to the pixel grid.
    pub square: [f64; 4],
    /// The search bbox `[west, south, east, north]`: the square's corners in
    /// lon/lat (corners only, no densification).
    pub bbox: [f64; 4],
    /// The cube's grid: `edge_size x edge_size` pixels covering `square`
    /// (pixels), or `square` snapped outwards to the resolution (metres).
    pub grid: TargetGrid,
}

/// The result of [`search_point`]: the planned grid and the items found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PointSearch {
    /// The grid and the search bbox.
    pub grid: PointGrid,
    /// The `datetime` parameter sent (partial dates expanded).
    pub datetime: String,
    /// Every item of every page, in the API's order.
    pub items: Vec<Value>,
}

/// Options of [`FromPoint::from_point`] and [`search_point`].
///
/// ```
/// use std::sync::Arc;
/// use serde_json::json;
/// use stac_client::{EdgeUnits, PointOptions};
/// use stac_cube::{CubeOptions, Fusion};
/// use stac_signers::AnonymousSigner;
/// let o = PointOptions::default()
///     .with_endpoint("http://127.0.0.1:8082")
///     .with_signer(AnonymousSigner)
///     .with_units(EdgeUnits::Meters)
///     .with_query(json!({"eo:cloud_cover": {"lt": 20}}))
///     .with_cube(CubeOptions::default().with_fusion(Fusion::Median).with_threads(2));
/// assert_eq!(o.signer.name(), "anonymous");
/// assert!(o.align);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct PointOptions {
    /// The STAC API root (default [`PLANETARY_COMPUTER_STAC`]).
    pub endpoint: String,
    /// Signs the search requests, the asset hrefs and the GDAL reads;
    /// replaces the signers of [`client`](Self::client) and
    /// [`cube`](Self::cube). Default [`PlanetaryComputerSigner`] (as the seed
    /// shows): it only touches Planetary Computer hosts, so other endpoints
    /// and hrefs pass through untouched.
    pub signer: Arc<dyn Signer>,
    /// The unit of `edge_size` (default pixels).
    pub units: EdgeUnits,
    /// The query extension object sent with the search (e.g.
    /// `{"eo:cloud_cover": {"lt": 20}}`).
    pub query: Option<Value>,
    /// Warp sources onto the UTM grid (default `true`); `false` requires
    /// every source to sit on it already.
    pub align: bool,
    /// Timeouts, retries, headers and search method of the search.
    pub client: ClientOptions,
    /// Everything else `from_stac` takes (fusion, groupby, nodata, threads,
    /// timeouts, ...); its `grid`, `align` and `signer` are set by
    /// `from_point`, and its href policy is judged for items from a STAC API
    /// (see [`allow_local`](Self::allow_local)).
    pub cube: CubeOptions,
    /// Read local paths and `file://` hrefs named by the API's items
    /// (default `false`: items from a STAC API may not make this process
    /// read its own files).
    pub allow_local: bool,
}

impl Default for PointOptions {
    fn default() -> Self {
        Self {
            endpoint: PLANETARY_COMPUTER_STAC.to_owned(),
            signer: Arc::new(PlanetaryComputerSigner::new()),
            units: EdgeUnits::Pixels,
            query: None,
            align: true,
            client: ClientOptions::default(),
            cube: CubeOptions::default(),
            allow_local: false,
        }
    }
}

impl fmt::Debug for PointOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PointOptions")
            .field("endpoint", &stac_meta::redact(&self.endpoint))
            .field("signer", &self.signer.name())
            .field("units", &self.units)
            .field("query", &self.query)
            .field("align", &self.align)
            .field("client", &self.client)
            .field("cube", &self.cube)
            .field("allow_local", &self.allow_local)
            .finish()
    }
}

impl PointOptions {
    /// Defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Search this STAC API.
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = signer.into();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "`with_signer` takes an `Arc<dyn Signer>` too")]
    pub fn with_shared_signer(self, signer: Arc<dyn Signer>) -> Self {
        self.with_signer(signer)
    }
    /// Set the unit of `edge_size`.
    pub fn with_units(mut self, units: EdgeUnits) -> Self {
        self.units = units;
        self
    }
    /// Send this query extension object with the search.
    pub fn with_query(mut self, query: Value) -> Self {
        self.query = Some(query);
        self
    }
    /// Warp sources onto the grid (`true`, default) or require them aligned.
    pub fn with_align(mut self, align: bool) -> Self {
        self.align = align;
        self
    }
    /// Set the search client's options (their signer is replaced by
    /// [`signer`](Self::signer)).
    pub fn with_client(mut self, client: ClientOptions) -> Self {
        self.client = client;
        self
    }
    /// Set the cube options (their grid, align and signer are replaced).
    pub fn with_cube(mut self, cube: CubeOptions) -> Self {
        self.cube = cube;
        self
    }

    /// Read local paths named by the API's items (default `false`).
    pub fn with_allow_local(mut self, allow: bool) -> Self {
        self.allow_local = allow;
        self
    }

    /// The options `from_point` passes to `from_stac` for `grid`:
    /// [`cube`](Self::cube) with the grid set to exactly `grid.grid`,
    /// [`align`](Self::align) and [`signer`](Self::signer) applied, and the
    /// cube's href policy narrowed for items from a STAC API: local paths
    /// refused unless [`allow_local`](Self::allow_local).
    pub fn cube_options(&self, grid: &PointGrid) -> CubeOptions {
        let policy = self.cube.href_policy.clone();
        let policy = if self.allow_local {
            policy
        } else {
            policy.with_allow_local(false)
        };
        self.cube
            .clone()
            .with_grid(Grid::from_target(grid.grid.clone()))
            .with_align(self.align)
            .with_signer(self.signer.clone())
            .with_href_policy(policy)
    }
}

/// The UTM zone EPSG code of a point: zone `floor((lon + 180) / 6) + 1`
/// with lon wrapped into `[-180, 180)` and the zone clamped to 1..=60
/// (no Norway/Svalbard exceptions); `326NN` for `lat >= 0`, `327NN` south.
///
/// ```
/// assert_eq!(stac_client::utm_epsg(46.0, 11.0), 32632);
/// assert_eq!(stac_client::utm_epsg(-33.9, 18.4), 32734);
/// assert_eq!(stac_client::utm_epsg(0.0, 180.0), 32601); // wraps to -180
/// assert_eq!(stac_client::utm_epsg(10.0, -183.0), 32660); // wraps to 177
/// ```
pub fn utm_epsg(lat: f64, lon: f64) -> u32 {
    let lon = (lon + 180.0).rem_euclid(360.0) - 180.0;
    let zone = (((lon + 180.0) / 6.0).floor() as i64 + 1).clamp(1, 60) as u32;
    if lat >= 0.0 {
        32600 + zone
    } else {
        32700 + zone
    }
}

fn invalid(parameter: &'static str, reason: impl Into<String>) -> ClientError {
    ClientError::InvalidParameter {
        parameter,
        reason: reason.into(),
    }
}

impl PointQuery<'_> {
    /// The `datetime` search parameter: `start_date/end_date`, partial dates
    /// expanded (see [`expand_datetime`](crate::expand_datetime)).
    pub fn datetime(&self) -> String {
        expand_datetime(&format!("{}/{}", self.start_date, self.end_date))
    }

    /// Check the arguments (no I/O).
    pub fn validate(&self) -> Result<()> {
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            return Err(invalid(
                "lat",
                format!("{} is not a latitude in -90..=90", self.lat),
            ));
        }
        if !self.lon.is_finite() {
            return Err(invalid("lon", format!("{} is not finite", self.lon)));
        }
        if !(self.resolution.is_finite() && self.resolution > 0.0) {
            return Err(invalid(
                "resolution",
                format!("{} must be positive and finite", self.resolution),
            ));
        }
        if self.edge_size == 0 {
            return Err(invalid("edge_size", "must be at least 1"));
        }
        if self.collection.is_empty() {
            return Err(invalid("collection", "must not be empty"));
        }
        if self.bands.is_empty() {
            return Err(invalid("bands", "give at least one asset key"));
        }
        Ok(())
    }

    /// The UTM grid and the lon/lat search bbox (steps 1-3 of
    /// [`from_point`](FromPoint::from_point)). Projects with GDAL; no
    /// network.
    pub fn grid(&self, units: EdgeUnits) -> Result<PointGrid> {
        self.validate()?;
        let epsg = utm_epsg(self.lat, self.lon);
        let lon = (self.lon + 180.0).rem_euclid(360.0) - 180.0;
        let (wgs84, utm) = (Crs::Epsg(4326), Crs::Epsg(epsg));
        let project = |x: f64, y: f64, from: &Crs, to: &Crs| {
            transform_point(x, y, from, to).map_err(|e| ClientError::Cube {
                context: format!(
                    "from_point: projecting ({x}, {y}) from {} to {}",
                    from.short(),
                    to.short()
                ),
                source: Box::new(CubeError::Raster(e)),
            })
        };
        let res = self.resolution;
        let [x, y] = project(lon, self.lat, &wgs84, &utm)?;
        let center = [(x / res).round() * res, (y / res).round() * res];
        let half = match units {
            EdgeUnits::Pixels => f64::from(self.edge_size) / 2.0 * res,
            EdgeUnits::Meters => f64::from(self.edge_size) / 2.0,
        };
        let square = [
            center[0] - half,
            center[1] - half,
            center[0] + half,
            center[1] + half,
        ];
        let grid = match units {
            EdgeUnits::Pixels => {
                let n = self.edge_size as usize;
                TargetGrid::new(
                    utm.clone(),
                    [square[0], res, 0.0, square[3], 0.0, -res],
                    n,
                    n,
                )
            }
            EdgeUnits::Meters => {
                // Outwards to multiples of the resolution (tolerating float noise).
                let down = |v: f64| ((v / res) + 1e-6).floor() * res;
                let up = |v: f64| ((v / res) - 1e-6).ceil() * res;
                let (minx, miny, maxx, maxy) = (
                    down(square[0]),
                    down(square[1]),
                    up(square[2]),
                    up(square[3]),
                );
                let cols = (((maxx - minx) / res).round() as usize).max(1);
                let rows = (((maxy - miny) / res).round() as usize).max(1);
                TargetGrid::new(utm.clone(), [minx, res, 0.0, maxy, 0.0, -res], rows, cols)
            }
        };
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (cx, cy) in [
            (square[0], square[1]),
            (square[2], square[1]),
            (square[2], square[3]),
            (square[0], square[3]),
        ] {
            let [lo, la] = project(cx, cy, &utm, &wgs84)?;
            bbox = [
                bbox[0].min(lo),
                bbox[1].min(la),
                bbox[2].max(lo),
                bbox[3].max(la),
            ];
        }
        Ok(PointGrid {
            epsg,
            center,
            square,
            bbox,
            grid,
        })
    }

    fn describe(&self, grid: &PointGrid) -> String {
        format!(
            "from_point ({}, {}) on EPSG:{} ({} x {} px of {} m), collection {:?}, {}",
            self.lat,
            self.lon,
            grid.epsg,
            grid.grid.cols,
            grid.grid.rows,
            self.resolution,
            self.collection,
            self.datetime()
        )
    }
}

/// Steps 1-4 of [`from_point`](FromPoint::from_point): plan the UTM grid,
/// then search `options.endpoint` for the collection's items in the lon/lat
/// bbox and the date interval (every page). Network I/O.
///
/// ```no_run
/// use stac_client::{PointOptions, PointQuery, search_point};
/// let found = search_point(
///     &PointQuery {
///         lat: 46.0, lon: 11.0, collection: "sentinel-2-l2a", bands: &["B04"],
///         start_date: "2021-06-01", end_date: "2021-06-10", edge_size: 64, resolution: 10.0,
///     },
///     &PointOptions::default(),
/// )?;
/// println!("{} items in {:?}", found.items.len(), found.grid.bbox);
/// # Ok::<(), stac_client::ClientError>(())
/// ```
pub fn search_point(query: &PointQuery<'_>, options: &PointOptions) -> Result<PointSearch> {
    let grid = query.grid(options.units)?;
    let pixels = grid.grid.rows as u128 * grid.grid.cols as u128;
    if pixels > u128::from(options.cube.max_pixels) {
        // Refused before any request.
        return Err(ClientError::Cube {
            context: query.describe(&grid),
            source: Box::new(CubeError::GridTooLarge {
                rows: grid.grid.rows as u64,
                cols: grid.grid.cols as u64,
                pixels,
                limit: options.cube.max_pixels,
            }),
        });
    }
    let datetime = query.datetime();
    let mut params = SearchParams::new()
        .with_bbox(grid.bbox.to_vec())
        .with_datetime(datetime.clone());
    if let Some(q) = &options.query {
        params = params.with_query(q.clone());
    }
    let client = options.client.clone().with_signer(options.signer.clone());
    let items = search_with(&options.endpoint, &[query.collection], params, client)?
        .collect::<Result<Vec<Value>>>()?;
    Ok(PointSearch {
        grid,
        datetime,
        items,
    })
}

/// `DatasetCollection::from_point`: a cube around a point, from a STAC API.
///
/// Implemented for [`DatasetCollection`] (this crate cannot add inherent
/// methods to it): bring the trait into scope and call
/// `DatasetCollection::from_point`.
///
/// The steps (pyramids' `DatasetCollection.from_point`):
/// 1. the UTM zone of the point: `floor((lon + 180) / 6) + 1` (lon wrapped
///    into `[-180, 180)`, zone clamped to 1..=60; no Norway/Svalbard
///    exceptions), EPSG `326NN` north of the equator (lat >= 0), `327NN`
///    south;
/// 2. the point projected to UTM and snapped to the nearest multiple of the
///    resolution; the square around it: half-side `edge_size / 2 *
///    resolution` ([`EdgeUnits::Pixels`]) or `edge_size / 2` metres
///    ([`EdgeUnits::Meters`], pixel edges then snapped outwards to
///    multiples of the resolution);
/// 3. the search bbox: the min/max lon/lat of the square's four corners
///    projected back to EPSG:4326;
/// 4. a search of the collection with that bbox, `datetime =
///    start_date/end_date` (partial dates expanded), the optional `query`,
///    every page;
/// 5. `from_stac` of the found items onto exactly that UTM grid.
pub trait FromPoint: Sized {
    /// Search `options.endpoint` around a point and load the items onto the
    /// point's local UTM grid: `edge_size x edge_size` pixels of
    /// `resolution` metres (with [`EdgeUnits::Pixels`]), centred on the
    /// point snapped to the resolution (steps above); the cube is
    /// `from_stac(items, bands)` with [`PointOptions::cube_options`].
    ///
    /// Blocking (network I/O, then GDAL reads); do not call it from inside
    /// a tokio runtime. An empty search is the cube's "no timesteps" error
    /// ([`ClientError::Cube`] wrapping [`CubeError::NoItems`]).
    ///
    /// ```no_run
    /// use stac_client::{FromPoint, PointOptions, PointQuery};
    /// use stac_cube::DatasetCollection;
    /// use stac_signers::PlanetaryComputerSigner;
    ///
    /// let cube = DatasetCollection::from_point(
    ///     &PointQuery {
    ///         lat: 46.0, lon: 11.0, collection: "sentinel-2-l2a", bands: &["B04", "B03", "B02"],
    ///         start_date: "2021-06-01", end_date: "2021-06-10", edge_size: 64, resolution: 10.0,
    ///     },
    ///     &PointOptions::default().with_signer(PlanetaryComputerSigner::new()),
    /// )?;
    /// assert_eq!(cube.shape().2, 64); // (time, band, 64, 64)
    /// # Ok::<(), stac_client::ClientError>(())
    /// ```
    fn from_point(query: &PointQuery<'_>, options: &PointOptions) -> Result<Self>;
}

impl FromPoint for DatasetCollection {
    fn from_point(query: &PointQuery<'_>, options: &PointOptions) -> Result<Self> {
        let found = search_point(query, options)?;
        DatasetCollection::from_stac(
            &found.items,
            query.bands,
            &options.cube_options(&found.grid),
        )
        .map_err(|e| ClientError::Cube {
            context: format!(
                "{}: {} item(s) found",
                query.describe(&found.grid),
                found.items.len()
            ),
            source: Box::new(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(lat: f64, lon: f64, edge_size: u32, resolution: f64) -> PointQuery<'static> {
        PointQuery {
            lat,
            lon,
            collection: "c",
            bands: &["B04"],
            start_date: "2021-06-01",
            end_date: "2021-06-10",
            edge_size,
            resolution,
        }
    }

    #[test]
    fn utm_zones() {
        assert_eq!(utm_epsg(0.0, -180.0), 32601);
        assert_eq!(utm_epsg(0.0, -174.0), 32602);
        assert_eq!(utm_epsg(-0.1, 179.9), 32760);
        assert_eq!(utm_epsg(60.0, 5.0), 32631); // no Norway exception
        assert_eq!(utm_epsg(0.0, 540.0), 32601); // 540 wraps to -180
    }

    #[test]
    fn pixel_square_is_centred_on_the_snapped_point() {
        let q = query(46.0, 11.0, 64, 10.0);
        let g = q.grid(EdgeUnits::Pixels).unwrap();
        let [x, y] = transform_point(11.0, 46.0, &Crs::Epsg(4326), &Crs::Epsg(32632)).unwrap();
        assert_eq!(
            g.center,
            [(x / 10.0).round() * 10.0, (y / 10.0).round() * 10.0]
        );
        assert_eq!(
            g.square,
            [
                g.center[0] - 320.0,
                g.center[1] - 320.0,
                g.center[0] + 320.0,
                g.center[1] + 320.0
            ]
        );
        assert_eq!((g.grid.rows, g.grid.cols), (64, 64));
        assert_eq!(
            g.grid.geotransform,
            [g.square[0], 10.0, 0.0, g.square[3], 0.0, -10.0]
        );
        // The bbox holds the point and the square's corners.
        assert!(g.bbox[0] < 11.0 && 11.0 < g.bbox[2] && g.bbox[1] < 46.0 && 46.0 < g.bbox[3]);
        let [lo, la] = transform_point(
            g.square[0],
            g.square[1],
            &Crs::Epsg(32632),
            &Crs::Epsg(4326),
        )
        .unwrap();
        assert!(g.bbox[0] <= lo && g.bbox[1] <= la);
        // About 640 m wide: ~0.0083 deg of longitude at 46 N.
        assert!(
            (g.bbox[2] - g.bbox[0] - 640.0 / (111_320.0 * 46f64.to_radians().cos())).abs() < 2e-4
        );
    }

    #[test]
    fn odd_edges_keep_the_pixel_count() {
        let g = query(-33.9, 18.4, 33, 20.0)
            .grid(EdgeUnits::Pixels)
            .unwrap();
        assert_eq!(g.epsg, 32734);
        assert_eq!((g.grid.rows, g.grid.cols), (33, 33));
        assert_eq!(g.grid.geotransform[0], g.center[0] - 330.0);
    }

    #[test]
    fn metre_edges_snap_outwards() {
        let g = query(46.0, 11.0, 645, 10.0)
            .grid(EdgeUnits::Meters)
            .unwrap();
        assert_eq!(g.square[0], g.center[0] - 322.5);
        assert_eq!((g.grid.rows, g.grid.cols), (66, 66));
        assert_eq!(g.grid.geotransform[0], g.center[0] - 330.0);
        assert_eq!(g.grid.geotransform[3], g.center[1] + 330.0);
    }

    #[test]
    fn bad_arguments_are_rejected_without_io() {
        let bad = [
            query(91.0, 0.0, 64, 10.0),
            query(f64::NAN, 0.0, 64, 10.0),
            query(0.0, f64::INFINITY, 64, 10.0),
            query(0.0, 0.0, 0, 10.0),
            query(0.0, 0.0, 64, 0.0),
            query(0.0, 0.0, 64, -10.0),
        ];
        for q in bad {
            assert!(
                matches!(
                    q.grid(EdgeUnits::Pixels),
                    Err(ClientError::InvalidParameter { .. })
                ),
                "{q:?}"
            );
        }
        let e = "km".parse::<EdgeUnits>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid search parameter `units`: units must be 'px' or 'm', got \"km\""
        );
        assert_eq!("m".parse::<EdgeUnits>().unwrap(), EdgeUnits::Meters);
    }

    #[test]
    fn too_large_grids_are_refused_before_searching() {
        // The endpoint does not exist: an attempt to search would fail differently.
        let options = PointOptions::default()
            .with_endpoint("http://127.0.0.1:9/")
            .with_cube(CubeOptions::default().with_max_pixels(100));
        let e = search_point(&query(46.0, 11.0, 64, 10.0), &options).unwrap_err();
        let ClientError::Cube { source, .. } = &e else {
            panic!("{e}")
        };
        assert!(
            matches!(
                **source,
                CubeError::GridTooLarge {
                    rows: 64,
                    cols: 64,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn cube_options_take_the_exact_grid() {
        let g = query(46.0, 11.0, 8, 10.0).grid(EdgeUnits::Pixels).unwrap();
        let o = PointOptions::default().with_align(false).cube_options(&g);
        assert_eq!(o.grid.like.as_ref(), Some(&g.grid));
        assert!(!o.align);
        assert_eq!(
            o.signer.as_ref().map(|s| s.name().to_owned()).as_deref(),
            Some("planetary-computer")
        );
        // Items from a STAC API may not name local files, unless allowed.
        assert!(!o.href_policy.allows_local());
        let allowed = PointOptions::default()
            .with_allow_local(true)
            .cube_options(&g);
        assert!(allowed.href_policy.allows_local());
    }
}
