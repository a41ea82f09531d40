//! The `stac-gdal` command-line tool: one subcommand per capability.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod input;
mod meta_cmds;

/// STAC catalogs as GDAL-native rasters.
#[derive(Debug, Parser)]
#[command(name = "stac-gdal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Meta(args) => meta_cmds::meta(args),
        Command::Engine(args) => meta_cmds::engine(args),
        Command::Href(args) => meta_cmds::href(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stac-gdal: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
