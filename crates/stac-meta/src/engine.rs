//! `which_engine`: which GDAL reader opens an asset, from media type or href;
//! and [`asset_kind`], the one rule for "is this asset a raster band" that
//! `which_engine`, cubes, VRTs and downloads (`--rasters`) share.

use std::fmt;

use serde_json::Value;

use crate::error::{Location, MetaError, Result};
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

/// Media types that are never a raster band (prefix match, lower case).
const NOT_RASTER_MEDIA: &[(&str, &str)] = &[
    ("text/", "a text document"),
    ("application/json", "a JSON document"),
    ("application/geo+json", "a GeoJSON document"),
    ("application/xml", "an XML document"),
    ("application/x-hdf5", ""),
    (
        "application/x-hdf",
        "an HDF4 container (open one of its subdatasets instead)",
    ),
    ("application/pdf", "a PDF document"),
    ("application/x-parquet", "a Parquet table"),
    ("application/vnd.apache.parquet", "a Parquet table"),
    ("application/geopackage+sqlite3", "a GeoPackage"),
    ("application/vnd.mapbox-vector-tile", "vector tiles"),
    ("application/octet-stream", ""),
];

/// Href extensions that are never a raster band.
const NOT_RASTER_EXTENSION: &[(&str, &str)] = &[
    (".xml", "an XML document"),
    (".json", "a JSON document"),
    (".geojson", "a GeoJSON document"),
    (".txt", "a text document"),
    (".html", "an HTML page"),
    (".htm", "an HTML page"),
    (".md", "a text document"),
    (".csv", "a text document"),
    (
        ".hdf",
        "an HDF4 container (open one of its subdatasets instead)",
    ),
    (
        ".hdf4",
        "an HDF4 container (open one of its subdatasets instead)",
    ),
    (".pdf", "a PDF document"),
    (".parquet", "a Parquet table"),
];

/// Roles that mark an asset as not a raster band (unless its media type says raster).
const NOT_RASTER_ROLES: &[(&str, &str)] = &[
    ("metadata", "a metadata asset (role \"metadata\")"),
    ("thumbnail", "a thumbnail (role \"thumbnail\")"),
];

/// What an asset is, by the one rule cubes, VRTs, downloads and
/// [`which_engine`] share ([`asset_kind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetKind {
    /// A raster band, read with this engine.
    Raster(Engine),
    /// Nothing says either way (no known media type, role or extension):
    /// GDAL decides when the file is opened.
    Unknown,
    /// Not a raster band; the text says what it is (e.g. "an XML document").
    NotRaster(String),
}

impl AssetKind {
    /// Whether the asset may be read as a raster band (`Raster` or `Unknown`).
    pub fn may_be_raster(&self) -> bool {
        !matches!(self, Self::NotRaster(_))
    }
}

fn path_of(href: &str) -> String {
    href.split(['?', '#'])
        .next()
        .unwrap_or(href)
        .trim_end_matches('/')
        .to_ascii_lowercase()
}

