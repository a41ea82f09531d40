//! Pixel equality with `gdalbuildvrt` over the same sources: 18 tiles in
//! EPSG:32630 at two resolutions (10 m and 20 m, two of them overlapping
//! others) plus one tile in EPSG:32631. Our VRT is built from STAC metadata
//! only; the peer is `gdalbuildvrt -resolution highest` over the files, with
//! the other-zone tile warped by `gdalwarp` onto the same window (gdalbuildvrt
//! itself cannot mix CRSs).

use std::path::Path;

use crate::support::{Tile, gdalbuildvrt, read_u16, run};
use stac_vrt::{Resampling, Resolution, VrtOptions, build_vrt_from_stac};

fn tiles(dir: &Path) -> (Vec<Tile>, Tile) {
    let mut out = Vec::new();
    for r in 0..4 {
        for c in 0..4 {
            let fine = (r + c) % 2 == 0;
            let mut t = Tile::new(
                dir,
                &format!("t{r}{c}"),
                32630,
                (615000.0 + c as f64 * 80.0, 5291600.0 - r as f64 * 80.0),
                if fine { 10.0 } else { 20.0 },
                100 + (r * 4 + c) as u16 * 10,
            );
            t.size = if fine { (8, 8) } else { (4, 4) };
            t.ramp = true;
            out.push(t);
        }
    }
    // Two tiles overlapping the grid: later items are on top in both tools.
    for (i, (x, y)) in [(615040.0, 5291560.0), (615130.0, 5291430.0)]
        .into_iter()
        .enumerate()
    {
        let mut t = Tile::new(
            dir,
            &format!("over{i}"),
            32630,
            (x, y),
            10.0,
            300 + i as u16 * 50,
        );
        t.size = (8, 8);
        t.ramp = true;
        out.push(t);
    }
    let mut odd = Tile::new(dir, "zone31", 32631, (166000.0, 5300000.0), 10.0, 500);
    odd.size = (8, 8);
    odd.ramp = true;
    for t in out.iter().chain([&odd]) {
        t.write();
    }
    (out, odd)
}

#[test]
fn metadata_vrt_equals_gdalbuildvrt_pixel_for_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let (same_zone, odd) = tiles(dir.path());
    let mut items: Vec<_> = same_zone.iter().map(Tile::item).collect();
    items.push(odd.item());

    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_resolution(Resolution::Highest),
    )
    .expect("vrt");
    let s = vrt.summary();
    assert_eq!(s.opened, 0, "metadata path");
    assert_eq!(s.sources.len(), 19);
    assert_eq!(s.crs, "EPSG:32630", "the most common CRS wins");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("most common") && w.contains("EPSG:32631")),
        "mixed CRSs are reported: {:?}",
        s.warnings
    );
    let warped: Vec<_> = s.sources.iter().filter(|x| x.warped).collect();
    assert_eq!(warped.len(), 1);
    assert_eq!(warped[0].item, "zone31");

    // The peer: gdalwarp the odd tile onto our window, then gdalbuildvrt.
    let b = warped[0].bounds;
    let warped_tif = dir.path().join("zone31_in_32630.tif");
    let te: Vec<String> = b.iter().map(|v| format!("{v}")).collect();
    run(
        "gdalwarp",
        &[
            "-q",
            "-overwrite",
            "-t_srs",
            "EPSG:32630",
            "-tr",
            "10",
            "10",
            "-r",
            "near",
            "-te",
            &te[0],
            &te[1],
            &te[2],
            &te[3],
            odd.path.to_str().unwrap(),
            warped_tif.to_str().unwrap(),
        ],
    );
    let peer_path = dir.path().join("peer.vrt");
    let mut inputs: Vec<&Path> = same_zone.iter().map(|t| t.path.as_path()).collect();
    inputs.push(&warped_tif);
    gdalbuildvrt(&peer_path, &["-resolution", "highest"], &inputs);
    let peer = gdal::Dataset::open(&peer_path).expect("peer VRT");

    let ours = vrt.open().expect("open");
    assert_eq!(ours.inner().raster_size(), peer.raster_size(), "same shape");
    assert_eq!(
        ours.geotransform().unwrap(),
        peer.geo_transform().unwrap(),
        "same geotransform"
    );
    let (a, (cols, _)) = read_u16(ours.inner(), 1);
    let (p, _) = read_u16(&peer, 1);
    let differing: Vec<usize> = (0..a.len()).filter(|i| a[*i] != p[*i]).collect();
    assert!(
        differing.is_empty(),
        "{} of {} pixels differ, first at (row {}, col {}): ours {} vs gdalbuildvrt {}",
        differing.len(),
        a.len(),
        differing[0] / cols,
        differing[0] % cols,
        a[differing[0]],
        p[differing[0]]
    );
    // The comparison is not vacuous: every tile's values, the warped one included, are present.
    for v in [100u16, 110, 300, 350, 500] {
        assert!(
            a.iter().any(|x| (v..v + 7).contains(x)),
            "value {v} present"
        );
    }
    assert!(a.contains(&0), "nodata between footprints");
}

