//! # stac-client
//!
//! Owns STAC API search (streaming pages), collections, conformance,
//! `download_item` and `from_point`.
//!
//! Pulls the network crates; enabled in the facade by the `client` feature.
