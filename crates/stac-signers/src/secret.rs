//! `Secret`: a string that never shows itself in `Debug` or `Display`;
//! `Redactor`: every secret value of a signer, removed from any text.

use std::borrow::Cow;
use std::fmt;

/// A credential (token, password, secret key). `Debug` and `Display` print
/// `<redacted>`; read the value with [`Secret::expose`].
///
/// ```
/// let s = stac_signers::Secret::new("hunter2");
/// assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call sites are where a secret leaves the type: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Shortest value a [`Redactor`] removes: shorter values (`1`, `en`) are
/// not credentials and would cut words out of every message.
pub const MIN_REDACTED_LEN: usize = 4;

/// Replaces every known secret value in a text with `<redacted>`: by
/// value, not by pattern, so a token endpoint or a server that echoes a
/// credential back (in an error body, a GDAL message, a written file)
/// cannot get it printed.
///
/// Each value is also matched in its URL-encoded forms (`%2B`, `+` for
/// space) and JSON-escaped form. Values shorter than [`MIN_REDACTED_LEN`]
/// are ignored. Build one from a signer with [`Redactor::of`] (its
/// configured and minted secrets, see
/// [`Signer::secrets`](crate::Signer::secrets)).
///
/// ```
/// use stac_signers::{BearerTokenSigner, Redactor, Secret};
/// let r = Redactor::new([Secret::new("hunter2+x")]);
/// assert_eq!(r.redact("bad password hunter2%2Bx"), "bad password <redacted>");
/// let signer = BearerTokenSigner::new("tok-SECRET-1");
/// let r = Redactor::of(&signer);
/// assert_eq!(r.redact("{\"error\": \"tok-SECRET-1 is wrong\"}"), "{\"error\": \"<redacted> is wrong\"}");
/// assert!(r.contains_secret("Bearer tok-SECRET-1"));
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a value containing another is replaced whole.
    values: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} values)", self.values.len())
    }
}

impl Redactor {
    /// A redactor of these values (and their encoded forms).
    pub fn new<I: IntoIterator<Item = Secret>>(secrets: I) -> Self {
        let mut r = Self::default();
        r.extend(secrets);
        r
    }

    /// The configured and minted secrets of `signer`, now.
    pub fn of<S: crate::Signer + ?Sized>(signer: &S) -> Self {
        Self::new(signer.secrets())
    }

    /// Add values.
    pub fn extend<I: IntoIterator<Item = Secret>>(&mut self, secrets: I) {
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        const URL: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        for s in secrets {
            let v = s.expose();
            if v.chars().count() < MIN_REDACTED_LEN {
                continue;
            }
            let encoded = utf8_percent_encode(v, URL).to_string();
            let form = url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let json = serde_json::to_string(v).unwrap_or_default();
            let json = json.trim_matches('"').to_owned();
            for form in [v.to_owned(), encoded, form, json] {
                if !self.values.contains(&form) {
                    self.values.push(form);
                }
            }
        }
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `text` holds any secret value.
    pub fn contains_secret(&self, text: &str) -> bool {
        self.values.iter().any(|v| text.contains(v.as_str()))
    }

    /// Whether `text` (at least [`MIN_REDACTED_LEN`] characters) is a part
    /// of a secret value, ignoring ASCII case: a server may echo a
    /// fragment of a credential.
    pub fn is_part_of_secret(&self, text: &str) -> bool {
        if text.chars().count() < MIN_REDACTED_LEN {
            return false;
        }
        let needle = text.to_ascii_lowercase();
        self.values
            .iter()
            .any(|v| v.to_ascii_lowercase().contains(&needle))
    }

    /// `text` with every secret value replaced by `<redacted>`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.contains_secret(text) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "<redacted>");
            }
        }
        Cow::Owned(out)
    }
}

/// Read an environment variable as a secret; unset or empty → `None`.
pub(crate) fn env_secret(name: &str) -> Option<Secret> {
    env_string(name).map(Secret::from)
}

/// Read an environment variable; unset, empty or not UTF-8 → `None`.
pub(crate) fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The secrets a signer minted (tokens, SAS), kept so errors and written
/// files can be redacted by value even after a token was replaced. Bounded:
/// the oldest of more than [`SecretLog::CAPACITY`] are dropped.
#[derive(Default)]
pub(crate) struct SecretLog(std::sync::Mutex<Vec<Secret>>);

impl SecretLog {
    /// Most values kept.
    pub(crate) const CAPACITY: usize = 256;

    /// Remember `secret` (once).
    pub(crate) fn record(&self, secret: &Secret) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !v.contains(secret) {
            if v.len() >= Self::CAPACITY {
                v.remove(0);
            }
            v.push(secret.clone());
        }
    }

    /// Every value remembered.
    pub(crate) fn all(&self) -> Vec<Secret> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
