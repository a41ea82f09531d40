//! The seed's "Live-catalog paths" section against a real stac-fastapi-pgstac
//! on 127.0.0.1: `search` then `from_stac`, `from_point` (an edge_size²
//! cube on the point's UTM grid), `download_item` with include, and the
//! `live_catalog` example run against the same server.
//!
//! The catalog is ours: five Sentinel-2-like scenes of three uint32 COG
//! bands around the seed's point (46 N, 11 E, UTM 32N), served by nginx
//! over HTTP (Range). Every pixel holds `scene * 1e6 + band * 1e5 + row *
//! 1000 + col` of its source file, so each cube pixel is checked against
//! the file and position it must come from.
//!
//! One pgstac and one nginx for the binary, sub-cases run in turn.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ndarray::Array2;
use serde_json::{Value, json};
use stac_client::{ClientOptions, DownloadOptions, SearchParams, download_item, search_with};
use stac_gdal::cube::{CubeError, CubeOptions, DatasetCollection};
use stac_gdal::point::{EdgeUnits, FromPoint, PointError, PointOptions, PointQuery, utm_epsg};
use stac_gdal::raster::{Crs, Dataset, GridSpec, transform_bounds, transform_point};
use stac_gdal_e2e::nginx::Nginx;
use stac_gdal_e2e::pgstac::PgStac;

const COLLECTION: &str = "s2-point";
const BANDS: [&str; 3] = ["B04", "B03", "B02"];
/// Source rasters: 96 x 96 pixels of 10 m.
const SIZE: usize = 96;
const RES: f64 = 10.0;
const LAT: f64 = 46.0;
const LON: f64 = 11.0;

/// One generated scene: its id, datetime, cloud cover, and its grid's
/// top-left corner relative to the snapped centre of the point.
struct Scene {
    number: u32,
    id: &'static str,
    datetime: &'static str,
    cloud: u32,
    offset: [f64; 2],
}

const SCENES: [Scene; 5] = [
    Scene {
        number: 1,
        id: "s2-a",
        datetime: "2021-06-02T10:00:00Z",
        cloud: 5,
        offset: [-460.0, 470.0],
    },
    Scene {
        number: 2,
        id: "s2-b",
        datetime: "2021-06-07T10:00:00Z",
        cloud: 10,
        offset: [-400.0, 420.0],
    },
    // Same place, in the from_point interval, too cloudy for the seed's query.
    Scene {
        number: 3,
        id: "s2-c-cloudy",
        datetime: "2021-06-08T10:00:00Z",
        cloud: 80,
        offset: [-500.0, 500.0],
    },
    // Same place, after both intervals.
    Scene {
        number: 4,
        id: "s2-late",
        datetime: "2021-07-01T10:00:00Z",
        cloud: 5,
        offset: [-460.0, 470.0],
    },
    // In the interval, 50 km east: outside every bbox.
    Scene {
        number: 5,
        id: "s2-far",
        datetime: "2021-06-02T10:00:00Z",
        cloud: 5,
        offset: [50_000.0, 470.0],
    },
];

/// The pixel value of the generated files (band: 1-based index in `BANDS`).
fn value(scene: u32, band: usize, row: usize, col: usize) -> u32 {
    scene * 1_000_000 + band as u32 * 100_000 + row as u32 * 1000 + col as u32
}

/// The point in UTM 32N, snapped to the resolution (computed here with
/// GDAL's transform, independently of the code under test).
fn centre() -> [f64; 2] {
    let [x, y] = transform_point(LON, LAT, &Crs::Epsg(4326), &Crs::Epsg(32632)).unwrap();
    [(x / RES).round() * RES, (y / RES).round() * RES]
}

fn origin(scene: &Scene) -> [f64; 2] {
    let c = centre();
    [c[0] + scene.offset[0], c[1] + scene.offset[1]]
}

