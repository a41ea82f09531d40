//! Datetime properties as `timestamp[µs, UTC]`, and how to spell them back.
//!
//! A column remembers which spellings every one of its values used (number
//! of fraction digits, or "trailing zeros trimmed"; `Z` or `+00:00`), so the
//! reader writes each value back exactly as it came in whenever one spelling
//! fits the whole column.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};

/// Property names stored as timestamps (the stac-geoparquet reference list).
pub(crate) const TIMESTAMP_KEYS: &[&str] = &[
    "datetime",
    "start_datetime",
    "end_datetime",
    "created",
    "updated",
    "expires",
    "published",
    "unpublished",
];

/// Number of fraction styles: 0..=9 fixed fraction digits, then trimmed.
/// A spelling is `style + STYLES * variant`, variant = suffix (`Z` or
/// `+00:00`) + 2 × separator (`T` or a space).
const STYLES: u32 = 11;

/// A bit set of spellings compatible with every value seen (see module docs).
pub(crate) type FormatMask = u64;

/// Parse an RFC 3339 datetime. `None` when it does not parse or carries
/// sub-microsecond precision (which a µs timestamp would lose).
pub(crate) fn parse(text: &str) -> Option<(i64, FormatMask)> {
    let dt = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    if dt.nanosecond() % 1000 != 0 {
        return None;
    }
    let micros = dt.timestamp_micros();
    let (mut suffix, body) = if let Some(b) = text.strip_suffix('Z') {
        (0, b)
    } else if let Some(b) = text.strip_suffix("+00:00") {
        (1, b)
    } else {
        return Some((micros, 0));
    };
    if text.as_bytes().get(10) == Some(&b' ') {
        suffix += 2;
    }
    let digits = body.split_once('.').map_or(0, |(_, f)| f.len());
    if digits > 9 {
        return Some((micros, 0));
    }
    let mut mask = 0;
    for style in [digits as u32, STYLES - 1] {
        if render(micros, style + suffix * STYLES).as_deref() == Some(text) {
            mask |= 1u64 << (style + suffix * STYLES);
        }
    }
    Some((micros, mask))
}

/// The name of the first spelling in `mask` (for the file metadata), or
/// `None` when no single spelling fits the column.
pub(crate) fn format_name(mask: FormatMask) -> Option<String> {
    (0..4 * STYLES).find(|b| mask & (1u64 << b) != 0).map(|b| {
        let (style, variant) = (b % STYLES, b / STYLES);
        let suffix = if variant % 2 == 1 { "+00:00" } else { "Z" };
        let sep = if variant >= 2 { " " } else { "" };
        if style == STYLES - 1 {
            format!("{sep}trim{suffix}")
        } else {
            format!("{sep}{style}{suffix}")
        }
    })
}

/// The spelling index of a format name written by [`format_name`].
pub(crate) fn format_index(name: &str) -> Option<u32> {
    let (name, sep) = match name.strip_prefix(' ') {
        Some(rest) => (rest, 2),
        None => (name, 0),
    };
    let (body, suffix) = if let Some(b) = name.strip_suffix("+00:00") {
        (b, 1)
    } else {
        (name.strip_suffix('Z')?, 0)
    };
    let style = if body == "trim" {
        STYLES - 1
    } else {
        body.parse::<u32>().ok().filter(|d| *d < STYLES - 1)?
    };
    Some(style + (suffix + sep) * STYLES)
}

/// Default spelling for files that do not say: trailing zeros trimmed, `Z`.
pub(crate) const DEFAULT_FORMAT: u32 = STYLES - 1;

/// Render microseconds since the epoch in spelling `format`.
pub(crate) fn render(micros: i64, format: u32) -> Option<String> {
    let dt = DateTime::<Utc>::from_timestamp_micros(micros)?;
    let (style, variant) = (format % STYLES, format / STYLES);
    let suffix = variant % 2 == 1;
    let mut base = dt.to_rfc3339_opts(SecondsFormat::Secs, true);
    base.pop(); // the 'Z'
    if variant >= 2 {
        base.replace_range(10..11, " ");
    }
    let frac = format!("{:09}", dt.nanosecond());
    let fraction = if style == STYLES - 1 {
        let t = frac.trim_end_matches('0');
        if t.is_empty() {
            String::new()
        } else {
            format!(".{t}")
        }
    } else if style == 0 {
        if dt.nanosecond() != 0 {
            return render(micros, DEFAULT_FORMAT + variant * STYLES);
        }
        String::new()
    } else {
        let (keep, dropped) = frac.split_at(style as usize);
        if dropped.bytes().any(|b| b != b'0') {
            return render(micros, DEFAULT_FORMAT + variant * STYLES);
        }
        format!(".{keep}")
    };
    Some(format!(
        "{base}{fraction}{}",
        if suffix { "+00:00" } else { "Z" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for text in [
            "2021-06-01T00:00:00Z",
            "2021-06-01T00:00:00.000000Z",
            "2020-01-14T17:26:20.477296Z",
            "2020-01-14T17:26:20.437000Z",
            "2020-01-14T17:26:20.437Z",
            "2020-01-14T17:26:20.4+00:00",
            "2025-03-12 05:23:01.601759+00:00",
        ] {
            let (micros, mask) = parse(text).unwrap();
            let name = format_name(mask).unwrap();
            assert_eq!(render(micros, format_index(&name).unwrap()).unwrap(), text);
        }
        assert!(parse("2020-01-14T17:26:20.123456789Z").is_none());
        assert!(parse("yesterday").is_none());
    }
}
