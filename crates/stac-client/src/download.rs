//! Asset downloads: signed, concurrent, atomic (temp file then rename),
//! resumable (Range), verified (`file:size`, `file:checksum`) and contained
//! in the target directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, HeaderMap, HeaderValue, RANGE};
use serde_json::Value;
use stac_signers::{AnonymousSigner, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::checksum::Multihash;
use crate::error::{ClientError, Result, safe_url, transport_message};
use crate::file_name::{asset_file_name, safe_file_name};
use crate::retry::RetryPolicy;
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
    /// The asset is complete (verified and renamed, or skipped).
    pub done: bool,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&DownloadProgress) + Send + Sync>;

/// Options of [`download_item`] and [`download_items`].
///
/// ```
/// use stac_client::{DownloadOptions, Overwrite, S3Endpoint};
/// let o = DownloadOptions::default()
///     .with_include(["B04", "B08"])
///     .with_concurrency(8)
///     .with_overwrite(Overwrite::Skip)
///     .with_s3_endpoint(S3Endpoint::path_style("http://127.0.0.1:8333"));
/// assert_eq!(o.concurrency, 8);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Only these asset keys (empty: all).
    pub include: Vec<String>,
    /// Not these asset keys.
    pub exclude: Vec<String>,
    /// Assets downloaded at the same time (at least 1). Default 4.
    pub concurrency: usize,
    /// Existing files. Default [`Overwrite::Error`].
    pub overwrite: Overwrite,
    /// Applied to each href (`sign_href`) and each request (`sign_request`).
    pub signer: Arc<dyn Signer>,
    /// Where `s3://` hrefs go. Default AWS virtual-hosted.
    pub s3_endpoint: S3Endpoint,
    /// Continue a partial temp file with a Range request. Default `true`.
    pub resume: bool,
    /// Check `file:size` and `file:checksum` when present (sha2-256 and
    /// sha2-512 multihashes; other algorithms are not checked). An existing
    /// file under [`Overwrite::Skip`] is checked too and fetched again when it
    /// does not match. Default `true`.
    pub verify: bool,
    /// Write the rewritten item as `<id>.json` in the directory. Default `true`.
    pub write_item_json: bool,
    /// Retries of failed requests (a retry resumes where it stopped).
    pub retry: RetryPolicy,
    /// Whole-request timeout per asset. Default none.
    pub timeout: Option<Duration>,
    /// Connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Longest silence while a body is read: a stalled connection is dropped
    /// and retried (resuming where it stopped). Default 60 s.
    pub read_timeout: Option<Duration>,
    /// Called as bytes arrive and when an asset is done.
    pub progress: Option<ProgressFn>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            concurrency: 4,
            overwrite: Overwrite::default(),
            signer: Arc::new(AnonymousSigner),
            s3_endpoint: S3Endpoint::default(),
            resume: true,
            verify: true,
            write_item_json: true,
            retry: RetryPolicy::default(),
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(60)),
            progress: None,
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .field("concurrency", &self.concurrency)
            .field("overwrite", &self.overwrite)
            .field("signer", &self.signer.name())
            .field("s3_endpoint", &self.s3_endpoint)
            .field("resume", &self.resume)
            .field("verify", &self.verify)
            .field("write_item_json", &self.write_item_json)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
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
    /// The signer.
    pub fn with_signer(mut self, signer: impl Signer + 'static) -> Self {
        self.signer = Arc::new(signer);
        self
    }
    /// A shared signer.
    pub fn with_shared_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = signer;
        self
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
    /// The retry policy.
    pub fn with_retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
    /// The per-asset timeout.
    pub fn with_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.timeout = t.into();
        self
    }
    /// The stall timeout ([`read_timeout`](Self::read_timeout)).
    pub fn with_read_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = t.into();
        self
    }
    /// A progress callback.
    pub fn with_progress(mut self, f: impl Fn(&DownloadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn transport(&self) -> Result<Transport> {
        let limits = Limits {
            timeout: self.timeout,
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
    path: PathBuf,
    temp: PathBuf,
    size: Option<u64>,
    checksum: Option<Multihash>,
}

impl Job {
    fn fail(&self, reason: impl Into<String>) -> ClientError {
        ClientError::Download {
            item: self.item.clone(),
            asset: self.asset.clone(),
            reason: reason.into(),
        }
    }
}

/// An item to download: its rewritten copy and its jobs.
#[derive(Debug)]
struct Plan {
    item: Value,
    dir: PathBuf,
    json_name: String,
    jobs: Vec<Job>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.to_owned(),
        source,
    }
}

fn plan(item: &Value, dir: &Path, options: &DownloadOptions) -> Result<Plan> {
    let id = stac_meta::item_id(item).to_owned();
    let fail = |asset: &str, reason: String| ClientError::Download {
        item: id.clone(),
        asset: asset.to_owned(),
        reason,
    };
    let assets = item
        .get("assets")
        .and_then(Value::as_object)
        .ok_or_else(|| fail("-", "the item has no `assets` object".into()))?;
    let base = stac_meta::self_href(item);
    let mut out = item.clone();
    let mut used = HashSet::new();
    let mut jobs = Vec::new();
    for (key, asset) in assets {
        if !options.wanted(key) {
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
        let mut name = asset_file_name(&href, key);
        if !used.insert(name.clone()) {
            let prefix = safe_file_name(key).unwrap_or_else(|| "asset".into());
            let mut n = 1;
            name = format!("{prefix}-{name}");
            while !used.insert(name.clone()) {
                n += 1;
                name = format!("{prefix}{n}-{}", asset_file_name(&href, key));
            }
        }
        let path = dir.join(&name);
        debug_assert!(path.parent() == Some(dir));
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
        jobs.push(Job {
            item: id.clone(),
            asset: key.clone(),
            url,
            temp: dir.join(format!(".{name}.part")),
            path,
            size,
            checksum,
        });
    }
    let json_name = format!(
        "{}.json",
        safe_file_name(&id).unwrap_or_else(|| "item".to_owned())
    );
    Ok(Plan {
        item: out,
        dir: dir.to_owned(),
        json_name,
        jobs,
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

async fn file_len(path: &Path) -> u64 {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .unwrap_or(0)
}

/// `bytes START-END/TOTAL` → (START, TOTAL).
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

async fn fetch(transport: &Transport, job: &Job, options: &DownloadOptions) -> Result<()> {
    let redacted = safe_url(job.url.as_str());
    let out = Outgoing::get(job.url.clone());
    let mut attempt = 0u32;
    loop {
        if !options.resume {
            let _ = tokio::fs::remove_file(&job.temp).await;
        }
        let offset = file_len(&job.temp).await;
        let mut extra = HeaderMap::new();
        if offset > 0 {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes={offset}-")) {
                extra.insert(RANGE, v);
            }
        }
        let failure = match transport.attempt(&out, &extra).await? {
            Attempt::Retry {
                message, headers, ..
            } => (message, headers),
            Attempt::Response(mut resp, _) => {
                let status = resp.status();
                if status == StatusCode::RANGE_NOT_SATISFIABLE && offset > 0 {
                    // The partial file does not fit the remote one: start over.
                    tokio::fs::remove_file(&job.temp)
                        .await
                        .map_err(io_err(&job.temp))?;
                    attempt += 1;
                    if attempt > options.retry.max_retries + 1 {
                        return Err(job.fail(format!("{redacted}: HTTP 416 after restart")));
                    }
                    continue;
                }
                if !status.is_success() {
                    return Err(ClientError::Status {
                        url: redacted,
                        page: None,
                        status: status.as_u16(),
                        body: format!("item {}, asset {}", job.item, job.asset),
                    });
                }
                let range = content_range(resp.headers());
                let append = offset > 0
                    && status == StatusCode::PARTIAL_CONTENT
                    && range.is_some_and(|(start, _)| start == offset);
                if status == StatusCode::PARTIAL_CONTENT && !append {
                    return Err(job.fail(format!(
                        "{redacted}: unexpected partial response (Content-Range does not start at {offset})"
                    )));
                }
                let total = match range {
                    Some((_, t)) if append => t,
                    _ => resp.content_length(),
                };
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(&job.temp)
                    .await
                    .map_err(io_err(&job.temp))?;
                let mut bytes = if append { offset } else { 0 };
                report(options, job, bytes, total, false);
                let cut = loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            file.write_all(&chunk).await.map_err(io_err(&job.temp))?;
                            bytes += chunk.len() as u64;
                            report(options, job, bytes, total, false);
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(transport_message(&e)),
                    }
                };
                file.flush().await.map_err(io_err(&job.temp))?;
                file.sync_all().await.map_err(io_err(&job.temp))?;
                drop(file);
                match cut {
                    None => {
                        verify(job, options).await?;
                        tokio::fs::rename(&job.temp, &job.path)
                            .await
                            .map_err(io_err(&job.path))?;
                        report(options, job, bytes, total, true);
                        return Ok(());
                    }
                    Some(message) => (message, None),
                }
            }
        };
        let (message, headers) = failure;
        if attempt >= options.retry.max_retries {
            return Err(ClientError::Transport {
                url: redacted,
                page: None,
                attempts: attempt + 1,
                message,
            });
        }
        tokio::time::sleep(options.retry.wait(attempt, headers.as_ref())).await;
        attempt += 1;
    }
}

/// Check the temp file against `file:size` and `file:checksum`; a bad file
/// is deleted.
async fn verify(job: &Job, options: &DownloadOptions) -> Result<()> {
    if !options.verify {
        return Ok(());
    }
    let result = check_file(job, &job.temp).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&job.temp).await;
    }
    result
}

/// Check `path` against the job's `file:size` and `file:checksum`.
async fn check_file(job: &Job, path: &Path) -> Result<()> {
    let len = file_len(path).await;
    if let Some(want) = job.size {
        if len != want {
            return Err(ClientError::SizeMismatch {
                item: job.item.clone(),
                asset: job.asset.clone(),
                expected: want,
                actual: len,
            });
        }
    }
    if let Some(want) = &job.checksum {
        let mut hasher = want.hasher();
        let mut file = tokio::fs::File::open(path).await.map_err(io_err(path))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).await.map_err(io_err(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let got = hasher.finish();
        if &got != want {
            return Err(ClientError::ChecksumMismatch {
                item: job.item.clone(),
                asset: job.asset.clone(),
                expected: want.to_hex(),
                actual: got.to_hex(),
            });
        }
    }
    Ok(())
}

async fn run_job(transport: &Transport, job: &Job, options: &DownloadOptions) -> Result<()> {
    if tokio::fs::try_exists(&job.path).await.unwrap_or(false) {
        match options.overwrite {
            Overwrite::Skip => {
                // Kept when it matches the item's size and checksum (or
                // when there is nothing to check); fetched again otherwise.
                let intact = !options.verify || check_file(job, &job.path).await.is_ok();
                if intact {
                    let len = file_len(&job.path).await;
                    report(options, job, len, Some(len), true);
                    return Ok(());
                }
            }
            Overwrite::Error => {
                return Err(ClientError::FileExists {
                    path: job.path.clone(),
                });
            }
            Overwrite::Overwrite => {}
        }
    }
    fetch(transport, job, options).await
}

async fn run_plans(plans: &[Plan], options: &DownloadOptions) -> Result<()> {
    let transport = options.transport()?;
    for p in plans {
        tokio::fs::create_dir_all(&p.dir)
            .await
            .map_err(io_err(&p.dir))?;
    }
    let transport = &transport;
    futures::stream::iter(plans.iter().flat_map(|p| p.jobs.iter()))
        .map(|job| run_job(transport, job, options))
        .buffer_unordered(options.concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    if options.write_item_json {
        for p in plans {
            let path = p.dir.join(&p.json_name);
            let text = serde_json::to_vec_pretty(&p.item).unwrap_or_default();
            let temp = p.dir.join(format!(".{}.part", p.json_name));
            tokio::fs::write(&temp, text).await.map_err(io_err(&temp))?;
            tokio::fs::rename(&temp, &path)
                .await
                .map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Download an item's assets into `dir` (async); returns the item with the
/// downloaded assets' hrefs rewritten to the local files (absolute paths
/// when `dir` is absolute) and writes it as `<id>.json` in `dir`.
pub async fn download_item_async(
    item: &Value,
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Value> {
    let p = plan(item, dir, options)?;
    let plans = [p];
    run_plans(&plans, options).await?;
    let [p] = plans;
    Ok(p.item)
}

/// Download several items (async), each into `dir/<id>/`, sharing one
/// concurrency limit; returns the rewritten items.
pub async fn download_items_async(
    items: &[Value],
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Vec<Value>> {
    let mut plans = Vec::with_capacity(items.len());
    let mut used = HashSet::new();
    for item in items {
        let mut sub = safe_file_name(stac_meta::item_id(item)).unwrap_or_else(|| "item".into());
        let mut n = 1;
        while !used.insert(sub.clone()) {
            n += 1;
            sub = format!(
                "{}-{n}",
                safe_file_name(stac_meta::item_id(item)).unwrap_or_else(|| "item".into())
            );
        }
        plans.push(plan(item, &dir.join(sub), options)?);
    }
    run_plans(&plans, options).await?;
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
        let p = plan(&item, dir, &o).unwrap();
        let names: Vec<_> = p.jobs.iter().map(|j| j.path.clone()).collect();
        assert_eq!(
            names,
            vec![
                dir.join("a"),
                dir.join("b"),
                dir.join("c.tif"),
                dir.join("d-c.tif")
            ]
        );
        assert!(p.jobs.iter().all(|j| j.path.parent() == Some(dir)));
        assert_eq!(
            p.jobs[2].url.as_str(),
            "http://127.0.0.1:9/bucket/dir/c.tif"
        );
        assert_eq!(p.json_name, "evil.json");
        assert_eq!(p.item["assets"]["c"]["href"], json!("/tmp/out/c.tif"));
        assert_eq!(p.item["assets"]["e"]["href"], json!("/etc/passwd"));
        let err = plan(&item, dir, &DownloadOptions::default().with_include(["e"])).unwrap_err();
        assert!(err.to_string().contains("unsupported href"), "{err}");
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
    }
}
