//! The staging directory of a download: where every byte is written before
//! it is complete and verified.
//!
//! One per destination (default `<dest>/.stac-gdal-staging/`, mode 0700,
//! opened without following a link), locked by the running download
//! (`flock`, released even on `SIGKILL`), so two runs into one destination
//! never share it. It holds, under random names nobody can guess:
//!
//! - `<random>.part`: an asset's bytes so far;
//! - `<random>.meta`: what that part is (a key naming the URL and the
//!   target, and the `ETag`/`Last-Modified` the server first sent), written
//!   before the first body byte, so a part left by a killed run can be
//!   resumed with `Range` + `If-Range` (and is restarted when the file
//!   changed on the server);
//! - `<random>.tmp`: item JSON and manifest being written.
//!
//! A run resumes the parts of earlier runs that are for the same URL and
//! target, and removes every other entry when it succeeds; the whole
//! directory is removed then. After a failure the parts stay, to be resumed.
//! An interrupted CLI run (`SIGINT`/`SIGTERM`) removes the directory
//! itself; only `SIGKILL` debris waits for the next run.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::dest::{Dir, Kind, random_name};
use crate::error::{ClientError, Result};

/// The name of the default staging directory inside a destination.
pub const STAGING_DIR_NAME: &str = ".stac-gdal-staging";

/// The staging directory a download into `dest` uses by default (so a
/// caller can remove it when interrupted).
///
/// ```
/// let p = stac_client::staging_dir(std::path::Path::new("out"));
/// assert_eq!(p, std::path::Path::new("out/.stac-gdal-staging"));
/// ```
pub fn staging_dir(dest: &Path) -> PathBuf {
    dest.join(STAGING_DIR_NAME)
}

/// What a staged part is, as its `.meta` file records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// sha2-256 of the URL and the target path.
    pub key: String,
    /// A strong `ETag` the server sent first.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent first.
    pub last_modified: Option<String>,
}

impl Meta {
    fn to_json(&self) -> Value {
        json!({"key": self.key, "etag": self.etag, "last_modified": self.last_modified})
    }

    fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            key: s("key")?,
            etag: s("etag"),
            last_modified: s("last_modified"),
        })
    }

    /// The validator for `If-Range`: the strong ETag, else Last-Modified.
    pub(crate) fn validator(&self) -> Option<&str> {
        self.etag.as_deref().or(self.last_modified.as_deref())
    }
}

/// One staged asset: `<base>.part` and `<base>.meta`.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub base: String,
    pub meta: Meta,
}

impl Part {
    pub(crate) fn part_name(&self) -> String {
        format!("{}.part", self.base)
    }
    fn meta_name(&self) -> String {
        format!("{}.meta", self.base)
    }
}

/// The staging directory of one run, locked.
#[derive(Debug)]
pub(crate) struct Staging {
    pub dir: Dir,
    _lock: std::fs::File,
    /// Parts of earlier runs, by key, not yet claimed.
    found: Mutex<HashMap<String, Part>>,
    /// Whether the directory is the default one inside the destination
    /// (removed at the end) or the caller's own (emptied).
    inside: bool,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Staging {
    /// Open (creating) and lock the staging directory: `custom`, or
    /// [`STAGING_DIR_NAME`] inside `root`; collect the parts earlier runs
    /// left.
    pub(crate) fn open(root: &Dir, custom: Option<&Path>) -> Result<Self> {
        let (dir, inside) = match custom {
            Some(p) => (Dir::open_root(p).map_err(io_err(p))?, false),
            None => {
                let p = root.path().join(STAGING_DIR_NAME);
                (
                    root.subdir(STAGING_DIR_NAME, 0o700).map_err(io_err(&p))?,
                    true,
                )
            }
        };
        let lock_path = dir.path().join("lock");
        let lock = dir
            .try_lock("lock")
            .map_err(io_err(&lock_path))?
            .ok_or_else(|| ClientError::Io {
                path: dir.path().to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    "another download into this destination is running (its staging \
                     directory is locked)",
                ),
            })?;
        let mut found = HashMap::new();
        for name in dir.names().map_err(io_err(dir.path()))? {
            let Some(base) = name.strip_suffix(".meta") else {
                continue;
            };
            let meta = dir
                .open_read(&name)
                .ok()
                .and_then(|f| serde_json::from_reader::<_, Value>(std::io::BufReader::new(f)).ok())
                .and_then(|v| Meta::from_json(&v));
            let part_ok = matches!(dir.kind(&format!("{base}.part")), Ok(Some(Kind::File(_))));
            if let (Some(meta), true) = (meta, part_ok) {
                found.insert(
                    meta.key.clone(),
                    Part {
                        base: base.to_owned(),
                        meta,
                    },
                );
            }
        }
        Ok(Self {
            dir,
            _lock: lock,
            found: Mutex::new(found),
            inside,
        })
    }

    /// The part for `key`: one an earlier run left (to resume), else a new
    /// random name.
    pub(crate) fn claim(&self, key: &str, resume: bool) -> Part {
        let earlier = self
            .found
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        match earlier {
            Some(p) if resume => p,
            other => {
                if let Some(p) = other {
                    self.remove(&p);
                }
                Part {
                    base: random_name(""),
                    meta: Meta {
                        key: key.to_owned(),
                        ..Meta::default()
                    },
                }
            }
        }
    }

    /// Record `part`'s meta (atomically: a temp file renamed over it).
    pub(crate) fn write_meta(&self, part: &Part) -> Result<()> {
        let text = part.meta.to_json().to_string();
        self.write_file(&part.meta_name(), text.as_bytes())
    }

    /// Write `bytes` to `name` here, atomically (temp + rename).
    pub(crate) fn write_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = random_name(".tmp");
        let path = self.dir.path().join(&tmp);
        let result = (|| {
            let mut f = self.dir.create_new(&tmp, 0o600)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            self.dir.rename(&tmp, &self.dir, name, true)
        })();
        if result.is_err() {
            let _ = self.dir.remove_file(&tmp);
        }
        result.map_err(io_err(&path))
    }

    /// Remove a part and its meta.
    pub(crate) fn remove(&self, part: &Part) {
        let _ = self.dir.remove_file(&part.part_name());
        let _ = self.dir.remove_file(&part.meta_name());
    }

    /// The run failed: remove temp files; keep the parts (to resume) and,
    /// when there are none, remove the directory as [`finish`](Self::finish) does.
    pub(crate) fn release(self, root: &Dir) {
        let names = self.dir.names().unwrap_or_default();
        let mut parts = false;
        for n in &names {
            if n.ends_with(".tmp") {
                let _ = self.dir.remove_file(n);
            } else if n.ends_with(".part") {
                parts = true;
            }
        }
        if !parts {
            self.finish(root);
        }
    }

    /// The run succeeded: remove every entry (earlier runs' leftovers too)
    /// and, for the default directory, the directory itself.
    pub(crate) fn finish(self, root: &Dir) {
        if let Ok(names) = self.dir.names() {
            for n in names {
                if n != "lock" {
                    let _ = self.dir.remove_file(&n);
                }
            }
        }
        let _ = self.dir.remove_file("lock");
        if self.inside {
            drop(self._lock);
            let _ = root.remove_dir(STAGING_DIR_NAME);
        }
    }
}
