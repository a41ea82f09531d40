//! # stac-geoparquet
//!
//! Lossless, interoperable [stac-geoparquet] reading and writing, streaming,
//! with no GDAL.
//!
//! - [`to_geoparquet`] / [`from_geoparquet`]: a slice of items to a file and back.
//! - [`Writer`]: push items one at a time; memory is bounded by the row-group
//!   size ([`WriteOptions::with_row_group_size`]) whatever the item count.
//! - [`Reader`]: an iterator of items, or of Arrow record batches.
//! - [`to_record_batches`] / [`BatchDecoder`]: items to Arrow record batches
//!   in memory and back (tables exchanged with other Arrow libraries).
//! - [`search()`]: STAC API Item Search over a file, a list, a glob or a
//!   hive-partitioned folder, pruned with the file statistics ([`search()`]
//!   module).
//!
//! ## Layouts
//!
//! [`Layout::Spec`] (default) follows the stac-geoparquet specification:
//! `type`, `stac_version`, `stac_extensions` (`list<string>`), `id`,
//! `geometry` (WKB, tagged `geoarrow.wkb`), `bbox` (struct
//! `xmin, ymin, xmax, ymax`, plus `zmin`/`zmax` in 3-D), `collection`, every
//! property lifted to its own column (datetime properties as
//! `timestamp[µs, UTC]`), other top-level keys, then `links` (list of
//! structs) and `assets` (struct of structs). File metadata: `geo`
//! (GeoParquet 1.1.0, OGC:CRS84, geometry types, bbox, and a `covering`
//! pointing at the bbox struct when every row has one), `stac-geoparquet`
//! (`version` and `collections`), and `stac-gdal:geoparquet`, which lists
//! what the reader needs to restore items exactly (JSON-text columns,
//! explicit nulls, timestamp spellings, extra top-level keys).
//!
//! [`Layout::Blob`] is pyramids' JSON-blob layout: `id`, `stac_item` (the
//! whole item as JSON text) and `geometry` (WKB). The reader detects the
//! layout by itself.
//!
//! ## Schema unification
//!
//! The schema is inferred over *all* items, not the first batch. Keys missing
//! from some items become nullable columns. Integers mixed with floats
//! (`0` in one item, `1.5` in another) are stored as float64 and the
//! integers come back as integers. A field whose JSON types conflict (number
//! vs string, `1` vs `1.0` in the same field, object vs scalar, integers
//! beyond `i64`) is stored as JSON text and listed in the file metadata, and
//! so is a nested field that is `null` in some objects and missing in others,
//! and so is an
//! always-empty object such as `"assets": {}` (Parquet cannot store empty
//! structs). All-empty `links` lists are still typed as link structs.
//! `proj:geometry` (in properties and in assets) is stored as WKB, as the
//! stac-geoparquet specification and its Python reference library write it
//! (the property column is declared in the `geo` metadata with a `null` CRS).
//!
//! A top-level field (a property, `collection`, `geometry`...) that is
//! `null` in some items and missing in others keeps its native column type;
//! the rows whose null is an explicit `null` are listed in this crate's
//! metadata as runs of rows, and the reader puts the `null` back. Other
//! readers see an ordinary nullable column.
//!
//! ## Row order and pruning
//!
//! Rows are written in the order given, unless
//! [`WriteOptions::with_sort`] asks for [`SortOrder::Hilbert`] (bbox centres
//! along a Hilbert curve, then time) or [`SortOrder::Time`]. Every column
//! has row-group and page statistics (pages of at most 4096 rows,
//! [`WriteOptions::with_page_rows`]), and the GeoParquet 1.1 bbox
//! `covering` is declared, so sorted files let [`search()`], DuckDB, GDAL and
//! pyarrow skip most row groups and pages of a selective query.
//! [`write_partitioned`] writes a hive-partitioned folder
//! (`collection=…/year=…/part-0.parquet`).
//!
//! ## What a round trip does not preserve
//!
//! `from_geoparquet(to_geoparquet(items)) == items` holds for every item of
//! the fixtures in `shared/data/stac-items`, with these documented exceptions
//! (each is tested, and the tests check that nothing else differs):
//!
//! 1. **Row order**, when a sort order is asked for (the items are the same).
//! 2. **Datetime spelling**, when the values of one datetime column use
//!    different spellings (e.g. `.437Z` in one item and `.437000Z` in
//!    another, or a `+02:00` offset): the value (µs, UTC) is kept and is
//!    spelt with trailing zeros trimmed and `Z`. A column whose values share
//!    one spelling is restored character for character. Datetimes with
//!    sub-microsecond digits are kept as strings, never truncated.
//! 3. **Integral coordinates** in `geometry` and `bbox` are stored as float64:
//!    if a file mixes `10` and `10.0` spellings, `10` comes back as `10.0`.
//! 4. **`properties`** is always present after a round trip (`{}` if the
//!    item had none); key order inside objects is not significant.
//! 5. **Geometry members** other than `type`/`coordinates`/`geometries` cannot
//!    be stored in WKB: such an item is refused with an error (not silently
//!    changed). (A `proj:geometry` that WKB cannot hold exactly is stored as
//!    JSON text instead.)
//!
//! The JSON-blob layout has no exceptions at all.
//!
//! [stac-geoparquet]: https://github.com/radiantearth/stac-geoparquet-spec
//!
//! ```
//! use serde_json::json;
//! use stac_geoparquet::{Layout, WriteOptions};
//! let items = vec![json!({"type": "Feature", "stac_version": "1.1.0", "id": "a",
//!     "geometry": {"type": "Point", "coordinates": [1.5, 2.5]}, "bbox": [1.5, 2.5, 1.5, 2.5],
//!     "properties": {"datetime": "2020-01-14T17:26:20.477296Z", "eo:cloud_cover": 12.5},
//!     "links": [], "assets": {"data": {"href": "a.tif", "roles": ["data"]}}})];
//! let dir = tempfile::tempdir()?;
//! for layout in [Layout::Spec, Layout::Blob] {
//!     let path = dir.path().join("a.parquet");
//!     stac_geoparquet::to_geoparquet(&items, &path, &WriteOptions::default().with_layout(layout))?;
//!     assert_eq!(stac_geoparquet::from_geoparquet(&path)?, items);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Does not link GDAL.
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

mod batches;
mod decode;
mod encode;
pub mod error;
mod geometry;
mod guard;
mod json;
mod layout;
mod limits;
pub mod metadata;
mod nulls;
mod options;
mod order;
mod partition;
mod pipeline;
mod reader;
mod schema;
pub mod search;
mod timestamps;
mod writer;

pub use batches::{ARROW_SOURCE, BatchDecoder, to_record_batches};
pub use error::{GeoParquetError, Limit, Result};
#[doc(hidden)]
pub use geometry::{geojson_to_wkb, wkb_to_geojson};
pub use layout::RESERVED;
pub use limits::{NonFinite, ReadOptions};
pub use options::{Compression, Layout, WriteOptions};
pub use order::SortOrder;
pub use partition::{MAX_PARTITIONS, PartitionKey, PartitionedWriter, write_partitioned};
pub use reader::{Reader, from_geoparquet, from_geoparquet_with};
pub use search::search;
pub use writer::{Progress, ProgressFn, Writer, to_geoparquet};
