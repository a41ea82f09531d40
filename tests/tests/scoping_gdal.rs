//! Credentials on GDAL reads reach only their origin, and no secret leaves
//! in any output (issue 13): the scoping matrix and the secret sweep.
//!
//! For every signer that carries a credential — bearer, Earthdata and CDSE
//! (tokens minted by our token server), Planetary Computer (SAS minted),
//! AWS SigV4 (a real SeaweedFS that checks signatures, behind a logging
//! nginx origin) — one real nginx serves two logging origins
//! (`stac_gdal_e2e::signer_cases`): `data`, the only origin the credential
//! is scoped to (`host:port`), and `other`. Through every GDAL entry point
//! — cube, VRT built and read, the item-level reads (part, point,
//! preview), `load_asset`, `from_point`, and the CLI's `cube`, `vrt` and
//! `point` with `--host host:port` and `CPL_DEBUG=ON` — items on `data`,
//! on `other`, and on `data` redirecting (`302`) to `other` are read, each
//! entry point under its own file names so GDAL's caches cannot hide a
//! request. Then:
//! - `data` received the credential; `other` received requests and not
//!   one credential (no secret, no `Authorization`, `Cookie` or
//!   `x-amz-security-token` header, no access key id), redirects included;
//! - nothing printed, returned (errors, `Debug`, summaries) or written
//!   (GeoTIFFs, VRTs) holds a secret, on success and on failure (wrong
//!   credentials, missing files).
//!
//! Also: a redirect to an S3-style presigned URL, which GDAL would query
//! directly (with every header) on later reads, gets no credential; and
//! `CPL_DEBUG=ON` `vrt` output holds no signed query or URL password.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::cube::{CubeOptions, DatasetCollection};
use stac_gdal::raster::{
    Crs, Dataset, GridSpec, LoadOptions, PartOptions, load_asset, read_item_part, read_item_point,
    read_item_preview, transform_point,
};
use stac_gdal::{FromPoint, PointOptions, PointQuery};
use stac_gdal_e2e::fault_server::{FaultServer, Reply};
use stac_gdal_e2e::origins::{OriginSpec, Origins};
use stac_gdal_e2e::signer_cases::{Corpus, Kind, SignerCase, arg, arg_in, cli_debug};
use stac_gdal_e2e::stac_gdal_bin;
use stac_signers::{BearerTokenSigner, HostList, Signer};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

/// Every pixel of every served file.
const VALUE: u16 = 7;
/// The served rasters: 16 x 16 cells of 10 m, EPSG:32630.
const SIDE: usize = 16;
const ORIGIN: [f64; 2] = [600000.0, 5300000.0];

/// The library entry points, each with its own files.
const LIBRARY: [&str; 7] = [
    "cube",
    "vrt",
    "part",
    "point",
    "preview",
    "load",
    "frompoint",
];
/// The CLI entry points.
const CLI: [&str; 3] = ["cli-cube", "cli-vrt", "cli-point"];

/// The served directory: `<entry point>-{a,b,c}.tif` for every entry point.
fn served_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.tif");
    Dataset::create_from_array(
        &Array2::<u16>::from_elem((SIDE, SIDE), VALUE),
        &GridSpec::north_up(ORIGIN, 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&src)
    .unwrap();
    for ep in LIBRARY.iter().chain(&CLI) {
        for x in ["a", "b", "c"] {
            std::fs::copy(&src, dir.path().join(format!("{ep}-{x}.tif"))).unwrap();
        }
    }
    std::fs::remove_file(src).unwrap();
    dir
}

