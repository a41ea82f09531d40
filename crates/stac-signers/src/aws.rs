//! AWS requester-pays buckets: GDAL options for `/vsis3/` and SigV4 for
//! plain HTTP requests.

use crate::hosts::{HostList, UnusedHost};
use crate::origin::Origin;
use crate::secret::{Secret, env_secret, env_string};
use crate::{GdalEnv, Request, Signer, SignerError};

/// AWS credentials: access key id, secret access key, optional session token.
/// The secret parts never show in `Debug`.
///
/// ```
/// let c = stac_signers::AwsCredentials::new("AKID", "s3cr3t").with_session_token("tok");
/// let shown = format!("{c:?}");
/// assert!(shown.contains("AKID") && !shown.contains("s3cr3t") && !shown.contains("tok\""));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl AwsCredentials {
    /// Credentials from a key pair.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: None,
        }
    }

    /// Add a session token (temporary credentials).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(Secret::new(token));
        self
    }

    /// From the standard environment variables `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`; `None` when
    /// the pair is incomplete.
    pub fn from_env() -> Option<Self> {
        let id = env_string("AWS_ACCESS_KEY_ID")?;
        let secret = env_secret("AWS_SECRET_ACCESS_KEY")?;
        Some(Self {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env_secret("AWS_SESSION_TOKEN"),
        })
    }

    /// The access key id (not a secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        self.secret_access_key.expose()
    }

    /// The session token, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(Secret::expose)
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

/// Options of [`AwsRequesterPaysSigner`].
///
/// ```
/// use stac_signers::{AwsCredentials, AwsOptions, AwsRequesterPaysSigner, HostList, Signer};
/// // Explicit credentials, scoped to one S3-compatible endpoint.
/// let options = AwsOptions::new()
///     .with_credentials(AwsCredentials::new("AKID", "secret"))
///     .with_hosts(HostList::new(["s3.example.org"]));
/// let signer = AwsRequesterPaysSigner::with_options(Some("eu-west-1"), options);
/// assert!(signer.allows_url("https://s3.example.org/bucket/key"));
/// assert!(!signer.allows_url("https://other.example/bucket/key"));
/// // The secret reaches GDAL only for the origin it is for.
/// let env = signer.gdal_env_for("https://s3.example.org/bucket/key.tif")?;
/// assert!(env.iter().any(|(k, _)| k == "AWS_SECRET_ACCESS_KEY"));
/// assert!(signer.gdal_env_for("https://other.example/key.tif")?.iter().all(|(k, _)| k != "AWS_SECRET_ACCESS_KEY"));
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwsOptions {
    /// Explicit credentials; `None`: the standard environment variables at signing time.
    pub credentials: Option<AwsCredentials>,
    /// Origins that `sign_request` signs and that get the GDAL env over
    /// http(s). `None`: https on port 443 to `s3.amazonaws.com`, its
    /// subdomains (`bucket.s3.us-west-2.amazonaws.com`, ...) and
    /// `*.amazonaws.com` S3 endpoints; requests to other origins go out
    /// untouched. (SigV4 sends a signature, never the secret key, so a
    /// listed plain-http endpoint, e.g. a local S3-compatible server, is
    /// signed too.)
    pub hosts: Option<HostList>,
    /// Add the credentials to the GDAL env (`AWS_ACCESS_KEY_ID`, ...) when
    /// they were given explicitly. Default `true`.
    pub credentials_in_gdal_env: bool,
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self {
            credentials: None,
            hosts: None,
            credentials_in_gdal_env: true,
        }
    }
}

impl AwsOptions {
    /// Defaults: credentials from the environment, AWS hosts only.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use these credentials.
    pub fn with_credentials(mut self, credentials: AwsCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
    /// Sign requests to these origins only (see [`HostList`]).
    pub fn with_hosts(mut self, hosts: HostList) -> Self {
        self.hosts = Some(hosts);
        self
    }
    /// Whether explicit credentials go into the GDAL env.
    pub fn with_credentials_in_gdal_env(mut self, on: bool) -> Self {
        self.credentials_in_gdal_env = on;
        self
    }
}

/// Requester-pays S3 access.
///
/// `gdal_env_for` an S3 href (`s3://`, `/vsis3/`, or an http(s) URL of an
/// origin it signs) tells GDAL's `/vsis3/` to send `x-amz-request-payer:
/// requester` and to avoid directory listings and HEAD requests, plus
/// explicit credentials; every other href gets an empty env.
/// `sign_request` signs HTTP requests to the origins it is for with SigV4
/// (service `s3`), adding that header (needs feature `network`). Hrefs are
/// not rewritten.
///
/// ```
/// use stac_signers::{AwsRequesterPaysSigner, Signer};
/// let env = AwsRequesterPaysSigner::new(Some("us-west-2")).gdal_env_for("s3://bucket/key.tif")?;
/// let keys: Vec<_> = env.iter().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_REQUEST_PAYER",
///                   "GDAL_DISABLE_READDIR_ON_OPEN", "CPL_VSIL_CURL_USE_HEAD"]);
/// assert_eq!(AwsRequesterPaysSigner::new(None).gdal_env_for("/vsis3/b/k.tif")?.len(), 3);
/// assert!(AwsRequesterPaysSigner::new(None).gdal_env_for("https://example.com/k.tif")?.is_empty());
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AwsRequesterPaysSigner {
    region: Option<String>,
    options: AwsOptions,
}

impl AwsRequesterPaysSigner {
    /// A signer for `region` (`None`: GDAL's and SigV4's default, `us-east-1`).
    pub fn new(region: Option<&str>) -> Self {
        Self::with_options(region, AwsOptions::new())
    }

