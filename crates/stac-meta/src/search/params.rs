//! Item Search parameters (the STAC API spec's, plus the client-side
//! `max_items` cap) and their GET / POST encodings. Pure data: a STAC API
//! client sends them, a catalog-file search evaluates them.

use serde_json::{Map, Value, json};

use crate::error::{MetaError, Result};
use crate::search::interval::Interval;

/// A CQL2 filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// CQL2 text, e.g. `"eo:cloud_cover" < 10`.
    Text(String),
    /// CQL2 JSON, e.g. `{"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]}`.
    Json(Value),
}

impl Filter {
    /// CQL2 JSON when the text starts with `{`, CQL2 text otherwise.
    ///
    /// ```
    /// use stac_meta::search::Filter;
    /// assert_eq!(Filter::parse("id = 'a'")?.lang(), "cql2-text");
    /// assert_eq!(Filter::parse(r#"{"op": "=", "args": [{"property": "id"}, "a"]}"#)?.lang(), "cql2-json");
    /// assert!(Filter::parse("{oops").is_err());
    /// # Ok::<(), stac_meta::MetaError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.starts_with('{') {
            serde_json::from_str(text)
                .map(Self::Json)
                .map_err(|e| invalid("filter", format!("not valid CQL2 JSON: {e}")))
        } else {
            Ok(Self::Text(text.to_owned()))
        }
    }

    /// The `filter-lang` value.
    pub fn lang(&self) -> &'static str {
        match self {
            Self::Text(_) => "cql2-text",
            Self::Json(_) => "cql2-json",
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = MetaError;

    /// [`Filter::parse`].
    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBy {
    /// The field (`properties.datetime`, `id`, ...).
    pub field: String,
    /// The direction.
    pub direction: Direction,
}

impl SortBy {
    /// Parse `field`, `+field` or `-field`.
    ///
    /// ```
    /// use stac_meta::search::{Direction, SortBy};
    /// assert_eq!(SortBy::parse("-properties.datetime").direction, Direction::Desc);
    /// assert_eq!(SortBy::parse("+id").field, "id");
    /// ```
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        match text.strip_prefix('-') {
            Some(f) => Self {
                field: f.to_owned(),
                direction: Direction::Desc,
            },
            None => Self {
                field: text.strip_prefix('+').unwrap_or(text).to_owned(),
                direction: Direction::Asc,
            },
        }
    }

    fn get_form(&self) -> String {
        match self.direction {
            Direction::Asc => format!("+{}", self.field),
            Direction::Desc => format!("-{}", self.field),
        }
    }
}

/// The fields extension: which fields to include or exclude.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// Fields to include.
    pub include: Vec<String>,
    /// Fields to exclude.
    pub exclude: Vec<String>,
}

impl Fields {
    /// Parse the GET form: `id,properties.datetime,-links`.
    pub fn parse(text: &str) -> Self {
        let mut f = Self::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.strip_prefix('-') {
                Some(x) => f.exclude.push(x.to_owned()),
                None => f
                    .include
                    .push(part.strip_prefix('+').unwrap_or(part).to_owned()),
            }
        }
        f
    }
}

/// Item Search parameters (the STAC API spec's, plus the client-side
/// `max_items` cap).
///
/// ```
/// use stac_meta::search::SearchParams;
/// let p = SearchParams::new()
///     .with_collections(["sentinel-2-l2a"])
///     .with_bbox([-10.0, -10.0, 0.0, -5.0])
///     .with_datetime_interval(Some("2023-01-01T00:00:00Z"), None)
///     .with_sortby("-properties.datetime")
///     .with_limit(100)
///     .with_max_items(1000);
/// assert!(p.validate().is_ok());
/// assert_eq!(p.query_pairs()[0], ("collections".to_string(), "sentinel-2-l2a".to_string()));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SearchParams {
    /// Collection ids.
    pub collections: Vec<String>,
    /// Item ids.
    pub ids: Vec<String>,
    /// Bounding box (4 or 6 numbers).
    pub bbox: Option<Vec<f64>>,
    /// A GeoJSON geometry (not with `bbox`).
    pub intersects: Option<Value>,
    /// An RFC 3339 instant or an interval `a/b` (`..` or empty for an open end).
    pub datetime: Option<String>,
    /// The query extension object, e.g. `{"eo:cloud_cover": {"lt": 10}}`.
    pub query: Option<Value>,
    /// A CQL2 filter.
    pub filter: Option<Filter>,
    /// `filter-crs`.
    pub filter_crs: Option<String>,
    /// Sort keys.
    pub sortby: Vec<SortBy>,
    /// The fields extension.
    pub fields: Option<Fields>,
    /// Page size (sent as `limit`).
    pub limit: Option<u32>,
    /// Client-side cap on the total number of items over all pages.
    pub max_items: Option<usize>,
}

