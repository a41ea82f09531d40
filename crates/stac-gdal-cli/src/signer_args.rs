//! `--signer NAME` and its settings, shared by `sign`, `env`, `search`,
//! `download`, `cube` and `point`: one place that turns CLI options into a
//! [`Signer`], and the run-wide record of the signers built (so `main` can
//! redact their secrets by value from any error, and report `--host`
//! entries that matched nothing).
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`). Scope: `--host` entries are origins (`host`,
//! `host:port`, `.suffix`, `scheme://host[:port]`; no port means the
//! scheme's default), and bearer-type tokens go over plain http only to the
//! origins named by `--allow-http`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use stac_gdal::signers::{
    AnonymousSigner, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, CdseOptions,
    CdseSigner, EarthdataOptions, EarthdataSigner, HostList, Origin, PcOptions,
    PlanetaryComputerSigner, Redactor, Signer,
};

/// Every signer built in this run.
fn registry() -> &'static Mutex<Vec<Arc<dyn Signer>>> {
    static SIGNERS: OnceLock<Mutex<Vec<Arc<dyn Signer>>>> = OnceLock::new();
    SIGNERS.get_or_init(Mutex::default)
}

fn registered() -> Vec<Arc<dyn Signer>> {
    registry()
        .lock()
        .map(|v| v.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

/// `text` with every secret of every signer of this run (configured, and
/// minted so far) replaced by `<redacted>`.
pub(crate) fn redact(text: &str) -> String {
    let mut r = Redactor::default();
    for s in registered() {
        r.extend(s.secrets());
    }
    r.redact(text).into_owned()
}

/// The `--host` entries (of every signer of this run) that matched no URL,
/// as warnings for stderr.
pub(crate) fn unused_host_warnings() -> Vec<String> {
    registered()
        .iter()
        .flat_map(|s| s.unused_hosts())
        .map(|u| u.to_string())
        .collect()
}

/// The signers the CLI knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SignerName {
    /// No credentials.
    Anonymous,
    /// AWS requester-pays S3 (`--region`).
    #[value(alias = "aws")]
    AwsRequesterPays,
    /// A Bearer token (`--token` or `STAC_GDAL_TOKEN`).
    Bearer,
    /// Planetary Computer SAS tokens (`--token-url`, `PC_SDK_SAS_URL`, `PC_SDK_SUBSCRIPTION_KEY`).
    #[value(alias = "pc", alias = "mpc-sas")]
    PlanetaryComputer,
    /// NASA Earthdata (`EARTHDATA_TOKEN`/`EARTHDATA_PAT` or `EARTHDATA_USERNAME`+`EARTHDATA_PASSWORD`).
    Earthdata,
    /// Copernicus Data Space (`CDSE_USERNAME` + `CDSE_PASSWORD`).
    Cdse,
}

/// Settings shared by every signer option set.
#[derive(Debug, Args)]
pub(crate) struct SignerSettings {
    /// AWS region (aws-requester-pays).
    #[arg(long)]
    region: Option<String>,
    /// Bearer token (bearer; else `STAC_GDAL_TOKEN`). Prefer the environment variable.
    #[arg(long)]
    token: Option<String>,
    /// Token endpoint: SAS URL (planetary-computer) or token URL (earthdata, cdse).
    #[arg(long)]
    token_url: Option<String>,
    /// Origins the credential may be sent to: host (default port), host:port,
    /// .suffix or scheme://host[:port]; repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    host: Vec<String>,
    /// Send a bearer-type token (bearer, earthdata, cdse) over plain http to
    /// this origin (host:port or http://host:port); repeat or comma-separate.
    #[arg(long, value_delimiter = ',', value_name = "ORIGIN")]
    allow_http: Vec<String>,
}

impl SignerSettings {
    /// The origins given to `--allow-http`.
    pub(crate) fn allow_http_origins(&self) -> Result<Vec<Origin>> {
        self.allow_http
            .iter()
            .map(|o| {
                o.parse::<Origin>()
                    .with_context(|| format!("--allow-http {o:?}"))
            })
            .collect()
    }

    /// The signer `name` configured with these settings (token endpoints
    /// with their default timeout), recorded for this run.
    pub(crate) fn build(&self, name: SignerName) -> Result<Arc<dyn Signer>> {
        self.build_with_timeout(name, None)
    }

    /// [`build`](Self::build) with a deadline for each token request.
    pub(crate) fn build_with_timeout(
        &self,
        name: SignerName,
        timeout: Option<Duration>,
    ) -> Result<Arc<dyn Signer>> {
        let signer = self.make(name, timeout)?;
        registry()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(signer.clone());
        Ok(signer)
    }

    fn make(&self, name: SignerName, timeout: Option<Duration>) -> Result<Arc<dyn Signer>> {
        let allow_http = self.allow_http_origins()?;
        if !allow_http.is_empty()
            && !matches!(
                name,
                SignerName::Bearer | SignerName::Earthdata | SignerName::Cdse
            )
        {
            bail!("--allow-http applies to bearer-type signers only (bearer, earthdata, cdse)");
        }
        let hosts = if self.host.is_empty() {
            None
        } else {
            Some(
                HostList::try_new(self.host.iter().cloned())
                    .context("--host")?
                    .with_allow_http(allow_http.iter().cloned()),
            )
        };
        Ok(match name {
            SignerName::Anonymous => Arc::new(AnonymousSigner),
            SignerName::AwsRequesterPays => {
                let mut o = AwsOptions::default();
                if let Some(h) = hosts {
                    o = o.with_hosts(h);
                }
                Arc::new(AwsRequesterPaysSigner::with_options(
                    self.region.as_deref(),
                    o,
                ))
            }
            SignerName::Bearer => {
                let token = self
                    .token
                    .clone()
                    .or_else(|| std::env::var("STAC_GDAL_TOKEN").ok())
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--signer bearer needs a token: set STAC_GDAL_TOKEN (or pass --token)"
                        )
                    })?;
                let s = BearerTokenSigner::new(token).with_allow_http(allow_http);
                Arc::new(match hosts {
                    Some(h) => s.with_hosts(h),
                    None => s,
                })
            }
            SignerName::PlanetaryComputer => {
                let mut o = PcOptions::default();
                if let Some(u) = &self.token_url {
                    o = o.with_sas_url(u);
                }
                if let Some(t) = timeout {
                    o = o.with_timeout(t);
                }
                Arc::new(PlanetaryComputerSigner::with_options(o))
            }
            SignerName::Earthdata => {
                let mut o = EarthdataOptions::default();
                if let Some(u) = &self.token_url {
                    o = o.with_token_url(u);
                }
                if let Some(t) = &self.token {
                    o = o.with_token(t);
                }
                match hosts {
                    Some(h) => o = o.with_hosts(h),
                    None => o = o.with_allow_http(allow_http),
                }
                if let Some(t) = timeout {
                    o = o.with_timeout(t);
                }
                Arc::new(EarthdataSigner::with_options(o))
            }
            SignerName::Cdse => {
                let mut o = CdseOptions::default();
                if let Some(u) = &self.token_url {
                    o = o.with_token_url(u);
                }
                match hosts {
                    Some(h) => o = o.with_hosts(h),
                    None => o = o.with_allow_http(allow_http),
                }
                if let Some(t) = timeout {
                    o = o.with_timeout(t);
                }
                if self.token.is_some() {
                    bail!("cdse takes no --token: set CDSE_USERNAME and CDSE_PASSWORD");
                }
                Arc::new(CdseSigner::with_options(o))
            }
        })
    }
}

