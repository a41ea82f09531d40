//! `--signer NAME` and its settings, shared by `sign`, `env`, `search` and
//! `download`: one place that turns CLI options into a [`Signer`].
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`).

use std::sync::Arc;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use stac_gdal::signers::{
    AnonymousSigner, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, CdseOptions,
    CdseSigner, EarthdataOptions, EarthdataSigner, HostList, PcOptions, PlanetaryComputerSigner,
    Signer,
};

/// The signers the CLI knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SignerName {
    /// No credentials.
    Anonymous,
    /// AWS requester-pays S3 (`--region`).
    #[value(alias = "aws")]
    AwsRequesterPays,
    /// A Bearer token (`--token` or `STAC_GDAL_TOKEN`).
    Bearer,
    /// Planetary Computer SAS tokens (`--sas-url`, `PC_SDK_SAS_URL`, `PC_SDK_SUBSCRIPTION_KEY`).
    #[value(alias = "pc", alias = "mpc-sas")]
    PlanetaryComputer,
    /// NASA Earthdata (`EARTHDATA_TOKEN`/`EARTHDATA_PAT` or `EARTHDATA_USERNAME`+`EARTHDATA_PASSWORD`).
    Earthdata,
    /// Copernicus Data Space (`CDSE_USERNAME` + `CDSE_PASSWORD`).
    Cdse,
}

/// Settings shared by every signer option set.
#[derive(Debug, Args)]
pub struct SignerSettings {
    /// AWS region (aws-requester-pays).
    #[arg(long)]
    region: Option<String>,
    /// Bearer token (bearer; else `STAC_GDAL_TOKEN`). Prefer the environment variable.
    #[arg(long)]
    token: Option<String>,
    /// Token endpoint: SAS URL (planetary-computer) or token URL (earthdata, cdse).
    #[arg(long)]
    token_url: Option<String>,
    /// Hosts the credential may be sent to; repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    host: Vec<String>,
}

impl SignerSettings {
    /// The signer `name` configured with these settings.
    pub fn build(&self, name: SignerName) -> Result<Arc<dyn Signer>> {
        let hosts = (!self.host.is_empty()).then(|| HostList::new(self.host.iter().cloned()));
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
                    .unwrap_or_default();
                let s = BearerTokenSigner::new(token);
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
                if let Some(h) = hosts {
                    o = o.with_hosts(h);
                }
                Arc::new(EarthdataSigner::with_options(o))
            }
            SignerName::Cdse => {
                let mut o = CdseOptions::default();
                if let Some(u) = &self.token_url {
                    o = o.with_token_url(u);
                }
                if let Some(h) = hosts {
                    o = o.with_hosts(h);
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
pub struct SignerArgs {
    /// The signer.
    #[arg(long, value_enum)]
    signer: SignerName,
    #[command(flatten)]
    settings: SignerSettings,
}

impl SignerArgs {
    /// The configured signer.
    pub fn build(&self) -> Result<Arc<dyn Signer>> {
        self.settings.build(self.signer)
    }
}

/// An optional `--signer` (for `search` and `download`; default anonymous).
#[derive(Debug, Args)]
pub struct SignerOpts {
    /// The signer applied to every request (and, for download, every href).
    #[arg(long, value_enum)]
    signer: Option<SignerName>,
    #[command(flatten)]
    settings: SignerSettings,
}

impl SignerOpts {
    /// The signer named by `--signer`, if any.
    pub fn build_given(&self) -> Result<Option<Arc<dyn Signer>>> {
        self.signer
            .map(|name| self.settings.build(name))
            .transpose()
    }

    /// The signer (anonymous when `--signer` is absent).
    pub fn build(&self) -> Result<Arc<dyn Signer>> {
        match self.signer {
            Some(name) => self.settings.build(name),
            None => Ok(Arc::new(AnonymousSigner)),
        }
    }
}
