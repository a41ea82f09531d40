//! # stac-client
//!
//! STAC API search with streaming pages, collections, conformance and
//! queryables, and asset downloads.
//!
//! | module | holds |
//! |---|---|
//! | `params` | [`SearchParams`] and its GET / POST encodings |
//! | `conformance` | [`Conformance`], matching classes by prefix and fragment |
//! | `client` | [`AsyncClient`]: landing page, conformance, collections, queryables, search |
//! | `search` | [`ItemStream`]: pages fetched lazily, `next` links followed |
//! | `pages` | one page request; the `next` link (`method`, `headers`, `body`, `merge`) |
//! | `blocking` | [`Client`], [`Items`], [`search()`]: the same over a private runtime |
//! | `transport`, `retry` | signing every request; retries with backoff, jitter, `Retry-After` |
//! | `download`, `file_name`, `checksum` | [`download_item`]: atomic, resumable, verified, contained, bounded in time |
//! | `dest`, `staging`, `manifest` | files created through directory handles (no link followed); the staging directory; the manifest |
//! | `datetime` | [`expand_datetime`]: partial dates (`2023-06/2023-08`) as pystac-client expands them |
//! | `point` (feature `cube`) | `FromPoint`: `DatasetCollection::from_point`, a cube around a point on its UTM grid |
//!
//! Search is POST when the landing page advertises a POST search link, GET
//! otherwise (and GET for a CQL2-text filter, which POST bodies rarely
//! accept); parameters that need a conformance class (filter, sortby,
//! fields, query) are rejected before any search request when the API does
//! not advertise it. Pagination stops at `max_items`, at an empty page, at
//! the last page, or with [`ClientError::PaginationLoop`] when a `next`
//! link repeats.
//!
//! ```no_run
//! use stac_client::{Filter, SearchParams};
//! let params = SearchParams::new()
//!     .with_datetime_interval(Some("2023-01-01T00:00:00Z"), Some("2023-06-01T00:00:00Z"))
//!     .with_filter(Filter::Text("\"proj:epsg\" = 4326".into()))
//!     .with_sortby("-properties.datetime")
//!     .with_limit(100);
//! for item in stac_client::search("http://127.0.0.1:8082", &["coll-a"], params)? {
//!     println!("{}", item?["id"]);
//! }
//! # Ok::<(), stac_client::ClientError>(())
//! ```
//!
//! With the `cube` feature (which pulls `stac-cube` and links GDAL),
//! `DatasetCollection::from_point` searches around a point and loads the
//! items onto the point's local UTM grid (see `FromPoint`).
//!
//! Credentials never appear in errors: URLs are redacted with
//! [`stac_meta::redact`].
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

mod blocking;
mod checksum;
mod client;
mod conformance;
mod datetime;
mod dest;
mod download;
mod error;
mod file_name;
mod manifest;
mod options;
mod pages;
mod params;
#[cfg(feature = "cube")]
mod point;
mod retry;
mod search;
mod staging;
mod transport;

pub use blocking::{Client, Items, search, search_async, search_with};
pub use checksum::Multihash;
pub use client::AsyncClient;
pub use conformance::{Conformance, ConformanceClass};
pub use datetime::expand_datetime;
pub use download::{
    DownloadOptions, DownloadProgress, LowSpeed, Overwrite, S3Endpoint, download_item,
    download_item_async, download_items, download_items_async,
};
pub use error::{ClientError, Result};
pub use file_name::safe_file_name;
pub use manifest::MANIFEST_NAME;
pub use options::{ClientOptions, SearchMethod};
pub use pages::{parse_search_page, parse_search_page_with_limit};
pub use params::{Direction, Fields, Filter, SearchParams, SortBy};
#[cfg(feature = "cube")]
pub use point::{
    EdgeUnits, FromPoint, PLANETARY_COMPUTER_STAC, PointGrid, PointOptions, PointQuery,
    PointSearch, search_point, utm_epsg,
};
pub use retry::RetryPolicy;
pub use search::ItemStream;
pub use staging::{STAGING_DIR_NAME, staging_dir};
