//! `GdalEnv`: ordered GDAL configuration options, with secret values hidden
//! from `Debug`.

use std::fmt;

/// Ordered GDAL configuration options (key, value).
///
/// `Debug` shows keys but hides the values of keys that may hold secrets
/// (headers, keys, tokens, passwords); use [`GdalEnv::iter`] to read them.
///
/// ```
/// let mut env = stac_signers::GdalEnv::new();
/// env.set("GDAL_HTTP_HEADERS", "Authorization: Bearer s3cr3t");
/// env.set("AWS_REGION", "us-west-2");
/// let shown = format!("{env:?}");
/// assert!(!shown.contains("s3cr3t") && shown.contains("us-west-2"));
/// assert_eq!(env.get("AWS_REGION"), Some("us-west-2"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GdalEnv(Vec<(String, String)>);

impl GdalEnv {
    /// An empty env.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a key (replacing an earlier value in place, keeping its position).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
        self
    }

    /// Builder form of [`set`](Self::set).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The options in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add every option of `other`, overriding keys already present.
    pub fn merge(&mut self, other: &GdalEnv) {
        for (k, v) in other.iter() {
            self.set(k, v);
        }
    }

    /// Whether a key's value may be a secret (and so is hidden from `Debug`).
    pub fn is_secret_key(key: &str) -> bool {
        let k = key.to_ascii_uppercase();
        [
            "HEADER",
            "SECRET",
            "TOKEN",
            "PASSWORD",
            "USERPWD",
            "KEY",
            "SESSION",
            "SAS",
            "SIGNATURE",
            "CREDENTIAL",
        ]
        .iter()
        .any(|s| k.contains(s))
    }
}

impl fmt::Debug for GdalEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown: &str = if Self::is_secret_key(k) {
                    "<redacted>"
                } else {
                    v
                };
                (k, shown)
            }))
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for GdalEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut env = Self::new();
        for (k, v) in iter {
            env.set(k, v);
        }
        env
    }
}
