//! Windowed reads by coordinates: [`Dataset::read_part`],
//! [`Dataset::read_point`], [`Dataset::preview`], and their item-level
//! forms [`read_item_part`], [`read_item_point`], [`read_item_preview`].

use gdal::spatial_ref::CoordTransform;
use ndarray::Array3;
use serde_json::Value;

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use stac_meta::geotransform::{apply as apply_gt, invert as invert_gt};

use crate::grid::Crs;
use crate::load::{LoadOptions, load_asset};
use crate::pixel::Pixel;
use crate::read::{ReadOptions, Window};
use crate::resampling::Resampling;

/// Options of the coordinate-based reads.
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use serde_json::json;
/// use stac_raster::{read_item_part, PartOptions};
/// let item = json!({"id": "a", "assets": {"B04": {"href": path, "type": "image/tiff"}}});
/// // The bbox of the first two columns, in the asset's own CRS (`None`),
/// // read onto a 4 x 2 array.
/// let options = PartOptions::default().with_out_shape(4, 2);
/// let a = read_item_part::<u16>(&item, Some("B04"),
///     [500_000.0, 4_000_000.0, 500_020.0, 4_000_020.0], None, &options)?;
/// assert_eq!(a.data.shape(), &[1, 4, 2]);
/// // 20 m x 20 m onto 2 columns and 4 rows: 10 m by 5 m pixels.
/// assert_eq!((a.geotransform[1], a.geotransform[5]), (10.0, -5.0));
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PartOptions {
    /// How the asset is opened (item-level functions only).
    pub load: LoadOptions,
    /// Output `(rows, cols)` (`None` = native resolution of the window).
    /// Smaller outputs are read from overviews when the raster has them.
    pub out_shape: Option<(usize, usize)>,
    /// 1-based bands to read (`None` = all).
    pub bands: Option<Vec<usize>>,
    /// Resampling when the output is decimated.
    pub resampling: Resampling,
}

impl PartOptions {
    /// How the asset is opened.
    pub fn with_load(mut self, load: LoadOptions) -> Self {
        self.load = load;
        self
    }

    /// Output `(rows, cols)`.
    pub fn with_out_shape(mut self, rows: usize, cols: usize) -> Self {
        self.out_shape = Some((rows, cols));
        self
    }

    /// Bands to read (1-based).
    pub fn with_bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }

    /// Resampling for decimated reads.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }
}

/// Pixels of a window with their georeferencing.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<T> {
    /// `(bands, rows, cols)`.
    pub data: Array3<T>,
    /// Geotransform of `data`.
    pub geotransform: [f64; 6],
    /// The raster's CRS.
    pub crs: Option<Crs>,
    /// The source window read.
    pub window: Window,
    /// Nodata of each band read.
    pub nodata: Vec<Option<f64>>,
}

impl Dataset {
    /// The pixel window covering `bbox` `[minx, miny, maxx, maxy]` given in
    /// `bbox_crs` (`None` = the raster's own coordinates), clipped to the
    /// raster. A bbox that misses the raster is [`RasterError::OutOfBounds`].
    pub fn window_for_bbox(&self, bbox: [f64; 4], bbox_crs: Option<&Crs>) -> Result<Window> {
        let gt = self
            .geotransform()
            .ok_or_else(|| RasterError::MissingGeoreference {
                path: self.label.clone(),
                what: "geotransform",
            })?;
        if !(bbox[0] < bbox[2] && bbox[1] < bbox[3]) || bbox.iter().any(|v| !v.is_finite()) {
            return Err(RasterError::InvalidArgument(format!(
                "bbox {bbox:?} is not [minx, miny, maxx, maxy]"
            )));
        }
        let native = match bbox_crs {
            None => bbox,
            Some(crs) => {
                let to = self.crs().ok_or_else(|| RasterError::MissingGeoreference {
                    path: self.label.clone(),
                    what: "CRS",
                })?;
                transform_bounds(&bbox, crs, &to)?
            }
        };
        let inv = invert_gt(&gt).ok_or_else(|| {
            RasterError::InvalidArgument(format!("'{}' has a singular geotransform", self.label))
        })?;
        let corners = [
            apply_gt(&inv, native[0], native[1]),
            apply_gt(&inv, native[2], native[1]),
            apply_gt(&inv, native[2], native[3]),
            apply_gt(&inv, native[0], native[3]),
        ];
        let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for [c, r] in corners {
            c0 = c0.min(c);
            r0 = r0.min(r);
            c1 = c1.max(c);
            r1 = r1.max(r);
        }
        let (rows, cols) = (self.rows() as f64, self.cols() as f64);
        let out_of_bounds = || RasterError::OutOfBounds {
            window: [
                c0.floor() as i64,
                r0.floor() as i64,
                (c1 - c0).ceil() as i64,
                (r1 - r0).ceil() as i64,
            ],
            rows: self.rows(),
            cols: self.cols(),
        };
        let c0c = (c0 + 1e-9).floor().max(0.0);
        let r0c = (r0 + 1e-9).floor().max(0.0);
        let c1c = (c1 - 1e-9).ceil().min(cols);
        let r1c = (r1 - 1e-9).ceil().min(rows);
        if c1c <= c0c || r1c <= r0c {
            return Err(out_of_bounds());
        }
        Ok(Window::new(
            c0c as usize,
            r0c as usize,
            (c1c - c0c) as usize,
            (r1c - r0c) as usize,
        ))
    }

