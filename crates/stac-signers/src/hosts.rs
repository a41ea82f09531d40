//! Origin scoping: which origins (scheme, host, port) a credential may be
//! sent to, which of them may get it over plain http, and which entries
//! were never used in a run.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::SignerError;
use crate::origin::{Origin, default_port, normalize_host, split_host_port};

/// One entry of a [`HostList`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// The entry as given (trimmed, lower case), for messages.
    text: String,
    /// `Some` when the entry names a scheme.
    scheme: Option<String>,
    /// The host, or the suffix (with its leading dot) when `suffix`.
    host: String,
    suffix: bool,
    /// `None`: the scheme's default port.
    port: Option<u16>,
}

impl Pattern {
    fn parse(entry: &str) -> Result<Self, SignerError> {
        let text = entry.trim().to_ascii_lowercase();
        let bad = |why: &str| SignerError::Credentials {
            signer: "hosts",
            message: format!(
                "host entry {entry:?}: {why}; write host, host:port, .suffix or scheme://host[:port]"
            ),
        };
        let (scheme, rest) = match text.split_once("://") {
            Some((s, r)) => {
                if default_port(s).is_none() {
                    return Err(bad("the scheme must be http or https"));
                }
                (Some(s.to_owned()), r)
            }
            None => (None, text.as_str()),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
            return Err(bad("only scheme, host and port may be given"));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| bad("the port is not a number"))?;
        let suffix = host.starts_with('.');
        let host = if suffix {
            format!(".{}", normalize_host(host.trim_start_matches('.')))
        } else {
            normalize_host(host)
        };
        if host.trim_start_matches('.').is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            text,
            scheme,
            host,
            suffix,
            port,
        })
    }

    fn matches(&self, origin: &Origin) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != origin.scheme()) {
            return false;
        }
        let port = self.port.or_else(|| default_port(origin.scheme()));
        if port != Some(origin.port()) {
            return false;
        }
        let host = origin.host();
        if self.suffix {
            host.len() > self.host.len() && host.ends_with(self.host.as_str())
        } else {
            host == self.host
        }
    }
}

/// How an entry was used in a run.
const UNUSED: u8 = 0;
/// Only plain-http URLs matched, and those got no credential.
const HTTP_REFUSED: u8 = 1;
const USED: u8 = 2;

/// An origin allow-list: where a credential may be sent.
///
/// Entries (ASCII case ignored):
/// - `host`: that host on the scheme's default port (443 for https, 80 for http);
/// - `host:port`: that host and port, http or https;
/// - `.example.com`: every subdomain (not `example.com` itself), default port;
/// - `https://host[:port]`, `http://host[:port]`: that scheme only.
///
/// Bearer-type credentials (bearer, Earthdata, CDSE) also need https,
/// unless plain http was allowed for the URL's origin
/// ([`with_allow_http`](Self::with_allow_http)); see
/// [`allows_bearer_url`](Self::allows_bearer_url).
///
/// A list remembers which entries matched a URL (clones share that record),
/// so a caller can report the entries that matched nothing
/// ([`unused`](Self::unused)): a typo, or a missing port, is visible
/// instead of a silently unauthenticated run.
///
/// ```
/// use stac_signers::HostList;
/// let hosts = HostList::new(["data.example.com", ".cdn.example.org", "127.0.0.1:8081"]);
/// assert!(hosts.allows_url("https://DATA.example.com/a.tif"));
/// assert!(!hosts.allows_url("https://data.example.com:8443/a.tif"));
/// assert!(hosts.allows_url("https://eu.cdn.example.org/a.tif"));
/// assert!(!hosts.allows_url("https://evil.com/?u=data.example.com"));
/// assert!(!hosts.allows_url("https://data.example.com.evil.com/a.tif"));
/// assert!(hosts.allows_url("http://127.0.0.1:8081/a.tif"));
/// assert!(!hosts.allows_url("http://127.0.0.1:8082/a.tif"));
/// // A bearer token over plain http only where allowed.
/// assert!(!hosts.allows_bearer_url("http://127.0.0.1:8081/a.tif"));
/// let hosts = hosts.with_allow_http(["127.0.0.1:8081".parse()?]);
/// assert!(hosts.allows_bearer_url("http://127.0.0.1:8081/a.tif"));
/// // Every entry matched a URL above; a typo would be listed here.
/// assert!(hosts.unused().is_empty());
/// assert_eq!(HostList::new(["127.0.0.1:8O81"]).unused()[0].entry, "127.0.0.1:8o81");
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Clone, Default)]
pub struct HostList {
    patterns: Vec<Pattern>,
    /// Entries that could not be parsed (they match nothing; reported unused).
    invalid: Vec<String>,
    allow_http: Vec<Origin>,
    usage: Arc<Vec<AtomicU8>>,
}

