//! `stac-gdal vrt`: a VRT mosaic of one asset across items, written from STAC
//! metadata when the items carry it; prints a JSON summary.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use stac_gdal::vrt::{MosaicOrder, Resampling, Resolution, VrtOptions, build_vrt_from_stac};

use crate::policy_args::{PolicyArgs, Provenance};
use crate::signer_args::SignerOpts;

/// Which item wins on overlap.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Order {
    /// Later items on top (GDAL's order).
    Later,
    /// Earlier items on top (first valid pixel wins).
    Earlier,
}

/// Arguments of `stac-gdal vrt`.
#[derive(Debug, Args)]
pub(crate) struct VrtArgs {
    /// STAC Item, FeatureCollection, JSON array or NDJSON file (`-` for stdin), or a stac-geoparquet catalog (file, folder, glob).
    items: PathBuf,
    #[command(flatten)]
    select: crate::input::CatalogSelect,
    /// Asset key to mosaic.
    #[arg(long)]
    asset: String,
    /// Output VRT path (`-` writes the XML to stdout, and no summary).
    #[arg(short = 'o', long, visible_alias = "out", value_name = "FILE")]
    output: PathBuf,
    /// highest (default), lowest, average, a cell size, or XRES,YRES.
    #[arg(long, visible_alias = "tr", allow_hyphen_values = true)]
    resolution: Option<String>,
    /// Target CRS (e.g. EPSG:32630); default: the most common among the items.
    #[arg(long, visible_alias = "t_srs")]
    crs: Option<String>,
    /// Target bounds MINX,MINY,MAXX,MAXY in the target CRS.
    #[arg(long, visible_alias = "te", allow_hyphen_values = true)]
    bounds: Option<String>,
    /// Data type (uint8, int16, uint16, float32, ...) for items whose
    /// raster:bands lack one, so no file is opened to learn it.
    #[arg(long)]
    dtype: Option<String>,
    /// Nodata of the sources and the VRT.
    #[arg(long, allow_hyphen_values = true)]
    nodata: Option<f64>,
    /// Resampling: nearest, bilinear, cubic, cubicspline, lanczos, average, mode.
    #[arg(long, default_value = "nearest")]
    resampling: String,
    /// One band per item instead of a mosaic.
    #[arg(long)]
    separate: bool,
    /// 1-based bands of multi-band assets, comma separated.
    #[arg(long, value_delimiter = ',')]
    bands: Option<Vec<usize>>,
    /// Which item wins where footprints overlap.
    #[arg(long, value_enum, default_value = "later")]
    order: Order,
    /// Build a partial mosaic when sources are skipped (they are listed in the summary).
    #[arg(long)]
    no_strict: bool,
    /// Write the signer's HTTP headers (e.g. a bearer token) into the VRT's
    /// source paths, in clear text, so any GDAL >= 3.7 reads it as is.
    /// Default: the file holds no header credential, and a reader brings
    /// its own. Hrefs the signer rewrote (a SAS query) are written either way.
    #[arg(long)]
    embed_credentials: bool,
    #[command(flatten)]
    signer: SignerOpts,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// Run `stac-gdal vrt`.
pub(crate) fn vrt(args: VrtArgs) -> Result<()> {
    crate::policy_args::refuse_unscoped_bearer(&args.signer, "vrt")?;
    crate::output::check_output_file(&args.output, "--output")?;
    let items = args.select.read_items(&args.items)?;
    crate::input::check_asset(&items, &args.asset, "--asset")?;
    let mut opts = VrtOptions::default()
        .with_href_policy(args.policy.policy(Provenance::of_items(&args.items)))
        .with_timeouts(args.policy.timeouts()?)
        .with_fail_on_error(!args.no_strict)
        .with_separate(args.separate)
        .with_order(match args.order {
            Order::Later => MosaicOrder::LaterOnTop,
            Order::Earlier => MosaicOrder::EarlierOnTop,
        });
    if let Some(r) = &args.resolution {
        let sizes: Vec<f64> = r.split(',').filter_map(|v| v.trim().parse().ok()).collect();
        if let Some(bad) = sizes.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            bail!("--resolution must be a positive cell size in CRS units, got {bad}");
        }
        let Some(res) = Resolution::parse(r) else {
            bail!("--resolution must be highest, lowest, average, RES or XRES,YRES; got {r:?}");
        };
        opts = opts.with_resolution(res);
    }
    if let Some(crs) = args.crs {
        crate::arg_checks::crs("--crs", &crs)?;
        opts = opts.with_crs(crs);
    }
    if let Some(t) = &args.dtype {
        let Some(dt) = stac_gdal::meta::DataType::parse(&t.to_ascii_lowercase()) else {
            bail!(
                "--dtype {t:?}: unknown data type (int8, int16, int32, int64, uint8, uint16, \
                 uint32, uint64, float16, float32, float64, cint16, cint32, cfloat32, cfloat64)"
            );
        };
        opts = opts.with_data_type(dt);
    }
    if let Some(b) = &args.bounds {
        let v: Vec<f64> = b
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("--bounds must be MINX,MINY,MAXX,MAXY; got {b:?}"))?;
        let Ok(arr) = <[f64; 4]>::try_from(v) else {
            bail!("--bounds must have 4 numbers; got {b:?}");
        };
        opts = opts.with_bounds(arr);
    }
    if let Some(nd) = args.nodata {
        opts = opts.with_nodata(nd);
    }
    let resampling: Resampling = args
        .resampling
        .parse()
        .map_err(|e| anyhow::anyhow!("--resampling: {e}"))?;
    opts = opts.with_resampling(resampling);
    if let Some(signer) = args.signer.build_given()? {
        opts = opts.with_signer(signer);
    }
    if let Some(bands) = args.bands {
        opts = opts.with_bands(bands);
    }
    let vrt =
        build_vrt_from_stac(&items, &args.asset, &opts).map_err(crate::arg_checks::vrt_error)?;
    let xml = if args.embed_credentials {
        if vrt.xml() != vrt.public_xml() && stac_gdal::raster::gdal_version() < (3, 7) {
            bail!(
                "--embed-credentials: GDAL {}.{} cannot carry HTTP headers inside a VRT file \
                 (needs GDAL >= 3.7)",
                stac_gdal::raster::gdal_version().0,
                stac_gdal::raster::gdal_version().1
            );
        }
        vrt.xml()
    } else {
        vrt.public_xml()
    };
    // Written atomically (temp file, then rename), or to stdout for `-`.
    let mut dest = crate::output::Destination::open(&args.output, "--output")?;
    dest.write_all(xml.as_bytes())
        .and_then(|()| dest.flush())
        .with_context(|| format!("writing {}", args.output.display()))?;
    dest.finish()?;
    for w in vrt.warnings() {
        crate::logging::warn(w);
    }
    if crate::output::is_std(&args.output) {
        return Ok(());
    }
    let mut summary = serde_json::to_value(vrt.summary())?;
    summary["output"] = serde_json::Value::String(args.output.display().to_string());
    crate::output::print_json(&summary)
}