/// An item with full grid metadata (`bare`: with none, so it is opened to
/// read its grid).
fn item(id: &str, day: u32, href: &str, bare: bool) -> Value {
    let asset = if bare {
        json!({"href": href, "type": "image/tiff; application=geotiff"})
    } else {
        json!({"href": href, "type": "image/tiff; application=geotiff",
            "proj:shape": [SIDE, SIDE],
            "proj:transform": [10.0, 0.0, ORIGIN[0], 0.0, -10.0, ORIGIN[1]],
            "raster:bands": [{"data_type": "uint16", "nodata": 0}]})
    };
    json!({"type": "Feature", "stac_version": "1.0.0", "id": id,
        "bbox": [-1.67, 47.84, -1.66, 47.85], "geometry": null,
        "properties": {"datetime": format!("2021-06-{day:02}T00:00:00Z"), "proj:epsg": 32630},
        "assets": {"data": asset}})
}

/// The items of one entry point: `a` on `data`, `b` on `other`, `c` on
/// `data` redirecting to `other` (none for Planetary Computer).
fn items(case: &SignerCase, ep: &str, cli: bool, bare: bool) -> Vec<Value> {
    let file = |x: &str| format!("{ep}-{x}.tif");
    let a = if cli {
        case.cli_data_href(&file("a"))
    } else {
        case.data_href(&file("a"))
    };
    let mut out = vec![
        item(&file("a"), 1, &a, bare),
        item(&file("b"), 2, &case.other_href(&file("b")), bare),
    ];
    if let Some(c) = case.redirect_href(&file("c")) {
        out.push(item(&file("c"), 3, &c, bare));
    }
    out
}

/// Whether a read of item `id` may fail: only the redirected S3 read
/// (GDAL's `/vsis3/` does not follow a plain `302` on 3.6; newer GDALs may).
fn may_fail(case: &SignerCase, id: &str) -> bool {
    case.kind == Kind::Aws && id.ends_with("-c.tif")
}

/// The centre of the served rasters, lon/lat.
fn centre() -> [f64; 2] {
    transform_point(
        ORIGIN[0] + SIDE as f64 * 5.0,
        ORIGIN[1] - SIDE as f64 * 5.0,
        &Crs::Epsg(32630),
        &Crs::Epsg(4326),
    )
    .unwrap()
}

/// A STAC API on our fault server whose every search answers `items`.
fn api(items: Vec<Value>) -> FaultServer {
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = FaultServer::start(move |r| {
        if r.path() == "/" {
            return Reply::json(&json!({"type": "Catalog", "id": "api", "description": "d",
                "stac_version": "1.0.0",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                               "https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "search", "type": "application/geo+json", "method": "GET",
                           "href": format!("{}/search", b.get().unwrap())}]}));
        }
        Reply::json(&json!({"type": "FeatureCollection", "features": items, "links": []}))
    });
    base.set(server.url("")).unwrap();
    server
}

fn all_value(values: impl IntoIterator<Item = u16>) -> bool {
    let mut n = 0;
    for v in values {
        if v != VALUE {
            return false;
        }
        n += 1;
    }
    n > 0
}

