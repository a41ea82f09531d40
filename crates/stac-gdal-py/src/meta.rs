//! The zero-I/O metadata functions, item reading and signers:
//! `read_items_json`, `read_extension_metadata`, `which_engine`,
//! `resolved_href`, `raster_asset_keys`, and `Signer` (the six signers,
//! usable as `signer=`).

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde_json::Value;
use stac_gdal::meta::{AssetKind, asset_kind};
use stac_gdal::signers::{
    AnonymousSigner, AwsRequesterPaysSigner, BearerTokenSigner, CdseSigner, EarthdataSigner,
    PlanetaryComputerSigner, Signer as RustSigner,
};

use crate::errors::{MetaError, py_err};

fn parse_item(item_json: &str) -> PyResult<Value> {
    serde_json::from_str(item_json).map_err(|e| MetaError::new_err(format!("item JSON: {e}")))
}

/// Items from a file as a JSON array: GeoParquet (`.parquet`, `.geoparquet`)
/// or JSON (an Item, a FeatureCollection, an array) or NDJSON.
#[pyfunction]
fn read_items_json(py: Python<'_>, path: std::path::PathBuf) -> PyResult<String> {
    let items = py.detach(|| -> PyResult<Vec<Value>> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ext == "parquet" || ext == "geoparquet" {
            return stac_gdal::from_geoparquet(&path).map_err(py_err);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display()))
        })?;
        stac_gdal::parse_items(&text).map_err(py_err)
    })?;
    Ok(Value::Array(items).to_string())
}

/// The asset keys of an item that are raster bands (media type, roles,
/// extension; unknown assets included), in the item's order.
#[pyfunction]
fn raster_asset_keys(item_json: &str) -> PyResult<Vec<String>> {
    let item = parse_item(item_json)?;
    let Some(assets) = item.get("assets").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    Ok(assets
        .iter()
        .filter(|(_, a)| {
            let roles: Vec<&str> = a
                .get("roles")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let kind = asset_kind(
                a.get("type").and_then(Value::as_str),
                &roles,
                a.get("href").and_then(Value::as_str).unwrap_or(""),
            );
            matches!(kind, AssetKind::Raster(_))
        })
        .map(|(k, _)| k.clone())
        .collect())
}

/// `read_extension_metadata(item_json, asset=None)`: the item's (or
/// asset's) projection and raster metadata as JSON, without I/O.
#[pyfunction]
#[pyo3(signature = (item_json, asset=None))]
fn read_extension_metadata(item_json: &str, asset: Option<&str>) -> PyResult<String> {
    let item = parse_item(item_json)?;
    let meta = stac_gdal::read_extension_metadata(&item, asset).map_err(py_err)?;
    Ok(serde_json::to_string(&meta).unwrap_or_default())
}

/// `which_engine(item_json, asset=None)`: `gdal`, `netcdf`, `grib` or `zarr`.
#[pyfunction]
#[pyo3(signature = (item_json, asset=None))]
fn which_engine(item_json: &str, asset: Option<&str>) -> PyResult<&'static str> {
    let item = parse_item(item_json)?;
    Ok(stac_gdal::which_engine(&item, asset)
        .map_err(py_err)?
        .as_str())
}

/// `resolved_href(item_json, asset=None, signer=None)`: the asset's href
/// resolved against the item's `self` link, then signed.
#[pyfunction]
#[pyo3(signature = (item_json, asset=None, signer=None))]
fn resolved_href(
    item_json: &str,
    asset: Option<&str>,
    signer: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let item = parse_item(item_json)?;
    let s = signer.map(signer_of).transpose()?;
    stac_gdal::resolved_href(&item, asset, s.as_deref()).map_err(py_err)
}

/// A signer: one of the six, made by its static constructors; usable as
/// `signer=` wherever stac_gdal reads assets. Its `repr` never shows a
/// secret.
#[pyclass(module = "stac_gdal._native", frozen, name = "Signer")]
pub struct Signer {
    inner: Arc<dyn RustSigner>,
    /// How to make it again (for pickling to Dask workers): constructor
    /// name and arguments.
    recipe: (String, Vec<Option<String>>),
}

/// The signer's name only: the recipe holds its secrets.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.inner.name())
            .finish_non_exhaustive()
    }
}

#[pymethods]
impl Signer {
    /// No signing (public data).
    #[staticmethod]
    fn anonymous() -> Self {
        Self {
            inner: Arc::new(AnonymousSigner),
            recipe: ("anonymous".into(), vec![]),
        }
    }

