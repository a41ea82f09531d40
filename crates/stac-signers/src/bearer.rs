//! A static or computed Bearer token, optionally scoped to some hosts.

use std::sync::Arc;

use crate::hosts::{HostList, request_host};
use crate::secret::Secret;
use crate::{GdalEnv, Request, Signer, SignerError};

type TokenFn = dyn Fn() -> Option<String> + Send + Sync;

#[derive(Clone)]
enum Source {
    Static(Secret),
    Computed(Arc<TokenFn>),
}

/// `Authorization: Bearer <token>` on requests and, through
/// `GDAL_HTTP_HEADERS`, on GDAL reads.
///
/// The token is a fixed value or a closure called on **every** use (so a
/// rotating token is picked up); it must resolve to a non-empty string. With
/// a host allow-list the header goes only to those hosts (requests to other
/// hosts are left untouched, and [`Signer::gdal_env_for`] is empty for them).
/// Caveat: GDAL forwards `GDAL_HTTP_HEADERS` across redirects, even to other
/// hosts.
///
/// ```
/// use stac_signers::{BearerTokenSigner, Signer};
/// let env = BearerTokenSigner::new("demo-token").gdal_env()?;
/// assert_eq!(env.get("GDAL_HTTP_HEADERS"), Some("Authorization: Bearer demo-token"));
/// let env = BearerTokenSigner::from_fn(|| "cb-token".to_string()).gdal_env()?;
/// assert_eq!(env.get("GDAL_HTTP_HEADERS"), Some("Authorization: Bearer cb-token"));
/// let err = BearerTokenSigner::new("").gdal_env().unwrap_err();
/// assert!(err.to_string().contains("bearer token must resolve to a non-empty string"));
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Clone)]
pub struct BearerTokenSigner {
    source: Source,
    hosts: Option<HostList>,
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
            .finish()
    }
}

impl BearerTokenSigner {
    /// A fixed token.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            source: Source::Static(Secret::new(token)),
            hosts: None,
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
        }
    }

    /// Send the token only to these hosts.
    pub fn with_hosts(mut self, hosts: HostList) -> Self {
        self.hosts = Some(hosts);
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
            Some(t) if !t.expose().trim().is_empty() => Ok(t),
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

/// `sign_request` of every bearer-style signer: when the request's host is
/// allowed, resolve the token (minting it if needed) and set
/// `Authorization: Bearer <token>`; other hosts get nothing and cost nothing.
pub(crate) fn authorize(
    signer: &'static str,
    hosts: Option<&HostList>,
    request: &mut Request,
    token: impl FnOnce() -> Result<Secret, SignerError>,
) -> Result<(), SignerError> {
    if !request_allowed(hosts, request) {
        return Ok(());
    }
    let value = bearer_header(signer, &token()?)?;
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    Ok(())
}

/// `gdal_env_for` of every bearer-style signer: the header env for allowed
/// hosts, an empty env (and no token resolved) for the others.
pub(crate) fn env_for(
    hosts: Option<&HostList>,
    href: &str,
    token: impl FnOnce() -> Result<Secret, SignerError>,
) -> Result<GdalEnv, SignerError> {
    match hosts {
        Some(list) if !list.allows_url(href) => Ok(GdalEnv::new()),
        _ => Ok(bearer_env(&token()?)),
    }
}

/// Whether an optional allow-list lets a request through (`None`: every host).
pub(crate) fn request_allowed(hosts: Option<&HostList>, request: &Request) -> bool {
    match hosts {
        None => true,
        Some(list) => request_host(request).is_some_and(|h| list.allows_host(&h)),
    }
}

impl Signer for BearerTokenSigner {
    fn name(&self) -> &str {
        "bearer"
    }

    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        authorize("bearer", self.hosts.as_ref(), request, || self.token())
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(href.to_owned())
    }

    fn gdal_env(&self) -> Result<GdalEnv, SignerError> {
        Ok(bearer_env(&self.token()?))
    }

    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        env_for(self.hosts.as_ref(), href, || self.token())
    }

    /// Only hosts of an explicit allow-list ([`with_hosts`](Self::with_hosts)).
    fn allows_url(&self, url: &str) -> bool {
        self.hosts.as_ref().is_some_and(|h| h.allows_url(url))
    }
}
