//! Microsoft Planetary Computer: SAS tokens appended to Azure Blob hrefs.

use std::time::Duration;

use crate::secret::{Secret, SecretLog, env_secret, env_string};
use crate::token_cache::{Cached, TokenCache};
use crate::{Request, Signer, SignerError};

const NAME: &str = "planetary-computer";
/// Planetary Computer's SAS token endpoint.
pub const PC_SAS_URL: &str = "https://planetarycomputer.microsoft.com/api/sas/v1/token";
const BLOB_SUFFIX: &str = ".blob.core.windows.net";
const PUBLIC_ACCOUNT_HOST: &str = "ai4edatasetspublicassets.blob.core.windows.net";

/// Options of [`PlanetaryComputerSigner`].
///
/// ```
/// use std::time::Duration;
/// use stac_signers::{PcOptions, PlanetaryComputerSigner};
/// let options = PcOptions::default()
///     .with_sas_url("http://127.0.0.1:9/api/sas/v1/token")
///     .with_subscription_key("key")
///     .with_timeout(Duration::from_secs(5));
/// let signer = PlanetaryComputerSigner::with_options(options);
/// // The subscription key never appears in Debug output.
/// assert!(!format!("{signer:?}").contains("\"key\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PcOptions {
    /// Token endpoint (`None`: `PC_SDK_SAS_URL`, else [`PC_SAS_URL`]).
    pub sas_url: Option<String>,
    /// Subscription key sent as `Ocp-Apim-Subscription-Key` (`None`: `PC_SDK_SUBSCRIPTION_KEY`).
    pub subscription_key: Option<Secret>,
    /// A token is renewed once it has less than this left. Default 60 s.
    pub refresh_window: Duration,
    /// Timeout of one token request. Default 30 s.
    pub timeout: Duration,
}

