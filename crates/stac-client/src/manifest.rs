//! The download manifest: what a download wrote, in the destination as
//! [`MANIFEST_NAME`].
//!
//! ```json
//! {"type": "stac-gdal-download-manifest", "version": 1, "complete": true,
//!  "files": [{"path": "B04.tif", "item": "S2A_…", "asset": "B04",
//!             "size": 1234, "file:checksum": "1220…"},
//!            {"path": "S2A_….json", "item": "S2A_…", "asset": null, "size": 900,
//!             "file:checksum": "1220…"}]}
//! ```
//!
//! Paths are relative to the destination, with `/` between an item's
//! folder and the file. `file:checksum` is the sha2-256 multihash of the
//! bytes written (absent for a file kept as it was without being read).
//!
//! The manifest is written with `"complete": false` before the staged files
//! are moved into place, and again with `"complete": true` after. A run
//! interrupted while moving leaves an incomplete manifest that names its
//! files: a rerun treats a file whose size and checksum match its entry
//! there as its own (kept, whatever `Overwrite` says) instead of as a
//! stranger's file. The entries of a complete manifest are only a record:
//! existing files are judged by the overwrite policy.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The manifest's file name in the destination.
pub const MANIFEST_NAME: &str = "stac-gdal-manifest.json";

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub path: String,
    pub item: String,
    pub asset: Option<String>,
    pub size: u64,
    pub checksum: Option<String>,
}

/// The manifest: entries by path, and whether the run that wrote it
/// finished moving its files into place.
#[derive(Debug, Clone, Default)]
pub(crate) struct Manifest(pub BTreeMap<String, Entry>, pub bool);

impl Manifest {
    /// Parse a manifest; anything malformed is skipped.
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        let mut out = BTreeMap::new();
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            return Self(out, true);
        };
        let complete = v.get("complete").and_then(Value::as_bool).unwrap_or(true);
        for f in v
            .get("files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
            if let (Some(path), Some(size)) = (s("path"), f.get("size").and_then(Value::as_u64)) {
                out.insert(
                    path.clone(),
                    Entry {
                        path,
                        item: s("item").unwrap_or_default(),
                        asset: s("asset"),
                        size,
                        checksum: s("file:checksum"),
                    },
                );
            }
        }
        Self(out, complete)
    }

    /// The manifest as JSON text.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let files: Vec<Value> = self
            .0
            .values()
            .map(|e| {
                let mut v =
                    json!({"path": e.path, "item": e.item, "asset": e.asset, "size": e.size});
                if let Some(c) = &e.checksum {
                    v["file:checksum"] = c.clone().into();
                }
                v
            })
            .collect();
        let doc = json!({"type": "stac-gdal-download-manifest", "version": 1,
            "complete": self.1, "files": files});
        let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let mut m = Manifest(BTreeMap::new(), false);
        m.0.insert(
            "a/B04.tif".into(),
            Entry {
                path: "a/B04.tif".into(),
                item: "a".into(),
                asset: Some("B04".into()),
                size: 3,
                checksum: Some("1220ab".into()),
            },
        );
        let back = Manifest::parse(&m.to_bytes());
        assert_eq!(back.0, m.0);
        assert!(!back.1);
        assert!(Manifest::parse(b"{\"files\": 3}").0.is_empty());
        assert!(Manifest::parse(b"\xff").0.is_empty());
    }
}
