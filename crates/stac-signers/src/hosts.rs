//! Host scoping: which hosts a credential may be sent to.

/// A host allow-list. An entry `example.com` matches that host exactly; an
/// entry starting with a dot (`.example.com`) matches every subdomain (but
/// not `example.com` itself). Matching ignores ASCII case and the port.
///
/// ```
/// use stac_signers::HostList;
/// let hosts = HostList::new(["data.example.com", ".cdn.example.org"]);
/// assert!(hosts.allows_url("https://DATA.example.com:8443/a.tif"));
/// assert!(hosts.allows_url("https://eu.cdn.example.org/a.tif"));
/// assert!(!hosts.allows_url("https://evil.com/?u=data.example.com"));
/// assert!(!hosts.allows_url("https://data.example.com.evil.com/a.tif"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostList(Vec<String>);

impl HostList {
    /// A list from host names and `.suffix` patterns.
    pub fn new<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            hosts
                .into_iter()
                .map(|h| h.into().trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    /// The patterns.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// Whether `host` (no port) is allowed.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|p| match p.strip_prefix('.') {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(p.as_str()),
            None => host == *p,
        })
    }

    /// Whether the host of an absolute `http(s)` URL (or `/vsicurl/` path) is
    /// allowed; anything else (relative paths, local files, unparsable URLs) is not.
    pub fn allows_url(&self, url: &str) -> bool {
        host_of(url).is_some_and(|h| self.allows_host(&h))
    }
}

/// The lower-cased host of an absolute `http`/`https` URL.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let url = url.strip_prefix("/vsicurl/").unwrap_or(url);
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    parsed.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    })
}

/// The host of an outgoing request (from its URI, else its `Host` header).
pub(crate) fn request_host(request: &crate::Request) -> Option<String> {
    if let Some(h) = request.uri().host() {
        return Some(
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
        );
    }
    let header = request.headers().get(http::header::HOST)?.to_str().ok()?;
    let host = header.rsplit_once(':').map_or(header, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            header
        }
    });
    Some(host.to_ascii_lowercase())
}
