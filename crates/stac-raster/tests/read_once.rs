//! `Dataset::read_band_rows_once`: a window read block by block past GDAL's
//! block cache gives exactly what `read_band_rows_into` (GDAL's RasterIO)
//! gives, for every GeoTIFF layout, overviews, edge tiles and the layouts
//! it leaves to RasterIO; it keeps no decoded tile in GDAL's cache; a
//! corrupt tile is a typed error naming the file.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::Array3;
use stac_raster::{Dataset, Format, GridSpec, Pixel, RasterError, Window, WriteOptions};

/// GDAL's block cache is one per process: the tests that read through it
/// run one at a time, so that the cache test sees only its own reads.
static GDAL_CACHE: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    GDAL_CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Pixels no two positions share (a scrambled ramp, so a tile copied to
/// the wrong place or a stale tile shows).
fn pixels(bands: usize, rows: usize, cols: usize) -> Array3<u16> {
    Array3::from_shape_fn((bands, rows, cols), |(b, r, c)| {
        let i = ((b * rows + r) * cols + c) as u32;
        (i.wrapping_mul(2_654_435_761) >> 16) as u16
    })
}

fn write<T: Pixel>(dir: &Path, name: &str, arr: &Array3<T>, opts: WriteOptions) -> PathBuf {
    let ds = Dataset::create_from_array(
        arr,
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32632),
        None,
    )
    .unwrap();
    let path = dir.join(name);
    ds.to_file_with(&path, &opts).unwrap();
    path
}

fn gtiff(options: &[&str]) -> WriteOptions {
    options.iter().fold(
        WriteOptions::default().with_format(Format::GTiff),
        |o, c| o.with_creation_option(*c),
    )
}

/// Every window of a set (whole raster, single pixels, edge tiles, windows
/// across tile edges) read both ways, rows `stride` apart with the gaps
/// kept: equal, and what the array holds.
fn assert_same<T: Pixel + PartialEq + std::fmt::Debug>(ds: &Dataset, level: Option<usize>) {
    let (rows, cols) = match level {
        None => (ds.rows(), ds.cols()),
        Some(i) => ds.overview_shapes(1).unwrap()[i],
    };
    let mut windows = vec![
        Window::new(0, 0, cols, rows),
        Window::new(0, 0, 1, 1),
        Window::new(cols - 1, rows - 1, 1, 1),
        Window::new(cols / 3, rows / 4, cols - cols / 3, rows / 2),
    ];
    for (c, r) in [(15, 15), (16, 16), (17, 3), (5, 31)] {
        if c + 9 <= cols && r + 7 <= rows {
            windows.push(Window::new(c, r, 9, 7));
        }
    }
    for band in 1..=ds.band_count() {
        for &w in &windows {
            let stride = w.cols + 5;
            let len = (w.rows - 1) * stride + w.cols;
            let sentinel = T::from_f64(7.0);
            let mut a = vec![sentinel; len];
            let mut b = vec![sentinel; len];
            ds.read_band_rows_into(band, level, w, &mut a, stride)
                .unwrap();
            ds.read_band_rows_once(band, level, w, &mut b, stride)
                .unwrap();
            assert_eq!(a, b, "band {band}, level {level:?}, window {w:?}");
            // The gaps between rows are left as they were.
            for r in 0..w.rows.saturating_sub(1) {
                assert!(
                    b[r * stride + w.cols..(r + 1) * stride]
                        .iter()
                        .all(|v| *v == sentinel)
                );
            }
        }
    }
}

