//! Duck-typed access to STAC Items and Assets held as raw [`serde_json::Value`]s.
//!
//! Nothing here requires a STAC object model: any JSON object with the usual
//! keys works. Accessors never allocate for the common case and never do I/O.

use serde_json::{Map, Value};

use crate::error::{Location, MAX_LISTED_ASSETS, MetaError, Result, invalid};
use crate::href::redact;

/// The id used in messages for an item that has none.
pub const UNKNOWN_ID: &str = "?";

/// Parse STAC text into a list of items.
///
/// Accepts a single Item, a FeatureCollection / ItemCollection, a bare JSON
/// array of Items, or NDJSON (one Item per line; blank lines are skipped).
///
/// ```
/// let items = stac_meta::parse_items(r#"{"type":"FeatureCollection","features":[{"id":"a"},{"id":"b"}]}"#)?;
/// assert_eq!(items.len(), 2);
/// let ndjson = stac_meta::parse_items("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n")?;
/// assert_eq!(stac_meta::item_id(&ndjson[1]), "b");
/// # Ok::<(), stac_meta::MetaError>(())
/// ```
pub fn parse_items(text: &str) -> Result<Vec<Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => items_from_value(value),
        Err(whole) => {
            // Not one JSON document: try NDJSON, but only if there is more than one line;
            // otherwise report the original error (truncated JSON etc.).
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .peekable();
            let first = lines.peek().map(|(i, _)| *i);
            let multi = text.lines().filter(|l| !l.trim().is_empty()).count() > 1;
            if !multi || first.is_none() {
                return Err(MetaError::Json {
                    line: None,
                    message: whole.to_string(),
                });
            }
            let mut out = Vec::new();
            for (i, line) in lines {
                let value: Value = serde_json::from_str(line).map_err(|e| MetaError::Json {
                    line: Some(i + 1),
                    message: e.to_string(),
                })?;
                if !value.is_object() {
                    return Err(MetaError::NotItems {
                        found: format!("line {}: {}", i + 1, kind(&value)),
                    });
                }
                out.push(value);
            }
            Ok(out)
        }
    }
}

/// Turn one JSON value into a list of items (see [`parse_items`] for the shapes).
pub fn items_from_value(value: Value) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) => {
            if let Some((i, bad)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
                return Err(MetaError::NotItems {
                    found: format!("element {i} is {}", kind(bad)),
                });
            }
            Ok(items)
        }
        Value::Object(mut map) => {
            let is_collection = map.get("type").and_then(Value::as_str)
                == Some("FeatureCollection")
                || (map.get("features").is_some_and(Value::is_array)
                    && !map.contains_key("assets"));
            if is_collection {
                match map.remove("features") {
                    Some(Value::Array(features)) => items_from_value(Value::Array(features)),
                    _ => Err(MetaError::NotItems {
                        found: "a FeatureCollection without a features array".into(),
                    }),
                }
            } else {
                match map.get("type").and_then(Value::as_str) {
                    Some(t @ ("Collection" | "Catalog")) => Err(MetaError::NotItems {
                        found: format!("type \"{t}\""),
                    }),
                    // An item has an id, assets, or says it is a Feature;
                    // `{"foo": 1}` is not an item with id "?".
                    Some("Feature") => Ok(vec![Value::Object(map)]),
                    _ if map.contains_key("id") || map.contains_key("assets") => {
                        Ok(vec![Value::Object(map)])
                    }
                    _ => {
                        let mut keys: Vec<&str> = map.keys().map(String::as_str).take(6).collect();
                        if map.len() > keys.len() {
                            keys.push("...");
                        }
                        Err(MetaError::NotItems {
                            found: if keys.is_empty() {
                                "an empty JSON object".into()
                            } else {
                                format!("a JSON object with keys {}", keys.join(", "))
                            },
                        })
                    }
                }
            }
        }
        other => Err(MetaError::NotItems {
            found: kind(&other).into(),
        }),
    }
}