/// Every library entry point, succeeding and failing.
fn library(case: &SignerCase, corpus: &mut Corpus, out: &Path) {
    let name = case.kind.name();
    let load = LoadOptions::default()
        .with_signer(case.signer.clone())
        .with_env(case.env.clone());
    corpus.debug(&format!("{name}: load options"), &load);

    // The cube.
    let its = items(case, "cube", false, false);
    let options = CubeOptions::default()
        .with_signer(case.signer.clone())
        .with_env(case.env.clone())
        .with_fail_on_error(false);
    corpus.debug(&format!("{name}: cube options"), &options);
    let cube = DatasetCollection::from_stac(&its, &["data"], &options)
        .unwrap_or_else(|e| panic!("{name}: cube: {e}"));
    for f in cube.failures() {
        assert!(may_fail(case, &f.item), "{name}: cube: {f}");
    }
    assert!(cube.failures().len() < its.len());
    let arr = cube.read_array::<u16>();
    for (t, step) in cube.timesteps().iter().enumerate() {
        let failed = cube.failures().iter().any(|f| step.items.contains(&f.item));
        if !failed {
            assert!(
                all_value(arr.index_axis(ndarray::Axis(0), t).iter().copied()),
                "{name}: cube timestep {t} ({:?})",
                step.items
            );
        }
    }
    corpus.add(format!("{name}: cube summary"), cube.summary().to_string());
    corpus.debug(&format!("{name}: cube failures"), &cube.failures());
    let files = out.join(format!("{name}-cube"));
    cube.to_files(&files).unwrap();
    corpus.files(&format!("{name}: cube files"), &files);

    // A VRT per item (a mosaic fails whole when one source fails), built
    // from metadata, written, then read through GDAL.
    for it in items(case, "vrt", false, false) {
        let id = it["id"].as_str().unwrap().to_owned();
        let vrt = build_vrt_from_stac(
            std::slice::from_ref(&it),
            "data",
            &VrtOptions::default()
                .with_signer(case.signer.clone())
                .with_env(case.env.clone()),
        )
        .unwrap_or_else(|e| panic!("{name}: vrt of {id}: {e}"));
        corpus.debug(&format!("{name}: vrt {id}"), &vrt);
        corpus.add(
            format!("{name}: vrt {id} warnings"),
            vrt.warnings().join("\n"),
        );
        let file = out.join(format!("{name}-{id}.vrt"));
        vrt.to_file(&file).unwrap();
        assert!(!vrt.public_xml().contains("header"), "{name}: {id}");
        if case.kind != Kind::PlanetaryComputer {
            // A signed href (SAS) is the source's address: it stays in
            // the document (with a warning); header credentials never do.
            corpus.add(format!("{name}: vrt {id} public xml"), vrt.public_xml());
            corpus.files(&format!("{name}: vrt file {id}"), &file);
        } else if id.ends_with("-a.tif") {
            assert!(
                vrt.warnings().iter().any(|w| w.contains("clear text")),
                "{:?}",
                vrt.warnings()
            );
        }
        match vrt.open().map(|ds| ds.read_array::<u16>()) {
            Ok(Ok(a)) => assert!(all_value(a.iter().copied()), "{name}: vrt {id}"),
            Ok(Err(e)) => {
                assert!(may_fail(case, &id), "{name}: vrt read of {id}: {e}");
                corpus.error(&format!("{name}: vrt read {id}"), &e);
            }
            Err(e) => panic!("{name}: vrt open of {id}: {e}"),
        }
    }

    // The item-level reads and load_asset.
    let [lon, lat] = centre();
    let bbox = [ORIGIN[0], ORIGIN[1] - 40.0, ORIGIN[0] + 40.0, ORIGIN[1]];
    let part_options = PartOptions::default().with_load(load.clone());
    for (ep, read) in [("part", 0), ("point", 1), ("preview", 2), ("load", 3)] {
        for it in items(case, ep, false, false) {
            let id = it["id"].as_str().unwrap().to_owned();
            let got: Result<Vec<u16>, stac_gdal::raster::RasterError> = match read {
                0 => read_item_part::<u16>(&it, Some("data"), bbox, None, &part_options)
                    .map(|p| p.data.iter().copied().collect()),
                1 => read_item_point::<u16>(&it, Some("data"), lon, lat, &load),
                2 => read_item_preview::<u16>(&it, Some("data"), 4, &part_options)
                    .map(|p| p.data.iter().copied().collect()),
                _ => load_asset(&it, Some("data"), &load)
                    .and_then(|ds| ds.read_array::<u16>())
                    .map(|a| a.iter().copied().collect()),
            };
            match got {
                Ok(v) => assert!(all_value(v), "{name}: {ep} of {id}"),
                Err(e) => {
                    assert!(may_fail(case, &id), "{name}: {ep} of {id}: {e}");
                    corpus.error(&format!("{name}: {ep} {id}"), &e);
                }
            }
        }
    }

    // from_point: a search on a STAC API, then the cube on the UTM grid.
    let server = api(items(case, "frompoint", false, false));
    let bands = ["data"];
    let query = PointQuery {
        lat,
        lon,
        collection: "c",
        bands: &bands,
        start_date: "2021-06-01",
        end_date: "2021-06-30",
        edge_size: 8,
        resolution: 10.0,
    };
    let point_options = PointOptions::default()
        .with_endpoint(server.url("/"))
        .with_signer(case.signer.clone())
        .with_cube(
            CubeOptions::default()
                .with_env(case.env.clone())
                .with_fail_on_error(false),
        );
    corpus.debug(&format!("{name}: point options"), &point_options);
    let cube = DatasetCollection::from_point(&query, &point_options)
        .unwrap_or_else(|e| panic!("{name}: from_point: {e}"));
    for f in cube.failures() {
        assert!(may_fail(case, &f.item), "{name}: from_point: {f}");
    }
    assert_eq!(cube.shape().2, 8);
    corpus.add(
        format!("{name}: from_point summary"),
        cube.summary().to_string(),
    );

    // Failures: a wrong credential, a missing file.
    let a = &items(case, "cube", false, false)[0];
    let wrong = CubeOptions::default()
        .with_signer(case.wrong.clone())
        .with_env(case.env.clone());
    let mut other_url = a.clone();
    // Another URL of the same bytes: GDAL's cache would serve those the
    // right credential fetched.
    other_url["assets"]["data"]["href"] = json!(case.data_href("frompoint-b.tif"));
    let e = DatasetCollection::from_stac(std::slice::from_ref(&other_url), &["data"], &wrong)
        .expect_err("a wrong credential reads nothing");
    corpus.error(&format!("{name}: cube with a wrong credential"), &e);
    other_url["assets"]["data"]["href"] = json!(case.data_href("part-b.tif"));
    let e = load_asset(
        &other_url,
        Some("data"),
        &LoadOptions::default()
            .with_signer(case.wrong.clone())
            .with_env(case.env.clone()),
    )
    .expect_err("a wrong credential reads nothing");
    corpus.error(&format!("{name}: load_asset with a wrong credential"), &e);
    let missing = item("missing", 1, &case.data_href("missing.tif"), false);
    let e = DatasetCollection::from_stac(
        std::slice::from_ref(&missing),
        &["data"],
        &CubeOptions::default()
            .with_signer(case.signer.clone())
            .with_env(case.env.clone()),
    )
    .expect_err("a missing file fails the cube");
    corpus.error(&format!("{name}: cube of a missing file"), &e);
    match build_vrt_from_stac(
        std::slice::from_ref(&missing),
        "data",
        &VrtOptions::default()
            .with_signer(case.signer.clone())
            .with_env(case.env.clone()),
    )
    .and_then(|v| v.open())
    .map(|ds| ds.read_array::<u16>())
    {
        Ok(Ok(_)) => panic!("{name}: a VRT over a missing file read pixels"),
        Ok(Err(e)) => corpus.error(&format!("{name}: vrt read of a missing file"), &e),
        Err(e) => corpus.error(&format!("{name}: vrt of a missing file"), &e),
    }
}

