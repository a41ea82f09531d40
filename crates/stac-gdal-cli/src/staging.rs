//! Where `convert` and `cube --out` write before their output is complete,
//! and how the output then appears: whole, or not at all.
//!
//! Every output path gets one staging directory beside it,
//! `<parent>/.stac-gdal-staging-<name>/` (mode 0700, never a link), locked
//! by the running process (`flock`, released even on `SIGKILL`), so two runs
//! writing the same output never share it. Every temp file of the run lives
//! in it: a GeoParquet writer's spill and unfinished file
//! (`WriteOptions::with_temp_dir`), a JSON output's temp file, the cube's
//! new folder with GDAL's per-file temp names, a preview. It is registered
//! with [`crate::interrupt`], so `SIGINT`/`SIGTERM` remove it; it is removed
//! when the command ends, on success or error ([`Staging`]'s `Drop`); and
//! the next run into the same output empties what a `SIGKILL` left.
//!
//! Outputs appear by `rename` from the staging directory: a file replaces
//! the previous one atomically. A cube folder (or a partitioned `convert`
//! folder) replaces the previous folder whole ([`Staging::replace_dir`]): the old folder is renamed into the
//! staging directory (`old`), the new one renamed into place, then the old
//! one is removed with the staging directory. A `SIGINT`/`SIGTERM` cannot
//! cut between the two renames ([`crate::interrupt::critical`]). A `SIGKILL`
//! between them leaves no folder at the output and the previous one in
//! `old`: the next run renames it back before anything else
//! ([`Staging::for_output`]), so a crash never loses the previous output
//! and never shows a partial new one. A folder is only replaced when it
//! holds nothing but what such a run writes ([`check_cube_dir`],
//! [`for_convert`]), so a mistyped `--out` never deletes someone's files.
//!
//! Output paths are checked before any work ([`check_file_output`],
//! [`check_cube_dir`]): the parent folder exists, the output is no link,
//! the kind (file or folder) fits, and creating the staging directory
//! proves the folder writable.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::interrupt;

/// The staging directory's name is this, followed by the output's name.
pub(crate) const PREFIX: &str = ".stac-gdal-staging-";

/// The name of the previous cube folder while it is being replaced.
const OLD: &str = "old";

/// The lock file inside a staging directory.
const LOCK: &str = "lock";

/// `path` without a trailing `/` (through which `lstat` and `rename` would
/// follow a link) or `.` components.
fn plain(path: &Path) -> PathBuf {
    path.components().collect()
}

/// The parent folder of `path` (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The file name of an output path, refused when there is none (`..`, `/`).
fn name_of<'a>(path: &'a Path, flag: &str) -> Result<&'a OsStr> {
    match path.components().next_back() {
        Some(Component::Normal(name)) => Ok(name),
        _ => bail!("{flag} {}: not a file or folder name", path.display()),
    }
}

/// Checks every output has in common: a name, an existing parent folder,
/// and no symbolic link at the path.
fn check_common(path: &Path, flag: &str) -> Result<Option<std::fs::Metadata>> {
    name_of(path, flag)?;
    let parent = parent_of(path);
    match std::fs::metadata(&parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!(
            "{flag} {}: {} is not a folder",
            path.display(),
            parent.display()
        ),
        Err(e) => bail!(
            "{flag} {}: the folder {} does not exist ({e})",
            path.display(),
            parent.display()
        ),
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "{flag} {}: is a symbolic link; give the path it points to, or another",
            path.display()
        ),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{flag} {}", path.display())),
    }
}

/// Check a file output before any work: parent folder exists, the path is
/// not a link nor a folder.
pub(crate) fn check_file_output(path: &Path, flag: &str) -> Result<()> {
    if let Some(m) = check_common(path, flag)?
        && m.is_dir()
    {
        bail!("{flag} {}: is a folder, not a file", path.display());
    }
    Ok(())
}

/// Whether a file in an existing `--out` folder is one a cube run writes:
/// a timestep (`NNNN_<label>.tif`, `.cog.tif`), a preview image, the
/// `.aux.xml` side-car of either, or the hidden temp file of an older
/// version's interrupted write.
fn written_by_cube(name: &str) -> bool {
    let timestep = |n: &str| {
        n.len() > 5 && n.as_bytes()[..4].iter().all(u8::is_ascii_digit) && n.as_bytes()[4] == b'_'
    };
    let lower = name.to_ascii_lowercase();
    let main = lower.strip_suffix(".aux.xml").unwrap_or(&lower);
    (timestep(main) && main.ends_with(".tif"))
        || name
            .strip_prefix('.')
            .is_some_and(|n| timestep(n) && n.contains(".tif.tmp-"))
        || [".png", ".jpg", ".jpeg", ".webp"]
            .iter()
            .any(|e| main.ends_with(e))
}

