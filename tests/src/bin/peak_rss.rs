//! `peak_rss CMD [ARGS...]`: run a command and write its peak resident set
//! (kB, from `wait4`) to the file named by `$PEAK_RSS_OUT`; exits with the
//! command's code (128 + signal when it was killed).
//!
//! Why a helper: a child's `ru_maxrss` includes the high-water mark of the
//! process it was exec'd from, so a test that measured its children
//! directly would measure itself. This small process forks the command
//! instead (see `stac_gdal_e2e::rss`).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::Command;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: peak_rss CMD [ARGS...]");
        std::process::exit(2);
    };
    let child = match Command::new(&program).args(args).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("peak_rss: cannot run {}: {e}", program.to_string_lossy());
            std::process::exit(127);
        }
    };
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        std::process::exit(2);
    };
    let mut status = 0;
    // SAFETY: `rusage` is plain data, filled by wait4 for our own child,
    // which nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc != pid {
        eprintln!("peak_rss: wait4: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    if let Some(out) = std::env::var_os("PEAK_RSS_OUT") {
        if let Err(e) = std::fs::write(&out, usage.ru_maxrss.to_string()) {
            eprintln!("peak_rss: {}: {e}", out.to_string_lossy());
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    std::process::exit(code);
}
