//! [`HrefPolicy`]: which hrefs may be opened, and why one is refused
//! ([`HrefRule`]). Pure: judges strings, opens nothing.
//!
//! Three layers, checked in this order:
//!
//! 1. **Always refused**, whatever the options: names GDAL would not treat
//!    as a file — NUL bytes, inline XML documents, `MEM:::` pointers — any
//!    `NAME:` prefix GDAL parses as a driver connection string (`PG:`,
//!    `MYSQL:`, `ODBC:`, `WMS:`, `WFS:`, `GTIFF_DIR:`, `GTIFF_RAW:`, ...;
//!    only the `NETCDF:`/`HDF5:`/`ZARR:` subdataset forms are kept, and the
//!    path inside them is judged), special files (`/vsistdin/`,
//!    `/vsistdout/`, `/vsimem/`, `/vsisubfile/`, `/vsicurl?` options,
//!    `/vsicached?`, `/vsicrypt/`, `/vsisparse/`, `/vsigzip/` over a local
//!    file, `/vsicurl/` over a URL that is not http(s), any `/vsi` prefix
//!    not listed here) and URL schemes GDAL has no reader for.
//! 2. **Provenance**: local paths (plain paths, `file://`, archives over a
//!    local file) are allowed for items the user gave as a local file
//!    ([`HrefPolicy::for_local_items`], the default) and refused for items
//!    from a STAC API ([`HrefPolicy::for_api_items`]) unless allowed
//!    ([`HrefPolicy::with_allow_local`]).
//! 3. **Formats**: a `.vrt` href is refused unless the VRT driver is allowed
//!    ([`HrefPolicy::with_allow_driver`]`("VRT")`), and a remote one unless
//!    [`HrefPolicy::with_allow_remote_vrt`]; opens are restricted to
//!    [`HrefPolicy::allowed_drivers`] (enforced where the file is opened, in
//!    stac-raster). Sources named inside a VRT are judged by
//!    [`HrefPolicy::check_vrt_source`]: the same rules, no local file from
//!    a remote VRT, no VRT inside a VRT.

use std::fmt;

use crate::href::{gdal_path, redact, scheme};

/// Which rule refused an href (see [`HrefPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HrefRule {
    /// Not a file name: a NUL byte, an inline XML document, a `MEM:::` pointer.
    NotAFile,
    /// A GDAL connection string (`PG:`, `WMS:`, `GTIFF_DIR:`, ... any `NAME:` prefix).
    ConnectionString,
    /// A GDAL special file (`/vsistdin/`, `/vsimem/`, `/vsisubfile/`, `/vsicurl?`, ...).
    SpecialFile,
    /// A URL scheme GDAL has no reader for, or one the policy does not allow.
    Scheme,
    /// A local path where only remote hrefs are allowed (items from a STAC API).
    LocalPath,
    /// A remote VRT, without [`HrefPolicy::with_allow_remote_vrt`].
    RemoteVrt,
    /// A format (GDAL driver) the policy does not allow.
    Driver,
    /// A source named inside a VRT that the policy refuses.
    VrtSource,
}

impl HrefRule {
    /// A short stable name (`connection-string`, `local-path`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAFile => "not-a-file",
            Self::ConnectionString => "connection-string",
            Self::SpecialFile => "special-file",
            Self::Scheme => "scheme",
            Self::LocalPath => "local-path",
            Self::RemoteVrt => "remote-vrt",
            Self::Driver => "driver",
            Self::VrtSource => "vrt-source",
        }
    }
}

impl fmt::Display for HrefRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The GDAL raster drivers every policy allows: GeoTIFF/COG, JPEG2000,
/// netCDF, GRIB, Zarr, HDF5, PNG and JPEG.
pub const DEFAULT_DRIVERS: &[&str] = &[
    "GTiff",
    "JP2OpenJPEG",
    "JP2KAK",
    "JP2ECW",
    "JP2MrSID",
    "JPEG2000",
    "netCDF",
    "GRIB",
    "Zarr",
    "HDF5",
    "HDF5Image",
    "PNG",
    "JPEG",
];