#[test]
fn read_once_gives_rasterio_pixels_for_every_geotiff_layout() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let one = pixels(1, 70, 50);
    let three = pixels(3, 45, 38);
    let layouts = [
        // A COG: 16² DEFLATE tiles with partial edge tiles, overviews.
        write(
            dir.path(),
            "cog.tif",
            &one,
            WriteOptions::default()
                .with_format(Format::Cog)
                .with_creation_option("BLOCKSIZE=16")
                .with_creation_option("COMPRESS=DEFLATE")
                .with_creation_option("PREDICTOR=2"),
        ),
        // Bands stored apart, tiled.
        write(
            dir.path(),
            "band.tif",
            &three,
            gtiff(&[
                "TILED=YES",
                "BLOCKXSIZE=16",
                "BLOCKYSIZE=16",
                "INTERLEAVE=BAND",
                "COMPRESS=LZW",
            ]),
        ),
        // Pixel-interleaved: left to RasterIO, same pixels.
        write(
            dir.path(),
            "pixel.tif",
            &three,
            gtiff(&[
                "TILED=YES",
                "BLOCKXSIZE=16",
                "BLOCKYSIZE=16",
                "INTERLEAVE=PIXEL",
            ]),
        ),
        // Strips of 3 rows, the last one partial, uncompressed.
        write(dir.path(), "strips.tif", &one, gtiff(&["BLOCKYSIZE=3"])),
    ];
    for path in &layouts {
        let ds = Dataset::open(path.to_str().unwrap()).unwrap();
        assert_same::<u16>(&ds, None);
        // Read as another type: converted by RasterIO on both paths.
        assert_same::<f32>(&ds, None);
        for i in 0..ds.overview_shapes(1).unwrap().len() {
            assert_same::<u16>(&ds, Some(i));
        }
    }
    // The COG has overviews, so the levels above were read.
    let cog = Dataset::open(layouts[0].to_str().unwrap()).unwrap();
    assert!(!cog.overview_shapes(1).unwrap().is_empty());
    // And the pixels are the array's.
    let mut all = vec![0u16; 70 * 50];
    cog.read_band_rows_once(1, None, Window::new(0, 0, 50, 70), &mut all, 50)
        .unwrap();
    assert_eq!(all, one.iter().copied().collect::<Vec<_>>());
}

#[test]
fn a_block_larger_than_the_direct_limit_is_read_by_rasterio() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    // One DEFLATE strip of 1100 x 2000 uint16 pixels: 4.4 MB, over the
    // limit (an uncompressed strip GDAL splits into one-row blocks).
    let arr = pixels(1, 1100, 2000);
    let strip = 1100 * 2000 * 2;
    assert!(strip > stac_raster::MAX_DIRECT_BLOCK_BYTES);
    let path = write(
        dir.path(),
        "big.tif",
        &arr,
        gtiff(&["BLOCKYSIZE=1100", "COMPRESS=DEFLATE"]),
    );
    let w = Window::new(1500, 900, 500, 200);
    let (mut a, mut b) = (vec![0u16; 500 * 200], vec![0u16; 500 * 200]);
    Dataset::open(path.to_str().unwrap())
        .unwrap()
        .read_band_rows_into(1, None, w, &mut a, 500)
        .unwrap();
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    let before = stac_raster::block_cache_used();
    ds.read_band_rows_once(1, None, w, &mut b, 500).unwrap();
    assert_eq!(a, b);
    // RasterIO's path: the strip went to GDAL's cache, not into a
    // per-thread buffer of its size.
    let cached = stac_raster::block_cache_used() - before;
    assert!(cached >= strip as i64, "{cached}");
}

#[test]
fn read_once_leaves_no_tile_in_gdal_block_cache() {
    // DEFLATE (inflated here) and LZW (GDALReadBlock): neither path caches.
    for codec in ["DEFLATE", "LZW"] {
        no_tile_left_in_gdal_block_cache(codec);
    }
}

fn no_tile_left_in_gdal_block_cache(codec: &str) {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let arr = pixels(1, 256, 256);
    let path = write(
        dir.path(),
        "t.tif",
        &arr,
        gtiff(&[
            "TILED=YES",
            "BLOCKXSIZE=64",
            "BLOCKYSIZE=64",
            &format!("COMPRESS={codec}"),
        ]),
    );
    let whole = Window::new(0, 0, 256, 256);
    let mut buf = vec![0u16; 256 * 256];
    {
        let ds = Dataset::open(path.to_str().unwrap()).unwrap();
        let before = stac_raster::block_cache_used();
        ds.read_band_rows_once(1, None, whole, &mut buf, 256)
            .unwrap();
        assert_eq!(
            stac_raster::block_cache_used(),
            before,
            "read once, {codec}"
        );
        assert_eq!(buf, arr.iter().copied().collect::<Vec<_>>());
    }
    // The same read through RasterIO caches its 16 tiles (the measure
    // works): 16 x 64 x 64 x 2 bytes.
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    let before = stac_raster::block_cache_used();
    ds.read_band_rows_into(1, None, whole, &mut buf, 256)
        .unwrap();
    assert!(stac_raster::block_cache_used() - before >= 16 * 64 * 64 * 2);
}

