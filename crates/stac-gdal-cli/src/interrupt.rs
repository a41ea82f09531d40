//! Ctrl-C and `kill`: `SIGINT` and `SIGTERM` remove the temp files of the
//! run, then end the process with the shell's codes (130 and 143).
//!
//! A writer registers its staging place (a directory or a file) with
//! [`register`] before it creates anything there (or creates it through
//! [`create_registered`], which leaves a signal no moment between the
//! place's creation and its registration), and drops the returned
//! [`Staged`] when the place is gone (moved into place or cleaned). On a
//! signal, a dedicated thread removes every registered place (again a few
//! times, in case a worker was creating a file at that moment) and exits.
//! Nothing is removed outside those places: final outputs already moved
//! into place stay. `SIGKILL` cannot be caught; the next run cleans (or
//! resumes from) what it leaves, which is why every writer keeps its temp
//! files in one staging place of its own.
//!
//! `download` registers its staging directory; `convert` (Parquet) and
//! `cube --out` theirs through [`crate::staging`]; every file written
//! through `output::AtomicFile` (`convert` JSON, `search -o`, `vrt -o`,
//! `item -o`) its temp file; `point -o` its staging folder and preview
//! (`output::write_staged`, `output::write_file_staged`). A step that must
//! not be cut in the middle (`cube --out` swapping the old output folder
//! for the new one: two renames) runs inside [`critical`]: the handler
//! waits for it to end before it cleans up.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// Set as soon as a signal arrives: the command's own ending (an error
/// from files vanishing under it) must not win the race with the handler.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Call before the process ends on its own: when a signal is being
/// handled, wait for the handler to clean up and exit with its code.
pub(crate) fn settle() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// Held by [`critical`] sections; the handler takes it before cleaning.
static CRITICAL: Mutex<()> = Mutex::new(());

/// Run `f` (a few renames, nothing slow) without a signal's clean-up
/// starting in the middle of it: a `SIGINT`/`SIGTERM` arriving meanwhile is
/// handled when `f` returns.
pub(crate) fn critical<T>(f: impl FnOnce() -> T) -> T {
    let _held = CRITICAL.lock().unwrap_or_else(|e| e.into_inner());
    f()
}

/// The places to remove on a signal.
fn places() -> &'static Mutex<Vec<PathBuf>> {
    static PLACES: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    PLACES.get_or_init(Mutex::default)
}

/// A registered staging place; unregistered when dropped.
#[derive(Debug)]
pub(crate) struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let mut p = places().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = p.iter().position(|x| *x == self.0) {
            p.remove(i);
        }
    }
}

/// Create a temp place with `create` and register the path `path_of` gives
/// for it, with no moment at which a signal could leave it behind: the
/// handler is installed first, and creation and registration run as one
/// [`critical`] section (a signal arriving in between is handled after the
/// place is registered, so its clean-up removes it).
pub(crate) fn create_registered<T, E>(
    create: impl FnOnce() -> Result<T, E>,
    path_of: impl FnOnce(&T) -> &Path,
) -> Result<(T, Staged), E> {
    install();
    critical(|| {
        let made = create()?;
        let staged = register(path_of(&made));
        Ok((made, staged))
    })
}

/// Remove `path` on `SIGINT`/`SIGTERM` until the returned guard drops.
/// Installs the handler on first use.
pub(crate) fn register(path: &Path) -> Staged {
    install();
    places()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_owned());
    Staged(path.to_owned())
}

/// Remove every registered place, pass after pass until all are gone (a
/// worker may be creating a file in one at this moment, which makes a
/// `remove_dir_all` fail; writers never recreate a removed place's
/// parent, so this ends), for at most about two seconds.
fn clean() {
    let list = places().lock().unwrap_or_else(|e| e.into_inner()).clone();
    for _ in 0..80 {
        let mut left = false;
        for p in &list {
            let gone = match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).is_ok(),
                Ok(_) => std::fs::remove_file(p).is_ok(),
                Err(_) => true,
            };
            left |= !gone && std::fs::symlink_metadata(p).is_ok();
        }
        if !left {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

#[cfg(unix)]
unsafe extern "C" {
    /// POSIX `_exit(2)`: end the process without running atexit handlers.
    fn _exit(status: std::ffi::c_int) -> !;
}

#[cfg(unix)]
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("stac-gdal-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                    let _held = CRITICAL.lock().unwrap_or_else(|e| e.into_inner());
                    clean();
                    eprintln!(
                        "\nstac-gdal: interrupted ({}); temp files removed",
                        if sig == SIGINT { "SIGINT" } else { "SIGTERM" }
                    );
                    // `_exit`, not `exit`: the other threads are still
                    // decoding and writing, and `exit`'s atexit handlers
                    // (GDAL's and PROJ's clean-up, C++ static destructors)
                    // pull their state from under them; seen as a process
                    // killed by a signal after this message, about once in
                    // a few dozen interrupted cube writes. Nothing is left
                    // to flush: temp files are gone and stderr is unbuffered.
                    // SAFETY: `_exit` ends the process at once; it takes no
                    // pointer and has no precondition.
                    unsafe { _exit(128 + sig) }
                }
            });
        if spawned.is_err() {
            eprintln!("stac-gdal: warning: cannot watch for Ctrl-C; temp files may stay");
        }
    });
}

#[cfg(not(unix))]
fn install() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_places_are_removed_and_unregistered_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        std::fs::create_dir(&staging).unwrap();
        std::fs::write(staging.join("a.part"), b"x").unwrap();
        let file = dir.path().join("one.tmp");
        std::fs::write(&file, b"x").unwrap();
        let keep = dir.path().join("final.tif");
        std::fs::write(&keep, b"x").unwrap();
        let g1 = register(&staging);
        let g2 = register(&file);
        clean();
        assert!(!staging.exists() && !file.exists() && keep.exists());
        drop((g1, g2));
        assert!(
            !places()
                .lock()
                .unwrap()
                .iter()
                .any(|p| p.starts_with(dir.path()))
        );
    }
}
