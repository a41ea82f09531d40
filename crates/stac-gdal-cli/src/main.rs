//! The `stac-gdal` command-line tool: one subcommand per capability.
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod allocator;
mod arg_checks;
mod convert;
mod cube_cmd;
mod cube_format;
mod cube_netcdf;
mod download_cmd;
mod input;
mod interrupt;
mod item_cmd;
mod logging;
mod meta_cmds;
mod output;
mod point_cmd;
mod policy_args;
mod search_cmd;
mod search_file;
mod sign_cmds;
mod signer_args;
mod staging;
mod vrt_cmd;

/// glibc malloc spends much of a large GeoParquet conversion consolidating
/// free lists; mimalloc makes `convert` about 1.6× faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Read STAC catalogs (JSON, NDJSON, stac-geoparquet, STAC APIs) as GDAL rasters:
/// metadata without I/O, VRT mosaics, time x band x y x x cubes, searches,
/// downloads, format conversion and cloud signing.
#[derive(Debug, Parser)]
#[command(
    name = "stac-gdal",
    version,
    about = "Read STAC catalogs as GDAL rasters: metadata without I/O, VRT mosaics, \
             time x band x y x x cubes, searches, downloads, conversion and cloud signing",
    long_about = None,
    after_help = "Items are read from a file (.json, .ndjson, .parquet, a folder or glob of \
                  stac-geoparquet files) or `-` for standard input; -o/--output `-` writes to \
                  standard output."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten, next_help_heading = "Logging (any subcommand)")]
    log: logging::LogArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print an asset's extension metadata (grid, bands) as JSON, without opening it.
    #[command(after_help = "Example:\n  stac-gdal meta items.json --asset B04 --item S2A_0001")]
    Meta(meta_cmds::MetaArgs),
    /// Print which reader (gdal, netcdf, grib, zarr) opens an asset.
    #[command(after_help = "Example:\n  stac-gdal engine item.json --asset B04")]
    Engine(meta_cmds::EngineArgs),
    /// Print an asset's resolved href (or, with --gdal, the GDAL path).
    #[command(after_help = "Example:\n  stac-gdal href item.json --asset B04 --gdal")]
    Href(meta_cmds::HrefArgs),
    /// Convert items between .json, .ndjson/.jsonl and stac-geoparquet (.parquet), by extension or --from/--to.
    #[command(
        after_help = "Examples:\n  stac-gdal convert items.ndjson items.parquet --compression zstd --collection collection.json\n  cat items.ndjson | stac-gdal convert - --from ndjson -o - --to parquet > items.parquet"
    )]
    Convert(convert::ConvertArgs),
    /// Sign an href with a signer and print it (e.g. append a Planetary Computer SAS token).
    #[command(
        after_help = "Example:\n  stac-gdal sign https://acct.blob.core.windows.net/c/a.tif --signer planetary-computer"
    )]
    Sign(sign_cmds::SignArgs),
    /// Print a signer's GDAL configuration options (secrets only with --show-secrets).
    #[command(
        after_help = "Example:\n  stac-gdal env --signer aws-requester-pays --region us-west-2"
    )]
    Env(sign_cmds::EnvArgs),
    /// Build a VRT mosaic of an asset across items (from STAC metadata, opening no file when it can).
    #[command(
        after_help = "Example:\n  stac-gdal vrt items.json --asset B04 -o mosaic.vrt --resolution highest --crs EPSG:32630"
    )]
    Vrt(vrt_cmd::VrtArgs),
    /// Describe a raster as a STAC Item (projection + raster extensions) and print it.
    #[command(
        after_help = "Example:\n  stac-gdal item B04.tif --id scene-0 --datetime 2021-06-01T00:00:00Z --media-type 'image/tiff; application=geotiff'"
    )]
    Item(item_cmd::ItemArgs),
    /// Build a time x band x y x x cube from items; write one GeoTIFF per timestep (a folder), a Zarr store (X.zarr) or a netCDF file (X.nc), and print a JSON summary.
    #[command(
        after_help = "Example:\n  stac-gdal cube items.json --asset B04,B08 --groupby solar_day --fuse first --resolution 20 -o cube/ --preview cube.png"
    )]
    Cube(Box<cube_cmd::CubeArgs>),
    /// Search a STAC API around a point and load an edge-size square cube on the local UTM grid.
    #[command(
        after_help = "Example:\n  stac-gdal point https://earth-search.aws.element84.com/v1 --collection sentinel-2-l2a --asset red,green,blue --lat 46.0 --lon 11.0 --start 2021-06-01 --end 2021-06-10 --edge-size 64 --resolution 10 -o point/"
    )]
    Point(point_cmd::PointArgs),
    /// Search a STAC API, or a stac-geoparquet catalog file or folder, and print the items (an ItemCollection, or --ndjson).
    #[command(
        after_help = "Examples:\n  stac-gdal search https://earth-search.aws.element84.com/v1 --collections sentinel-2-l2a --bbox 10,45,11,46 --datetime 2023-06-01T00:00:00Z/.. --max-items 20\n  stac-gdal search catalog.parquet --bbox 10,45,11,46 --filter \"eo:cloud_cover < 10\" --sortby -datetime --ndjson"
    )]
    Search(search_cmd::SearchArgs),
    /// Download the assets of an item (or of each item of an ItemCollection) into a directory.
    #[command(
        after_help = "Example:\n  stac-gdal download item.json out/ --include B04,B08 --concurrency 8"
    )]
    Download(download_cmd::DownloadArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  stac-gdal completions bash > ~/.local/share/bash-completion/completions/stac-gdal"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `stac-gdal completions SHELL`.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "stac-gdal", &mut script);
    use std::io::Write;
    let mut out = output::Stdout::lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// A `println!` left somewhere on a closed stdout panics with "failed
/// printing to stdout"; end quietly as a closed pipe does, any other
/// panic as before.
fn quiet_broken_pipe_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    allocator::return_freed_memory();
    quiet_broken_pipe_panics();
    let cli = Cli::parse();
    cli.log.install();
    let result = match cli.command {
        Command::Meta(args) => meta_cmds::meta(args),
        Command::Engine(args) => meta_cmds::engine(args),
        Command::Href(args) => meta_cmds::href(args),
        Command::Convert(args) => convert::convert(args),
        Command::Sign(args) => sign_cmds::sign(args),
        Command::Env(args) => sign_cmds::env(args),
        Command::Vrt(args) => vrt_cmd::vrt(args),
        Command::Item(args) => item_cmd::item(args),
        Command::Cube(args) => cube_cmd::cube(*args),
        Command::Point(args) => point_cmd::point(args),
        Command::Search(args) => search_cmd::search(args),
        Command::Download(args) => download_cmd::download(args),
        Command::Completions { shell } => completions(shell),
    };
    interrupt::settle();
    // A --host that matched nothing explains a failure (a 401): shown with
    // the error even under -q.
    for warning in signer_args::unused_host_warnings() {
        if result.is_err() {
            logging::warning_always(warning);
        } else {
            logging::warn(warning);
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): nothing to report.
        Err(e) if output::is_broken_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            // One line, redacted by value (no secret of this run's signers,
            // whatever a server echoed into the error).
            let text = arg_checks::error_text(&e);
            let one_line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            logging::error(one_line.join(" "));
            ExitCode::from(1)
        }
    }
}