    /// Read the part of the raster covering `bbox` in `bbox_crs` (`None` =
    /// raster coordinates). Only the window is read; with a smaller
    /// `out_shape` GDAL reads from overviews.
    pub fn read_part<T: Pixel>(
        &self,
        bbox: [f64; 4],
        bbox_crs: Option<&Crs>,
        options: &PartOptions,
    ) -> Result<Part<T>> {
        let window = self.window_for_bbox(bbox, bbox_crs)?;
        self.read_window_part(window, options)
    }

    fn read_window_part<T: Pixel>(&self, window: Window, options: &PartOptions) -> Result<Part<T>> {
        let gt = self
            .geotransform()
            .unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let mut ro = ReadOptions::default()
            .with_window(window)
            .with_resampling(options.resampling);
        ro.out_shape = options.out_shape;
        ro.bands = options.bands.clone();
        let data = self.read_with::<T>(&ro)?;
        let (_, out_rows, out_cols) = data.dim();
        let sx = window.cols as f64 / out_cols as f64;
        let sy = window.rows as f64 / out_rows as f64;
        let [x0, y0] = apply_gt(&gt, window.col_off as f64, window.row_off as f64);
        let geotransform = [x0, gt[1] * sx, gt[2] * sy, y0, gt[4] * sx, gt[5] * sy];
        let all_nodata = self.nodata();
        let nodata = match &options.bands {
            Some(b) => b.iter().map(|&i| all_nodata[i - 1]).collect(),
            None => all_nodata,
        };
        Ok(Part {
            data,
            geotransform,
            crs: self.crs(),
            window,
            nodata,
        })
    }

    /// The value of every band at point (`x`, `y`) in `point_crs` (`None` =
    /// raster coordinates). A point outside the raster is
    /// [`RasterError::OutOfBounds`].
    pub fn read_point<T: Pixel>(&self, x: f64, y: f64, point_crs: Option<&Crs>) -> Result<Vec<T>> {
        let gt = self
            .geotransform()
            .ok_or_else(|| RasterError::MissingGeoreference {
                path: self.label.clone(),
                what: "geotransform",
            })?;
        let [px, py] = match point_crs {
            None => [x, y],
            Some(crs) => {
                let to = self.crs().ok_or_else(|| RasterError::MissingGeoreference {
                    path: self.label.clone(),
                    what: "CRS",
                })?;
                transform_point(x, y, crs, &to)?
            }
        };
        let inv = invert_gt(&gt).ok_or_else(|| {
            RasterError::InvalidArgument(format!("'{}' has a singular geotransform", self.label))
        })?;
        let [c, r] = apply_gt(&inv, px, py);
        let (col, row) = (c.floor(), r.floor());
        if !(col >= 0.0 && row >= 0.0 && col < self.cols() as f64 && row < self.rows() as f64) {
            return Err(RasterError::OutOfBounds {
                window: [col as i64, row as i64, 1, 1],
                rows: self.rows(),
                cols: self.cols(),
            });
        }
        let arr = self.read_window::<T>(Window::new(col as usize, row as usize, 1, 1))?;
        Ok(arr.iter().copied().collect())
    }

    /// The whole raster decimated so that its longer side is at most
    /// `max_size` cells (read from overviews when present; never upsampled).
    pub fn preview<T: Pixel>(&self, max_size: usize, resampling: Resampling) -> Result<Part<T>> {
        if max_size == 0 {
            return Err(RasterError::InvalidArgument("max_size must be > 0".into()));
        }
        let (rows, cols) = (self.rows(), self.cols());
        let factor = (rows.max(cols) as f64 / max_size as f64).max(1.0);
        let out = (
            ((rows as f64 / factor).round() as usize).clamp(1, rows),
            ((cols as f64 / factor).round() as usize).clamp(1, cols),
        );
        let options = PartOptions {
            out_shape: Some(out),
            resampling,
            ..PartOptions::default()
        };
        self.read_window_part(Window::new(0, 0, cols, rows), &options)
    }
}

