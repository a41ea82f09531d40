//! Retries: which failures are retried, and how long to wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How failed requests are retried: connection errors, timeouts, dropped
/// connections, HTTP 429 and 5xx (500, 502, 503, 504).
///
/// The wait before retry `n` (0-based) is `initial_backoff × 2ⁿ`, capped at
/// `max_backoff`, with jitter (a random factor in `[0.5, 1]`). A
/// `Retry-After` header (seconds or an HTTP date) replaces the computed wait
/// when it is longer, capped at `max_retry_after`.
///
/// ```
/// use std::time::Duration;
/// use stac_client::RetryPolicy;
/// let p = RetryPolicy::default().with_max_retries(2).with_initial_backoff(Duration::from_millis(10));
/// assert_eq!(p.max_retries, 2);
/// assert!(p.backoff(1) <= Duration::from_millis(20));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: no retry). Default 4.
    pub max_retries: u32,
    /// The first wait. Default 250 ms.
    pub initial_backoff: Duration,
    /// The longest computed wait. Default 10 s.
    pub max_backoff: Duration,
    /// The longest wait a `Retry-After` header may ask for. Default 60 s.
    pub max_retry_after: Duration,
    /// Randomise waits (so many clients do not retry in step). Default `true`.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }
    /// Set [`max_retries`](Self::max_retries).
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    /// Set [`initial_backoff`](Self::initial_backoff).
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    /// Set [`max_backoff`](Self::max_backoff).
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// Set [`max_retry_after`](Self::max_retry_after).
    pub fn with_max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// Set [`jitter`](Self::jitter).
    pub fn with_jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The computed wait before retry `attempt` (0-based), jitter included.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        let base = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        if self.jitter {
            base.mul_f64(0.5 + 0.5 * unit_random())
        } else {
            base
        }
    }

    /// The wait before retry `attempt` after a response with `headers`: the
    /// longer of the computed backoff and `Retry-After` (capped).
    pub(crate) fn wait(&self, attempt: u32, headers: Option<&HeaderMap>) -> Duration {
        let computed = self.backoff(attempt);
        match headers.and_then(retry_after) {
            Some(asked) => asked.min(self.max_retry_after).max(computed),
            None => computed,
        }
    }
}

/// Whether a status is worth retrying.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// Whether a transport error is worth retrying (everything but a builder or
/// redirect-policy error).
pub(crate) fn retryable_error(error: &reqwest::Error) -> bool {
    !(error.is_builder() || error.is_redirect())
}

/// `Retry-After` as a duration: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = chrono::Utc::now();
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// A cheap uniform number in `[0, 1)` (splitmix64 over time and a counter);
/// good enough for jitter, not for anything secret.
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut z = nanos
        .wrapping_add(COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default()
            .with_jitter(false)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        assert_eq!(p.backoff(0), Duration::from_millis(100));
        assert_eq!(p.backoff(1), Duration::from_millis(200));
        assert_eq!(p.backoff(2), Duration::from_millis(350));
        assert_eq!(p.backoff(60), Duration::from_millis(350));
    }

    #[test]
    fn jitter_stays_within_half_to_full() {
        let p = RetryPolicy::default().with_initial_backoff(Duration::from_millis(100));
        for _ in 0..100 {
            let d = p.backoff(0);
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
                "{d:?}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let past = "Sun, 06 Nov 1994 08:49:37 GMT";
        h.insert(RETRY_AFTER, HeaderValue::from_static(past));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
        let p = RetryPolicy::default()
            .with_jitter(false)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_retry_after(Duration::from_secs(5));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(p.wait(0, Some(&h)), Duration::from_secs(5));
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 404, 501] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }
}
