//! Conformance classes: what an API says it supports.

use serde_json::Value;

/// The conformance classes the client cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConformanceClass {
    /// STAC API core.
    Core,
    /// Item Search (`/search`).
    ItemSearch,
    /// OGC API Features (`/collections/{id}/items`).
    Features,
    /// Collections.
    Collections,
    /// Filter (CQL2) on item search.
    Filter,
    /// Sort on item search.
    Sort,
    /// Fields on item search.
    Fields,
    /// Query (legacy) on item search.
    Query,
}

impl ConformanceClass {
    /// A short human name, used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::ItemSearch => "item-search",
            Self::Features => "ogcapi-features",
            Self::Collections => "collections",
            Self::Filter => "item-search#filter",
            Self::Sort => "item-search#sort",
            Self::Fields => "item-search#fields",
            Self::Query => "item-search#query",
        }
    }

    fn matches(self, uri: &str) -> bool {
        let (base, fragment) = match uri.split_once('#') {
            Some((b, f)) => (b.trim_end_matches('/'), Some(f)),
            None => (uri.trim_end_matches('/'), None),
        };
        // STAC API classes: https://api.stacspec.org/v1.<anything>/<class>[#ext]
        // (rc and minor versions tolerated).
        let stac = base
            .strip_prefix("https://api.stacspec.org/v1.")
            .or_else(|| base.strip_prefix("http://api.stacspec.org/v1."))
            .and_then(|rest| rest.split_once('/').map(|(_, class)| class));
        let ogc = |suffixes: &[&str]| {
            base.starts_with("http://www.opengis.net/spec/")
                && suffixes.iter().any(|s| base.ends_with(s))
        };
        match self {
            Self::Core => stac == Some("core") && fragment.is_none(),
            Self::ItemSearch => stac == Some("item-search") && fragment.is_none(),
            Self::Features => {
                (stac == Some("ogcapi-features") && fragment.is_none())
                    || ogc(&["ogcapi-features-1/1.0/conf/core"])
            }
            Self::Collections => stac == Some("collections") && fragment.is_none(),
            Self::Filter => {
                (stac == Some("item-search") && fragment == Some("filter"))
                    || ogc(&[
                        "ogcapi-features-3/1.0/conf/filter",
                        "ogcapi-features-3/1.0/conf/features-filter",
                    ])
            }
            Self::Sort => stac == Some("item-search") && fragment == Some("sort"),
            Self::Fields => stac == Some("item-search") && fragment == Some("fields"),
            Self::Query => stac == Some("item-search") && fragment == Some("query"),
        }
    }
}

/// The conformance URIs an API advertises.
///
/// ```
/// use stac_client::{Conformance, ConformanceClass};
/// let c = Conformance::new(["https://api.stacspec.org/v1.0.0-rc.2/item-search#filter"]);
/// assert!(c.conforms_to(ConformanceClass::Filter));
/// assert!(!c.conforms_to(ConformanceClass::Sort));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conformance {
    classes: Vec<String>,
}

impl Conformance {
    /// From a list of URIs.
    pub fn new<I, S>(classes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            classes: classes.into_iter().map(Into::into).collect(),
        }
    }

    /// From a `{"conformsTo": [...]}` document (landing page or `/conformance`);
    /// `None` when it has no such array.
    pub fn from_json(value: &Value) -> Option<Self> {
        let list = value.get("conformsTo")?.as_array()?;
        Some(Self::new(
            list.iter().filter_map(Value::as_str).map(str::to_owned),
        ))
    }

    /// The advertised URIs.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Whether any advertised URI matches `class` (by prefix and fragment,
    /// tolerating rc and minor versions).
    pub fn conforms_to(&self, class: ConformanceClass) -> bool {
        self.classes.iter().any(|c| class.matches(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgstac_like_list() {
        let c = Conformance::new([
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/item-search",
            "https://api.stacspec.org/v1.0.0/item-search#sort",
            "https://api.stacspec.org/v1.0.0/item-search#fields",
            "https://api.stacspec.org/v1.0.0-rc.1/item-search#query",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
            "https://api.stacspec.org/v1.0.0/collections",
        ]);
        for class in [
            ConformanceClass::Core,
            ConformanceClass::ItemSearch,
            ConformanceClass::Sort,
            ConformanceClass::Fields,
            ConformanceClass::Query,
            ConformanceClass::Filter,
            ConformanceClass::Collections,
        ] {
            assert!(c.conforms_to(class), "{class:?}");
        }
        assert!(!c.conforms_to(ConformanceClass::Features));
    }

    #[test]
    fn fragments_are_not_the_base_class() {
        let c = Conformance::new(["https://api.stacspec.org/v1.0.0/item-search#sort"]);
        assert!(!c.conforms_to(ConformanceClass::ItemSearch));
        let c = Conformance::new(["https://api.stacspec.org/v1.0.0/core"]);
        assert!(!c.conforms_to(ConformanceClass::Filter));
        assert!(Conformance::from_json(&serde_json::json!({"x": 1})).is_none());
    }
}
