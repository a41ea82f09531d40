//! Directory handles for downloads: every file is created, opened, renamed
//! and removed *relative to an open directory*, by one plain name, and never
//! through a symbolic link (`openat` with `O_NOFOLLOW`, `mkdirat`,
//! `renameat2`, `unlinkat`). A link planted at any name the tool uses makes
//! that operation fail; it is never followed out of the destination.
//!
//! Only the destination directory itself (the path the user gave) is opened
//! by path, and followed if it is a link: that is the user's choice.
//!
//! On platforms without these calls (not unix), the same operations go
//! through paths (no protection against planted links).

use std::io;
use std::path::{Path, PathBuf};

/// What a name in a directory is (not following links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file of this many bytes.
    File(u64),
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// Anything else (fifo, socket, device).
    Other,
}

/// A name made only of the characters `safe_file_name` produces (so it
/// cannot hold `/` or be `.`/`..`). Checked on every call, as a last line.
fn plain(name: &str) -> io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(name)
}

/// An error saying a name is a link or not what was expected.
fn refused(dir: &Path, name: &str, what: &str) -> io::Error {
    io::Error::other(format!(
        "{} is {what}: refusing to use it (a link planted in the destination is never followed)",
        dir.join(name).display()
    ))
}

#[cfg(unix)]
mod imp {
    use super::*;
    use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags};
    use std::os::fd::OwnedFd;

    /// An open directory.
    #[derive(Debug)]
    pub(crate) struct Dir {
        fd: OwnedFd,
        path: PathBuf,
    }

    fn kind_of(stat: &rustix::fs::Stat) -> Kind {
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Kind::File(stat.st_size as u64),
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Link,
            _ => Kind::Other,
        }
    }

    impl Dir {
        /// Create `path` (and its parents) if needed and open it. The one
        /// operation that goes by path (and follows links): the user named it.
        pub(crate) fn open_root(path: &Path) -> io::Result<Self> {
            std::fs::create_dir_all(path)?;
            let fd = rustix::fs::open(
                path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Self {
                fd,
                path: path.to_owned(),
            })
        }

        /// The path, for messages.
        pub(crate) fn path(&self) -> &Path {
            &self.path
        }

        /// `name` inside this directory, created (`mode`) when missing; a
        /// link or a non-directory there is an error.
        pub(crate) fn subdir(&self, name: &str, mode: u32) -> io::Result<Dir> {
            let name = plain(name)?;
            match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode)) {
                Ok(()) => {}
                Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            match rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => Ok(Dir {
                    fd,
                    path: self.path.join(name),
                }),
                Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => Err(refused(
                    &self.path,
                    name,
                    "a symbolic link or not a directory",
                )),
                Err(e) => Err(e.into()),
            }
        }

        /// What `name` is, without following a link; `None` when absent.
        pub(crate) fn kind(&self, name: &str) -> io::Result<Option<Kind>> {
            let name = plain(name)?;
            match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => Ok(Some(kind_of(&st))),
                Err(rustix::io::Errno::NOENT) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }

        /// Create `name`, which must not exist (no link followed), for writing.
        pub(crate) fn create_new(&self, name: &str, mode: u32) -> io::Result<std::fs::File> {
            let name = plain(name)?;
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            )?;
            Ok(fd.into())
        }

        /// Open an existing regular file with one link for appending,
        /// positioned at its end; a link, a non-file or a file with other
        /// hard links is an error (appending would write elsewhere).
        pub(crate) fn open_append(&self, name: &str) -> io::Result<(std::fs::File, u64)> {
            let name = plain(name)?;
            let fd = match rustix::fs::openat(
                &self.fd,
                name,
                OFlags::WRONLY | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::LOOP) => {
                    return Err(refused(&self.path, name, "a symbolic link"));
                }
                Err(e) => return Err(e.into()),
            };
            let st = rustix::fs::fstat(&fd)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_nlink != 1 {
                return Err(refused(
                    &self.path,
                    name,
                    "not a regular file with a single link",
                ));
            }
            Ok((fd.into(), st.st_size as u64))
        }

        /// Open an existing regular file for reading (no link followed).
        pub(crate) fn open_read(&self, name: &str) -> io::Result<std::fs::File> {
            let name = plain(name)?;
            let fd = match rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::LOOP) => {
                    return Err(refused(&self.path, name, "a symbolic link"));
                }
                Err(e) => return Err(e.into()),
            };
            let st = rustix::fs::fstat(&fd)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return Err(refused(&self.path, name, "not a regular file"));
            }
            Ok(fd.into())
        }

        /// Move `from` (in this directory) to `to` in `target`. With
        /// `replace` an existing entry at `to` (a link included: the link
        /// itself is replaced, nothing is written through it) is replaced;
        /// without, an existing entry is an `AlreadyExists` error, checked
        /// atomically where the kernel can (`renameat2(RENAME_NOREPLACE)`).
        pub(crate) fn rename(
            &self,
            from: &str,
            target: &Dir,
            to: &str,
            replace: bool,
        ) -> io::Result<()> {
            let (from, to) = (plain(from)?, plain(to)?);
            if replace {
                return Ok(rustix::fs::renameat(&self.fd, from, &target.fd, to)?);
            }
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                match rustix::fs::renameat_with(
                    &self.fd,
                    from,
                    &target.fd,
                    to,
                    rustix::fs::RenameFlags::NOREPLACE,
                ) {
                    Ok(()) => return Ok(()),
                    Err(rustix::io::Errno::EXIST) => {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!("{} exists", target.path.join(to).display()),
                        ));
                    }
                    // A filesystem without RENAME_NOREPLACE: check, then rename.
                    Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if target.kind(to)?.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists", target.path.join(to).display()),
                ));
            }
            Ok(rustix::fs::renameat(&self.fd, from, &target.fd, to)?)
        }

        /// Remove the file (or link) `name`; absent is fine.
        pub(crate) fn remove_file(&self, name: &str) -> io::Result<()> {
            let name = plain(name)?;
            match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }

        /// Remove the empty directory `name`; absent is fine.
        pub(crate) fn remove_dir(&self, name: &str) -> io::Result<()> {
            let name = plain(name)?;
            match rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }

        /// The names in this directory (not `.` and `..`).
        pub(crate) fn names(&self) -> io::Result<Vec<String>> {
            let mut out = Vec::new();
            for entry in rustix::fs::Dir::read_from(&self.fd)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name != "." && name != ".." {
                    out.push(name);
                }
            }
            Ok(out)
        }

        /// Take an exclusive lock on the file `name` (created if missing),
        /// without waiting: `Ok(None)` when another process holds it. The
        /// lock lives as long as the returned file (and dies with the
        /// process, even on `SIGKILL`).
        pub(crate) fn try_lock(&self, name: &str) -> io::Result<Option<std::fs::File>> {
            let name = plain(name)?;
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => Ok(Some(fd.into())),
                Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;

    /// An open directory (a path on this platform).
    #[derive(Debug)]
    pub(crate) struct Dir {
        path: PathBuf,
    }

    fn kind_of(m: &std::fs::Metadata) -> Kind {
        let t = m.file_type();
        if t.is_symlink() {
            Kind::Link
        } else if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File(m.len())
        } else {
            Kind::Other
        }
    }

    impl Dir {
        pub(crate) fn open_root(path: &Path) -> io::Result<Self> {
            std::fs::create_dir_all(path)?;
            Ok(Self {
                path: path.to_owned(),
            })
        }
        pub(crate) fn path(&self) -> &Path {
            &self.path
        }
        pub(crate) fn subdir(&self, name: &str, _mode: u32) -> io::Result<Dir> {
            let p = self.path.join(plain(name)?);
            match self.kind(name)? {
                Some(Kind::Dir) => {}
                None => std::fs::create_dir(&p)?,
                Some(_) => {
                    return Err(refused(
                        &self.path,
                        name,
                        "a symbolic link or not a directory",
                    ));
                }
            }
            Ok(Dir { path: p })
        }
        pub(crate) fn kind(&self, name: &str) -> io::Result<Option<Kind>> {
            match std::fs::symlink_metadata(self.path.join(plain(name)?)) {
                Ok(m) => Ok(Some(kind_of(&m))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }
        pub(crate) fn create_new(&self, name: &str, _mode: u32) -> io::Result<std::fs::File> {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path.join(plain(name)?))
        }
        pub(crate) fn open_append(&self, name: &str) -> io::Result<(std::fs::File, u64)> {
            if self.kind(name)? != Some(Kind::File(0))
                && !matches!(self.kind(name)?, Some(Kind::File(_)))
            {
                return Err(refused(&self.path, name, "not a regular file"));
            }
            let f = std::fs::OpenOptions::new()
                .append(true)
                .open(self.path.join(name))?;
            let len = f.metadata()?.len();
            Ok((f, len))
        }
        pub(crate) fn open_read(&self, name: &str) -> io::Result<std::fs::File> {
            if !matches!(self.kind(name)?, Some(Kind::File(_))) {
                return Err(refused(&self.path, name, "not a regular file"));
            }
            std::fs::File::open(self.path.join(name))
        }
        pub(crate) fn rename(
            &self,
            from: &str,
            target: &Dir,
            to: &str,
            replace: bool,
        ) -> io::Result<()> {
            if !replace && target.kind(to)?.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists", target.path.join(to).display()),
                ));
            }
            std::fs::rename(self.path.join(plain(from)?), target.path.join(plain(to)?))
        }
        pub(crate) fn remove_file(&self, name: &str) -> io::Result<()> {
            match std::fs::remove_file(self.path.join(plain(name)?)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
        pub(crate) fn remove_dir(&self, name: &str) -> io::Result<()> {
            match std::fs::remove_dir(self.path.join(plain(name)?)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
        pub(crate) fn names(&self) -> io::Result<Vec<String>> {
            std::fs::read_dir(&self.path)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        }
        pub(crate) fn try_lock(&self, name: &str) -> io::Result<Option<std::fs::File>> {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(self.path.join(plain(name)?))?;
            match f.try_lock() {
                Ok(()) => Ok(Some(f)),
                Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                Err(std::fs::TryLockError::Error(e)) => Err(e),
            }
        }
    }
}

pub(crate) use imp::Dir;

/// A random name (128 bits, hex) with `suffix`: temp names nobody can
/// guess in advance, so nobody can plant a link there.
pub(crate) fn random_name(suffix: &str) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: still unique per process and call.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (t ^ u128::from(std::process::id()) << 64).to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}{suffix}")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_are_never_followed() {
        let base = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let dest = base.path().join("dest");
        let d = Dir::open_root(&dest).unwrap();
        std::os::unix::fs::symlink(&victim, dest.join("a.tif")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dest.join("item")).unwrap();
        assert!(d.create_new("a.tif", 0o644).is_err());
        assert!(d.open_append("a.tif").is_err());
        assert!(d.open_read("a.tif").is_err());
        assert!(d.subdir("item", 0o755).is_err());
        assert_eq!(d.kind("a.tif").unwrap(), Some(Kind::Link));
        // A hard link to a file elsewhere is not appended to either.
        std::fs::hard_link(&victim, dest.join("b.part")).unwrap();
        assert!(d.open_append("b.part").is_err());
        // Renaming onto a link replaces the link, not its target.
        std::io::Write::write_all(&mut d.create_new("t", 0o600).unwrap(), b"new").unwrap();
        assert!(d.rename("t", &d, "a.tif", false).is_err());
        d.rename("t", &d, "a.tif", true).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(dest.join("a.tif")).unwrap(), b"new");
        assert!(plain("../x").is_err() && plain("..").is_err());
        let l = d.try_lock("lock").unwrap().unwrap();
        assert!(
            d.try_lock("lock").unwrap().is_none(),
            "a second lock while held"
        );
        drop(l);
        assert_ne!(random_name(".part"), random_name(".part"));
    }
}