/// Check a cube output folder before any work: parent exists, not a link;
/// when it exists, a folder holding only what a cube run writes (so that
/// replacing it whole deletes nobody's files).
pub(crate) fn check_cube_dir(path: &Path, flag: &str) -> Result<()> {
    let Some(m) = check_common(path, flag)? else {
        return Ok(());
    };
    if !m.is_dir() {
        bail!("{flag} {}: is a file, not a folder", path.display());
    }
    let entries = std::fs::read_dir(path).with_context(|| format!("{flag} {}", path.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("{flag} {}", path.display()))?;
        let name = e.file_name();
        let ours =
            e.file_type().is_ok_and(|t| t.is_file()) && name.to_str().is_some_and(written_by_cube);
        if !ours {
            bail!(
                "{flag} {}: the folder holds {:?}, which a cube run does not write; the \
                 output folder is replaced whole, so give a new or empty folder",
                path.display(),
                name
            );
        }
    }
    Ok(())
}

/// Check a Zarr store path before any work: parent exists, not a link;
/// when it exists, a folder that is empty or a store stac-gdal started
/// (a `.stac-gdal` folder; the library then checks its `plan.json`
/// against the cube), so that replacing or completing it deletes nobody's
/// files.
pub(crate) fn check_zarr_store(path: &Path, flag: &str) -> Result<()> {
    let Some(m) = check_common(path, flag)? else {
        return Ok(());
    };
    if !m.is_dir() {
        bail!(
            "{flag} {}: is a file, not a Zarr store folder",
            path.display()
        );
    }
    // A `.stac-gdal` folder: a store stac-gdal started (plan.json lands
    // in it a moment after the folder, while a concurrent part starts).
    let ours = std::fs::symlink_metadata(path.join(".stac-gdal")).is_ok_and(|m| m.is_dir());
    let empty = std::fs::read_dir(path)
        .with_context(|| format!("{flag} {}", path.display()))?
        .next()
        .is_none();
    if !ours && !empty {
        bail!(
            "{flag} {}: the folder is not a Zarr store stac-gdal wrote (no .stac-gdal folder); \
             give a new or empty folder",
            path.display()
        );
    }
    Ok(())
}

/// What `cube --out X.zarr` writes (one process, no `--part`): the store
/// built in the staging directory, then put into place whole (replacing a
/// previous store stac-gdal wrote).
#[derive(Debug)]
pub(crate) struct ZarrOutput {
    out: PathBuf,
    staging: Staging,
}

impl ZarrOutput {
    /// Check the store path and create its staging directory, before any work.
    pub(crate) fn prepare(out: &Path) -> Result<Self> {
        let out = &plain(out);
        crate::output::check_output_dir(out, "--output")?;
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).with_context(|| {
            format!("--output {}: creating {}", out.display(), parent.display())
        })?;
        check_zarr_store(out, "--output")?;
        let staging = Staging::for_output(out, "--output")?;
        Ok(Self {
            out: out.to_path_buf(),
            staging,
        })
    }

    /// The folder the store is written into (inside the staging directory).
    pub(crate) fn dir(&self) -> PathBuf {
        self.staging.path().join("new")
    }

    /// Put the store into place, replacing the previous one whole.
    pub(crate) fn commit(self) -> Result<()> {
        self.staging.replace_dir(&self.dir(), &self.out)
    }
}

/// Check a preview image path: a known image extension, then as a file
/// output (its folder may be the cube folder, written with it).
pub(crate) fn check_preview(path: &Path, cube_dir: &Path, flag: &str) -> Result<()> {
    let lower = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let known = stac_gdal::raster::Format::from_path(path).is_some()
        || [".jpg", ".jpeg", ".webp"]
            .iter()
            .any(|e| lower.ends_with(e));
    if !known {
        bail!(
            "{flag} {}: unknown image extension (use .png)",
            path.display()
        );
    }
    if in_cube_dir(path, cube_dir) {
        name_of(path, flag)?;
        return check_cube_dir(cube_dir, "--output");
    }
    if absolute(path).starts_with(absolute(cube_dir)) {
        bail!(
            "{flag} {}: inside a subfolder of --out, which is replaced whole; put the \
             preview directly in it or outside it",
            path.display()
        );
    }
    check_file_output(path, flag)
}