/// Which hrefs may be opened: the module docs give the rules.
///
/// The default ([`for_local_items`](Self::for_local_items)) is for items
/// the user gave as a local file: local paths are allowed. Items that came
/// from a STAC API use [`for_api_items`](Self::for_api_items): local paths
/// are refused unless [`with_allow_local`](Self::with_allow_local).
///
/// ```
/// use stac_meta::{HrefPolicy, HrefRule};
/// let p = HrefPolicy::default();
/// assert!(p.check("https://h/a.tif").is_ok());
/// assert!(p.check("/data/a.tif").is_ok());
/// assert_eq!(p.check("PG:host=127.0.0.1 port=5432").unwrap_err().rule(), Some(HrefRule::ConnectionString));
/// assert_eq!(p.check("/vsistdin/").unwrap_err().rule(), Some(HrefRule::SpecialFile));
/// assert_eq!(p.check("https://h/m.vrt").unwrap_err().rule(), Some(HrefRule::RemoteVrt));
/// let api = HrefPolicy::for_api_items();
/// assert_eq!(api.check("file:///etc/passwd").unwrap_err().rule(), Some(HrefRule::LocalPath));
/// assert!(api.clone().with_allow_local(true).check("/data/a.tif").is_ok());
/// assert!(HrefPolicy::remote_only().check("/data/a.tif").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrefPolicy {
    /// Allowed kinds (lower case); `None` = any supported kind.
    kinds: Option<Vec<String>>,
    /// Local paths allowed.
    local: bool,
    /// Remote VRTs allowed.
    remote_vrt: bool,
    /// Drivers allowed beyond [`DEFAULT_DRIVERS`].
    extra_drivers: Vec<String>,
}

impl Default for HrefPolicy {
    fn default() -> Self {
        Self::for_local_items()
    }
}

/// What an href is, once it passed the always-refused rules.
struct Class {
    kind: String,
    local: bool,
}

type Refusal = (HrefRule, String);

impl HrefPolicy {
    /// For items the user gave as a local file (the default): local paths
    /// and every supported remote kind are allowed.
    pub fn for_local_items() -> Self {
        Self {
            kinds: None,
            local: true,
            remote_vrt: false,
            extra_drivers: Vec::new(),
        }
    }

    /// For items that came from a STAC API (or any remote document): local
    /// paths and `file://` URLs are refused.
    pub fn for_api_items() -> Self {
        Self {
            local: false,
            ..Self::for_local_items()
        }
    }

    /// The default policy ([`for_local_items`](Self::for_local_items)).
    pub fn any() -> Self {
        Self::default()
    }

    /// Only hrefs of these kinds (see [`href_kind`](crate::href_kind);
    /// case-insensitive), e.g. `["https"]` or `["https", "s3", "file"]`.
    pub fn allow<I, S>(kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let kinds: Vec<String> = kinds
            .into_iter()
            .map(|k| normal_kind(&k.as_ref().to_ascii_lowercase()))
            .collect();
        Self {
            local: kinds.iter().any(|k| k == "file"),
            kinds: Some(kinds),
            ..Self::for_local_items()
        }
    }

    /// Remote hrefs only: `http`, `https`, `s3`, `gs`, `az`, `abfs`.
    pub fn remote_only() -> Self {
        Self::allow(["http", "https", "s3", "gs", "az", "abfs"])
    }

    /// Allow (or refuse) local paths.
    pub fn with_allow_local(mut self, allow: bool) -> Self {
        self.local = allow;
        if let Some(k) = &mut self.kinds
            && allow
            && !k.iter().any(|x| x == "file")
        {
            k.push("file".into());
        }
        self
    }

    /// Allow remote `.vrt` hrefs (their sources are still judged by
    /// [`check_vrt_source`](Self::check_vrt_source)).
    pub fn with_allow_remote_vrt(mut self, allow: bool) -> Self {
        self.remote_vrt = allow;
        self
    }

