//! The `datetime` search parameter: partial dates expanded the way
//! pystac-client does (so `2023-06/2023-08` or `2021-06-01` work), and
//! parsed into an [`Interval`] of instants.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{MetaError, Result};

/// Expand the partial dates of a `datetime` search parameter into RFC 3339
/// date-times, like pystac-client:
///
/// - a start `YYYY`, `YYYY-MM` or `YYYY-MM-DD` becomes the first second of
///   that period (`T00:00:00Z`), an end the last (`T23:59:59Z` of the last
///   day);
/// - a single partial date becomes the interval covering it;
/// - a date-time without an offset is taken as UTC (`Z` appended);
/// - open ends (`..` or empty) and anything else are left as they are
///   (invalid text is rejected later by [`Interval::parse`] and
///   [`SearchParams::validate`](crate::search::SearchParams::validate)).
///
/// No I/O.
///
/// ```
/// use stac_meta::search::expand_datetime;
/// assert_eq!(expand_datetime("2023-06/2023-08"), "2023-06-01T00:00:00Z/2023-08-31T23:59:59Z");
/// assert_eq!(expand_datetime("2021-06-01/2021-06-10"), "2021-06-01T00:00:00Z/2021-06-10T23:59:59Z");
/// assert_eq!(expand_datetime("2024-02"), "2024-02-01T00:00:00Z/2024-02-29T23:59:59Z");
/// assert_eq!(expand_datetime("2023-01-01T10:00:00Z/.."), "2023-01-01T10:00:00Z/..");
/// assert_eq!(expand_datetime("yesterday"), "yesterday");
/// ```
pub fn expand_datetime(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [one] => match partial_date(one) {
            Some(period) => format!("{}/{}", start_of(period), end_of(period)),
            None => naive_utc(one),
        },
        [a, b] => {
            let start = match partial_date(a) {
                Some(period) => start_of(period),
                None => naive_utc(a),
            };
            let end = match partial_date(b) {
                Some(period) => end_of(period),
                None => naive_utc(b),
            };
            format!("{start}/{end}")
        }
        _ => text.to_owned(),
    }
}

/// A partial date: year, optional month, optional day (all checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn partial_date(text: &str) -> Option<Period> {
    let fields: Vec<&str> = text.split('-').collect();
    let year = i32::try_from(digits(fields.first()?, 4)?).ok()?;
    let month = fields.get(1).map(|m| digits(m, 2)).unwrap_or(Some(0))?;
    let day = fields.get(2).map(|d| digits(d, 2)).unwrap_or(Some(0))?;
    if fields.len() > 3 {
        return None;
    }
    let period = Period {
        year,
        month: (fields.len() > 1).then_some(month),
        day: (fields.len() > 2).then_some(day),
    };
    // The first day of the period must exist (month 1..12, a real day).
    NaiveDate::from_ymd_opt(year, period.month.unwrap_or(1), period.day.unwrap_or(1))?;
    Some(period)
}

fn start_of(p: Period) -> String {
    format!(
        "{:04}-{:02}-{:02}T00:00:00Z",
        p.year,
        p.month.unwrap_or(1),
        p.day.unwrap_or(1)
    )
}

fn end_of(p: Period) -> String {
    let month = p.month.unwrap_or(12);
    let day = p.day.unwrap_or_else(|| last_day(p.year, month));
    format!("{:04}-{month:02}-{day:02}T23:59:59Z", p.year)
}

fn last_day(year: i32, month: u32) -> u32 {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// `YYYY-MM-DDTHH:MM:SS[.f]` without an offset, taken as UTC.
fn naive_utc(text: &str) -> String {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
    if naive {
        format!("{text}Z")
    } else {
        text.to_owned()
    }
}

/// A `datetime` search parameter as instants: `[start, end]`, both ends
/// inclusive (as pgstac compares them), `None` for an open end. An instant
/// is the interval `[t, t]`.
///
/// ```
/// use stac_meta::search::Interval;
/// let i = Interval::parse("2023-01-01T00:00:00Z/..")?;
/// assert!(i.start.is_some() && i.end.is_none());
/// let t = Interval::parse("2023-01-01T10:00:00+02:00")?;
/// assert_eq!(t.start, t.end);
/// assert!(Interval::parse("../..").is_err());
/// # Ok::<(), stac_meta::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// The first instant (inclusive), `None` when open.
    pub start: Option<DateTime<Utc>>,
    /// The last instant (inclusive), `None` when open.
    pub end: Option<DateTime<Utc>>,
}

impl Interval {
    /// Parse an RFC 3339 instant, or an interval `a/b` whose ends are
    /// instants, `..` or empty (not both open). Partial dates must have
    /// been expanded first ([`expand_datetime`]; `SearchParams::datetime`
    /// does it).
    pub fn parse(text: &str) -> Result<Self> {
        let instant = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        };
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [one] => match instant(one) {
                Some(t) => Ok(Self {
                    start: Some(t),
                    end: Some(t),
                }),
                None => Err(bad(format!(
                    "{text:?} is neither an RFC 3339 date-time nor an interval a/b"
                ))),
            },
            [a, b] => {
                let open = |s: &str| s.is_empty() || *s == *"..";
                if open(a) && open(b) {
                    return Err(bad("both ends of the interval are open"));
                }
                let end = |s: &str| -> Result<Option<DateTime<Utc>>> {
                    if open(s) {
                        return Ok(None);
                    }
                    instant(s).map(Some).ok_or_else(|| {
                        bad(format!(
                            "{s:?} is not an RFC 3339 date-time (e.g. 2023-01-01T00:00:00Z)"
                        ))
                    })
                };
                let (start, end) = (end(a)?, end(b)?);
                if let (Some(s), Some(e)) = (start, end) {
                    if s > e {
                        return Err(bad("interval ends before it starts"));
                    }
                }
                Ok(Self { start, end })
            }
            _ => Err(bad(format!(
                "{text:?} is neither an RFC 3339 date-time nor an interval a/b"
            ))),
        }
    }
}

fn bad(reason: impl Into<String>) -> MetaError {
    MetaError::InvalidParameter {
        parameter: "datetime",
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_expand() {
        assert_eq!(
            expand_datetime("2023"),
            "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z"
        );
        assert_eq!(
            expand_datetime("2023-02-28"),
            "2023-02-28T00:00:00Z/2023-02-28T23:59:59Z"
        );
        assert_eq!(expand_datetime("../2023-11"), "../2023-11-30T23:59:59Z");
        assert_eq!(expand_datetime("2023-05/"), "2023-05-01T00:00:00Z/");
        assert_eq!(
            expand_datetime("2023-01-01T00:00:00/2023-01-02T00:00:00.5"),
            "2023-01-01T00:00:00Z/2023-01-02T00:00:00.5Z"
        );
    }

    #[test]
    fn invalid_text_is_left_for_validation() {
        for bad in [
            "2023-13",
            "2023-02-30",
            "23-01",
            "2023-1-1",
            "a/b/c",
            "../..",
        ] {
            assert_eq!(expand_datetime(bad), bad, "{bad}");
        }
    }
}
