//! `stac-gdal cube`: build a time x band x y x x cube from items and write
//! it: one GeoTIFF per timestep (a folder), or a Zarr store (`X.zarr`,
//! written block by block, see [`crate::cube_format`]); prints a JSON
//! summary, progress on stderr.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use stac_gdal::cube::{
    Anchor, CubeData, CubeOptions, DatasetCollection, Fusion, Grid, GroupBy, QuicklookOptions,
    Resampling, TimeOrder,
};
use stac_gdal::raster::Pixel;

use crate::cube_format::{OutputFormat, ZarrArgs};
use crate::policy_args::{PolicyArgs, Provenance};
use crate::signer_args::SignerOpts;

/// Arguments of `stac-gdal cube`.
#[derive(Debug, Args)]
pub(crate) struct CubeArgs {
    /// STAC Item, FeatureCollection, JSON array or NDJSON file (`-` for stdin), or a stac-geoparquet catalog (file, folder, glob).
    items: PathBuf,
    #[command(flatten)]
    catalog: crate::input::CatalogQuery,
    /// Asset keys, in band order (`key.N` or `key.name` pick a band of a multi-band asset).
    #[arg(long, value_delimiter = ',', required = true)]
    asset: Vec<String>,
    /// Output: a folder (one GeoTIFF per timestep), X.zarr (a Zarr v2
    /// store, written block by block: larger than memory is fine), or X.nc
    /// (one netCDF-4 file, as xarray's `to_netcdf`, written strip by strip);
    /// not needed with --plan or --no-write.
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "DIR|X.zarr|X.nc"
    )]
    output: Option<PathBuf>,
    /// Warp sources onto the grid (default). Use --no-align to require aligned sources.
    #[arg(long, overrides_with = "no_align")]
    align: bool,
    /// Fail when sources are not already on the grid instead of warping them.
    #[arg(long)]
    no_align: bool,
    /// Group items into timesteps: none, solar_day, time, id, or a property key.
    #[arg(long, default_value = "none")]
    groupby: String,
    /// Fusion inside a group: first, last, min, max, mean, median, sum, count.
    #[arg(long, default_value = "first")]
    fuse: String,
    /// Output CRS (e.g. EPSG:32630); default: the most common among the sources.
    #[arg(long, visible_alias = "t_srs")]
    crs: Option<String>,
    /// Pixel size in CRS units (RES or XRES,YRES); default: the finest source's.
    #[arg(
        long,
        visible_alias = "tr",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    resolution: Option<Vec<f64>>,
    /// Output bounds MINX,MINY,MAXX,MAXY in the output CRS.
    #[arg(
        long,
        visible_alias = "te",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    bounds: Option<Vec<f64>>,
    /// Keep only items whose bbox overlaps W,S,E,N (degrees); also the output bounds unless --bounds.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    bbox: Option<Vec<f64>>,
    /// Read a --bbox with WEST > EAST as crossing the antimeridian whatever
    /// its width (without it, only boxes up to 180° wide may cross; a wider
    /// one is an error, usually WEST and EAST swapped).
    #[arg(long)]
    antimeridian: bool,
    /// Pixel edges at multiples of the resolution instead of the sources' native alignment.
    #[arg(long)]
    tap: bool,
    /// Resampling when warping: nearest, bilinear, cubic, average, mode, ...
    #[arg(long, default_value = "nearest")]
    resampling: String,
    /// Output data type (uint8, int16, uint16, int32, uint32, float32, float64).
    #[arg(long)]
    dtype: Option<String>,
    /// Output nodata.
    #[arg(long, allow_hyphen_values = true)]
    nodata: Option<f64>,
    /// Apply raster:bands scale/offset (output float32).
    #[arg(long)]
    rescale: bool,
    /// Keep the input order of items instead of sorting by datetime.
    #[arg(long)]
    input_order: bool,
    /// Use only the first N items (after --bbox; at least 1).
    #[arg(long, value_parser = crate::arg_checks::positive_count)]
    max_items: Option<usize>,
    /// Fill unreadable sources with nodata and list them instead of failing.
    #[arg(long)]
    keep_going: bool,
    /// Reader threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Requests in flight for remote files: I/O threads fetching ahead of
    /// the reader threads (default 32, or STAC_GDAL_IO_CONCURRENCY; 0 reads
    /// remote files on the reader threads).
    #[arg(long)]
    io_concurrency: Option<usize>,
    /// Refuse grids with more pixels per plane than this.
    #[arg(long, default_value_t = 250_000_000)]
    max_pixels: u64,
    /// Write timesteps as Cloud-Optimized GeoTIFFs.
    #[arg(long)]
    cog: bool,
    /// Also write a quick-look PNG of the first timestep (percentile stretch).
    #[arg(long)]
    preview: Option<PathBuf>,
    /// Plan only: print the grid, bands and timesteps without reading pixels.
    #[arg(long)]
    plan: bool,
    /// Load the cube but write no file (`--output` is then ignored): for timing loads.
    #[arg(long, help_heading = "Benchmarking")]
    no_write: bool,
    /// Add pixel checksums and the plan + load time to the summary (per-band
    /// sums, and the sum over planes of plane sum x (t * bands + b + 1)).
    #[arg(long, help_heading = "Benchmarking")]
    checksum: bool,
    #[command(flatten)]
    zarr: ZarrArgs,
    #[command(flatten)]
    signer: SignerOpts,
    #[command(flatten)]
    policy: PolicyArgs,
}

