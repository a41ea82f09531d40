//! The source layer: the one place where an item and an asset key become
//! something GDAL opens.
//!
//! [`RasterSource::resolve`] does, in this order and nowhere else in the
//! workspace: pick the asset's (alternate) href → resolve it against the
//! item's `self` link → `patch_url` → sign it (the signer's href hook) →
//! judge it with the [`HrefPolicy`] → map it to a GDAL path → build its
//! GDAL env: read preset, security options, [`Timeouts`], the caller's
//! extra env, and the signer's env **scoped to this href's origin**
//! (`Signer::gdal_env_for`; no unscoped signer env is ever used). Every
//! credential value it sees is remembered for redaction by value
//! ([`crate::redact_message`]). No I/O happens here except what a signer
//! needs to mint a token.
//!
//! [`RasterSource::open`] opens it through [`Dataset::open_with`] with the
//! policy's driver allow-list and the source's deadline; errors name the
//! item, asset and redacted href ([`RasterError::Refused`],
//! [`RasterError::Deadline`], [`RasterError::Asset`]). The cube, the VRT
//! builder, `load_asset`, the item-level reads and `from_point` all go
//! through here.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use stac_meta::{DataType, Engine, ExtensionMetadata, HrefPolicy, Location};
use stac_signers::{GdalEnv, Signer};

use crate::dataset::{Dataset, OpenOptions};
use crate::error::{RasterError, Result};
use crate::grid::GridSpec;
use crate::limits::{Budget, Limit, Timeouts};

/// Rewrites an href before signing (odc-stac's `patch_url`).
pub type PatchUrl = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// How sources are resolved and opened: signer, `patch_url`, alternates,
/// policy, time bounds and extra GDAL config.
///
/// ```
/// use stac_meta::HrefPolicy;
/// use stac_raster::{SourceOptions, Timeouts};
/// let o = SourceOptions::default()
///     .with_policy(HrefPolicy::for_api_items())
///     .with_timeouts(Timeouts::total(std::time::Duration::from_secs(30)));
/// assert!(!o.policy.allows_local());
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct SourceOptions {
    /// Signs hrefs; its GDAL env is asked per source, for that source's origin.
    pub signer: Option<Arc<dyn Signer>>,
    /// Rewrites each href before signing.
    pub patch_url: Option<PatchUrl>,
    /// Alternate-assets names to prefer, in order.
    pub alternates: Vec<String>,
    /// Which hrefs may be opened (default: items from a local file).
    pub policy: HrefPolicy,
    /// Time bounds on network reads.
    pub timeouts: Timeouts,
    /// Extra GDAL config for every source (the signer's scoped env wins).
    pub env: GdalEnv,
}

impl fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceOptions")
            .field("signer", &self.signer.as_ref().map(|s| s.name().to_owned()))
            .field("patch_url", &self.patch_url.as_ref().map(|_| "<fn>"))
            .field("alternates", &self.alternates)
            .field("policy", &self.policy)
            .field("timeouts", &self.timeouts)
            .field("env", &self.env)
            .finish()
    }
}

impl SourceOptions {
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = Some(signer.into());
        self
    }
    /// Rewrite hrefs before signing.
    pub fn with_patch_url(mut self, f: PatchUrl) -> Self {
        self.patch_url = Some(f);
        self
    }
    /// Prefer these alternate hrefs.
    pub fn with_alternates<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.alternates = names.into_iter().map(Into::into).collect();
        self
    }
    /// Set the href policy.
    pub fn with_policy(mut self, policy: HrefPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Set the time bounds.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
    /// Extra GDAL config.
    pub fn with_env(mut self, env: GdalEnv) -> Self {
        self.env = env;
        self
    }
}

