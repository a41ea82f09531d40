//! `stac-gdal item`: describe a raster as a STAC Item (projection + raster
//! extensions) and print it as JSON.

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use stac_gdal::raster::{
    BandOptions, Dataset, FootprintOptions, ItemOptions, OpenOptions, ProjectionVersion,
};

use crate::policy_args::{PolicyArgs, Provenance};

/// Projection-extension flavour of the output.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Projection {
    /// pyramids-compatible: declares v1.1.0, writes proj:epsg and proj:code.
    V1,
    /// Declares v2.0.0, writes proj:code only (schema-valid).
    V2,
}

/// Arguments of `stac-gdal item`.
#[derive(Debug, Args)]
pub(crate) struct ItemArgs {
    /// The raster (path, URL or GDAL path); it is opened to read its grid.
    raster: String,
    /// Item id.
    #[arg(long)]
    id: String,
    /// `datetime` (RFC 3339, written verbatim); default: now (UTC), or null
    /// when --start and --end are given.
    #[arg(long)]
    datetime: Option<String>,
    /// `start_datetime` (with --end).
    #[arg(long, requires = "end")]
    start: Option<String>,
    /// `end_datetime` (with --start).
    #[arg(long, requires = "start")]
    end: Option<String>,
    /// Asset href written in the Item (default: RASTER as given).
    #[arg(long)]
    href: Option<String>,
    /// Asset media type, e.g. "image/tiff; application=geotiff".
    #[arg(long)]
    media_type: Option<String>,
    /// Asset key.
    #[arg(long, default_value = "data")]
    asset_key: String,
    /// Add raster:bands statistics and a histogram (reads pixels).
    #[arg(long)]
    stats: bool,
    /// Add eo:bands with the band names.
    #[arg(long)]
    eo: bool,
    /// Points inserted per footprint edge before reprojecting to EPSG:4326.
    #[arg(long, default_value_t = 20)]
    densify: usize,
    /// Projection-extension flavour.
    #[arg(long, value_enum, default_value = "v1")]
    projection: Projection,
    /// Print compact JSON instead of pretty-printed.
    #[arg(long)]
    compact: bool,
    /// Where the Item goes (`-`: standard output); a file is written atomically.
    #[arg(
        short = 'o',
        long,
        visible_alias = "out",
        value_name = "FILE",
        default_value = "-"
    )]
    output: std::path::PathBuf,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// Run `stac-gdal item`.
pub(crate) fn item(args: ItemArgs) -> Result<()> {
    // The raster is named on the command line: local paths and VRTs are
    // fine; connection strings and special files are refused all the same.
    let timeouts = args.policy.timeouts()?;
    crate::output::check_output_file(&args.output, "--output")?;
    // A local path that is not there: say so plainly, before GDAL does.
    // (Connection strings, URLs, inline documents and /vsi paths go to the
    // href policy.)
    let local = !args.raster.contains([':', '<', '{', '\n']) && !args.raster.starts_with("/vsi");
    if local && !std::path::Path::new(&args.raster).exists() {
        anyhow::bail!("raster {}: no such file", stac_gdal::redact(&args.raster));
    }
    let open = OpenOptions::default()
        .with_policy(
            args.policy
                .policy(Provenance::LocalFile)
                .with_allow_driver("VRT"),
        )
        .with_env(timeouts.gdal_env())
        .with_deadline(timeouts.deadline.map(|d| std::time::Instant::now() + d));
    let ds = Dataset::open_with(&args.raster, &open)
        .with_context(|| format!("cannot open raster '{}'", stac_gdal::redact(&args.raster)))?;
    let mut options = ItemOptions::new(args.href.clone().unwrap_or_else(|| args.raster.clone()))
        .with_asset_key(&args.asset_key)
        .with_footprint(FootprintOptions::default().with_densify_points(args.densify))
        .with_projection(match args.projection {
            Projection::V1 => ProjectionVersion::V1_1,
            Projection::V2 => ProjectionVersion::V2,
        })
        .with_bands(BandOptions {
            with_stats: args.stats,
            with_histogram: args.stats,
            with_eo: args.eo,
            ..BandOptions::default()
        });
    if let Some(t) = &args.media_type {
        options = options.with_media_type(t);
    }
    if let Some(d) = &args.datetime {
        options = options.with_datetime(d);
    }
    if let (Some(s), Some(e)) = (&args.start, &args.end) {
        options = options.with_range(s, e);
    }
    let item = ds.to_stac_item(&args.id, &options)?;
    let text = if args.compact {
        serde_json::to_string(&item)?
    } else {
        serde_json::to_string_pretty(&item)?
    };
    let mut dest = crate::output::Destination::open(&args.output, "--output")?;
    writeln!(dest, "{text}").with_context(|| format!("writing {}", args.output.display()))?;
    dest.finish()
}
