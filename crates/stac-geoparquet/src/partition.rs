//! Hive-style partitioned output: `collection=…/year=…/part-0.parquet`.
//!
//! Every item is spilled once (as NDJSON, in a temporary folder next to the
//! destination, or in [`WriteOptions::with_temp_dir`]) and remembered by partition; at the end each partition is
//! written by a [`Writer`] of its own, one at a time (so the number of
//! partitions does not multiply memory or open files), and the whole
//! folder is renamed into place: a failed write leaves nothing at the
//! destination. Each file holds every field of its items (the partition
//! values are in the folder names *and* in the rows), so a file read alone
//! is complete; DuckDB (`hive_partitioning`), pyarrow datasets, GDAL and
//! this crate's search all read the folder.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;
use tempfile::{NamedTempFile, TempDir};

use crate::error::{GeoParquetError, Result};
use crate::layout;
use crate::options::WriteOptions;
use crate::writer::{Progress, ProgressFn, Writer};

/// The folder value of a null (or missing) partition key, as Hive writes it.
pub(crate) const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// Most partitions one write may create.
pub const MAX_PARTITIONS: usize = 100_000;

/// One level of a partitioned output.
///
/// ```
/// use stac_geoparquet::PartitionKey;
/// let keys: Vec<PartitionKey> = "collection,year".split(',').map(|k| k.parse().unwrap()).collect();
/// assert_eq!(keys, [PartitionKey::Collection, PartitionKey::Year]);
/// assert_eq!("platform".parse::<PartitionKey>().unwrap(), PartitionKey::Property("platform".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartitionKey {
    /// The item's `collection`.
    Collection,
    /// The year of `datetime` (or `start_datetime`).
    Year,
    /// The month (`01`..`12`) of `datetime` (or `start_datetime`).
    Month,
    /// A property's value (text as is, other scalars as JSON).
    Property(String),
}

impl std::fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PartitionKey {
    type Err = String;

    /// `collection`, `year`, `month`, or a property name.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        Ok(match s {
            "" => return Err("an empty partition key".into()),
            "collection" => Self::Collection,
            "year" => Self::Year,
            "month" => Self::Month,
            other => Self::Property(
                other
                    .strip_prefix("properties.")
                    .unwrap_or(other)
                    .to_owned(),
            ),
        })
    }
}

impl PartitionKey {
    /// The key's folder name (`year` in `year=2023`).
    pub fn name(&self) -> &str {
        match self {
            Self::Collection => "collection",
            Self::Year => "year",
            Self::Month => "month",
            Self::Property(p) => p,
        }
    }

    /// The item's value for this key, `None` when it has none.
    fn value(&self, item: &Value) -> Option<String> {
        let props = item.get("properties");
        let time = || {
            ["datetime", "start_datetime"]
                .iter()
                .find_map(|k| props?.get(k)?.as_str().and_then(stac_meta::parse_datetime))
        };
        match self {
            Self::Collection => item.get("collection")?.as_str().map(str::to_owned),
            Self::Year => time().map(|t| t.format("%Y").to_string()),
            Self::Month => time().map(|t| t.format("%m").to_string()),
            Self::Property(p) => match props?.get(p)? {
                Value::Null | Value::Array(_) | Value::Object(_) => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            },
        }
    }
}

/// A folder name `key=value`: bytes other than ASCII letters, digits and
/// `-_.` are `%XX`-escaped (so no value can name another folder).
fn segment(key: &str, value: Option<&str>) -> String {
    let esc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "{}={}",
        esc(key),
        value.map_or_else(|| NULL_VALUE.to_owned(), esc)
    )
}

