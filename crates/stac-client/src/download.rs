//! Asset downloads: signed per origin, concurrent, bounded in time,
//! resumable (`Range` + `If-Range`), verified (`file:size`,
//! `file:checksum`), contained in the destination, all-or-nothing, with a
//! manifest.
//!
//! The invariants, and where each is kept:
//!
//! - **Contained, no link followed** (`dest`): every file and folder is
//!   created relative to an open directory handle, by a plain name from
//!   [`safe_file_name`], with `O_NOFOLLOW`; a link planted at any name the
//!   tool uses is refused (or, under [`Overwrite::Overwrite`], replaced,
//!   never written through).
//! - **Names distinct before any byte** (`plan`, `file_name::UniqueNames`):
//!   in each folder the item JSON, the manifest and the assets get names
//!   distinct ignoring ASCII case; a clash is renamed `<key>-<name>`, then
//!   `<key>2-<name>`, …; Windows device names are prefixed with `_`. Every
//!   existing target is judged by the overwrite policy before the first
//!   request (`decide`).
//! - **Nothing under a final name before it is complete and verified**
//!   (`staging`): bytes go to the staging directory under random names;
//!   the manifest, then every file, is moved into place only when every
//!   asset of the run is staged and verified.
//! - **A resume never mixes two versions** (`attempt_once`): a part is
//!   continued only with `If-Range` carrying the `ETag` (strong) or
//!   `Last-Modified` the server sent first; a changed file (200), a
//!   server that ignores `Range` (200), a 206 with another `ETag` or
//!   another start restarts from byte 0.
//! - **Bounded in time**: connect timeout, stall timeout
//!   ([`DownloadOptions::read_timeout`]), low-speed limit
//!   ([`LowSpeed`]), bounded retries, and an overall deadline per asset
//!   ([`DownloadOptions::timeout`], [`ClientError::TimedOut`]).
//! - **Credentials per origin** (`transport`): a request is signed only
//!   when [`Signer::allows_url`] allows its origin; a redirect to another
//!   origin is followed without credentials unless allowed there too.

use stac_meta::Location;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_RANGE, ETAG, HeaderMap, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE,
};
use serde_json::Value;
use stac_signers::{AnonymousSigner, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::checksum::Multihash;
use crate::dest::{Dir, Kind, random_name};
use crate::error::{ClientError, Result, safe_url, transport_message};
use crate::file_name::{UniqueNames, asset_file_name, safe_file_name};
use crate::manifest::{Entry, MANIFEST_NAME, Manifest};
use crate::retry::RetryPolicy;
use crate::staging::{Part, Staging};
use crate::transport::{Attempt, Limits, Outgoing, Transport};

/// What to do when the target file already exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Overwrite {
    /// Keep the existing file and do not download (unless it fails the
    /// item's `file:size` / `file:checksum`, when verification is on).
    Skip,
    /// Download again and replace it (atomically).
    Overwrite,
    /// Fail with [`ClientError::FileExists`] (default).
    #[default]
    Error,
}

/// Where `s3://bucket/key` hrefs are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    /// The endpoint, e.g. `http://127.0.0.1:8333` or `https://s3.us-west-2.amazonaws.com`.
    pub url: String,
    /// Path-style (`{url}/{bucket}/{key}`) instead of virtual-hosted
    /// (`{scheme}://{bucket}.{host}/{key}`).
    pub path_style: bool,
}

impl S3Endpoint {
    /// A path-style endpoint (S3-compatible servers).
    pub fn path_style(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            path_style: true,
        }
    }

    /// The HTTP URL of an object.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let base = self.url.trim_end_matches('/');
        if self.path_style {
            format!("{base}/{bucket}/{key}")
        } else {
            match base.split_once("://") {
                Some((scheme, host)) => format!("{scheme}://{bucket}.{host}/{key}"),
                None => format!("https://{bucket}.{base}/{key}"),
            }
        }
    }
}

impl Default for S3Endpoint {
    /// AWS, virtual-hosted: `https://{bucket}.s3.amazonaws.com/{key}`.
    fn default() -> Self {
        Self {
            url: "https://s3.amazonaws.com".into(),
            path_style: false,
        }
    }
}

/// Progress of one asset, passed to [`DownloadOptions::progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// The item id.
    pub item: String,
    /// The asset key.
    pub asset: String,
    /// Bytes in the local file so far (including a resumed part).
    pub bytes: u64,
    /// The size when known (`Content-Length`, `Content-Range`).
    pub total: Option<u64>,
    /// The asset is complete (staged and verified, or kept).
    pub done: bool,
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(&DownloadProgress) + Send + Sync>;

/// The low-speed limit of a transfer: when fewer than `bytes_per_second`
/// arrive on average over `window`, the connection is dropped and the
/// transfer resumes (a retry, with `Range`), like curl's
/// `--speed-limit`/`--speed-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowSpeed {
    /// The least average speed.
    pub bytes_per_second: u64,
    /// Over this long.
    pub window: Duration,
}

impl Default for LowSpeed {
    /// 1 KiB/s over 30 s.
    fn default() -> Self {
        Self {
            bytes_per_second: 1024,
            window: Duration::from_secs(30),
        }
    }
}

