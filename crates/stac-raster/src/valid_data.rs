//! Valid-data footprints: the polygonised mask of a band, unioned,
//! densified, reprojected to EPSG:4326 and rounded.

use std::ffi::CStr;

use serde_json::Value;

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::footprint::{Footprint, FootprintOptions, polygon_footprint};
use crate::grid::Crs;
use crate::read::last_gdal_message;

/// Owns an OGR geometry handle.
struct Geom(gdal_sys::OGRGeometryH);

impl Drop for Geom {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we own the handle.
            unsafe { gdal_sys::OGR_G_DestroyGeometry(self.0) };
        }
    }
}

/// Owns a GDAL dataset handle (the in-memory vector dataset).
struct Handle(gdal_sys::GDALDatasetH);

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we own the handle.
            unsafe { gdal_sys::GDALClose(self.0) };
        }
    }
}

fn fail(what: &str) -> RasterError {
    RasterError::InvalidArgument(format!(
        "valid-data footprint: {what}: {}",
        last_gdal_message()
    ))
}

/// The footprint of the valid pixels of `band` (1-based; GDAL's mask band:
/// nodata, alpha or per-dataset mask), `None` when no pixel is valid.
///
/// Crossing the antimeridian is handled for single-polygon footprints
/// (split per RFC 7946); a multi-part footprint that crosses it falls back
/// to its envelope's footprint.
pub(crate) fn valid_data_footprint(
    ds: &Dataset,
    band: usize,
    crs: &Crs,
    options: &FootprintOptions,
) -> Result<Option<Footprint>> {
    let src = ds.band(band)?;
    let _scope = crate::thread_env::EnvScope::install(ds.env());
    let _call = ds.limit_call();
    // SAFETY: all handles below are checked for NULL and owned by guards.
    unsafe {
        let mask = gdal_sys::GDALGetMaskBand(src.c_rasterband());
        if mask.is_null() {
            return Err(fail("no mask band"));
        }
        let driver = gdal_sys::GDALGetDriverByName(c"Memory".as_ptr());
        if driver.is_null() {
            return Err(fail("no Memory driver"));
        }
        let vds = Handle(gdal_sys::GDALCreate(
            driver,
            c"".as_ptr(),
            0,
            0,
            0,
            gdal_sys::GDALDataType::GDT_Unknown,
            std::ptr::null_mut(),
        ));
        if vds.0.is_null() {
            return Err(fail("cannot create a memory layer"));
        }
        let layer = gdal_sys::GDALDatasetCreateLayer(
            vds.0,
            c"valid".as_ptr(),
            std::ptr::null_mut(),
            gdal_sys::OGRwkbGeometryType::wkbPolygon,
            std::ptr::null_mut(),
        );
        if layer.is_null() {
            return Err(fail("cannot create a memory layer"));
        }
        let rv = gdal_sys::GDALPolygonize(
            mask,
            mask,
            layer,
            -1,
            std::ptr::null_mut(),
            None,
            std::ptr::null_mut(),
        );
        if rv != gdal_sys::CPLErr::CE_None {
            return Err(fail("polygonize"));
        }
        let multi = Geom(gdal_sys::OGR_G_CreateGeometry(
            gdal_sys::OGRwkbGeometryType::wkbMultiPolygon,
        ));
        gdal_sys::OGR_L_ResetReading(layer);
        let mut parts = 0usize;
        loop {
            let f = gdal_sys::OGR_L_GetNextFeature(layer);
            if f.is_null() {
                break;
            }
            let g = gdal_sys::OGR_F_GetGeometryRef(f);
            if !g.is_null() {
                gdal_sys::OGR_G_AddGeometry(multi.0, g);
                parts += 1;
            }
            gdal_sys::OGR_F_Destroy(f);
        }
        if parts == 0 {
            return Ok(None);
        }
        let union = Geom(gdal_sys::OGR_G_UnionCascaded(multi.0));
        if union.0.is_null() {
            return Err(fail("union"));
        }
        // Polygonize works in pixel coordinates here (mask bands have no
        // dataset of their own). Densify in pixels: each raster edge gets
        // about `densify_points` inserted points.
        if options.densify_points > 0 {
            let longest = ds.rows().max(ds.cols()) as f64;
            gdal_sys::OGR_G_Segmentize(union.0, longest / (options.densify_points + 1) as f64);
        }
        let pixel_json = export_json(&union)?;
        // Pixel -> native (geotransform) -> EPSG:4326, in one batch.
        let gt = ds.geotransform().unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let mut points: Vec<[f64; 2]> = Vec::new();
        collect_points(&pixel_json["coordinates"], &mut points);
        let native: Vec<[f64; 2]> = points
            .iter()
            .map(|&[c, r]| stac_meta::geotransform::apply(&gt, c, r))
            .collect();
        let lonlat = crate::footprint::to_lonlat(&native, crs)?;
        let mut it = lonlat.into_iter();
        let mut geometry = pixel_json;
        replace_points(&mut geometry["coordinates"], &mut it);
        let value = match options.simplify_tolerance {
            Some(tol) if tol > 0.0 => {
                let text = std::ffi::CString::new(geometry.to_string())
                    .map_err(|e| RasterError::InvalidArgument(e.to_string()))?;
                let g = Geom(gdal_sys::OGR_G_CreateGeometryFromJson(text.as_ptr()));
                if g.0.is_null() {
                    return Err(fail("GeoJSON import"));
                }
                let simple = Geom(gdal_sys::OGR_G_SimplifyPreserveTopology(g.0, tol));
                if simple.0.is_null() {
                    geometry
                } else {
                    export_json(&simple)?
                }
            }
            _ => geometry,
        };
        Ok(Some(finish(value, options)))
    }
}

