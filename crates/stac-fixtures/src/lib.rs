//! Where the shared test fixtures live: the `shared` folder beside the
//! repository (`<repo>/../shared`), or `$STAC_GDAL_SHARED` when it is set.
//!
//! The one copy of that rule for every test, bench and `cargo xtask`
//! command (a dev-dependency of each crate; std only, so it adds no weight
//! and no dependency edge to a published crate). No absolute path: the
//! repository root is found from this crate's manifest directory.
//!
//! ```
//! let files = stac_fixtures::stac_item_files();
//! assert!(files.iter().all(|p| p.starts_with(stac_fixtures::stac_items_dir())));
//! assert!(stac_fixtures::shared_file("data/stac-items").is_dir());
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the shared folder is.
pub const SHARED_ENV: &str = "STAC_GDAL_SHARED";

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("stac-fixtures lives in <repo>/crates/stac-fixtures")
        .to_path_buf()
}

/// Where the shared folder should be: `$STAC_GDAL_SHARED`, else
/// `<repo>/../shared`. Not checked (for callers that cope with its absence,
/// such as `cargo xtask fuzz`); tests use [`shared_dir`].
pub fn locate_shared() -> PathBuf {
    std::env::var_os(SHARED_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"))
}

/// The shared folder.
///
/// Panics with where it looked, and how to point elsewhere, when it has no
/// `data/` folder: the tests that call this need it.
pub fn shared_dir() -> PathBuf {
    let dir = locate_shared();
    assert!(
        dir.join("data").is_dir(),
        "shared fixtures not found at {} (set {SHARED_ENV})",
        dir.display()
    );
    dir
}

/// A file or folder inside the shared folder, e.g.
/// `reference/pyramids-outputs/to_stac_item.json`.
pub fn shared_file(relative: impl AsRef<Path>) -> PathBuf {
    shared_dir().join(relative)
}

/// `shared/data/stac-items`: real STAC Items, arrays and FeatureCollections.
pub fn stac_items_dir() -> PathBuf {
    shared_dir().join("data").join("stac-items")
}

/// One file of [`stac_items_dir`], by name.
pub fn stac_item_file(name: &str) -> PathBuf {
    stac_items_dir().join(name)
}

/// Every JSON fixture file in [`stac_items_dir`] (`.json`, `.geojson`; not
/// the `.collection.json` Collections), sorted by name.
///
/// Panics when the folder cannot be listed.
pub fn stac_item_files() -> Vec<PathBuf> {
    let dir = stac_items_dir();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_workspace() {
        let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[workspace]"),
            "{}",
            repo_root().display()
        );
    }

    #[test]
    fn item_files_are_json_and_not_collections() {
        let files = stac_item_files();
        assert!(!files.is_empty());
        assert!(files.windows(2).all(|w| w[0] < w[1]));
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy();
            assert!(
                name.ends_with(".json") || name.ends_with(".geojson"),
                "{name}"
            );
            assert!(!name.ends_with(".collection.json"), "{name}");
        }
    }
}
