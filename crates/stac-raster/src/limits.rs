//! [`Timeouts`]: time bounds on GDAL's network reads, as GDAL config
//! options, branched on the running GDAL version.
//!
//! Every GDAL HTTP request gets a connect timeout
//! (`GDAL_HTTP_CONNECTTIMEOUT`) and a stall bound (`GDAL_HTTP_LOW_SPEED_TIME`
//! with `GDAL_HTTP_LOW_SPEED_LIMIT`: fewer than 256 bytes/s for that long
//! ends the request, so a server trickling 1 byte/s or stalling after its
//! headers is dropped). A per-source deadline is enforced by
//! `GDAL_HTTP_TIMEOUT`, set before every GDAL call on the source to the time
//! the deadline leaves (GDAL 3.6 has all four options). On GDAL >= 3.7 the
//! env also turns off the options newer GDALs have that could widen a
//! credential's reach (`CPL_VSIL_CURL_AUTHORIZATION_HEADER_ALLOWED_IF_REDIRECT`)
//! or read raw local files from a VRT (`GDAL_VRT_ENABLE_RAWRASTERBAND`);
//! older GDALs ignore config keys they do not know.

use std::time::{Duration, Instant};

use stac_signers::GdalEnv;

/// Time bounds on GDAL network reads (see the module docs).
///
/// ```
/// use std::time::Duration;
/// use stac_raster::Timeouts;
/// let t = Timeouts::total(Duration::from_secs(5));
/// assert_eq!(t.deadline, Some(Duration::from_secs(5)));
/// assert_eq!(t.connect, Duration::from_secs(5));
/// assert_eq!(Timeouts::default().stall, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP/TLS connect timeout per request (default 10 s).
    pub connect: Duration,
    /// A request moving fewer than 256 bytes/s for this long is dropped (default 30 s).
    pub stall: Duration,
    /// Overall time for one source: its open and every read (default 10 min;
    /// `None`: unbounded).
    pub deadline: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            stall: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(600)),
        }
    }
}

/// Bytes per second below which a request counts as stalled.
const LOW_SPEED_LIMIT: u32 = 256;

impl Timeouts {
    /// Everything bounded by `total`: the deadline, and connect and stall
    /// timeouts no longer than it.
    pub fn total(total: Duration) -> Self {
        let d = Self::default();
        Self {
            connect: d.connect.min(total),
            stall: d.stall.min(total),
            deadline: Some(total),
        }
    }

    /// Set the connect timeout.
    pub fn with_connect(mut self, connect: Duration) -> Self {
        self.connect = connect;
        self
    }

    /// Set the stall timeout.
    pub fn with_stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// Set (or remove) the per-source deadline.
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The GDAL config for these bounds (`GDAL_HTTP_TIMEOUT` is the whole
    /// deadline here; a source sets it to what is left before each call).
    pub fn gdal_env(&self) -> GdalEnv {
        self.env()
    }

    pub(crate) fn env(&self) -> GdalEnv {
        let mut env = GdalEnv::new()
            .with("GDAL_HTTP_CONNECTTIMEOUT", secs(self.connect))
            .with("GDAL_HTTP_LOW_SPEED_TIME", secs(self.stall))
            .with("GDAL_HTTP_LOW_SPEED_LIMIT", LOW_SPEED_LIMIT.to_string());
        if let Some(d) = self.deadline {
            env.set("GDAL_HTTP_TIMEOUT", secs(d));
        }
        env
    }
}

/// `GDAL_HTTP_TIMEOUT` for what is left of a deadline (at least 1 s, so an
/// expired deadline still ends the next request quickly).
pub(crate) fn remaining_env(deadline: Instant) -> GdalEnv {
    let left = deadline.saturating_duration_since(Instant::now());
    GdalEnv::new().with("GDAL_HTTP_TIMEOUT", secs(left))
}

fn secs(d: Duration) -> String {
    d.as_secs_f64().ceil().max(1.0).to_string()
}

/// Options that keep a source's reads to what the policy allowed,
/// whatever GDAL version runs: no Python in VRT pixel functions; on GDAL
/// >= 3.7 no raw-file VRT bands and no `Authorization` header on redirects.
pub(crate) fn security_env() -> GdalEnv {
    let mut env = GdalEnv::new().with("GDAL_VRT_ENABLE_PYTHON", "NO");
    if crate::resampling::gdal_version_num() >= 307 {
        env.set("GDAL_VRT_ENABLE_RAWRASTERBAND", "NO");
        env.set(
            "CPL_VSIL_CURL_AUTHORIZATION_HEADER_ALLOWED_IF_REDIRECT",
            "NO",
        );
    }
    env
}

/// GDAL options that put a credential on every HTTP request of a read.
const CREDENTIAL_KEYS: &[&str] = &[
    "GDAL_HTTP_HEADERS",
    "GDAL_HTTP_HEADER_FILE",
    "GDAL_HTTP_USERPWD",
    "GDAL_HTTP_BEARER",
    "GDAL_HTTP_COOKIE",
];

/// Whether `env` puts a credential on the HTTP requests of `/vsicurl/`
/// reads (headers, a header file, a user and password, a bearer token, a
/// cookie).
///
/// ```
/// use stac_raster::{GdalEnv, carries_http_credentials};
/// assert!(carries_http_credentials(&GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer t")));
/// assert!(!carries_http_credentials(&GdalEnv::new().with("GDAL_HTTP_TIMEOUT", "5")));
/// ```
pub fn carries_http_credentials(env: &GdalEnv) -> bool {
    CREDENTIAL_KEYS
        .iter()
        .any(|k| env.get(k).is_some_and(|v| !v.trim().is_empty()))
}

/// Keep a read's credentials off the hosts GDAL's `/vsicurl/` would query
/// *directly* after a redirect: when a request is redirected to a URL that
/// looks like an S3 presigned one (`X-Amz-Expires` + `X-Amz-Date`), GDAL
/// remembers that URL and sends the following range requests straight to
/// it, with every configured header — before GDAL 3.10 including
/// `Authorization`, to whatever origin the server named (curl's own
/// redirect handling, which drops it, is bypassed). With
/// `CPL_VSIL_CURL_USE_S3_REDIRECT=NO` every request goes to the original
/// URL and curl follows the redirect, dropping `Authorization` and cookies
/// on another origin. Set on every env that [`carries_http_credentials`]
/// (the cost: one redirect per range request of such a source).
///
/// ```
/// use stac_raster::{GdalEnv, guard_redirects};
/// let mut env = GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer t");
/// guard_redirects(&mut env);
/// assert_eq!(env.get("CPL_VSIL_CURL_USE_S3_REDIRECT"), Some("NO"));
/// ```
pub fn guard_redirects(env: &mut GdalEnv) {
    env.set("CPL_VSIL_CURL_USE_S3_REDIRECT", "NO");
}

/// `env`, with [`guard_redirects`] applied when it [`carries_http_credentials`].
pub(crate) fn guarded_env(env: &GdalEnv) -> GdalEnv {
    let mut env = env.clone();
    if carries_http_credentials(&env) {
        guard_redirects(&mut env);
    }
    env
}

/// The running GDAL version as `(major, minor)`.
///
/// ```
/// let (major, minor) = stac_raster::gdal_version();
/// assert!(major >= 3 && minor < 100);
/// ```
pub fn gdal_version() -> (u32, u32) {
    let n = crate::resampling::gdal_version_num();
    (n / 100, n % 100)
}
