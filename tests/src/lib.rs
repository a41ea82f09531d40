//! Support for the workspace's end-to-end tests: where the shared fixtures
//! live, and how to run the built `stac-gdal` binary.

use std::path::{Path, PathBuf};

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The shared folder beside the repository (`../shared`), or `$STAC_GDAL_SHARED`.
///
/// Panics with a clear message when it is missing: the end-to-end tests need it.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("STAC_GDAL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"));
    assert!(
        dir.join("data").is_dir(),
        "shared fixtures not found at {} (set STAC_GDAL_SHARED)",
        dir.display()
    );
    dir
}

/// Every JSON fixture file under `shared/data/stac-items` (Items, arrays, FeatureCollections).
pub fn stac_item_fixtures() -> Vec<PathBuf> {
    let dir = shared_dir().join("data").join("stac-items");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "geojson")
            )
        })
        .filter(|p| !p.to_string_lossy().ends_with(".collection.json"))
        .collect();
    files.sort();
    files
}

/// Read and parse a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}
