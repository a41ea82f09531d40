//! [`Store`]: where a Zarr store's objects go (a key is a `/`-separated
//! path inside the store), and [`LocalStore`], a folder.
//!
//! Every `put` is atomic: a reader (or a rerun) sees the whole object or
//! none of it. Locally the bytes go to a file in the process's own
//! temporary folder at the store's root (`.stac-gdal-tmp-<host>-<pid>`,
//! [`LocalStore::temp_dir`]) and are renamed into place; on S3 a PUT is
//! atomic by itself. That holds whatever ends the process (an error,
//! Ctrl-C, `SIGKILL`, the OOM killer). A put is not flushed to the disk
//! (`fsync`), as zarr-python's stores, GDAL and our other outputs do not:
//! a per-object `fdatasync` cost a disk flush for each of the ~100
//! objects of the end-to-end benchmark's store, one after the other on
//! the finalizing thread for the metadata, and still guaranteed nothing
//! against a power loss (neither the renames nor the folders were
//! synced). After a crash of the machine, rerunning the write verifies
//! every chunk against its unit's manifest (size and checksum), rewrites
//! the units that fail and writes the metadata again. A write [`begin`](Store::begin)s by removing the
//! temporary folders of this host's processes that are gone (a killed
//! `--part` run's) and creating its own, and [`end`](Store::end)s by
//! removing its own; the CLI registers that folder for Ctrl-C. Once begun,
//! a `put` never recreates the folder: a write whose folder was removed
//! under it (Ctrl-C) fails instead of leaving files behind. Other hosts'
//! folders (a store shared over NFS) are left alone and ignored.

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
    /// Before a write: clean what killed writers left, prepare temporary
    /// space (nothing by default).
    fn begin(&self) -> Result<()> {
        Ok(())
    }
    /// After a write (success or error): remove this process's temporary
    /// space (nothing by default).
    fn end(&self) {}
}

/// A store in a local folder (created when missing; its parent folder
/// must exist).
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    /// Whether [`Store::begin`] created the temporary folder (then a put
    /// never recreates it).
    began: std::sync::atomic::AtomicBool,
}

impl Clone for LocalStore {
    fn clone(&self) -> Self {
        Self::new(self.root.clone())
    }
}

/// This host's name as temp folder names carry it (`[A-Za-z0-9.-]`).
fn host() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h: String = h
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    if h.is_empty() { "host".into() } else { h }
}

/// Whether process `pid` of this host is gone (Linux: no `/proc/<pid>`;
/// elsewhere never known, so nothing is cleaned).
fn gone(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temporary names start with this; listing skips them.
const TEMP_PREFIX: &str = ".stac-gdal-tmp-";

impl LocalStore {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            began: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// This process's temporary folder in the store
    /// (`<root>/.stac-gdal-tmp-<host>-<pid>`), where puts stage their
    /// bytes; register it for Ctrl-C clean-up.
    pub fn temp_dir(&self) -> PathBuf {
        self.root
            .join(format!("{TEMP_PREFIX}{}-{}", host(), std::process::id()))
    }

    /// Remove the temporary folders (and loose temporary files of older
    /// versions) that this host's processes which are gone left at the
    /// root; returns how many.
    pub fn clean_stale(&self) -> Result<usize> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(self.err("", e)),
        };
        let me = format!("{TEMP_PREFIX}{}-", host());
        let mut n = 0;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(&me)
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() || !gone(pid) {
                continue;
            }
            let p = e.path();
            let r = match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
                Ok(_) => std::fs::remove_file(&p),
                Err(_) => continue,
            };
            match r {
                Ok(()) => n += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(self.err(&name, err)),
            }
        }
        Ok(n)
    }

    /// Create the temporary folder (a real folder, not a link).
    fn make_temp_dir(&self) -> std::io::Result<PathBuf> {
        let t = self.temp_dir();
        match std::fs::create_dir(&t) {
            Ok(()) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if std::fs::symlink_metadata(&t).is_ok_and(|m| m.is_dir()) {
                    Ok(t)
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!("{} is not a folder (a file or a link)", t.display()),
                    ))
                }
            }
            Err(e) => Err(e),
        }
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
        self.make_dirs(key).map_err(|e| self.err(key, e))?;
        let dir = if self.began.load(Ordering::Acquire) {
            let t = self.temp_dir();
            if !std::fs::symlink_metadata(&t).is_ok_and(|m| m.is_dir()) {
                return Err(self.err(
                    key,
                    "the store's temporary folder is gone (the write was interrupted)",
                ));
            }
            t
        } else {
            self.make_temp_dir().map_err(|e| self.err(key, e))?
        };
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(n.to_string());
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(bytes)?;
            drop(f);
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

    fn begin(&self) -> Result<()> {
        self.make_dirs("x").map_err(|e| self.err("", e))?;
        self.clean_stale()?;
        self.make_temp_dir().map_err(|e| self.err("", e))?;
        self.began.store(true, Ordering::Release);
        Ok(())
    }

    fn end(&self) {
        self.began.store(false, Ordering::Release);
        let _ = std::fs::remove_dir_all(self.temp_dir());
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

    /// What a killed writer left (its folder, a dead PID of this host) is
    /// removed when a write begins; a live process's folder stays; once
    /// begun, a put whose folder was removed fails and recreates nothing.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_cleans_what_killed_writers_left_and_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::new(dir.path().join("a.zarr"));
        s.put(".stac-gdal/plan.json", b"{}").unwrap();
        // A PID that is gone: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let root = dir.path().join("a.zarr");
        let stale = root.join(format!("{TEMP_PREFIX}{}-{dead}", host()));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("7"), b"half a chunk").unwrap();
        let parent = root.join(format!("{TEMP_PREFIX}{}-1", host()));
        std::fs::create_dir(&parent).unwrap();
        let other_host = root.join(format!("{TEMP_PREFIX}elsewhere-{dead}"));
        std::fs::create_dir(&other_host).unwrap();
        s.begin().unwrap();
        assert!(!stale.exists(), "a dead writer's folder was left");
        assert!(parent.exists(), "PID 1 is alive: its folder stays");
        assert!(other_host.exists(), "another host's folder stays");
        s.put("B04/0.0.0", b"x").unwrap();
        std::fs::remove_dir_all(s.temp_dir()).unwrap();
        let err = s.put("B04/0.0.1", b"y").unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert!(!s.temp_dir().exists() && !root.join("B04/0.0.1").exists());
        s.end();
        assert_eq!(s.list("").unwrap(), [".stac-gdal/plan.json", "B04/0.0.0"]);
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
        // Puts stage in this process's folder at the root, skipped too.
        assert!(s.temp_dir().is_dir());
        assert_eq!(std::fs::read_dir(s.temp_dir()).unwrap().count(), 0);
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
