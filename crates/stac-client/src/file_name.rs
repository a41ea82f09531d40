//! Local file names for downloaded assets, safe by construction.

use percent_encoding::percent_decode_str;

/// A file name that cannot escape its directory, from an untrusted
/// candidate (an href's last path segment, an asset key, an item id).
///
/// The candidate is percent-decoded (repeatedly, so `%252e` is caught
/// too), only the part after the last `/` or `\` is kept, characters other
/// than ASCII letters, digits, `.`, `-` and `_` become `_`, and leading dots
/// become `_`. `None` when nothing usable remains (empty, `.`, `..`).
///
/// ```
/// use stac_client::safe_file_name;
/// assert_eq!(safe_file_name("B04.tif").as_deref(), Some("B04.tif"));
/// assert_eq!(safe_file_name("../../x").as_deref(), Some("x"));
/// assert_eq!(safe_file_name("/etc/passwd").as_deref(), Some("passwd"));
/// assert_eq!(safe_file_name("%2e%2e"), None);
/// assert_eq!(safe_file_name("a b?.tif").as_deref(), Some("a_b_.tif"));
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
    if out.len() > 200 {
        let cut = out.len() - 200;
        out.replace_range(..cut, "");
    }
    if out.chars().all(|c| c == '_') {
        return None;
    }
    Some(out)
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
    fn names_have_only_safe_characters() {
        let n = safe_file_name("x\0y\n:z*.tif").unwrap();
        assert_eq!(n, "x_y__z_.tif");
        assert_eq!(safe_file_name("..."), None);
    }
}
