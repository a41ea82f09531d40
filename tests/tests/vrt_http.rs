//! Over real HTTP (nginx on 127.0.0.1, a Bearer-protected path): the signer's
//! header travels inside each `/vsicurl?header...&url=` source, building and
//! opening the VRT send no request, and pixels come through only with it.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

#[path = "../../crates/stac-vrt/tests/mosaic/support.rs"]
mod vrt_support;

use std::sync::Arc;

use stac_gdal::signers::{BearerTokenSigner, HostList, Signer};
use stac_gdal_e2e::nginx::Nginx;
use stac_vrt::{VrtOptions, build_vrt_from_stac};
use vrt_support::{Tile, read_u16};

#[test]
fn bearer_header_travels_in_the_vrt_and_nothing_is_fetched_before_a_read() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir.path(), "b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    let token = "vrt-t0ken-123";
    let nginx = Nginx::start(dir.path(), token);
    let items: Vec<_> = [&a, &b]
        .iter()
        .map(|t| {
            let mut item = t.item();
            item["assets"]["data"]["href"] = nginx.url(&format!("/private/{}.tif", t.id)).into();
            item
        })
        .collect();
    let origin = format!("127.0.0.1:{}", nginx.port());
    let signer: Arc<dyn Signer> = Arc::new(
        BearerTokenSigner::new(token)
            .with_hosts(HostList::new([origin.clone()]))
            .with_allow_http([origin.parse().unwrap()]),
    );

    let vrt =
        build_vrt_from_stac(&items, "data", &VrtOptions::default().with_signer(signer)).unwrap();
    assert_eq!(vrt.summary().opened, 0);
    let xml = vrt.xml();
    assert!(
        xml.contains(&format!("header.Authorization=Bearer%20{token}"))
            || xml.contains("header_file=%2Fvsimem%2F"),
        "{xml}"
    );
    assert!(!format!("{vrt:?}").contains(token));
    assert!(
        vrt.env().get("GDAL_HTTP_HEADERS").is_none(),
        "headers are per source, not global"
    );
    let ds = vrt.open().unwrap();
    assert_eq!(ds.shape(), (1, 4, 8));
    assert!(
        !nginx.access_log().contains(".tif"),
        "building and opening fetched nothing: {}",
        nginx.access_log()
    );
    let (px, _) = read_u16(ds.inner(), 1);
    assert_eq!(&px[..8], [10, 10, 10, 10, 20, 20, 20, 20]);
    let log = nginx.access_log();
    assert!(
        log.contains("/private/a.tif") && log.contains("/private/b.tif"),
        "{log}"
    );

    // Without the signer the same VRT cannot read the protected pixels (an error, not nodata).
    // (Fresh file names: GDAL caches what it fetched per URL.)
    let fresh: Vec<_> = [&a, &b]
        .iter()
        .map(|t| {
            let copy = dir.path().join(format!("{}-copy.tif", t.id));
            std::fs::copy(&t.path, &copy).unwrap();
            let mut item = t.item();
            item["assets"]["data"]["href"] =
                nginx.url(&format!("/private/{}-copy.tif", t.id)).into();
            item
        })
        .collect();
    let unsigned = build_vrt_from_stac(&fresh, "data", &VrtOptions::default()).unwrap();
    let ds = unsigned.open().unwrap();
    let band = ds.inner().rasterband(1).unwrap();
    assert!(band.read_as::<u16>((0, 0), (8, 4), (8, 4), None).is_err());
}