/// The GDAL config installed for remote GDAL-engine (GeoTIFF/COG/JPEG2000)
/// opens, before the signer's env (which wins on conflicts).
pub fn fast_read_preset() -> GdalEnv {
    static PRESET: std::sync::OnceLock<GdalEnv> = std::sync::OnceLock::new();
    PRESET
        .get_or_init(|| {
            GdalEnv::new()
                .with("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
                .with("GDAL_HTTP_MULTIPLEX", "YES")
                // HTTP/2 over https only: "2" also sends `Upgrade: h2c`
                // on every plain-http request.
                .with("GDAL_HTTP_VERSION", "2TLS")
                // What "YES" meant to GDAL 3.6; the documented value.
                .with("GDAL_HTTP_MULTIRANGE", "PARALLEL")
                .with("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES")
                .with(
                    "GDAL_HTTP_USERAGENT",
                    concat!("stac-gdal/", env!("CARGO_PKG_VERSION")),
                )
        })
        .clone()
}

/// One asset of one item, resolved: see the module docs.
///
/// `Display` and `Debug` show the item, the asset and the redacted href;
/// only [`gdal_path`](Self::gdal_path) and [`env`](Self::env) hold
/// credentials, for handing to GDAL.
///
/// ```
/// use serde_json::json;
/// use stac_raster::{RasterSource, SourceOptions};
/// let item = json!({"id": "a", "assets": {"B04": {"href": "https://h/B04.tif?sig=SECRET"}}});
/// let s = RasterSource::resolve(&item, Some("B04"), &SourceOptions::default())?;
/// assert_eq!(s.to_string(), "item 'a', asset 'B04' (https://h/B04.tif?<redacted>)");
/// assert_eq!(s.gdal_path(), "/vsicurl/https://h/B04.tif?sig=SECRET");
/// let refused = RasterSource::resolve(
///     &json!({"id": "b", "assets": {"x": {"href": "PG:host=127.0.0.1"}}}), Some("x"), &SourceOptions::default());
/// assert_eq!(refused.unwrap_err().rule(), Some(stac_meta::HrefRule::ConnectionString));
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
pub struct RasterSource {
    item: String,
    asset: String,
    redacted: String,
    path: String,
    env: GdalEnv,
    engine: Option<Engine>,
    policy: HrefPolicy,
    /// The time every GDAL call on this source may take in total (clones
    /// share it: they are the same source).
    budget: Option<Arc<Budget>>,
}

impl Clone for RasterSource {
    fn clone(&self) -> Self {
        Self {
            item: self.item.clone(),
            asset: self.asset.clone(),
            redacted: self.redacted.clone(),
            path: self.path.clone(),
            env: self.env.clone(),
            engine: self.engine,
            policy: self.policy.clone(),
            budget: self.budget.clone(),
        }
    }
}

impl fmt::Display for RasterSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.location().fmt(f)
    }
}

impl fmt::Debug for RasterSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RasterSource")
            .field("item", &self.item)
            .field("asset", &self.asset)
            .field("href", &self.redacted)
            .field("env", &self.env)
            .field("engine", &self.engine)
            .finish()
    }
}

/// The grid and bands of an opened source.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SourceInfo {
    /// CRS and geotransform (`None` when the file has neither).
    pub grid: Option<GridSpec>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Per band: data type, nodata, scale and offset.
    pub bands: Vec<BandInfo>,
}

/// One band of an opened source.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BandInfo {
    /// The data type.
    pub data_type: DataType,
    /// The nodata value, when declared.
    pub nodata: Option<f64>,
    /// Scale (1 when undeclared).
    pub scale: f64,
    /// Offset (0 when undeclared).
    pub offset: f64,
}