#[test]
fn a_corrupt_tile_read_once_is_a_typed_error_naming_the_file() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let arr = pixels(1, 64, 64);
    let path = write(
        dir.path(),
        "corrupt.tif",
        &arr,
        WriteOptions::default()
            .with_format(Format::Cog)
            .with_creation_option("BLOCKSIZE=32")
            .with_creation_option("COMPRESS=DEFLATE")
            .with_creation_option("OVERVIEWS=NONE"),
    );
    // A COG stores its full-resolution tiles last: overwrite the middle of
    // the last tile's DEFLATE stream (its checksum no longer matches).
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n - 200..n - 100] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    let mut buf = vec![0u16; 64 * 64];
    let err = ds
        .read_band_rows_once(1, None, Window::new(0, 0, 64, 64), &mut buf, 64)
        .unwrap_err();
    match &err {
        RasterError::Gdal { path, .. } => assert!(path.ends_with("corrupt.tif"), "{err}"),
        other => panic!("expected a GDAL read error, got {other:?}"),
    }
    assert!(err.to_string().contains("corrupt.tif"), "{err}");
}

/// Pixels of any type that differ between neighbours, so that a predictor
/// not undone, or undone twice, shows; where a pixel is lower than the one
/// before it, the stored difference wraps around the sample's width.
fn typed<T: Pixel>(rows: usize, cols: usize) -> Array3<T> {
    Array3::from_shape_fn((1, rows, cols), |(_, r, c)| {
        let i = (r * cols + c) as u32;
        T::from_f64(f64::from(i.wrapping_mul(2_654_435_761) >> 26) + (r % 3) as f64 * 0.25)
    })
}

/// Read every window both ways (as `assert_same`) and return how many
/// blocks the read-once path inflated with the bundled libdeflate.
fn inflated_by<T: Pixel + PartialEq + std::fmt::Debug>(ds: &Dataset, level: Option<usize>) -> u64 {
    let before = stac_raster::deflate_blocks_inflated();
    assert_same::<T>(ds, level);
    stac_raster::deflate_blocks_inflated() - before
}

/// The file was written with the predictor the case names (GDAL reports
/// `PREDICTOR` only when it is not 1).
fn assert_predictor(path: &Path, predictor: &str) {
    use gdal::Metadata;
    let got = gdal::Dataset::open(path)
        .unwrap()
        .metadata_item("PREDICTOR", "IMAGE_STRUCTURE");
    assert_eq!(
        got.as_deref().unwrap_or("1"),
        predictor,
        "{}",
        path.display()
    );
}

fn deflate_cases<T: Pixel + PartialEq + std::fmt::Debug>(dir: &Path, tag: &str) {
    let arr = typed::<T>(70, 50);
    for (predictor, cog_predictor) in [("1", "NO"), ("2", "STANDARD")] {
        // A COG of 16² tiles (partial edge tiles) with internal overviews.
        let cog = write(
            dir,
            &format!("{tag}-p{predictor}.tif"),
            &arr,
            WriteOptions::default()
                .with_format(Format::Cog)
                .with_creation_option("BLOCKSIZE=16")
                .with_creation_option("COMPRESS=DEFLATE")
                .with_creation_option(format!("PREDICTOR={cog_predictor}")),
        );
        assert_predictor(&cog, predictor);
        let ds = Dataset::open(cog.to_str().unwrap()).unwrap();
        assert!(
            inflated_by::<T>(&ds, None) > 0,
            "{tag} predictor {predictor}: not inflated here"
        );
        let levels = ds.overview_shapes(1).unwrap().len();
        assert!(levels > 0);
        for i in 0..levels {
            assert!(
                inflated_by::<T>(&ds, Some(i)) > 0,
                "{tag} p{predictor} overview {i}"
            );
        }
        let mut all = vec![T::from_f64(0.0); 70 * 50];
        ds.read_band_rows_once(1, None, Window::new(0, 0, 50, 70), &mut all, 50)
            .unwrap();
        assert_eq!(
            all,
            arr.iter().copied().collect::<Vec<_>>(),
            "{tag} p{predictor}"
        );
        // Strips of 8 rows: the last one (6 rows) is short, which GDAL reads.
        let strips = write(
            dir,
            &format!("{tag}-s{predictor}.tif"),
            &arr,
            gtiff(&[
                "BLOCKYSIZE=8",
                "COMPRESS=DEFLATE",
                &format!("PREDICTOR={predictor}"),
            ]),
        );
        assert_predictor(&strips, predictor);
        let ds = Dataset::open(strips.to_str().unwrap()).unwrap();
        assert!(inflated_by::<T>(&ds, None) > 0, "{tag} strips p{predictor}");
    }
}

#[test]
fn deflate_blocks_are_inflated_here_with_gdal_pixels_for_every_type_and_predictor() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    deflate_cases::<u8>(dir.path(), "u8");
    deflate_cases::<i16>(dir.path(), "i16");
    deflate_cases::<u16>(dir.path(), "u16");
    deflate_cases::<u32>(dir.path(), "u32");
    deflate_cases::<i32>(dir.path(), "i32");
    deflate_cases::<f32>(dir.path(), "f32");
    deflate_cases::<f64>(dir.path(), "f64");
}

