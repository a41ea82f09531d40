//! `cube --out`'s output formats, chosen by the path's extension
//! ([`OutputFormat`]), and the Zarr writer's flags ([`ZarrArgs`]).
//!
//! `X.zarr` is a Zarr v2 store, v3 (sharded) with `--zarr-format 3` (see
//! `stac_cube::zarr`; `s3://bucket/X.zarr`
//! one on S3, signed by `--signer`), `X.nc` NetCDF
//! (issue 19's NetCDF part fills [`OutputFormat::NetCdf`]), anything else
//! a folder of GeoTIFFs, one per timestep.

use std::path::Path;

use anyhow::{Result, bail};
use clap::Args;
use stac_gdal::cube::zarr::{Codec, Part, ZarrFormat, ZarrOptions};

/// What `cube --out PATH` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// A folder of GeoTIFFs (COGs with `--cog`), one per timestep.
    GeoTiffDir,
    /// A Zarr v2 store (`.zarr`).
    Zarr,
    /// A NetCDF file (`.nc`).
    NetCdf,
}

impl OutputFormat {
    /// The format a path's extension names (case-insensitive).
    pub(crate) fn from_path(path: &Path) -> Self {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("zarr") => Self::Zarr,
            Some("nc" | "nc4" | "netcdf") => Self::NetCdf,
            _ => Self::GeoTiffDir,
        }
    }
}

/// Flags of the Zarr output.
#[derive(Debug, Args)]
#[command(next_help_heading = "Zarr output (--out X.zarr)")]
pub(crate) struct ZarrArgs {
    /// Chunk shape T,Y,X (timesteps, rows, columns); default 1 timestep x
    /// the largest power-of-two square of at most 4 MiB (v3: the inner
    /// chunks of a shard, a quarter of that side by default).
    #[arg(long, value_delimiter = ',', value_name = "T,Y,X")]
    pub chunks: Option<Vec<usize>>,
    /// Zarr format: 2 (consolidated .zmetadata, xarray's default) or 3
    /// (zarr.json, consolidated inline; band arrays sharded).
    #[arg(long, value_name = "2|3", default_value = "2")]
    pub zarr_format: String,
    /// v3 shard shape T,Y,X, each side a multiple of the chunk's (default
    /// 1 x 4 x 4 chunks); a shard is the unit of work and of --part.
    #[arg(long, value_delimiter = ',', value_name = "T,Y,X")]
    pub shards: Option<Vec<usize>>,
    /// Chunk compressor: zstd (level 1), zstd:LEVEL (1-22; zarr-python's
    /// default is zstd:3, 8% smaller, 3x the CPU), lz4,
    /// blosc-lz4 or blosc-zstd (level 5, byte shuffle; blosc-lz4:LEVEL,
    /// blosc-lz4:noshuffle), or none. lz4 is v2 only.
    #[arg(long, default_value = "zstd")]
    pub codec: String,
    /// Write only part K of N (K/N): N processes, on one machine or many,
    /// write the same store concurrently; the last to finish completes it.
    /// Writes in place (no staging); a rerun skips verified chunks.
    #[arg(long, value_name = "K/N")]
    pub part: Option<String>,
    /// Only complete a store written by --part runs (its metadata), failing
    /// when some part has not finished.
    #[arg(long)]
    pub finalize: bool,
    /// S3 endpoint for an s3:// output (default: $AWS_ENDPOINT_URL, else
    /// https://s3.$AWS_REGION.amazonaws.com); requests are signed by --signer.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

impl ZarrArgs {
    /// Whether any Zarr flag was given (they need a `.zarr` output).
    pub(crate) fn any(&self) -> bool {
        self.chunks.is_some()
            || self.zarr_format != "2"
            || self.shards.is_some()
            || self.codec != "zstd"
            || self.part.is_some()
            || self.finalize
            || self.s3_endpoint.is_some()
    }

    /// The S3 endpoint: the flag, `$AWS_ENDPOINT_URL`, or AWS's for
    /// `$AWS_REGION` (default us-east-1).
    pub(crate) fn endpoint(&self) -> String {
        self.s3_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .unwrap_or_else(|| {
                let region = std::env::var("AWS_REGION")
                    .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|_| "us-east-1".into());
                format!("https://s3.{region}.amazonaws.com")
            })
    }

    /// The writer's options.
    pub(crate) fn options(&self) -> Result<ZarrOptions> {
        let mut o = ZarrOptions::default().with_codec(
            self.codec
                .parse::<Codec>()
                .map_err(|e| anyhow::anyhow!("--codec: {e}"))?,
        );
        if let Some(c) = &self.chunks {
            let Ok(c) = <[usize; 3]>::try_from(c.as_slice()) else {
                bail!("--chunks takes T,Y,X (three numbers), got {c:?}");
            };
            if c.contains(&0) {
                bail!("--chunks {c:?}: every side must be at least 1");
            }
            o = o.with_chunks(c);
        }
        let format = self.zarr_format.parse::<ZarrFormat>().map_err(|_| {
            anyhow::anyhow!("--zarr-format {:?}: expected 2 or 3", self.zarr_format)
        })?;
        o = o.with_format(format);
        if let Some(c) = &self.shards {
            let Ok(c) = <[usize; 3]>::try_from(c.as_slice()) else {
                bail!("--shards takes T,Y,X (three numbers), got {c:?}");
            };
            if format != ZarrFormat::V3 {
                bail!("--shards is for a Zarr v3 store (--zarr-format 3)");
            }
            o = o.with_shards(c);
        }
        if format == ZarrFormat::V3 && o.codec.v3_chain(1).is_none() {
            bail!(
                "--codec {}: no Zarr v3 codec; use blosc-lz4, zstd or none with --zarr-format 3",
                self.codec
            );
        }
        if let Some(p) = &self.part {
            o = o.with_part(
                p.parse::<Part>()
                    .map_err(|_| anyhow::anyhow!("--part {p:?}: expected K/N with 1 <= K <= N"))?,
            );
        }
        Ok(o)
    }

    /// Whether the store is written in place (parts, finalize) rather than
    /// staged and renamed.
    pub(crate) fn in_place(&self) -> bool {
        self.part.is_some() || self.finalize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(
            OutputFormat::from_path(Path::new("a/b.zarr")),
            OutputFormat::Zarr
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("b.ZARR")),
            OutputFormat::Zarr
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("b.nc")),
            OutputFormat::NetCdf
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("out")),
            OutputFormat::GeoTiffDir
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("out.d")),
            OutputFormat::GeoTiffDir
        );
    }
}
