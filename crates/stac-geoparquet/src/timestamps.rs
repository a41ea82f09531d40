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
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32; // µs
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        return render_chrono(micros, format);
    }
    let sod = secs.rem_euclid(86_400) as u32;
    let (mut style, variant) = (format % STYLES, format / STYLES);
    // A fixed number of digits that would drop non-zero digits: trimmed.
    if style < 6 && frac % 10u32.pow(6 - style) != 0 {
        style = STYLES - 1;
    }
    let mut out = String::with_capacity(32);
    let digits = |n: u32, width: u32, out: &mut String| {
        for k in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(k) % 10) as u8));
        }
    };
    digits(year as u32, 4, &mut out);
    out.push('-');
    digits(month, 2, &mut out);
    out.push('-');
    digits(day, 2, &mut out);
    out.push(if variant >= 2 { ' ' } else { 'T' });
    digits(sod / 3600, 2, &mut out);
    out.push(':');
    digits(sod / 60 % 60, 2, &mut out);
    out.push(':');
    digits(sod % 60, 2, &mut out);
    if style == STYLES - 1 {
        if frac != 0 {
            out.push('.');
            let mut f = frac;
            let mut width = 6;
            while f % 10 == 0 {
                f /= 10;
                width -= 1;
            }
            digits(f, width, &mut out);
        }
    } else if style > 0 {
        out.push('.');
        if style <= 6 {
            digits(frac / 10u32.pow(6 - style), style, &mut out);
        } else {
            digits(frac, 6, &mut out);
            digits(0, style - 6, &mut out);
        }
    }
    out.push_str(if variant % 2 == 1 { "+00:00" } else { "Z" });
    Some(out)
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// [`render`] through chrono (the reference, and years outside 0..=9999).
fn render_chrono(micros: i64, format: u32) -> Option<String> {
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
            return render_chrono(micros, DEFAULT_FORMAT + variant * STYLES);
        }
        String::new()
    } else {
        let (keep, dropped) = frac.split_at(style as usize);
        if dropped.bytes().any(|b| b != b'0') {
            return render_chrono(micros, DEFAULT_FORMAT + variant * STYLES);
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

    #[test]
    fn fast_render_matches_chrono() {
        let mut micros: Vec<i64> = vec![
            0,
            -1,
            1,
            951_782_400_000_000,     // 2000-02-29
            -62_135_596_800_000_000, // 0001-01-01
            -62_167_219_200_000_000, // 0000-01-01
            -62_167_219_200_000_001,
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999
            253_402_300_800_000_000, // 10000-01-01
            1_579_022_780_477_296,
            1_579_022_780_437_000,
            1_579_022_780_400_000,
            1_579_022_780_000_000,
        ];
        let mut x: i64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = x % 300_000_000_000_000_000;
            micros.push(m);
            micros.push(m - m.rem_euclid(1000));
            micros.push(m - m.rem_euclid(1_000_000));
        }
        for m in micros {
            for format in 0..4 * STYLES {
                assert_eq!(render(m, format), render_chrono(m, format), "{m} {format}");
            }
        }
    }
}
