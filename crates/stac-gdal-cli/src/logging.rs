//! `-q`, `-v` and `--log-level`, global to every subcommand: what reaches
//! stderr besides the final error.
//!
//! Levels, from quiet to chatty: `error` (`-q`: the final error only; no
//! warnings, notes or progress bars), `warn` (the default: the tool's
//! warnings, one-line notes such as "3 items: a → b", progress bars on a
//! terminal), `info` (`-v`: also GDAL's own `Warning 1: …` and
//! `ERROR 1: …` lines, which the tool otherwise replaces by its own error)
//! and `debug` (`-vv`: also GDAL's debug lines, emitted when `CPL_DEBUG`
//! is on). `CPL_DEBUG=ON`, GDAL's own switch, shows every GDAL line
//! whatever the flags (`-q` still hides the tool's warnings and bars).
//!
//! GDAL's messages arrive through `stac_raster::set_gdal_message_handler`,
//! already redacted by stac-raster (remembered secrets, query strings, URL
//! userinfo); they are redacted again here by value against this run's
//! signers. Nothing here panics on a closed stderr.

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::{ArgAction, Args, ValueEnum};
use stac_gdal::raster::{GdalMessage, GdalMessageLevel};

/// How much goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Level {
    /// The final error only.
    Error,
    /// Warnings, notes and progress bars (the default).
    Warn,
    /// Also GDAL's own warnings and errors.
    Info,
    /// Also GDAL's debug messages (with `CPL_DEBUG=ON`).
    Debug,
}

/// The global logging flags.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Print only the final error: no warnings, notes, progress bars or GDAL messages.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Show GDAL's own warnings and errors (-v), and its debug lines (-vv, with CPL_DEBUG=ON).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// error (as -q), warn (default), info (as -v) or debug (as -vv).
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    log_level: Option<Level>,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Warn as u8);
/// The level GDAL's lines are held to: [`LEVEL`], or debug with `CPL_DEBUG=ON`.
static GDAL_LEVEL: AtomicU8 = AtomicU8::new(Level::Warn as u8);

fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

impl LogArgs {
    /// The level these flags select.
    pub(crate) fn level(&self) -> Level {
        if let Some(l) = self.log_level {
            return l;
        }
        if self.quiet {
            return Level::Error;
        }
        match self.verbose {
            0 => Level::Warn,
            1 => Level::Info,
            _ => Level::Debug,
        }
    }

    /// Set the level and route GDAL's messages through it.
    pub(crate) fn install(&self) {
        let level = self.level();
        LEVEL.store(level as u8, Ordering::Relaxed);
        let gdal = if cpl_debug_on() { Level::Debug } else { level };
        GDAL_LEVEL.store(gdal as u8, Ordering::Relaxed);
        stac_gdal::raster::set_gdal_message_handler(gdal_message);
    }
}

fn cpl_debug_on() -> bool {
    std::env::var("CPL_DEBUG")
        .is_ok_and(|v| matches!(v.to_ascii_uppercase().as_str(), "ON" | "YES" | "TRUE" | "1"))
}

/// One line on stderr; a closed or full stderr is ignored.
fn line(text: std::fmt::Arguments<'_>) {
    let text = crate::signer_args::redact(&text.to_string());
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn gdal_message(m: GdalMessage<'_>) {
    let wanted = match m.level {
        GdalMessageLevel::Debug => Level::Debug,
        _ => Level::Info,
    };
    if GDAL_LEVEL.load(Ordering::Relaxed) >= wanted as u8 {
        line(format_args!("stac-gdal: gdal: {m}"));
    }
}

/// `stac-gdal: warning: …`, unless `-q`.
pub(crate) fn warn(message: impl Display) {
    if level() >= Level::Warn as u8 {
        line(format_args!("stac-gdal: warning: {message}"));
    }
}

/// `stac-gdal: warning: …`, even under `-q` (context for the final error).
pub(crate) fn warning_always(message: impl Display) {
    line(format_args!("stac-gdal: warning: {message}"));
}

/// A one-line note (a count, where the output went), unless `-q`.
pub(crate) fn note(message: impl Display) {
    if level() >= Level::Warn as u8 {
        line(format_args!("{message}"));
    }
}

/// The final error (always shown).
pub(crate) fn error(message: impl Display) {
    line(format_args!("stac-gdal: error: {message}"));
}

/// Whether progress bars stay hidden (`-q`).
pub(crate) fn quiet() -> bool {
    level() < Level::Warn as u8
}
