//! A static or computed Bearer token, optionally scoped to some hosts.

use std::sync::Arc;

use crate::hosts::{HostList, UnusedHost, secure_or_allowed};
use crate::origin::Origin;
use crate::secret::{Secret, SecretLog};
use crate::{GdalEnv, Request, Signer, SignerError};

type TokenFn = dyn Fn() -> Option<String> + Send + Sync;

#[derive(Clone)]
enum Source {
    Static(Secret),
    Computed(Arc<TokenFn>),
}

/// `Authorization: Bearer <token>` on requests and, through
/// `GDAL_HTTP_HEADERS`, on GDAL reads, scoped to origins.
///
/// The token is a fixed value or a closure called on **every** use (so a
/// rotating token is picked up); it must resolve to a non-empty string.
///
/// **Scope.** With a host list ([`with_hosts`](Self::with_hosts)) the token
/// goes to the origins of that list only, over https (or plain http for the
/// origins given to [`with_allow_http`](Self::with_allow_http)): requests to
/// other origins go out untouched, [`Signer::gdal_env_for`] is empty for
/// them, and [`Signer::allows_url`] is `true` exactly for them. Without a
/// host list the token is for the one origin a caller addresses directly
/// (a STAC API's root: `sign_request` signs any https request it is given,
/// and the client gives it only those), never for asset hrefs an item
/// names: `gdal_env_for` is empty and `allows_url` is `false`.
///
/// ```
/// use stac_signers::{BearerTokenSigner, HostList, Signer};
/// let s = BearerTokenSigner::new("demo-token").with_hosts(HostList::new(["data.example"]));
/// let env = s.gdal_env_for("https://data.example/a.tif")?;
/// assert_eq!(env.get("GDAL_HTTP_HEADERS"), Some("Authorization: Bearer demo-token"));
/// assert!(s.gdal_env_for("https://other.example/a.tif")?.is_empty());
/// let s = BearerTokenSigner::from_fn(|| "cb-token".to_string()).with_hosts(HostList::new(["h"]));
/// let env = s.gdal_env_for("https://h/a.tif")?;
/// assert_eq!(env.get("GDAL_HTTP_HEADERS"), Some("Authorization: Bearer cb-token"));
/// let err = BearerTokenSigner::new("").with_hosts(HostList::new(["h"]))
///     .gdal_env_for("https://h/a.tif").unwrap_err();
/// assert!(err.to_string().contains("bearer token must resolve to a non-empty string"));
/// // No host list: nothing for asset hrefs.
/// assert!(BearerTokenSigner::new("t").gdal_env_for("https://h/a.tif")?.is_empty());
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Clone)]
pub struct BearerTokenSigner {
    source: Source,
    hosts: Option<HostList>,
    allow_http: Vec<Origin>,
    /// Tokens a closure returned (for [`Signer::secrets`]).
    seen: Arc<SecretLog>,
    /// Plain-http origins an unscoped token was not sent to (reported).
    refused_http: Arc<std::sync::Mutex<Vec<Origin>>>,
}

impl std::fmt::Debug for BearerTokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match self.source {
            Source::Static(_) => "static <redacted>",
            Source::Computed(_) => "closure",
        };
        f.debug_struct("BearerTokenSigner")
            .field("token", &source)
            .field("hosts", &self.hosts)
            .field(
                "allow_http",
                &self
                    .allow_http
                    .iter()
                    .map(Origin::to_string)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl BearerTokenSigner {
    /// A fixed token.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            source: Source::Static(Secret::new(token)),
            hosts: None,
            allow_http: Vec::new(),
            seen: Arc::default(),
            refused_http: Arc::default(),
        }
    }

    /// A token computed on every use. The closure may return a `String` or
    /// an `Option<String>` (`None` and `""` are errors at use).
    pub fn from_fn<F, T>(f: F) -> Self
    where
        F: Fn() -> T + Send + Sync + 'static,
        T: Into<Option<String>>,
    {
        Self {
            source: Source::Computed(Arc::new(move || f().into())),
            hosts: None,
            allow_http: Vec::new(),
            seen: Arc::default(),
            refused_http: Arc::default(),
        }
    }

    /// Send the token only to these origins (see [`HostList`]).
    pub fn with_hosts(mut self, hosts: HostList) -> Self {
        self.hosts = Some(hosts.with_allow_http(self.allow_http.iter().cloned()));
        self
    }

    /// Also send the token over plain http to these origins (never
    /// otherwise: a bearer token in clear text can be read on the way).
    pub fn with_allow_http<I: IntoIterator<Item = Origin>>(mut self, origins: I) -> Self {
        for o in origins {
            if !self.allow_http.contains(&o) {
                self.allow_http.push(o);
            }
        }
        if let Some(h) = self.hosts.take() {
            self.hosts = Some(h.with_allow_http(self.allow_http.iter().cloned()));
        }
        self
    }

    /// The host allow-list, if any.
    pub fn hosts(&self) -> Option<&HostList> {
        self.hosts.as_ref()
    }

    /// Resolve the token now.
    fn token(&self) -> Result<Secret, SignerError> {
        let token = match &self.source {
            Source::Static(s) => Some(s.clone()),
            Source::Computed(f) => f().map(Secret::from),
        };
        match token {
            Some(t) if !t.expose().trim().is_empty() => {
                if matches!(self.source, Source::Computed(_)) {
                    self.seen.record(&t);
                }
                Ok(t)
            }
            _ => Err(SignerError::Credentials {
                signer: "bearer",
                message: "bearer token must resolve to a non-empty string".into(),
            }),
        }
    }
}

