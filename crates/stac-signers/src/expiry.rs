//! Parsing token expiry times.

use std::time::{Duration, SystemTime};

/// An RFC 3339 / ISO 8601 time (trailing `Z` or offset; naive → UTC) as a
/// `SystemTime`; `None` when unparsable.
pub(crate) fn parse_expiry(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let dt = chrono::DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
            .map(|n| n.and_utc())
        })
        .or_else(|| {
            // Earthdata style: `06/01/2026` (month/day/year).
            chrono::NaiveDate::parse_from_str(text, "%m/%d/%Y")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        })?;
    let secs = dt.timestamp();
    if secs >= 0 {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
    } else {
        Some(SystemTime::UNIX_EPOCH)
    }
}

/// `now + seconds`.
pub(crate) fn in_seconds(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let t = parse_expiry("2030-01-02T03:04:05Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_893_553_445
        );
        assert_eq!(parse_expiry("2030-01-02T03:04:05"), Some(t));
        assert_eq!(parse_expiry("2030-01-02T04:04:05+01:00"), Some(t));
        assert!(parse_expiry("2030-01-02T03:04:05.123456Z").is_some());
        assert!(parse_expiry("01/02/2030").is_some());
        assert_eq!(parse_expiry("soon"), None);
    }
}