/// The CLI's `cube`, `vrt` and `point`, with the credential scoped by
/// `--host host:port`, succeeding and failing; `CPL_DEBUG=ON` throughout.
fn cli(case: &SignerCase, corpus: &mut Corpus, out: &Path) {
    let name = case.kind.name();
    let write = |file: &str, items: &[Value]| {
        let path = out.join(file);
        std::fs::write(&path, serde_json::to_string(items).unwrap()).unwrap();
        arg(&path)
    };
    let cube_items = write("cli-cube.json", &items(case, "cli-cube", true, false));
    // No grid metadata: `vrt` opens every source.
    let vrt_items = write("cli-vrt.json", &items(case, "cli-vrt", true, true));
    let mut point_items = items(case, "cli-point", true, false);
    if case.kind == Kind::Aws {
        // `point` has no --keep-going, and GDAL 3.6 does not follow the S3 redirect.
        point_items.truncate(2);
    }
    let server = api(point_items);
    let [lon, lat] = centre();
    let missing = write(
        "cli-missing.json",
        &[item("missing", 1, &case.cli_data_href("missing.tif"), true)],
    );
    // A fresh process has no cache: the first item with a wrong credential
    // (for Planetary Computer, whose CLI reads presigned hrefs, a wrong SAS).
    let mut wrong = items(case, "cli-cube", true, false);
    wrong.truncate(1);
    if case.kind == Kind::PlanetaryComputer {
        wrong[0]["assets"]["data"]["href"] = json!(case.origins.url(
            "data",
            &format!(
                "/sas/cli-cube-a.tif?st=2021&sp=rl&sig={}",
                stac_gdal_e2e::signer_cases::PC_WRONG_SAS
            )
        ));
    }
    let wrong_items = write("cli-wrong.json", &wrong);
    let s = |v: &str| v.to_owned();
    let point_args = |dir: &str| {
        vec![
            s("point"),
            server.url("/"),
            s("--collection"),
            s("c"),
            s("--bands"),
            s("data"),
            s("--lat"),
            lat.to_string(),
            s("--lon"),
            lon.to_string(),
            s("--start"),
            s("2021-06-01"),
            s("--end"),
            s("2021-06-30"),
            s("--edge-size"),
            s("8"),
            s("--resolution"),
            s("10"),
            s("--out"),
            arg_in(out, dir),
        ]
    };
    let cube_args = |items: &str, dir: &str, keep_going: bool| {
        let mut v = vec![
            s("cube"),
            s(items),
            s("--asset"),
            s("data"),
            s("--out"),
            arg_in(out, dir),
            s("--quiet"),
        ];
        if keep_going {
            v.push(s("--keep-going"));
        }
        v
    };
    let vrt_args = |items: &str, file: &str, strict: bool| {
        let mut v = vec![
            s("vrt"),
            s(items),
            s("--asset"),
            s("data"),
            s("-o"),
            arg_in(out, file),
        ];
        if !strict {
            v.push(s("--no-strict"));
        }
        v
    };
    let runs: Vec<(&str, Vec<String>, bool, bool)> = vec![
        ("cube", cube_args(&cube_items, "cube", true), true, true),
        ("vrt", vrt_args(&vrt_items, "m.vrt", false), true, true),
        ("point", point_args("point"), true, true),
        (
            "cube, wrong credential",
            cube_args(&wrong_items, "cube-wrong", false),
            false,
            false,
        ),
        (
            "cube, missing file",
            cube_args(&missing, "cube-missing", false),
            true,
            false,
        ),
        (
            "vrt, missing file",
            vrt_args(&missing, "missing.vrt", true),
            true,
            false,
        ),
        (
            "point, wrong credential",
            point_args("point-wrong"),
            false,
            false,
        ),
    ];
    for (label, mut args, good, pass) in runs {
        args.extend(case.cli_args());
        let out_ = cli_debug(&args, &case.cli_env(good));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out_.stdout),
            String::from_utf8_lossy(&out_.stderr)
        );
        // The wrong-credential point run fails unless the signer adds
        // nothing to its reads (PC: the API's hrefs are presigned).
        let pass =
            pass || (label == "point, wrong credential" && case.kind == Kind::PlanetaryComputer);
        assert_eq!(out_.status.success(), pass, "{name}: cli {label}: {text}");
        if pass && label != "vrt, missing file" {
            // GDAL's debug output is on and was redacted, not silenced.
            assert!(
                ["GDALOpen", "GDALClose", "VSICURL", "S3: "]
                    .iter()
                    .any(|t| text.contains(t)),
                "{name}: cli {label}: no GDAL debug output:\n{text}"
            );
        }
        corpus.output(&format!("{name}: cli {label}"), &out_);
    }
    for dir in ["cube", "point", "cube-wrong", "cube-missing", "point-wrong"] {
        corpus.files(&format!("{name}: cli {dir}"), &out.join(dir));
    }
    if case.kind == Kind::Bearer {
        // A bearer token without a scope would be sent nowhere: `cube` and
        // `vrt` refuse to run unauthenticated without a word.
        for mut args in [
            cube_args(&cube_items, "cube-unscoped", true),
            vrt_args(&vrt_items, "unscoped.vrt", false),
        ] {
            args.extend([s("--signer"), s("bearer")]);
            let o = cli_debug(&args, &case.cli_env(true));
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(
                !o.status.success() && stderr.contains("needs --host"),
                "{stderr}"
            );
            corpus.output("bearer: cli without --host", &o);
        }
    }
    assert!(out.join("cube").read_dir().unwrap().count() >= 2);
    assert!(out.join("point").read_dir().unwrap().count() >= 1);
    let vrt = std::fs::read_to_string(out.join("m.vrt")).unwrap();
    assert!(vrt.contains("cli-vrt-b.tif"), "{vrt}");
    assert!(
        !vrt.contains("header"),
        "{name}: the written VRT embeds headers:\n{vrt}"
    );
    if case.kind != Kind::PlanetaryComputer {
        corpus.files(&format!("{name}: cli vrt"), &out.join("m.vrt"));
    }
}

