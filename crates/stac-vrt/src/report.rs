//! What a build reports: the placed sources, the skipped ones, warnings.
//! Every href here is redacted.

use serde::Serialize;

/// A source placed in the VRT.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SourceSummary {
    /// The item's id.
    pub item: String,
    /// The asset href, redacted.
    pub href: String,
    /// Whether its grid came from STAC metadata (`true`) or from opening it.
    pub from_metadata: bool,
    /// Whether it is wrapped in a warped VRT (other CRS or rotated grid).
    pub warped: bool,
    /// Its CRS (authority code when known).
    pub crs: String,
    /// The extent it covers on the mosaic grid `[minx, miny, maxx, maxy]`.
    pub bounds: [f64; 4],
}

/// A source left out of the VRT, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SkippedSource {
    /// The item's id.
    pub item: String,
    /// The asset href, redacted (absent when the asset or href is missing).
    pub href: Option<String>,
    /// Why it was skipped (credential-free).
    pub reason: String,
}

impl SkippedSource {
    /// `item '<id>' (<href>): <reason>` (the workspace's one error context,
    /// [`stac_meta::Location`]), naming the item and the href once: what
    /// the reason already names is not repeated.
    pub fn describe(&self) -> String {
        let at = stac_meta::Location::item(&self.item);
        if self.reason.starts_with(&at.to_string()) {
            return self.reason.clone();
        }
        let at = at.with_href(self.href.as_deref().unwrap_or(""));
        format!("{}: {}", at.unless_named_in(&self.reason), self.reason)
    }
}

/// The JSON-serialisable summary of a built VRT.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VrtSummary {
    /// `[rows, cols]`.
    pub shape: [usize; 2],
    /// Number of VRT bands.
    pub band_count: usize,
    /// GDAL geotransform of the mosaic.
    pub geotransform: [f64; 6],
    /// Target CRS (authority code such as `EPSG:32630` when known, else WKT).
    pub crs: String,
    /// Data type of each band, by the raster extension's names (`uint16`,
    /// `float32`, ...), as the cube's summary names them.
    pub data_types: Vec<String>,
    /// Nodata of each band.
    pub nodata: Vec<Option<f64>>,
    /// Placed sources, in painting order (last on top).
    pub sources: Vec<SourceSummary>,
    /// Skipped sources (only non-empty with `with_fail_on_error(false)`).
    pub skipped: Vec<SkippedSource>,
    /// Items whose footprint lies outside the target bounds.
    pub outside_bounds: Vec<String>,
    /// Everything the caller should know (mixed CRSs, credentials, nodata).
    pub warnings: Vec<String>,
    /// How many sources were opened to read their grid (0 on the pure metadata path).
    pub opened: usize,
}