fn four(v: &[f64], flag: &str) -> Result<[f64; 4]> {
    <[f64; 4]>::try_from(v).map_err(|_| anyhow::anyhow!("{flag} needs 4 numbers, got {v:?}"))
}

/// The cube options of `args` driving a progress bar that counts the
/// sources read (hidden with `-q`, or when `hidden`).
fn options_with_sources_bar(args: &CubeArgs, hidden: bool) -> Result<(ProgressBar, CubeOptions)> {
    let bar = if crate::logging::quiet() || hidden {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} sources [{wide_bar}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let opts = options(args)?.with_progress(move |p| {
        b.set_length(p.total as u64);
        b.set_position(p.done as u64);
    });
    Ok((bar, opts))
}

/// The cube options the arguments describe.
fn options(args: &CubeArgs) -> Result<CubeOptions> {
    let mut grid = Grid::default();
    if let Some(c) = &args.crs {
        grid = grid.with_crs(crate::arg_checks::crs("--crs", c)?);
    }
    if let Some(r) = &args.resolution
        && let Some(bad) = r.iter().find(|v| !(v.is_finite() && **v > 0.0))
    {
        bail!("--resolution must be a positive pixel size in CRS units, got {bad}");
    }
    match args.resolution.as_deref() {
        None => {}
        Some([r]) => grid = grid.with_resolution(*r),
        Some([x, y]) => grid = grid.with_resolution_xy(*x, *y),
        Some(other) => bail!("--resolution takes RES or XRES,YRES, got {other:?}"),
    }
    if let Some(b) = &args.bounds {
        grid = grid.with_bounds(four(b, "--bounds")?);
    } else if let Some(b) = &args.bbox {
        grid = grid.with_bounds_lonlat(crate::arg_checks::lonlat_bbox(b, args.antimeridian)?);
    }
    if args.tap {
        grid = grid.with_anchor(Anchor::Edge);
    }
    let mut o = CubeOptions::default()
        .with_grid(grid)
        .with_align(!args.no_align)
        .with_groupby(GroupBy::parse(&args.groupby))
        .with_fusion(args.fuse.parse::<Fusion>()?)
        .with_resampling(
            args.resampling
                .parse::<Resampling>()
                .map_err(|e| anyhow::anyhow!("--resampling: {e}"))?,
        )
        .with_rescale(args.rescale)
        .with_fail_on_error(!args.keep_going)
        .with_antimeridian(args.antimeridian)
        .with_max_pixels(args.max_pixels)
        .with_signer(args.signer.build()?)
        .with_href_policy(args.policy.policy(Provenance::of_items(&args.items)))
        .with_timeouts(args.policy.timeouts()?);
    if args.input_order {
        o = o.with_time_order(TimeOrder::Input);
    }
    if let Some(b) = &args.bbox {
        o = o.with_bbox(crate::arg_checks::lonlat_bbox(b, args.antimeridian)?);
    }
    if let Some(n) = args.max_items {
        o = o.with_max_items(n);
    }
    if let Some(t) = &args.dtype {
        let Some(dt) = stac_gdal::meta::DataType::parse(t) else {
            bail!("unknown --dtype {t:?}");
        };
        o = o.with_data_type(dt);
    }
    if let Some(nd) = args.nodata {
        o = o.with_nodata(nd);
    }
    if let Some(n) = args.threads {
        o = o.with_threads(n);
    }
    if let Some(n) = args.io_concurrency {
        o = o.with_io_concurrency(n);
    }
    Ok(o)
}

/// Run `stac-gdal cube`.
pub(crate) fn cube(args: CubeArgs) -> Result<()> {
    crate::policy_args::refuse_unscoped_bearer(&args.signer, "cube")?;
    if let Some(b) = &args.bbox {
        crate::arg_checks::lonlat_bbox(b, args.antimeridian)?;
    }
    if let Some(p) = &args.preview {
        crate::arg_checks::preview_path(p)?;
    }
    let format = args
        .output
        .as_deref()
        .map_or(OutputFormat::GeoTiffDir, OutputFormat::from_path);
    if args.zarr.any() && format != OutputFormat::Zarr && !(args.plan || args.no_write) {
        bail!(
            "--chunks, --shards, --zarr-format, --codec, --part and --finalize are for a Zarr output (-o X.zarr)"
        );
    }
    match format {
        OutputFormat::Zarr if !(args.plan || args.no_write) => return zarr_cube(args),
        OutputFormat::NetCdf if !(args.plan || args.no_write) => return netcdf_cube(args),
        _ => {}
    }
    // Output paths checked and staged before any work (crate::staging).
    let output = match (&args.output, args.plan || args.no_write) {
        (Some(dir), false) => Some(crate::staging::CubeOutput::prepare(
            dir,
            args.preview.as_deref(),
        )?),
        (None, false) => bail!(
            "cube writes one GeoTIFF per timestep: give -o/--output DIR (or --plan, or --no-write)"
        ),
        (_, true) => None,
    };
    let items = args
        .catalog
        .read(&args.items, args.bbox.as_deref(), false)?;
    let assets: Vec<&str> = args.asset.iter().map(String::as_str).collect();
    let (bar, opts) = options_with_sources_bar(&args, args.plan)?;
    let started = std::time::Instant::now();
    let mut plan =
        DatasetCollection::plan(&items, &assets, &opts).map_err(crate::arg_checks::cube_error)?;
    for w in &plan.grid_report().warnings {
        eprintln!("stac-gdal: warning: {w}");
    }
    if args.plan {
        // The type decides output_bytes: from metadata, or one file's header.
        if let Err(e) = plan.resolve_data_type() {
            crate::logging::warn(format_args!(
                "data type unknown until a source is read: {e}"
            ));
        }
        return crate::output::print_json(&plan.summary());
    }
    let cube = plan.load().map_err(crate::arg_checks::cube_error)?;
    let load_seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if args.no_write {
        let mut summary = cube.summary();
        if args.checksum {
            add_checksums(&mut summary, cube.data(), load_seconds);
        }
        return crate::output::print_json(&summary);
    }
    let write = if args.cog {
        stac_gdal::raster::WriteOptions::default().with_format(stac_gdal::raster::Format::Cog)
    } else {
        stac_gdal::raster::WriteOptions::default()
            .with_creation_option("COMPRESS=DEFLATE")
            .with_creation_option("TILED=YES")
    };
    let output = output.expect("checked above: an output unless --plan or --no-write");
    let files = cube.to_files_with(output.dir(), &write)?;
    let mut summary = cube.summary();
    if args.checksum {
        add_checksums(&mut summary, cube.data(), load_seconds);
    }
    summary["files"] = (output.final_paths(&files).iter())
        .map(|p| p.display().to_string())
        .collect();
    if let Some(png) = &args.preview {
        cube.write_quicklook(0, output.preview_path(png), &QuicklookOptions::default())?;
        summary["preview"] = png.display().to_string().into();
    }
    output.commit()?;
    for f in cube.failures() {
        crate::logging::warn(f);
    }
    for o in &cube.grid_report().outside {
        crate::logging::warn(format_args!(
            "{} is outside the grid",
            stac_gdal::meta::Location::asset(&o.item, &o.asset)
        ));
    }
    crate::output::print_json(&summary)
}

/// `cube -o X.nc`: one netCDF-4 file, written strip by strip through the
/// plan while the next strip loads (`crate::cube_netcdf`).
fn netcdf_cube(args: CubeArgs) -> Result<()> {
    let out = args.output.clone().unwrap_or_default();
    if args.cog {
        bail!(
            "--cog writes a folder of GeoTIFFs; --output {} is one NetCDF file",
            out.display()
        );
    }
    // The path checked and staged before any work.
    let output = crate::cube_netcdf::NetcdfOutput::prepare(&out, args.preview.as_deref())?;
    let items = args
        .catalog
        .read(&args.items, args.bbox.as_deref(), false)?;
    let assets: Vec<&str> = args.asset.iter().map(String::as_str).collect();
    let (bar, opts) = options_with_sources_bar(&args, false)?;
    let plan =
        DatasetCollection::plan(&items, &assets, &opts).map_err(crate::arg_checks::cube_error)?;
    for w in &plan.grid_report().warnings {
        eprintln!("stac-gdal: warning: {w}");
    }
    let summary = output.write(&plan)?;
    bar.finish_and_clear();
    crate::output::print_json(&summary)
}

/// `cube -o X.zarr`: the store written block by block through the plan
/// (staged and renamed into place whole; in place with `--part` or
/// `--finalize`, where the store's own bookkeeping makes it complete only
/// once every part is done).
fn zarr_cube(args: CubeArgs) -> Result<()> {
    let out = args
        .output
        .clone()
        .expect("a Zarr format comes from --output");
    if args.preview.is_some() {
        bail!("--preview is for folder outputs; open the Zarr store in xarray to look at it");
    }
    let zopts = args.zarr.options()?;
    let s3 = out
        .to_str()
        .filter(|u| u.starts_with("s3://"))
        .map(str::to_owned);
    // The path checked (and staged) before any work; an S3 store is
    // written in place (its metadata last, as parts do).
    let staged = if s3.is_some() {
        None
    } else if args.zarr.in_place() {
        crate::output::check_output_dir(&out, "--output")?;
        crate::staging::check_zarr_store(&out, "--output")?;
        None
    } else {
        Some(crate::staging::ZarrOutput::prepare(&out)?)
    };
    let items = args
        .catalog
        .read(&args.items, args.bbox.as_deref(), false)?;
    let assets: Vec<&str> = args.asset.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let plan = DatasetCollection::plan(&items, &assets, &options(&args)?)
        .map_err(crate::arg_checks::cube_error)?;
    for w in &plan.grid_report().warnings {
        eprintln!("stac-gdal: warning: {w}");
    }
    let store: Box<dyn stac_gdal::cube::zarr::Store> = match &s3 {
        Some(url) => Box::new(
            stac_gdal::cube::zarr::S3Store::new(
                url,
                &args.zarr.endpoint(),
                args.signer.build()?,
                std::time::Duration::from_secs(120),
            )
            .map_err(crate::arg_checks::cube_error)?,
        ),
        None => Box::new(stac_gdal::cube::zarr::LocalStore::new(
            staged.as_ref().map_or_else(|| out.clone(), |s| s.dir()),
        )),
    };
    let store = store.as_ref();
    // In place (--part, --finalize): this process's temporary folder in
    // the store goes on Ctrl-C (a staged store goes with its staging).
    let _temp = (s3.is_none() && staged.is_none()).then(|| {
        crate::interrupt::register(&stac_gdal::cube::zarr::LocalStore::new(&out).temp_dir())
    });
    let mut summary = plan.summary();
    if args.zarr.finalize {
        plan.finalize_zarr(store, &zopts)
            .map_err(crate::arg_checks::cube_error)?;
        summary["zarr"] = serde_json::json!({"finalized": true});
        summary["output"] = out.display().to_string().into();
        return crate::output::print_json(&summary);
    }
    let bar = if crate::logging::quiet() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} chunk blocks [{wide_bar}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let zopts = zopts.with_progress(move |p| {
        b.set_length(p.total as u64);
        b.set_position(p.done as u64);
    });
    let report = plan
        .write_zarr(store, &zopts)
        .map_err(crate::arg_checks::cube_error)?;
    bar.finish_and_clear();
    if let Some(s) = staged {
        s.commit()?;
    }
    for f in &report.failures {
        crate::logging::warn(f);
    }
    summary["zarr"] = serde_json::to_value(&report)?;
    summary["output"] = out.display().to_string().into();
    summary["seconds"] = started.elapsed().as_secs_f64().into();
    if !report.finalized {
        crate::logging::warn(format_args!(
            "{}: part written; the store is complete once every part has run",
            out.display()
        ));
    }
    crate::output::print_json(&summary)
}

/// `summary["checksum"]`: per-band pixel sums and a plane-order-sensitive
/// checksum (what the cube benchmark compares with odc-stac and stackstac).
fn add_checksums(summary: &mut serde_json::Value, data: &CubeData, load_seconds: f64) {
    /// Sum of each (time, band) plane, in memory order.
    fn plane_sums<'a, T: Pixel>(values: impl Iterator<Item = &'a T>, plane: usize) -> Vec<f64> {
        let (mut sums, mut acc, mut n) = (Vec::new(), 0.0, 0);
        for v in values {
            acc += v.to_f64();
            n += 1;
            if n == plane {
                sums.push(acc);
                (acc, n) = (0.0, 0);
            }
        }
        sums
    }
    let (_, nb, h, w) = data.dim();
    let plane = (h * w).max(1);
    let planes = match data {
        CubeData::U8(a) => plane_sums(a.iter(), plane),
        CubeData::I8(a) => plane_sums(a.iter(), plane),
        CubeData::U16(a) => plane_sums(a.iter(), plane),
        CubeData::I16(a) => plane_sums(a.iter(), plane),
        CubeData::U32(a) => plane_sums(a.iter(), plane),
        CubeData::I32(a) => plane_sums(a.iter(), plane),
        CubeData::F32(a) => plane_sums(a.iter(), plane),
        other => plane_sums(other.to_array::<f64>().iter(), plane),
    };
    let mut bands = vec![0.0; nb];
    let mut weighted = 0.0;
    for (i, p) in planes.iter().enumerate() {
        bands[i % nb.max(1)] += p;
        weighted += p * (i + 1) as f64;
    }
    summary["checksum"] = serde_json::json!({
        "band_sums": bands,
        "plane_checksum": weighted,
        "load_seconds": load_seconds,
    });
}