/// Borrowing variant of [`items_from_value`]: the items inside a value, without copying.
pub fn item_slice(value: &Value) -> Result<Vec<&Value>> {
    match value {
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Object(map) => match map.get("features") {
            Some(Value::Array(f)) if !map.contains_key("assets") => Ok(f.iter().collect()),
            _ => Ok(vec![value]),
        },
        other => Err(MetaError::NotItems {
            found: kind(other).into(),
        }),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// The item's `id`, or [`UNKNOWN_ID`] (`"?"`) when it has none.
pub fn item_id(item: &Value) -> &str {
    item.get("id").and_then(Value::as_str).unwrap_or(UNKNOWN_ID)
}

/// The item's `properties` object (absent or null → `None`).
pub fn properties(item: &Value) -> Option<&Map<String, Value>> {
    item.get("properties").and_then(Value::as_object)
}

/// A property of the item (`properties.<key>`), `None` when absent.
pub fn property<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    properties(item).and_then(|p| p.get(key))
}

/// The item's `collection` id.
pub fn collection_id(item: &Value) -> Option<&str> {
    item.get("collection").and_then(Value::as_str)
}

/// The item's `assets` object.
pub fn assets(item: &Value) -> Option<&Map<String, Value>> {
    item.get("assets").and_then(Value::as_object)
}

/// One asset of the item; a missing key is an error naming the keys that exist.
///
/// The error lists at most [`MAX_LISTED_ASSETS`]
/// keys (and how many more there are).
pub fn asset<'a>(item: &'a Value, key: &str) -> Result<&'a Value> {
    assets(item).and_then(|a| a.get(key)).ok_or_else(|| {
        let keys = assets(item);
        let total = keys.map_or(0, Map::len);
        let available: Box<[String]> = keys
            .map(|a| a.keys().take(MAX_LISTED_ASSETS).cloned().collect())
            .unwrap_or_default();
        MetaError::AssetNotFound {
            location: Location::asset(item_id(item), key),
            more: total - available.len(),
            available,
        }
    })
}

/// The asset's `href` (as written: relative hrefs are returned verbatim).
pub fn asset_href<'a>(item: &'a Value, key: &str) -> Result<&'a str> {
    let a = asset(item, key)?;
    href_of(a).ok_or_else(|| MetaError::MissingHref {
        location: Location::asset(item_id(item), key),
    })
}

/// The asset's media `type`.
pub fn media_type(asset: &Value) -> Option<&str> {
    asset.get("type").and_then(Value::as_str)
}

fn href_of(asset: &Value) -> Option<&str> {
    asset
        .get("href")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
}

/// The href of an `alternate` entry of the asset (alternate-assets extension).
pub fn alternate_href<'a>(asset: &'a Value, name: &str) -> Option<&'a str> {
    asset
        .get("alternate")
        .and_then(|a| a.get(name))
        .and_then(href_of)
}

/// The href and media type chosen for an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetSource<'a> {
    /// The chosen href (canonical or alternate), verbatim.
    pub href: &'a str,
    /// The alternate's own `type` if it declares one, else the asset's `type`.
    pub media_type: Option<&'a str>,
    /// Which alternate was chosen (`None` = the canonical href).
    pub alternate: Option<&'a str>,
}

/// Choose the href of an asset: the first of `alternates` (in order) that has
/// an href, else the canonical `href` (alternate-assets extension).
///
/// `asset_key = None` treats `item` itself as the asset.
pub fn asset_source<'a>(
    item: &'a Value,
    asset_key: Option<&str>,
    alternates: &[&'a str],
) -> Result<AssetSource<'a>> {
    let a = match asset_key {
        Some(k) => asset(item, k)?,
        None => item,
    };
    for name in alternates {
        if let Some(entry) = a.get("alternate").and_then(|alt| alt.get(*name))
            && let Some(href) = href_of(entry)
        {
            let media_type = media_type(entry).or_else(|| media_type(a));
            return Ok(AssetSource {
                href,
                media_type,
                alternate: Some(name),
            });
        }
    }
    let href = href_of(a).ok_or_else(|| MetaError::MissingHref {
        location: Location::asset(item_id(item), asset_key.unwrap_or("<asset>")),
    })?;
    Ok(AssetSource {
        href,
        media_type: media_type(a),
        alternate: None,
    })
}

/// The href of the item's `rel=self` link, if any.
pub fn self_href(item: &Value) -> Option<&str> {
    item.get("links")?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("self"))
        .and_then(|l| l.get("href"))
        .and_then(Value::as_str)
}

/// A bounding box: 2-D (4 numbers) or 3-D (6 numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// Minimum longitude (may be greater than `east` across the antimeridian).
    pub west: f64,
    /// Minimum latitude.
    pub south: f64,
    /// Maximum longitude.
    pub east: f64,
    /// Maximum latitude.
    pub north: f64,
    /// Minimum and maximum elevation of a 3-D bbox.
    pub z: Option<(f64, f64)>,
}

impl Bbox {
    /// Parse 4 or 6 finite numbers (`[w, s, e, n]` or `[w, s, zmin, e, n, zmax]`).
    pub fn from_slice(values: &[f64]) -> Option<Self> {
        if values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        match *values {
            [west, south, east, north] => Some(Self {
                west,
                south,
                east,
                north,
                z: None,
            }),
            [west, south, zmin, east, north, zmax] => Some(Self {
                west,
                south,
                east,
                north,
                z: Some((zmin, zmax)),
            }),
            _ => None,
        }
    }

