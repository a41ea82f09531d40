//! `download`: fetch the assets of an item (or of each item of an
//! ItemCollection) into a directory, with a progress bar on stderr.
//!
//! Bytes are staged in `<dir>/.stac-gdal-staging/` and moved into place
//! when every asset is complete and verified; `stac-gdal-manifest.json`
//! lists what was written. Ctrl-C (`SIGINT`) and `SIGTERM` remove the
//! staging directory; after `SIGKILL` the next run resumes its parts
//! (validated with `If-Range`) and removes the rest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stac_gdal::client::{
    DownloadOptions, DownloadProgress, Overwrite, S3Endpoint, download_item, download_items,
};

use crate::signer_args::{SignerOpts, parse_timeout};

/// What to do with files that already exist.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OverwriteArg {
    /// Keep them.
    Skip,
    /// Replace them.
    Overwrite,
    /// Fail.
    Error,
}

/// Arguments of `stac-gdal download`.
#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// An Item, an ItemCollection or an array of items (JSON file; `-` for stdin), or a stac-geoparquet catalog (file, folder, glob).
    items: PathBuf,
    #[command(flatten)]
    select: crate::input::CatalogSelect,
    /// The target directory (one sub-directory per item when there are several).
    #[arg(required_unless_present = "output")]
    dir: Option<PathBuf>,
    /// The target directory, as an option (instead of DIR).
    #[arg(
        short = 'o',
        long,
        visible_alias = "out",
        value_name = "DIR",
        conflicts_with = "dir"
    )]
    output: Option<PathBuf>,
    /// Only these asset keys; repeat or comma-separate.
    #[arg(long, visible_alias = "asset", value_delimiter = ',')]
    include: Vec<String>,
    /// Not these asset keys; repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Only assets that are raster bands, by the rule `cube` and `vrt` use
    /// (media type, roles, extension): no MTL/XML/JSON metadata,
    /// thumbnails or HDF4 containers.
    #[arg(long)]
    rasters: bool,
    /// Assets downloaded at the same time.
    #[arg(long, visible_alias = "threads", default_value_t = 4)]
    concurrency: usize,
    /// Existing files.
    #[arg(long, value_enum, default_value = "error")]
    overwrite: OverwriteArg,
    /// S3 endpoint for s3:// hrefs, path-style (e.g. http://127.0.0.1:8333).
    #[arg(long)]
    s3_endpoint: Option<String>,
    /// Do not check file:size and file:checksum.
    #[arg(long)]
    no_verify: bool,
    /// Deadline per asset in seconds (every attempt, resume and backoff
    /// together), also the deadline of each token request.
    #[arg(long, value_parser = parse_timeout, value_name = "SECONDS")]
    timeout: Option<Duration>,
    #[command(flatten)]
    signer: SignerOpts,
}

/// (bytes so far, total) per (item, asset).
type ByAsset = HashMap<(String, String), (u64, u64)>;

/// A byte counter over all assets, feeding one progress bar.
fn progress_bar(
    quiet: bool,
) -> (
    ProgressBar,
    impl Fn(&DownloadProgress) + Send + Sync + 'static,
) {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bytes_per_sec} [{wide_bar}] {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let state: Arc<Mutex<ByAsset>> = Arc::default();
    let b = bar.clone();
    let update = move |p: &DownloadProgress| {
        let Ok(mut s) = state.lock() else { return };
        s.insert(
            (p.item.clone(), p.asset.clone()),
            (p.bytes, p.total.unwrap_or(p.bytes)),
        );
        let (done, total) = s
            .values()
            .fold((0, 0), |(d, t), (bd, bt)| (d + bd, t + bt.max(bd)));
        b.set_length(total);
        b.set_position(done);
        if p.done {
            b.set_message(format!("{}/{}", p.item, p.asset));
        }
    };
    (bar, update)
}

/// `stac-gdal download`.
pub(crate) fn download(args: DownloadArgs) -> Result<()> {
    if args.signer.is_unscoped_bearer() {
        anyhow::bail!(
            "--signer bearer needs --host ORIGIN for downloads: the token goes only to the \
             origins named (host, host:port or scheme://host[:port]), never to every host an \
             item names"
        );
    }
    let dir = args
        .output
        .clone()
        .or_else(|| args.dir.clone())
        .expect("clap requires DIR or --output");
    crate::output::check_output_dir(&dir, "DIR")?;
    let items = args.select.read_items(&args.items)?;
    // An asset key no item has is a typo, not "nothing to do".
    for key in &args.include {
        crate::input::check_asset(&items, key, "--include")?;
    }
    let (bar, update) = progress_bar(crate::logging::quiet());
    let mut options = DownloadOptions::default()
        .with_include(args.include.iter().cloned())
        .with_exclude(args.exclude.iter().cloned())
        .with_rasters_only(args.rasters)
        .with_concurrency(args.concurrency)
        .with_overwrite(match args.overwrite {
            OverwriteArg::Skip => Overwrite::Skip,
            OverwriteArg::Overwrite => Overwrite::Overwrite,
            OverwriteArg::Error => Overwrite::Error,
        })
        .with_verify(!args.no_verify)
        .with_signer(args.signer.build_with_timeout(args.timeout)?)
        .with_progress(update);
    if let Some(t) = args.timeout {
        options = options
            .with_timeout(t)
            .with_connect_timeout(t.min(Duration::from_secs(10)));
    }
    if let Some(e) = &args.s3_endpoint {
        options = options.with_s3_endpoint(S3Endpoint::path_style(e.clone()));
    }
    // Ctrl-C / SIGTERM: the staging directory goes, nothing else.
    let _staged = crate::interrupt::register(&stac_gdal::client::staging_dir(&dir));
    let result = if items.len() == 1 {
        download_item(&items[0], &dir, &options).map(|i| vec![i])
    } else {
        download_items(&items, &dir, &options)
    };
    bar.finish_and_clear();
    let written = result?;
    for item in &written {
        // The assets fetched: their hrefs now point into the directory
        // (the others keep their remote hrefs in the written item).
        let n = item
            .get("assets")
            .and_then(|a| a.as_object())
            .map_or(0, |a| {
                a.values()
                    .filter(|v| {
                        v.get("href")
                            .and_then(|h| h.as_str())
                            .is_some_and(|h| !h.contains("://"))
                    })
                    .count()
            });
        crate::logging::note(format_args!(
            "{}: {n} asset{} in {}",
            stac_gdal::meta::item_id(item),
            if n == 1 { "" } else { "s" },
            dir.display()
        ));
    }
    crate::logging::note(format_args!(
        "manifest: {}",
        dir.join(stac_gdal::client::MANIFEST_NAME).display()
    ));
    Ok(())
}
