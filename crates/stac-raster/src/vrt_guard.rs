//! VRTs held to the href policy: before GDAL opens a VRT it did not build,
//! its bytes are read once (bounded), every source it names
//! (`SourceFilename`, `SourceDataset`, anywhere in the document) is judged
//! by [`HrefPolicy::check_vrt_source`], relative names are made absolute,
//! and GDAL opens *those checked bytes* (so a server cannot serve one
//! document to the check and another to GDAL).

use std::ffi::{CStr, CString};

use stac_meta::HrefPolicy;

use crate::error::{RasterError, Result};

/// The most bytes of a VRT document read.
const MAX_VRT_BYTES: usize = 32 << 20;

/// The first bytes of a file, or all of it up to `limit` (GDAL's VSI, under
/// whatever env is installed).
pub(crate) fn read_head(path: &str, limit: usize) -> Option<Vec<u8>> {
    let c = CString::new(path).ok()?;
    // SAFETY: valid C strings; the handle is closed below.
    let fp = unsafe { gdal_sys::VSIFOpenL(c.as_ptr(), c"rb".as_ptr()) };
    if fp.is_null() {
        return None;
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    while out.len() < limit {
        let want = buf.len().min(limit - out.len());
        // SAFETY: `buf` has `want` writable bytes; `fp` is open.
        let n = unsafe { gdal_sys::VSIFReadL(buf.as_mut_ptr().cast(), 1, want, fp) };
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    // SAFETY: `fp` was opened above.
    unsafe { gdal_sys::VSIFCloseL(fp) };
    Some(out)
}

/// Whether the bytes are a VRT document (GDAL's VRT driver identifies a
/// file by `<VRTDataset` near its start).
pub(crate) fn is_vrt_document(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
    text.contains("<VRTDataset")
}

/// Read the VRT at `path` (whole, bounded), check its sources against
/// `policy`, and return the document with every relative source made
/// absolute. The caller opens the returned text.
pub(crate) fn checked_vrt(path: &str, policy: &HrefPolicy) -> Result<String> {
    let bytes = read_head(path, MAX_VRT_BYTES + 1).ok_or_else(|| RasterError::Gdal {
        operation: "read VRT",
        path: stac_meta::redact(path).into_owned(),
        message: "cannot read the file".into(),
    })?;
    if bytes.len() > MAX_VRT_BYTES {
        return Err(RasterError::InvalidArgument(format!(
            "the VRT '{}' is larger than {MAX_VRT_BYTES} bytes",
            stac_meta::redact(path)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        RasterError::InvalidArgument(format!(
            "the VRT '{}' is not UTF-8 text",
            stac_meta::redact(path)
        ))
    })?;
    check_vrt_text(&text, path, policy)
}

/// [`checked_vrt`] on a document already in memory; `vrt_path` is where it
/// came from (relative sources are resolved against its directory).
pub(crate) fn check_vrt_text(text: &str, vrt_path: &str, policy: &HrefPolicy) -> Result<String> {
    let c = CString::new(text)
        .map_err(|_| RasterError::InvalidArgument("the VRT document holds a NUL byte".into()))?;
    // SAFETY: valid C string; the tree is destroyed below.
    let root = unsafe { gdal_sys::CPLParseXMLString(c.as_ptr()) };
    if root.is_null() {
        return Err(RasterError::InvalidArgument(format!(
            "the VRT '{}' is not XML",
            stac_meta::redact(vrt_path)
        )));
    }
    let dir = match vrt_path.rfind('/') {
        Some(i) => &vrt_path[..=i],
        None => "",
    };
    let mut result = Ok(());
    // SAFETY: `root` is a valid tree owned here.
    unsafe { walk(root, dir, vrt_path, policy, &mut result) };
    let out = result.map(|()| {
        // SAFETY: valid tree; GDAL allocates the text, freed after copying.
        unsafe {
            let s = gdal_sys::CPLSerializeXMLTree(root);
            let text = CStr::from_ptr(s).to_string_lossy().into_owned();
            gdal_sys::VSIFree(s.cast());
            text
        }
    });
    // SAFETY: destroys the tree parsed above.
    unsafe { gdal_sys::CPLDestroyXMLNode(root) };
    out
}

/// Visit every element; for each `SourceFilename` / `SourceDataset` child,
/// judge and rewrite its value.
unsafe fn walk(
    node: *mut gdal_sys::CPLXMLNode,
    dir: &str,
    vrt_path: &str,
    policy: &HrefPolicy,
    result: &mut Result<()>,
) {
    let mut cur = node;
    while !cur.is_null() && result.is_ok() {
        // SAFETY: `cur` is a valid node of the tree.
        let n = unsafe { &*cur };
        if n.eType == gdal_sys::CPLXMLNodeType::CXT_Element {
            let mut child = n.psChild;
            while !child.is_null() && result.is_ok() {
                // SAFETY: valid child node.
                let c = unsafe { &*child };
                let name = unsafe { CStr::from_ptr(c.pszValue) }.to_bytes();
                if c.eType == gdal_sys::CPLXMLNodeType::CXT_Element
                    && (name == b"SourceFilename" || name == b"SourceDataset")
                {
                    // SAFETY: `cur` is the parent element of `child`.
                    *result = unsafe { judge(cur, child, name, dir, vrt_path, policy) };
                }
                child = c.psNext;
            }
            // SAFETY: recurse into children.
            unsafe { walk(n.psChild, dir, vrt_path, policy, result) };
        }
        cur = n.psNext;
    }
}

unsafe fn judge(
    parent: *mut gdal_sys::CPLXMLNode,
    element: *mut gdal_sys::CPLXMLNode,
    name: &[u8],
    dir: &str,
    vrt_path: &str,
    policy: &HrefPolicy,
) -> Result<()> {
    let get = |path: &CStr| -> String {
        // SAFETY: valid node and path; GDAL returns its own string or the default.
        let p = unsafe { gdal_sys::CPLGetXMLValue(element, path.as_ptr(), c"".as_ptr()) };
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    };
    let value = get(c"");
    let relative = get(c"relativeToVRT") == "1";
    let absolute = value.starts_with('/') || value.starts_with('\\') || value.contains("://");
    let resolved = if relative && !absolute {
        format!("{dir}{value}")
    } else {
        value.clone()
    };
    // The resolved name is judged as a source of this VRT; a relative raw
    // name also against the always-refused classes (what GDAL would do
    // with it if it did not resolve it).
    policy
        .check_vrt_source(&resolved, vrt_path)
        .map_err(RasterError::from)?;
    if resolved != value {
        HrefPolicy::for_local_items()
            .check_vrt_source(&value, "")
            .map_err(RasterError::from)?;
    }
    if resolved != value {
        let elem = String::from_utf8_lossy(name).into_owned();
        let (Ok(path), Ok(attr), Ok(v)) = (
            CString::new(elem.clone()),
            CString::new(format!("{elem}.#relativeToVRT")),
            CString::new(resolved),
        ) else {
            return Err(RasterError::InvalidArgument(
                "a VRT source name holds a NUL byte".into(),
            ));
        };
        // SAFETY: valid parent and C strings; GDAL copies them.
        unsafe {
            gdal_sys::CPLSetXMLValue(parent, path.as_ptr(), v.as_ptr());
            gdal_sys::CPLSetXMLValue(parent, attr.as_ptr(), c"0".as_ptr());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<VRTDataset rasterXSize="1" rasterYSize="1">
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">a.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
    <ComplexSource><SourceFilename relativeToVRT="0">SRC</SourceFilename><SourceBand>1</SourceBand></ComplexSource>
  </VRTRasterBand>
</VRTDataset>"#;

    #[test]
    fn sources_are_judged_and_made_absolute() {
        let policy = HrefPolicy::default().with_allow_remote_vrt(true);
        let ok = check_vrt_text(
            &DOC.replace("SRC", "https://h/b.tif"),
            "/vsicurl/https://h/d/m.vrt",
            &policy,
        )
        .unwrap();
        assert!(ok.contains("/vsicurl/https://h/d/a.tif"), "{ok}");
        assert!(!ok.contains(r#"relativeToVRT="1""#), "{ok}");
        for bad in [
            "/etc/secret.tif",
            "PG:host=127.0.0.1",
            "/vsistdin/",
            "https://h/n.vrt",
        ] {
            let e = check_vrt_text(
                &DOC.replace("SRC", bad),
                "/vsicurl/https://h/d/m.vrt",
                &policy,
            )
            .unwrap_err();
            assert!(e.to_string().contains("vrt-source"), "{bad}: {e}");
        }
        // From a local VRT, local sources are fine; connection strings never.
        assert!(check_vrt_text(&DOC.replace("SRC", "/data/b.tif"), "/data/m.vrt", &policy).is_ok());
        assert!(check_vrt_text(&DOC.replace("SRC", "PG:x"), "/data/m.vrt", &policy).is_err());
    }
}
