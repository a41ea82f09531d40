//! `Dataset`: creation from arrays, writing by extension, reading arrays,
//! windows and decimated reads, band names, nodata.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use ndarray::{Array2, Array3, s};
use stac_raster::{
    Crs, DataType, Dataset, Format, GridSpec, RasterError, ReadOptions, Resampling, Window,
    WriteOptions,
};

fn grid() -> GridSpec {
    GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630)
}

fn ramp(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| (r * cols + c) as f64)
}

macro_rules! roundtrip_type {
    ($name:ident, $t:ty, $dt:expr, $nodata:expr) => {
        #[test]
        fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let arr: Array3<$t> =
                Array3::from_shape_fn((2, 3, 4), |(b, r, c)| (b * 12 + r * 4 + c) as $t);
            let ds = Dataset::create_from_array(&arr, &grid(), Some($nodata)).unwrap();
            assert_eq!(ds.data_type(), $dt);
            let path = dir.path().join("t.tif");
            ds.to_file(&path).unwrap();
            let back = Dataset::open(path.to_str().unwrap()).unwrap();
            assert_eq!(back.data_types(), vec![$dt, $dt]);
            assert_eq!(back.read_array::<$t>().unwrap(), arr);
            assert_eq!(back.nodata(), vec![Some($nodata), Some($nodata)]);
        }
    };
}

roundtrip_type!(roundtrip_u8, u8, DataType::Uint8, 255.0);
roundtrip_type!(roundtrip_i8, i8, DataType::Int8, -128.0);
roundtrip_type!(roundtrip_u16, u16, DataType::Uint16, 0.0);
roundtrip_type!(roundtrip_i16, i16, DataType::Int16, -32768.0);
roundtrip_type!(roundtrip_u32, u32, DataType::Uint32, 4294967295.0);
roundtrip_type!(roundtrip_i32, i32, DataType::Int32, -1.0);
roundtrip_type!(roundtrip_f32, f32, DataType::Float32, -9999.0);
roundtrip_type!(roundtrip_f64, f64, DataType::Float64, -1e30);

#[test]
fn seed_write_band_matches_pyramids_grid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("B04.tif");
    Dataset::create_from_array(&Array2::<u16>::from_elem((4, 4), 1), &grid(), Some(0.0))
        .unwrap()
        .to_file(&path)
        .unwrap();
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    assert_eq!(ds.driver_name(), "GTiff");
    assert_eq!(ds.shape(), (1, 4, 4));
    assert_eq!(
        ds.geotransform(),
        Some([600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0])
    );
    assert_eq!(ds.epsg(), Some(32630));
    assert_eq!(
        ds.bounds(),
        Some([600000.0, 5299960.0, 600040.0, 5300000.0])
    );
    assert_eq!(ds.nodata(), vec![Some(0.0)]);
    assert_eq!(ds.band_names(), vec!["Band_1"]);
    assert_eq!(
        ds.read_array::<u16>().unwrap(),
        Array3::from_elem((1, 4, 4), 1u16)
    );
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let g = grid();
    let bad_nodata = Dataset::create_from_array(&Array2::<u16>::zeros((2, 2)), &g, Some(f64::NAN));
    assert!(matches!(bad_nodata, Err(RasterError::InvalidArgument(m)) if m.contains("nodata")));
    assert!(Dataset::create_from_array(&Array2::<u8>::zeros((2, 2)), &g, Some(256.0)).is_err());
    assert!(Dataset::create_from_array(&Array2::<u8>::zeros((0, 2)), &g, None).is_err());
    let four_d = ndarray::Array4::<u8>::zeros((1, 1, 2, 2));
    assert!(Dataset::create_from_array(&four_d, &g, None).is_err());
    let missing = Dataset::open("/nonexistent/dir/x.tif").unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/dir/x.tif"),
        "{missing}"
    );
}

#[test]
fn wkt_crs_and_full_geotransform() {
    let wkt = Crs::Epsg(3035).to_wkt().unwrap();
    let gt = [4321000.0, 20.0, 0.0, 3210000.0, 0.0, -25.0];
    let ds = Dataset::create_from_array(
        &ramp(3, 5),
        &GridSpec::from_geotransform(gt, Some(Crs::Wkt(wkt))),
        None,
    )
    .unwrap();
    assert_eq!(ds.epsg(), Some(3035));
    assert_eq!(ds.geotransform(), Some(gt));
    assert_eq!(ds.cell_size(), Some((20.0, -25.0)));
    assert_eq!(
        ds.bounds(),
        Some([4321000.0, 3210000.0 - 75.0, 4321100.0, 3210000.0])
    );
    assert_eq!(ds.nodata(), vec![None]);
}

