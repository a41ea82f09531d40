//! `stac-gdal point`: `from_point` — search a STAC API around a
//! point and load an `edge_size` x `edge_size` cube on the local UTM grid;
//! writes one GeoTIFF per timestep and prints a JSON summary.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use stac_gdal::cube::{DatasetCollection, QuicklookOptions};
use stac_gdal::{EdgeUnits, FromPoint, PointOptions, PointQuery};

use crate::policy_args::{PolicyArgs, Provenance};
use crate::signer_args::SignerOpts;

/// Arguments of `stac-gdal point`.
#[derive(Debug, Args)]
pub(crate) struct PointArgs {
    /// STAC API root URL (default: Microsoft Planetary Computer), or a
    /// stac-geoparquet catalog (file, folder, glob) or a JSON/NDJSON items
    /// file (`-`: standard input) searched instead.
    url: Option<String>,
    /// Collection searched.
    #[arg(long)]
    collection: String,
    /// Asset keys, one cube band each.
    #[arg(long, visible_alias = "bands", value_delimiter = ',', required = true)]
    asset: Vec<String>,
    /// Latitude of the centre (degrees).
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
    /// Longitude of the centre (degrees).
    #[arg(long, allow_hyphen_values = true)]
    lon: f64,
    /// Start of the search interval (RFC 3339 or a partial date like 2021-06-01).
    #[arg(long)]
    start: String,
    /// End of the search interval.
    #[arg(long)]
    end: String,
    /// Side of the square, in --units.
    #[arg(long)]
    edge_size: u32,
    /// Pixel size in metres.
    #[arg(long, visible_alias = "tr", allow_hyphen_values = true)]
    resolution: f64,
    /// Unit of --edge-size: px or m.
    #[arg(long, default_value = "px")]
    units: String,
    /// Query extension object (JSON), e.g. '{"eo:cloud_cover": {"lt": 20}}'.
    #[arg(long)]
    query: Option<String>,
    /// Fail when sources are not on the UTM grid instead of warping them.
    #[arg(long)]
    no_align: bool,
    /// Output directory (one GeoTIFF per timestep).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "DIR"
    )]
    output: PathBuf,
    /// Also write a quick-look PNG of the first timestep.
    #[arg(long)]
    preview: Option<PathBuf>,
    /// Requests in flight for remote files (default 32, or
    /// STAC_GDAL_IO_CONCURRENCY; 0 reads them on the reader threads).
    #[arg(long)]
    io_concurrency: Option<usize>,
    #[command(flatten)]
    signer: SignerOpts,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// Run `stac-gdal point`.
pub(crate) fn point(args: PointArgs) -> Result<()> {
    if args.signer.is_unscoped_bearer() {
        crate::logging::warn(
            "--signer bearer without --host: the token goes to the STAC API only; asset reads \
             run without it (name their origins with --host)",
        );
    }
    if !(args.resolution.is_finite() && args.resolution > 0.0) {
        anyhow::bail!(
            "--resolution must be a positive pixel size in metres, got {}",
            args.resolution
        );
    }
    crate::output::check_output_dir(&args.output, "--output")?;
    if let Some(png) = &args.preview {
        crate::output::check_output_file(png, "--preview")?;
    }
    // Items from a catalog file named on the command line may name local
    // files, as in `cube`; items from a STAC API may not (unless --allow-local).
    // (`-`, items on standard input, are remote items, as in `cube`.)
    let local_catalog = args
        .url
        .as_deref()
        .is_some_and(|u| u != "-" && crate::search_file::is_catalog(u));
    let provenance = if local_catalog {
        Provenance::LocalFile
    } else {
        Provenance::Remote
    };
    let mut cube_options = stac_gdal::cube::CubeOptions::default()
        .with_href_policy(args.policy.policy(provenance))
        .with_timeouts(args.policy.timeouts()?);
    if let Some(n) = args.io_concurrency {
        cube_options = cube_options.with_io_concurrency(n);
    }
    // The cube options first: `align` lives in them, so `with_align` after.
    let mut options = PointOptions::default()
        .with_cube(cube_options)
        .with_units(args.units.parse::<EdgeUnits>()?)
        .with_align(!args.no_align)
        .with_allow_local(args.policy.allow_local() || local_catalog);
    if let Some(url) = &args.url {
        options = options.with_endpoint(url.clone());
    }
    if let Some(signer) = args.signer.build_given()? {
        options = options.with_signer(signer);
    }
    if let Some(q) = &args.query {
        options = options.with_query(serde_json::from_str(q).context("--query is not JSON")?);
    }
    let bands: Vec<&str> = args.asset.iter().map(String::as_str).collect();
    let query = PointQuery {
        lat: args.lat,
        lon: args.lon,
        collection: &args.collection,
        bands: &bands,
        start_date: &args.start,
        end_date: &args.end,
        edge_size: args.edge_size,
        resolution: args.resolution,
    };
    let cube = match args
        .url
        .as_deref()
        .filter(|u| crate::search_file::is_catalog(u))
    {
        Some(catalog) => crate::search_file::point_cube(catalog, &query, &options)?,
        None => DatasetCollection::from_point(&query, &options)?,
    };
    let files = crate::output::write_staged(&args.output, "--output", |staging| {
        Ok(cube.to_files(staging)?)
    })?;
    let mut summary = cube.summary();
    summary["files"] = files.iter().map(|p| p.display().to_string()).collect();
    if let Some(png) = &args.preview {
        crate::output::write_file_staged(png, "--preview", |tmp| {
            cube.write_quicklook(0, tmp, &QuicklookOptions::default())?;
            Ok(())
        })?;
        summary["preview"] = png.display().to_string().into();
    }
    for f in cube.failures() {
        crate::logging::warn(f);
    }
    crate::output::print_json(&summary)
}