    /// A signer with options.
    pub fn with_options(region: Option<&str>, options: AwsOptions) -> Self {
        Self {
            region: region.filter(|r| !r.is_empty()).map(str::to_owned),
            options,
        }
    }

    /// The region, as given.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether `sign_request` signs requests to `host` over https on port 443.
    pub fn signs_host(&self, host: &str) -> bool {
        self.signs_origin(&Origin::new("https", host, 443))
    }

    /// Whether `sign_request` signs requests to `origin`.
    pub fn signs_origin(&self, origin: &Origin) -> bool {
        match &self.options.hosts {
            Some(list) => list.allows_origin(origin),
            None => {
                let h = origin.host();
                origin.is_https()
                    && origin.port() == 443
                    && (h == "s3.amazonaws.com"
                        || (h.ends_with(".amazonaws.com")
                            && (h.starts_with("s3.")
                                || h.starts_with("s3-")
                                || h.contains(".s3.")
                                || h.contains(".s3-"))))
            }
        }
    }

    /// Whether `href` is read through S3 (`s3://`, `/vsis3/`,
    /// `/vsis3_streaming/`) or is an http(s) URL of an origin it signs.
    fn is_for(&self, href: &str) -> bool {
        let h = href.trim_start();
        let lower = h.get(..18).unwrap_or(h).to_ascii_lowercase();
        lower.starts_with("s3://")
            || lower.starts_with("/vsis3/")
            || lower.starts_with("/vsis3_streaming/")
            || Origin::of_url(h).is_some_and(|o| self.signs_origin(&o))
    }

    fn credentials(&self) -> Result<AwsCredentials, SignerError> {
        self.options
            .credentials
            .clone()
            .or_else(AwsCredentials::from_env)
            .ok_or_else(|| SignerError::Credentials {
                signer: "aws-requester-pays",
                message: "no AWS credentials: set AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY \
                          or pass AwsOptions::with_credentials"
                    .into(),
            })
    }
}

impl Signer for AwsRequesterPaysSigner {
    fn name(&self) -> &str {
        "aws-requester-pays"
    }

    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        if !Origin::of_request(request).is_some_and(|o| self.signs_origin(&o)) {
            return Ok(());
        }
        #[cfg(feature = "network")]
        {
            let creds = self.credentials()?;
            request.headers_mut().insert(
                "x-amz-request-payer",
                http::HeaderValue::from_static("requester"),
            );
            let settings = crate::SigV4Settings::s3(self.region.as_deref().unwrap_or("us-east-1"));
            crate::sign_sigv4(request, &creds, &settings)?;
            Ok(())
        }
        #[cfg(not(feature = "network"))]
        {
            let _ = self.credentials()?;
            Err(SignerError::NetworkDisabled {
                signer: "aws-requester-pays",
                what: "SigV4 request signing",
            })
        }
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(href.to_owned())
    }

    /// The origins it signs ([`signs_origin`](AwsRequesterPaysSigner::signs_origin)).
    fn allows_url(&self, url: &str) -> bool {
        Origin::of_url(url).is_some_and(|o| self.signs_origin(&o))
    }

    /// The secret access key and session token (explicit, else from the
    /// environment).
    fn secrets(&self) -> Vec<Secret> {
        let creds = self
            .options
            .credentials
            .clone()
            .or_else(AwsCredentials::from_env);
        creds
            .map(|c| {
                let mut v = vec![c.secret_access_key.clone()];
                v.extend(c.session_token.clone());
                v
            })
            .unwrap_or_default()
    }

    fn unused_hosts(&self) -> Vec<UnusedHost> {
        self.options
            .hosts
            .as_ref()
            .map(|h| h.unused_for("aws-requester-pays"))
            .unwrap_or_default()
    }

    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        if !self.is_for(href) {
            return Ok(GdalEnv::new());
        }
        let mut env = GdalEnv::new();
        if let Some(region) = &self.region {
            env.set("AWS_REGION", region.as_str());
            env.set("AWS_DEFAULT_REGION", region.as_str());
        }
        env.set("AWS_REQUEST_PAYER", "requester");
        env.set("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
        env.set("CPL_VSIL_CURL_USE_HEAD", "NO");
        if self.options.credentials_in_gdal_env {
            if let Some(c) = &self.options.credentials {
                env.set("AWS_ACCESS_KEY_ID", c.access_key_id());
                env.set("AWS_SECRET_ACCESS_KEY", c.secret_access_key());
                if let Some(t) = c.session_token() {
                    env.set("AWS_SESSION_TOKEN", t);
                }
            }
        }
        Ok(env)
    }
}
