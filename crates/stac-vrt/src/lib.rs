//! # stac-vrt
//!
//! Owns `build_vrt_from_stac`: VRT XML written straight from STAC metadata
//! when items carry it (no source opened), GDAL BuildVRT otherwise; warped
//! VRTs for sources in another CRS.
//!
//! Links GDAL.
