//! The seed notebook's "Live-catalog paths" section in Rust: search a STAC
//! API, stack the results with `from_stac`, build a point cube with
//! `from_point`, and download one item's assets with `download_item`.
//!
//! ```text
//! cargo run -p stac-gdal --features client,cube --example live_catalog -- [URL] [OPTIONS]
//! ```
//!
//! Without a URL, the steps use the seed's endpoints (Element 84's Earth
//! Search for the search, Planetary Computer for `from_point`); with one,
//! every step uses it. Options (defaults: the seed's values):
//!
//! | option | default |
//! |---|---|
//! | `--collection ID` | `sentinel-2-l2a` |
//! | `--bbox W,S,E,N` | `11.0,46.0,11.2,46.2` |
//! | `--datetime INTERVAL` | `2023-06/2023-08` |
//! | `--query JSON` | `{"eo:cloud_cover": {"lt": 20}}` (`none`: no query) |
//! | `--max-items N` | `12` |
//! | `--assets K,K,...` | `red,green,blue` |
//! | `--no-clip` | the `from_stac` grid is clipped to `--bbox` unless given (a live catalog's 110 km tiles would make a multi-GB cube) |
//! | `--point LAT,LON` | `46.0,11.0` |
//! | `--bands K,K,...` | `B04,B03,B02` |
//! | `--start DATE`, `--end DATE` | `2021-06-01`, `2021-06-10` |
//! | `--edge-size N`, `--resolution R`, `--units px\|m` | `64`, `10`, `px` |
//! | `--signer planetary-computer\|anonymous` | `planetary-computer` (signs `from_point` and the download; it only touches Planetary Computer hosts) |
//! | `--include K` | the first of `--assets` |
//! | `--download-dir DIR` | a new temp dir |
//!
//! Each step prints `[step] key=value` lines.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use stac_gdal::client::{ClientOptions, DownloadOptions, SearchParams, download_item, search_with};
use stac_gdal::cube::{CubeOptions, DatasetCollection, Grid};
use stac_gdal::{
    AnonymousSigner, EdgeUnits, FromPoint, PlanetaryComputerSigner, PointOptions, PointQuery,
    Signer, redact, search_point,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const EARTH_SEARCH: &str = "https://earth-search.aws.element84.com/v1";

/// The command line: an optional URL and `--key value` options.
struct Args {
    url: Option<String>,
    options: BTreeMap<String, String>,
    no_clip: bool,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Args {
            url: None,
            options: BTreeMap::new(),
            no_clip: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            if arg == "--no-clip" {
                args.no_clip = true;
            } else if arg == "-h" || arg == "--help" {
                println!(
                    "usage: live_catalog [URL] [--collection ID] [--bbox W,S,E,N] [--datetime I] [--query JSON|none] [--max-items N] [--assets K,..] [--no-clip] [--point LAT,LON] [--bands K,..] [--start D] [--end D] [--edge-size N] [--resolution R] [--units px|m] [--signer planetary-computer|anonymous] [--include K] [--download-dir DIR]"
                );
                std::process::exit(0);
            } else if let Some(key) = arg.strip_prefix("--") {
                let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
                args.options.insert(key.to_owned(), value);
            } else if args.url.is_none() {
                args.url = Some(arg);
            } else {
                return Err(format!("unexpected argument {arg:?}").into());
            }
        }
        Ok(args)
    }

    fn get<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.options.get(key).map_or(default, String::as_str)
    }

    fn list(&self, key: &str, default: &str) -> Vec<String> {
        self.get(key, default)
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn numbers(&self, key: &str, default: &str) -> Result<Vec<f64>> {
        self.list(key, default)
            .iter()
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|e| format!("--{key}: {s:?}: {e}").into())
            })
            .collect()
    }
}

