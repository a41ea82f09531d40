//! `sign` and `env`: apply a signer to an href, or show its GDAL options.
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`). Secret values of the GDAL env are printed only with
//! `--show-secrets`.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use stac_gdal::signers::{
    AnonymousSigner, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, CdseOptions,
    CdseSigner, EarthdataOptions, EarthdataSigner, GdalEnv, HostList, PcOptions,
    PlanetaryComputerSigner, Signer,
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

/// Which signer and its settings.
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// The signer.
    #[arg(long, value_enum)]
    signer: SignerName,
    /// AWS region (aws-requester-pays).
    #[arg(long)]
    region: Option<String>,
    /// Bearer token (bearer; else `STAC_GDAL_TOKEN`). Prefer the environment variable.
    #[arg(long)]
    token: Option<String>,
    /// Token endpoint: SAS URL (planetary-computer) or token URL (earthdata, cdse).
    #[arg(long)]
    token_url: Option<String>,
    /// Hosts the credential may be sent to (bearer, earthdata, cdse); repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    host: Vec<String>,
}

impl SignerArgs {
    fn build(&self) -> Result<Box<dyn Signer>> {
        let hosts = (!self.host.is_empty()).then(|| HostList::new(self.host.iter().cloned()));
        Ok(match self.signer {
            SignerName::Anonymous => Box::new(AnonymousSigner),
            SignerName::AwsRequesterPays => Box::new(AwsRequesterPaysSigner::with_options(
                self.region.as_deref(),
                AwsOptions::default(),
            )),
            SignerName::Bearer => {
                let token = self
                    .token
                    .clone()
                    .or_else(|| std::env::var("STAC_GDAL_TOKEN").ok())
                    .unwrap_or_default();
                let s = BearerTokenSigner::new(token);
                Box::new(match hosts {
                    Some(h) => s.with_hosts(h),
                    None => s,
                })
            }
            SignerName::PlanetaryComputer => {
                let mut o = PcOptions::default();
                if let Some(u) = &self.token_url {
                    o = o.with_sas_url(u);
                }
                Box::new(PlanetaryComputerSigner::with_options(o))
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
                Box::new(EarthdataSigner::with_options(o))
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
                Box::new(CdseSigner::with_options(o))
            }
        })
    }
}

/// Arguments of `stac-gdal sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The href to sign.
    href: String,
    #[command(flatten)]
    signer: SignerArgs,
}

/// Arguments of `stac-gdal env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Only the options meant for this href's host.
    #[arg(long)]
    href: Option<String>,
    /// Print secret values (tokens, keys, headers) instead of `<redacted>`.
    #[arg(long)]
    show_secrets: bool,
}

/// `stac-gdal sign`: print the signed href.
pub fn sign(args: SignArgs) -> Result<()> {
    let signer = args.signer.build()?;
    println!("{}", signer.sign_href(&args.href)?);
    Ok(())
}

/// `stac-gdal env`: print the GDAL options, one `KEY=VALUE` a line.
pub fn env(args: EnvArgs) -> Result<()> {
    let signer = args.signer.build()?;
    let env = match &args.href {
        Some(href) => signer.gdal_env_for(href)?,
        None => signer.gdal_env()?,
    };
    print!("{}", render_env(&env, args.show_secrets));
    Ok(())
}

/// `KEY=VALUE` lines; secret values hidden unless `show_secrets`.
fn render_env(env: &GdalEnv, show_secrets: bool) -> String {
    env.iter()
        .map(|(k, v)| {
            let v = if show_secrets || !GdalEnv::is_secret_key(k) {
                v
            } else {
                "<redacted>"
            };
            format!("{k}={v}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_rendering_hides_secrets_unless_asked() {
        let env = GdalEnv::new()
            .with("GDAL_HTTP_HEADERS", "Authorization: Bearer tok")
            .with("AWS_REGION", "us-west-2");
        let hidden = render_env(&env, false);
        assert_eq!(
            hidden,
            "GDAL_HTTP_HEADERS=<redacted>\nAWS_REGION=us-west-2\n"
        );
        assert!(render_env(&env, true).contains("Bearer tok"));
    }
}
