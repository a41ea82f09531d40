//! `which_engine`: which GDAL reader opens an asset, from media type or href.

use std::fmt;

use serde_json::Value;

use crate::error::{Location, MetaError, Result};
use crate::href::redact;
use crate::item::{asset_source, item_id};

/// The reader an asset needs. All of them go through GDAL; the engine decides
/// the driver and how the path is formed (e.g. NetCDF subdatasets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// GeoTIFF / COG / JPEG2000 through GDAL's raster drivers.
    Gdal,
    /// NetCDF (GDAL's netCDF driver, subdataset by variable).
    NetCdf,
    /// GRIB / GRIB2.
    Grib,
    /// Zarr (GDAL's Zarr driver).
    Zarr,
}

impl Engine {
    /// The engine's name: `gdal`, `netcdf`, `grib` or `zarr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gdal => "gdal",
            Self::NetCdf => "netcdf",
            Self::Grib => "grib",
            Self::Zarr => "zarr",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const BY_MEDIA_TYPE: &[(&str, Engine)] = &[
    ("image/tiff", Engine::Gdal),
    ("image/geotiff", Engine::Gdal),
    ("image/vnd.stac.geotiff", Engine::Gdal),
    ("image/jp2", Engine::Gdal),
    ("image/jpeg2000", Engine::Gdal),
    ("image/jpx", Engine::Gdal),
    ("application/wmo-grib2", Engine::Grib),
    ("application/x-grib", Engine::Grib),
    ("application/grib", Engine::Grib),
    ("application/x-netcdf", Engine::NetCdf),
    ("application/netcdf", Engine::NetCdf),
    ("application/vnd+zarr", Engine::Zarr),
    ("application/vnd.zarr", Engine::Zarr),
    ("application/zarr", Engine::Zarr),
];

const BY_EXTENSION: &[(&str, Engine)] = &[
    (".grib", Engine::Grib),
    (".grib2", Engine::Grib),
    (".grb", Engine::Grib),
    (".grb2", Engine::Grib),
    (".nc", Engine::NetCdf),
    (".nc4", Engine::NetCdf),
    (".cdf", Engine::NetCdf),
    (".zarr", Engine::Zarr),
    (".tif", Engine::Gdal),
    (".tiff", Engine::Gdal),
    (".jp2", Engine::Gdal),
    (".jpx", Engine::Gdal),
];

/// The engine for a media type and href: media type first (matched by
/// prefix, so `image/tiff; application=geotiff; profile=cloud-optimized`
/// works), then the href's extension (query and trailing `/` ignored).
pub fn engine_for(media_type: Option<&str>, href: &str) -> Option<Engine> {
    if let Some(mt) = media_type {
        let mt = mt.trim().to_ascii_lowercase();
        if let Some((_, e)) = BY_MEDIA_TYPE.iter().find(|(p, _)| mt.starts_with(p)) {
            return Some(*e);
        }
    }
    let path = href
        .split('?')
        .next()
        .unwrap_or(href)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    BY_EXTENSION
        .iter()
        .find(|(ext, _)| path.ends_with(ext))
        .map(|(_, e)| *e)
}

/// Which engine reads `item`'s asset `asset_key` (or `item` itself as a bare
/// asset when `asset_key` is `None`). No I/O.
///
/// ```
/// use serde_json::json;
/// use stac_meta::{which_engine, Engine};
/// let item = json!({"id": "a", "assets": {
///     "B04": {"href": "/data/B04.tif"},
///     "t2m": {"href": "s3://b/t.nc", "type": "application/x-netcdf"},
///     "x": {"href": "s3://b/x.parquet"}}});
/// assert_eq!(which_engine(&item, Some("B04"))?, Engine::Gdal);
/// assert_eq!(which_engine(&item, Some("t2m"))?.to_string(), "netcdf");
/// assert!(which_engine(&item, Some("x")).is_err());
/// # Ok::<(), stac_meta::MetaError>(())
/// ```
pub fn which_engine(item: &Value, asset_key: Option<&str>) -> Result<Engine> {
    which_engine_with(item, asset_key, &[])
}

/// [`which_engine`] with an ordered preference of `alternate` hrefs.
pub fn which_engine_with(
    item: &Value,
    asset_key: Option<&str>,
    alternates: &[&str],
) -> Result<Engine> {
    let src = asset_source(item, asset_key, alternates)?;
    engine_for(src.media_type, src.href).ok_or_else(|| MetaError::UnsupportedAsset {
        location: Location::item(item_id(item)).with_asset(asset_key),
        media_type: src.media_type.map(str::to_owned),
        href: redact(src.href).into_owned(),
    })
}
