//! `Dataset::warp_to`: GDAL's warper onto a target grid, overviews when
//! coarser, every resampling name.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use gdal::Metadata;
use ndarray::Array2;
use stac_raster::{Crs, Dataset, GridSpec, RasterError, Resampling, TargetGrid, WarpOptions};

#[test]
fn reprojects_utm_to_lonlat_keeping_values_and_marking_outside_as_nodata() {
    let src = Dataset::create_from_array(
        &Array2::<u16>::from_elem((100, 100), 7),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap();
    // A lon/lat grid a bit larger than the source footprint.
    let grid =
        TargetGrid::from_bounds(Crs::Epsg(4326), [-1.67, 47.835, -1.645, 47.85], 0.0002).unwrap();
    let out = src.warp_to(&grid, Resampling::Nearest).unwrap();
    assert_eq!(out.epsg(), Some(4326));
    assert_eq!((out.rows(), out.cols()), (grid.rows, grid.cols));
    assert_eq!(out.nodata(), vec![Some(0.0)]);
    let a = out.read_array::<u16>().unwrap();
    let inside = a.iter().filter(|&&v| v == 7).count();
    let outside = a.iter().filter(|&&v| v == 0).count();
    assert!(
        inside > 0 && outside > 0,
        "inside {inside}, outside {outside}"
    );
    assert_eq!(inside + outside, a.len(), "only source values or nodata");
    // The 1 km x 1 km source covers about 1e6 m2; cells are ~15 m x 22 m.
    assert!((2500..3500).contains(&inside), "{inside}");
}

#[test]
fn coarser_targets_read_overviews() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ovr.tif");
    Dataset::create_from_array(
        &Array2::<u8>::from_elem((64, 64), 1),
        &GridSpec::north_up([0.0, 640.0], 10.0, 32631),
        None,
    )
    .unwrap()
    .to_file(&path)
    .unwrap();
    // Build a 2x overview, then overwrite it with a marker value so reads
    // from it are recognisable.
    {
        let mut ds = gdal::Dataset::open_ex(
            &path,
            gdal::DatasetOptions {
                open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE
                    | gdal::GdalOpenFlags::GDAL_OF_RASTER,
                ..Default::default()
            },
        )
        .unwrap();
        ds.build_overviews("NEAREST", &[2], &[]).unwrap();
        let band = ds.rasterband(1).unwrap();
        let mut ovr = band.overview(0).unwrap();
        let mut buf = gdal::raster::Buffer::new((32, 32), vec![77u8; 32 * 32]);
        ovr.write((0, 0), (32, 32), &mut buf).unwrap();
    }
    let src = Dataset::open(path.to_str().unwrap()).unwrap();
    let coarse = TargetGrid::new(
        Crs::Epsg(32631),
        [0.0, 20.0, 0.0, 640.0, 0.0, -20.0],
        32,
        32,
    );
    let via_ovr = src
        .warp_to(&coarse, Resampling::Nearest)
        .unwrap()
        .read_array::<u8>()
        .unwrap();
    assert!(via_ovr.iter().all(|&v| v == 77), "read from the overview");
    let full = src
        .warp_to_with(&coarse, &WarpOptions::default().without_overviews())
        .unwrap()
        .read_array::<u8>()
        .unwrap();
    assert!(full.iter().all(|&v| v == 1), "read full resolution");
    // Decimated reads use the overview as well.
    let dec = src
        .read_with::<u8>(&stac_raster::ReadOptions::default().with_out_shape(32, 32))
        .unwrap();
    assert!(dec.iter().all(|&v| v == 77));
}

#[test]
fn every_resampling_name_parses_and_warps() {
    let src = Dataset::create_from_array(
        &Array2::<f32>::from_elem((4, 4), 1.0),
        &GridSpec::north_up([0.0, 40.0], 10.0, 32630),
        None,
    )
    .unwrap();
    let coarse = TargetGrid::new(Crs::Epsg(32630), [0.0, 20.0, 0.0, 40.0, 0.0, -20.0], 2, 2);
    for r in Resampling::ALL {
        assert_eq!(r.as_str().parse::<Resampling>().unwrap(), r);
        let out = src
            .warp_to(&coarse, r)
            .unwrap()
            .read_array::<f32>()
            .unwrap();
        let expected = match r {
            Resampling::Sum => 4.0,
            _ => 1.0,
        };
        assert!(
            out.iter().all(|&v| (v - expected).abs() < 1e-5),
            "{r}: {out:?}"
        );
    }
    assert!("bogus".parse::<Resampling>().is_err());
}

#[test]
fn warp_without_crs_is_a_typed_error() {
    let src = Dataset::create_from_array(
        &Array2::<f32>::zeros((2, 2)),
        &GridSpec::from_geotransform([0.0, 1.0, 0.0, 2.0, 0.0, -1.0], None),
        None,
    )
    .unwrap();
    let grid = TargetGrid::new(Crs::Epsg(4326), [0.0, 1.0, 0.0, 2.0, 0.0, -1.0], 2, 2);
    assert!(matches!(
        src.warp_to(&grid, Resampling::Nearest),
        Err(RasterError::MissingGeoreference { .. })
    ));
    let empty = TargetGrid::new(Crs::Epsg(4326), [0.0, 1.0, 0.0, 2.0, 0.0, -1.0], 0, 2);
    assert!(src.warp_to(&empty, Resampling::Nearest).is_err());
}

#[test]
fn band_names_survive_warp() {
    let mut src = Dataset::create_from_array(
        &ndarray::Array3::<u8>::ones((2, 4, 4)),
        &GridSpec::north_up([0.0, 40.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap();
    src.set_band_names(&["B04", "B08"]).unwrap();
    let grid = TargetGrid::new(Crs::Epsg(32630), [0.0, 5.0, 0.0, 40.0, 0.0, -5.0], 8, 8);
    let out = src.warp_to(&grid, Resampling::Bilinear).unwrap();
    assert_eq!(out.band_names(), vec!["B04", "B08"]);
    assert_eq!(
        out.inner().rasterband(2).unwrap().description().unwrap(),
        "B08"
    );
}
