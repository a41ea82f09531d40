//! NASA Earthdata Login: a Bearer token, static or minted with username and
//! password at the find-or-create-token endpoint.

use std::time::Duration;

use crate::bearer::{authorize, env_for};
use crate::hosts::{HostList, UnusedHost};
use crate::origin::Origin;
use crate::secret::{Secret, SecretLog, env_secret, env_string};
use crate::token_cache::{Cached, TokenCache};
use crate::{GdalEnv, Request, Signer, SignerError};

const NAME: &str = "earthdata";
/// Earthdata Login's find-or-create-token endpoint.
pub const EARTHDATA_TOKEN_URL: &str =
    "https://urs.earthdata.nasa.gov/api/users/find_or_create_token";

/// Options of [`EarthdataSigner`]; unset credentials fall back to the
/// environment (`EARTHDATA_TOKEN`, `EARTHDATA_PAT`, `EARTHDATA_USERNAME`,
/// `EARTHDATA_PASSWORD`).
///
/// ```
/// use stac_signers::{EarthdataOptions, EarthdataSigner, Signer};
/// let signer = EarthdataSigner::with_options(EarthdataOptions::default().with_token("edl-token"));
/// // The token goes to Earthdata hosts over https only, never elsewhere.
/// assert!(signer.allows_url("https://data.lpdaac.earthdatacloud.nasa.gov/x.tif"));
/// assert!(!signer.allows_url("https://example.com/x.tif"));
/// assert!(!format!("{signer:?}").contains("edl-token"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EarthdataOptions {
    /// A static token (never refreshed).
    pub token: Option<Secret>,
    /// Username for minting.
    pub username: Option<String>,
    /// Password for minting.
    pub password: Option<Secret>,
    /// Token endpoint (default [`EARTHDATA_TOKEN_URL`]).
    pub token_url: String,
    /// Origins the token is sent to (default `.earthdata.nasa.gov`,
    /// `.earthdatacloud.nasa.gov`: every subdomain, https, port 443).
    pub hosts: HostList,
    /// A minted token is renewed once it has less than this left. Default 300 s.
    pub refresh_window: Duration,
    /// Timeout of one token request. Default 30 s.
    pub timeout: Duration,
}

impl Default for EarthdataOptions {
    fn default() -> Self {
        Self {
            token: None,
            username: None,
            password: None,
            token_url: EARTHDATA_TOKEN_URL.to_owned(),
            hosts: HostList::new([".earthdata.nasa.gov", ".earthdatacloud.nasa.gov"]),
            refresh_window: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
        }
    }
}

impl EarthdataOptions {
    /// Use a static token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }
    /// Mint with these credentials.
    pub fn with_login(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(Secret::new(password));
        self
    }
    /// Set the token endpoint.
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }
    /// Set the origins the token is sent to (see [`HostList`]).
    pub fn with_hosts(mut self, hosts: HostList) -> Self {
        self.hosts = hosts;
        self
    }
    /// Also send the token over plain http to these origins.
    pub fn with_allow_http<I: IntoIterator<Item = Origin>>(mut self, origins: I) -> Self {
        self.hosts = self.hosts.with_allow_http(origins);
        self
    }
    /// Set the refresh window.
    pub fn with_refresh_window(mut self, window: Duration) -> Self {
        self.refresh_window = window;
        self
    }
    /// Set the request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Earthdata Login Bearer tokens for NASA DAACs.
///
/// A static token (argument, `EARTHDATA_TOKEN` or `EARTHDATA_PAT`) is used as
/// is. Otherwise a token is minted with username and password (HTTP basic
/// auth, feature `network`) and cached until its `expiration_date` minus the
/// refresh window (one hour when the server gives none). Requests get
/// `Authorization: Bearer` only when they go to the configured hosts.
///
/// ```
/// use stac_signers::{EarthdataOptions, EarthdataSigner, Signer};
/// let s = EarthdataSigner::with_options(EarthdataOptions::default().with_token("edl-tok"));
/// let env = s.gdal_env_for("https://data.lpdaac.earthdatacloud.nasa.gov/a.tif")?;
/// assert_eq!(env.get("GDAL_HTTP_HEADERS"), Some("Authorization: Bearer edl-tok"));
/// assert!(s.gdal_env_for("https://example.com/a.tif")?.is_empty());
/// assert_eq!(s.sign_href("https://example.com/scene.tif")?, "https://example.com/scene.tif");
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
pub struct EarthdataSigner {
    static_token: Option<Secret>,
    username: Option<String>,
    password: Option<Secret>,
    token_url: String,
    hosts: HostList,
    #[cfg_attr(not(feature = "network"), allow(dead_code))]
    timeout: Duration,
    cache: TokenCache<(), Secret>,
    minted: SecretLog,
    builtin_hosts: bool,
}