/// `Authorization: Bearer <token>` as a header value.
pub(crate) fn bearer_header(
    signer: &'static str,
    token: &Secret,
) -> Result<http::HeaderValue, SignerError> {
    let mut v =
        http::HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            SignerError::Credentials {
                signer,
                message: "token contains characters not allowed in an HTTP header".into(),
            }
        })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The GDAL env carrying a bearer token.
pub(crate) fn bearer_env(token: &Secret) -> GdalEnv {
    GdalEnv::new().with(
        "GDAL_HTTP_HEADERS",
        format!("Authorization: Bearer {}", token.expose()),
    )
}

/// `sign_request` of every bearer-style signer: when `allowed` says the
/// request's origin may get the token, resolve it (minting it if needed)
/// and set `Authorization: Bearer <token>`; other origins get nothing and
/// cost nothing.
pub(crate) fn authorize(
    signer: &'static str,
    allowed: impl FnOnce(&Origin) -> bool,
    request: &mut Request,
    token: impl FnOnce() -> Result<Secret, SignerError>,
) -> Result<(), SignerError> {
    if !Origin::of_request(request).is_some_and(|o| allowed(&o)) {
        return Ok(());
    }
    let value = bearer_header(signer, &token()?)?;
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    Ok(())
}

/// `gdal_env_for` of every bearer-style signer with a host list: the header
/// env for the list's origins (https, or plain http where allowed), an
/// empty env (and no token resolved) for the others.
pub(crate) fn env_for(
    hosts: &HostList,
    href: &str,
    token: impl FnOnce() -> Result<Secret, SignerError>,
) -> Result<GdalEnv, SignerError> {
    if hosts.allows_bearer_url(href) {
        Ok(bearer_env(&token()?))
    } else {
        Ok(GdalEnv::new())
    }
}

impl Signer for BearerTokenSigner {
    fn name(&self) -> &str {
        "bearer"
    }

    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        let allowed = |o: &Origin| match &self.hosts {
            Some(h) => h.allows_bearer_origin(o),
            None => {
                let ok = secure_or_allowed(o, &self.allow_http);
                if !ok {
                    let mut r = self.refused_http.lock().unwrap_or_else(|p| p.into_inner());
                    if !r.contains(o) && r.len() < 16 {
                        r.push(o.clone());
                    }
                }
                ok
            }
        };
        authorize("bearer", allowed, request, || self.token())
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(href.to_owned())
    }

    /// The header for the host list's origins; nothing without a host list.
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        match &self.hosts {
            Some(h) => env_for(h, href, || self.token()),
            None => Ok(GdalEnv::new()),
        }
    }

    /// Only origins of an explicit allow-list ([`with_hosts`](Self::with_hosts)).
    fn allows_url(&self, url: &str) -> bool {
        self.hosts
            .as_ref()
            .is_some_and(|h| h.allows_bearer_url(url))
    }

    fn secrets(&self) -> Vec<Secret> {
        match &self.source {
            Source::Static(s) => vec![s.clone()],
            Source::Computed(_) => self.seen.all(),
        }
    }

    /// The host list's unused entries; without a list, the plain-http
    /// origins the token was withheld from.
    fn unused_hosts(&self) -> Vec<UnusedHost> {
        match &self.hosts {
            Some(h) => h.unused_for("bearer"),
            None => self
                .refused_http
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|o| UnusedHost {
                    signer: "bearer".into(),
                    entry: o.to_string(),
                    plain_http_refused: true,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unscoped_token_goes_over_https_or_allowed_http_only_and_refusals_are_reported() {
        let get = |u: &str| http::Request::get(u).body(Vec::new()).unwrap();
        let s = BearerTokenSigner::new("t0ken");
        let mut r = get("https://api.example/search");
        s.sign_request(&mut r).unwrap();
        assert!(r.headers().contains_key("authorization"));
        let mut r = get("http://127.0.0.1:8081/search");
        s.sign_request(&mut r).unwrap();
        assert!(!r.headers().contains_key("authorization"));
        let unused = s.unused_hosts();
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].entry, "http://127.0.0.1:8081");
        assert!(unused[0].to_string().contains("--allow-http"));
        let s = s.with_allow_http(["127.0.0.1:8081".parse().unwrap()]);
        let mut r = get("http://127.0.0.1:8081/search");
        s.sign_request(&mut r).unwrap();
        assert!(r.headers().contains_key("authorization"));
        // Built-in host lists are not reported as unused.
        let edl = crate::EarthdataSigner::with_options(
            crate::EarthdataOptions::default().with_token("x"),
        );
        assert!(edl.unused_hosts().is_empty());
    }
}
