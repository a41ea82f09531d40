//! Where results go: standard output, or a file written atomically.
//!
//! Everything the CLI prints on stdout goes through [`print`] /
//! [`print_json`] (or a [`Destination`]), which return I/O errors instead of
//! panicking as `println!` does. A reader that closes the pipe early
//! (`stac-gdal meta … | head -c1`) gives a `BrokenPipe` error, which
//! `main` turns into a quiet exit with status 141 (128 + `SIGPIPE`, what a
//! shell reports for tools killed by it); [`is_broken_pipe`] recognises it
//! in any error chain.
//!
//! A file output ([`AtomicFile`]) is a temp file beside the target,
//! registered with [`crate::interrupt`] and renamed into place by
//! [`AtomicFile::commit`]: an error or Ctrl-C leaves nothing, and the target
//! is either its old self or complete. `-` names standard output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use serde::Serialize;

/// Whether `path` is `-` (standard input or output).
pub(crate) fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Set when a write to stdout failed with `EPIPE`: only then does a
/// `BrokenPipe` error mean "the reader went away" (a socket's `EPIPE`
/// deep in a network error is a real failure).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output, recording a closed pipe in [`STDOUT_CLOSED`].
pub(crate) struct Stdout(std::io::StdoutLock<'static>);

impl Stdout {
    /// The locked standard output.
    pub(crate) fn lock() -> Self {
        Self(std::io::stdout().lock())
    }
}

fn note_closed<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        STDOUT_CLOSED.store(true, Ordering::SeqCst);
    }
    r
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        note_closed(self.0.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        note_closed(self.0.flush())
    }
}

/// `text` and a newline on stdout, flushed.
pub(crate) fn print(text: impl std::fmt::Display) -> Result<()> {
    let mut out = Stdout::lock();
    writeln!(out, "{text}").context("writing to standard output")?;
    out.flush().context("writing to standard output")?;
    Ok(())
}

/// `value` as pretty JSON and a newline on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    print(serde_json::to_string_pretty(value)?)
}

/// Whether the error is stdout's reader going away: a write to stdout
/// failed with `EPIPE`, and the error chain holds a `BrokenPipe`.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
        && e.chain().any(|c| {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                return io.kind() == std::io::ErrorKind::BrokenPipe;
            }
            if let Some(j) = c.downcast_ref::<serde_json::Error>() {
                return j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe);
            }
            false
        })
}

/// A file written under a temp name beside `path` and renamed into place
/// on [`commit`](Self::commit); dropped uncommitted (an error), or on
/// `SIGINT`/`SIGTERM`, the temp file is removed.
pub(crate) struct AtomicFile {
    out: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    _staged: crate::interrupt::Staged,
}

impl AtomicFile {
    /// Start writing `path`; `flag` names the option in errors (`--output`).
    pub(crate) fn create(path: &Path, flag: &str) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if path.is_dir() {
            anyhow::bail!("{flag} {}: is a directory", path.display());
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".stac-gdal-").suffix(".tmp");
        // NamedTempFile's default is 0600; the output is an ordinary 0644 file.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let (tmp, staged) =
            crate::interrupt::create_registered(|| builder.tempfile_in(&dir), |t| t.path())
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{flag} {}: cannot create a file in {}: {}",
                        path.display(),
                        dir.display(),
                        e
                    )
                })?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, tmp),
            path: path.to_owned(),
            _staged: staged,
        })
    }

    /// Flush and rename into place.
    pub(crate) fn commit(self) -> Result<()> {
        let shown = self.path.display().to_string();
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {shown}"))?;
        tmp.persist(&self.path)
            .map_err(|e| anyhow::anyhow!("writing {shown}: {}", e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Standard output or an [`AtomicFile`].
pub(crate) enum Destination {
    /// `-`.
    Stdout(BufWriter<Stdout>),
    /// A file, renamed into place by [`finish`](Self::finish).
    File(AtomicFile),
}

impl Destination {
    /// `-` is standard output; anything else an [`AtomicFile`].
    pub(crate) fn open(path: &Path, flag: &str) -> Result<Self> {
        if is_std(path) {
            Ok(Self::Stdout(BufWriter::with_capacity(
                1 << 16,
                Stdout::lock(),
            )))
        } else {
            Ok(Self::File(AtomicFile::create(path, flag)?))
        }
    }

    /// Flush stdout, or commit the file.
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Self::Stdout(mut out) => out.flush().context("writing to standard output"),
            Self::File(f) => f.commit(),
        }
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(o) => o.write(buf),
            Self::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(o) => o.flush(),
            Self::File(f) => f.flush(),
        }
    }
}

/// A file input: `-` copied from standard input into a temp file (for
/// readers that need a seekable file, e.g. Parquet), else the path as is.
pub(crate) enum InputFile {
    /// The path given.
    Path(PathBuf),
    /// Standard input's bytes, in a temp file removed when dropped (and on
    /// `SIGINT`/`SIGTERM`: a Ctrl-C while a large input is spooled leaves no
    /// copy of it behind).
    Stdin {
        /// The spooled bytes.
        file: tempfile::NamedTempFile,
        /// Its registration for removal on a signal (dropped after `file`).
        _staged: crate::interrupt::Staged,
    },
}

impl InputFile {
    /// `path`, or standard input spooled to a temp file.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if !is_std(path) {
            return Ok(Self::Path(path.to_owned()));
        }
        let (mut tmp, staged) =
            crate::interrupt::create_registered(tempfile::NamedTempFile::new, |t| t.path())
                .context("spooling standard input")?;
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp).context("reading standard input")?;
        Ok(Self::Stdin {
            file: tmp,
            _staged: staged,
        })
    }

    /// The path to read.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Self::Path(p) => p,
            Self::Stdin { file, .. } => file.path(),
        }
    }
}

