//! Hostile hrefs in `load_asset` (docs/reliability.md): a scheme the
//! caller did not allow, or a NUL byte, is a typed error before any I/O.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use ndarray::Array2;
use serde_json::json;
use stac_meta::{HrefPolicy, MetaError};
use stac_raster::{Dataset, GridSpec, LoadOptions, RasterError, load_asset};

fn refused(e: &RasterError) -> bool {
    matches!(e, RasterError::Refused { at, .. } if at.item == "x" && at.asset.as_deref() == Some("a"))
        || matches!(e, RasterError::Meta(m) if matches!(**m, MetaError::HrefNotAllowed { .. }))
}

#[test]
fn a_local_file_where_only_remote_hrefs_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tif");
    Dataset::create_from_array(
        &Array2::<u8>::from_elem((2, 2), 1),
        &GridSpec::north_up([0.0, 2.0], 1.0, 4326),
        None,
    )
    .unwrap()
    .to_file(&path)
    .unwrap();
    let url = format!("file://{}", path.display());
    for href in [path.to_str().unwrap(), url.as_str()] {
        let item = json!({"id": "x", "assets": {"a": {"href": href, "type": "image/tiff"}}});
        // Allowed by default ...
        assert!(load_asset(&item, Some("a"), &LoadOptions::default()).is_ok());
        // ... refused under a remote-only policy, with a typed error.
        let options = LoadOptions::default().with_href_policy(HrefPolicy::remote_only());
        let e = load_asset(&item, Some("a"), &options).unwrap_err();
        assert!(refused(&e), "{href}: {e}");
        let options = LoadOptions::default().with_href_policy(HrefPolicy::allow(["file"]));
        assert!(load_asset(&item, Some("a"), &options).is_ok());
    }
    // A relative href resolved against a file:// self link is judged resolved.
    let item = json!({"id": "x",
        "links": [{"rel": "self", "href": format!("file://{}/item.json", dir.path().display())}],
        "assets": {"a": {"href": "../../../../../../../../etc/passwd.tif"}}});
    let options = LoadOptions::default().with_href_policy(HrefPolicy::remote_only());
    assert!(refused(
        &load_asset(&item, Some("a"), &options).unwrap_err()
    ));
}

#[test]
fn an_href_with_a_nul_byte() {
    let item = json!({"id": "x", "assets": {"a": {"href": "/data/a\u{0}.tif"}}});
    let e = load_asset(&item, Some("a"), &LoadOptions::default()).unwrap_err();
    assert!(refused(&e), "{e}");
    assert!(!e.to_string().contains('\0'));
}