#[test]
fn windows_decimation_and_band_selection() {
    let arr = Array3::from_shape_fn((3, 8, 10), |(b, r, c)| (b * 100 + r * 10 + c) as i32);
    let ds = Dataset::create_from_array(&arr, &grid(), None).unwrap();
    let w = ds.read_window::<i32>(Window::new(2, 3, 4, 2)).unwrap();
    assert_eq!(w, arr.slice(s![.., 3..5, 2..6]).to_owned());
    let picked = ds
        .read_with::<i32>(&ReadOptions::default().with_bands(vec![3, 1]))
        .unwrap();
    assert_eq!(picked.slice(s![0, .., ..]), arr.slice(s![2, .., ..]));
    assert_eq!(picked.slice(s![1, .., ..]), arr.slice(s![0, .., ..]));
    let half = ds
        .read_with::<f32>(
            &ReadOptions::default()
                .with_out_shape(4, 5)
                .with_resampling(Resampling::Average),
        )
        .unwrap();
    assert_eq!(half.dim(), (3, 4, 5));
    // Average of the 2x2 block at the top-left of band 1: (0 + 1 + 10 + 11) / 4
    // = 5.5, computed by GDAL in the source type (Int32), so rounded.
    assert_eq!(half[[0, 0, 0]], 6.0);
    let nearest = ds
        .read_with::<f32>(&ReadOptions::default().with_out_shape(4, 5))
        .unwrap();
    assert_ne!(nearest, half);
    let oob = ds.read_window::<i32>(Window::new(8, 0, 4, 1)).unwrap_err();
    assert!(
        matches!(
            oob,
            RasterError::OutOfBounds {
                rows: 8,
                cols: 10,
                ..
            }
        ),
        "{oob}"
    );
    assert!(
        ds.read_with::<i32>(&ReadOptions::default().with_bands(vec![4]))
            .is_err()
    );
    let min_read = ds.read_with::<f32>(
        &ReadOptions::default()
            .with_out_shape(4, 5)
            .with_resampling(Resampling::Min),
    );
    assert!(
        min_read.is_err(),
        "RasterIO has no min: typed error, not a silent nearest"
    );
}

#[test]
fn band_names_are_written_as_descriptions_without_touching_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.tif");
    Dataset::create_from_array(&Array3::<u8>::zeros((2, 2, 2)), &grid(), None)
        .unwrap()
        .to_file(&src)
        .unwrap();
    let mut ds = Dataset::open(src.to_str().unwrap()).unwrap();
    assert_eq!(ds.band_names(), vec!["Band_1", "Band_2"]);
    assert!(ds.set_band_names(&["only-one"]).is_err());
    ds.set_band_names(&["red", "nir"]).unwrap();
    assert_eq!(ds.band_names(), vec!["red", "nir"]);
    let out = dir.path().join("named.tif");
    ds.to_file(&out).unwrap();
    drop(ds);
    assert_eq!(
        Dataset::open(out.to_str().unwrap()).unwrap().band_names(),
        vec!["red", "nir"]
    );
    // Unwrapping a renamed file dataset gives a self-contained GDAL dataset.
    let mut again = Dataset::open(src.to_str().unwrap()).unwrap();
    again.set_band_names(&["a", "b"]).unwrap();
    let (inner, _env) = again.into_inner();
    let wrapped = Dataset::from_gdal(inner, stac_raster::GdalEnv::new());
    assert_eq!(wrapped.band_names(), vec!["a", "b"]);
    assert_eq!(wrapped.read_array::<u8>().unwrap().sum(), 0);
    // The source file and its side-cars were not modified.
    assert_eq!(
        Dataset::open(src.to_str().unwrap()).unwrap().band_names(),
        vec!["Band_1", "Band_2"]
    );
    assert!(!dir.path().join("src.tif.aux.xml").exists());
}

#[test]
fn formats_by_extension_and_atomic_writes() {
    let dir = tempfile::tempdir().unwrap();
    let arr = Array2::from_shape_fn((600, 600), |(r, c)| ((r + c) % 251) as u8);
    let ds = Dataset::create_from_array(&arr, &grid(), Some(0.0)).unwrap();
    for (name, driver) in [
        ("a.tif", "GTiff"),
        ("a.cog.tif", "GTiff"),
        ("a.vrt", "VRT"),
        ("a.png", "PNG"),
    ] {
        let path = dir.path().join(name);
        if name.ends_with(".vrt") {
            // A VRT must reference a file: write it over the GeoTIFF.
            Dataset::open(dir.path().join("a.tif").to_str().unwrap())
                .unwrap()
                .to_file(&path)
                .unwrap();
        } else {
            ds.to_file(&path).unwrap();
        }
        let back = Dataset::open(path.to_str().unwrap()).unwrap();
        assert_eq!(back.driver_name(), driver, "{name}");
        assert_eq!(
            back.read_array::<u8>().unwrap().slice(s![0, .., ..]),
            arr.view(),
            "{name}"
        );
    }
    // The COG carries overviews and the layout flag; the plain GeoTIFF none.
    let cog = Dataset::open(dir.path().join("a.cog.tif").to_str().unwrap()).unwrap();
    assert!(cog.inner().rasterband(1).unwrap().overview_count().unwrap() >= 1);
    let plain = Dataset::open(dir.path().join("a.tif").to_str().unwrap()).unwrap();
    assert_eq!(
        plain
            .inner()
            .rasterband(1)
            .unwrap()
            .overview_count()
            .unwrap(),
        0
    );
    // Forced format + creation options.
    let forced = dir.path().join("forced.bin");
    ds.to_file_with(
        &forced,
        &WriteOptions::default()
            .with_format(Format::Cog)
            .with_creation_option("COMPRESS=DEFLATE"),
    )
    .unwrap();
    assert_eq!(
        Dataset::open(forced.to_str().unwrap())
            .unwrap()
            .driver_name(),
        "GTiff"
    );
    // Unknown extension: error, nothing written.
    assert!(ds.to_file(dir.path().join("a.xyz")).is_err());
    // A failing write leaves neither the target nor a temp file behind.
    let bad = ds.to_file_with(
        dir.path().join("bad.tif"),
        &WriteOptions::default()
            .with_creation_option("BLOCKXSIZE=7")
            .with_creation_option("TILED=YES"),
    );
    assert!(bad.is_err());
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("bad") || n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn datasets_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Dataset>();
    let ds = Dataset::create_from_array(&ramp(2, 2), &grid(), None).unwrap();
    let sum = std::thread::spawn(move || ds.read_array::<f64>().unwrap().sum())
        .join()
        .unwrap();
    assert_eq!(sum, 6.0);
}