/// A required `--signer` (for `sign` and `env`).
#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
    /// The signer.
    #[arg(long, value_enum)]
    signer: SignerName,
    #[command(flatten)]
    settings: SignerSettings,
}

impl SignerArgs {
    /// The configured signer, token requests bounded by `timeout`.
    pub(crate) fn build_with_timeout(&self, timeout: Option<Duration>) -> Result<Arc<dyn Signer>> {
        self.settings.build_with_timeout(self.signer, timeout)
    }
}

/// An optional `--signer` (for `search` and `download`; default anonymous).
#[derive(Debug, Args)]
pub(crate) struct SignerOpts {
    /// The signer applied to every request (and, for download, every href).
    #[arg(long, value_enum)]
    signer: Option<SignerName>,
    #[command(flatten)]
    settings: SignerSettings,
}

impl SignerOpts {
    /// The signer named by `--signer`, if any.
    pub(crate) fn build_given(&self) -> Result<Option<Arc<dyn Signer>>> {
        self.signer
            .map(|name| self.settings.build(name))
            .transpose()
    }

    /// The signer (anonymous when `--signer` is absent).
    pub(crate) fn build(&self) -> Result<Arc<dyn Signer>> {
        self.build_with_timeout(None)
    }

    /// [`build`](Self::build) with a deadline for each token request.
    pub(crate) fn build_with_timeout(&self, timeout: Option<Duration>) -> Result<Arc<dyn Signer>> {
        match self.signer {
            Some(name) => self.settings.build_with_timeout(name, timeout),
            None => Ok(Arc::new(AnonymousSigner)),
        }
    }

    /// Whether `--signer bearer` was given without `--host` (its token then
    /// goes only to a STAC API root the user named, never to asset hosts).
    pub(crate) fn is_unscoped_bearer(&self) -> bool {
        matches!(self.signer, Some(SignerName::Bearer)) && self.settings.host.is_empty()
    }

    /// The settings (for commands that add their own options).
    #[allow(dead_code)] // for `cube`/`point`, which read `--allow-http` too
    pub(crate) fn settings(&self) -> &SignerSettings {
        &self.settings
    }
}

/// `--timeout SECONDS` (fractions allowed, e.g. `2.5`): a positive, finite
/// number of seconds.
pub(crate) fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("{text:?} must be a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}
