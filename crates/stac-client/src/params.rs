//! Item Search parameters: the types live in [`stac_meta::search`] (pure
//! data, shared with the search over stac-geoparquet catalogs); this module
//! adds what only an API client needs, the conformance classes a search
//! requires.

pub use stac_meta::search::{Direction, Fields, Filter, SearchParams, SortBy};

use crate::conformance::ConformanceClass;

/// What a STAC API must conform to for these parameters.
pub(crate) trait RequiredClasses {
    /// The conformance classes these parameters need, with the parameter name.
    fn required_classes(&self) -> Vec<(&'static str, ConformanceClass)>;
}

impl RequiredClasses for SearchParams {
    fn required_classes(&self) -> Vec<(&'static str, ConformanceClass)> {
        let mut v = Vec::new();
        if self.filter.is_some() {
            v.push(("filter", ConformanceClass::Filter));
        }
        if !self.sortby.is_empty() {
            v.push(("sortby", ConformanceClass::Sort));
        }
        if self.fields.is_some() {
            v.push(("fields", ConformanceClass::Fields));
        }
        if self.query.is_some() {
            v.push(("query", ConformanceClass::Query));
        }
        v
    }
}
