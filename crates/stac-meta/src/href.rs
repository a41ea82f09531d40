//! Hrefs: resolving relative hrefs, mapping hrefs to GDAL paths, and redaction.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// [`redact`] every href inside free text (a GDAL or HTTP error message):
/// words are cut at whitespace, quotes, brackets and commas, and a word
/// with a query or a `user:password@` authority is redacted; the
/// punctuation around it is kept.
///
/// ```
/// use stac_meta::redact_text;
/// assert_eq!(
///     redact_text("'/vsicurl/https://h/a.tif?sig=x&se=1': 403"),
///     "'/vsicurl/https://h/a.tif?<redacted>': 403"
/// );
/// assert_eq!(redact_text("at https://u:pw@h/a.tif failed"), "at https://<redacted>@h/a.tif failed");
/// assert_eq!(redact_text("what? nothing"), "what? nothing");
/// ```
pub fn redact_text(text: &str) -> String {
    let is_end = |c: char| {
        c.is_whitespace() || matches!(c, '\'' | '"' | ')' | '(' | ',' | ']' | '[' | '>' | '<')
    };
    let mut out = String::with_capacity(text.len());
    let mut word_start = None;
    let flush = |out: &mut String, word: &str| {
        let sensitive = word.find('?').is_some_and(|q| q + 1 < word.len())
            || (word.contains("://") && word.contains('@'));
        if sensitive {
            out.push_str(&redact(word.trim_end_matches(':')));
        } else {
            out.push_str(word);
        }
    };
    for (i, c) in text.char_indices() {
        if is_end(c) {
            if let Some(start) = word_start.take() {
                flush(&mut out, &text[start..i]);
            }
            out.push(c);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        flush(&mut out, &text[start..]);
    }
    out
}

/// Remove credentials from an href before it reaches a message, log or `Debug`
/// output: everything after `?` is replaced by `<redacted>`, and a
/// `user:password@` in the authority is dropped. Works on GDAL paths too
/// (`/vsicurl?header.Authorization=...&url=...` becomes `/vsicurl?<redacted>`).
///
/// ```
/// assert_eq!(stac_meta::redact("https://h/a.tif?sig=SECRET"), "https://h/a.tif?<redacted>");
/// assert_eq!(stac_meta::redact("https://u:pw@h/a.tif"), "https://<redacted>@h/a.tif");
/// assert_eq!(stac_meta::redact("s3://b/k.tif"), "s3://b/k.tif");
/// ```
pub fn redact(href: &str) -> Cow<'_, str> {
    let (base, had_query) = match href.find('?') {
        Some(i) => (&href[..i], true),
        None => (href, false),
    };
    let base: Cow<'_, str> = match userinfo_span(base) {
        Some((start, end)) => Cow::Owned(format!("{}<redacted>{}", &base[..start], &base[end..])),
        None => Cow::Borrowed(base),
    };
    if had_query {
        Cow::Owned(format!("{base}?<redacted>"))
    } else {
        base
    }
}

/// Byte span of `user:password` in `scheme://user:password@host/...`.
fn userinfo_span(s: &str) -> Option<(usize, usize)> {
    let start = s.find("://")? + 3;
    let authority_end = s[start..].find('/').map_or(s.len(), |i| start + i);
    let at = s[start..authority_end].rfind('@')? + start;
    Some((start, at))
}

/// The scheme of an href (`s3`, `https`, ...), lower-cased; `None` for plain
/// paths and single-letter Windows drives (`C:/x`).
pub fn scheme(href: &str) -> Option<String> {
    let colon = href.find("://")?;
    let s = &href[..colon];
    if s.len() > 1
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        Some(s.to_ascii_lowercase())
    } else {
        None
    }
}

const VSI_PREFIXES: &[&str] = &[
    "/vsicurl/",
    "/vsicurl?",
    "/vsis3/",
    "/vsigs/",
    "/vsiaz/",
    "/vsiadls/",
    "/vsioss/",
    "/vsiswift/",
    "/vsihdfs/",
    "/vsiwebhdfs/",
    "/vsizip/",
    "/vsitar/",
    "/vsigzip/",
    "/vsi7z/",
    "/vsirar/",
    "/vsimem/",
    "/vsistdin/",
    "/vsisubfile/",
    "/vsicached?",
    "/vsicrypt/",
    "/vsis3_streaming/",
    "/vsigs_streaming/",
    "/vsiaz_streaming/",
    "/vsicurl_streaming/",
];

/// Whether the href is already a GDAL virtual path (`/vsi...`).
pub fn is_vsi(href: &str) -> bool {
    VSI_PREFIXES.iter().any(|p| href.starts_with(p))
}

/// Whether reading the href goes over the network (an http/cloud scheme or a
/// remote `/vsi` path).
pub fn is_remote(href: &str) -> bool {
    if is_vsi(href) {
        const NETWORK: &[&str] = &[
            "/vsicurl",
            "/vsis3",
            "/vsigs",
            "/vsiaz",
            "/vsiadls",
            "/vsioss",
            "/vsiswift",
            "/vsihdfs",
            "/vsiwebhdfs",
        ];
        return NETWORK.iter().any(|p| href.contains(p));
    }
    matches!(
        scheme(href).as_deref(),
        Some("s3" | "gs" | "gcs" | "az" | "abfs" | "abfss" | "http" | "https" | "dods")
    )
}