/// A streaming writer of a hive-partitioned folder.
///
/// ```
/// use serde_json::json;
/// use stac_geoparquet::{PartitionKey, PartitionedWriter, WriteOptions};
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("catalog");
/// let mut w = PartitionedWriter::create(&out, vec![PartitionKey::Collection, PartitionKey::Year], WriteOptions::default())?;
/// for (i, (c, y)) in [("a", 2021), ("a", 2022), ("b", 2022)].into_iter().enumerate() {
///     w.push(json!({"type": "Feature", "id": format!("i{i}"), "collection": c, "geometry": null,
///                   "properties": {"datetime": format!("{y}-06-01T00:00:00Z")}}))?;
/// }
/// let files = w.finish()?;
/// assert_eq!(files.len(), 3);
/// assert!(out.join("collection=a/year=2022/part-0.parquet").is_file());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PartitionedWriter {
    dir: PathBuf,
    tmp: TempDir,
    keys: Vec<PartitionKey>,
    options: WriteOptions,
    spill: BufWriter<NamedTempFile>,
    pos: u64,
    /// Folder (relative) → (offset, length, input index) of its items.
    parts: BTreeMap<PathBuf, Vec<(u64, u32, u64)>>,
    pushed: u64,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for PartitionedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionedWriter")
            .field("dir", &self.dir)
            .field("keys", &self.keys)
            .field("pushed", &self.pushed)
            .field("partitions", &self.parts.len())
            .finish_non_exhaustive()
    }
}