    /// Allow one more GDAL driver (short name, e.g. `VRT`, `AAIGrid`).
    /// Connection-string drivers stay refused: their names are not files.
    pub fn with_allow_driver(mut self, driver: impl Into<String>) -> Self {
        let d = driver.into();
        if !self
            .extra_drivers
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&d))
        {
            self.extra_drivers.push(d);
        }
        self
    }

    /// Whether local paths are allowed.
    pub fn allows_local(&self) -> bool {
        self.local
    }

    /// Whether remote VRTs are allowed.
    pub fn allows_remote_vrt(&self) -> bool {
        self.remote_vrt
    }

    /// The allowed kinds (`None`: every supported kind).
    pub fn kinds(&self) -> Option<&[String]> {
        self.kinds.as_deref()
    }

    /// The GDAL drivers an open of `href` may use: [`DEFAULT_DRIVERS`], the
    /// extra ones, and `VRT` for a remote href when remote VRTs are allowed.
    pub fn allowed_drivers(&self, href: &str) -> Vec<String> {
        let mut out: Vec<String> = DEFAULT_DRIVERS.iter().map(|d| (*d).to_owned()).collect();
        out.extend(self.extra_drivers.iter().cloned());
        let vrt = out.iter().any(|d| d.eq_ignore_ascii_case("VRT"));
        if !vrt && self.remote_vrt && crate::is_remote(href) {
            out.push("VRT".into());
        }
        out
    }

    fn allows_driver(&self, name: &str) -> bool {
        self.extra_drivers
            .iter()
            .any(|d| d.eq_ignore_ascii_case(name))
    }

    /// `Ok` when the href may be opened; else [`MetaError::HrefNotAllowed`]
    /// naming the (redacted) href, the [`HrefRule`] and why.
    ///
    /// [`MetaError::HrefNotAllowed`]: crate::MetaError::HrefNotAllowed
    pub fn check(&self, href: &str) -> crate::Result<()> {
        self.judge(href, None)
            .map_err(|(rule, reason)| refusal(href, rule, reason))
    }

    /// Judge a source named inside a VRT (`vrt` is the VRT's own href or
    /// path): the rules of [`check`](Self::check), and also no local file
    /// from a remote VRT and no VRT inside a VRT. Refusals carry
    /// [`HrefRule::VrtSource`].
    ///
    /// ```
    /// use stac_meta::HrefPolicy;
    /// let p = HrefPolicy::default().with_allow_remote_vrt(true);
    /// assert!(p.check_vrt_source("https://h/a.tif", "https://h/m.vrt").is_ok());
    /// assert!(p.check_vrt_source("/etc/secret.tif", "https://h/m.vrt").is_err());
    /// assert!(p.check_vrt_source("/data/a.tif", "/data/m.vrt").is_ok());
    /// assert!(p.check_vrt_source("https://h/n.vrt", "https://h/m.vrt").is_err());
    /// ```
    pub fn check_vrt_source(&self, source: &str, vrt: &str) -> crate::Result<()> {
        let remote_parent = crate::is_remote(&gdal_path(vrt));
        self.judge(source, Some(remote_parent))
            .map_err(|(rule, reason)| {
                refusal(
                    source,
                    HrefRule::VrtSource,
                    format!("a source of the VRT {}: {reason} ({rule})", redact(vrt)),
                )
            })
    }

    fn judge(&self, href: &str, inside_vrt: Option<bool>) -> Result<(), Refusal> {
        if href.contains('\0') || gdal_path(href).contains('\0') {
            return Err((HrefRule::NotAFile, "it contains a NUL byte".into()));
        }
        if let Some(what) = not_a_file(href) {
            return Err((HrefRule::NotAFile, format!("it is {what}, not a file")));
        }
        let path = gdal_path(href);
        let class = classify(&path, 0)?;
        let local_allowed = self.local && inside_vrt != Some(true);
        if class.local && !local_allowed {
            return Err((
                HrefRule::LocalPath,
                if inside_vrt == Some(true) {
                    "it is a local path named by a remote VRT".into()
                } else {
                    "it is a local path and the items did not come from a local file \
                     (allow local paths to read it)"
                        .into()
                },
            ));
        }
        if let Some(kinds) = &self.kinds
            && !kinds.contains(&class.kind)
        {
            return Err((
                HrefRule::Scheme,
                format!(
                    "it is a {} href and only {} are allowed",
                    class.kind,
                    kinds.join(", ")
                ),
            ));
        }
        if is_vrt_name(&path) {
            if inside_vrt.is_some() {
                return Err((HrefRule::VrtSource, "it is a VRT inside a VRT".into()));
            }
            if class.local {
                if !self.allows_driver("VRT") {
                    return Err((
                        HrefRule::Driver,
                        "it is a VRT, and VRTs are opened only when named explicitly \
                         (allow the VRT driver to read it)"
                            .into(),
                    ));
                }
            } else if !self.remote_vrt && !self.allows_driver("VRT") {
                return Err((
                    HrefRule::RemoteVrt,
                    "it is a remote VRT, which can name any other file (allow remote VRTs \
                     to read it)"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

fn refusal(href: &str, rule: HrefRule, reason: String) -> crate::MetaError {
    crate::MetaError::HrefNotAllowed {
        href: redact(href).replace('\0', "\\0"),
        rule,
        reason,
    }
}

/// Whether a GDAL path names a VRT file (by extension).
fn is_vrt_name(path: &str) -> bool {
    let p = path.split(['?', '#']).next().unwrap_or(path);
    // Bytes, not `str` slicing: the last four bytes may cut a character.
    let b = p.as_bytes();
    b.len() >= 4 && b[b.len() - 4..].eq_ignore_ascii_case(b".vrt")
}

/// What GDAL would make of an href that is not a file name: an inline
/// document (GDAL parses a name starting with `<`, or holding
/// `<VRTDataset` anywhere, as XML: a VRT that can read any other file) or a
/// `MEM:::DATAPOINTER=` raw memory pointer.
fn not_a_file(href: &str) -> Option<&'static str> {
    let start = href.trim_start();
    if start.starts_with('<') || href.contains("<VRTDataset") {
        Some("an inline GDAL document (XML)")
    } else if start
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("MEM:::"))
    {
        Some("a GDAL in-memory pointer (MEM:::)")
    } else {
        None
    }
}

pub(crate) fn normal_kind(s: &str) -> String {
    match s {
        "gcs" => "gs".into(),
        "abfss" => "abfs".into(),
        other => other.into(),
    }
}

/// The network file systems this policy reads as remote: the cloud ones
/// of `href::CLOUD_VSI` but HDFS. `/vsihdfs/` and `/vsiwebhdfs/` stay
/// refused below as special file systems items may not name.
fn network_kind(path: &str) -> Option<&'static str> {
    crate::href::CLOUD_VSI
        .iter()
        .filter(|(_, kind)| !matches!(*kind, "hdfs" | "webhdfs"))
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, kind)| *kind)
}
const ARCHIVES: &[&str] = &["/vsizip/", "/vsitar/", "/vsi7z/", "/vsirar/"];
const SUBDATASETS: &[&str] = &["NETCDF:", "HDF5:", "ZARR:"];