impl PartialEq for HostList {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
            && self.invalid == other.invalid
            && self.allow_http == other.allow_http
    }
}

impl Eq for HostList {}

impl fmt::Debug for HostList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HostList");
        d.field("patterns", &self.patterns());
        if !self.allow_http.is_empty() {
            let shown: Vec<String> = self.allow_http.iter().map(Origin::to_string).collect();
            d.field("allow_http", &shown);
        }
        d.finish()
    }
}

/// A host-list entry that no URL of a run used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedHost {
    /// The signer's name.
    pub signer: String,
    /// The entry as given (lower case).
    pub entry: String,
    /// URLs of that origin were seen, but only over plain http, which a
    /// bearer-type credential does not use without an allowance.
    pub plain_http_refused: bool,
}

impl fmt::Display for UnusedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plain_http_refused {
            write!(
                f,
                "{}: host entry {:?} matched only plain-http URLs, which get no credential \
                 (allow one origin with --allow-http / with_allow_http)",
                self.signer, self.entry
            )
        } else {
            write!(
                f,
                "{}: host entry {:?} matched no URL in this run (is the port right? \
                 an entry without a port means the scheme's default port)",
                self.signer, self.entry
            )
        }
    }
}

impl HostList {
    /// A list from entries (see the type's docs). Entries that cannot be
    /// parsed match nothing and are reported by [`unused`](Self::unused);
    /// use [`try_new`](Self::try_new) to get an error instead.
    pub fn new<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut patterns = Vec::new();
        let mut invalid = Vec::new();
        for h in hosts {
            let h: String = h.into();
            if h.trim().is_empty() {
                continue;
            }
            match Pattern::parse(&h) {
                Ok(p) => patterns.push(p),
                Err(_) => invalid.push(h.trim().to_ascii_lowercase()),
            }
        }
        Self::from_parts(patterns, invalid)
    }

    /// A list from entries; an entry that cannot be parsed is an error.
    pub fn try_new<I, S>(hosts: I) -> Result<Self, SignerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let patterns = hosts
            .into_iter()
            .map(Into::into)
            .filter(|h: &String| !h.trim().is_empty())
            .map(|h| Pattern::parse(&h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_parts(patterns, Vec::new()))
    }

    fn from_parts(patterns: Vec<Pattern>, invalid: Vec<String>) -> Self {
        let usage = Arc::new((0..patterns.len()).map(|_| AtomicU8::new(UNUSED)).collect());
        Self {
            patterns,
            invalid,
            allow_http: Vec::new(),
            usage,
        }
    }

    /// Allow bearer-type credentials over plain http for these origins
    /// (parse `host:port` or `http://host:port` with [`Origin`]'s `FromStr`).
    pub fn with_allow_http<I: IntoIterator<Item = Origin>>(mut self, origins: I) -> Self {
        for origin in origins {
            if !self.allow_http.contains(&origin) {
                self.allow_http.push(origin);
            }
        }
        self
    }

    /// The origins allowed over plain http.
    pub fn allowed_http(&self) -> &[Origin] {
        &self.allow_http
    }

    /// The entries, as given (lower case).
    pub fn patterns(&self) -> Vec<&str> {
        self.patterns
            .iter()
            .map(|p| p.text.as_str())
            .chain(self.invalid.iter().map(String::as_str))
            .collect()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.invalid.is_empty()
    }

    /// The index of the first entry matching `origin`.
    fn find(&self, origin: &Origin) -> Option<usize> {
        self.patterns.iter().position(|p| p.matches(origin))
    }

    fn mark(&self, i: usize, state: u8) {
        if let Some(u) = self.usage.get(i) {
            u.fetch_max(state, Ordering::Relaxed);
        }
    }

    /// Whether `origin` matches an entry (any scheme the entry allows).
    pub fn allows_origin(&self, origin: &Origin) -> bool {
        match self.find(origin) {
            Some(i) => {
                self.mark(i, USED);
                true
            }
            None => false,
        }
    }

    /// Whether the origin of an absolute `http(s)` URL (or `/vsicurl/`
    /// path) matches an entry; anything else (relative paths, local files,
    /// unparsable URLs) does not.
    pub fn allows_url(&self, url: &str) -> bool {
        Origin::of_url(url).is_some_and(|o| self.allows_origin(&o))
    }

    /// Whether plain http is allowed for `origin`.
    pub fn allows_plain_http(&self, origin: &Origin) -> bool {
        self.allow_http.contains(origin)
    }

    /// Whether a bearer-type credential may go to `origin`: it matches an
    /// entry, and it is https or allowed over plain http.
    pub fn allows_bearer_origin(&self, origin: &Origin) -> bool {
        let Some(i) = self.find(origin) else {
            return false;
        };
        if origin.is_https() || self.allows_plain_http(origin) {
            self.mark(i, USED);
            true
        } else {
            self.mark(i, HTTP_REFUSED);
            false
        }
    }

    /// [`allows_bearer_origin`](Self::allows_bearer_origin) of a URL's origin.
    pub fn allows_bearer_url(&self, url: &str) -> bool {
        Origin::of_url(url).is_some_and(|o| self.allows_bearer_origin(&o))
    }

    /// The entries that no URL used so far (in this list and its clones),
    /// for `signer`'s report.
    pub fn unused(&self) -> Vec<UnusedHost> {
        self.unused_for("hosts")
    }

    pub(crate) fn unused_for(&self, signer: &str) -> Vec<UnusedHost> {
        let mut out: Vec<UnusedHost> = self
            .patterns
            .iter()
            .zip(self.usage.iter())
            .filter_map(|(p, u)| {
                let state = u.load(Ordering::Relaxed);
                (state != USED).then(|| UnusedHost {
                    signer: signer.to_owned(),
                    entry: p.text.clone(),
                    plain_http_refused: state == HTTP_REFUSED,
                })
            })
            .collect();
        out.extend(self.invalid.iter().map(|e| UnusedHost {
            signer: signer.to_owned(),
            entry: e.clone(),
            plain_http_refused: false,
        }));
        out
    }
}

