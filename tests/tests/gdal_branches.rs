//! Which GDAL-version branch of the source layer runs, shown by behaviour
//! (this target runs on Debian's GDAL 3.6 in `cargo test` and on the wheel's
//! 3.12 in `cargo xtask gdal-3.12`, so each branch is exercised on a real
//! library):
//!
//! - a signer's HTTP headers travel inside each VRT source path as
//!   `/vsicurl?header.<Name>=` on GDAL ≥ 3.7 (the VRT file authenticates on
//!   its own), and through an in-memory `/vsimem/` header file on 3.6 (the
//!   token never reaches the XML; the VRT authenticates in this process
//!   only), over a real Bearer-protected nginx;
//! - `int8` bands become a VRT `Int8` band on GDAL ≥ 3.7, and a lossless
//!   `Int16` on 3.6, which has no `Int8` type.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

#[path = "../../crates/stac-vrt/tests/mosaic/support.rs"]
mod vrt_support;

use std::sync::Arc;

use stac_gdal::signers::{BearerTokenSigner, HostList, Signer};
use stac_gdal_e2e::nginx::Nginx;
use stac_vrt::{VrtOptions, build_vrt_from_stac};
use vrt_support::Tile;

/// The running GDAL's `VERSION_NUM` (e.g. 3120400).
fn gdal_version() -> u32 {
    gdal::version::version_info("VERSION_NUM")
        .parse()
        .expect("VERSION_NUM is a number")
}

/// A bearer signer scoped to the nginx test server's origin, which is
/// allowed plain http (bearer tokens otherwise need https).
fn bearer(token: &str, nginx: &Nginx) -> Arc<dyn Signer> {
    let origin = format!("127.0.0.1:{}", nginx.port());
    Arc::new(
        BearerTokenSigner::new(token)
            .with_hosts(HostList::new([origin.clone()]))
            .with_allow_http([origin.parse().expect("an origin")]),
    )
}

/// The first GDAL with `/vsicurl?header.<Name>=` and the `Int8` type.
const GDAL_3_7: u32 = 3_070_000;

#[test]
fn vrt_headers_travel_the_way_the_running_gdal_supports() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir.path(), "b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    let token = "branch-t0ken-7";
    let nginx = Nginx::start(dir.path(), token);
    let items: Vec<_> = [&a, &b]
        .iter()
        .map(|t| {
            let mut item = t.item();
            item["assets"]["data"]["href"] = nginx.url(&format!("/private/{}.tif", t.id)).into();
            item
        })
        .collect();
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_signer(bearer(token, &nginx)),
    )
    .unwrap();
    // The document as built, headers included, written as is.
    let xml = vrt.xml();
    let path = dir.path().join("mosaic.vrt");
    std::fs::write(&path, xml).unwrap();
    let embedded = format!("header.Authorization=Bearer%20{token}");
    let warnings = vrt.warnings().join("\n");

    let new_branch = gdal_version() >= GDAL_3_7;
    if new_branch {
        assert!(xml.contains(&embedded), "{xml}");
        assert!(!xml.contains("header_file="), "{xml}");
        assert!(
            warnings.contains("VRT's /vsicurl? source paths"),
            "{warnings}"
        );
    } else {
        assert!(xml.contains("header_file=%2Fvsimem%2F"), "{xml}");
        assert!(!xml.contains(token), "no token in the XML: {xml}");
        assert!(warnings.contains("in-memory header file"), "{warnings}");
    }
    assert!(
        !nginx.access_log().contains(".tif"),
        "building and writing fetched nothing: {}",
        nginx.access_log()
    );

    // The file, opened by GDAL itself on a fresh thread with no env and no
    // signer: the headers come from the source paths alone (3.7+), or from
    // the header file in this process's /vsimem/ (3.6).
    let opened = path.clone();
    let (pixels, _) = std::thread::spawn(move || {
        vrt_support::read_u16(&gdal::Dataset::open(&opened).unwrap(), 1)
    })
    .join()
    .unwrap();
    assert_eq!(&pixels[..8], [10, 10, 10, 10, 20, 20, 20, 20]);
    let log = nginx.access_log();
    for id in ["a", "b"] {
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("/private/{id}.tif")) && l.contains("\" 206 ")),
            "{log}"
        );
    }
    assert!(
        !log.contains("\" 401 "),
        "every request was authorized: {log}"
    );

    if !new_branch {
        // Another process has no such in-memory file: the copy on disk does
        // not authenticate there (the system's GDAL tools are this 3.6).
        // GDAL's VRT skips sources it cannot open, so the sign is the
        // server's 401 and a copy without the pixels, not an exit status.
        let before = nginx.access_log().lines().count();
        let copy = dir.path().join("copy.tif");
        let out = std::process::Command::new("gdal_translate")
            .args(["-q", "-of", "GTiff"])
            .arg(&path)
            .arg(&copy)
            .output()
            .expect("gdal_translate runs (gdal-bin installed)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains(token), "{stderr}");
        let log = nginx.access_log();
        let later: Vec<&str> = log.lines().skip(before).collect();
        assert!(
            !later.is_empty() && later.iter().all(|l| l.contains("\" 401 ")),
            "the other process was refused: {later:?}"
        );
        if out.status.success() {
            let (copied, _) = vrt_support::read_u16(&gdal::Dataset::open(&copy).unwrap(), 1);
            assert!(copied.iter().all(|&v| v == 0), "{copied:?}");
        }
    }
}

#[test]
fn int8_bands_become_the_vrt_type_the_running_gdal_has() {
    let dir = tempfile::tempdir().unwrap();
    let tile = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 1);
    let mut item = tile.item();
    item["assets"]["data"]["raster:bands"][0]["data_type"] = "int8".into();
    item["assets"]["data"]["raster:bands"][0]["nodata"] = (-128).into();
    // Everything comes from the metadata: the file is never opened (it does not exist).
    let vrt = build_vrt_from_stac(&[item], "data", &VrtOptions::default()).unwrap();
    assert_eq!(vrt.summary().opened, 0);
    let expected = if gdal_version() >= GDAL_3_7 {
        "Int8"
    } else {
        "Int16"
    };
    assert!(
        vrt.xml()
            .contains(&format!("<VRTRasterBand dataType=\"{expected}\"")),
        "{}",
        vrt.xml()
    );
}
