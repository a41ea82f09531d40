//! The metadata path opens no file: the VRT is built and opened over hrefs
//! of tiles that do not exist yet; the tiles are written afterwards, and the
//! pixels read then are theirs.

use crate::support::{Tile, read_u16};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

#[test]
fn metadata_path_opens_no_source_until_pixels_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut tiles = Vec::new();
    for i in 0..16 {
        let (r, c) = (i / 4, i % 4);
        tiles.push(Tile::new(
            dir.path(),
            &format!("late-{i}"),
            32630,
            (600000.0 + c as f64 * 40.0, 5300000.0 - r as f64 * 40.0),
            10.0,
            10 + i as u16,
        ));
    }
    assert!(
        tiles.iter().all(|t| !t.path.exists()),
        "tiles do not exist yet"
    );
    let items: Vec<_> = tiles.iter().map(Tile::item).collect();

    let vrt =
        build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("built from metadata");
    assert_eq!(vrt.summary().opened, 0);
    assert_eq!(vrt.summary().shape, [16, 16]);
    let ds = vrt.open().expect("opening the VRT opens no source");
    assert_eq!(ds.shape(), (1, 16, 16));
    assert!(
        tiles.iter().all(|t| !t.path.exists()),
        "still nothing on disk"
    );

    for t in &tiles {
        t.write();
    }
    let (px, _) = read_u16(ds.inner(), 1);
    for (i, t) in tiles.iter().enumerate() {
        let (r, c) = (i / 4, i % 4);
        let v = px[(r * 4) * 16 + c * 4];
        assert_eq!(v, t.values[0], "tile {i} read after it was written");
    }
    // And the VRT written to disk is a standalone document GDAL reads the same way.
    let path = dir.path().join("mosaic.vrt");
    vrt.to_file(&path).unwrap();
    let again = gdal::Dataset::open(&path).unwrap();
    assert_eq!(read_u16(&again, 1).0, px);
}

#[test]
fn a_source_still_missing_at_read_time_is_an_error_not_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tile::new(dir.path(), "here", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir.path(), "never", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    let vrt = build_vrt_from_stac([a.item(), b.item()], "data", &VrtOptions::default()).unwrap();
    let ds = vrt.open().unwrap();
    let band = ds.inner().rasterband(1).unwrap();
    let read = band.read_as::<u16>((0, 0), (8, 4), (8, 4), None);
    assert!(
        read.is_err(),
        "GDAL reports the missing source instead of filling nodata"
    );
}