impl std::fmt::Debug for EarthdataSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarthdataSigner")
            .field("static_token", &self.static_token)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("token_url", &stac_meta::redact(&self.token_url))
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Default for EarthdataSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl EarthdataSigner {
    /// Credentials from the environment.
    pub fn new() -> Self {
        Self::with_options(EarthdataOptions::default())
    }

    /// With options (unset credentials from the environment).
    pub fn with_options(options: EarthdataOptions) -> Self {
        Self {
            static_token: options
                .token
                .filter(|t| !t.is_empty())
                .or_else(|| env_secret("EARTHDATA_TOKEN"))
                .or_else(|| env_secret("EARTHDATA_PAT")),
            username: options
                .username
                .or_else(|| env_string("EARTHDATA_USERNAME")),
            password: options
                .password
                .or_else(|| env_secret("EARTHDATA_PASSWORD")),
            token_url: options.token_url,
            builtin_hosts: options.hosts.patterns() == EarthdataOptions::default().hosts.patterns(),
            hosts: options.hosts,
            timeout: options.timeout,
            cache: TokenCache::new(options.refresh_window),
            minted: SecretLog::default(),
        }
    }

    /// The origins the token is sent to.
    pub fn hosts(&self) -> &HostList {
        &self.hosts
    }

    fn token(&self) -> Result<Secret, SignerError> {
        if let Some(t) = &self.static_token {
            return Ok(t.clone());
        }
        let (Some(user), Some(password)) = (&self.username, &self.password) else {
            return Err(SignerError::Credentials {
                signer: NAME,
                message: "EarthdataSigner needs a token (EARTHDATA_TOKEN or EARTHDATA_PAT) \
                          or EARTHDATA_USERNAME + EARTHDATA_PASSWORD."
                    .into(),
            });
        };
        self.cache.get_or_mint(&(), |_| self.mint(user, password))
    }

    #[cfg(feature = "network")]
    fn mint(&self, user: &str, password: &Secret) -> Result<Cached<Secret>, SignerError> {
        use crate::Redactor;
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose()));
        let auth = format!("Basic {basic}");
        let client = crate::http_client::HttpClient::new(NAME, self.timeout, Redactor::of(self));
        let body = client.post_empty_json(&self.token_url, &[("Authorization", &auth)])?;
        let token = body
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SignerError::Token {
                signer: NAME,
                message: format!(
                    "{}: response has no `access_token` string",
                    stac_meta::redact(&self.token_url)
                ),
            })?;
        let expires_at = body
            .get("expiration_date")
            .and_then(|e| e.as_str())
            .and_then(crate::expiry::parse_expiry)
            .unwrap_or_else(|| crate::expiry::in_seconds(3600));
        let value = Secret::new(token);
        self.minted.record(&value);
        Ok(Cached { value, expires_at })
    }

    #[cfg(not(feature = "network"))]
    fn mint(&self, _user: &str, _password: &Secret) -> Result<Cached<Secret>, SignerError> {
        Err(SignerError::NetworkDisabled {
            signer: NAME,
            what: "minting an Earthdata token",
        })
    }
}

impl Signer for EarthdataSigner {
    fn name(&self) -> &str {
        NAME
    }

    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        authorize(
            NAME,
            |o| self.hosts.allows_bearer_origin(o),
            request,
            || self.token(),
        )
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(href.to_owned())
    }

    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        env_for(&self.hosts, href, || self.token())
    }

    fn allows_url(&self, url: &str) -> bool {
        self.hosts.allows_bearer_url(url)
    }

    /// The static token, the password, the Basic `user:password` sent to
    /// the token endpoint (base64), and every token minted.
    fn secrets(&self) -> Vec<Secret> {
        use base64::Engine as _;
        let mut out: Vec<Secret> = self.static_token.iter().cloned().collect();
        if let Some(p) = &self.password {
            out.push(p.clone());
            if let Some(u) = &self.username {
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{}", p.expose()));
                out.push(Secret::new(basic));
            }
        }
        out.extend(self.minted.all());
        out
    }

    /// Entries the user gave that matched nothing (the built-in list is
    /// not reported: a run rarely touches all of its hosts).
    fn unused_hosts(&self) -> Vec<UnusedHost> {
        if self.builtin_hosts {
            return Vec::new();
        }
        self.hosts.unused_for(NAME)
    }
}
