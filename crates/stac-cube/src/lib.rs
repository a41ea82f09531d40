//! # stac-cube
//!
//! Owns `DatasetCollection`: `from_stac` (single/multi asset, grid planning
//! from `proj:*`, align, groupby, fusion), parallel bounded-memory loading and
//! failure reports.
//!
//! Links GDAL.
