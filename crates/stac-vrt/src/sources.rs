//! One source per item: the href (signed, mapped to a GDAL path, with HTTP
//! headers embedded for `/vsicurl`), and its grid, read from STAC metadata or,
//! only for items that lack it, from the opened file.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use stac_meta::DataType;
use stac_signers::GdalEnv;

use crate::options::VrtOptions;

/// A source's grid: CRS, geotransform, size and bands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// CRS definition as given (`EPSG:32630`, WKT, PROJJSON text).
    pub crs: String,
    /// GDAL geotransform.
    pub geotransform: [f64; 6],
    /// Columns (pixels per row).
    pub cols: usize,
    /// Rows.
    pub rows: usize,
    /// Per band: GDAL data type name and nodata.
    pub bands: Vec<BandInfo>,
}

impl Grid {
    /// `[minx, miny, maxx, maxy]` from the four corners.
    pub(crate) fn bounds(&self) -> [f64; 4] {
        stac_meta::geotransform::bounds(&self.geotransform, self.rows, self.cols)
    }

    /// Whether the grid is north-up with no rotation (a plain VRT source can
    /// place it; otherwise it must be warped).
    pub(crate) fn is_north_up(&self) -> bool {
        self.geotransform[2] == 0.0
            && self.geotransform[4] == 0.0
            && self.geotransform[1] > 0.0
            && self.geotransform[5] < 0.0
    }
}

/// One band of a source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BandInfo {
    /// GDAL data type name (`UInt16`, `Float32`, ...).
    pub data_type: &'static str,
    /// The band's nodata, when known.
    pub nodata: Option<f64>,
}

/// The GDAL name of a raster-extension data type in a VRT (`None` for
/// `other`): [`DataType::gdal_name`], with `float16` widened to `Float32`,
/// and `int8` to `Int16` on GDAL < 3.7, which has no Int8 (lossless).
pub(crate) fn gdal_type_name(t: DataType) -> Option<&'static str> {
    match t {
        DataType::Int8 if !gdal_at_least(3, 7) => Some("Int16"),
        DataType::Float16 => Some("Float32"),
        t => t.gdal_name(),
    }
}

/// Map a GDAL data type name to the static name used in XML.
fn static_type_name(name: &str) -> Option<&'static str> {
    DataType::from_gdal_name(name).and_then(DataType::gdal_name)
}

/// The narrowest type holding both (GDAL's `GDALDataTypeUnion`).
pub(crate) fn union_type(a: &'static str, b: &'static str) -> &'static str {
    if a == b {
        return a;
    }
    match (
        gdal::raster::GdalDataType::from_name(a),
        gdal::raster::GdalDataType::from_name(b),
    ) {
        (Ok(x), Ok(y)) => static_type_name(&x.union(y).name()).unwrap_or("Float64"),
        _ => "Float64",
    }
}

/// The grid of an asset from its STAC metadata alone: `Ok(None)` when the
/// metadata is incomplete (no CRS, transform, shape, or data type; or a
/// `proj:shape` with a zero side), so the source is opened to read its grid;
/// `Err(reason)` when it describes a grid GDAL cannot hold (a side beyond
/// `INT_MAX`), so the source is skipped.
pub(crate) fn grid_from_metadata(
    meta: &stac_meta::ExtensionMetadata,
    options: &VrtOptions,
) -> Result<Option<Grid>, String> {
    if let Some([rows, cols]) = meta.shape
        && (rows > i32::MAX as u64 || cols > i32::MAX as u64)
    {
        return Err(format!(
            "proj:shape [{rows}, {cols}] is beyond GDAL's limit of {} pixels per side",
            i32::MAX
        ));
    }
    Ok(metadata_grid(meta, options))
}

