//! Item datetimes: `datetime`, or the `start_datetime`/`end_datetime` range.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::{Location, Result, invalid};
use crate::item::{item_id, property};

/// Parse an RFC 3339 datetime (`Z` or offset); a naive datetime or a bare
/// date is taken as UTC. Returns `None` when the text is not a datetime.
///
/// ```
/// let t = stac_meta::parse_datetime("2021-06-01T10:00:00.123456Z").unwrap();
/// assert_eq!(t.timestamp_subsec_micros(), 123456);
/// assert!(stac_meta::parse_datetime("2021-06-01T10:00:00").is_some());
/// assert!(stac_meta::parse_datetime("yesterday").is_none());
/// ```
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    // Lower-case 't'/'z' and space separators are allowed by RFC 3339 §5.6 notes.
    let normalised = t.replacen(' ', "T", 1).replace('t', "T").replace('z', "Z");
    if let Ok(dt) = DateTime::parse_from_rfc3339(&normalised) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&normalised, fmt) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

/// A datetime property of the item: `Ok(None)` when absent or null, an error
/// naming the item and field when it is not a datetime.
pub fn datetime_property(item: &Value, key: &str) -> Result<Option<DateTime<Utc>>> {
    match property(item, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_datetime(s).map(Some).ok_or_else(|| {
            invalid(
                Location::item(item_id(item)).with_field(format!("properties.{key}")),
                format!("not an RFC 3339 datetime: {s:?}"),
            )
        }),
        Some(other) => Err(invalid(
            Location::item(item_id(item)).with_field(format!("properties.{key}")),
            format!("must be a string, found {other}"),
        )),
    }
}

/// The item's time: `datetime`, or `start_datetime` when `datetime` is null.
pub fn item_datetime(item: &Value) -> Result<Option<DateTime<Utc>>> {
    match datetime_property(item, "datetime")? {
        Some(t) => Ok(Some(t)),
        None => datetime_property(item, "start_datetime"),
    }
}

/// The item's time range `(start, end)`: `start_datetime`/`end_datetime` when
/// present, else `(datetime, datetime)`.
pub fn item_interval(item: &Value) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let start = datetime_property(item, "start_datetime")?;
    let end = datetime_property(item, "end_datetime")?;
    let dt = datetime_property(item, "datetime")?;
    Ok(match (start.or(dt), end.or(dt)) {
        (Some(s), Some(e)) => Some((s, e)),
        (Some(s), None) => Some((s, s)),
        (None, Some(e)) => Some((e, e)),
        (None, None) => None,
    })
}