fn special(reason: impl Into<String>) -> Refusal {
    (HrefRule::SpecialFile, reason.into())
}

/// Classify the path inside an archive or `/vsigzip/` prefix. GDAL reads it
/// as a file name, never as a URL: `/vsi7z/https://h/x.7z` names a relative
/// local path, so a URL there is a local file (only a `/vsi…` prefix makes
/// it remote).
fn classify_inner(path: &str, depth: usize) -> Result<Class, Refusal> {
    // Not an absolute path or `/vsi` chain: a relative file name to GDAL
    // (a URL or a driver prefix there is just text in the name).
    if !path.starts_with('/') {
        return Ok(Class {
            kind: "file".into(),
            local: true,
        });
    }
    classify(path, depth)
}

/// Classify a GDAL path, refusing the always-refused classes.
fn classify(path: &str, depth: usize) -> Result<Class, Refusal> {
    if depth > 8 {
        return Err(special("it nests too many GDAL prefixes"));
    }
    // GDAL matches its prefixes case-sensitively: `/Vsis3/x` is a local
    // path to it. Only the exact spelling is remote; other spellings of a
    // `/vsi` prefix are refused below.
    if let Some(kind) = network_kind(path) {
        return Ok(Class {
            kind: kind.into(),
            local: false,
        });
    }
    for prefix in ["/vsicurl/", "/vsicurl_streaming/"] {
        if let Some(url) = path.strip_prefix(prefix) {
            return match scheme(url).as_deref() {
                Some(s @ ("http" | "https")) => Ok(Class {
                    kind: s.into(),
                    local: false,
                }),
                _ => Err(special(format!(
                    "{prefix} is used here over something that is not an http(s) URL"
                ))),
            };
        }
    }
    if let Some(rest) = ARCHIVES.iter().find_map(|p| path.strip_prefix(*p)) {
        let rest = rest
            .strip_prefix('{')
            .map_or(rest, |r| r.split('}').next().unwrap_or(r));
        return classify_inner(rest, depth + 1);
    }
    if let Some(inner) = path.strip_prefix("/vsigzip/") {
        let inner = classify_inner(inner, depth + 1)?;
        if inner.local {
            return Err(special("it is /vsigzip/ over a local file"));
        }
        return Ok(inner);
    }
    if starts_with_ci(path, "/vsi") {
        let end = path[1..].find(['/', '?']).map_or(path.len(), |i| i + 2);
        let shown = &path[..end.min(path.len())];
        return Err(special(format!(
            "it is the GDAL special file system {shown}, which items may not name"
        )));
    }
    for prefix in SUBDATASETS {
        if starts_with_ci(path, prefix) {
            let rest = &path[prefix.len()..];
            let target = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or(quoted),
                None => rest,
            };
            return classify(&gdal_path(target), depth + 1);
        }
    }
    if let Some(s) = scheme(path) {
        let kind = normal_kind(&s);
        return match kind.as_str() {
            "http" | "https" | "s3" | "gs" | "az" | "abfs" => Ok(Class { kind, local: false }),
            _ => Err((
                HrefRule::Scheme,
                format!("GDAL has no reader here for {s}:// URLs"),
            )),
        };
    }
    if connection_prefix(path).is_some() {
        let name = connection_prefix(path).unwrap_or_default();
        return Err((
            HrefRule::ConnectionString,
            format!(
                "it starts with {name}:, which GDAL parses as a driver connection string, \
                 not a file"
            ),
        ));
    }
    Ok(Class {
        kind: "file".into(),
        local: true,
    })
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `NAME` when `path` starts with `NAME:` (a letter, then letters, digits
/// or `_`; at least two characters, so `C:` drive letters are paths).
fn connection_prefix(path: &str) -> Option<&str> {
    let colon = path.find(':')?;
    let name = &path[..colon];
    let mut chars = name.chars();
    let first = chars.next()?;
    (name.len() >= 2
        && first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrt_names_ending_in_multibyte_characters_do_not_panic() {
        // Found by the `vrt` fuzz target: slicing the last four bytes cut a
        // three-byte character.
        assert!(!is_vrt_name("band]\u{e1e1}\u{e1e1}]>"));
        assert!(!is_vrt_name("x\u{e1e1}"));
        assert!(is_vrt_name("/data/m\u{e9}.VRT?x=1"));
    }

    #[test]
    fn only_the_exact_spelling_of_a_network_prefix_is_remote() {
        // Found by the `href` fuzz target: GDAL's prefixes are
        // case-sensitive, so `/Vsis3_streaming/x` is a local path.
        for href in [
            "/Vsis3_streaming/x",
            "/VSICURL/https://h/a.tif",
            "/VSIZIP//vsis3/b/x.zip",
        ] {
            assert!(HrefPolicy::remote_only().check(href).is_err(), "{href}");
        }
        assert!(
            HrefPolicy::remote_only()
                .check("/vsis3_streaming/b/x.tif")
                .is_ok()
        );
    }

    #[test]
    fn a_url_inside_an_archive_prefix_is_a_local_path() {
        // Found by the `href` fuzz target: GDAL reads what follows /vsi7z/
        // as a file name, so remote_only must not take it for a URL.
        for href in ["/vsi7z/https://h/x.7z", "/vsizip/https://h/x.zip/a.tif"] {
            assert!(HrefPolicy::remote_only().check(href).is_err(), "{href}");
        }
        assert!(
            HrefPolicy::remote_only()
                .check("/vsizip//vsicurl/https://h/x.zip/a.tif")
                .is_ok()
        );
    }
    use crate::MetaError;

    fn rule(p: &HrefPolicy, href: &str) -> Option<HrefRule> {
        match p.check(href) {
            Ok(()) => None,
            Err(MetaError::HrefNotAllowed { rule, .. }) => Some(rule),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn always_refused_classes() {
        let p = HrefPolicy::default()
            .with_allow_local(true)
            .with_allow_remote_vrt(true)
            .with_allow_driver("VRT");
        for (href, want) in [
            (
                "PG:host=127.0.0.1 port=5432 dbname=x",
                HrefRule::ConnectionString,
            ),
            ("pg:host=x", HrefRule::ConnectionString),
            ("MYSQL:db,host=x", HrefRule::ConnectionString),
            ("ODBC:dsn", HrefRule::ConnectionString),
            ("WMS:http://127.0.0.1:1/wms", HrefRule::ConnectionString),
            ("WFS:http://127.0.0.1:1/wfs", HrefRule::ConnectionString),
            ("GTIFF_DIR:1:/etc/passwd", HrefRule::ConnectionString),
            ("GTIFF_RAW:/data/a.tif", HrefRule::ConnectionString),
            ("EEDA:projects/x", HrefRule::ConnectionString),
            ("MEM:::DATAPOINTER=0x1", HrefRule::NotAFile),
            ("<VRTDataset/>", HrefRule::NotAFile),
            ("/vsistdin/", HrefRule::SpecialFile),
            ("/vsistdout/", HrefRule::SpecialFile),
            ("/vsimem/x.tif", HrefRule::SpecialFile),
            ("/VSIMEM/x.tif", HrefRule::SpecialFile),
            ("/vsisubfile/0_100,/etc/passwd", HrefRule::SpecialFile),
            ("/vsigzip//etc/x.gz", HrefRule::SpecialFile),
            ("/vsigzip//data/x.tif.gz", HrefRule::SpecialFile),
            (
                "/vsicurl?header_file=/etc/passwd&url=https://h/a.tif",
                HrefRule::SpecialFile,
            ),
            ("/vsicurl/file:///etc/passwd", HrefRule::SpecialFile),
            ("/vsicached?file=/etc/x", HrefRule::SpecialFile),
            ("/vsicrypt/key=x,file=/etc/x", HrefRule::SpecialFile),
            ("/vsizip//vsistdin/", HrefRule::SpecialFile),
            ("NETCDF:\"/vsistdin/\":x", HrefRule::SpecialFile),
            ("HDF5:\"PG:x\":y", HrefRule::ConnectionString),
            ("ftp://h/a.tif", HrefRule::Scheme),
            ("wms://h/x", HrefRule::Scheme),
            ("ldap://h/x", HrefRule::Scheme),
        ] {
            assert_eq!(rule(&p, href), Some(want), "{href}");
        }
    }

    #[test]
    fn provenance_and_formats() {
        let local = HrefPolicy::for_local_items();
        let api = HrefPolicy::for_api_items();
        for href in [
            "/data/a.tif",
            "file:///data/a.tif",
            "rel/a.tif",
            "C:/x/a.tif",
        ] {
            assert_eq!(rule(&local, href), None, "{href}");
            assert_eq!(rule(&api, href), Some(HrefRule::LocalPath), "{href}");
        }
        for href in ["/vsizip//data/a.zip/b.tif", "NETCDF:\"/data/x.nc\":t2m"] {
            assert_ne!(rule(&api, href), None, "{href}");
        }
        assert_eq!(rule(&api, "/vsigzip//vsicurl/https://h/x.gz"), None);
        for href in [
            "https://h/a.tif",
            "s3://b/k.tif",
            "/vsis3/b/k.tif",
            "/vsizip//vsicurl/https://h/a.zip/b.tif",
            "dods://h/x.nc",
            "NETCDF:\"https://h/x.nc\":t2m",
            "ZARR:\"/vsicurl/https://h/x.zarr\":/t",
        ] {
            assert_eq!(rule(&api, href), None, "{href}");
        }
        assert_eq!(rule(&local, "https://h/m.vrt"), Some(HrefRule::RemoteVrt));
        assert_eq!(
            rule(&local, "https://h/m.VRT?x=1"),
            Some(HrefRule::RemoteVrt)
        );
        assert_eq!(rule(&local, "/data/m.vrt"), Some(HrefRule::Driver));
        assert_eq!(
            rule(
                &local.clone().with_allow_remote_vrt(true),
                "https://h/m.vrt"
            ),
            None
        );
        assert_eq!(
            rule(&local.clone().with_allow_driver("VRT"), "/data/m.vrt"),
            None
        );
        assert!(
            local
                .clone()
                .with_allow_remote_vrt(true)
                .allowed_drivers("https://h/m.vrt")
                .contains(&"VRT".to_owned())
        );
        assert!(
            !local
                .allowed_drivers("https://h/a.tif")
                .contains(&"VRT".to_owned())
        );
    }

    #[test]
    fn vrt_sources() {
        let p = HrefPolicy::default().with_allow_remote_vrt(true);
        assert!(
            p.check_vrt_source("https://h/a.tif", "/vsicurl/https://h/m.vrt")
                .is_ok()
        );
        for (source, vrt) in [
            ("/etc/a.tif", "https://h/m.vrt"),
            ("PG:host=x", "/data/m.vrt"),
            ("/vsistdin/", "/data/m.vrt"),
            ("https://h/n.vrt", "https://h/m.vrt"),
        ] {
            match p.check_vrt_source(source, vrt) {
                Err(MetaError::HrefNotAllowed { rule, .. }) => {
                    assert_eq!(rule, HrefRule::VrtSource, "{source}")
                }
                other => panic!("{source}: {other:?}"),
            }
        }
    }
}
