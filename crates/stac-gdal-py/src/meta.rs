//! The zero-I/O metadata functions, item reading and signers:
//! `read_items_json`, `read_extension_metadata`, `which_engine`,
//! `resolved_href`, `raster_asset_keys`, and `Signer` (the six signers,
//! usable as `signer=`).

use std::sync::Arc;

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Map, Value};
use stac_gdal::meta::{AssetKind, asset_kind};
use stac_gdal::signers::{
    AnonymousSigner, AwsCredentials, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner,
    CdseOptions, CdseSigner, EarthdataOptions, EarthdataSigner, HostList, Origin, PcOptions,
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
    /// name and its keyword arguments as a JSON object.
    recipe: (String, String),
}

/// A keyword argument of a recipe.
fn opt_str(args: &Map<String, Value>, key: &str) -> Option<String> {
    args.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn opt_list(args: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    args.get(key).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// Seconds as a `Duration` (a typed error for negative or non-finite).
fn seconds(args: &Map<String, Value>, key: &str) -> PyResult<Option<Duration>> {
    match args.get(key).and_then(Value::as_f64) {
        None => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s).map(Some).map_err(|_| {
            PyValueError::new_err(format!("{key}={s}: a number of seconds >= 0 is needed"))
        }),
    }
}

/// `scheme://host[:port]` origins allowed over plain http.
fn origins(args: &Map<String, Value>) -> PyResult<Vec<Origin>> {
    opt_list(args, "allow_http")
        .unwrap_or_default()
        .iter()
        .map(|o| o.parse::<Origin>().map_err(py_err))
        .collect()
}

/// The JSON object of the keyword arguments given (`None`s left out).
fn recipe_args(pairs: Vec<(&str, Value)>) -> String {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    Value::Object(map).to_string()
}

impl Signer {
    /// Build a signer from its constructor name and keyword arguments (the
    /// constructors and unpickling both come here).
    fn build(ctor: &str, args_json: &str) -> PyResult<Self> {
        let args: Map<String, Value> = serde_json::from_str(args_json)
            .map_err(|e| PyValueError::new_err(format!("signer arguments: {e}")))?;
        let inner: Arc<dyn RustSigner> = match ctor {
            "anonymous" => Arc::new(AnonymousSigner),
            "bearer" => {
                let mut s = BearerTokenSigner::new(opt_str(&args, "token").unwrap_or_default())
                    .with_allow_http(origins(&args)?);
                if let Some(h) = opt_list(&args, "hosts") {
                    s = s.with_hosts(HostList::new(h.iter()));
                }
                Arc::new(s)
            }
            "aws_requester_pays" => {
                let mut o = AwsOptions::new();
                match (
                    opt_str(&args, "access_key_id"),
                    opt_str(&args, "secret_access_key"),
                ) {
                    (Some(id), Some(key)) => {
                        let mut c = AwsCredentials::new(id, key);
                        if let Some(t) = opt_str(&args, "session_token") {
                            c = c.with_session_token(t);
                        }
                        o = o.with_credentials(c);
                    }
                    (None, None) => {}
                    _ => {
                        return Err(PyValueError::new_err(
                            "aws_requester_pays: give access_key_id and secret_access_key together",
                        ));
                    }
                }
                if let Some(h) = opt_list(&args, "hosts") {
                    o = o.with_hosts(HostList::new(h.iter()).with_allow_http(origins(&args)?));
                }
                if let Some(on) = args.get("credentials_in_gdal_env").and_then(Value::as_bool) {
                    o = o.with_credentials_in_gdal_env(on);
                }
                Arc::new(AwsRequesterPaysSigner::with_options(
                    opt_str(&args, "region").as_deref(),
                    o,
                ))
            }
            "planetary_computer" => {
                let mut o = PcOptions::default();
                if let Some(u) = opt_str(&args, "sas_url") {
                    o = o.with_sas_url(u);
                }
                if let Some(k) = opt_str(&args, "subscription_key") {
                    o = o.with_subscription_key(k);
                }
                if let Some(d) = seconds(&args, "refresh_window")? {
                    o = o.with_refresh_window(d);
                }
                if let Some(d) = seconds(&args, "timeout")? {
                    o = o.with_timeout(d);
                }
                Arc::new(PlanetaryComputerSigner::with_options(o))
            }
            "earthdata" => {
                let mut o = EarthdataOptions::default();
                if let Some(t) = opt_str(&args, "token") {
                    o = o.with_token(t);
                }
                if let (Some(u), Some(p)) = (opt_str(&args, "username"), opt_str(&args, "password"))
                {
                    o = o.with_login(u, p);
                }
                if let Some(u) = opt_str(&args, "token_url") {
                    o = o.with_token_url(u);
                }
                if let Some(h) = opt_list(&args, "hosts") {
                    o = o.with_hosts(HostList::new(h.iter()));
                }
                o = o.with_allow_http(origins(&args)?);
                if let Some(d) = seconds(&args, "refresh_window")? {
                    o = o.with_refresh_window(d);
                }
                if let Some(d) = seconds(&args, "timeout")? {
                    o = o.with_timeout(d);
                }
                Arc::new(EarthdataSigner::with_options(o))
            }
            "cdse" => {
                let mut o = CdseOptions::default();
                if let (Some(u), Some(p)) = (opt_str(&args, "username"), opt_str(&args, "password"))
                {
                    o = o.with_login(u, p);
                }
                if let Some(c) = opt_str(&args, "client_id") {
                    o = o.with_client_id(c);
                }
                if let Some(u) = opt_str(&args, "token_url") {
                    o = o.with_token_url(u);
                }
                if let Some(h) = opt_list(&args, "hosts") {
                    o = o.with_hosts(HostList::new(h.iter()));
                }
                o = o.with_allow_http(origins(&args)?);
                if let Some(d) = seconds(&args, "refresh_window")? {
                    o = o.with_refresh_window(d);
                }
                if let Some(d) = seconds(&args, "timeout")? {
                    o = o.with_timeout(d);
                }
                Arc::new(CdseSigner::with_options(o))
            }
            other => return Err(PyTypeError::new_err(format!("unknown signer {other:?}"))),
        };
        Ok(Self {
            inner,
            recipe: (ctor.to_owned(), args_json.to_owned()),
        })
    }
}

fn login_pair(who: &str, username: &Option<String>, password: &Option<String>) -> PyResult<()> {
    if username.is_some() != password.is_some() {
        return Err(PyValueError::new_err(format!(
            "{who}: give username and password together"
        )));
    }
    Ok(())
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
    fn anonymous() -> PyResult<Self> {
        Self::build("anonymous", "{}")
    }

    /// A bearer token for the given hosts (`host`, `host:port`, `.suffix`,
    /// `scheme://host[:port]`); `allow_http` lists the origins
    /// (`http://host:port`) it may also be sent to in clear text.
    #[staticmethod]
    #[pyo3(signature = (token, hosts=None, *, allow_http=None))]
    fn bearer(
        token: String,
        hosts: Option<Vec<String>>,
        allow_http: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let args = recipe_args(vec![
            ("token", token.into()),
            ("hosts", hosts.into()),
            ("allow_http", allow_http.into()),
        ]);
        Self::build("bearer", &args)
    }

    /// AWS requester-pays S3: credentials from the environment unless
    /// given; `hosts` (and `allow_http`) are the origins it signs besides
    /// AWS's own (an S3-compatible server); `credentials_in_gdal_env`
    /// puts given credentials into GDAL's config.
    #[staticmethod]
    #[pyo3(signature = (region=None, *, access_key_id=None, secret_access_key=None,
                        session_token=None, hosts=None, allow_http=None,
                        credentials_in_gdal_env=None))]
    #[allow(clippy::too_many_arguments)]
    fn aws_requester_pays(
        region: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        session_token: Option<String>,
        hosts: Option<Vec<String>>,
        allow_http: Option<Vec<String>>,
        credentials_in_gdal_env: Option<bool>,
    ) -> PyResult<Self> {
        let args = recipe_args(vec![
            ("region", region.into()),
            ("access_key_id", access_key_id.into()),
            ("secret_access_key", secret_access_key.into()),
            ("session_token", session_token.into()),
            ("hosts", hosts.into()),
            ("allow_http", allow_http.into()),
            ("credentials_in_gdal_env", credentials_in_gdal_env.into()),
        ]);
        Self::build("aws_requester_pays", &args)
    }

    /// Microsoft Planetary Computer SAS tokens: token endpoint, subscription
    /// key, refresh window and request timeout (seconds) as keywords.
    #[staticmethod]
    #[pyo3(signature = (*, sas_url=None, subscription_key=None, refresh_window=None, timeout=None))]
    fn planetary_computer(
        sas_url: Option<String>,
        subscription_key: Option<String>,
        refresh_window: Option<f64>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let args = recipe_args(vec![
            ("sas_url", sas_url.into()),
            ("subscription_key", subscription_key.into()),
            ("refresh_window", refresh_window.into()),
            ("timeout", timeout.into()),
        ]);
        Self::build("planetary_computer", &args)
    }

    /// NASA Earthdata: a static `token`, or `username`/`password` to mint
    /// one (else the environment); token endpoint, hosts, plain-http
    /// origins, refresh window and timeout (seconds) as keywords.
    #[staticmethod]
    #[pyo3(signature = (*, token=None, username=None, password=None, token_url=None,
                        hosts=None, allow_http=None, refresh_window=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn earthdata(
        token: Option<String>,
        username: Option<String>,
        password: Option<String>,
        token_url: Option<String>,
        hosts: Option<Vec<String>>,
        allow_http: Option<Vec<String>>,
        refresh_window: Option<f64>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        login_pair("earthdata", &username, &password)?;
        let args = recipe_args(vec![
            ("token", token.into()),
            ("username", username.into()),
            ("password", password.into()),
            ("token_url", token_url.into()),
            ("hosts", hosts.into()),
            ("allow_http", allow_http.into()),
            ("refresh_window", refresh_window.into()),
            ("timeout", timeout.into()),
        ]);
        Self::build("earthdata", &args)
    }

    /// Copernicus Data Space Ecosystem: `username`/`password` (else the
    /// environment), OAuth2 client id, token endpoint, hosts, plain-http
    /// origins, refresh window and timeout (seconds) as keywords.
    #[staticmethod]
    #[pyo3(signature = (*, username=None, password=None, client_id=None, token_url=None,
                        hosts=None, allow_http=None, refresh_window=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn cdse(
        username: Option<String>,
        password: Option<String>,
        client_id: Option<String>,
        token_url: Option<String>,
        hosts: Option<Vec<String>>,
        allow_http: Option<Vec<String>>,
        refresh_window: Option<f64>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        login_pair("cdse", &username, &password)?;
        let args = recipe_args(vec![
            ("username", username.into()),
            ("password", password.into()),
            ("client_id", client_id.into()),
            ("token_url", token_url.into()),
            ("hosts", hosts.into()),
            ("allow_http", allow_http.into()),
            ("refresh_window", refresh_window.into()),
            ("timeout", timeout.into()),
        ]);
        Self::build("cdse", &args)
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
    fn _from_recipe(ctor: &str, args_json: &str) -> PyResult<Self> {
        Self::build(ctor, args_json)
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