/// Open `item`'s asset with [`load_asset`] and read the part covering
/// `bbox` in `bbox_crs` (`None` = the asset's own coordinates; pyramids'
/// default is EPSG:4326). Only the window's bytes are fetched (plus the
/// header); decimated outputs read overviews.
pub fn read_item_part<T: Pixel>(
    item: &Value,
    asset_key: Option<&str>,
    bbox: [f64; 4],
    bbox_crs: Option<&Crs>,
    options: &PartOptions,
) -> Result<Part<T>> {
    let ds = load_asset(item, asset_key, &options.load)?;
    ds.read_part(bbox, bbox_crs, options)
        .map_err(|e| context(item, asset_key, &ds, "cannot read part", e))
}

/// Open `item`'s asset and read every band at (`lon`, `lat`) in EPSG:4326.
pub fn read_item_point<T: Pixel>(
    item: &Value,
    asset_key: Option<&str>,
    lon: f64,
    lat: f64,
    options: &LoadOptions,
) -> Result<Vec<T>> {
    let ds = load_asset(item, asset_key, options)?;
    ds.read_point(lon, lat, Some(&Crs::Epsg(4326)))
        .map_err(|e| context(item, asset_key, &ds, "cannot read point", e))
}

/// Open `item`'s asset and read a preview whose longer side is at most
/// `max_size` cells (overviews used when present).
pub fn read_item_preview<T: Pixel>(
    item: &Value,
    asset_key: Option<&str>,
    max_size: usize,
    options: &PartOptions,
) -> Result<Part<T>> {
    let ds = load_asset(item, asset_key, &options.load)?;
    ds.preview(max_size, options.resampling)
        .map_err(|e| context(item, asset_key, &ds, "cannot read preview", e))
}

fn context(
    item: &Value,
    asset_key: Option<&str>,
    ds: &Dataset,
    message: &str,
    source: RasterError,
) -> RasterError {
    let (item, asset) = (
        stac_meta::item_id(item).to_owned(),
        asset_key.unwrap_or("<asset>").to_owned(),
    );
    if ds.deadline_passed() {
        return RasterError::Deadline {
            at: stac_meta::Location::asset(item, asset).with_href(ds.path()),
            seconds: ds.deadline_seconds(),
        };
    }
    RasterError::Asset {
        at: stac_meta::Location::asset(item, asset).with_href(ds.path()),
        message: crate::secrets::redact_message(&format!("{message}: {source}")),
        source: Some(Box::new(source)),
    }
}

/// Transform bounds `[minx, miny, maxx, maxy]` between CRSs (each edge
/// densified with 21 points by GDAL, so curved edges are covered).
///
/// ```
/// use stac_raster::{Crs, transform_bounds};
/// let b = transform_bounds(&[600000.0, 5299960.0, 600040.0, 5300000.0], &Crs::Epsg(32630), &Crs::Epsg(4326))?;
/// assert!((b[0] - -1.6634).abs() < 1e-3 && (b[3] - 47.8456).abs() < 1e-3);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
pub fn transform_bounds(bbox: &[f64; 4], from: &Crs, to: &Crs) -> Result<[f64; 4]> {
    if from.is_same(to) {
        return Ok(*bbox);
    }
    let ct = CoordTransform::new(&from.to_spatial_ref()?, &to.to_spatial_ref()?)
        .map_err(|e| RasterError::InvalidArgument(format!("CRS transform: {e}")))?;
    ct.transform_bounds(bbox, 21)
        .map_err(|e| RasterError::InvalidArgument(format!("cannot transform bbox {bbox:?}: {e}")))
}

/// Transform one point `(x, y)` between CRSs (traditional GIS axis order).
pub fn transform_point(x: f64, y: f64, from: &Crs, to: &Crs) -> Result<[f64; 2]> {
    let ct = CoordTransform::new(&from.to_spatial_ref()?, &to.to_spatial_ref()?)
        .map_err(|e| RasterError::InvalidArgument(format!("CRS transform: {e}")))?;
    let (mut xs, mut ys, mut zs) = ([x], [y], [0.0]);
    ct.transform_coords(&mut xs, &mut ys, &mut zs)
        .map_err(|e| {
            RasterError::InvalidArgument(format!("cannot transform point ({x}, {y}): {e}"))
        })?;
    Ok([xs[0], ys[0]])
}