#[test]
fn what_the_bundled_inflater_does_not_decode_is_left_to_gdal_with_the_same_pixels() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let arr = typed::<f32>(70, 50);
    let cases = [
        // The floating-point predictor.
        (
            "fp.tif",
            gtiff(&[
                "TILED=YES",
                "BLOCKXSIZE=16",
                "BLOCKYSIZE=16",
                "COMPRESS=DEFLATE",
                "PREDICTOR=3",
            ]),
        ),
        // A big-endian file.
        (
            "be.tif",
            gtiff(&[
                "TILED=YES",
                "BLOCKXSIZE=16",
                "BLOCKYSIZE=16",
                "COMPRESS=DEFLATE",
                "ENDIANNESS=BIG",
            ]),
        ),
        // Another codec.
        (
            "zstd.tif",
            gtiff(&[
                "TILED=YES",
                "BLOCKXSIZE=16",
                "BLOCKYSIZE=16",
                "COMPRESS=ZSTD",
            ]),
        ),
    ];
    for (name, opts) in cases {
        let path = write(dir.path(), name, &arr, opts);
        let ds = Dataset::open(path.to_str().unwrap()).unwrap();
        assert_eq!(inflated_by::<f32>(&ds, None), 0, "{name}");
    }
}

#[test]
fn blocks_of_an_external_overview_file_are_read_by_gdal() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let arr = typed::<u16>(64, 64);
    let path = write(
        dir.path(),
        "ext.tif",
        &arr,
        gtiff(&[
            "TILED=YES",
            "BLOCKXSIZE=16",
            "BLOCKYSIZE=16",
            "COMPRESS=DEFLATE",
        ]),
    );
    // External overviews (`ext.tif.ovr`, DEFLATE too): their block offsets
    // are offsets into the .ovr file, not into ext.tif.
    gdal::config::set_config_option("COMPRESS_OVERVIEW", "DEFLATE").unwrap();
    let built = gdal::Dataset::open(&path)
        .unwrap()
        .build_overviews("NEAREST", &[2, 4], &[]);
    gdal::config::clear_config_option("COMPRESS_OVERVIEW").unwrap();
    built.unwrap();
    assert!(dir.path().join("ext.tif.ovr").exists());
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    assert!(inflated_by::<u16>(&ds, None) > 0);
    assert_eq!(ds.overview_shapes(1).unwrap().len(), 2);
    for i in 0..2 {
        assert_eq!(inflated_by::<u16>(&ds, Some(i)), 0, "overview {i}");
    }
}

#[test]
fn sparse_blocks_are_filled_by_gdal_and_written_ones_inflated_here() {
    let _gdal = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.tif");
    {
        // 64² in 16² tiles, only the tile at (1, 2) written: the other 15
        // have no bytes in the file (offset and size 0).
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let options = gdal::cpl::CslStringList::from_iter([
            "TILED=YES",
            "BLOCKXSIZE=16",
            "BLOCKYSIZE=16",
            "COMPRESS=DEFLATE",
            "SPARSE_OK=TRUE",
        ]);
        let ds = driver
            .create_with_band_type_with_options::<u16, _>(&path, 64, 64, 1, &options)
            .unwrap();
        let mut band = ds.rasterband(1).unwrap();
        band.set_no_data_value(Some(9.0)).unwrap();
        let mut tile = gdal::raster::Buffer::new((16, 16), (0..256u16).map(|v| v + 100).collect());
        band.write((16, 32), (16, 16), &mut tile).unwrap();
    }
    let ds = Dataset::open(path.to_str().unwrap()).unwrap();
    let before = stac_raster::deflate_blocks_inflated();
    let mut buf = vec![0u16; 64 * 64];
    ds.read_band_rows_once(1, None, Window::new(0, 0, 64, 64), &mut buf, 64)
        .unwrap();
    assert_eq!(stac_raster::deflate_blocks_inflated() - before, 1);
    let mut want = vec![0u16; 64 * 64];
    ds.read_band_rows_into(1, None, Window::new(0, 0, 64, 64), &mut want, 64)
        .unwrap();
    assert_eq!(buf, want);
    // GDAL fills a sparse tile with the nodata value.
    assert_eq!(buf[0], 9);
    assert_eq!(buf[32 * 64 + 16], 100);
    assert_eq!(buf[47 * 64 + 31], 355);
}