/// The one rule for "is this asset a raster band", from its media type,
/// roles and href, in that order:
///
/// 1. a raster media type (GeoTIFF/COG, JPEG2000, NetCDF, GRIB, Zarr) is a
///    raster, whatever the roles;
/// 2. a non-raster media type (`text/*`, JSON, XML, HDF4, PDF, Parquet, ...)
///    is not;
/// 3. a `metadata` or `thumbnail` role is not;
/// 4. then the href's extension, the same way (`.tif`, `.jp2`, `.nc`, ... are
///    rasters; `.xml`, `.json`, `.txt`, `.hdf`, ... are not);
/// 5. anything else is [`AssetKind::Unknown`] (GDAL decides when it opens it).
///
/// ```
/// use stac_meta::{asset_kind, AssetKind, Engine};
/// assert_eq!(asset_kind(Some("image/tiff; application=geotiff"), &["data"], "B04"), AssetKind::Raster(Engine::Gdal));
/// assert!(!asset_kind(Some("application/xml"), &["metadata"], "MTL.xml").may_be_raster());
/// assert!(!asset_kind(None, &[], "LC09_MTL.txt").may_be_raster());
/// assert!(!asset_kind(Some("application/x-hdf"), &["data"], "MOD13Q1.hdf").may_be_raster());
/// assert_eq!(asset_kind(None, &[], "https://h/tile"), AssetKind::Unknown);
/// ```
pub fn asset_kind(media_type: Option<&str>, roles: &[&str], href: &str) -> AssetKind {
    let mt = media_type.map(|m| m.trim().to_ascii_lowercase());
    if let Some(mt) = mt.as_deref().filter(|m| !m.is_empty()) {
        if let Some((_, e)) = BY_MEDIA_TYPE.iter().find(|(p, _)| mt.starts_with(p)) {
            return AssetKind::Raster(*e);
        }
        let essence = mt.split(';').next().unwrap_or(mt).trim();
        // The first entry that matches decides; an empty text means "no
        // verdict" (HDF5 and octet-stream may hold a raster).
        if let Some((_, what)) = NOT_RASTER_MEDIA
            .iter()
            .find(|(p, _)| essence.starts_with(p))
            && !what.is_empty()
        {
            return AssetKind::NotRaster(format!("{what} (type {essence})"));
        }
        if essence.ends_with("+json") || essence.ends_with("+xml") {
            return AssetKind::NotRaster(format!("a document (type {essence})"));
        }
    }
    if let Some((_, what)) = NOT_RASTER_ROLES
        .iter()
        .find(|(r, _)| roles.iter().any(|x| x.eq_ignore_ascii_case(r)))
    {
        return AssetKind::NotRaster((*what).to_owned());
    }
    let path = path_of(href);
    if let Some((_, e)) = BY_EXTENSION.iter().find(|(ext, _)| path.ends_with(ext)) {
        return AssetKind::Raster(*e);
    }
    if let Some((ext, what)) = NOT_RASTER_EXTENSION
        .iter()
        .find(|(ext, _)| path.ends_with(ext))
    {
        return AssetKind::NotRaster(format!("{what} ({ext} file)"));
    }
    AssetKind::Unknown
}

/// The roles of an asset (`roles` strings).
pub fn asset_roles(asset: &Value) -> Vec<&str> {
    asset
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// [`asset_kind`] of `item`'s asset `asset_key` (its `alternates` href when
/// it has one), by the asset's media type, roles and href.
pub fn item_asset_kind(item: &Value, asset_key: &str, alternates: &[&str]) -> Result<AssetKind> {
    let src = asset_source(item, Some(asset_key), alternates)?;
    let roles = crate::item::asset(item, asset_key).map(asset_roles)?;
    Ok(asset_kind(src.media_type, &roles, src.href))
}

/// `Ok` when `item`'s asset `asset_key` may be a raster band by
/// [`asset_kind`], else [`MetaError::NotRaster`] naming item, asset and
/// what the asset is. Used by cubes, VRTs and downloads.
///
/// ```
/// use serde_json::json;
/// let item = json!({"id": "LC09", "assets": {
///     "red": {"href": "B4.TIF", "type": "image/tiff; application=geotiff"},
///     "mtl.xml": {"href": "MTL.xml", "type": "application/xml", "roles": ["metadata"]}}});
/// assert!(stac_meta::require_raster(&item, "red", &[]).is_ok());
/// let e = stac_meta::require_raster(&item, "mtl.xml", &[]).unwrap_err();
/// assert!(e.to_string().contains("not a raster band"), "{e}");
/// ```
pub fn require_raster(item: &Value, asset_key: &str, alternates: &[&str]) -> Result<()> {
    match item_asset_kind(item, asset_key, alternates)? {
        AssetKind::NotRaster(what) => Err(MetaError::NotRaster {
            location: Location::item(item_id(item)).with_asset(Some(asset_key)),
            what,
        }),
        _ => Ok(()),
    }
}

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
    let roles = match asset_key {
        Some(k) => crate::item::asset(item, k).map(asset_roles)?,
        None => asset_roles(item),
    };
    match asset_kind(src.media_type, &roles, src.href) {
        AssetKind::Raster(e) => Ok(e),
        AssetKind::NotRaster(what) => Err(MetaError::NotRaster {
            location: Location::item(item_id(item)).with_asset(asset_key),
            what,
        }),
        AssetKind::Unknown => Err(MetaError::UnsupportedAsset {
            location: Location::item(item_id(item))
                .with_asset(asset_key)
                .with_href(src.href),
            media_type: src.media_type.map(str::to_owned),
        }),
    }
}
