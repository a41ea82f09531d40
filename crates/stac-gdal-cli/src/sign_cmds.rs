//! `sign` and `env`: apply a signer to an href, or show the GDAL options it
//! installs for one href (scoped to that href's origin).
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`). Secret values of the GDAL env are printed only with
//! `--show-secrets`.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use stac_gdal::signers::GdalEnv;

use crate::signer_args::{SignerArgs, parse_timeout};

/// Arguments of `stac-gdal sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The href to sign.
    href: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Deadline of each token request, in seconds (default 30).
    #[arg(long, value_parser = parse_timeout, value_name = "SECONDS")]
    timeout: Option<Duration>,
}

/// Arguments of `stac-gdal env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The href to be read: only the options meant for its origin are printed.
    #[arg(long)]
    href: String,
    /// Deadline of each token request, in seconds (default 30).
    #[arg(long, value_parser = parse_timeout, value_name = "SECONDS")]
    timeout: Option<Duration>,
    /// Print secret values (tokens, keys, headers) instead of `<redacted>`.
    #[arg(long)]
    show_secrets: bool,
}

/// `stac-gdal sign`: print the signed href.
pub fn sign(args: SignArgs) -> Result<()> {
    let signer = args.signer.build_with_timeout(args.timeout)?;
    println!("{}", signer.sign_href(&args.href)?);
    Ok(())
}

/// `stac-gdal env`: print the GDAL options, one `KEY=VALUE` a line.
pub fn env(args: EnvArgs) -> Result<()> {
    let signer = args.signer.build_with_timeout(args.timeout)?;
    let env = signer.gdal_env_for(&args.href)?;
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
