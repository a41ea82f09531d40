//! Local file names for downloaded assets, safe by construction, and the
//! rule that keeps the names of one directory distinct.

use std::collections::HashSet;

use percent_encoding::percent_decode_str;

/// A file name that cannot escape its directory, from an untrusted
/// candidate (an href's last path segment, an asset key, an item id).
///
/// The candidate is percent-decoded (repeatedly, so `%252e` is caught
/// too), only the part after the last `/` or `\` is kept, characters other
/// than ASCII letters, digits, `.`, `-` and `_` become `_`, leading and
/// trailing dots become `_`, and a name Windows reserves for a device
/// (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`, `LPT1`–`LPT9`, in any case and
/// with any extension, e.g. `aux.tif`) gets a `_` prefix. `None` when nothing
/// usable remains (empty, `.`, `..`).
///
/// ```
/// use stac_client::safe_file_name;
/// assert_eq!(safe_file_name("B04.tif").as_deref(), Some("B04.tif"));
/// assert_eq!(safe_file_name("../../x").as_deref(), Some("x"));
/// assert_eq!(safe_file_name("/etc/passwd").as_deref(), Some("passwd"));
/// assert_eq!(safe_file_name("%2e%2e"), None);
/// assert_eq!(safe_file_name("a b?.tif").as_deref(), Some("a_b_.tif"));
/// assert_eq!(safe_file_name("aux.tif").as_deref(), Some("_aux.tif"));
/// assert_eq!(safe_file_name("CON").as_deref(), Some("_CON"));
/// assert_eq!(safe_file_name("x.").as_deref(), Some("x_"));
/// ```
pub fn safe_file_name(candidate: &str) -> Option<String> {
    let mut text = candidate.to_owned();
    for _ in 0..4 {
        let decoded = percent_decode_str(&text).decode_utf8_lossy().into_owned();
        if decoded == text {
            break;
        }
        text = decoded;
    }
    let last = text.rsplit(['/', '\\']).next().unwrap_or("");
    let last = last.trim();
    if last.is_empty() || last == "." || last == ".." {
        return None;
    }
    let mut out: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dots = out.len() - out.trim_start_matches('.').len();
    if dots > 0 {
        out.replace_range(..dots, &"_".repeat(dots));
    }
    // Windows drops trailing dots: `x.` and `x` would be one file.
    let dots = out.len() - out.trim_end_matches('.').len();
    if dots > 0 {
        let at = out.len() - dots;
        out.replace_range(at.., &"_".repeat(dots));
    }
    if out.len() > 200 {
        let cut = out.len() - 200;
        out.replace_range(..cut, "");
    }
    if out.chars().all(|c| c == '_') {
        return None;
    }
    if is_reserved_device_name(&out) {
        out.insert(0, '_');
    }
    Some(out)
}

/// Whether Windows reserves `name` for a device: its part before the first
/// dot is `CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9` or `LPT1`–`LPT9` (any case).
fn is_reserved_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0')
}

/// The names of one directory, distinct ignoring ASCII case (so `A.TIF` and
/// `a.tif` never become one file on macOS or Windows).
///
/// The rule, in order: a name is kept when no name taken so far equals it
/// ignoring case; otherwise it becomes `<key>-<name>`, then
/// `<key>2-<name>`, `<key>3-<name>`, … (`key` made safe: the asset key)
/// until it is distinct. Names reserved up front (the item JSON, the
/// manifest) are never given to an asset.
#[derive(Debug, Default)]
pub(crate) struct UniqueNames(HashSet<String>);

impl UniqueNames {
    /// Reserve `name` (no renaming): `false` when it is taken already.
    pub(crate) fn reserve(&mut self, name: &str) -> bool {
        self.0.insert(name.to_ascii_lowercase())
    }

    /// `name`, or the first renamed form that is distinct; taken.
    pub(crate) fn claim(&mut self, name: &str, key: &str) -> String {
        if self.reserve(name) {
            return name.to_owned();
        }
        let prefix = safe_file_name(key).unwrap_or_else(|| "asset".into());
        let mut n = 1;
        loop {
            let candidate = if n == 1 {
                format!("{prefix}-{name}")
            } else {
                format!("{prefix}{n}-{name}")
            };
            if self.reserve(&candidate) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// The last path segment of an href (no query, no fragment).
pub(crate) fn last_segment(href: &str) -> &str {
    let no_query = href.split(['?', '#']).next().unwrap_or("");
    let path = match no_query.find("://") {
        Some(i) => {
            let rest = &no_query[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        None => no_query,
    };
    path.rsplit('/').next().unwrap_or("")
}

/// The file name of an asset: the href's last segment, else the asset key,
/// else `asset`.
pub(crate) fn asset_file_name(href: &str, key: &str) -> String {
    safe_file_name(last_segment(href))
        .or_else(|| safe_file_name(key))
        .unwrap_or_else(|| "asset".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_contained() {
        for (href, key, want) in [
            ("http://h/a/..%2f..%2fevil.sh", "k", "evil.sh"),
            ("http://h/a/%2e%2e", "data", "data"),
            ("http://h/a/%252e%252e", "data", "data"),
            ("http://h/a/..", "../../x", "x"),
            ("http://h/", "/etc/passwd", "passwd"),
            ("http://h/a/.bashrc", "k", "_bashrc"),
            ("http://h/a/b.tif?sig=abc", "k", "b.tif"),
            ("s3://bucket/dir/c.tif", "k", "c.tif"),
            ("http://h/a/..\\..\\w.tif", "k", "w.tif"),
            ("http://h/%2F", "..", "asset"),
        ] {
            assert_eq!(asset_file_name(href, key), want, "{href} {key}");
        }
    }

    #[test]
    fn names_are_distinct_ignoring_case_and_reserved_ones_are_kept_free() {
        let mut u = UniqueNames::default();
        assert!(u.reserve("item.json"));
        assert_eq!(u.claim("A.TIF", "red"), "A.TIF");
        assert_eq!(u.claim("a.tif", "green"), "green-a.tif");
        assert_eq!(u.claim("ITEM.JSON", "meta"), "meta-ITEM.JSON");
        assert_eq!(u.claim("a.tif", "green"), "green2-a.tif");
        for n in ["COM1.tif", "lpt9", "Nul.x.y", "aux"] {
            assert!(safe_file_name(n).unwrap().starts_with('_'), "{n}");
        }
        for n in ["COM0.tif", "COM10", "console.tif", "auxiliary.tif"] {
            assert_eq!(safe_file_name(n).unwrap(), n, "{n}");
        }
    }

    #[test]
    fn names_have_only_safe_characters() {
        let n = safe_file_name("x\0y\n:z*.tif").unwrap();
        assert_eq!(n, "x_y__z_.tif");
        assert_eq!(safe_file_name("..."), None);
    }
}