/// The matrix and the sweep for one signer.
fn scoping_and_sweep(kind: Kind) {
    let served = served_dir();
    let case = SignerCase::start(kind, served.path());
    let out = tempfile::tempdir().unwrap();
    let mut corpus = Corpus::default();
    corpus.debug(&format!("{}: signer", kind.name()), &case.signer);
    corpus.debug(&format!("{}: wrong signer", kind.name()), &case.wrong);
    library(&case, &mut corpus, out.path());
    cli(&case, &mut corpus, out.path());

    assert!(
        case.data_saw_credential(),
        "{}: origin data never got the credential:\n{}",
        kind.name(),
        case.origins.raw_log("data")
    );
    case.assert_other_saw_no_credential();
    if kind != Kind::Aws && kind != Kind::PlanetaryComputer {
        // The redirects were followed to `other`.
        for ep in LIBRARY.iter().chain(&["cli-cube"]) {
            assert!(
                case.origins
                    .log("other")
                    .iter()
                    .any(|r| r.path() == format!("/{ep}-c.tif")),
                "{}: the redirect of {ep} never reached other",
                kind.name()
            );
        }
    }
    corpus.assert_clean(&case.secrets());
}

#[test]
fn bearer_reaches_only_its_origin_and_never_leaks() {
    scoping_and_sweep(Kind::Bearer);
}

