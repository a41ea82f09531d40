//! The seed cell "Mosaic an asset across items": two 4x4 uint16 EPSG:32630
//! tiles (10 and 20), items without proj metadata → a (4, 8) mosaic.

use crate::support::{Tile, read_u16};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

fn seed_tiles(dir: &std::path::Path) -> [Tile; 2] {
    let a = Tile::new(dir, "tile-a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir, "tile-b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    [a, b]
}

fn check_seed_mosaic(vrt: &stac_vrt::Vrt) {
    let s = vrt.summary();
    assert_eq!(s.shape, [4, 8]);
    assert_eq!(s.geotransform, [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]);
    assert_eq!(s.crs, "EPSG:32630");
    assert_eq!(s.nodata, vec![Some(0.0)]);
    let ds = vrt.open().expect("open the VRT");
    assert_eq!(ds.shape(), (1, 4, 8));
    assert_eq!(
        ds.geotransform(),
        Some([600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0])
    );
    assert_eq!(ds.nodata(), vec![Some(0.0)]);
    let (px, _) = read_u16(ds.inner(), 1);
    for row in px.chunks(8) {
        assert_eq!(row, [10, 10, 10, 10, 20, 20, 20, 20]);
    }
}

#[test]
fn seed_items_without_proj_metadata_use_the_open_path() {
    let dir = tempfile::tempdir().unwrap();
    let tiles = seed_tiles(dir.path());
    let items: Vec<_> = tiles.iter().map(Tile::bare_item).collect();
    let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("vrt");
    assert_eq!(vrt.summary().opened, 2, "both sources had to be opened");
    assert!(vrt.summary().sources.iter().all(|s| !s.from_metadata));
    check_seed_mosaic(&vrt);
}

#[test]
fn seed_items_with_proj_metadata_use_the_metadata_path() {
    let dir = tempfile::tempdir().unwrap();
    let tiles = seed_tiles(dir.path());
    let items: Vec<_> = tiles.iter().map(Tile::item).collect();
    let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("vrt");
    assert_eq!(vrt.summary().opened, 0);
    assert!(vrt.summary().sources.iter().all(|s| s.from_metadata));
    check_seed_mosaic(&vrt);
}

#[test]
fn a_mix_opens_only_the_items_without_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let [a, b] = seed_tiles(dir.path());
    let items = vec![a.item(), b.bare_item()];
    let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("vrt");
    assert_eq!(vrt.summary().opened, 1);
    let flags: Vec<bool> = vrt
        .summary()
        .sources
        .iter()
        .map(|s| s.from_metadata)
        .collect();
    assert_eq!(flags, [true, false]);
    check_seed_mosaic(&vrt);
}

#[test]
fn a_feature_collection_value_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let tiles = seed_tiles(dir.path());
    let fc = serde_json::json!({"type": "FeatureCollection",
        "features": tiles.iter().map(Tile::item).collect::<Vec<_>>()});
    let vrt = build_vrt_from_stac([&fc], "data", &VrtOptions::default()).expect("vrt");
    check_seed_mosaic(&vrt);
}
