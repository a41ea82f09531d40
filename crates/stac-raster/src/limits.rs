//! [`Timeouts`]: time bounds on GDAL's network reads, as GDAL config
//! options, branched on the running GDAL version.
//!
//! Every GDAL HTTP request gets a connect timeout
//! (`GDAL_HTTP_CONNECTTIMEOUT`) and a stall bound (`GDAL_HTTP_LOW_SPEED_TIME`
//! with `GDAL_HTTP_LOW_SPEED_LIMIT`: fewer than 256 bytes/s for that long
//! ends the request, so a server trickling 1 byte/s or stalling after its
//! headers is dropped). A per-source deadline bounds the time spent on
//! the source: every GDAL call on it (its opens, reads and warps, on any
//! thread) is charged to one budget, and `GDAL_HTTP_TIMEOUT` is set before
//! each call to what the budget has left (GDAL 3.6 has all four options).
//! Time the source waits (between a cube's planning open and its read
//! tasks, in the task queue) is not charged, so a large load never fails
//! a source for being read late.
//!
//! Security options (`security_env`, every source): no Python in VRT
//! pixel functions; from GDAL 3.7 on also
//! `CPL_VSIL_CURL_AUTHORIZATION_HEADER_ALLOWED_IF_REDIRECT=NO` (read by
//! GDAL >= 3.10: no `Authorization` on a redirect GDAL follows itself) and
//! `GDAL_VRT_ENABLE_RAWRASTERBAND=NO` (read by GDAL >= 3.12: no raw local
//! file behind a VRT band); GDALs that do not know a key ignore it. Every
//! env that carries HTTP credentials also gets [`guard_redirects`]
//! (`CPL_VSIL_CURL_USE_S3_REDIRECT=NO`), which every GDAL version reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stac_signers::GdalEnv;

use crate::thread_env::EnvScope;

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
    /// Overall time one source may take: the sum of its opens and reads
    /// (concurrent reads of one source add up; waiting is not counted).
    /// Default 10 min: about 600 MB at 1 MB/s. `None`: unbounded.
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

/// `GDAL_HTTP_TIMEOUT` for what is left (at least 1 s, so a spent limit
/// still ends the next request quickly).
fn remaining_env(left: Duration) -> GdalEnv {
    GdalEnv::new().with("GDAL_HTTP_TIMEOUT", secs(left))
}

/// A source's time budget: how long its GDAL calls (opens, reads, warps)
/// may take *in total*, summed over every handle and thread that uses the
/// source. Time a source spends waiting (in a cube's queue of tasks,
/// between the planning open and the reads) is not charged, so a large load
/// never fails a source that was merely read late.
#[derive(Debug)]
pub(crate) struct Budget {
    total: Duration,
    spent_nanos: AtomicU64,
}

impl Budget {
    pub(crate) fn new(total: Duration) -> Arc<Self> {
        Arc::new(Self {
            total,
            spent_nanos: AtomicU64::new(0),
        })
    }

    fn spent(&self) -> Duration {
        Duration::from_nanos(self.spent_nanos.load(Ordering::Relaxed))
    }

    fn left(&self) -> Duration {
        self.total.saturating_sub(self.spent())
    }

    fn charge(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.spent_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// When the GDAL calls of a handle must end: a wall-clock instant (a path
/// the caller opened with [`OpenOptions::with_deadline`](crate::OpenOptions::with_deadline)),
/// or a source's [`Budget`].
#[derive(Debug, Clone)]
pub(crate) enum Limit {
    /// Every call ends by `end`; `total` is the length given (for messages).
    At { end: Instant, total: Duration },
    /// The calls of every handle of one source share this budget.
    Budget(Arc<Budget>),
}

impl Limit {
    /// A deadline `end`.
    pub(crate) fn at(end: Instant) -> Self {
        Self::At {
            end,
            total: end.saturating_duration_since(Instant::now()),
        }
    }

    fn left(&self) -> Duration {
        match self {
            Self::At { end, .. } => end.saturating_duration_since(Instant::now()),
            Self::Budget(b) => b.left(),
        }
    }

    /// Whether the limit is spent.
    pub(crate) fn passed(&self) -> bool {
        self.left().is_zero()
    }

    /// The limit's length, in seconds (for messages).
    pub(crate) fn seconds(&self) -> f64 {
        match self {
            Self::At { total, .. } => total.as_secs_f64(),
            Self::Budget(b) => b.total.as_secs_f64(),
        }
    }

    /// Around one GDAL call: `GDAL_HTTP_TIMEOUT` set (thread-locally) to
    /// what is left, and the call's time charged to a budget when the
    /// guard drops.
    /// Nested guards (a read that calls another read) charge once: the
    /// outermost one on the thread.
    pub(crate) fn call(&self) -> CallGuard {
        let outermost = CALL_DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get() == 1
        });
        CallGuard {
            _scope: EnvScope::install(&remaining_env(self.left())),
            started: Instant::now(),
            budget: match self {
                Self::Budget(b) if outermost => Some(b.clone()),
                _ => None,
            },
        }
    }
}

thread_local! {
    /// How many [`CallGuard`]s are alive on this thread.
    static CALL_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// See [`Limit::call`].
pub(crate) struct CallGuard {
    _scope: EnvScope,
    started: Instant,
    budget: Option<Arc<Budget>>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        CALL_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        if let Some(b) = &self.budget {
            b.charge(self.started.elapsed());
        }
    }
}

fn secs(d: Duration) -> String {
    d.as_secs_f64().ceil().max(1.0).to_string()
}

/// Options that keep a source's reads to what the policy allowed,
/// whatever GDAL version runs: no Python in VRT pixel functions; from GDAL
/// 3.7 on no raw-file VRT bands and no `Authorization` header on redirects
/// (GDAL reads these two from 3.12 and 3.10; see the module docs).
pub(crate) fn security_env() -> &'static GdalEnv {
    static ENV: std::sync::OnceLock<GdalEnv> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = GdalEnv::new().with("GDAL_VRT_ENABLE_PYTHON", "NO");
        if crate::resampling::gdal_version_num() >= 307 {
            env.set("GDAL_VRT_ENABLE_RAWRASTERBAND", "NO");
            env.set(
                "CPL_VSIL_CURL_AUTHORIZATION_HEADER_ALLOWED_IF_REDIRECT",
                "NO",
            );
        }
        env
    })
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