    /// Whether the box crosses the antimeridian (`west > east`).
    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }

    /// The longitude of the box's midpoint, antimeridian-aware.
    pub fn center_lon(&self) -> f64 {
        if self.crosses_antimeridian() {
            let mid = (self.west + self.east + 360.0) / 2.0;
            if mid > 180.0 { mid - 360.0 } else { mid }
        } else {
            (self.west + self.east) / 2.0
        }
    }

    /// The numbers in STAC order (4 or 6 of them).
    pub fn to_vec(&self) -> Vec<f64> {
        match self.z {
            None => vec![self.west, self.south, self.east, self.north],
            Some((zmin, zmax)) => vec![self.west, self.south, zmin, self.east, self.north, zmax],
        }
    }
}

/// Check a requested lon/lat box `[west, south, east, north]` and say
/// whether it crosses the antimeridian (`Ok(true)`).
///
/// The numbers must be finite, longitudes within ±180, latitudes within
/// ±90, and south <= north. A box with west > east is read as crossing the
/// antimeridian only when that is what the user meant: `allow_crossing`
/// (said explicitly), or the box, wrapped eastwards from west to east, spans
/// at most 180° of longitude (`170,..,-170` is a 20° box across 180°;
/// `12,..,11` would wrap 359° and is a typo). Otherwise it is an error
/// naming both numbers, never a silent world-wide box.
///
/// ```
/// use stac_meta::check_lonlat_bbox;
/// assert_eq!(check_lonlat_bbox([10.0, 45.0, 11.0, 46.0], false).unwrap(), false);
/// assert_eq!(check_lonlat_bbox([179.5, -10.0, -179.5, 10.0], false).unwrap(), true);
/// let e = check_lonlat_bbox([12.0, 45.0, 11.0, 46.0], false).unwrap_err();
/// assert!(e.to_string().contains("west 12 > east 11"), "{e}");
/// assert!(check_lonlat_bbox([12.0, 45.0, 11.0, 46.0], true).unwrap());
/// ```
pub fn check_lonlat_bbox(b: [f64; 4], allow_crossing: bool) -> Result<bool> {
    let err = |reason: String| MetaError::InvalidParameter {
        parameter: "bbox",
        reason,
    };
    let [w, s, e, n] = b;
    if !b.iter().all(|v| v.is_finite()) {
        return Err(err(format!("{b:?} must be 4 finite numbers")));
    }
    if w.abs() > 180.0 || e.abs() > 180.0 {
        return Err(err(format!(
            "longitudes {w} and {e} must be within -180..180 (west,south,east,north in degrees)"
        )));
    }
    if s.abs() > 90.0 || n.abs() > 90.0 {
        return Err(err(format!(
            "latitudes {s} and {n} must be within -90..90 (west,south,east,north in degrees)"
        )));
    }
    if s > n {
        return Err(err(format!("south {s} > north {n}")));
    }
    if w <= e {
        return Ok(false);
    }
    let wrapped = e + 360.0 - w;
    if allow_crossing || wrapped <= 180.0 {
        return Ok(true);
    }
    Err(err(format!(
        "west {w} > east {e}: read as crossing the antimeridian it would span {wrapped}° of \
         longitude; swap west and east, or allow antimeridian crossing explicitly"
    )))
}

/// The item's `bbox`: `Ok(None)` when absent or null; an error when it is not
/// 4 or 6 finite numbers.
pub fn bbox(item: &Value) -> Result<Option<Bbox>> {
    let raw = match item.get("bbox") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let loc = || Location::item(item_id(item)).with_field("bbox");
    let arr = raw
        .as_array()
        .ok_or_else(|| invalid(loc(), "must be an array of 4 or 6 numbers"))?;
    let nums: Option<Vec<f64>> = arr.iter().map(Value::as_f64).collect();
    let nums = nums.ok_or_else(|| invalid(loc(), "must contain only numbers"))?;
    Bbox::from_slice(&nums).map(Some).ok_or_else(|| {
        invalid(
            loc(),
            format!("must be 4 or 6 finite numbers, got {}", nums.len()),
        )
    })
}

/// The item's (redacted) href for messages: `"<item>/<asset> (<href>)"`.
pub fn describe_asset(item: &Value, key: &str) -> String {
    match asset_href(item, key) {
        Ok(h) => format!("{}/{} ({})", item_id(item), key, redact(h)),
        Err(_) => format!("{}/{}", item_id(item), key),
    }
}