impl Default for PcOptions {
    fn default() -> Self {
        Self {
            sas_url: None,
            subscription_key: None,
            refresh_window: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

impl PcOptions {
    /// Set the token endpoint.
    pub fn with_sas_url(mut self, url: impl Into<String>) -> Self {
        self.sas_url = Some(url.into());
        self
    }
    /// Set the subscription key.
    pub fn with_subscription_key(mut self, key: impl Into<String>) -> Self {
        self.subscription_key = Some(Secret::new(key));
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

/// Signs Azure Blob hrefs of Planetary Computer datasets with SAS tokens.
///
/// Only `https://<account>.blob.core.windows.net/<container>/...` hrefs are
/// signed (not the public `ai4edatasetspublicassets` account); hrefs already
/// carrying a SAS (`st`, `se`, `sp` or `sig` in the query) and every other
/// host come back unchanged without any network. Tokens are fetched per
/// (account, container) from the token endpoint (feature `network`), cached
/// until `msft:expiry` minus the refresh window, and minted once when many
/// threads ask at the same time. A token is only ever appended to hrefs of
/// the account and container it was issued for. `gdal_env_for` is empty (the
/// SAS travels in the href).
///
/// ```
/// use stac_signers::{PlanetaryComputerSigner, Signer};
/// let pc = PlanetaryComputerSigner::new();
/// assert_eq!(pc.sign_href("https://example.com/scene.tif")?, "https://example.com/scene.tif");
/// assert!(pc.gdal_env_for("https://acct.blob.core.windows.net/c/b.tif")?.is_empty());
/// let signed = "https://acct.blob.core.windows.net/c/b.tif?se=2034&sig=abc";
/// assert_eq!(pc.sign_href(signed)?, signed);
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
pub struct PlanetaryComputerSigner {
    sas_url: String,
    subscription_key: Option<Secret>,
    #[cfg_attr(not(feature = "network"), allow(dead_code))]
    timeout: Duration,
    cache: TokenCache<(String, String), Secret>,
    minted: SecretLog,
}

impl std::fmt::Debug for PlanetaryComputerSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanetaryComputerSigner")
            .field("sas_url", &stac_meta::redact(&self.sas_url))
            .field("subscription_key", &self.subscription_key)
            .finish_non_exhaustive()
    }
}

impl Default for PlanetaryComputerSigner {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a Planetary Computer href points: storage account and container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobTarget {
    /// Storage account (host label before `.blob.core.windows.net`).
    pub account: String,
    /// Container (first path segment).
    pub container: String,
}

/// The account and container of an href this signer would sign, or `None`
/// (other host, the public account, already signed, missing parts). No I/O.
///
/// ```
/// use stac_signers::planetary_computer_target;
/// let t = planetary_computer_target("https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/a/b.tif").unwrap();
/// assert_eq!((t.account.as_str(), t.container.as_str()), ("sentinel2l2a01", "sentinel2-l2"));
/// assert!(planetary_computer_target("https://ai4edatasetspublicassets.blob.core.windows.net/x/y").is_none());
/// ```
pub fn planetary_computer_target(href: &str) -> Option<BlobTarget> {
    let url = url::Url::parse(href).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    if !host.ends_with(BLOB_SUFFIX) || host == PUBLIC_ACCOUNT_HOST {
        return None;
    }
    if url
        .query_pairs()
        .any(|(k, _)| matches!(k.as_ref(), "st" | "se" | "sp" | "sig"))
    {
        return None;
    }
    let account = host.split('.').next().filter(|a| !a.is_empty())?.to_owned();
    let container = url.path_segments()?.find(|s| !s.is_empty())?.to_owned();
    Some(BlobTarget { account, container })
}

impl PlanetaryComputerSigner {
    /// A signer with default options (environment variables honoured).
    pub fn new() -> Self {
        Self::with_options(PcOptions::default())
    }

    /// A signer with options; unset ones fall back to `PC_SDK_SAS_URL` /
    /// `PC_SDK_SUBSCRIPTION_KEY`, then to Planetary Computer's endpoint.
    pub fn with_options(options: PcOptions) -> Self {
        let sas_url = options
            .sas_url
            .or_else(|| env_string("PC_SDK_SAS_URL"))
            .unwrap_or_else(|| PC_SAS_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        Self {
            sas_url,
            subscription_key: options
                .subscription_key
                .or_else(|| env_secret("PC_SDK_SUBSCRIPTION_KEY")),
            timeout: options.timeout,
            cache: TokenCache::new(options.refresh_window),
            minted: SecretLog::default(),
        }
    }

    /// The token endpoint in use.
    pub fn sas_url(&self) -> &str {
        &self.sas_url
    }

    /// The SAS token (a query string) for an account and container, from the
    /// cache or minted now (network).
    fn token(&self, target: &BlobTarget) -> Result<Secret, SignerError> {
        let key = (target.account.clone(), target.container.clone());
        self.cache.get_or_mint(&key, |_| self.mint(target))
    }

    #[cfg(feature = "network")]
    fn mint(&self, target: &BlobTarget) -> Result<Cached<Secret>, SignerError> {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        let url = format!(
            "{}/{}/{}",
            self.sas_url,
            utf8_percent_encode(&target.account, NON_ALPHANUMERIC),
            utf8_percent_encode(&target.container, NON_ALPHANUMERIC)
        );
        let client = crate::http_client::HttpClient::new(
            NAME,
            self.timeout,
            crate::Redactor::new(self.secrets()),
        );
        let headers: Vec<(&str, &str)> = self
            .subscription_key
            .as_ref()
            .map(|k| ("Ocp-Apim-Subscription-Key", k.expose()))
            .into_iter()
            .collect();
        let body = client.get_json(&url, &headers)?;
        let token = body
            .get("token")
            .and_then(|t| t.as_str())
            .map(|t| t.trim_start_matches('?'))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SignerError::Token {
                signer: NAME,
                message: format!(
                    "{}: response has no `token` string",
                    stac_meta::redact(&url)
                ),
            })?;
        // Missing or unparsable expiry: use the token now, treat it as expired next time.
        let expires_at = body
            .get("msft:expiry")
            .and_then(|e| e.as_str())
            .and_then(crate::expiry::parse_expiry)
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        let value = Secret::new(token);
        self.minted.record(&value);
        Ok(Cached { value, expires_at })
    }

    #[cfg(not(feature = "network"))]
    fn mint(&self, _target: &BlobTarget) -> Result<Cached<Secret>, SignerError> {
        Err(SignerError::NetworkDisabled {
            signer: NAME,
            what: "fetching a SAS token",
        })
    }
}

impl Signer for PlanetaryComputerSigner {
    fn name(&self) -> &str {
        NAME
    }

    fn sign_request(&self, _request: &mut Request) -> Result<(), SignerError> {
        Ok(())
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        let Some(target) = planetary_computer_target(href) else {
            return Ok(href.to_owned());
        };
        let token = self.token(&target)?;
        // Keep a fragment last.
        let (base, fragment) = match href.find('#') {
            Some(i) => (&href[..i], &href[i..]),
            None => (href, ""),
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(format!("{base}{sep}{}{fragment}", token.expose()))
    }

    /// The subscription key and every SAS token minted (each whole, and
    /// its `sig` value alone).
    fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self.subscription_key.iter().cloned().collect();
        for token in self.minted.all() {
            for (k, v) in url::form_urlencoded::parse(token.expose().as_bytes()) {
                if k == "sig" {
                    out.push(Secret::new(v.into_owned()));
                }
            }
            out.push(token);
        }
        out
    }

    /// Every URL: requests carry nothing (the SAS goes into hrefs only).
    fn allows_url(&self, _url: &str) -> bool {
        true
    }
}