/// Options of [`download_item`] and [`download_items`].
///
/// ```
/// use std::time::Duration;
/// use stac_client::{DownloadOptions, Overwrite, S3Endpoint};
/// let o = DownloadOptions::default()
///     .with_include(["B04", "B08"])
///     .with_concurrency(8)
///     .with_overwrite(Overwrite::Skip)
///     .with_timeout(Duration::from_secs(600))
///     .with_s3_endpoint(S3Endpoint::path_style("http://127.0.0.1:8333"));
/// assert_eq!(o.concurrency, 8);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Only these asset keys (empty: all). A key no item has is an error.
    pub include: Vec<String>,
    /// Not these asset keys.
    pub exclude: Vec<String>,
    /// Only assets that may be raster bands, by the rule cubes and VRTs use
    /// ([`stac_meta::asset_kind`]: media type, roles, extension): no MTL,
    /// XML or JSON metadata, thumbnails or HDF4 containers. Default `false`.
    pub rasters_only: bool,
    /// Assets downloaded at the same time (at least 1). Default 4.
    pub concurrency: usize,
    /// Existing files (assets and the item JSON alike). Default
    /// [`Overwrite::Error`]. Files the destination's manifest lists with
    /// their size and checksum are this tool's own and are kept.
    pub overwrite: Overwrite,
    /// Applied to each href (`sign_href`) and to each request whose origin
    /// it allows (`sign_request` when [`Signer::allows_url`]): a download
    /// sends a credential only to the origins it is scoped to, never to
    /// every host an item names, and a redirect to another origin drops it.
    pub signer: Arc<dyn Signer>,
    /// Where `s3://` hrefs go. Default AWS virtual-hosted.
    pub s3_endpoint: S3Endpoint,
    /// Continue a part an earlier run left with `Range` + `If-Range`.
    /// Default `true`.
    pub resume: bool,
    /// Check `file:size` and `file:checksum` when present (sha2-256 and
    /// sha2-512 multihashes; other algorithms are not checked). An existing
    /// file under [`Overwrite::Skip`] is checked too and fetched again when it
    /// does not match. Default `true`.
    pub verify: bool,
    /// Write the rewritten item as `<id>.json` in the directory. Default `true`.
    pub write_item_json: bool,
    /// Write [`MANIFEST_NAME`] in the destination. Default `true`.
    pub write_manifest: bool,
    /// Retries of failed requests and stalled transfers (a retry resumes
    /// where it stopped).
    pub retry: RetryPolicy,
    /// Overall deadline per asset: every attempt, resume and backoff
    /// together. A transfer still running then ends with
    /// [`ClientError::TimedOut`] naming item, asset and the redacted URL
    /// (its part is kept, to resume). Default none (the low-speed limit and
    /// the stall timeout still end a transfer that stops progressing).
    pub timeout: Option<Duration>,
    /// Connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Longest silence while a body is read: a stalled connection is dropped
    /// and retried (resuming where it stopped). Default 60 s.
    pub read_timeout: Option<Duration>,
    /// Least average speed ([`LowSpeed`]); `None`: no limit. Default 1 KiB/s over 30 s.
    pub low_speed: Option<LowSpeed>,
    /// The staging directory (partial files, temp files); `None`: the
    /// destination's [`STAGING_DIR_NAME`](crate::STAGING_DIR_NAME). It must
    /// be on the destination's filesystem.
    pub staging_dir: Option<PathBuf>,
    /// Called as bytes arrive and when an asset is done.
    pub progress: Option<ProgressFn>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            rasters_only: false,
            concurrency: 4,
            overwrite: Overwrite::default(),
            signer: Arc::new(AnonymousSigner),
            s3_endpoint: S3Endpoint::default(),
            resume: true,
            verify: true,
            write_item_json: true,
            write_manifest: true,
            retry: RetryPolicy::default(),
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(60)),
            low_speed: Some(LowSpeed::default()),
            staging_dir: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .field("rasters_only", &self.rasters_only)
            .field("concurrency", &self.concurrency)
            .field("overwrite", &self.overwrite)
            .field("signer", &self.signer.name())
            .field("s3_endpoint", &self.s3_endpoint)
            .field("resume", &self.resume)
            .field("verify", &self.verify)
            .field("write_item_json", &self.write_item_json)
            .field("write_manifest", &self.write_manifest)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("low_speed", &self.low_speed)
            .field("staging_dir", &self.staging_dir)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl DownloadOptions {
    /// Defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only these asset keys.
    pub fn with_include<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.include = keys.into_iter().map(Into::into).collect();
        self
    }
    /// Not these asset keys.
    pub fn with_exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.exclude = keys.into_iter().map(Into::into).collect();
        self
    }
    /// Only assets that may be raster bands (see [`rasters_only`](Self::rasters_only)).
    pub fn with_rasters_only(mut self, yes: bool) -> Self {
        self.rasters_only = yes;
        self
    }
    /// Assets at the same time (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// The overwrite policy.
    pub fn with_overwrite(mut self, o: Overwrite) -> Self {
        self.overwrite = o;
        self
    }
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = signer.into();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "`with_signer` takes an `Arc<dyn Signer>` too")]
    pub fn with_shared_signer(self, signer: Arc<dyn Signer>) -> Self {
        self.with_signer(signer)
    }
    /// Where `s3://` hrefs go.
    pub fn with_s3_endpoint(mut self, e: S3Endpoint) -> Self {
        self.s3_endpoint = e;
        self
    }
    /// Resume partial files.
    pub fn with_resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }
    /// Verify size and checksum.
    pub fn with_verify(mut self, on: bool) -> Self {
        self.verify = on;
        self
    }
    /// Write `<id>.json`.
    pub fn with_write_item_json(mut self, on: bool) -> Self {
        self.write_item_json = on;
        self
    }
    /// Write the manifest.
    pub fn with_write_manifest(mut self, on: bool) -> Self {
        self.write_manifest = on;
        self
    }
    /// The retry policy.
    pub fn with_retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
    /// The overall deadline per asset ([`timeout`](Self::timeout)).
    pub fn with_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.timeout = t.into();
        self
    }
    /// The connect timeout.
    pub fn with_connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// The stall timeout ([`read_timeout`](Self::read_timeout)).
    pub fn with_read_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = t.into();
        self
    }
    /// The low-speed limit ([`low_speed`](Self::low_speed)).
    pub fn with_low_speed(mut self, l: impl Into<Option<LowSpeed>>) -> Self {
        self.low_speed = l.into();
        self
    }
    /// The staging directory ([`staging_dir`](Self::staging_dir)).
    pub fn with_staging_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.staging_dir = Some(dir.into());
        self
    }
    /// A progress callback.
    pub fn with_progress(mut self, f: impl Fn(&DownloadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn transport(&self) -> Result<Transport> {
        let limits = Limits {
            // The overall deadline is ours (across attempts), not reqwest's.
            timeout: None,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            max_body: u64::MAX,
        };
        Transport::new(
            self.signer.clone(),
            self.retry.clone(),
            &limits,
            concat!("stac-gdal/", env!("CARGO_PKG_VERSION")),
            &[],
            None,
        )
    }

    fn wanted(&self, key: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|k| k == key))
            && !self.exclude.iter().any(|k| k == key)
    }
}

