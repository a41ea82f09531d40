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

fn write(dir: &Path, name: &str, arr: &Array3<u16>, opts: WriteOptions) -> PathBuf {
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
            "COMPRESS=DEFLATE",
        ]),
    );
    let whole = Window::new(0, 0, 256, 256);
    let mut buf = vec![0u16; 256 * 256];
    {
        let ds = Dataset::open(path.to_str().unwrap()).unwrap();
        let before = stac_raster::block_cache_used();
        ds.read_band_rows_once(1, None, whole, &mut buf, 256)
            .unwrap();
        assert_eq!(stac_raster::block_cache_used(), before, "read once");
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
