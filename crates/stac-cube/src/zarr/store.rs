//! [`Store`]: where a Zarr store's objects go (a key is a `/`-separated
//! path inside the store), and [`LocalStore`], a folder.
//!
//! Every `put` is atomic: a reader (or a rerun) sees the whole object or
//! none of it. Locally the bytes go to a temporary name in the object's
//! folder and are renamed; on S3 a PUT is atomic by itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{CubeError, Result};

/// A key-value store of Zarr objects.
pub trait Store: Send + Sync {
    /// Write `bytes` under `key`, atomically, replacing what was there.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// The bytes under `key`, `None` when there is no such object.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Remove `key` (nothing when absent).
    fn delete(&self, key: &str) -> Result<()>;
    /// Keys that start with `prefix` (every key for `""`).
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// How the store is named in messages (a path, a redacted URL).
    fn describe(&self) -> String;
}

/// A store in a local folder (created when missing; its parent folder
/// must exist).
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temporary names start with this; listing skips them.
const TEMP_PREFIX: &str = ".stac-gdal-tmp-";

impl LocalStore {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        // Keys are ours, but check: no absolute part, no `..`.
        if key.is_empty()
            || key
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(self.err(key, "not a store key"));
        }
        Ok(self.root.join(key))
    }

    /// Create the root (its parent must exist) and the folders of `key`
    /// below it, one level at a time: never a parent of the root, so a
    /// store whose folder was removed under it (a staging folder cleaned
    /// on Ctrl-C) is not recreated by a late write. A folder inside the
    /// store must be a real folder: a symbolic link planted there (which
    /// would send chunks outside the store) is refused.
    fn make_dirs(&self, key: &str) -> std::io::Result<()> {
        let mut dir = self.root.clone();
        let parts: Vec<&str> = key.split('/').collect();
        for p in std::iter::once(None).chain(parts[..parts.len() - 1].iter().map(Some)) {
            let inside = p.is_some();
            if let Some(p) = p {
                dir.push(p);
            }
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // The root may be reached through a link the user chose.
                    let real_dir = if inside {
                        std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir())
                    } else {
                        dir.is_dir()
                    };
                    if !real_dir {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::AlreadyExists,
                            format!(
                                "{} is not a folder of the store (a file or a link)",
                                dir.display()
                            ),
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn err(&self, key: &str, message: impl std::fmt::Display) -> CubeError {
        CubeError::Store {
            store: self.describe(),
            key: key.to_owned(),
            message: message.to_string(),
        }
    }
}

impl Store for LocalStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        self.make_dirs(key).map_err(|e| self.err(key, e))?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_data()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.err(key, e)
        })
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(key)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.err(&rel, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.err(&rel, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(TEMP_PREFIX) {
                    continue;
                }
                let key = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                // Links are not followed (a store holds files and folders).
                let ft = entry.file_type().map_err(|e| self.err(&key, e))?;
                if ft.is_dir() {
                    stack.push((entry.path(), key));
                } else if ft.is_file() && key.starts_with(prefix) {
                    out.push(key);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link planted where the store keeps a band's chunks is refused:
    /// nothing is written through it.
    #[cfg(unix)]
    #[test]
    fn a_planted_link_inside_the_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let root = dir.path().join("a.zarr");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("B04")).unwrap();
        let store = LocalStore::new(&root);
        let err = store.put("B04/0.0.0", b"chunk").unwrap_err();
        assert!(
            err.to_string().contains("not a folder of the store"),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        // A real folder works; the root itself may be reached through a link.
        std::fs::remove_file(root.join("B04")).unwrap();
        let via_link = dir.path().join("link.zarr");
        std::os::unix::fs::symlink(&root, &via_link).unwrap();
        LocalStore::new(&via_link)
            .put("B04/0.0.0", b"chunk")
            .unwrap();
        assert_eq!(std::fs::read(root.join("B04/0.0.0")).unwrap(), b"chunk");
    }

    #[test]
    fn puts_are_whole_objects_and_listing_skips_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::new(dir.path().join("a.zarr"));
        s.put("B04/0.0.0", b"abc").unwrap();
        s.put(".zgroup", b"{}").unwrap();
        std::fs::write(dir.path().join("a.zarr/B04/.stac-gdal-tmp-1-1"), b"x").unwrap();
        assert_eq!(s.list("").unwrap(), [".zgroup", "B04/0.0.0"]);
        assert_eq!(s.list("B04/").unwrap(), ["B04/0.0.0"]);
        assert_eq!(s.get("B04/0.0.0").unwrap().unwrap(), b"abc");
        assert_eq!(s.get("B04/1.0.0").unwrap(), None);
        s.put("B04/0.0.0", b"de").unwrap();
        assert_eq!(s.get("B04/0.0.0").unwrap().unwrap(), b"de");
        s.delete("B04/0.0.0").unwrap();
        s.delete("B04/0.0.0").unwrap();
        assert_eq!(s.get("B04/0.0.0").unwrap(), None);
        for bad in ["", "../x", "a//b", "/abs", "a/./b"] {
            assert!(s.put(bad, b"").is_err(), "{bad}");
        }
        // A store whose parent is gone is not recreated by a late write.
        let gone = LocalStore::new(dir.path().join("staging/new"));
        assert!(gone.put("B04/0.0.0", b"x").is_err());
        assert!(!dir.path().join("staging").exists());
    }
}