fn metadata_grid(meta: &stac_meta::ExtensionMetadata, options: &VrtOptions) -> Option<Grid> {
    let crs = meta.crs.as_deref()?.to_owned();
    let geotransform = meta.geotransform?;
    let [rows, cols] = meta.shape?;
    if rows == 0 || cols == 0 {
        return None;
    }
    let fallback = options.data_type.and_then(gdal_type_name);
    let bands = if meta.bands.is_empty() {
        vec![BandInfo {
            data_type: fallback?,
            nodata: None,
        }]
    } else {
        meta.bands
            .iter()
            .map(|b| {
                Some(BandInfo {
                    data_type: b.data_type.and_then(gdal_type_name).or(fallback)?,
                    nodata: b.nodata,
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(Grid {
        crs,
        geotransform,
        cols: usize::try_from(cols).ok()?,
        rows: usize::try_from(rows).ok()?,
        bands,
    })
}

/// Open a source through the source layer (its policy, drivers, scoped env
/// and deadline) and read its grid. This is the only place the crate opens
/// a source; it runs only for items whose metadata lacks a grid.
pub(crate) fn grid_from_source(source: &stac_raster::RasterSource) -> Result<Grid, String> {
    let info = source.describe().map_err(|e| e.to_string())?;
    let grid = info
        .grid
        .ok_or_else(|| "the file has no geotransform".to_owned())?;
    let crs = grid
        .crs
        .as_ref()
        .and_then(|c| c.to_wkt().ok())
        .ok_or_else(|| "the file has no CRS".to_owned())?;
    let mut bands = Vec::new();
    for b in &info.bands {
        let data_type = gdal_type_name(b.data_type)
            .ok_or_else(|| format!("unsupported data type {}", b.data_type.as_str()))?;
        bands.push(BandInfo {
            data_type,
            nodata: b.nodata,
        });
    }
    if bands.is_empty() {
        return Err("the file has no raster band".to_owned());
    }
    Ok(Grid {
        crs,
        geotransform: grid.geotransform,
        cols: info.cols,
        rows: info.rows,
        bands,
    })
}

/// Percent-encode everything but unreserved characters (Python's `quote(s, safe="")`).
const URL_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');
/// As [`URL_SET`] but keeping `/` (Python's `quote(s, safe="/")`).
const HEADER_SET: &AsciiSet = &URL_SET.remove(b'/');

/// The path a VRT source should name for `href`: `gdal_path(href)`, and a
/// bare `/vsicurl/<url>` rewritten to GDAL's query form
/// `/vsicurl?header.<Name>=<value>&...&empty_dir=yes&url=<url>` so the HTTP
/// headers of the signer's env travel with the source. Local relative paths
/// are made absolute (the VRT may be written elsewhere).
pub(crate) fn vrt_source_path(href: &str, env: &GdalEnv) -> String {
    let path = stac_meta::gdal_path(href);
    if let Some(url) = path.strip_prefix("/vsicurl/") {
        let mut out = String::from("/vsicurl?");
        if let Some(headers) = env.get("GDAL_HTTP_HEADERS") {
            let pairs: Vec<(&str, &str)> = headers
                .split(['\r', '\n'])
                .filter_map(|line| line.split_once(':'))
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, _)| !n.is_empty())
                .collect();
            if !pairs.is_empty() {
                if header_option_supported() {
                    for (name, value) in pairs {
                        out.push_str("header.");
                        out.push_str(name);
                        out.push('=');
                        out.extend(utf8_percent_encode(value, HEADER_SET));
                        out.push('&');
                    }
                } else {
                    out.push_str("header_file=");
                    out.extend(utf8_percent_encode(&header_file(&pairs), URL_SET));
                    out.push('&');
                }
            }
        }
        out.push_str("empty_dir=yes&url=");
        out.extend(utf8_percent_encode(url, URL_SET));
        return out;
    }
    if !stac_meta::is_vsi(&path)
        && stac_meta::scheme(&path).is_none()
        && !path.contains(':')
        && std::path::Path::new(&path).is_relative()
    {
        if let Ok(abs) = std::path::absolute(&path) {
            return abs.to_string_lossy().into_owned();
        }
    }
    path
}

/// A [`vrt_source_path`] without the HTTP headers embedded in it
/// (`header.<Name>=` and `header_file=` options): the path a VRT written to
/// a file names, so the file holds no header credential (and no reference
/// to this process's in-memory header files). `None` when the path has
/// none (it is its own public form).
pub(crate) fn without_headers(path: &str) -> Option<String> {
    let query = path.strip_prefix("/vsicurl?")?;
    let is_header = |o: &&str| o.starts_with("header.") || o.starts_with("header_file=");
    // Every value was percent-encoded by `vrt_source_path`: `&` separates options.
    if !query.split('&').any(|o| is_header(&o)) {
        return None;
    }
    let kept: Vec<&str> = query.split('&').filter(|o| !is_header(o)).collect();
    Some(format!("/vsicurl?{}", kept.join("&")))
}

/// Whether this GDAL understands `/vsicurl?header.<Name>=<value>` (3.7+).
/// Older versions only take `header_file=<path>`.
pub(crate) fn header_option_supported() -> bool {
    gdal_at_least(3, 7)
}

/// Whether the linked GDAL's `VERSION_NUM` is at least `num` (e.g. `3_070_000`).
pub(crate) fn gdal_at_least(major: u32, minor: u32) -> bool {
    stac_raster::gdal_version() >= (major, minor)
}

/// A `/vsimem/` file holding `Name: value` lines, one per distinct header
/// set, kept for the life of the process (GDAL < 3.7 reads per-source
/// headers only from a file). The secret stays in memory, never on disk.
pub(crate) fn header_file(pairs: &[(&str, &str)]) -> String {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static FILES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let text: String = pairs.iter().map(|(n, v)| format!("{n}: {v}\n")).collect();
    let mut files = FILES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = files.len();
    files
        .entry(text)
        .or_insert_with_key(|text| {
            let path = format!("/vsimem/stac-vrt/headers-{}-{next}.txt", std::process::id());
            let _ = gdal::vsi::create_mem_file(&path, text.clone().into_bytes());
            path
        })
        .clone()
}

/// Env keys holding credentials that cannot travel inside a VRT source path
/// (GDAL does not consult thread-local config when a VRT lazily opens its
/// sources): pyramids §9 step 4.
pub(crate) fn untravelled_credentials(env: &GdalEnv) -> Vec<String> {
    const PREFIXES: &[&str] = &["AWS_", "GS_", "AZURE_", "GOOGLE_", "SWIFT_", "OSS_"];
    const HARMLESS_SUFFIXES: &[&str] =
        &["_REGION", "_ENDPOINT", "_ENDPOINT_URL", "_VIRTUAL_HOSTING"];
    env.iter()
        .map(|(k, _)| k)
        .filter(|k| *k != "GDAL_HTTP_HEADERS")
        .filter(|k| {
            (PREFIXES.iter().any(|p| k.starts_with(p))
                && !HARMLESS_SUFFIXES.iter().any(|s| k.ends_with(s)))
                || *k == "GDAL_HTTP_USERPWD"
                || *k == "GDAL_HTTP_AUTH"
        })
        .map(str::to_owned)
        .collect()
}

/// An item's id (for reports).
pub(crate) fn item_label(item: &Value) -> String {
    stac_meta::item_id(item).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsicurl_query_form_matches_pyramids() {
        let env = GdalEnv::new();
        assert_eq!(
            vrt_source_path("https://h/a.tif", &env),
            "/vsicurl?empty_dir=yes&url=https%3A%2F%2Fh%2Fa.tif"
        );
        let env = GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer t");
        let path = vrt_source_path("https://h/a.tif?sig=x", &env);
        if header_option_supported() {
            assert_eq!(
                path,
                "/vsicurl?header.Authorization=Bearer%20t&empty_dir=yes&url=https%3A%2F%2Fh%2Fa.tif%3Fsig%3Dx"
            );
        } else {
            let file = header_file(&[("Authorization", "Bearer t")]);
            assert!(file.starts_with("/vsimem/"));
            assert_eq!(
                path,
                format!(
                    "/vsicurl?header_file={}&empty_dir=yes&url=https%3A%2F%2Fh%2Fa.tif%3Fsig%3Dx",
                    utf8_percent_encode(&file, URL_SET)
                )
            );
            let bytes = gdal::vsi::get_vsi_mem_file_bytes_owned(&file).unwrap();
            assert_eq!(bytes, b"Authorization: Bearer t\n");
        }
    }

    #[test]
    fn public_paths_hold_no_header() {
        let env = GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer t0k3n");
        let path = vrt_source_path("https://h/a.tif?x=1", &env);
        assert!(path.contains("header"), "{path}");
        assert_eq!(
            without_headers(&path).as_deref(),
            Some("/vsicurl?empty_dir=yes&url=https%3A%2F%2Fh%2Fa.tif%3Fx%3D1")
        );
        assert_eq!(without_headers("/vsis3/b/k.tif"), None);
        let plain = vrt_source_path("https://h/a.tif", &GdalEnv::new());
        assert_eq!(without_headers(&plain), None);
    }

    #[test]
    fn non_http_sources_keep_the_plain_form() {
        let env = GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer t");
        assert_eq!(vrt_source_path("s3://b/k.tif", &env), "/vsis3/b/k.tif");
        assert_eq!(vrt_source_path("/data/x.tif", &env), "/data/x.tif");
        assert!(vrt_source_path("rel/x.tif", &env).starts_with('/'));
    }

    #[test]
    fn credentials_that_cannot_travel_are_named() {
        let env = GdalEnv::new()
            .with("AWS_REQUEST_PAYER", "requester")
            .with("AWS_REGION", "us-west-2")
            .with("GDAL_HTTP_HEADERS", "A: b")
            .with("GDAL_HTTP_USERPWD", "u:p");
        assert_eq!(
            untravelled_credentials(&env),
            vec![
                "AWS_REQUEST_PAYER".to_owned(),
                "GDAL_HTTP_USERPWD".to_owned()
            ]
        );
    }
}