/// One asset to fetch.
#[derive(Debug)]
struct Job {
    item: String,
    asset: String,
    url: Url,
    /// The file name in its item's directory.
    name: String,
    /// The path relative to the destination (`/`-separated), for the manifest.
    rel: String,
    /// sha2-256 of the URL and `rel`: what a staged part is for.
    key: String,
    size: Option<u64>,
    checksum: Option<Multihash>,
}

impl Job {
    /// The item, asset and (redacted) URL of this job.
    fn location(&self) -> Location {
        Location::asset(&self.item, &self.asset).with_href(self.url.as_str())
    }

    fn fail(&self, reason: impl Into<String>) -> ClientError {
        ClientError::Download {
            at: self.location(),
            reason: reason.into(),
        }
    }
}

/// An item to download: its rewritten copy and its jobs.
#[derive(Debug)]
struct Plan {
    item: Value,
    id: String,
    /// The item's folder in the destination (`None`: the destination itself).
    sub: Option<String>,
    json_name: String,
    jobs: Vec<Job>,
}

impl Plan {
    fn rel(&self, name: &str) -> String {
        match &self.sub {
            Some(s) => format!("{s}/{name}"),
            None => name.to_owned(),
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sha256_hex(text: &str) -> String {
    let mut h = crate::checksum::sha256_hasher();
    h.update(text.as_bytes());
    h.finish().to_hex()
}

fn plan(item: &Value, root: &Path, sub: Option<String>, options: &DownloadOptions) -> Result<Plan> {
    let id = stac_meta::item_id(item).to_owned();
    let fail = |asset: &str, reason: String| ClientError::Download {
        at: Location::asset(&id, asset),
        reason,
    };
    let assets = item
        .get("assets")
        .and_then(Value::as_object)
        .ok_or_else(|| fail("-", "the item has no `assets` object".into()))?;
    let dir = match &sub {
        Some(s) => root.join(s),
        None => root.to_owned(),
    };
    let base = stac_meta::self_href(item);
    let mut out = item.clone();
    // Names of this folder, distinct ignoring case: the item JSON first,
    // the manifest in the destination itself, then the assets in order.
    let mut names = UniqueNames::default();
    if sub.is_none() {
        names.reserve(MANIFEST_NAME);
    }
    let json_name = names.claim(
        &format!(
            "{}.json",
            safe_file_name(&id).unwrap_or_else(|| "item".to_owned())
        ),
        "item",
    );
    let mut jobs = Vec::new();
    for (key, asset) in assets {
        if !options.wanted(key) {
            continue;
        }
        if options.rasters_only
            && !stac_meta::asset_kind(
                stac_meta::media_type(asset),
                &stac_meta::asset_roles(asset),
                asset.get("href").and_then(Value::as_str).unwrap_or(""),
            )
            .may_be_raster()
        {
            continue;
        }
        let href = asset
            .get("href")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(key, "no href".into()))?;
        let href = stac_meta::resolve_relative(href, base);
        let signed = options
            .signer
            .sign_href(&href)
            .map_err(|source| ClientError::Signer {
                url: safe_url(&href),
                source: Box::new(source),
            })?;
        let http_url = match stac_meta::scheme(&signed).as_deref() {
            Some("http" | "https") => signed.clone(),
            Some("s3") => {
                let rest = &signed["s3://".len()..];
                let (bucket, object) = rest
                    .split_once('/')
                    .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                    .ok_or_else(|| fail(key, format!("bad S3 href {}", safe_url(&signed))))?;
                options.s3_endpoint.object_url(bucket, object)
            }
            _ => {
                return Err(fail(
                    key,
                    format!(
                        "unsupported href {} (http, https, s3 only)",
                        safe_url(&href)
                    ),
                ));
            }
        };
        let url = Url::parse(&http_url).map_err(|e| ClientError::InvalidUrl {
            url: safe_url(&http_url),
            reason: e.to_string(),
        })?;
        let name = names.claim(&asset_file_name(&href, key), key);
        let path = dir.join(&name);
        let size = asset.get("file:size").and_then(Value::as_u64);
        let checksum = match asset.get("file:checksum").and_then(Value::as_str) {
            Some(text) => match Multihash::parse(text) {
                Some(m) => Some(m),
                // Another algorithm: we cannot check it; a malformed one is an error.
                None if text.len() > 4 && text.starts_with("12") => {
                    return Err(fail(key, format!("malformed file:checksum {text:?}")));
                }
                None => None,
            },
            None => None,
        };
        if let Some(a) = out
            .get_mut("assets")
            .and_then(|a| a.get_mut(key))
            .and_then(Value::as_object_mut)
        {
            a.insert(
                "href".into(),
                Value::String(path.to_string_lossy().into_owned()),
            );
        }
        let rel = match &sub {
            Some(s) => format!("{s}/{name}"),
            None => name.clone(),
        };
        jobs.push(Job {
            item: id.clone(),
            asset: key.clone(),
            key: sha256_hex(&format!("{}\n{rel}", url.as_str())),
            url,
            name,
            rel,
            size,
            checksum,
        });
    }
    Ok(Plan {
        item: out,
        id,
        sub,
        json_name,
        jobs,
    })
}

/// `--include` keys that no item has: an error naming them (and some keys
/// that do exist), before anything is fetched.
fn check_include(items: &[&Value], options: &DownloadOptions) -> Result<()> {
    if options.include.is_empty() {
        return Ok(());
    }
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if let Some(a) = item.get("assets").and_then(Value::as_object) {
            for k in a.keys() {
                if !seen.contains(&k.as_str()) {
                    seen.push(k);
                }
            }
        }
    }
    let missing: Vec<&str> = options
        .include
        .iter()
        .map(String::as_str)
        .filter(|k| !seen.contains(k))
        .collect();
    if missing.is_empty() {
        if options.rasters_only {
            // An included key that is never a raster band would download
            // nothing: say so, by the same rule as the filter.
            for key in &options.include {
                let mut not_raster = None;
                let raster_somewhere = items.iter().any(|item| {
                    let Some(a) = item.get("assets").and_then(|a| a.get(key)) else {
                        return false;
                    };
                    match stac_meta::asset_kind(
                        stac_meta::media_type(a),
                        &stac_meta::asset_roles(a),
                        a.get("href").and_then(Value::as_str).unwrap_or(""),
                    ) {
                        stac_meta::AssetKind::NotRaster(what) => {
                            not_raster = Some(what);
                            false
                        }
                        _ => true,
                    }
                });
                if !raster_somewhere && let Some(what) = not_raster {
                    return Err(ClientError::InvalidParameter {
                        parameter: "include",
                        reason: format!(
                            "asset {key} is not a raster band ({what}) and only raster bands \
                             were asked for"
                        ),
                    });
                }
            }
        }
        return Ok(());
    }
    let shown: Vec<&str> = seen.iter().copied().take(20).collect();
    Err(ClientError::InvalidParameter {
        parameter: "include",
        reason: format!(
            "no item has the asset key(s) {} (keys present: {}{})",
            missing.join(", "),
            shown.join(", "),
            if seen.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        ),
    })
}

fn report(options: &DownloadOptions, job: &Job, bytes: u64, total: Option<u64>, done: bool) {
    if let Some(f) = &options.progress {
        f(&DownloadProgress {
            item: job.item.clone(),
            asset: job.asset.clone(),
            bytes,
            total,
            done,
        });
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL); `bytes */TOTAL` → (TOTAL, TOTAL).
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total: Option<u64> = total.trim().parse().ok();
    if range.trim() == "*" {
        return total.map(|t| (t, Some(t)));
    }
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total))
}