/// Map a STAC href to the path GDAL opens. Idempotent: a `/vsi...` path,
/// `NETCDF:` path or plain local path is returned unchanged.
///
/// | href | GDAL path |
/// |---|---|
/// | `s3://b/k.tif` | `/vsis3/b/k.tif` |
/// | `gs://b/k.tif`, `gcs://b/k.tif` | `/vsigs/b/k.tif` |
/// | `az://c/b.tif` | `/vsiaz/c/b.tif` |
/// | `abfss://fs@acct.dfs.core.windows.net/p.tif` | `/vsiadls/fs/p.tif` |
/// | `https://h/a.tif?x=1` | `/vsicurl/https://h/a.tif?x=1` |
/// | `file:///srv/x.tif` | `/srv/x.tif` |
/// | `dods://h/x.nc` | `NETCDF:"https://h/x.nc"` |
/// | `https://h/a.zip/b.tif` | `/vsizip//vsicurl/https://h/a.zip/b.tif` |
///
/// ```
/// use stac_meta::gdal_path;
/// assert_eq!(gdal_path("s3://bucket/k.tif"), "/vsis3/bucket/k.tif");
/// assert_eq!(gdal_path("https://h/a.tif?x=1"), "/vsicurl/https://h/a.tif?x=1");
/// assert_eq!(gdal_path(&gdal_path("gs://b/k.tif")), "/vsigs/b/k.tif");
/// ```
pub fn gdal_path(href: &str) -> String {
    if is_vsi(href)
        || href.starts_with("NETCDF:")
        || href.starts_with("HDF5:")
        || href.starts_with("ZARR:")
    {
        return href.to_owned();
    }
    let Some(sch) = scheme(href) else {
        return href.to_owned();
    };
    let rest = &href[sch.len() + 3..];
    let base = match sch.as_str() {
        "s3" => format!("/vsis3/{rest}"),
        "gs" | "gcs" => format!("/vsigs/{rest}"),
        "az" => format!("/vsiaz/{rest}"),
        "abfs" | "abfss" => {
            // abfss://<filesystem>@<account>.dfs.core.windows.net/<path>
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let filesystem = authority.split('@').next().unwrap_or(authority);
            if path.is_empty() {
                format!("/vsiadls/{filesystem}")
            } else {
                format!("/vsiadls/{filesystem}/{path}")
            }
        }
        "http" | "https" => format!("/vsicurl/{href}"),
        "file" => {
            // file:///srv/x -> /srv/x ; file:///C:/x -> C:/x ; file://host/x -> /x (host
            // ignored). The authority is cut before percent-decoding, so what follows
            // it is always an absolute path and mapping it again changes nothing.
            let path = match rest.find('/') {
                Some(i) => &rest[i..],
                None => "/",
            };
            let path = percent_decode_str(path).decode_utf8_lossy();
            let bytes = path.as_bytes();
            if bytes.len() >= 3
                && bytes[0] == b'/'
                && bytes[2] == b':'
                && bytes[1].is_ascii_alphabetic()
            {
                return path[1..].to_owned();
            }
            return path.into_owned();
        }
        "dods" => return format!("NETCDF:\"https://{rest}\""),
        _ => return href.to_owned(),
    };
    chain_archive(&base)
}

/// Prefix `/vsizip/`, `/vsitar/` or `/vsigzip/` when the path goes *through* an
/// archive (`.../a.zip/b.tif`). Only one level is chained.
fn chain_archive(path: &str) -> String {
    let path_part = path.split('?').next().unwrap_or(path);
    let lower = path_part.to_ascii_lowercase();
    for (ext, vsi) in [
        (".zip/", "/vsizip/"),
        (".tar.gz/", "/vsitar/"),
        (".tgz/", "/vsitar/"),
        (".tar/", "/vsitar/"),
        (".gz/", "/vsigzip/"),
    ] {
        if lower.contains(ext) {
            return format!("{vsi}{path}");
        }
    }
    path.to_owned()
}