    /// A bearer token for the given hosts (`host`, `host:port`, `.suffix`,
    /// `scheme://host[:port]`).
    #[staticmethod]
    #[pyo3(signature = (token, hosts=None))]
    fn bearer(token: String, hosts: Option<Vec<String>>) -> Self {
        let mut s = BearerTokenSigner::new(token.clone());
        if let Some(h) = &hosts {
            s = s.with_hosts(stac_gdal::signers::HostList::new(h.iter()));
        }
        let mut args = vec![Some(token)];
        args.extend(hosts.unwrap_or_default().into_iter().map(Some));
        Self {
            inner: Arc::new(s),
            recipe: ("bearer".into(), args),
        }
    }

    /// AWS requester-pays S3 (credentials from the environment).
    #[staticmethod]
    #[pyo3(signature = (region=None))]
    fn aws_requester_pays(region: Option<String>) -> Self {
        Self {
            inner: Arc::new(AwsRequesterPaysSigner::new(region.as_deref())),
            recipe: ("aws_requester_pays".into(), vec![region]),
        }
    }

    /// Microsoft Planetary Computer SAS tokens.
    #[staticmethod]
    fn planetary_computer() -> Self {
        Self {
            inner: Arc::new(PlanetaryComputerSigner::new()),
            recipe: ("planetary_computer".into(), vec![]),
        }
    }

    /// NASA Earthdata (token or login from the environment).
    #[staticmethod]
    fn earthdata() -> Self {
        Self {
            inner: Arc::new(EarthdataSigner::new()),
            recipe: ("earthdata".into(), vec![]),
        }
    }

    /// Copernicus Data Space Ecosystem (login from the environment).
    #[staticmethod]
    fn cdse() -> Self {
        Self {
            inner: Arc::new(CdseSigner::new()),
            recipe: ("cdse".into(), vec![]),
        }
    }

    /// The signer's name.
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// The GDAL config options for reading `href` (empty unless the
    /// credential is for its origin), as `(key, value)` pairs in order.
    fn gdal_env(&self, href: &str) -> PyResult<Vec<(String, String)>> {
        let env = self.inner.gdal_env_for(href).map_err(py_err)?;
        Ok(env
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    /// `href` signed (e.g. a SAS token appended), or unchanged.
    fn sign_href(&self, href: &str) -> PyResult<String> {
        self.inner.sign_href(href).map_err(py_err)
    }

    fn __repr__(&self) -> String {
        format!("Signer({})", self.inner.name())
    }

    /// Pickle by recipe (the arguments it was made with, secrets included:
    /// a Dask worker needs them to sign).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (ctor, args) = &self.recipe;
        let f = py.get_type::<Signer>().getattr("_from_recipe")?;
        (f, (ctor.clone(), args.clone()))
            .into_pyobject(py)
            .map(Bound::into_any)
    }

    /// Make a signer from a pickled recipe.
    #[staticmethod]
    fn _from_recipe(ctor: &str, args: Vec<Option<String>>) -> PyResult<Self> {
        let arg = |i: usize| args.get(i).cloned().flatten();
        Ok(match ctor {
            "anonymous" => Self::anonymous(),
            "bearer" => Self::bearer(
                arg(0).unwrap_or_default(),
                (args.len() > 1).then(|| args[1..].iter().flatten().cloned().collect()),
            ),
            "aws_requester_pays" => Self::aws_requester_pays(arg(0)),
            "planetary_computer" => Self::planetary_computer(),
            "earthdata" => Self::earthdata(),
            "cdse" => Self::cdse(),
            other => return Err(PyTypeError::new_err(format!("unknown signer {other:?}"))),
        })
    }
}

/// The Rust signer of a Python `Signer`.
pub(crate) fn signer_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn RustSigner>> {
    let s = obj
        .cast::<Signer>()
        .map_err(|_| PyTypeError::new_err("signer= takes a stac_gdal.Signer"))?;
    Ok(s.get().inner.clone())
}

/// Add the functions and classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_items_json, m)?)?;
    m.add_function(wrap_pyfunction!(raster_asset_keys, m)?)?;
    m.add_function(wrap_pyfunction!(read_extension_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(which_engine, m)?)?;
    m.add_function(wrap_pyfunction!(resolved_href, m)?)?;
    m.add_class::<Signer>()?;
    Ok(())
}