/// A strong `ETag` (weak ones cannot validate a range) and `Last-Modified`.
fn validators(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && v.len() <= 512)
    };
    let etag = get(ETAG).filter(|e| !e.starts_with("W/"));
    (etag, get(LAST_MODIFIED))
}

/// What a staged asset turned out to be.
#[derive(Debug)]
struct Staged {
    part: Part,
    size: u64,
    sha256: String,
}

/// Where one attempt leaves the transfer.
enum Step {
    Done(u64),
    Retry(String, Option<HeaderMap>),
    /// Start over from byte 0 (the file changed, or the part is unusable);
    /// counts as an attempt.
    Restart(String),
}

/// Fetch `job` into its staged part (resuming one an earlier run left),
/// with the job's retries, stall and low-speed limits.
async fn fetch(
    transport: &Transport,
    staging: &Staging,
    job: &Job,
    options: &DownloadOptions,
) -> Result<Staged> {
    let redacted = safe_url(job.url.as_str());
    let mut part = staging.claim(&job.key, options.resume);
    let mut attempt = 0u32;
    loop {
        let step = attempt_once(transport, staging, job, &mut part, options).await?;
        let (message, headers) = match step {
            Step::Done(total) => {
                report(options, job, total, Some(total), false);
                return finish_part(staging, job, part, options).await;
            }
            Step::Retry(m, h) => (m, h),
            Step::Restart(m) => {
                staging.remove(&part);
                part = staging.claim(&job.key, false);
                (m, None)
            }
        };
        if attempt >= options.retry.max_retries {
            return Err(ClientError::Transport {
                url: redacted,
                page: None,
                attempts: attempt + 1,
                message: format!("{}: {message}", Location::asset(&job.item, &job.asset)),
            });
        }
        tokio::time::sleep(options.retry.wait(attempt, headers.as_ref())).await;
        attempt += 1;
    }
}

