//! # stac-geoparquet
//!
//! Owns `to_geoparquet` / `from_geoparquet`: the stac-geoparquet spec layout
//! and the JSON-blob layout, streaming reader and writer.
//!
//! Does not link GDAL.