/// `path` made absolute and without `.` components (no link resolved).
fn absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    base.join(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Whether `path` names a file directly in the folder `dir`.
pub(crate) fn in_cube_dir(path: &Path, dir: &Path) -> bool {
    absolute(&parent_of(path)) == absolute(dir)
}

/// The locked staging directory of one output (see the module docs).
/// Dropping it removes it with everything in it.
#[derive(Debug)]
pub(crate) struct Staging {
    dir: PathBuf,
    _lock: File,
    _registered: interrupt::Staged,
}

impl Staging {
    /// Create (or take over) and lock the staging directory of `output`;
    /// put back a previous cube folder a killed run left aside; empty it;
    /// register it for removal on `SIGINT`/`SIGTERM`. Fails, before any
    /// work, when the output's folder is not writable or another run holds
    /// the lock.
    pub(crate) fn for_output(output: &Path, flag: &str) -> Result<Self> {
        let name = name_of(output, flag)?;
        let mut staging_name = std::ffi::OsString::from(PREFIX);
        staging_name.push(name);
        let dir = parent_of(output).join(staging_name);
        // Taking over and registering is one critical section: a signal
        // meanwhile neither leaves the folder behind nor removes a cube
        // folder being put back.
        let ((dir, lock), registered) =
            interrupt::create_registered(|| take_over(output, flag, dir), |(d, _)| d.as_path())?;
        Ok(Self {
            dir,
            _lock: lock,
            _registered: registered,
        })
    }

    /// The staging directory.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Move a staged file into place (an atomic rename).
    pub(crate) fn commit_file(&self, staged: &Path, dest: &Path) -> Result<()> {
        std::fs::rename(staged, dest).with_context(|| format!("writing {}", dest.display()))
    }

    /// Replace the folder `dest` (if any) with the staged folder `staged`,
    /// whole: the old one is renamed aside into the staging directory, the
    /// new one renamed into place, both without a signal's clean-up in
    /// between; the old one goes with the staging directory.
    pub(crate) fn replace_dir(&self, staged: &Path, dest: &Path) -> Result<()> {
        let old = self.dir.join(OLD);
        interrupt::critical(|| {
            let had = match std::fs::symlink_metadata(dest) {
                Ok(m) if m.is_dir() => {
                    std::fs::rename(dest, &old)
                        .with_context(|| format!("moving {} aside", dest.display()))?;
                    true
                }
                Ok(_) => bail!("{} is no longer a folder", dest.display()),
                Err(_) => false,
            };
            if let Err(e) = std::fs::rename(staged, dest) {
                if had {
                    let _ = std::fs::rename(&old, dest);
                }
                return Err(e).with_context(|| format!("writing {}", dest.display()));
            }
            Ok(())
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Create `dir` (0700) if needed, refuse anything but a real folder there,
/// and take its lock without waiting (`None`: another process holds it).
#[cfg(unix)]
fn open_locked(dir: &Path) -> std::io::Result<Option<File>> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let lock = rustix::fs::openat(
        &fd,
        LOCK,
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(lock.into())),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Without `flock`: create the folder, and a lock file nobody else checks.
#[cfg(not(unix))]
fn open_locked(dir: &Path) -> std::io::Result<Option<File>> {
    std::fs::create_dir_all(dir)?;
    if std::fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return Err(std::io::Error::other("the staging folder is a link"));
    }
    Ok(Some(File::create(dir.join(LOCK))?))
}

/// Whether the folder `dir` holds only what a partitioned write makes:
/// `key=value` folders, down to `part-N.parquet` files.
fn written_by_partitioned(dir: &Path) -> std::io::Result<Option<std::ffi::OsString>> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let text = name.to_string_lossy();
        let t = e.file_type()?;
        if t.is_dir() && text.contains('=') && !text.starts_with('.') {
            if let Some(bad) = written_by_partitioned(&e.path())? {
                return Ok(Some(bad));
            }
        } else if !(t.is_file() && text.starts_with("part-") && text.ends_with(".parquet")) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// `convert`'s output: written into the staging directory, then renamed
/// into place (a file atomically, a partitioned folder replacing the
/// previous one whole).
#[derive(Debug)]
pub(crate) struct ConvertOutput {
    output: PathBuf,
    partitioned: bool,
    staging: Staging,
}

/// Check `convert`'s output (a file, or the folder of a partitioned write,
/// which may exist only as an earlier partitioned output) and create its
/// staging directory, before any input is read.
pub(crate) fn for_convert(output: &Path, partitioned: bool) -> Result<ConvertOutput> {
    let output = plain(output);
    if partitioned {
        if let Some(m) = check_common(&output, "OUTPUT")? {
            let foreign = if m.is_dir() {
                written_by_partitioned(&output)
                    .with_context(|| format!("OUTPUT {}", output.display()))?
            } else {
                Some(output.as_os_str().to_owned())
            };
            if let Some(name) = foreign {
                bail!(
                    "OUTPUT {}: holds {name:?}, which a partitioned write does not make;                      the folder is replaced whole, so give a new or empty folder",
                    output.display()
                );
            }
        }
    } else {
        check_file_output(&output, "OUTPUT")?;
    }
    let staging = Staging::for_output(&output, "OUTPUT")?;
    Ok(ConvertOutput {
        output,
        partitioned,
        staging,
    })
}

impl ConvertOutput {
    /// The staging directory (for the writers' temp files).
    pub(crate) fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Where the writer writes: a file output itself (the writers rename
    /// their temp file from the staging directory over it, so errors name
    /// the path the user gave); a partitioned folder inside the staging
    /// directory, to replace the previous one whole.
    pub(crate) fn target(&self) -> PathBuf {
        if self.partitioned {
            self.staging
                .path()
                .join(self.output.file_name().unwrap_or_default())
        } else {
            self.output.clone()
        }
    }

    /// Put a partitioned output into place (a file output is in place).
    pub(crate) fn commit(self) -> Result<()> {
        if self.partitioned {
            self.staging.replace_dir(&self.target(), &self.output)?;
        }
        Ok(())
    }
}

/// What `cube --out` writes: the staged folder, the preview's staged file,
/// and how they are put into place.
#[derive(Debug)]
pub(crate) struct CubeOutput {
    out: PathBuf,
    staging: Staging,
    /// The preview's final path and, when it is outside the cube folder,
    /// its own staging directory.
    preview: Option<(PathBuf, Option<Staging>)>,
}

impl CubeOutput {
    /// Check `--out` and `--preview`, then create their staging
    /// directories (which proves their folders writable): all before any
    /// work.
    pub(crate) fn prepare(out: &Path, preview: Option<&Path>) -> Result<Self> {
        let out = &plain(out);
        let preview = preview.map(plain);
        let preview = preview.as_deref();
        // Missing parent folders are made, as `mkdir -p` would, once the
        // nearest existing one is known to be a writable folder.
        crate::output::check_output_dir(out, "--output")?;
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).with_context(|| {
            format!("--output {}: creating {}", out.display(), parent.display())
        })?;
        check_cube_dir(out, "--output")?;
        if let Some(p) = preview {
            check_preview(p, out, "--preview")?;
        }
        let staging = Staging::for_output(out, "--output")?;
        let preview = match preview {
            None => None,
            Some(p) if in_cube_dir(p, out) => Some((p.to_path_buf(), None)),
            Some(p) => Some((p.to_path_buf(), Some(Staging::for_output(p, "--preview")?))),
        };
        Ok(Self {
            out: out.to_path_buf(),
            staging,
            preview,
        })
    }

    /// The folder to write the timesteps into (inside the staging directory).
    pub(crate) fn dir(&self) -> PathBuf {
        self.staging.path().join("new")
    }

    /// Where to write the preview `path` (the one given to
    /// [`prepare`](Self::prepare)) now: inside a staging directory.
    pub(crate) fn preview_path(&self, path: &Path) -> PathBuf {
        let name = path.file_name().unwrap_or_default();
        match &self.preview {
            Some((_, Some(own))) => own.path().join(name),
            _ => self.dir().join(name),
        }
    }

    /// The final paths of timesteps written into [`dir`](Self::dir).
    pub(crate) fn final_paths(&self, staged: &[PathBuf]) -> Vec<PathBuf> {
        staged
            .iter()
            .map(|f| self.out.join(f.file_name().unwrap_or_default()))
            .collect()
    }

    /// Put the cube folder (and the preview) into place.
    pub(crate) fn commit(self) -> Result<()> {
        let staged = self.dir();
        std::fs::create_dir_all(&staged)
            .with_context(|| format!("creating {}", staged.display()))?;
        self.staging.replace_dir(&staged, &self.out)?;
        if let Some((dest, Some(own))) = &self.preview {
            // GDAL keeps a PNG's georeferencing in an `.aux.xml` side-car.
            let aux = |p: &Path| {
                let mut s = p.as_os_str().to_owned();
                s.push(".aux.xml");
                PathBuf::from(s)
            };
            let staged = self.preview_path(dest);
            if aux(&staged).exists() {
                own.commit_file(&aux(&staged), &aux(dest))?;
            }
            own.commit_file(&staged, dest)?;
        }
        Ok(())
    }
}

/// Lock the staging folder `dir` of `output` (creating it), put back a cube
/// folder a killed run left aside, and empty it.
fn take_over(output: &Path, flag: &str, dir: PathBuf) -> Result<(PathBuf, File)> {
    let lock = open_locked(&dir).with_context(|| {
        format!(
            "{flag} {}: cannot write in {}",
            output.display(),
            parent_of(output).display()
        )
    })?;
    let Some(lock) = lock else {
        bail!(
            "{flag} {}: another stac-gdal run is writing it (its staging folder {} is locked)",
            output.display(),
            dir.display()
        );
    };
    let old = dir.join(OLD);
    if std::fs::symlink_metadata(output).is_err() && old.is_dir() {
        std::fs::rename(&old, output)
            .with_context(|| format!("restoring {} from {}", output.display(), old.display()))?;
        eprintln!(
            "stac-gdal: warning: {} was left aside by a killed run; put back",
            output.display()
        );
    }
    for e in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        if e.file_name() == LOCK {
            continue;
        }
        let p = e.path();
        let gone = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        gone.with_context(|| format!("removing {} (left by an earlier run)", p.display()))?;
    }
    Ok((dir, lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn cube_files_are_recognised_and_others_refused() {
        for ok in [
            "0000_2021-06-01.tif",
            "0012_x.cog.tif",
            "0001_a.tif.aux.xml",
            ".0003_b.tif.tmp-123-4",
            "look.png",
            "look.png.aux.xml",
        ] {
            assert!(written_by_cube(ok), "{ok}");
        }
        for bad in [
            "notes.txt",
            "000_a.tif",
            "abcd_a.tif",
            ".tmpXYZ",
            "0001_a.tif.bak",
        ] {
            assert!(!written_by_cube(bad), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cube");
        check_cube_dir(&out, "--out").unwrap();
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("0000_a.tif"), b"x").unwrap();
        check_cube_dir(&out, "--out").unwrap();
        std::fs::write(out.join("thesis.docx"), b"x").unwrap();
        let e = check_cube_dir(&out, "--out").unwrap_err().to_string();
        assert!(e.contains("thesis.docx"), "{e}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&out, &link).unwrap();
            let e = check_cube_dir(&link, "--out").unwrap_err().to_string();
            assert!(e.contains("symbolic link"), "{e}");
            let slash = PathBuf::from(format!("{}/", link.display()));
            let e = CubeOutput::prepare(&slash, None).unwrap_err().to_string();
            assert!(e.contains("symbolic link"), "{e}");
        }
        let e = check_file_output(&dir.path().join("nope/x.parquet"), "OUTPUT")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_crash_between_the_renames_is_recovered_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cube");
        // A run killed after moving the previous output aside, before moving
        // the new one in: no folder at `out`, the old one and a complete new
        // one in the staging directory.
        let staging = dir.path().join(format!("{PREFIX}cube"));
        std::fs::create_dir_all(staging.join(OLD)).unwrap();
        std::fs::write(staging.join(OLD).join("0000_prev.tif"), b"previous").unwrap();
        std::fs::create_dir_all(staging.join("new")).unwrap();
        std::fs::write(staging.join("new").join("0000_next.tif"), b"next").unwrap();
        let s = Staging::for_output(&out, "--out").unwrap();
        assert_eq!(listing(&out), ["0000_prev.tif"]);
        assert_eq!(listing(s.path()), [LOCK]);
        // A second run cannot take the same staging directory meanwhile.
        #[cfg(unix)]
        {
            let e = Staging::for_output(&out, "--out").unwrap_err().to_string();
            assert!(e.contains("another stac-gdal run"), "{e}");
        }
        // The swap replaces the folder whole; dropping removes the staging.
        let new = s.path().join("new");
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("0000_x.tif"), b"x").unwrap();
        s.replace_dir(&new, &out).unwrap();
        assert_eq!(listing(&out), ["0000_x.tif"]);
        drop(s);
        assert_eq!(listing(dir.path()), ["cube"]);
    }
}
