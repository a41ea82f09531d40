//! What a search reads: a file, a list of files, a glob (`*`, `?`, `**`),
//! or a folder of Parquet files (searched recursively, hive partitions
//! `key=value/` read from the folder names).
//!
//! Folders are walked without following symbolic links to directories (a
//! link cycle or a link out of the tree is not searched), up to
//! [`MAX_DEPTH`] levels; names starting with `.` or `_` (temporary and
//! marker files such as `_SUCCESS`) are skipped, and only `*.parquet` /
//! `*.geoparquet` files are read from folders.

use std::path::{Path, PathBuf};

use crate::error::{GeoParquetError, Result};

/// Deepest folder level searched.
const MAX_DEPTH: usize = 32;

/// Where a search reads its items.
///
/// ```
/// use std::path::PathBuf;
/// use stac_geoparquet::search::Sources;
/// let one = Sources::from("catalog.parquet");
/// let many = Sources::from(vec![PathBuf::from("a.parquet"), PathBuf::from("b.parquet")]);
/// let glob = Sources::from("catalogs/**/*.parquet");
/// # let _ = (one, many, glob);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    entries: Vec<PathBuf>,
}

impl Sources {
    /// The paths as given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.entries
    }
}

impl From<&Path> for Sources {
    fn from(p: &Path) -> Self {
        Self {
            entries: vec![p.to_path_buf()],
        }
    }
}

impl From<PathBuf> for Sources {
    fn from(p: PathBuf) -> Self {
        Self { entries: vec![p] }
    }
}

impl From<&PathBuf> for Sources {
    fn from(p: &PathBuf) -> Self {
        Self {
            entries: vec![p.clone()],
        }
    }
}

impl From<&str> for Sources {
    fn from(p: &str) -> Self {
        Self {
            entries: vec![PathBuf::from(p)],
        }
    }
}

impl From<String> for Sources {
    fn from(p: String) -> Self {
        Self {
            entries: vec![PathBuf::from(p)],
        }
    }
}

impl From<Vec<PathBuf>> for Sources {
    fn from(entries: Vec<PathBuf>) -> Self {
        Self { entries }
    }
}

impl From<&[PathBuf]> for Sources {
    fn from(entries: &[PathBuf]) -> Self {
        Self {
            entries: entries.to_vec(),
        }
    }
}

/// One file to search, with the `key=value` pairs of its folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub partition: Vec<(String, String)>,
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Every file of the sources, in order (folders and globs sorted by path).
pub(crate) fn resolve(sources: &Sources) -> Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    for entry in &sources.entries {
        let text = entry.to_string_lossy();
        if has_glob(&text) && !entry.exists() {
            let before = out.len();
            glob(entry, &mut out)?;
            if out.len() == before {
                return Err(GeoParquetError::io(
                    entry,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no file matches the pattern",
                    ),
                ));
            }
            continue;
        }
        let meta = std::fs::metadata(entry).map_err(|e| GeoParquetError::io(entry, e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(entry, entry, 0, &mut out)?;
            if out.len() == before {
                return Err(GeoParquetError::io(
                    entry,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the folder holds no .parquet file",
                    ),
                ));
            }
        } else {
            out.push(SourceFile {
                path: entry.clone(),
                partition: Vec::new(),
            });
        }
    }
    Ok(out)
}

fn catalog_file(name: &str) -> bool {
    !name.starts_with(['.', '_']) && (name.ends_with(".parquet") || name.ends_with(".geoparquet"))
}

/// The `key=value` folder names between `root` and `path`.
fn partition_of(root: &Path, path: &Path) -> Vec<(String, String)> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let parts: Vec<_> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        let s = c.as_os_str().to_string_lossy();
        if let Some((k, v)) = s.split_once('=') {
            // A null partition value is not a field value.
            if !k.is_empty() && v != crate::partition::NULL_VALUE {
                out.push((percent_decode(k), percent_decode(v)));
            }
        }
    }
    out
}