impl RasterSource {
    /// Resolve `item`'s asset `asset_key` (`None`: the item is itself the
    /// asset): see the module docs. Refusals are [`RasterError::Refused`]
    /// naming the item, asset and rule; nothing is opened.
    pub fn resolve(item: &Value, asset_key: Option<&str>, options: &SourceOptions) -> Result<Self> {
        let item_id = stac_meta::item_id(item).to_owned();
        let asset = asset_key.unwrap_or("<asset>").to_owned();
        let alternates: Vec<&str> = options.alternates.iter().map(String::as_str).collect();
        let src = stac_meta::asset_source(item, asset_key, &alternates)?;
        let href = stac_meta::resolve_relative(src.href, stac_meta::self_href(item));
        let href = match &options.patch_url {
            Some(f) => f(&href),
            None => href,
        };
        let context =
            |href: &str, message: String, source: Option<RasterError>| RasterError::Asset {
                at: Location::asset(&item_id, &asset)
                    .with_href(&crate::secrets::redact_message(&stac_meta::redact(href))),
                message,
                source: source.map(Box::new),
            };
        let signed = match &options.signer {
            Some(s) => s
                .sign_href(&href)
                .map_err(|e| context(&href, format!("the signer failed: {e}"), Some(e.into())))?,
            None => href.clone(),
        };
        crate::secrets::remember_href_secrets(&href, &signed);
        let redacted =
            crate::secrets::redact_message(&stac_meta::redact(&signed)).replace('\0', "\\0");
        if let Err(e) = options.policy.check(&signed) {
            return Err(refused(&item_id, &asset, &redacted, e));
        }
        let path = stac_meta::gdal_path(&signed);
        let remote = stac_meta::is_remote(&path);
        let engine = stac_meta::which_engine_with(item, asset_key, &alternates).ok();
        let mut env = if matches!(engine, Some(Engine::Gdal) | None) && remote {
            fast_read_preset()
        } else {
            GdalEnv::new()
        };
        env.merge(crate::limits::security_env());
        env.merge(&options.timeouts.env());
        // Only the caller's env and the signer's can hold credentials.
        env.merge(&options.env);
        crate::secrets::remember_env_secrets(&options.env);
        let mut credentials = crate::limits::carries_http_credentials(&options.env);
        if let Some(s) = &options.signer {
            let scoped = s
                .gdal_env_for(&signed)
                .map_err(|e| context(&signed, format!("the signer failed: {e}"), Some(e.into())))?;
            crate::secrets::remember_env_secrets(&scoped);
            credentials |= crate::limits::carries_http_credentials(&scoped);
            env.merge(&scoped);
        }
        if credentials {
            crate::limits::guard_redirects(&mut env);
        }
        if let Some(s) = &options.signer {
            crate::secrets::remember_secrets(s.secrets().iter().map(|x| x.expose().to_owned()));
        }
        Ok(Self {
            item: item_id,
            asset,
            redacted,
            path,
            env,
            engine,
            policy: options.policy.clone(),
            // Local files need no network bound (and reads skip its cost).
            budget: options
                .timeouts
                .deadline
                .filter(|_| remote)
                .map(Budget::new),
        })
    }

    /// The item id.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// The asset key (`<asset>` for a bare asset).
    pub fn asset(&self) -> &str {
        &self.asset
    }

    /// The resolved, signed href, redacted (for messages).
    pub fn redacted_href(&self) -> &str {
        &self.redacted
    }

    /// The GDAL path. It may hold a credential (a signed query): hand it to
    /// GDAL, never print it.
    pub fn gdal_path(&self) -> &str {
        &self.path
    }

    /// The GDAL env, scoped to this source's origin.
    pub fn env(&self) -> &GdalEnv {
        &self.env
    }

    /// The reader the asset's media type names, when it names one.
    pub fn engine(&self) -> Option<Engine> {
        self.engine
    }

    /// The policy it was judged by.
    pub fn policy(&self) -> &HrefPolicy {
        &self.policy
    }