/// One request for the rest of the part.
async fn attempt_once(
    transport: &Transport,
    staging: &Staging,
    job: &Job,
    part: &mut Part,
    options: &DownloadOptions,
) -> Result<Step> {
    let redacted = safe_url(job.url.as_str());
    let part_name = part.part_name();
    let part_path = staging.dir.path().join(&part_name);
    // The bytes so far: only for a part whose server validator we know
    // (else the remote file may have changed, and the bytes would mix).
    let mut existing = None;
    if part.meta.validator().is_some() {
        match staging.dir.open_append(&part_name) {
            Ok((f, len)) if len > 0 => existing = Some((f, len)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Ok(Step::Restart(format!("staged part unusable: {e}"))),
        }
    }
    let offset = existing.as_ref().map_or(0, |(_, len)| *len);
    let mut extra = HeaderMap::new();
    if offset > 0 {
        if let (Ok(range), Some(Ok(validator))) = (
            HeaderValue::from_str(&format!("bytes={offset}-")),
            part.meta.validator().map(HeaderValue::from_str),
        ) {
            extra.insert(RANGE, range);
            extra.insert(IF_RANGE, validator);
        }
    }
    let resp = match transport
        .attempt(&Outgoing::get(job.url.clone()), &extra)
        .await?
    {
        Attempt::Retry {
            message, headers, ..
        } => return Ok(Step::Retry(message, headers)),
        Attempt::Response(resp, _) => resp,
    };
    let status = resp.status();
    if status == StatusCode::RANGE_NOT_SATISFIABLE && offset > 0 {
        // Unchanged (If-Range held) and nothing past our end: complete when
        // the server's length is ours.
        return Ok(match content_range(resp.headers()) {
            Some((_, Some(total))) if total == offset => Step::Done(offset),
            _ => Step::Restart(format!("{redacted}: HTTP 416 for a resume at {offset}")),
        });
    }
    if !status.is_success() {
        return Err(ClientError::Status {
            url: redacted,
            page: None,
            status: status.as_u16(),
            body: Location::asset(&job.item, &job.asset).to_string(),
        });
    }
    let (etag, last_modified) = validators(resp.headers());
    let range = content_range(resp.headers());
    let append = offset > 0 && status == StatusCode::PARTIAL_CONTENT;
    if append {
        // The range must start where the part ends, and be of the same file.
        let same_start = range.is_some_and(|(start, _)| start == offset);
        let same_file = match (&part.meta.etag, &etag) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        };
        if !same_start || !same_file {
            return Ok(Step::Restart(format!(
                "{redacted}: the partial response does not continue the staged part"
            )));
        }
    } else if status == StatusCode::PARTIAL_CONTENT {
        return Err(job.fail(format!(
            "{redacted}: unexpected partial response to a request without Range"
        )));
    }
    let total = match range {
        Some((_, t)) if append => t,
        _ => resp.content_length(),
    };
    let file = if append {
        existing.map(|(f, _)| f)
    } else {
        // The whole file follows (first request, the remote file changed,
        // or the server ignores Range): a fresh part, and the validators
        // of this response, recorded before any body byte.
        drop(existing);
        let _ = staging.dir.remove_file(&part_name);
        part.meta.etag = etag;
        part.meta.last_modified = last_modified;
        staging.write_meta(part)?;
        Some(
            staging
                .dir
                .create_new(&part_name, 0o600)
                .map_err(io_err(&part_path))?,
        )
    };
    let Some(file) = file else {
        return Ok(Step::Restart("staged part vanished".into()));
    };
    let start = if append { offset } else { 0 };
    let (bytes, cut) = stream_body(resp, file, &part_path, job, start, total, options).await?;
    Ok(match cut {
        None => Step::Done(bytes),
        Some(message) => Step::Retry(message, None),
    })
}

/// Append the response body to the staged part, reporting progress and
/// enforcing the low-speed limit; the part is flushed and synced before
/// returning. Returns the part's length and, when the body was cut short
/// (transport error, too slow), why.
async fn stream_body(
    mut resp: reqwest::Response,
    file: std::fs::File,
    part_path: &Path,
    job: &Job,
    start: u64,
    total: Option<u64>,
    options: &DownloadOptions,
) -> Result<(u64, Option<String>)> {
    let mut file = tokio::fs::File::from_std(file);
    let mut bytes = start;
    report(options, job, bytes, total, false);
    let mut window_start = Instant::now();
    let mut window_bytes = 0u64;
    let cut = loop {
        let next = match options.low_speed {
            Some(ls) => {
                let left = ls.window.saturating_sub(window_start.elapsed());
                tokio::time::timeout(left, resp.chunk()).await.ok()
            }
            None => Some(resp.chunk().await),
        };
        match next {
            Some(Ok(Some(chunk))) => {
                file.write_all(&chunk).await.map_err(io_err(part_path))?;
                bytes += chunk.len() as u64;
                window_bytes += chunk.len() as u64;
                report(options, job, bytes, total, false);
            }
            Some(Ok(None)) => break None,
            Some(Err(e)) => break Some(transport_message(&e)),
            None => {}
        }
        if let Some(ls) = options.low_speed {
            let elapsed = window_start.elapsed();
            if elapsed >= ls.window {
                let need = ls
                    .bytes_per_second
                    .saturating_mul(ls.window.as_secs().max(1));
                if window_bytes < need {
                    break Some(format!(
                        "too slow: {window_bytes} bytes in {:.0} s (limit {} bytes/s)",
                        elapsed.as_secs_f64(),
                        ls.bytes_per_second
                    ));
                }
                window_start = Instant::now();
                window_bytes = 0;
            }
        }
    };
    file.flush().await.map_err(io_err(part_path))?;
    file.sync_all().await.map_err(io_err(part_path))?;
    Ok((bytes, cut))
}

/// Check a complete part against `file:size` / `file:checksum` (a bad part
/// is removed) and hash it for the manifest.
async fn finish_part(
    staging: &Staging,
    job: &Job,
    part: Part,
    options: &DownloadOptions,
) -> Result<Staged> {
    let name = part.part_name();
    let path = staging.dir.path().join(&name);
    let file = staging.dir.open_read(&name).map_err(io_err(&path))?;
    let (size, sha256, checked) = hash_file(file, &path, job.checksum.as_ref()).await?;
    if options.verify {
        if let Err(e) = compare(job, size, checked.as_ref()) {
            staging.remove(&part);
            return Err(e);
        }
    }
    report(options, job, size, Some(size), true);
    Ok(Staged { part, size, sha256 })
}

/// Size, sha2-256 multihash and (when `want` is another algorithm) that
/// digest, in one read.
async fn hash_file(
    file: std::fs::File,
    path: &Path,
    want: Option<&Multihash>,
) -> Result<(u64, String, Option<Multihash>)> {
    let mut file = tokio::fs::File::from_std(file);
    let mut sha = crate::checksum::sha256_hasher();
    let mut other = want
        .filter(|m| m.algorithm() != "sha2-256")
        .map(Multihash::hasher);
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).await.map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        sha.update(&buf[..n]);
        if let Some(h) = &mut other {
            h.update(&buf[..n]);
        }
    }
    let sha = sha.finish();
    let checked = match (want, other) {
        (Some(_), Some(h)) => Some(h.finish()),
        (Some(_), None) => Some(sha.clone()),
        (None, _) => None,
    };
    Ok((size, sha.to_hex(), checked))
}

