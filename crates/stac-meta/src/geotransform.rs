//! GDAL geotransforms as pure arithmetic: pixel to map coordinates, the
//! bounds of a grid (all four corners, so rotated grids work) and the
//! inverse transform. The one copy the raster, cube and VRT crates share.

/// Map pixel (`col`, `row`) to georeferenced (`x`, `y`) with geotransform `gt`.
///
/// ```
/// let gt = [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0];
/// assert_eq!(stac_meta::geotransform::apply(&gt, 2.0, 3.0), [600020.0, 5299970.0]);
/// ```
pub fn apply(gt: &[f64; 6], col: f64, row: f64) -> [f64; 2] {
    [
        gt[0] + col * gt[1] + row * gt[2],
        gt[3] + col * gt[4] + row * gt[5],
    ]
}

/// `[minx, miny, maxx, maxy]` of a `rows` x `cols` grid with geotransform
/// `gt`, from its four corners.
///
/// ```
/// let gt = [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0];
/// assert_eq!(stac_meta::geotransform::bounds(&gt, 4, 2), [600000.0, 5299960.0, 600020.0, 5300000.0]);
/// // A rotated grid: its corners, not just the origin and the far corner.
/// let rotated = [0.0, 1.0, 1.0, 0.0, 1.0, -1.0];
/// assert_eq!(stac_meta::geotransform::bounds(&rotated, 1, 1), [0.0, -1.0, 2.0, 1.0]);
/// ```
pub fn bounds(gt: &[f64; 6], rows: usize, cols: usize) -> [f64; 4] {
    let (r, c) = (rows as f64, cols as f64);
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (col, row) in [(0.0, 0.0), (c, 0.0), (0.0, r), (c, r)] {
        let [x, y] = apply(gt, col, row);
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b
}

/// The inverse of a geotransform (map to pixel coordinates); `None` when it
/// is singular or not finite.
///
/// ```
/// let gt = [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0];
/// let inv = stac_meta::geotransform::invert(&gt).unwrap();
/// assert_eq!(stac_meta::geotransform::apply(&inv, 600020.0, 5299970.0), [2.0, 3.0]);
/// assert!(stac_meta::geotransform::invert(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).is_none());
/// ```
pub fn invert(gt: &[f64; 6]) -> Option<[f64; 6]> {
    let det = gt[1] * gt[5] - gt[2] * gt[4];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let inv = 1.0 / det;
    let (a, b, d, e) = (gt[5] * inv, -gt[2] * inv, -gt[4] * inv, gt[1] * inv);
    Some([
        -(a * gt[0] + b * gt[3]),
        a,
        b,
        -(d * gt[0] + e * gt[3]),
        d,
        e,
    ])
}