/// Write the COGs and the items (hrefs on nginx); returns the items.
fn write_scenes(root: &Path, nginx: &Nginx) -> Vec<Value> {
    SCENES
        .iter()
        .map(|scene| {
            let [ox, oy] = origin(scene);
            let dir = root.join(scene.id);
            std::fs::create_dir_all(&dir).unwrap();
            let mut assets = serde_json::Map::new();
            for (b, band) in BANDS.iter().enumerate() {
                let arr =
                    Array2::from_shape_fn((SIZE, SIZE), |(r, c)| value(scene.number, b + 1, r, c));
                let file = format!("{band}.cog.tif");
                Dataset::create_from_array(
                    &arr,
                    &GridSpec::north_up([ox, oy], RES, 32632),
                    Some(0.0),
                )
                .unwrap()
                .to_file(dir.join(&file))
                .unwrap();
                assets.insert(
                    (*band).to_owned(),
                    json!({
                        "href": nginx.url(&format!("/public/{}/{file}", scene.id)),
                        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                        "roles": ["data"],
                        "raster:bands": [{"data_type": "uint32", "nodata": 0}],
                    }),
                );
            }
            let extent = SIZE as f64 * RES;
            let b = transform_bounds(
                &[ox, oy - extent, ox + extent, oy],
                &Crs::Epsg(32632),
                &Crs::Epsg(4326),
            )
            .unwrap();
            json!({
                "type": "Feature", "stac_version": "1.0.0",
                "stac_extensions": [
                    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                    "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
                ],
                "id": scene.id, "collection": COLLECTION,
                "bbox": b,
                "geometry": {"type": "Polygon", "coordinates": [[
                    [b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]]},
                "properties": {
                    "datetime": scene.datetime, "eo:cloud_cover": scene.cloud,
                    "proj:code": "EPSG:32632", "proj:shape": [SIZE, SIZE],
                    "proj:transform": [RES, 0.0, ox, 0.0, -RES, oy],
                },
                "assets": assets,
                "links": []
            })
        })
        .collect()
}

/// Load the collection and the items into pgstac.
fn load(server: &PgStac, dir: &Path, items: &[Value]) {
    let coll = json!({"type": "Collection", "stac_version": "1.0.0", "id": COLLECTION,
        "description": "from_point test scenes", "license": "CC0-1.0",
        "extent": {"spatial": {"bbox": [[10.0, 45.0, 12.0, 47.0]]},
            "temporal": {"interval": [["2021-01-01T00:00:00Z", null]]}},
        "links": []});
    let cpath = dir.join("collection.json");
    std::fs::write(&cpath, coll.to_string()).unwrap();
    server.load_collection(&cpath);
    let ipath = dir.join("items.ndjson");
    let nd: String = items.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&ipath, nd).unwrap();
    server.load_items(&ipath);
}

/// What the cube must hold at `(row, col)` of a grid with geotransform
/// `gt`, for `scene` and band index `b` (0-based): the source pixel under
/// the cell's centre, or 0 (nodata) outside the source.
fn expected_at(scene: &Scene, b: usize, gt: [f64; 6], row: usize, col: usize) -> u32 {
    let [ox, oy] = origin(scene);
    let x = gt[0] + (col as f64 + 0.5) * gt[1];
    let y = gt[3] + (row as f64 + 0.5) * gt[5];
    let (sc, sr) = (((x - ox) / RES).floor(), ((oy - y) / RES).floor());
    if sc < 0.0 || sr < 0.0 || sc >= SIZE as f64 || sr >= SIZE as f64 {
        return 0;
    }
    value(scene.number, b + 1, sr as usize, sc as usize)
}

fn scene(id: &str) -> &'static Scene {
    SCENES.iter().find(|s| s.id == id).unwrap()
}

/// Every pixel of `cube` against the sources of its timesteps.
fn check_pixels(cube: &DatasetCollection) {
    let arr = cube.read_array::<u32>();
    let gt = cube.geotransform();
    let (t, b, rows, cols) = cube.shape();
    for ti in 0..t {
        let ids = &cube.timesteps()[ti].items;
        assert_eq!(ids.len(), 1, "one item per timestep");
        let s = scene(&ids[0]);
        for bi in 0..b {
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        arr[[ti, bi, r, c]],
                        expected_at(s, bi, gt, r, c),
                        "t={ti} ({}) band {} pixel ({r}, {c})",
                        s.id,
                        BANDS[bi]
                    );
                }
            }
        }
    }
}