impl PartitionedWriter {
    /// Start writing the folder `dir` (which must not exist, or be empty).
    pub fn create(
        dir: impl AsRef<Path>,
        keys: Vec<PartitionKey>,
        options: WriteOptions,
    ) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let invalid = |reason: &str| GeoParquetError::InvalidOptions {
            path: dir.clone(),
            reason: reason.to_owned(),
        };
        if keys.is_empty() {
            return Err(invalid("no partition key"));
        }
        if dir.is_file() || std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(invalid("the destination exists and is not an empty folder"));
        }
        let tmp = tempfile::Builder::new()
            .prefix(".stac-geoparquet-")
            .tempdir_in(crate::writer::temp_dir(&dir, &options))
            .map_err(|e| GeoParquetError::io(&dir, e))?;
        let spill = NamedTempFile::new_in(tmp.path()).map_err(|e| GeoParquetError::io(&dir, e))?;
        Ok(Self {
            dir,
            tmp,
            keys,
            options,
            spill: BufWriter::with_capacity(1 << 20, spill),
            pos: 0,
            parts: BTreeMap::new(),
            pushed: 0,
            progress: None,
        })
    }

    /// Call `f` as items are pushed, and as partitions are written.
    pub fn with_progress(mut self, f: impl FnMut(Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Add one item.
    pub fn push(&mut self, item: Value) -> Result<()> {
        let text =
            serde_json::to_string(&item).map_err(|e| GeoParquetError::io(&self.dir, e.into()))?;
        self.add(&item, &text)
    }

    /// Add one item given as JSON text (one NDJSON line).
    pub fn push_json(&mut self, text: &str) -> Result<()> {
        let text = text.trim_end();
        let item: Value = serde_json::from_str(text).map_err(|e| GeoParquetError::Json {
            path: self.dir.clone(),
            message: format!("item {}: {e}", self.pushed),
        })?;
        if text.contains('\n') {
            return Err(GeoParquetError::Json {
                path: self.dir.clone(),
                message: format!("item {}: JSON text spans several lines", self.pushed),
            });
        }
        self.add(&item, text)
    }

    fn add(&mut self, item: &Value, text: &str) -> Result<()> {
        layout::check_item(&self.dir, self.pushed, item)?;
        let mut rel = PathBuf::new();
        for k in &self.keys {
            rel.push(segment(k.name(), k.value(item).as_deref()));
        }
        if !self.parts.contains_key(&rel) && self.parts.len() >= MAX_PARTITIONS {
            return Err(GeoParquetError::InvalidOptions {
                path: self.dir.clone(),
                reason: format!(
                    "more than {MAX_PARTITIONS} partitions (item {})",
                    self.pushed
                ),
            });
        }
        let len = u32::try_from(text.len()).map_err(|_| GeoParquetError::Json {
            path: self.dir.clone(),
            message: format!("item {}: larger than 4 GiB", self.pushed),
        })?;
        self.spill
            .write_all(text.as_bytes())
            .and_then(|()| self.spill.write_all(b"\n"))
            .map_err(|e| GeoParquetError::io(&self.dir, e))?;
        self.parts
            .entry(rel)
            .or_default()
            .push((self.pos, len, self.pushed));
        self.pos += u64::from(len) + 1;
        self.pushed += 1;
        if self.pushed % 1000 == 0
            && let Some(p) = &mut self.progress
        {
            p(Progress::Pushed(self.pushed));
        }
        Ok(())
    }

    /// Write every partition and move the folder into place. Returns each
    /// file (relative to the folder) with its number of items.
    pub fn finish(mut self) -> Result<Vec<(PathBuf, u64)>> {
        if self.pushed == 0 {
            return Err(GeoParquetError::Empty { path: self.dir });
        }
        let file: File = self
            .spill
            .into_inner()
            .map_err(|e| GeoParquetError::io(&self.dir, e.into_error()))?
            .into_file();
        let mut out = Vec::with_capacity(self.parts.len());
        let mut text = Vec::new();
        let mut written = 0u64;
        for (rel, rows) in &self.parts {
            let folder = self.tmp.path().join(rel);
            std::fs::create_dir_all(&folder).map_err(|e| GeoParquetError::io(&folder, e))?;
            let path = folder.join("part-0.parquet");
            let mut w = Writer::create(&path, self.options.clone())?.with_hold(64);
            for (offset, len, index) in rows {
                text.resize(*len as usize, 0);
                crate::writer::read_at(&file, &mut text, *offset)
                    .map_err(|e| GeoParquetError::io(&self.dir, e))?;
                let line = std::str::from_utf8(&text)
                    .map_err(|e| GeoParquetError::io(&self.dir, std::io::Error::other(e)))?;
                w.push_json(line).map_err(|e| global_index(e, *index))?;
            }
            let n = w.finish().map_err(|e| {
                // Errors found while encoding number the item within the partition.
                let local = match &e {
                    GeoParquetError::InvalidItem { index, .. }
                    | GeoParquetError::ReservedColumn { index, .. } => usize::try_from(*index).ok(),
                    _ => None,
                };
                match local.and_then(|i| rows.get(i)) {
                    Some((_, _, global)) => global_index(e, *global),
                    None => e,
                }
            })?;
            out.push((rel.join("part-0.parquet"), n));
            written += n;
            if let Some(p) = &mut self.progress {
                p(Progress::Written {
                    done: written,
                    total: self.pushed,
                });
            }
        }
        drop(file);
        // The spill file is gone with its handle (NamedTempFile removed it).
        // Until the rename, `self.tmp` is a drop guard: an error removes it.
        if self.dir.is_dir() {
            std::fs::remove_dir(&self.dir).map_err(|e| GeoParquetError::io(&self.dir, e))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(self.tmp.path(), std::fs::Permissions::from_mode(0o755));
        }
        let tmp = self.tmp.keep();
        if let Err(e) = std::fs::rename(&tmp, &self.dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(GeoParquetError::io(&self.dir, e));
        }
        Ok(out)
    }
}

/// An item error renumbered to the item's position in the whole input.
fn global_index(e: GeoParquetError, index: u64) -> GeoParquetError {
    match e {
        GeoParquetError::InvalidItem {
            path, id, reason, ..
        } => GeoParquetError::InvalidItem {
            path,
            index,
            id,
            reason,
        },
        GeoParquetError::ReservedColumn { path, id, key, .. } => GeoParquetError::ReservedColumn {
            path,
            index,
            id,
            key,
        },
        other => other,
    }
}

/// Write `items` as a hive-partitioned folder (see [`PartitionedWriter`]).
pub fn write_partitioned(
    items: &[Value],
    dir: impl AsRef<Path>,
    keys: &[PartitionKey],
    options: &WriteOptions,
) -> Result<Vec<(PathBuf, u64)>> {
    let mut w = PartitionedWriter::create(dir, keys.to_vec(), options.clone())?;
    for item in items {
        w.push(item.clone())?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn folder_names_cannot_escape() {
        assert_eq!(segment("collection", Some("../etc")), "collection=..%2Fetc");
        assert_eq!(segment("collection", Some("a b")), "collection=a%20b");
        assert_eq!(segment("year", None), "year=__HIVE_DEFAULT_PARTITION__");
        let item = json!({"collection": "c", "properties": {"datetime": "2023-07-01T00:00:00Z", "n": 3, "x": null}});
        assert_eq!(PartitionKey::Month.value(&item).as_deref(), Some("07"));
        assert_eq!(
            PartitionKey::Property("n".into()).value(&item).as_deref(),
            Some("3")
        );
        assert_eq!(PartitionKey::Property("x".into()).value(&item), None);
    }
}
