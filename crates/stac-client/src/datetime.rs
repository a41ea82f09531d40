//! Partial dates in `datetime` parameters: [`expand_datetime`] lives in
//! [`stac_meta::search`] with the search parameters, and is re-exported here.

pub use stac_meta::search::expand_datetime;