/// Whether a bearer-type credential may go to `origin` when the signer has
/// no host list: https, or plain http allowed for that origin.
pub(crate) fn secure_or_allowed(origin: &Origin, allow_http: &[Origin]) -> bool {
    origin.is_https() || allow_http.contains(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_scope_scheme_host_and_port() {
        let l = HostList::new([
            "a.example",
            "b.example:8443",
            "https://c.example",
            "http://127.0.0.1:9000",
            "[::1]:81",
        ]);
        for (url, want) in [
            ("https://a.example/x", true),
            ("http://a.example/x", true),
            ("https://a.example:444/x", false),
            ("https://b.example:8443/x", true),
            ("http://b.example:8443/x", true),
            ("https://b.example/x", false),
            ("https://c.example/x", true),
            ("http://c.example:443/x", false),
            ("http://c.example/x", false),
            ("http://127.0.0.1:9000/x", true),
            ("https://127.0.0.1:9000/x", false),
            ("http://127.0.0.1:9001/x", false),
            ("http://[::1]:81/x", true),
            ("/vsicurl/https://a.example/x", true),
            ("/local/file.tif", false),
            ("s3://a.example/x", false),
        ] {
            assert_eq!(l.allows_url(url), want, "{url}");
        }
        assert!(HostList::try_new(["ftp://h"]).is_err());
        assert!(HostList::try_new(["h:port"]).is_err());
        assert!(HostList::try_new(["h/path"]).is_err());
        let bad = HostList::new(["h/path", "ok.example"]);
        assert_eq!(bad.patterns(), ["ok.example", "h/path"]);
    }

    #[test]
    fn bearer_needs_https_or_an_allowance_and_unused_entries_are_reported() {
        let l = HostList::new(["127.0.0.1:9000", "127.0.0.1:9001", "never.example"])
            .with_allow_http(["127.0.0.1:9001".parse().unwrap()]);
        assert!(!l.allows_bearer_url("http://127.0.0.1:9000/x"));
        assert!(l.allows_bearer_url("http://127.0.0.1:9001/x"));
        let clone = l.clone();
        let unused = clone.unused();
        assert_eq!(unused.len(), 2);
        assert_eq!(unused[0].entry, "127.0.0.1:9000");
        assert!(unused[0].plain_http_refused);
        assert_eq!(unused[1].entry, "never.example");
        assert!(!unused[1].plain_http_refused);
        assert!(unused[0].to_string().contains("--allow-http"));
    }
}