/// A geometry as GeoJSON.
fn export_json(g: &Geom) -> Result<Value> {
    // SAFETY: valid geometry; the returned string is freed right after copying.
    let text = unsafe {
        let p = gdal_sys::OGR_G_ExportToJson(g.0);
        if p.is_null() {
            return Err(fail("GeoJSON export"));
        }
        let t = CStr::from_ptr(p).to_string_lossy().into_owned();
        gdal_sys::VSIFree(p.cast());
        t
    };
    serde_json::from_str(&text)
        .map_err(|e| RasterError::InvalidArgument(format!("valid-data footprint JSON: {e}")))
}

fn is_position(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| a.len() >= 2 && a.iter().all(Value::is_number))
}

fn collect_points(v: &Value, out: &mut Vec<[f64; 2]>) {
    if is_position(v) {
        out.push([v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0)]);
    } else if let Some(items) = v.as_array() {
        for i in items {
            collect_points(i, out);
        }
    }
}

fn replace_points(v: &mut Value, it: &mut impl Iterator<Item = [f64; 2]>) {
    if is_position(v) {
        if let Some([x, y]) = it.next() {
            *v = serde_json::json!([x, y]);
        }
    } else if let Some(items) = v.as_array_mut() {
        for i in items {
            replace_points(i, it);
        }
    }
}

/// Round, compute the bbox, and handle the antimeridian.
fn finish(geometry: Value, options: &FootprintOptions) -> Footprint {
    // A single polygon without holes: the ring path (antimeridian aware).
    if geometry["type"] == "Polygon"
        && let Some(rings) = geometry["coordinates"].as_array()
        && rings.len() == 1
        && let Some(ring) = rings[0].as_array()
    {
        let mut pts: Vec<[f64; 2]> = ring
            .iter()
            .filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
            .collect();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        return polygon_footprint(pts, options.precision);
    }
    let f = 10f64.powi(options.precision as i32);
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let geometry = round_coords(geometry, f, &mut bbox);
    if bbox[2] - bbox[0] > 180.0 {
        // Multi-part footprint across the antimeridian: use its envelope.
        let ring = vec![
            [bbox[0], bbox[1]],
            [bbox[2], bbox[1]],
            [bbox[2], bbox[3]],
            [bbox[0], bbox[3]],
        ];
        return polygon_footprint(ring, options.precision);
    }
    Footprint { geometry, bbox }
}

fn round_coords(v: Value, f: f64, bbox: &mut [f64; 4]) -> Value {
    match v {
        Value::Array(items) if items.len() >= 2 && items.iter().all(Value::is_number) => {
            let x = (items[0].as_f64().unwrap_or(0.0) * f).round() / f;
            let y = (items[1].as_f64().unwrap_or(0.0) * f).round() / f;
            bbox[0] = bbox[0].min(x);
            bbox[1] = bbox[1].min(y);
            bbox[2] = bbox[2].max(x);
            bbox[3] = bbox[3].max(y);
            serde_json::json!([x, y])
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| round_coords(i, f, bbox))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, val)| {
                    if k == "coordinates" {
                        (k, round_coords(val, f, bbox))
                    } else {
                        (k, val)
                    }
                })
                .collect(),
        ),
        other => other,
    }
}
