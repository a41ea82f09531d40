//! `sign` and `env`: apply a signer to an href, or show the GDAL options it
//! installs for one href (scoped to that href's origin).
//!
//! Credentials come from options or the signers' usual environment variables
//! (`AWS_*`, `PC_SDK_*`, `EARTHDATA_*`, `CDSE_*`; bearer: `--token` or
//! `STAC_GDAL_TOKEN`). Secret values of the GDAL env are printed only with
//! `--show-secrets`.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use stac_gdal::signers::GdalEnv;

use crate::signer_args::{SignerArgs, parse_timeout};

/// Arguments of `stac-gdal sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
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
pub(crate) struct EnvArgs {
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
    /// Output format: KEY=VALUE lines, `export KEY='VALUE'` lines for
    /// `eval "$(stac-gdal env … --format sh)"`, or a JSON object.
    #[arg(long, value_enum, default_value_t = EnvFormat::Lines)]
    format: EnvFormat,
}

/// How `env` prints the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvFormat {
    /// `KEY=VALUE`, one a line (not quoted).
    Lines,
    /// `export KEY='VALUE'`, quoted for POSIX shells.
    Sh,
    /// One JSON object.
    Json,
}

/// `stac-gdal sign`: print the signed href.
pub(crate) fn sign(args: SignArgs) -> Result<()> {
    let signer = args.signer.build_with_timeout(args.timeout)?;
    crate::output::print(signer.sign_href(&args.href)?)
}

/// `stac-gdal env`: print the GDAL options for `--href`.
pub(crate) fn env(args: EnvArgs) -> Result<()> {
    let signer = args.signer.build_with_timeout(args.timeout)?;
    let env = signer.gdal_env_for(&args.href)?;
    if env.is_empty() {
        crate::logging::note(format_args!(
            "stac-gdal: the {} signer sets no GDAL option for {} (not an origin it signs)",
            signer.name(),
            stac_gdal::redact(&args.href)
        ));
    }
    let text = render_env(&env, args.show_secrets, args.format);
    if text.is_empty() {
        return Ok(());
    }
    crate::output::print(text.trim_end_matches('\n'))
}

/// The options in `format`; secret values hidden unless `show_secrets`.
fn render_env(env: &GdalEnv, show_secrets: bool, format: EnvFormat) -> String {
    let shown = env.iter().map(|(k, v)| {
        let v = if show_secrets || !GdalEnv::is_secret_key(k) {
            v
        } else {
            "<redacted>"
        };
        (k, v)
    });
    match format {
        EnvFormat::Lines => shown.map(|(k, v)| format!("{k}={v}\n")).collect(),
        EnvFormat::Sh => shown
            .map(|(k, v)| format!("export {k}={}\n", sh_quote(v)))
            .collect(),
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = shown
                .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
                .collect();
            format!("{}\n", serde_json::Value::Object(map))
        }
    }
}

/// `text` as one POSIX shell word: single quotes, each `'` as `'\''`.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_rendering_hides_secrets_unless_asked() {
        let env = GdalEnv::new()
            .with("GDAL_HTTP_HEADERS", "Authorization: Bearer tok")
            .with("AWS_REGION", "us-west-2");
        let hidden = render_env(&env, false, EnvFormat::Lines);
        assert_eq!(
            hidden,
            "GDAL_HTTP_HEADERS=<redacted>\nAWS_REGION=us-west-2\n"
        );
        assert!(render_env(&env, true, EnvFormat::Lines).contains("Bearer tok"));
        let json: serde_json::Value =
            serde_json::from_str(&render_env(&env, false, EnvFormat::Json)).unwrap();
        assert_eq!(json["AWS_REGION"], "us-west-2");
        assert_eq!(json["GDAL_HTTP_HEADERS"], "<redacted>");
    }

    #[test]
    fn sh_quoting_survives_quotes_and_metacharacters() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(sh_quote("$(x) `y` \"z\""), "'$(x) `y` \"z\"'");
    }
}
