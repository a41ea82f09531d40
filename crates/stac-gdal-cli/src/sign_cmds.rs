//! `sign` and `env`: apply a signer to an href, or show its GDAL options.
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`). Secret values of the GDAL env are printed only with
//! `--show-secrets`.

use anyhow::Result;
use clap::Args;
use stac_gdal::signers::GdalEnv;

use crate::signer_args::SignerArgs;

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