impl SearchParams {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the collection ids.
    pub fn with_collections<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.collections = ids.into_iter().map(Into::into).collect();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_collections`")]
    pub fn collections<I, S>(self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_collections(ids)
    }
    /// Set the item ids.
    pub fn with_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_ids`")]
    pub fn ids<I, S>(self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_ids(ids)
    }
    /// Set the bounding box.
    pub fn with_bbox(mut self, bbox: impl Into<Vec<f64>>) -> Self {
        self.bbox = Some(bbox.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bbox`")]
    pub fn bbox(self, bbox: impl Into<Vec<f64>>) -> Self {
        self.with_bbox(bbox)
    }
    /// Set the intersecting geometry (GeoJSON).
    pub fn with_intersects(mut self, geometry: Value) -> Self {
        self.intersects = Some(geometry);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_intersects`")]
    pub fn intersects(self, geometry: Value) -> Self {
        self.with_intersects(geometry)
    }
    /// Set the datetime: an instant or an interval `a/b`. Partial dates
    /// (`2023`, `2023-06`, `2023-06-01`) are expanded to the period they
    /// cover, as pystac-client does (see [`expand_datetime`](crate::search::expand_datetime)).
    pub fn with_datetime(mut self, datetime: impl Into<String>) -> Self {
        self.datetime = Some(crate::search::expand_datetime(&datetime.into()));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_datetime`")]
    pub fn datetime(self, datetime: impl Into<String>) -> Self {
        self.with_datetime(datetime)
    }
    /// Set the datetime to an interval; `None` is an open end (`..`).
    /// Partial dates are expanded as in [`datetime`](Self::datetime).
    pub fn with_datetime_interval(mut self, start: Option<&str>, end: Option<&str>) -> Self {
        self.datetime = Some(crate::search::expand_datetime(&format!(
            "{}/{}",
            start.unwrap_or(".."),
            end.unwrap_or("..")
        )));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_datetime_interval`")]
    pub fn datetime_interval(self, start: Option<&str>, end: Option<&str>) -> Self {
        self.with_datetime_interval(start, end)
    }
    /// Set the query extension object.
    pub fn with_query(mut self, query: Value) -> Self {
        self.query = Some(query);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_query`")]
    pub fn query(self, query: Value) -> Self {
        self.with_query(query)
    }
    /// Set a CQL2 filter.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_filter`")]
    pub fn filter(self, filter: Filter) -> Self {
        self.with_filter(filter)
    }
    /// Set `filter-crs`.
    pub fn with_filter_crs(mut self, crs: impl Into<String>) -> Self {
        self.filter_crs = Some(crs.into());
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_filter_crs`")]
    pub fn filter_crs(self, crs: impl Into<String>) -> Self {
        self.with_filter_crs(crs)
    }
    /// Add a sort key (`field`, `+field` or `-field`).
    pub fn with_sortby(mut self, key: &str) -> Self {
        self.sortby.push(SortBy::parse(key));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_sortby`")]
    pub fn sortby(self, key: &str) -> Self {
        self.with_sortby(key)
    }
    /// Set the fields extension.
    pub fn with_fields(mut self, fields: Fields) -> Self {
        self.fields = Some(fields);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_fields`")]
    pub fn fields(self, fields: Fields) -> Self {
        self.with_fields(fields)
    }
    /// Set the page size.
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_limit`")]
    pub fn limit(self, limit: u32) -> Self {
        self.with_limit(limit)
    }
    /// Cap the total number of items.
    pub fn with_max_items(mut self, max: usize) -> Self {
        self.max_items = Some(max);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_max_items`")]
    pub fn max_items(self, max: usize) -> Self {
        self.with_max_items(max)
    }

    /// Check the parameters without any I/O.
    pub fn validate(&self) -> Result<()> {
        if self.bbox.is_some() && self.intersects.is_some() {
            return Err(invalid(
                "bbox",
                "bbox and intersects cannot be used together",
            ));
        }
        if let Some(b) = &self.bbox {
            if b.len() != 4 && b.len() != 6 {
                return Err(invalid(
                    "bbox",
                    format!("needs 4 or 6 numbers, got {}", b.len()),
                ));
            }
            if b.iter().any(|v| !v.is_finite()) {
                return Err(invalid("bbox", "numbers must be finite"));
            }
        }
        if let Some(g) = &self.intersects {
            if !g.get("type").is_some_and(Value::is_string) {
                return Err(invalid("intersects", "not a GeoJSON geometry (no `type`)"));
            }
        }
        if let Some(d) = &self.datetime {
            Interval::parse(d)?;
        }
        if self.limit == Some(0) {
            return Err(invalid("limit", "must be at least 1"));
        }
        if let Some(Filter::Json(v)) = &self.filter {
            if !v.is_object() {
                return Err(invalid("filter", "CQL2 JSON must be an object"));
            }
        }
        if let Some(q) = &self.query {
            if !q.is_object() {
                return Err(invalid("query", "must be an object"));
            }
        }
        Ok(())
    }

    /// The page size actually sent: `limit`, lowered to `max_items`.
    pub fn page_size(&self) -> Option<u32> {
        let cap = self
            .max_items
            .map(|m| u32::try_from(m.max(1)).unwrap_or(u32::MAX));
        match (self.limit, cap) {
            (Some(l), Some(c)) => Some(l.min(c)),
            (l, c) => l.or(c),
        }
    }

    /// The GET encoding: `(name, value)` pairs (lists comma-separated, JSON
    /// values serialised).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| q.push((k.to_owned(), v));
        if !self.collections.is_empty() {
            push("collections", self.collections.join(","));
        }
        if !self.ids.is_empty() {
            push("ids", self.ids.join(","));
        }
        if let Some(b) = &self.bbox {
            push(
                "bbox",
                b.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        if let Some(g) = &self.intersects {
            push("intersects", g.to_string());
        }
        if let Some(d) = &self.datetime {
            push("datetime", d.clone());
        }
        if let Some(qv) = &self.query {
            push("query", qv.to_string());
        }
        if let Some(f) = &self.filter {
            match f {
                Filter::Text(t) => push("filter", t.clone()),
                Filter::Json(v) => push("filter", v.to_string()),
            }
            push("filter-lang", f.lang().to_owned());
        }
        if let Some(c) = &self.filter_crs {
            push("filter-crs", c.clone());
        }
        if !self.sortby.is_empty() {
            push(
                "sortby",
                self.sortby
                    .iter()
                    .map(SortBy::get_form)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        if let Some(f) = &self.fields {
            let parts: Vec<String> = f
                .include
                .iter()
                .cloned()
                .chain(f.exclude.iter().map(|e| format!("-{e}")))
                .collect();
            push("fields", parts.join(","));
        }
        if let Some(l) = self.page_size() {
            push("limit", l.to_string());
        }
        q
    }

    /// The POST encoding: a JSON object.
    pub fn body(&self) -> Map<String, Value> {
        let mut b = Map::new();
        if !self.collections.is_empty() {
            b.insert("collections".into(), json!(self.collections));
        }
        if !self.ids.is_empty() {
            b.insert("ids".into(), json!(self.ids));
        }
        if let Some(x) = &self.bbox {
            b.insert("bbox".into(), json!(x));
        }
        if let Some(g) = &self.intersects {
            b.insert("intersects".into(), g.clone());
        }
        if let Some(d) = &self.datetime {
            b.insert("datetime".into(), json!(d));
        }
        if let Some(qv) = &self.query {
            b.insert("query".into(), qv.clone());
        }
        if let Some(f) = &self.filter {
            let v = match f {
                Filter::Text(t) => json!(t),
                Filter::Json(v) => v.clone(),
            };
            b.insert("filter".into(), v);
            b.insert("filter-lang".into(), json!(f.lang()));
        }
        if let Some(c) = &self.filter_crs {
            b.insert("filter-crs".into(), json!(c));
        }
        if !self.sortby.is_empty() {
            let keys: Vec<Value> = self
                .sortby
                .iter()
                .map(|s| {
                    json!({"field": s.field, "direction": match s.direction {
                        Direction::Asc => "asc",
                        Direction::Desc => "desc",
                    }})
                })
                .collect();
            b.insert("sortby".into(), Value::Array(keys));
        }
        if let Some(f) = &self.fields {
            b.insert(
                "fields".into(),
                json!({"include": f.include, "exclude": f.exclude}),
            );
        }
        if let Some(l) = self.page_size() {
            b.insert("limit".into(), json!(l));
        }
        b
    }
}

fn invalid(parameter: &'static str, reason: impl Into<String>) -> MetaError {
    MetaError::InvalidParameter {
        parameter,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate_datetime(d: &str) -> Result<()> {
        Interval::parse(d).map(drop)
    }

    #[test]
    fn datetime_forms() {
        for ok in [
            "2023-01-01T00:00:00Z",
            "2023-01-01T00:00:00Z/2023-02-01T00:00:00Z",
            "2023-01-01T00:00:00+02:00/..",
            "../2023-01-01T00:00:00Z",
            "/2023-01-01T00:00:00Z",
        ] {
            assert!(validate_datetime(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2023",
            "../..",
            "a/b/c",
            "2023-02-01T00:00:00Z/2023-01-01T00:00:00Z",
            "yesterday",
        ] {
            assert!(validate_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bbox_and_intersects_exclusive() {
        let p = SearchParams::new()
            .with_bbox([0.0, 0.0, 1.0, 1.0])
            .with_intersects(json!({"type": "Point", "coordinates": [0, 0]}));
        assert!(matches!(
            p.validate(),
            Err(MetaError::InvalidParameter {
                parameter: "bbox",
                ..
            })
        ));
        assert!(
            SearchParams::new()
                .with_bbox([0.0, 1.0])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn encodings() {
        let p = SearchParams::new()
            .with_collections(["a", "b"])
            .with_bbox([-10.0, -10.0, 0.0, -5.5])
            .with_filter(Filter::Text("id = 'x'".into()))
            .with_sortby("-properties.datetime")
            .with_sortby("id")
            .with_fields(Fields::parse("id,-links"))
            .with_limit(50)
            .with_max_items(20);
        let q = p.query_pairs();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("collections"), Some("a,b"));
        assert_eq!(get("bbox"), Some("-10,-10,0,-5.5"));
        assert_eq!(get("filter-lang"), Some("cql2-text"));
        assert_eq!(get("sortby"), Some("-properties.datetime,+id"));
        assert_eq!(get("fields"), Some("id,-links"));
        assert_eq!(get("limit"), Some("20"));
        let b = Value::Object(p.body());
        assert_eq!(
            b["sortby"][0],
            json!({"field": "properties.datetime", "direction": "desc"})
        );
        assert_eq!(
            b["fields"],
            json!({"include": ["id"], "exclude": ["links"]})
        );
        assert_eq!(b["limit"], json!(20));
        assert_eq!(b["filter"], json!("id = 'x'"));
    }
}
