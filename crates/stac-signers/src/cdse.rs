//! Copernicus Data Space Ecosystem: OAuth2 password grant, then refresh grant.

use std::time::Duration;

use crate::bearer::{authorize, env_for};
use crate::hosts::{HostList, UnusedHost};
use crate::origin::Origin;
use crate::secret::{Secret, SecretLog, env_secret, env_string};
use crate::token_cache::{Cached, TokenCache};
use crate::{GdalEnv, Request, Signer, SignerError};

const NAME: &str = "cdse";
/// The CDSE identity token endpoint.
pub const CDSE_TOKEN_URL: &str =
    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token";

/// Options of [`CdseSigner`]; unset credentials fall back to `CDSE_USERNAME`
/// / `CDSE_PASSWORD`.
///
/// ```
/// use std::time::Duration;
/// use stac_signers::{CdseOptions, CdseSigner, Signer};
/// let options = CdseOptions::default()
///     .with_login("user", "password")
///     .with_refresh_window(Duration::from_secs(60))
///     .with_timeout(Duration::from_secs(10));
/// let signer = CdseSigner::with_options(options);
/// // The token goes to Copernicus Data Space hosts over https only.
/// assert!(signer.allows_url("https://zipper.dataspace.copernicus.eu/odata/v1/x"));
/// assert!(!signer.allows_url("http://zipper.dataspace.copernicus.eu/odata/v1/x"));
/// assert!(!signer.allows_url("https://example.com/x"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CdseOptions {
    /// Username.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// OAuth2 client id. Default `cdse-public`.
    pub client_id: String,
    /// Token endpoint (default [`CDSE_TOKEN_URL`]).
    pub token_url: String,
    /// Origins the token is sent to (default `.dataspace.copernicus.eu`:
    /// every subdomain, https, port 443).
    pub hosts: HostList,
    /// A token is renewed once it has less than this left. Default 30 s.
    pub refresh_window: Duration,
    /// Timeout of one token request. Default 30 s.
    pub timeout: Duration,
}

impl Default for CdseOptions {
    fn default() -> Self {
        Self {
            username: None,
            password: None,
            client_id: "cdse-public".into(),
            token_url: CDSE_TOKEN_URL.into(),
            hosts: HostList::new([".dataspace.copernicus.eu"]),
            refresh_window: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

impl CdseOptions {
    /// Use these credentials.
    pub fn with_login(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(Secret::new(password));
        self
    }
    /// Set the OAuth2 client id.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
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

/// The tokens CDSE hands out.
#[derive(Clone)]
struct Tokens {
    access: Secret,
    #[cfg_attr(not(feature = "network"), allow(dead_code))]
    refresh: Option<Secret>,
}

/// Copernicus Data Space Bearer tokens.
///
/// The first token comes from an OAuth2 password grant; later ones from the
/// refresh-token grant, falling back to a password grant when the refresh
/// fails. Tokens are cached for `expires_in` seconds minus the refresh
/// window. Without credentials every hook that needs a token fails with a
/// clear error, without any network. Requests get `Authorization: Bearer`
/// only when they go to the configured hosts.
///
/// ```
/// use stac_signers::{CdseOptions, CdseSigner, Signer};
/// // No credentials (and none in the environment): a clear error, no network.
/// # unsafe { std::env::remove_var("CDSE_USERNAME"); std::env::remove_var("CDSE_PASSWORD"); }
/// let s = CdseSigner::with_options(CdseOptions::default());
/// let err = s.gdal_env_for("https://zipper.dataspace.copernicus.eu/a").unwrap_err();
/// assert!(err.to_string().contains("CDSESigner needs CDSE_USERNAME + CDSE_PASSWORD."));
/// ```
#[doc(alias = "CDSESigner")]
pub struct CdseSigner {
    username: Option<String>,
    password: Option<Secret>,
    client_id: String,
    token_url: String,
    hosts: HostList,
    #[cfg_attr(not(feature = "network"), allow(dead_code))]
    timeout: Duration,
    cache: TokenCache<(), Tokens>,
    minted: SecretLog,
    builtin_hosts: bool,
}

impl std::fmt::Debug for CdseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdseSigner")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("client_id", &self.client_id)
            .field("token_url", &stac_meta::redact(&self.token_url))
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Default for CdseSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl CdseSigner {
    /// Credentials from the environment.
    pub fn new() -> Self {
        Self::with_options(CdseOptions::default())
    }

    /// With options (unset credentials from the environment).
    pub fn with_options(options: CdseOptions) -> Self {
        Self {
            username: options.username.or_else(|| env_string("CDSE_USERNAME")),
            password: options.password.or_else(|| env_secret("CDSE_PASSWORD")),
            client_id: options.client_id,
            token_url: options.token_url,
            builtin_hosts: options.hosts.patterns() == CdseOptions::default().hosts.patterns(),
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

    fn missing_credentials() -> SignerError {
        SignerError::Credentials {
            signer: NAME,
            message: "CDSESigner needs CDSE_USERNAME + CDSE_PASSWORD.".into(),
        }
    }

    fn token(&self) -> Result<Secret, SignerError> {
        self.cache
            .get_or_mint(&(), |previous| self.mint(previous))
            .map(|t| t.access)
    }

    #[cfg(feature = "network")]
    fn mint(&self, previous: Option<&Tokens>) -> Result<Cached<Tokens>, SignerError> {
        let client = crate::http_client::HttpClient::new(
            NAME,
            self.timeout,
            crate::Redactor::new(self.secrets()),
        );
        if let Some(refresh) = previous.and_then(|p| p.refresh.as_ref()) {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", self.client_id.as_str()),
                ("refresh_token", refresh.expose()),
            ];
            // A failed refresh (expired, revoked, server error) falls back to a password grant.
            if let Ok(tokens) = client
                .post_form_json(&self.token_url, &form)
                .and_then(|body| self.parse(&body, Some(refresh)))
            {
                return Ok(tokens);
            }
        }
        let (Some(user), Some(password)) = (&self.username, &self.password) else {
            return Err(Self::missing_credentials());
        };
        let form = [
            ("grant_type", "password"),
            ("client_id", self.client_id.as_str()),
            ("username", user.as_str()),
            ("password", password.expose()),
        ];
        let body = client.post_form_json(&self.token_url, &form)?;
        self.parse(&body, None)
    }

    #[cfg(feature = "network")]
    fn parse(
        &self,
        body: &serde_json::Value,
        previous_refresh: Option<&Secret>,
    ) -> Result<Cached<Tokens>, SignerError> {
        let access = body
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
        let refresh = body
            .get("refresh_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .or_else(|| previous_refresh.cloned());
        let expires_in = body
            .get("expires_in")
            .and_then(|e| {
                e.as_u64()
                    .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(600);
        let access = Secret::new(access);
        self.minted.record(&access);
        if let Some(r) = &refresh {
            self.minted.record(r);
        }
        Ok(Cached {
            value: Tokens { access, refresh },
            expires_at: crate::expiry::in_seconds(expires_in),
        })
    }

    #[cfg(not(feature = "network"))]
    fn mint(&self, _previous: Option<&Tokens>) -> Result<Cached<Tokens>, SignerError> {
        if self.username.is_none() || self.password.is_none() {
            return Err(Self::missing_credentials());
        }
        Err(SignerError::NetworkDisabled {
            signer: NAME,
            what: "minting a CDSE token",
        })
    }
}

impl Signer for CdseSigner {
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

    /// The password and every access and refresh token minted.
    fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self.password.iter().cloned().collect();
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
