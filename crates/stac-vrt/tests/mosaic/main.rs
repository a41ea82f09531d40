//! Offline tests of `build_vrt_from_stac` over real GeoTIFF tiles written
//! with GDAL (no server): the seed cell, pixel-for-pixel parity with
//! `gdalbuildvrt`, options, strictness, lazy (metadata-only) building and
//! href escaping. One test binary (one link) for all of them; the tests that
//! need a server (`vrt_http`) stay in the e2e package and share `support.rs`.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

mod escape;
mod lazy;
mod options;
mod peer;
mod seed;
mod strict;
mod support;