/// The CLI's summary lists one GeoTIFF per timestep of `cube`, each holding
/// exactly that timestep's pixels.
fn assert_files_hold(summary: &Value, cube: &DatasetCollection, what: &str) {
    let files = summary["files"].as_array().unwrap();
    assert_eq!(files.len(), cube.time_length(), "{what}: {summary}");
    for (t, f) in files.iter().enumerate() {
        let written = Dataset::open(f.as_str().unwrap())
            .unwrap()
            .read_array::<u32>()
            .unwrap();
        assert_eq!(
            written,
            cube.read_timestep::<u32>(t).unwrap(),
            "{what}: timestep {t}"
        );
    }
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn time_ids(cube: &DatasetCollection) -> Vec<String> {
    cube.timesteps().iter().map(|t| t.items.join("+")).collect()
}

/// The seed's search bbox for our point: ~800 m x 1100 m around it.
const SEARCH_BBOX: [f64; 4] = [10.995, 45.995, 11.005, 46.005];

fn point_query<'a>(start: &'a str, end: &'a str, edge_size: u32) -> PointQuery<'a> {
    PointQuery {
        lat: LAT,
        lon: LON,
        collection: COLLECTION,
        bands: &BANDS,
        start_date: start,
        end_date: end,
        edge_size,
        resolution: RES,
    }
}

#[test]
fn live_catalog_against_pgstac() {
    let work = tempfile::tempdir().unwrap();
    let files = work.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let nginx = Nginx::start(&files, "unused-token");
    let items = write_scenes(&files, &nginx);
    let server = PgStac::start(1);
    load(&server, work.path(), &items);
    let url = server.url();
    let c = centre();
    assert_eq!(utm_epsg(LAT, LON), 32632);

    // 1. items = search(url, collection, bbox=..., datetime='2021-06',
    //    query={'eo:cloud_cover': {'lt': 20}}, max_items=12)
    let found: Vec<Value> = search_with(
        &url,
        &[COLLECTION],
        SearchParams::new()
            .with_bbox(SEARCH_BBOX.to_vec())
            .with_datetime("2021-06")
            .with_query(json!({"eo:cloud_cover": {"lt": 20}}))
            .with_max_items(12),
        ClientOptions::default(),
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(ids(&found), BTreeSet::from(["s2-a".into(), "s2-b".into()]));

    // 2. cube = DatasetCollection.from_stac(items, asset=[...]): the union
    //    of both footprints on their native 10 m grid.
    let cube = DatasetCollection::from_stac(&found, &BANDS, &CubeOptions::default()).unwrap();
    let (a, b) = (origin(scene("s2-a")), origin(scene("s2-b")));
    let extent = SIZE as f64 * RES;
    let union = [
        a[0].min(b[0]),
        (a[1] - extent).min(b[1] - extent),
        (a[0] + extent).max(b[0] + extent),
        a[1].max(b[1]),
    ];
    assert_eq!(cube.crs(), &Crs::Epsg(32632));
    assert_eq!(
        cube.geotransform(),
        [union[0], RES, 0.0, union[3], 0.0, -RES]
    );
    assert_eq!(
        cube.shape(),
        (
            2,
            3,
            ((union[3] - union[1]) / RES) as usize,
            ((union[2] - union[0]) / RES) as usize
        )
    );
    assert_eq!(cube.band_names(), BANDS);
    assert_eq!(
        cube.time_labels(),
        ["2021-06-02T10:00:00Z", "2021-06-07T10:00:00Z"]
    );
    check_pixels(&cube);

    // 3. from_point: edge_size x edge_size on the UTM grid centred on the
    //    snapped point; every scene of the interval at that place (the
    //    late and the far ones are not found).
    let options = PointOptions::default().with_endpoint(&url);
    let cube =
        DatasetCollection::from_point(&point_query("2021-06-01", "2021-06-10", 64), &options)
            .unwrap();
    assert_eq!(cube.shape(), (3, 3, 64, 64));
    assert_eq!(cube.crs(), &Crs::Epsg(32632));
    assert_eq!(
        cube.geotransform(),
        [c[0] - 320.0, RES, 0.0, c[1] + 320.0, 0.0, -RES]
    );
    assert_eq!(time_ids(&cube), ["s2-a", "s2-b", "s2-c-cloudy"]);
    assert_eq!(cube.band_names(), BANDS);
    check_pixels(&cube);
    assert!(cube.failures().is_empty());
    // The seed's corner: scene a's pixel (15, 14) at the top-left.
    assert_eq!(cube.read_array::<u32>()[[0, 0, 0, 0]], value(1, 1, 15, 14));

    // The same cube through the CLI: `stac-gdal point` writes one GeoTIFF
    // per timestep holding exactly the library's pixels.
    let cli_out = work.path().join("point-cli");
    let (bands, lat, lon, res) = (
        BANDS.join(","),
        LAT.to_string(),
        LON.to_string(),
        RES.to_string(),
    );
    let o = Command::new(stac_gdal_e2e::stac_gdal_bin())
        .args([
            "point",
            url.as_str(),
            "--collection",
            COLLECTION,
            "--bands",
            bands.as_str(),
        ])
        .args([
            "--lat",
            lat.as_str(),
            "--lon",
            lon.as_str(),
            "--resolution",
            res.as_str(),
        ])
        .args([
            "--start",
            "2021-06-01",
            "--end",
            "2021-06-10",
            "--edge-size",
            "64",
        ])
        .args(["--signer", "anonymous", "--out", cli_out.to_str().unwrap()])
        .env_remove("PC_SDK_SUBSCRIPTION_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["shape"], json!([3, 3, 64, 64]));
    assert_files_hold(&summary, &cube, "point");

    // `--no-align`: the scenes sit on the point's 10 m UTM lattice, so the
    // same cube loads without warping, pixel for pixel; at 15 m they do
    // not, and the command fails naming the asset instead of warping.
    let point_cli = |out: &Path, res: &str| {
        Command::new(stac_gdal_e2e::stac_gdal_bin())
            .args(["point", url.as_str(), "--collection", COLLECTION])
            .args(["--bands", bands.as_str(), "--lat", lat.as_str()])
            .args(["--lon", lon.as_str(), "--resolution", res])
            .args(["--start", "2021-06-01", "--end", "2021-06-10"])
            .args(["--edge-size", "64", "--no-align", "--signer", "anonymous"])
            .args(["--out", out.to_str().unwrap()])
            .env_remove("PC_SDK_SUBSCRIPTION_KEY")
            .output()
            .unwrap()
    };
    let aligned_out = work.path().join("point-no-align");
    let o = point_cli(&aligned_out, res.as_str());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_files_hold(&summary, &cube, "point --no-align");
    let coarse_out = work.path().join("point-no-align-15m");
    let o = point_cli(&coarse_out, "15");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "a 15 m grid is not the scenes' lattice"
    );
    assert!(
        stderr.contains("align") && stderr.contains(BANDS[0]),
        "{stderr}"
    );
    assert!(!coarse_out.exists() || std::fs::read_dir(&coarse_out).unwrap().next().is_none());

    // ... with the query extension, and with metres as units.
    let cube = DatasetCollection::from_point(
        &point_query("2021-06-01", "2021-06-10", 645),
        &options
            .clone()
            .with_units(EdgeUnits::Meters)
            .with_query(json!({"eo:cloud_cover": {"lt": 20}})),
    )
    .unwrap();
    assert_eq!(cube.shape(), (2, 3, 66, 66));
    assert_eq!(
        cube.geotransform(),
        [c[0] - 330.0, RES, 0.0, c[1] + 330.0, 0.0, -RES]
    );
    assert_eq!(time_ids(&cube), ["s2-a", "s2-b"]);
    check_pixels(&cube);

    // ... an odd edge keeps its pixel count (the grid is offset by half a
    // pixel from the sources, so only provenance is checked).
    let cube =
        DatasetCollection::from_point(&point_query("2021-06-02", "2021-06-02", 33), &options)
            .unwrap();
    assert_eq!(cube.shape(), (1, 3, 33, 33));
    assert_eq!(cube.geotransform()[0], c[0] - 165.0);
    assert_eq!(time_ids(&cube), ["s2-a"]);
    let arr = cube.read_array::<u32>();
    for ((_, bi, _, _), v) in arr.indexed_iter() {
        assert_eq!(v / 100_000, 10 + bi as u32 + 1, "scene 1, band {bi}: {v}");
    }

    // ... an empty search is the cube's "no timesteps" error, with context.
    let e = DatasetCollection::from_point(&point_query("2020-01-01", "2020-01-31", 64), &options)
        .unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(&e, PointError::Cube { source, .. } if matches!(**source, CubeError::NoItems { .. })),
        "{e:?}"
    );
    assert!(text.contains("no items to build a cube from"), "{text}");
    assert!(text.contains("0 item(s) found"), "{text}");
    assert!(text.contains("EPSG:32632"), "{text}");

    // 4. download_item(item, dir, include=['B04']): only B04, byte for byte.
    let first = found.iter().find(|i| i["id"] == "s2-a").unwrap();
    let dl = work.path().join("download");
    let local = download_item(
        first,
        &dl,
        &DownloadOptions::default().with_include(["B04"]),
    )
    .unwrap();
    let href = local["assets"]["B04"]["href"].as_str().unwrap();
    assert_eq!(
        std::fs::read(href).unwrap(),
        std::fs::read(files.join("s2-a/B04.cog.tif")).unwrap()
    );
    assert_eq!(
        local["assets"]["B03"]["href"],
        first["assets"]["B03"]["href"]
    );
    let mut names: Vec<String> = std::fs::read_dir(&dl)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["B04.cog.tif", "s2-a.json", "stac-gdal-manifest.json"]
    );

    // 5. The example, pointed at the same server.
    run_example(&url, work.path(), &files);
}

