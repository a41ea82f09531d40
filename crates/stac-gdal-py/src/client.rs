//! STAC API search (an iterator of item JSON texts, the GIL released while
//! a page is fetched) and asset downloads, through stac-client.

use std::sync::Arc;

use pyo3::prelude::*;
use stac_gdal::client::{ClientOptions, DownloadOptions, Items, SearchParams};

use crate::errors::ClientError;

fn client_err(e: stac_gdal::ClientError) -> PyErr {
    crate::errors::raise::<ClientError>(&e)
}

/// The items of a search, one JSON text at a time (pages fetched lazily,
/// the next one prefetched).
#[pyclass(module = "stac_gdal._native", unsendable)]
pub struct SearchIter {
    items: Option<Items>,
}

impl std::fmt::Debug for SearchIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIter")
            .field("exhausted", &self.items.is_none())
            .finish()
    }
}

#[pymethods]
impl SearchIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<String>> {
        let Some(items) = self.items.as_mut() else {
            return Ok(None);
        };
        match py.detach(|| items.next()) {
            Some(Ok(v)) => Ok(Some(v.to_string())),
            Some(Err(e)) => {
                self.items = None;
                Err(client_err(e))
            }
            None => {
                self.items = None;
                Ok(None)
            }
        }
    }
}

/// `search(url, params_json, signer=None)`: STAC API Item Search with the
/// parameters as JSON (`collections`, `ids`, `bbox`, `datetime`, `query`,
/// `limit`, `max_items`); an iterator of item JSON texts.
#[pyfunction]
#[pyo3(signature = (url, params_json, signer=None))]
fn search(
    py: Python<'_>,
    url: &str,
    params_json: &str,
    signer: Option<&Bound<'_, PyAny>>,
) -> PyResult<SearchIter> {
    let p: serde_json::Value = serde_json::from_str(params_json)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("search parameters: {e}")))?;
    let strings = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut params = SearchParams::new();
    let collections = strings("collections");
    if !collections.is_empty() {
        params = params.with_collections(collections);
    }
    let ids = strings("ids");
    if !ids.is_empty() {
        params = params.with_ids(ids);
    }
    if let Some(b) = p.get("bbox").and_then(|v| v.as_array()) {
        params = params.with_bbox(b.iter().filter_map(|x| x.as_f64()).collect::<Vec<_>>());
    }
    if let Some(d) = p.get("datetime").and_then(|v| v.as_str()) {
        params = params.with_datetime(d);
    }
    if let Some(q) = p.get("query").filter(|q| !q.is_null()) {
        params = params.with_query(q.clone());
    }
    params.limit = p.get("limit").and_then(|v| v.as_u64()).map(|v| v as u32);
    params.max_items = p
        .get("max_items")
        .and_then(|v| v.as_u64())
        .map(|v| v as usize);
    let mut options = ClientOptions::default();
    if let Some(s) = signer {
        let arc: Arc<dyn stac_gdal::Signer> = crate::meta::signer_of(s)?;
        options = options.with_signer(arc);
    }
    let url = url.to_owned();
    let items = py
        .detach(|| stac_gdal::client::Client::new(&url, options)?.search(params))
        .map_err(client_err)?;
    Ok(SearchIter { items: Some(items) })
}

/// `download_item(item_json, directory, signer=None, include=None,
/// rasters_only=False)`: download an item's assets into `directory`
/// (verified, all-or-nothing); returns the item JSON with local hrefs.
#[pyfunction]
#[pyo3(signature = (item_json, directory, signer=None, include=None, rasters_only=false))]
fn download_item(
    py: Python<'_>,
    item_json: &str,
    directory: std::path::PathBuf,
    signer: Option<&Bound<'_, PyAny>>,
    include: Option<Vec<String>>,
    rasters_only: bool,
) -> PyResult<String> {
    let item: serde_json::Value = serde_json::from_str(item_json)
        .map_err(|e| crate::errors::MetaError::new_err(format!("item JSON: {e}")))?;
    let mut o = DownloadOptions::new().with_rasters_only(rasters_only);
    if let Some(keys) = include {
        o = o.with_include(keys);
    }
    if let Some(s) = signer {
        o = o.with_signer(crate::meta::signer_of(s)?);
    }
    py.detach(|| stac_gdal::download_item(&item, &directory, &o))
        .map(|v| v.to_string())
        .map_err(client_err)
}

/// Add the functions and classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SearchIter>()?;
    m.add_function(wrap_pyfunction!(search, m)?)?;
    m.add_function(wrap_pyfunction!(download_item, m)?)?;
    Ok(())
}