#[test]
fn earthdata_reaches_only_its_origin_and_never_leaks() {
    scoping_and_sweep(Kind::Earthdata);
}

#[test]
fn cdse_reaches_only_its_origin_and_never_leaks() {
    scoping_and_sweep(Kind::Cdse);
}

#[test]
fn planetary_computer_sas_reaches_only_its_origin_and_never_leaks() {
    scoping_and_sweep(Kind::PlanetaryComputer);
}

#[test]
fn aws_sigv4_reaches_only_its_origin_and_never_leaks() {
    scoping_and_sweep(Kind::Aws);
}

#[test]
fn a_redirect_to_a_presigned_url_gets_no_credential() {
    // GDAL's /vsicurl/ remembers a redirect to an S3-style presigned URL
    // (X-Amz-Expires + X-Amz-Date) and sends later range requests straight
    // there, with every configured header: before GDAL 3.10 that included
    // `Authorization`. The source layer turns that shortcut off for
    // sources with credentials.
    let served = served_dir();
    let other = Origins::start(vec![OriginSpec::files("other", served.path())]);
    let to = other.url("other", "").trim_end_matches('/').to_owned();
    let data = FaultServer::start(move |r| {
        let file = r.path().rsplit('/').next().unwrap_or("").to_owned();
        Reply::redirect(
            302,
            &format!(
                "{to}/{file}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20300101T000000Z\
                 &X-Amz-Expires=3600&X-Amz-Signature=abc"
            ),
        )
    });
    let host = data.url("").trim_start_matches("http://").to_owned();
    const TOKEN: &str = "presigned-redirect-TOKEN-77";
    let signer: Arc<dyn Signer> = Arc::new(
        BearerTokenSigner::new(TOKEN)
            .with_hosts(HostList::new([host.clone()]))
            .with_allow_http([host.parse().unwrap()]),
    );
    let href = |ep: &str| data.url(&format!("/{ep}-a.tif"));
    let cube = DatasetCollection::from_stac(
        &[item("r", 1, &href("cube"), false)],
        &["data"],
        &CubeOptions::default().with_signer(signer.clone()),
    )
    .unwrap();
    assert!(all_value(cube.read_array::<u16>().iter().copied()));
    let ds = load_asset(
        &item("r", 1, &href("load"), true),
        Some("data"),
        &LoadOptions::default().with_signer(signer.clone()),
    )
    .unwrap();
    assert!(all_value(ds.read_array::<u16>().unwrap().iter().copied()));
    let vrt = build_vrt_from_stac(
        [item("r", 1, &href("vrt"), false)],
        "data",
        &VrtOptions::default().with_signer(signer.clone()),
    )
    .unwrap();
    assert!(all_value(
        vrt.open()
            .unwrap()
            .read_array::<u16>()
            .unwrap()
            .iter()
            .copied()
    ));
    assert!(
        data.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
    let log = other.log("other");
    for ep in ["cube", "load", "vrt"] {
        assert!(
            log.iter()
                .filter(|r| r.path() == format!("/{ep}-a.tif"))
                .count()
                >= 1,
            "{ep}: {}",
            other.raw_log("other")
        );
    }
    other.assert_never_saw("other", TOKEN);
}

#[test]
fn cpl_debug_vrt_prints_no_signed_query_or_url_password() {
    // Pre-signed hrefs (a SAS-style query) and a URL password, on items
    // without grid metadata (the VRT opens them): GDAL's debug output names
    // the URLs; none of the secrets may appear.
    let served = served_dir();
    let s = Origins::start(vec![OriginSpec::files("s", served.path())]);
    let sig = "sv-sig-QWERTY12345";
    let password = "pw-ZXCV98765";
    let hrefs = [
        format!("{}?sig={sig}&se=2030", s.url("s", "/cli-vrt-a.tif")),
        s.url("s", "/cli-vrt-b.tif")
            .replace("http://", &format!("http://user:{password}@")),
    ];
    let items: Vec<Value> = hrefs
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"id": format!("i{i}"), "assets": {"data": {"href": h}}}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("items.json");
    std::fs::write(&p, serde_json::to_string(&items).unwrap()).unwrap();
    for extra in [vec![], vec!["--no-strict"]] {
        let out = Command::new(stac_gdal_bin())
            .args(["vrt", p.to_str().unwrap(), "--asset", "data", "-o"])
            .arg(dir.path().join("m.vrt"))
            .args(&extra)
            .env("CPL_DEBUG", "ON")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("/cli-vrt-a.tif"), "{text}");
        assert!(!text.contains(sig) && !text.contains(password), "{text}");
    }
    // Failure path: the same secrets on sources that do not answer.
    let missing: Vec<Value> = hrefs
        .iter()
        .enumerate()
        .map(|(i, h)| {
            json!({"id": format!("m{i}"), "assets": {"data": {
                "href": h.replace(&format!(":{}", s.port("s")), ":9")}}})
        })
        .collect();
    std::fs::write(&p, serde_json::to_string(&missing).unwrap()).unwrap();
    let out = Command::new(stac_gdal_bin())
        .args(["vrt", p.to_str().unwrap(), "--asset", "data", "-o"])
        .arg(dir.path().join("m2.vrt"))
        .env("CPL_DEBUG", "ON")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(!text.contains(sig) && !text.contains(password), "{text}");
}