/// `[step] key=value ...` lines: the value of `key` on the first line of `step` that has it.
fn printed<'a>(stdout: &'a str, step: &str, key: &str) -> &'a str {
    let prefix = format!("[{step}] ");
    let needle = format!("{key}=");
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .find_map(|l| {
            let at = l.find(&needle)?;
            let rest = &l[at + needle.len()..];
            // Values run to the next ` key=` (they may hold spaces: `(2, 3, 64, 64)`).
            let end = rest
                .match_indices(' ')
                .find(|(i, _)| {
                    rest[i + 1..]
                        .split(' ')
                        .next()
                        .is_some_and(|w| w.contains('='))
                })
                .map_or(rest.len(), |(i, _)| i);
            Some(&rest[..end])
        })
        .unwrap_or_else(|| panic!("no {key}= on a [{step}] line in:\n{stdout}"))
}

fn run_example(url: &str, work: &Path, files: &Path) {
    let bin = stac_gdal_e2e::facade_example_bin("live_catalog", "client,cube");
    let dl = work.join("example-download");
    let bbox = SEARCH_BBOX.map(|v| v.to_string()).join(",");
    let out = Command::new(&bin)
        .arg(url)
        .args(["--collection", COLLECTION, "--bbox", &bbox])
        .args(["--datetime", "2021-06", "--assets", "B04,B03,B02"])
        .arg("--download-dir")
        .arg(&dl)
        .output()
        .expect("run live_catalog");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "live_catalog failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = centre();

    // search (the seed's query and max_items are the defaults).
    assert_eq!(printed(&stdout, "search", "items"), "2");
    // In the API's order (pgstac: newest first); the download takes the first.
    let found: Vec<&str> = printed(&stdout, "search", "ids").split(',').collect();
    assert_eq!(
        found.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(["s2-a", "s2-b"])
    );
    let first = found[0];
    // from_stac, clipped to the search bbox: that box in UTM, snapped
    // outwards to the 10 m pixel grid.
    let t = transform_bounds(&SEARCH_BBOX, &Crs::Epsg(4326), &Crs::Epsg(32632)).unwrap();
    let rows = ((t[3] / RES - 1e-6).ceil() - (t[1] / RES + 1e-6).floor()) as usize;
    let cols = ((t[2] / RES - 1e-6).ceil() - (t[0] / RES + 1e-6).floor()) as usize;
    assert_eq!(
        printed(&stdout, "from_stac", "shape"),
        format!("(2, 3, {rows}, {cols})")
    );
    assert_eq!(printed(&stdout, "from_stac", "bands"), "B04,B03,B02");
    assert_eq!(printed(&stdout, "from_stac", "crs"), "EPSG:32632");
    assert_eq!(
        printed(&stdout, "from_stac", "times"),
        "2021-06-02T10:00:00Z,2021-06-07T10:00:00Z"
    );
    // from_point with the seed's arguments (46, 11, 64 px of 10 m, 2021-06-01/10).
    assert_eq!(printed(&stdout, "from_point", "epsg"), "32632");
    assert_eq!(printed(&stdout, "from_point", "items"), "3");
    assert_eq!(printed(&stdout, "from_point", "shape"), "(3, 3, 64, 64)");
    assert_eq!(
        printed(&stdout, "from_point", "geotransform"),
        format!("{:?}", [c[0] - 320.0, RES, 0.0, c[1] + 320.0, 0.0, -RES])
    );
    assert_eq!(
        printed(&stdout, "from_point", "times"),
        "2021-06-02T10:00:00Z,2021-06-07T10:00:00Z,2021-06-08T10:00:00Z"
    );
    let gt = [c[0] - 320.0, RES, 0.0, c[1] + 320.0, 0.0, -RES];
    for (t, id) in ["s2-a", "s2-b", "s2-c-cloudy"].iter().enumerate() {
        for (name, (r, col)) in [("corner", (0, 0)), ("centre", (32, 32))] {
            let line = format!(
                "[from_point] t={t} {name}=({r},{col}) {}",
                (0..3)
                    .map(|b| format!("{}={}", BANDS[b], expected_at(scene(id), b, gt, r, col)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            assert!(
                stdout.lines().any(|l| l == line),
                "missing {line:?} in:\n{stdout}"
            );
        }
    }
    // download_item with include (the first asset, B04).
    assert_eq!(printed(&stdout, "download", "item"), first);
    assert_eq!(printed(&stdout, "download", "files"), "B04");
    let local = dl.join("B04.cog.tif");
    let source = files.join(first).join("B04.cog.tif");
    assert!(
        stdout.contains(&format!(
            "[download] B04 -> {} ({} bytes)",
            local.display(),
            std::fs::metadata(&source).unwrap().len()
        )),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&source).unwrap()
    );
}