/// `file:size` and `file:checksum` against what was read.
fn compare(job: &Job, size: u64, got: Option<&Multihash>) -> Result<()> {
    if let Some(want) = job.size {
        if size != want {
            return Err(ClientError::SizeMismatch {
                at: job.location(),
                expected: want,
                actual: size,
            });
        }
    }
    if let (Some(want), Some(got)) = (&job.checksum, got) {
        if got != want {
            return Err(ClientError::ChecksumMismatch {
                at: job.location(),
                expected: want.to_hex(),
                actual: got.to_hex(),
            });
        }
    }
    Ok(())
}

/// What to do with one target name, decided before anything is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Write it; `replace`: over an existing entry.
    Write { replace: bool },
    /// Keep what is there (size, checksum when read).
    Keep { size: u64, checksum: Option<String> },
}

/// The action for `name` in `dir`, under the policy; `job` for an asset
/// (None: the item JSON).
async fn decide(
    dir: &Dir,
    name: &str,
    rel: &str,
    job: Option<&Job>,
    previous: &Manifest,
    options: &DownloadOptions,
) -> Result<Action> {
    let path = dir.path().join(name);
    let kind = dir.kind(name).map_err(io_err(&path))?;
    let size = match kind {
        None => return Ok(Action::Write { replace: false }),
        Some(Kind::Dir | Kind::Other) => {
            return Err(ClientError::Io {
                path,
                source: std::io::Error::other("exists and is not a regular file"),
            });
        }
        Some(Kind::Link) => {
            return match options.overwrite {
                // The link itself is replaced; nothing is written through it.
                Overwrite::Overwrite => Ok(Action::Write { replace: true }),
                _ => Err(ClientError::Io {
                    path,
                    source: std::io::Error::other(
                        "is a symbolic link: not followed, and not replaced without \
                         --overwrite overwrite",
                    ),
                }),
            };
        }
        Some(Kind::File(size)) => size,
    };
    // Our own file, from a run interrupted while moving its files into place?
    if let Some(entry) = previous
        .0
        .get(rel)
        .filter(|e| !previous.1 && e.size == size)
    {
        if let Some(want) = &entry.checksum {
            let file = dir.open_read(name).map_err(io_err(&path))?;
            let (_, sha, _) = hash_file(file, &path, None).await?;
            if &sha == want {
                return Ok(Action::Keep {
                    size,
                    checksum: Some(sha),
                });
            }
        }
    }
    match options.overwrite {
        Overwrite::Error => Err(ClientError::FileExists { path }),
        Overwrite::Overwrite => Ok(Action::Write { replace: true }),
        Overwrite::Skip => {
            let Some(job) =
                job.filter(|j| options.verify && (j.size.is_some() || j.checksum.is_some()))
            else {
                return Ok(Action::Keep {
                    size,
                    checksum: None,
                });
            };
            let file = dir.open_read(name).map_err(io_err(&path))?;
            let (size, sha, checked) = hash_file(file, &path, job.checksum.as_ref()).await?;
            Ok(match compare(job, size, checked.as_ref()) {
                Ok(()) => Action::Keep {
                    size,
                    checksum: Some(sha),
                },
                Err(_) => Action::Write { replace: true },
            })
        }
    }
}

/// Download every plan into `root`: preflight (names, existing files) →
/// fetch into staging → manifest → move into place → clean staging.
async fn run_plans(plans: &[Plan], root_path: &Path, options: &DownloadOptions) -> Result<()> {
    let transport = options.transport()?;
    let root = Dir::open_root(root_path).map_err(io_err(root_path))?;
    let staging = Staging::open(&root, options.staging_dir.as_deref())?;
    match run_staged(plans, root_path, &root, &staging, &transport, options).await {
        Ok(()) => {
            staging.finish(&root);
            Ok(())
        }
        Err(e) => {
            staging.release(&root);
            Err(e)
        }
    }
}

async fn run_staged(
    plans: &[Plan],
    root_path: &Path,
    root: &Dir,
    staging: &Staging,
    transport: &Transport,
    options: &DownloadOptions,
) -> Result<()> {
    let previous = previous_manifest(root);
    // Item folders, opened without following links.
    let mut subdirs: Vec<Option<Dir>> = Vec::with_capacity(plans.len());
    for p in plans {
        subdirs.push(match &p.sub {
            Some(s) => Some(root.subdir(s, 0o755).map_err(io_err(&root_path.join(s)))?),
            None => None,
        });
    }
    let dir_of = |i: usize| subdirs[i].as_ref().unwrap_or(root);
    let (actions, json_actions) = preflight(plans, &dir_of, &previous, options).await?;
    let staged = fetch_all(plans, &actions, transport, staging, options).await?;
    // Kept files still report as done.
    for (p, a) in plans.iter().zip(&actions) {
        for (job, action) in p.jobs.iter().zip(a) {
            if let Action::Keep { size, .. } = action {
                report(options, job, *size, Some(*size), true);
            }
        }
    }
    let json_temps = stage_item_jsons(plans, &json_actions, staging, options)?;
    let manifest = if options.write_manifest {
        let mut manifest = merged_manifest(&previous, plans, &actions, &staged, &json_temps);
        manifest.1 = false;
        write_manifest(staging, root, &manifest)?;
        Some(manifest)
    } else {
        None
    };
    // Into place.
    for (i, (p, a)) in plans.iter().zip(&actions).enumerate() {
        for (job, action) in p.jobs.iter().zip(a) {
            if let (Action::Write { replace }, Some(s)) = (action, staged.get(&job.key)) {
                place(staging, &s.part.part_name(), dir_of(i), &job.name, *replace)?;
                staging.remove(&s.part);
            }
        }
        if let (Some(Action::Write { replace }), Some((tmp, _, _))) =
            (&json_actions[i], &json_temps[i])
        {
            place(staging, tmp, dir_of(i), &p.json_name, *replace)?;
        }
    }
    if let Some(mut m) = manifest {
        m.1 = true;
        write_manifest(staging, root, &m)?;
    }
    Ok(())
}

