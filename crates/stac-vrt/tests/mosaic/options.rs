//! Options of `build_vrt_from_stac`: bounds, explicit resolution, target CRS
//! (warped sources), mosaic order, separate, band selection, nodata, signer
//! headers embedded in `/vsicurl?` paths, and option validation.

use std::sync::Arc;

use crate::support::{Tile, read_u16};
use stac_signers::{GdalEnv, Signer, SignerError};
use stac_vrt::{MosaicOrder, Resolution, VrtError, VrtOptions, build_vrt_from_stac};

fn seed(dir: &std::path::Path) -> [Tile; 2] {
    let a = Tile::new(dir, "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir, "b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    [a, b]
}

#[test]
fn bounds_and_explicit_resolution_define_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = seed(dir.path()).iter().map(Tile::item).collect();
    let opts = VrtOptions::default()
        .with_bounds([600020.0, 5299980.0, 600060.0, 5300000.0])
        .with_resolution(Resolution::Explicit(5.0, 5.0));
    let vrt = build_vrt_from_stac(&items, "data", &opts).unwrap();
    assert_eq!(vrt.summary().shape, [4, 8]);
    assert_eq!(
        vrt.summary().geotransform,
        [600020.0, 5.0, 0.0, 5300000.0, 0.0, -5.0]
    );
    let (px, _) = read_u16(vrt.open().unwrap().inner(), 1);
    assert_eq!(&px[..8], [10, 10, 10, 10, 20, 20, 20, 20]);

    let outside = VrtOptions::default().with_bounds([0.0, 0.0, 10.0, 10.0]);
    let err = build_vrt_from_stac(&items, "data", &outside).unwrap_err();
    assert!(matches!(err, VrtError::NoSources { .. }), "{err}");
}

#[test]
fn a_target_crs_warps_every_source_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = seed(dir.path()).iter().map(Tile::item).collect();
    let opts = VrtOptions::default()
        .with_crs("EPSG:32631")
        .with_resolution(Resolution::Explicit(10.0, 10.0));
    let vrt = build_vrt_from_stac(&items, "data", &opts).unwrap();
    let s = vrt.summary();
    assert_eq!(s.crs, "EPSG:32631");
    assert_eq!(s.opened, 0);
    assert!(s.sources.iter().all(|x| x.warped));
    assert!(
        s.warnings.iter().all(|w| !w.contains("most common")),
        "target given: {:?}",
        s.warnings
    );
    let ds = vrt.open().unwrap();
    assert_eq!(ds.epsg(), Some(32631));
    let (px, _) = read_u16(ds.inner(), 1);
    let tens = px.iter().filter(|v| **v == 10).count();
    let twenties = px.iter().filter(|v| **v == 20).count();
    // Both 4x4 tiles survive the warp at the same cell size, give or take an edge.
    assert!(
        (12..=20).contains(&tens) && (12..=20).contains(&twenties),
        "{tens} {twenties} in {px:?}"
    );
}

#[test]
fn mosaic_order_picks_which_item_wins_on_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tile::new(dir.path(), "first", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir.path(), "second", 32630, (600020.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    let items = vec![a.item(), b.item()];
    let later = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap();
    let (px, _) = read_u16(later.open().unwrap().inner(), 1);
    assert_eq!(&px[..6], [10, 10, 20, 20, 20, 20]);
    let earlier = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_order(MosaicOrder::EarlierOnTop),
    )
    .unwrap();
    let (px, _) = read_u16(earlier.open().unwrap().inner(), 1);
    assert_eq!(&px[..6], [10, 10, 10, 10, 20, 20]);
}

#[test]
fn separate_gives_one_band_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = seed(dir.path()).iter().map(Tile::item).collect();
    let vrt =
        build_vrt_from_stac(&items, "data", &VrtOptions::default().with_separate(true)).unwrap();
    assert_eq!(vrt.summary().band_count, 2);
    let ds = vrt.open().unwrap();
    assert_eq!(ds.band_names(), ["a", "b"]);
    let (b1, _) = read_u16(ds.inner(), 1);
    let (b2, _) = read_u16(ds.inner(), 2);
    assert_eq!(&b1[..8], [10, 10, 10, 10, 0, 0, 0, 0]);
    assert_eq!(&b2[..8], [0, 0, 0, 0, 20, 20, 20, 20]);
}

#[test]
fn band_selection_reorders_multi_band_assets() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tile::new(dir.path(), "rgb", 32630, (600000.0, 5300000.0), 10.0, 0);
    t.values = vec![1, 2, 3];
    t.write();
    let items = vec![t.item()];
    let all = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap();
    assert_eq!(all.summary().band_count, 3);
    let vrt =
        build_vrt_from_stac(&items, "data", &VrtOptions::default().with_bands([3, 1])).unwrap();
    let ds = vrt.open().unwrap();
    assert_eq!(read_u16(ds.inner(), 1).0[0], 3);
    assert_eq!(read_u16(ds.inner(), 2).0[0], 1);
    let err =
        build_vrt_from_stac(&items, "data", &VrtOptions::default().with_bands([4])).unwrap_err();
    assert!(err.to_string().contains("band 4 is needed"), "{err}");
}

