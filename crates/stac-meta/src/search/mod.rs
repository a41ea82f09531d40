//! STAC API Item Search parameters, as pure data shared by every searcher.
//!
//! [`SearchParams`] is what a STAC API client sends (stac-client's GET and
//! POST encodings come from [`SearchParams::query_pairs`] and
//! [`SearchParams::body`]) and what a search over a stac-geoparquet catalog
//! file evaluates (stac-geoparquet's `search`). Keeping it here, in the
//! crate with no I/O and no network dependency, lets both use one type
//! without the GeoParquet crate linking an HTTP stack or the client linking
//! Arrow.
//!
//! ```
//! use stac_meta::search::{Filter, SearchParams};
//! let params = SearchParams::new()
//!     .with_collections(["sentinel-2-l2a"])
//!     .with_datetime("2023-06")
//!     .with_filter(Filter::parse("\"eo:cloud_cover\" < 10")?);
//! params.validate()?;
//! assert_eq!(params.datetime.as_deref(), Some("2023-06-01T00:00:00Z/2023-06-30T23:59:59Z"));
//! # Ok::<(), stac_meta::MetaError>(())
//! ```

mod interval;
mod params;

pub use interval::{Interval, expand_datetime};
pub use params::{Direction, Fields, Filter, SearchParams, SortBy};
