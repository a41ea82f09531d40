//! # stac-raster
//!
//! Owns `Dataset`: a GDAL raster handle shared by the cube and VRT code
//! (create from ndarray, open any href under a scoped GDAL env, write, read
//! arrays, band names, nodata, grid, warp onto a grid), `load_asset` and
//! item-level windowed reads, and `Dataset::to_stac_item`.
//!
//! Links GDAL (through the `gdal` crate).