#[test]
fn lowest_and_average_resolution_match_gdalbuildvrt_on_one_zone() {
    let dir = tempfile::tempdir().unwrap();
    let (same_zone, _) = tiles(dir.path());
    let items: Vec<_> = same_zone.iter().map(Tile::item).collect();
    let inputs: Vec<&Path> = same_zone.iter().map(|t| t.path.as_path()).collect();
    for (rule, flag) in [
        (Resolution::Lowest, "lowest"),
        (Resolution::Average, "average"),
    ] {
        let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default().with_resolution(rule))
            .expect("vrt");
        let peer_path = dir.path().join(format!("peer_{flag}.vrt"));
        gdalbuildvrt(&peer_path, &["-resolution", flag], &inputs);
        let peer = gdal::Dataset::open(&peer_path).unwrap();
        let ours = vrt.open().unwrap();
        assert_eq!(
            ours.inner().raster_size(),
            peer.raster_size(),
            "{flag}: shape"
        );
        let (a, _) = read_u16(ours.inner(), 1);
        let (p, _) = read_u16(&peer, 1);
        assert_eq!(a, p, "{flag}: pixels");
    }
}

#[test]
fn explicit_resolution_with_resampling_matches_gdalbuildvrt() {
    let dir = tempfile::tempdir().unwrap();
    let (same_zone, _) = tiles(dir.path());
    let items: Vec<_> = same_zone.iter().map(Tile::item).collect();
    let inputs: Vec<&Path> = same_zone.iter().map(|t| t.path.as_path()).collect();
    let mut outputs = Vec::new();
    for (rs, flag) in [
        (Resampling::Average, "average"),
        (Resampling::Nearest, "nearest"),
        (Resampling::Bilinear, "bilinear"),
    ] {
        let opts = VrtOptions::default()
            .with_resolution(Resolution::Explicit(20.0, 20.0))
            .with_resampling(rs);
        let vrt = build_vrt_from_stac(&items, "data", &opts).expect("vrt");
        let peer_path = dir.path().join(format!("peer_{flag}.vrt"));
        gdalbuildvrt(&peer_path, &["-tr", "20", "20", "-r", flag], &inputs);
        let peer = gdal::Dataset::open(&peer_path).unwrap();
        let ours = vrt.open().unwrap();
        assert_eq!(
            ours.inner().raster_size(),
            peer.raster_size(),
            "{flag}: shape"
        );
        let (a, _) = read_u16(ours.inner(), 1);
        let (p, _) = read_u16(&peer, 1);
        assert_eq!(a, p, "{flag}: pixels");
        outputs.push(a);
    }
    assert_ne!(
        outputs[0], outputs[1],
        "average differs from nearest: the option reaches GDAL"
    );
}