#[test]
fn nodata_option_overrides_missing_metadata_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    a.nodata = None;
    a.write();
    let mut item = a.item();
    item["assets"]["data"]["raster:bands"] = serde_json::json!([{"data_type": "uint16"}]);
    let plain = build_vrt_from_stac([&item], "data", &VrtOptions::default()).unwrap();
    assert_eq!(plain.summary().nodata, vec![None]);
    let vrt =
        build_vrt_from_stac([&item], "data", &VrtOptions::default().with_nodata(10.0)).unwrap();
    assert_eq!(vrt.summary().nodata, vec![Some(10.0)]);
    assert_eq!(vrt.open().unwrap().nodata(), vec![Some(10.0)]);
}

#[test]
fn a_data_type_option_lets_items_without_raster_bands_use_the_metadata_path() {
    let dir = tempfile::tempdir().unwrap();
    let [a, _] = seed(dir.path());
    let mut item = a.item();
    item["assets"]["data"]
        .as_object_mut()
        .unwrap()
        .remove("raster:bands");
    let opened = build_vrt_from_stac([&item], "data", &VrtOptions::default()).unwrap();
    assert_eq!(opened.summary().opened, 1);
    let opts = VrtOptions::default().with_data_type(stac_meta::DataType::Uint16);
    let vrt = build_vrt_from_stac([&item], "data", &opts).unwrap();
    assert_eq!(vrt.summary().opened, 0);
    assert_eq!(read_u16(vrt.open().unwrap().inner(), 1).0[0], 10);
}

#[derive(Debug)]
struct HeaderSigner;

impl Signer for HeaderSigner {
    fn name(&self) -> &str {
        "test-header"
    }
    fn sign_request(&self, _request: &mut stac_signers::Request) -> Result<(), SignerError> {
        Ok(())
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(format!("{href}?sig=QUERYSECRET"))
    }
    fn gdal_env_for(&self, _href: &str) -> Result<GdalEnv, SignerError> {
        Ok(GdalEnv::new()
            .with("GDAL_HTTP_HEADERS", "Authorization: Bearer t0k/en")
            .with("AWS_SECRET_ACCESS_KEY", "AWSSECRET"))
    }
}

#[test]
fn signer_headers_travel_in_vsicurl_paths_and_other_credentials_warn() {
    let item = serde_json::json!({
        "id": "remote", "properties": {"proj:epsg": 32630},
        "assets": {"data": {"href": "https://example.invalid/a b.tif",
            "proj:shape": [4, 4], "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
            "raster:bands": [{"data_type": "uint16", "nodata": 0}]}}
    });
    let opts = VrtOptions::default().with_signer(Arc::new(HeaderSigner) as Arc<dyn Signer>);
    let vrt = build_vrt_from_stac([&item], "data", &opts).unwrap();
    // GDAL >= 3.7 takes the header inline (pyramids' encoding); older GDAL
    // only reads per-source headers from a file, which we keep in /vsimem/.
    let xml = vrt.xml();
    let url = "empty_dir=yes&amp;url=https%3A%2F%2Fexample.invalid%2Fa%20b.tif%3Fsig%3DQUERYSECRET";
    let inline = format!("/vsicurl?header.Authorization=Bearer%20t0k/en&amp;{url}");
    let via_file =
        xml.contains("/vsicurl?header_file=%2Fvsimem%2Fstac-vrt%2F") && xml.contains(url);
    assert!(xml.contains(&inline) || via_file, "{xml}");
    let warnings = vrt.warnings().join("\n");
    assert!(
        warnings.contains("AWS_SECRET_ACCESS_KEY") && warnings.contains("cannot travel"),
        "{warnings}"
    );
    assert!(
        warnings.contains("clear text") || warnings.contains("in this process only"),
        "{warnings}"
    );
    let shown = format!("{vrt:?} {}", serde_json::to_string(vrt.summary()).unwrap());
    for secret in ["t0k", "QUERYSECRET", "AWSSECRET"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert_eq!(
        vrt.summary().sources[0].href,
        "https://example.invalid/a b.tif?<redacted>"
    );
    // Opening is still lazy: no request is made to the (unreachable) host.
    assert_eq!(vrt.open().unwrap().shape(), (1, 4, 4));
}

#[test]
fn invalid_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = seed(dir.path()).iter().map(Tile::item).collect();
    for (opts, name) in [
        (
            VrtOptions::default().with_bounds([1.0, 0.0, 0.0, 1.0]),
            "bounds",
        ),
        (
            VrtOptions::default().with_resolution(Resolution::Explicit(-1.0, 1.0)),
            "resolution",
        ),
        (VrtOptions::default().with_bands([0]), "bands"),
    ] {
        let err = build_vrt_from_stac(&items, "data", &opts).unwrap_err();
        assert!(
            matches!(err, VrtError::InvalidOption { option, .. } if option == name),
            "{err}"
        );
    }
    let err = build_vrt_from_stac(&items, "data", &VrtOptions::default().with_crs("NOT A CRS"))
        .unwrap_err();
    assert!(matches!(err, VrtError::Crs { .. }), "{err}");
}
