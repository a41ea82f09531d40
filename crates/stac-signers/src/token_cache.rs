//! Expiry-aware, single-flight token caches.
//!
//! One slot per key; a slot's lock is held while its token is minted, so
//! concurrent callers for the same key mint once and the others wait and
//! reuse it. Callers for other keys are not blocked.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::SignerError;

/// A cached value and when it expires.
#[derive(Clone)]
pub(crate) struct Cached<V> {
    pub(crate) value: V,
    pub(crate) expires_at: SystemTime,
}

type Slot<V> = Arc<Mutex<Option<Cached<V>>>>;

/// Tokens by key, fresh while `expires_at - now > refresh_window`.
pub(crate) struct TokenCache<K, V> {
    refresh_window: Duration,
    slots: Mutex<HashMap<K, Slot<V>>>,
}

/// Lock, recovering from poisoning (a panic elsewhere must not make every later call panic).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<K: Eq + Hash + Clone, V: Clone> TokenCache<K, V> {
    /// An empty cache.
    pub(crate) fn new(refresh_window: Duration) -> Self {
        Self {
            refresh_window,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an entry expiring at `expires_at` is still fresh now.
    fn is_fresh(&self, expires_at: SystemTime) -> bool {
        expires_at
            .duration_since(SystemTime::now())
            .is_ok_and(|left| left > self.refresh_window)
    }

    /// The cached value for `key` when fresh; else the result of `mint`,
    /// which receives the previous (stale) value, if any, so it can refresh
    /// from it. A failed mint keeps the previous entry and returns the error.
    pub(crate) fn get_or_mint<F>(&self, key: &K, mint: F) -> Result<V, SignerError>
    where
        F: FnOnce(Option<&V>) -> Result<Cached<V>, SignerError>,
    {
        let slot = {
            let mut slots = lock(&self.slots);
            slots.entry(key.clone()).or_default().clone()
        };
        let mut entry = lock(&slot);
        if let Some(cached) = entry.as_ref() {
            if self.is_fresh(cached.expires_at) {
                return Ok(cached.value.clone());
            }
        }
        let fresh = mint(entry.as_ref().map(|c| &c.value))?;
        let value = fresh.value.clone();
        *entry = Some(fresh);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cached(v: &str, secs_from_now: i64) -> Cached<String> {
        let now = SystemTime::now();
        let expires_at = if secs_from_now >= 0 {
            now + Duration::from_secs(secs_from_now as u64)
        } else {
            now - Duration::from_secs((-secs_from_now) as u64)
        };
        Cached {
            value: v.to_owned(),
            expires_at,
        }
    }

    #[test]
    fn fresh_entries_are_reused_and_stale_ones_reminted_with_previous_value() {
        let cache = TokenCache::<&str, String>::new(Duration::from_secs(60));
        let v = cache.get_or_mint(&"a", |_| Ok(cached("t1", 3600))).unwrap();
        assert_eq!(v, "t1");
        let v = cache
            .get_or_mint(&"a", |_| panic!("must not mint while fresh"))
            .unwrap();
        assert_eq!(v, "t1");
        // Within the refresh window counts as stale: the mint sees the old value.
        let cache = TokenCache::<&str, String>::new(Duration::from_secs(60));
        cache.get_or_mint(&"a", |_| Ok(cached("t1", 30))).unwrap();
        let v = cache
            .get_or_mint(&"a", |prev| {
                assert_eq!(prev.map(String::as_str), Some("t1"));
                Ok(cached("t2", 3600))
            })
            .unwrap();
        assert_eq!(v, "t2");
    }

    #[test]
    fn failed_mint_returns_error_and_keeps_previous_entry() {
        let cache = TokenCache::<u8, String>::new(Duration::ZERO);
        cache.get_or_mint(&1, |_| Ok(cached("old", -1))).unwrap();
        let err = cache
            .get_or_mint(&1, |_| {
                Err(SignerError::Token {
                    signer: "test",
                    message: "boom".into(),
                })
            })
            .unwrap_err();
        assert!(err.to_string().contains("boom"));
        let v = cache
            .get_or_mint(&1, |prev| {
                assert_eq!(prev.map(String::as_str), Some("old"));
                Ok(cached("new", 100))
            })
            .unwrap();
        assert_eq!(v, "new");
    }

    #[test]
    fn eight_threads_mint_once_per_key() {
        let cache = Arc::new(TokenCache::<u8, String>::new(Duration::from_secs(1)));
        let mints = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let cache = Arc::clone(&cache);
                let mints = Arc::clone(&mints);
                std::thread::spawn(move || {
                    cache
                        .get_or_mint(&(i % 2), |_| {
                            mints.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(100));
                            Ok(cached(&format!("tok-{}", i % 2), 3600))
                        })
                        .unwrap()
                })
            })
            .collect();
        let got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(mints.load(Ordering::SeqCst), 2, "one mint per key");
        for (i, v) in got.iter().enumerate() {
            assert_eq!(v, &format!("tok-{}", i % 2));
        }
    }
}
