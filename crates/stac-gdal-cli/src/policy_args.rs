//! `--allow-local`, `--allow-driver`, `--allow-remote-vrt` and `--timeout`:
//! the href policy and time bounds of every subcommand that opens hrefs
//! (`cube`, `vrt`, `item`, `point`), flattened into each.
//!
//! Whatever the flags, GDAL connection strings (`PG:`, `WMS:`, ...),
//! special files (`/vsistdin/`, `/vsimem/`, ...) and inline documents are
//! refused. Local paths are allowed when the items came from a file named
//! on the command line, refused when they came from standard input or a
//! STAC API, unless `--allow-local`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;

use crate::signer_args::SignerOpts;
use stac_gdal::meta::HrefPolicy;
use stac_gdal::raster::Timeouts;

/// Href policy and time bounds.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct PolicyArgs {
    /// Read local paths and file:// hrefs even when the items came from a
    /// STAC API or standard input.
    #[arg(long)]
    allow_local: bool,
    /// Also allow this GDAL driver (e.g. VRT, AAIGrid); repeat or comma-separate.
    /// Default: GTiff/COG, JPEG2000, netCDF, GRIB, Zarr, HDF5, PNG, JPEG.
    #[arg(long, value_delimiter = ',')]
    allow_driver: Vec<String>,
    /// Read remote .vrt hrefs (their sources are still held to the policy).
    #[arg(long)]
    allow_remote_vrt: bool,
    /// Time budget per source, in seconds: its open and all its reads,
    /// summed (time spent waiting for its turn does not count). Each HTTP
    /// request also gives up after min(10, SECONDS) without a connection
    /// and after min(30, SECONDS) below 256 bytes/s. Default 600 (about
    /// 600 MB per source at 1 MB/s); raise it for whole large COGs on
    /// slow links.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

/// Where the items came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provenance {
    /// A file named on the command line.
    LocalFile,
    /// Standard input, or a STAC API.
    Remote,
}

impl Provenance {
    /// The provenance of an items argument (`-` is standard input).
    pub(crate) fn of_items(path: &Path) -> Self {
        if path.as_os_str() == "-" {
            Self::Remote
        } else {
            Self::LocalFile
        }
    }
}

impl PolicyArgs {
    /// The href policy for items of this provenance.
    pub(crate) fn policy(&self, provenance: Provenance) -> HrefPolicy {
        let mut p = match provenance {
            Provenance::LocalFile => HrefPolicy::for_local_items(),
            Provenance::Remote => HrefPolicy::for_api_items(),
        };
        if self.allow_local {
            p = p.with_allow_local(true);
        }
        for d in &self.allow_driver {
            p = p.with_allow_driver(d.trim());
        }
        p.with_allow_remote_vrt(self.allow_remote_vrt)
    }

    /// The time bounds (`--timeout`, or the defaults).
    pub(crate) fn timeouts(&self) -> Result<Timeouts> {
        match self.timeout {
            None => Ok(Timeouts::default()),
            Some(t) if t.is_finite() && t > 0.0 => Ok(Timeouts::total(Duration::from_secs_f64(t))),
            Some(t) => bail!("--timeout must be a positive number of seconds, got {t}"),
        }
    }

    /// Whether `--allow-local` was given.
    pub(crate) fn allow_local(&self) -> bool {
        self.allow_local
    }
}

/// Refuse `--signer bearer` without `--host` on a command that reads asset
/// hrefs only (`cube`, `vrt`): a token without a scope is sent to no asset
/// host, so the reads would run unauthenticated without a word.
pub(crate) fn refuse_unscoped_bearer(signer: &SignerOpts, command: &str) -> Result<()> {
    if signer.is_unscoped_bearer() {
        bail!(
            "--signer bearer needs --host ORIGIN for `{command}`: the token goes only to the \
             origins named (host, host:port or scheme://host[:port]), never to every host an \
             item names"
        );
    }
    Ok(())
}
