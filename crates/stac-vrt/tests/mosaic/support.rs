//! Shared helpers of the VRT tests (these, e2e `vrt_http` and `gdal_branches`,
//! the CLI's `vrt_cli`): real GeoTIFF tiles written with GDAL,
//! STAC items describing them, and `gdalbuildvrt` as the peer.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use gdal::DriverManager;
use gdal::raster::Buffer;
use gdal::spatial_ref::SpatialRef;
use serde_json::{Value, json};

/// A north-up uint16 tile.
#[derive(Debug, Clone)]
pub(crate) struct Tile {
    /// Item id.
    pub id: String,
    /// File path.
    pub path: PathBuf,
    /// EPSG code.
    pub epsg: u32,
    /// Top-left corner.
    pub origin: (f64, f64),
    /// Cell size.
    pub cell: f64,
    /// Columns, rows.
    pub size: (usize, usize),
    /// Bands; pixel value of band b at (r, c) is `values[b] + (r * cols + c) % 7` when `ramp`.
    pub values: Vec<u16>,
    /// Add a small ramp so resampling mistakes show.
    pub ramp: bool,
    /// Nodata.
    pub nodata: Option<f64>,
}

impl Tile {
    /// A single-band 4x4 tile with a constant value and nodata 0.
    pub(crate) fn new(
        dir: &Path,
        id: &str,
        epsg: u32,
        origin: (f64, f64),
        cell: f64,
        value: u16,
    ) -> Self {
        Self {
            id: id.to_owned(),
            path: dir.join(format!("{id}.tif")),
            epsg,
            origin,
            cell,
            size: (4, 4),
            values: vec![value],
            ramp: false,
            nodata: Some(0.0),
        }
    }

    /// The value at (row, col) of band index `b` (0-based).
    pub(crate) fn value(&self, b: usize, r: usize, c: usize) -> u16 {
        if self.ramp {
            self.values[b] + ((r * self.size.0 + c) % 7) as u16
        } else {
            self.values[b]
        }
    }

    /// Write the GeoTIFF.
    pub(crate) fn write(&self) {
        let driver = DriverManager::get_driver_by_name("GTiff").expect("GTiff driver");
        let (cols, rows) = self.size;
        let mut ds = driver
            .create_with_band_type::<u16, _>(&self.path, cols, rows, self.values.len())
            .expect("create tile");
        ds.set_geo_transform(&[
            self.origin.0,
            self.cell,
            0.0,
            self.origin.1,
            0.0,
            -self.cell,
        ])
        .expect("geotransform");
        let srs = SpatialRef::from_epsg(self.epsg).expect("epsg");
        ds.set_projection(&srs.to_wkt().expect("wkt"))
            .expect("projection");
        for b in 0..self.values.len() {
            let mut band = ds.rasterband(b + 1).expect("band");
            let data: Vec<u16> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .map(|(r, c)| self.value(b, r, c))
                .collect();
            let mut buf = Buffer::new((cols, rows), data);
            band.write((0, 0), (cols, rows), &mut buf).expect("write");
            band.set_no_data_value(self.nodata).expect("nodata");
        }
    }

    /// A STAC item with full proj/raster metadata.
    pub(crate) fn item(&self) -> Value {
        let (cols, rows) = self.size;
        json!({
            "type": "Feature", "stac_version": "1.0.0", "id": self.id,
            "properties": {"datetime": "2021-06-01T00:00:00Z", "proj:epsg": self.epsg},
            "assets": {"data": {
                "href": self.path.to_string_lossy(),
                "type": "image/tiff; application=geotiff",
                "proj:shape": [rows, cols],
                "proj:transform": [self.cell, 0.0, self.origin.0, 0.0, -self.cell, self.origin.1],
                "raster:bands": (0..self.values.len())
                    .map(|_| json!({"data_type": "uint16", "nodata": self.nodata}))
                    .collect::<Vec<_>>()
            }}
        })
    }

    /// A STAC item with no metadata but the href (the seed's form).
    pub(crate) fn bare_item(&self) -> Value {
        json!({"id": self.id, "assets": {"data": {"href": self.path.to_string_lossy()}}})
    }
}

/// Read band `b` (1-based) of a GDAL dataset as u16, row-major, with its (cols, rows).
pub(crate) fn read_u16(ds: &gdal::Dataset, b: usize) -> (Vec<u16>, (usize, usize)) {
    let band = ds.rasterband(b).expect("band");
    let (cols, rows) = ds.raster_size();
    let buf = band
        .read_as::<u16>((0, 0), (cols, rows), (cols, rows), None)
        .expect("read");
    (buf.data().to_vec(), (cols, rows))
}

/// Run `gdalbuildvrt` with extra args over `inputs`, writing `out`.
pub(crate) fn gdalbuildvrt(out: &Path, args: &[&str], inputs: &[&Path]) {
    let status = Command::new("gdalbuildvrt")
        .arg("-q")
        .args(args)
        .arg(out)
        .args(inputs)
        .status()
        .expect("gdalbuildvrt runs (gdal-bin installed)");
    assert!(status.success(), "gdalbuildvrt failed");
}

/// Run a GDAL command line tool and require success.
pub(crate) fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().expect(program);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
