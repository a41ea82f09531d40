//! `Origin`: the (scheme, host, port) a credential is scoped to.

use std::fmt;
use std::str::FromStr;

use crate::SignerError;

/// A web origin: scheme (`http` or `https`), lower-cased host and port (the
/// scheme's default when the URL names none). Two URLs share a credential
/// only when their origins are equal.
///
/// ```
/// use stac_signers::Origin;
/// let o = Origin::of_url("https://Data.Example.com/a.tif?sig=x").unwrap();
/// assert_eq!(o.to_string(), "https://data.example.com:443");
/// assert_eq!(Origin::of_url("/vsicurl/http://127.0.0.1:8081/a.tif").unwrap().port(), 8081);
/// assert!(Origin::of_url("s3://bucket/key").is_none());
/// // Text without a scheme is a plain-http origin (the form `--allow-http` takes).
/// assert_eq!("127.0.0.1:8081".parse::<Origin>()?.to_string(), "http://127.0.0.1:8081");
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// The default port of `http` (80) and `https` (443).
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A host as origins hold it: lower case, no brackets, no trailing dot.
pub(crate) fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl Origin {
    /// An origin from its parts (`scheme` `http` or `https`).
    pub fn new(scheme: &str, host: &str, port: u16) -> Self {
        Self {
            scheme: scheme.to_ascii_lowercase(),
            host: normalize_host(host),
            port,
        }
    }

    /// The origin of an absolute `http`/`https` URL, also inside a GDAL
    /// `/vsicurl/` path or a `/vsicurl?…&url=…` path; `None` for anything
    /// else (relative paths, local files, `s3://`, unparsable text).
    pub fn of_url(url: &str) -> Option<Self> {
        let url = url.trim();
        let inner;
        let url = if let Some(rest) = url.strip_prefix("/vsicurl/") {
            rest
        } else if let Some(query) = url.strip_prefix("/vsicurl?") {
            inner = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v.into_owned())?;
            inner.as_str()
        } else {
            url
        };
        let parsed = url::Url::parse(url).ok()?;
        let scheme = parsed.scheme();
        let port = parsed.port().or_else(|| default_port(scheme))?;
        let host = parsed.host_str()?;
        default_port(scheme)?;
        Some(Self::new(scheme, host, port))
    }

    /// The origin of an outgoing request (its URI, else its `Host` header
    /// with `https` assumed).
    pub(crate) fn of_request(request: &crate::Request) -> Option<Self> {
        let uri = request.uri();
        if let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) {
            let scheme = scheme.to_ascii_lowercase();
            let port = uri.port_u16().or_else(|| default_port(&scheme))?;
            return Some(Self::new(&scheme, host, port));
        }
        let header = request.headers().get(http::header::HOST)?.to_str().ok()?;
        let authority: http::uri::Authority = header.parse().ok()?;
        Some(Self::new(
            "https",
            authority.host(),
            authority.port_u16().unwrap_or(443),
        ))
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lower case (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (the scheme's default when the URL has none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// `scheme://host[:port]`, or `host[:port]` meaning `http://` (the form a
/// plain-http allowance is written in); the port defaults to the scheme's.
impl FromStr for Origin {
    type Err = SignerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| SignerError::Credentials {
            signer: "origin",
            message: format!("{text:?} is not an origin ({why}); write scheme://host[:port]"),
        };
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_owned(), text),
        };
        if default_port(&scheme).is_none() {
            return Err(bad("the scheme must be http or https"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_host_port(rest).ok_or_else(|| bad("bad host or port"))?;
        if host.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad("only scheme, host and port may be given"));
        }
        let port = match port {
            Some(p) => p,
            None => default_port(&scheme).unwrap_or(443),
        };
        Ok(Self::new(&scheme, host, port))
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` → (host, port). `None` when the
/// port is not a number.
pub(crate) fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match text.rsplit_once(':') {
        // A bare IPv6 address without brackets: no port.
        Some((host, _)) if host.contains(':') => Some((text, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls_and_text() {
        let o = |u: &str| Origin::of_url(u).map(|o| o.to_string());
        assert_eq!(o("http://h/x").as_deref(), Some("http://h:80"));
        assert_eq!(o("https://h:443/x").as_deref(), Some("https://h:443"));
        assert_eq!(
            o("http://[::1]:8080/x").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(
            o("/vsicurl?empty_dir=yes&url=https%3A%2F%2Fh%3A9%2Fa.tif").as_deref(),
            Some("https://h:9")
        );
        assert_eq!(o("ftp://h/x"), None);
        assert_eq!(o("/local/x.tif"), None);
        let p = |t: &str| t.parse::<Origin>().map(|o| o.to_string()).ok();
        assert_eq!(p("https://h").as_deref(), Some("https://h:443"));
        assert_eq!(p("h:81").as_deref(), Some("http://h:81"));
        assert_eq!(p("[::1]:81").as_deref(), Some("http://[::1]:81"));
        assert_eq!(p("ftp://h"), None);
        assert_eq!(p("https://h/path"), None);
        assert_eq!(p("h:port"), None);
    }
}