fn join(values: &[impl AsRef<str>]) -> String {
    values
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(",")
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    let search_url = args.url.clone().unwrap_or_else(|| EARTH_SEARCH.to_owned());
    let point_url = args
        .url
        .clone()
        .unwrap_or_else(|| stac_gdal::client::PLANETARY_COMPUTER_STAC.to_owned());
    let collection = args.get("collection", "sentinel-2-l2a").to_owned();
    let signer: Arc<dyn Signer> = match args.get("signer", "planetary-computer") {
        "planetary-computer" => Arc::new(PlanetaryComputerSigner::new()),
        "anonymous" => Arc::new(AnonymousSigner),
        other => return Err(format!("--signer: unknown signer {other:?}").into()),
    };

    // items = search(url, collection, bbox=..., datetime=..., query=..., max_items=12)
    let bbox = args.numbers("bbox", "11.0,46.0,11.2,46.2")?;
    let bbox: [f64; 4] = bbox
        .try_into()
        .map_err(|_| "--bbox needs 4 numbers W,S,E,N")?;
    let mut params = SearchParams::new()
        .with_bbox(bbox.to_vec())
        .with_datetime(args.get("datetime", "2023-06/2023-08"))
        .with_max_items(args.get("max-items", "12").parse()?);
    let query = args.get("query", r#"{"eo:cloud_cover": {"lt": 20}}"#);
    if query != "none" {
        params = params.with_query(serde_json::from_str(query)?);
    }
    let items: Vec<Value> = search_with(
        &search_url,
        &[&collection],
        params,
        ClientOptions::default(),
    )?
    .collect::<std::result::Result<_, _>>()?;
    println!(
        "[search] url={} collection={collection} items={}",
        redact(&search_url),
        items.len()
    );
    println!("[search] ids={}", join(&ids(&items)));

    // cube = DatasetCollection.from_stac(items, asset=['red', 'green', 'blue'])
    let assets = args.list("assets", "red,green,blue");
    let asset_refs: Vec<&str> = assets.iter().map(String::as_str).collect();
    let mut options = CubeOptions::default();
    if !args.no_clip {
        options = options.with_grid(Grid::default().with_bounds_lonlat(bbox));
    }
    let cube = DatasetCollection::from_stac(&items, &asset_refs, &options)?;
    println!(
        "[from_stac] shape={:?} bands={} crs={}",
        cube.shape(),
        join(cube.band_names()),
        cube.crs().short()
    );
    println!("[from_stac] times={}", join(&cube.time_labels()));

    // cube = DatasetCollection.from_point(lat=46.0, lon=11.0, ..., signer=PlanetaryComputerSigner())
    let point = args.numbers("point", "46.0,11.0")?;
    let [lat, lon]: [f64; 2] = point
        .try_into()
        .map_err(|_| "--point needs 2 numbers LAT,LON")?;
    let bands = args.list("bands", "B04,B03,B02");
    let band_refs: Vec<&str> = bands.iter().map(String::as_str).collect();
    let query = PointQuery {
        lat,
        lon,
        collection: &collection,
        bands: &band_refs,
        start_date: args.get("start", "2021-06-01"),
        end_date: args.get("end", "2021-06-10"),
        edge_size: args.get("edge-size", "64").parse()?,
        resolution: args.get("resolution", "10").parse()?,
    };
    let point_options = PointOptions::default()
        .with_endpoint(&point_url)
        .with_signer(signer.clone())
        .with_units(args.get("units", "px").parse::<EdgeUnits>()?);
    // The search step on its own (what from_point searches), then the cube.
    let found = search_point(&query, &point_options)?;
    println!(
        "[from_point] epsg={} center={:?} bbox={:?} items={}",
        found.grid.epsg,
        found.grid.center,
        found.grid.bbox,
        found.items.len()
    );
    let point_cube = DatasetCollection::from_point(&query, &point_options)?;
    println!(
        "[from_point] shape={:?} geotransform={:?}",
        point_cube.shape(),
        point_cube.geotransform()
    );
    println!("[from_point] times={}", join(&point_cube.time_labels()));
    let arr = point_cube.read_array::<f64>();
    let (times, nbands, rows, cols) = point_cube.shape();
    for t in 0..times {
        for (name, at) in [("corner", (0, 0)), ("centre", (rows / 2, cols / 2))] {
            let values: Vec<String> = (0..nbands)
                .map(|b| format!("{}={}", bands[b], arr[[t, b, at.0, at.1]]))
                .collect();
            println!(
                "[from_point] t={t} {name}=({},{}) {}",
                at.0,
                at.1,
                values.join(" ")
            );
        }
    }

    // download_item(item, dir, include=[...])
    let Some(first) = items.first() else {
        println!("[download] skipped: the search found no item");
        return Ok(());
    };
    let include = args
        .options
        .get("include")
        .cloned()
        .or_else(|| assets.first().cloned())
        .ok_or("--include: no asset key")?;
    let dir = match args.options.get("download-dir") {
        Some(d) => PathBuf::from(d),
        None => tempfile::Builder::new()
            .prefix("live_catalog-")
            .tempdir()?
            .keep(),
    };
    let local = download_item(
        first,
        &dir,
        &DownloadOptions::default()
            .with_include([include.as_str()])
            .with_signer(signer),
    )?;
    println!(
        "[download] item={} include={include} dir={}",
        first["id"].as_str().unwrap_or("?"),
        dir.display()
    );
    let mut downloaded = Vec::new();
    if let Some(assets) = local["assets"].as_object() {
        for (key, asset) in assets {
            let href = asset["href"].as_str().unwrap_or("");
            // Downloaded assets point at their local file; the others keep their href.
            if href == first["assets"][key]["href"].as_str().unwrap_or("") {
                continue;
            }
            if let Ok(meta) = std::fs::metadata(href) {
                println!("[download] {key} -> {href} ({} bytes)", meta.len());
                downloaded.push(key.clone());
            }
        }
    }
    println!("[download] files={}", join(&downloaded));
    Ok(())
}