/// The manifest an earlier run left in the destination (at most 64 MiB
/// read), or an empty one.
fn previous_manifest(root: &Dir) -> Manifest {
    match root.open_read(MANIFEST_NAME) {
        Ok(f) => {
            let mut bytes = Vec::new();
            let _ = std::io::Read::take(f, 64 << 20).read_to_end(&mut bytes);
            Manifest::parse(&bytes)
        }
        Err(_) => Manifest::default(),
    }
}

/// Every item's asset actions and item-JSON action, decided before any
/// byte is fetched.
async fn preflight<'d>(
    plans: &[Plan],
    dir_of: &impl Fn(usize) -> &'d Dir,
    previous: &Manifest,
    options: &DownloadOptions,
) -> Result<(Vec<Vec<Action>>, Vec<Option<Action>>)> {
    let mut actions: Vec<Vec<Action>> = Vec::with_capacity(plans.len());
    let mut json_actions: Vec<Option<Action>> = Vec::with_capacity(plans.len());
    for (i, p) in plans.iter().enumerate() {
        let mut a = Vec::with_capacity(p.jobs.len());
        for job in &p.jobs {
            a.push(decide(dir_of(i), &job.name, &job.rel, Some(job), previous, options).await?);
        }
        actions.push(a);
        json_actions.push(if options.write_item_json {
            let rel = p.rel(&p.json_name);
            Some(decide(dir_of(i), &p.json_name, &rel, None, previous, options).await?)
        } else {
            None
        });
    }
    Ok((actions, json_actions))
}

/// Fetch every asset to be written into the staging folder,
/// `options.concurrency` at a time, each within `options.timeout`.
async fn fetch_all(
    plans: &[Plan],
    actions: &[Vec<Action>],
    transport: &Transport,
    staging: &Staging,
    options: &DownloadOptions,
) -> Result<std::collections::HashMap<String, Staged>> {
    let deadline = options.timeout;
    let work = plans
        .iter()
        .zip(actions)
        .flat_map(|(p, a)| p.jobs.iter().zip(a))
        .filter(|(_, a)| matches!(a, Action::Write { .. }))
        .map(|(job, _)| async move {
            let fut = fetch(transport, staging, job, options);
            let staged = match deadline {
                Some(limit) => tokio::time::timeout(limit, fut).await.map_err(|_| {
                    ClientError::TimedOut {
                        item: Some(job.item.clone()),
                        asset: Some(job.asset.clone()),
                        url: safe_url(job.url.as_str()),
                        page: None,
                        limit,
                    }
                })??,
                None => fut.await?,
            };
            Ok::<_, ClientError>((job.key.clone(), staged))
        });
    futures::stream::iter(work)
        .buffer_unordered(options.concurrency.max(1))
        .try_collect()
        .await
}

/// The item JSONs to be written, staged: (temp name, size, sha256) per
/// item, `None` where the item's JSON is kept or not written.
fn stage_item_jsons(
    plans: &[Plan],
    json_actions: &[Option<Action>],
    staging: &Staging,
    options: &DownloadOptions,
) -> Result<Vec<Option<(String, u64, String)>>> {
    let mut json_temps = Vec::with_capacity(plans.len());
    for (p, action) in plans.iter().zip(json_actions) {
        if let Some(Action::Write { .. }) = action {
            // Redacted by value: no secret of the signer in a written file,
            // whatever the item carried.
            let pretty = serde_json::to_string_pretty(&p.item).unwrap_or_default();
            let mut text = stac_signers::Redactor::of(options.signer.as_ref())
                .redact(&pretty)
                .into_owned()
                .into_bytes();
            text.push(b'\n');
            let tmp = random_name(".tmp");
            staging.write_file(&tmp, &text)?;
            let mut h = crate::checksum::sha256_hasher();
            h.update(&text);
            json_temps.push(Some((tmp, text.len() as u64, h.finish().to_hex())));
        } else {
            json_temps.push(None);
        }
    }
    Ok(json_temps)
}

/// The manifest after this run: earlier entries for other paths, and this
/// run's files (kept or written).
fn merged_manifest(
    previous: &Manifest,
    plans: &[Plan],
    actions: &[Vec<Action>],
    staged: &std::collections::HashMap<String, Staged>,
    json_temps: &[Option<(String, u64, String)>],
) -> Manifest {
    let mut manifest = previous.clone();
    for ((p, a), json) in plans.iter().zip(actions).zip(json_temps) {
        for (job, action) in p.jobs.iter().zip(a) {
            let (size, checksum) = match action {
                Action::Keep { size, checksum } => (*size, checksum.clone()),
                Action::Write { .. } => match staged.get(&job.key) {
                    Some(s) => (s.size, Some(s.sha256.clone())),
                    None => continue,
                },
            };
            manifest.0.insert(
                job.rel.clone(),
                Entry {
                    path: job.rel.clone(),
                    item: p.id.clone(),
                    asset: Some(job.asset.clone()),
                    size,
                    checksum,
                },
            );
        }
        if let Some((_, size, sha)) = json {
            let rel = p.rel(&p.json_name);
            manifest.0.insert(
                rel.clone(),
                Entry {
                    path: rel,
                    item: p.id.clone(),
                    asset: None,
                    size: *size,
                    checksum: Some(sha.clone()),
                },
            );
        }
    }
    manifest
}

/// Rename a staged file into its item folder (`replace`: over an existing
/// file), with the errors a user can act on.
fn place(staging: &Staging, from: &str, dir: &Dir, to: &str, replace: bool) -> Result<()> {
    staging
        .dir
        .rename(from, dir, to, replace)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => ClientError::FileExists {
                path: dir.path().join(to),
            },
            _ if e.raw_os_error() == Some(18) => ClientError::Io {
                path: dir.path().join(to),
                source: std::io::Error::other(
                    "the staging directory is on another filesystem than the destination",
                ),
            },
            _ => ClientError::Io {
                path: dir.path().join(to),
                source: e,
            },
        })
}