/// `%XX` escapes decoded (hive folder names); invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn sorted_entries(dir: &Path) -> Result<Vec<(PathBuf, std::fs::FileType)>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| GeoParquetError::io(dir, e))? {
        let e = e.map_err(|e| GeoParquetError::io(dir, e))?;
        let t = e
            .file_type()
            .map_err(|err| GeoParquetError::io(e.path(), err))?;
        entries.push((e.path(), t));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<SourceFile>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for (path, t) in sorted_entries(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(['.', '_']) {
            continue;
        }
        if t.is_dir() {
            walk(root, &path, depth + 1, out)?;
        } else if catalog_file(&name) && (t.is_file() || path.is_file()) {
            out.push(SourceFile {
                partition: partition_of(root, &path),
                path,
            });
        }
    }
    Ok(())
}

/// Shell-style match of one name: `*` any run, `?` one character.
fn name_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some('?') => {
                i += 1;
                j += 1;
            }
            Some(c) if *c == n[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Files matching a glob; the partition values come from below the
/// pattern's fixed prefix.
fn glob(pattern: &Path, out: &mut Vec<SourceFile>) -> Result<()> {
    let parts: Vec<String> = pattern
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let fixed = parts.iter().take_while(|p| !has_glob(p)).count();
    let mut root = PathBuf::new();
    for p in &parts[..fixed] {
        root.push(p);
    }
    if root.as_os_str().is_empty() {
        root = PathBuf::from(".");
    }
    let rest = &parts[fixed..];
    let mut found = Vec::new();
    glob_in(&root, rest, 0, &mut found)?;
    found.sort();
    found.dedup();
    for path in found {
        out.push(SourceFile {
            partition: partition_of(&root, &path),
            path,
        });
    }
    Ok(())
}

fn glob_in(dir: &Path, rest: &[String], depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    let Some((first, tail)) = rest.split_first() else {
        return Ok(());
    };
    if depth > MAX_DEPTH || !dir.is_dir() {
        return Ok(());
    }
    if first == "**" {
        // Zero folders, or one more and `**` again.
        glob_in(dir, tail, depth, out)?;
        for (path, t) in sorted_entries(dir)? {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if t.is_dir() && !name.starts_with('.') {
                glob_in(&path, rest, depth + 1, out)?;
            }
        }
        return Ok(());
    }
    for (path, t) in sorted_entries(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name_matches(first, &name) || (name.starts_with('.') && !first.starts_with('.')) {
            continue;
        }
        if tail.is_empty() {
            if t.is_file() || (t.is_symlink() && path.is_file()) {
                out.push(path);
            }
        } else if t.is_dir() {
            glob_in(&path, tail, depth + 1, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn folders_globs_and_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("collection=a/year=2023/part-0.parquet"));
        touch(&d.join("collection=b%2Fc/year=2024/part-0.parquet"));
        touch(&d.join("collection=a/year=2023/.part-1.parquet.tmp"));
        touch(&d.join("collection=a/_SUCCESS"));
        touch(&d.join("notes.txt"));
        let files = resolve(&Sources::from(d)).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[1].partition,
            [
                ("collection".to_string(), "b/c".to_string()),
                ("year".to_string(), "2024".to_string())
            ]
        );
        let g = d.join("**").join("year=2023").join("*.parquet");
        let files = resolve(&Sources::from(g)).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].partition[0].1, "a");
        let none = d.join("*.nothing");
        assert!(resolve(&Sources::from(none)).is_err());
        assert!(resolve(&Sources::from(d.join("missing.parquet"))).is_err());
        #[cfg(unix)]
        {
            // A link back up the tree is not followed.
            std::os::unix::fs::symlink(d, d.join("collection=a/loop")).unwrap();
            assert_eq!(resolve(&Sources::from(d)).unwrap().len(), 2);
        }
    }

    #[test]
    fn names_match_like_a_shell() {
        assert!(name_matches("*.parquet", "a.parquet"));
        assert!(name_matches("part-?.parquet", "part-1.parquet"));
        assert!(!name_matches("*.parquet", "a.parquet.tmp"));
        assert_eq!(percent_decode("a%2Fb%zz"), "a/b%zz");
    }
}