/// Copy a finished file to standard output.
pub(crate) fn copy_to_stdout(path: &Path) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Stdout::lock();
    std::io::copy(&mut f, &mut out).context("writing to standard output")?;
    out.flush().context("writing to standard output")?;
    Ok(())
}

/// The folder a new file or folder `path` goes into (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Fail early, before any work, unless a file can be created in `dir`.
fn check_writable(dir: &Path, path: &Path, flag: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "{flag} {}: {} is a file, not a folder",
            path.display(),
            dir.display()
        );
    }
    if !dir.is_dir() {
        anyhow::bail!(
            "{flag} {}: folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    // Registered like every temp file (the signal handler installed first):
    // a Ctrl-C between its creation and removal leaves nothing behind.
    crate::interrupt::create_registered(
        || {
            tempfile::Builder::new()
                .prefix(".stac-gdal-check-")
                .tempfile_in(dir)
        },
        |t| t.path(),
    )
    .map(drop)
    .map_err(|e| {
        anyhow::anyhow!(
            "{flag} {}: cannot write in {}: {e}",
            path.display(),
            dir.display()
        )
    })
}

/// An output folder: an existing writable folder, or a new one (created,
/// with its missing parents, by the writer, as `mkdir -p` does) under a
/// writable folder. A file in the way is an error.
pub(crate) fn check_output_dir(path: &Path, flag: &str) -> Result<PathBuf> {
    let mut existing = path.to_path_buf();
    while !existing.exists() {
        existing = parent_of(&existing);
    }
    if !existing.is_dir() {
        anyhow::bail!(
            "{flag} {}: {} is a file, not a folder",
            path.display(),
            existing.display()
        );
    }
    check_writable(&existing, path, flag)?;
    Ok(path.to_owned())
}

/// An output file (not `-`): its folder exists and is writable.
pub(crate) fn check_output_file(path: &Path, flag: &str) -> Result<()> {
    if is_std(path) {
        return Ok(());
    }
    if path.is_dir() {
        anyhow::bail!("{flag} {}: is a folder", path.display());
    }
    check_writable(&parent_of(path), path, flag)
}

/// Files written into a fresh staging folder beside `dir` (registered with
/// [`crate::interrupt`]), then renamed into `dir` once all are complete:
/// an error or Ctrl-C part-way leaves no file of this run in `dir`.
/// `write` gets the staging folder and returns the files it wrote there;
/// the result is their final paths.
pub(crate) fn write_staged(
    dir: &Path,
    flag: &str,
    write: impl FnOnce(&Path) -> Result<Vec<PathBuf>>,
) -> Result<Vec<PathBuf>> {
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent)
        .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", dir.display()))?;
    let (staging, _staged) = crate::interrupt::create_registered(
        || {
            tempfile::Builder::new()
                .prefix(".stac-gdal-staging-")
                .tempdir_in(&parent)
        },
        |t| t.path(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{flag} {}: cannot write in {}: {e}",
            dir.display(),
            parent.display()
        )
    })?;
    let written = write(staging.path())?;
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", dir.display()))?;
    let mut placed = Vec::with_capacity(written.len());
    for file in written {
        let name = file
            .file_name()
            .ok_or_else(|| anyhow::anyhow!("{}: not a file name", file.display()))?;
        let target = dir.join(name);
        std::fs::rename(&file, &target)
            .map_err(|e| anyhow::anyhow!("{flag}: moving {} into place: {e}", target.display()))?;
        placed.push(target);
    }
    Ok(placed)
}

/// One file written by `write` under a temp name beside `path` (keeping
/// its extension, for writers that pick a format by it), then renamed
/// into place; removed on an error or Ctrl-C.
pub(crate) fn write_file_staged(
    path: &Path,
    flag: &str,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let parent = parent_of(path);
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let (tmp, staged_tmp) = crate::interrupt::create_registered(
        || {
            tempfile::Builder::new()
                .prefix(".stac-gdal-")
                .suffix(&ext)
                .tempfile_in(&parent)
        },
        |t| t.path(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{flag} {}: cannot write in {}: {e}",
            path.display(),
            parent.display()
        )
    })?;
    // GDAL may write a sidecar (`.aux.xml`: the georeferencing of a PNG)
    // next to the temp name: it follows the file, or goes on an error.
    let sidecar = |p: &Path| {
        let mut s = p.as_os_str().to_owned();
        s.push(".aux.xml");
        PathBuf::from(s)
    };
    let tmp_sidecar = sidecar(tmp.path());
    let _staged = (staged_tmp, crate::interrupt::register(&tmp_sidecar));
    if let Err(e) = write(tmp.path()) {
        let _ = std::fs::remove_file(&tmp_sidecar);
        return Err(e);
    }
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: {}", path.display(), e.error))?;
    if tmp_sidecar.exists() {
        std::fs::rename(&tmp_sidecar, sidecar(path))
            .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", sidecar(path).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_quiet_only_once_stdout_itself_was_closed() {
        let socket_epipe = || {
            anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
                .context("POST https://api.example/search")
        };
        // A socket's EPIPE deep in a network error is a real failure.
        assert!(!is_broken_pipe(&socket_epipe()));
        assert_eq!(
            note_closed::<()>(Err(std::io::ErrorKind::BrokenPipe.into()))
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::BrokenPipe
        );
        assert!(is_broken_pipe(&socket_epipe()));
        let other = anyhow::anyhow!("--bbox needs 4 numbers");
        assert!(!is_broken_pipe(&other));
    }
}
