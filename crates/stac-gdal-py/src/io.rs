//! Files: `to_geoparquet` (items to a GeoParquet file), `build_vrt_from_stac`
//! (a VRT mosaic of one asset) and `to_stac_item` (a STAC Item describing a
//! raster file). Each releases the GIL while it works.

use pyo3::prelude::*;
use serde_json::Value;
use stac_gdal::geoparquet::WriteOptions;
use stac_gdal::{Dataset, ItemOptions, VrtOptions};

use crate::errors::{MetaError, py_err};

fn parse_items(items_json: &str) -> PyResult<Vec<Value>> {
    serde_json::from_str(items_json).map_err(|e| MetaError::new_err(format!("items JSON: {e}")))
}

/// `to_geoparquet(items_json, path)`: write the items as a stac-geoparquet
/// file (temp file renamed into place); returns the row count.
#[pyfunction]
fn to_geoparquet(py: Python<'_>, items_json: &str, path: std::path::PathBuf) -> PyResult<u64> {
    let items = parse_items(items_json)?;
    py.detach(|| stac_gdal::to_geoparquet(&items, &path, &WriteOptions::default()))
        .map_err(py_err)
}

/// `build_vrt_from_stac(items_json, asset, path=None)`: a VRT mosaic of one
/// asset of the items, from metadata alone when the items carry it. Writes
/// it to `path` (without credentials) when given; returns its XML.
#[pyfunction]
#[pyo3(signature = (items_json, asset, path=None))]
fn build_vrt_from_stac(
    py: Python<'_>,
    items_json: &str,
    asset: &str,
    path: Option<std::path::PathBuf>,
) -> PyResult<String> {
    let items = parse_items(items_json)?;
    py.detach(|| {
        let vrt = stac_gdal::build_vrt_from_stac(&items, asset, &VrtOptions::default())?;
        if let Some(p) = &path {
            vrt.to_file(p)?;
        }
        Ok::<_, stac_gdal::vrt::VrtError>(vrt.public_xml().to_owned())
    })
    .map_err(py_err)
}

/// `to_stac_item(path, id, datetime=None, asset_key="data")`: a STAC Item
/// (JSON) describing a raster file: projection, raster bands, footprint.
#[pyfunction]
#[pyo3(signature = (path, id, datetime=None, asset_key="data"))]
fn to_stac_item(
    py: Python<'_>,
    path: &str,
    id: &str,
    datetime: Option<String>,
    asset_key: &str,
) -> PyResult<String> {
    py.detach(|| {
        let ds = Dataset::open(path)?;
        let mut o = ItemOptions::new(path).with_asset_key(asset_key);
        if let Some(d) = datetime {
            o = o.with_datetime(d);
        }
        Ok::<_, stac_gdal::RasterError>(ds.to_stac_item(id, &o)?.to_string())
    })
    .map_err(py_err)
}

/// Add the functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(to_geoparquet, m)?)?;
    m.add_function(wrap_pyfunction!(build_vrt_from_stac, m)?)?;
    m.add_function(wrap_pyfunction!(to_stac_item, m)?)?;
    Ok(())
}