/// Resolve a relative href against the item's `self` link (or any base href).
///
/// Absolute hrefs (with a scheme, starting with `/`, or a Windows drive) are
/// returned unchanged, as is everything when `base` is `None`.
///
/// ```
/// use stac_meta::resolve_relative;
/// assert_eq!(resolve_relative("./B04.tif", Some("https://h/c/items/x.json")), "https://h/c/items/B04.tif");
/// assert_eq!(resolve_relative("../B04.tif", Some("/data/c/x.json")), "/data/B04.tif");
/// assert_eq!(resolve_relative("s3://b/k.tif", Some("/data/x.json")), "s3://b/k.tif");
/// ```
pub fn resolve_relative(href: &str, base: Option<&str>) -> String {
    let Some(base) = base else {
        return href.to_owned();
    };
    if is_absolute(href) {
        return href.to_owned();
    }
    let base = base.split(['?', '#']).next().unwrap_or(base);
    // Split off the scheme://authority so ".." cannot climb into it.
    let (root, base_path) = match scheme(base) {
        Some(s) => {
            let after = s.len() + 3;
            let path_start = base[after..].find('/').map_or(base.len(), |i| after + i);
            (&base[..path_start], &base[path_start..])
        }
        None => ("", base),
    };
    let dir = match base_path.rfind('/') {
        Some(i) => &base_path[..=i],
        None => "",
    };
    let joined = format!("{dir}{href}");
    let leading_slash = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = String::from(root);
    if leading_slash || !root.is_empty() {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    if href.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn is_absolute(href: &str) -> bool {
    let b = href.as_bytes();
    scheme(href).is_some()
        || href.starts_with('/')
        || href.starts_with('\\')
        || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic())
        || href.starts_with("NETCDF:")
}

/// Where GDAL would read an href from: the scheme of its [`gdal_path`],
/// looking through `/vsicurl/`, archive prefixes (`/vsizip/`, `/vsitar/`,
/// ...), `/vsisubfile/` and `NETCDF:"..."`-style subdataset names.
///
/// Kinds: the URL scheme for URLs (`https`, `http`, `ftp`, ...); `s3`, `gs`,
/// `az`, `abfs`, `oss`, `swift`, `hdfs`, `webhdfs` for cloud paths
/// (`gcs://` counts as `gs`, `abfss://` as `abfs`); `file` for local paths
/// (plain paths, `file://` URLs, relative hrefs); `vsi` for other GDAL
/// virtual paths (`/vsimem/`, `/vsistdin/`, `/vsicurl?...`, ...).
///
/// ```
/// use stac_meta::href_kind;
/// assert_eq!(href_kind("https://h/a.tif"), "https");
/// assert_eq!(href_kind("s3://b/k.tif"), "s3");
/// assert_eq!(href_kind("file:///etc/passwd"), "file");
/// assert_eq!(href_kind("../B04.tif"), "file");
/// assert_eq!(href_kind("/vsizip//vsicurl/https://h/a.zip/b.tif"), "https");
/// assert_eq!(href_kind("/vsimem/x.tif"), "vsi");
/// ```
pub fn href_kind(href: &str) -> String {
    path_kind(&gdal_path(href), 0)
}

/// GDAL's network file systems other than `/vsicurl/`: prefix and the
/// scheme-like kind [`href_kind`] reports. The one list: the href policy
/// (`policy.rs`) reads it too.
pub(crate) const CLOUD_VSI: &[(&str, &str)] = &[
    ("/vsis3/", "s3"),
    ("/vsis3_streaming/", "s3"),
    ("/vsigs/", "gs"),
    ("/vsigs_streaming/", "gs"),
    ("/vsiaz/", "az"),
    ("/vsiaz_streaming/", "az"),
    ("/vsiadls/", "abfs"),
    ("/vsioss/", "oss"),
    ("/vsioss_streaming/", "oss"),
    ("/vsiswift/", "swift"),
    ("/vsiswift_streaming/", "swift"),
    ("/vsihdfs/", "hdfs"),
    ("/vsiwebhdfs/", "webhdfs"),
];

fn path_kind(path: &str, depth: usize) -> String {
    const ARCHIVES: &[&str] = &["/vsizip/", "/vsitar/", "/vsigzip/", "/vsi7z/", "/vsirar/"];
    if depth > 8 {
        return "vsi".into();
    }
    if let Some((_, kind)) = CLOUD_VSI.iter().find(|(p, _)| path.starts_with(p)) {
        return (*kind).into();
    }
    for prefix in ["/vsicurl/", "/vsicurl_streaming/"] {
        if let Some(url) = path.strip_prefix(prefix) {
            return scheme(url).map_or_else(|| "vsi".into(), |s| normal_scheme(&s));
        }
    }
    let inner = |rest: &str| -> String {
        if rest.starts_with("/vsi") {
            path_kind(rest, depth + 1)
        } else {
            "file".into()
        }
    };
    if let Some(rest) = ARCHIVES.iter().find_map(|p| path.strip_prefix(p)) {
        return inner(rest.strip_prefix('{').unwrap_or(rest));
    }
    if let Some(rest) = path.strip_prefix("/vsisubfile/") {
        return rest
            .split_once(',')
            .map_or_else(|| "vsi".into(), |(_, f)| inner(f));
    }
    for prefix in ["NETCDF:", "HDF5:", "ZARR:"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let target = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or(quoted),
                None => rest,
            };
            return path_kind(target, depth + 1);
        }
    }
    if path.starts_with("/vsi") {
        return "vsi".into();
    }
    scheme(path).map_or_else(|| "file".into(), |s| normal_scheme(&s))
}

fn normal_scheme(s: &str) -> String {
    match s {
        "gcs" => "gs".into(),
        "abfss" => "abfs".into(),
        other => other.into(),
    }
}