/// Write the manifest into the destination (staged, then moved over it).
fn write_manifest(staging: &Staging, root: &Dir, manifest: &Manifest) -> Result<()> {
    let tmp = random_name(".tmp");
    staging.write_file(&tmp, &manifest.to_bytes())?;
    staging
        .dir
        .rename(&tmp, root, MANIFEST_NAME, true)
        .map_err(io_err(&root.path().join(MANIFEST_NAME)))
}

/// Download an item's assets into `dir` (async); returns the item with the
/// downloaded assets' hrefs rewritten to the local files (absolute paths
/// when `dir` is absolute) and writes it as `<id>.json` in `dir`, with a
/// [`MANIFEST_NAME`] listing every file written.
///
/// Every file is created inside `dir` relative to an open directory handle,
/// never through a symbolic link; bytes go to a staging directory under
/// names nobody can guess and are moved into place only when every asset
/// is complete and verified. Names are checked for collisions (ignoring
/// case) before any byte is fetched: see [`safe_file_name`] and the
/// renaming rule of the module docs.
pub async fn download_item_async(
    item: &Value,
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Value> {
    check_include(&[item], options)?;
    let plans = [plan(item, dir, None, options)?];
    run_plans(&plans, dir, options).await?;
    let [p] = plans;
    Ok(p.item)
}

/// Download several items (async), each into `dir/<id>/` (folder names
/// distinct ignoring case), sharing one concurrency limit; returns the
/// rewritten items.
pub async fn download_items_async(
    items: &[Value],
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Vec<Value>> {
    check_include(&items.iter().collect::<Vec<_>>(), options)?;
    let mut plans = Vec::with_capacity(items.len());
    let mut folders = UniqueNames::default();
    folders.reserve(MANIFEST_NAME);
    folders.reserve(crate::staging::STAGING_DIR_NAME);
    for item in items {
        let name = safe_file_name(stac_meta::item_id(item)).unwrap_or_else(|| "item".into());
        let sub = folders.claim(&name, "item");
        plans.push(plan(item, dir, Some(sub), options)?);
    }
    run_plans(&plans, dir, options).await?;
    Ok(plans.into_iter().map(|p| p.item).collect())
}

/// Download an item's assets into `dir` (blocking). See [`download_item_async`].
///
/// ```no_run
/// use stac_client::{DownloadOptions, download_item};
/// let item: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("item.json")?)?;
/// let local = download_item(&item, std::path::Path::new("out"), &DownloadOptions::default().with_include(["B04"]))?;
/// println!("{}", local["assets"]["B04"]["href"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn download_item(item: &Value, dir: &Path, options: &DownloadOptions) -> Result<Value> {
    crate::blocking::runtime()?.block_on(download_item_async(item, dir, options))
}

/// Download several items (blocking), each into `dir/<id>/`. See
/// [`download_items_async`].
pub fn download_items(
    items: &[Value],
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Vec<Value>> {
    crate::blocking::runtime()?.block_on(download_items_async(items, dir, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plan_contains_names_and_maps_s3() {
        let item = json!({"id": "../../evil", "assets": {
            "a": {"href": "http://h/x/%2e%2e", "file:checksum": "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            "../../b": {"href": "http://h/x/"},
            "c": {"href": "s3://bucket/dir/c.tif"},
            "d": {"href": "http://h/other/c.tif"},
            "e": {"href": "/etc/passwd"}
        }});
        let dir = Path::new("/tmp/out");
        let o = DownloadOptions::default()
            .with_exclude(["e"])
            .with_s3_endpoint(S3Endpoint::path_style("http://127.0.0.1:9"));
        let p = plan(&item, dir, None, &o).unwrap();
        let names: Vec<_> = p.jobs.iter().map(|j| dir.join(&j.name)).collect();
        assert_eq!(
            names,
            vec![
                dir.join("a"),
                dir.join("b"),
                dir.join("c.tif"),
                dir.join("d-c.tif")
            ]
        );
        assert_eq!(
            p.jobs[2].url.as_str(),
            "http://127.0.0.1:9/bucket/dir/c.tif"
        );
        assert_eq!(p.json_name, "evil.json");
        assert_eq!(p.item["assets"]["c"]["href"], json!("/tmp/out/c.tif"));
        assert_eq!(p.item["assets"]["e"]["href"], json!("/etc/passwd"));
        let err = plan(
            &item,
            dir,
            None,
            &DownloadOptions::default().with_include(["e"]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unsupported href"), "{err}");
    }

    #[test]
    fn names_never_collide_ignoring_case_with_each_other_or_the_item_json() {
        let item = json!({"id": "Scene", "assets": {
            "red": {"href": "http://h/A.TIF"},
            "green": {"href": "http://h/a.tif"},
            "meta": {"href": "http://h/scene.json"},
            "man": {"href": "http://h/STAC-GDAL-MANIFEST.JSON"},
            "dev": {"href": "http://h/aux.tif"}
        }});
        let p = plan(&item, Path::new("/o"), None, &DownloadOptions::default()).unwrap();
        let names: Vec<&str> = p.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(p.json_name, "Scene.json");
        assert_eq!(
            names,
            [
                "A.TIF",
                "green-a.tif",
                "meta-scene.json",
                "man-STAC-GDAL-MANIFEST.JSON",
                "_aux.tif"
            ]
        );
        // An include key no item has is an error, before anything else.
        let e = check_include(&[&item], &DownloadOptions::default().with_include(["NOPE"]))
            .unwrap_err();
        assert!(e.to_string().contains("NOPE"), "{e}");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            S3Endpoint::default().object_url("b", "k/x.tif"),
            "https://b.s3.amazonaws.com/k/x.tif"
        );
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_RANGE,
            HeaderValue::from_static("bytes 100-199/1000"),
        );
        assert_eq!(content_range(&h), Some((100, Some(1000))));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes */1000"));
        assert_eq!(content_range(&h), Some((1000, Some(1000))));
    }
}
