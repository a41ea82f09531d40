//! Grouping keys for same-day mosaics: solar day, time, id, or a property.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

use crate::error::{Location, MetaError, Result};
use crate::item::{bbox, item_id, property};
use crate::{datetime::item_datetime, item::Bbox};

/// The local solar day of an observation: the UTC time shifted by
/// `centre_longitude / 15` hours, as a date.
///
/// The centre longitude is the midpoint of the bbox's west and east edges;
/// for a bbox crossing the antimeridian (west > east) it is
/// `(west + east + 360) / 2`, minus 360 when above 180. Without a bbox there
/// is no shift. Latitude is ignored (mean solar time, no equation of time).
/// A centre outside [-180, 180] (a malformed but finite bbox) is wrapped into
/// that range; at the ends of chrono's range (years ±262143), where the
/// shifted time does not exist, the UTC date is returned.
///
/// ```
/// use stac_meta::{solar_day, parse_datetime, Bbox};
/// let t = parse_datetime("2021-06-01T20:00:00Z").unwrap();
/// let east = Bbox::from_slice(&[149.0, -35.0, 151.0, -34.0]);
/// assert_eq!(solar_day(t, east.as_ref()).to_string(), "2021-06-02"); // +10 h
/// assert_eq!(solar_day(t, None).to_string(), "2021-06-01");
/// ```
pub fn solar_day(datetime: DateTime<Utc>, bbox: Option<&Bbox>) -> NaiveDate {
    // Longitudes outside [-180, 180] (bad but finite bboxes) are wrapped, so
    // the shift stays within ±12 h.
    let lon = bbox.map_or(0.0, |b| wrap_longitude(b.center_lon()));
    let shift = Duration::microseconds((lon / 15.0 * 3_600_000_000.0).round() as i64);
    // At the ends of chrono's range (years ±262143) the shifted time may not
    // exist: the UTC date is used then.
    datetime
        .checked_add_signed(shift)
        .unwrap_or(datetime)
        .date_naive()
}

/// A longitude wrapped into [-180, 180] (values inside are unchanged; an
/// overflowed, infinite centre counts as 0).
fn wrap_longitude(lon: f64) -> f64 {
    if !lon.is_finite() {
        0.0
    } else if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}

/// A user-supplied grouping function.
pub type GroupFn = Arc<dyn Fn(&Value) -> Result<GroupKey> + Send + Sync>;

/// How items are grouped into timesteps.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum GroupBy {
    /// One timestep per item.
    #[default]
    None,
    /// Items observed on the same local solar day (see [`solar_day`]).
    SolarDay,
    /// Items with exactly the same datetime.
    Time,
    /// Items with the same id.
    Id,
    /// Items with the same value of a property.
    Property(String),
    /// Items with the same key from a closure.
    Custom(GroupFn),
}

impl fmt::Debug for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::SolarDay => f.write_str("SolarDay"),
            Self::Time => f.write_str("Time"),
            Self::Id => f.write_str("Id"),
            Self::Property(p) => f.debug_tuple("Property").field(p).finish(),
            Self::Custom(_) => f.write_str("Custom(<fn>)"),
        }
    }
}

impl GroupBy {
    /// Parse a CLI/user spelling: `none`, `solar_day`, `time`, `id`, or any
    /// other text as a property key.
    pub fn parse(text: &str) -> Self {
        match text {
            "" | "none" => Self::None,
            "solar_day" | "solar-day" => Self::SolarDay,
            "time" => Self::Time,
            "id" => Self::Id,
            other => Self::Property(other.to_owned()),
        }
    }

    /// The grouping key of one item (`Ok(None)` for [`GroupBy::None`]).
    pub fn key(&self, item: &Value) -> Result<Option<GroupKey>> {
        let loc = || Location::item(item_id(item));
        Ok(Some(match self {
            Self::None => return Ok(None),
            Self::SolarDay => {
                let t = item_datetime(item)?
                    .ok_or_else(|| MetaError::MissingDatetime { location: loc() })?;
                GroupKey::Date(solar_day(t, bbox(item)?.as_ref()))
            }
            Self::Time => GroupKey::Time(
                item_datetime(item)?
                    .ok_or_else(|| MetaError::MissingDatetime { location: loc() })?,
            ),
            Self::Id => GroupKey::Text(item_id(item).to_owned()),
            Self::Property(key) => match property(item, key) {
                None => {
                    return Err(MetaError::MissingGroupKey {
                        location: loc().with_field(format!("properties.{key}")),
                    });
                }
                Some(v) => GroupKey::from_json(v),
            },
            Self::Custom(f) => f(item)?,
        }))
    }
}

/// A grouping key. Keys order naturally (dates and times chronologically,
/// numbers numerically, text lexically); keys of different kinds order by
/// their text form.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GroupKey {
    /// A calendar date (solar day).
    Date(NaiveDate),
    /// An instant.
    Time(DateTime<Utc>),
    /// A number.
    Number(f64),
    /// Text (ids, string properties, JSON of other values).
    Text(String),
}

impl GroupKey {
    /// A key from a JSON property value.
    pub fn from_json(v: &Value) -> Self {
        match v {
            Value::Number(n) => Self::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Self::Text(s.clone()),
            other => Self::Text(other.to_string()),
        }
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date(d) => write!(f, "{d}"),
            Self::Time(t) => write!(
                f,
                "{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GroupKey {}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Date(a), Self::Date(b)) => a.cmp(b),
            (Self::Time(a), Self::Time(b)) => a.cmp(b),
            (Self::Number(a), Self::Number(b)) => a.total_cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (a, b) => a.to_string().cmp(&b.to_string()),
        }
    }
}