    /// The STAC metadata of the asset (zero I/O).
    pub fn stac_metadata<'a>(&self, item: &'a Value) -> Result<ExtensionMetadata<'a>> {
        let key = (self.asset != "<asset>").then_some(self.asset.as_str());
        Ok(stac_meta::read_extension_metadata(item, key)?)
    }

    /// Whether the source's time budget ([`Timeouts::deadline`]: the time
    /// its opens and reads may take in total) is spent.
    pub fn expired(&self) -> bool {
        self.budget
            .as_ref()
            .is_some_and(|b| Limit::Budget(b.clone()).passed())
    }

    /// Open the source (the policy's drivers, the scoped env, the deadline).
    pub fn open(&self) -> Result<Dataset> {
        self.open_path(&self.path, &[])
    }

    /// Open another GDAL path derived from this source (a subdataset name
    /// such as `NETCDF:"<path>":var`), with at most these drivers.
    pub fn open_path(&self, path: &str, drivers: &[&str]) -> Result<Dataset> {
        if self.expired() {
            return Err(self.deadline_error());
        }
        let options = OpenOptions::default()
            .with_env(self.env.clone())
            .with_drivers(drivers.iter().copied())
            .with_policy(self.policy.clone())
            .with_budget(self.budget.clone());
        Dataset::open_with(path, &options).map_err(|e| self.error("cannot open", e))
    }

    /// Whether the policy lets this source be opened as a GeoTIFF.
    pub(crate) fn allows_gtiff(&self) -> bool {
        matches!(self.engine, Some(Engine::Gdal) | None)
            && self
                .policy
                .allowed_drivers(&self.path)
                .iter()
                .any(|d| d.eq_ignore_ascii_case("GTiff"))
    }

    /// The time limit of this source's GDAL calls (its budget).
    pub(crate) fn limit(&self) -> Option<Limit> {
        self.budget.clone().map(Limit::Budget)
    }

    /// Open a byte-stage path standing for this source's file
    /// (`crate::stage`): GTiff only, this source's env and budget, errors
    /// naming this source.
    pub(crate) fn open_staged(&self, staged: &str) -> Result<Dataset> {
        if self.expired() {
            return Err(self.deadline_error());
        }
        Dataset::open_staged(staged, &self.redacted, &self.env, self.limit())
            .map_err(|e| self.error("cannot open", e))
    }

    /// Open and describe: grid, size and bands.
    pub fn describe(&self) -> Result<SourceInfo> {
        let ds = self.open()?;
        let grid = match (ds.crs(), ds.geotransform()) {
            (Some(crs), Some(gt)) => Some(GridSpec::from_geotransform(gt, Some(crs))),
            _ => None,
        };
        let nodata = ds.nodata();
        let packing = ds.scale_offset();
        let bands = ds
            .data_types()
            .into_iter()
            .enumerate()
            .map(|(i, data_type)| BandInfo {
                data_type,
                nodata: nodata[i],
                scale: packing[i].0,
                offset: packing[i].1,
            })
            .collect();
        Ok(SourceInfo {
            grid,
            rows: ds.rows(),
            cols: ds.cols(),
            bands,
        })
    }

    /// The typed error for a failure on this source: [`RasterError::Deadline`]
    /// when its deadline passed, [`RasterError::Refused`] for a policy
    /// refusal, else [`RasterError::Asset`] with `what` and the cause.
    pub fn error(&self, what: &str, e: RasterError) -> RasterError {
        if self.expired() {
            return self.deadline_error();
        }
        if let RasterError::Meta(m) = &e
            && m.rule().is_some()
        {
            return refused(&self.item, &self.asset, &self.redacted, (**m).clone());
        }
        if matches!(
            e,
            RasterError::Refused { .. } | RasterError::Deadline { .. }
        ) {
            return e;
        }
        RasterError::Asset {
            at: self.location(),
            message: crate::secrets::redact_message(&format!("{what}: {e}")),
            source: Some(Box::new(e)),
        }
    }

    /// The item, asset and redacted href of this source.
    pub fn location(&self) -> Location {
        Location::asset(&self.item, &self.asset).with_href(&self.redacted)
    }

    fn deadline_error(&self) -> RasterError {
        RasterError::Deadline {
            at: self.location(),
            seconds: self
                .budget
                .as_ref()
                .map_or(0.0, |b| Limit::Budget(b.clone()).seconds()),
        }
    }
}

fn refused(item: &str, asset: &str, redacted: &str, e: stac_meta::MetaError) -> RasterError {
    match e {
        stac_meta::MetaError::HrefNotAllowed { rule, reason, .. } => RasterError::Refused {
            at: Location::asset(item, asset).with_href(redacted),
            rule,
            reason,
        },
        other => other.into(),
    }
}
