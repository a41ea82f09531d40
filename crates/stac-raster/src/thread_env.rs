//! Thread-local GDAL configuration, scoped to one call.
//!
//! [`EnvScope`] installs a [`GdalEnv`] with GDAL's
//! `CPLSetThreadLocalConfigOption` and restores every key's previous
//! thread-local value when dropped. Nothing is ever written to GDAL's
//! process-global configuration, so two threads opening datasets with
//! different signers never see each other's credentials.
//!
//! While a scope is installed, GDAL's messages on this thread go through a
//! thread-local error handler that removes every remembered secret value
//! (`crate::secrets`: a dataset's env is remembered when it is opened) and
//! query strings and URL userinfo (signatures, tokens) before printing them to stderr the way GDAL's
//! default handler does (debug messages too, when `CPL_DEBUG` is on);
//! GDAL's last-error message is unaffected.
//!
//! The first scope also replaces GDAL's process-wide handler by the same
//! redacting one — only while it is still GDAL's default, so a handler the
//! application set is kept. Messages GDAL emits outside any scope (a dataset
//! closed when dropped: `GDALClose(/vsicurl/https://…?sig=…)` under
//! `CPL_DEBUG=ON`, another thread) are then redacted as well.

use std::ffi::{CStr, CString};

use stac_signers::GdalEnv;

/// An installed [`GdalEnv`]: the keys are set as thread-local GDAL config
/// options on the current thread until the scope is dropped, which restores
/// the previous thread-local values (or unsets them).
///
/// The scope is deliberately `!Send`: it must be dropped on the thread that
/// created it.
///
/// ```
/// use stac_signers::GdalEnv;
/// use stac_raster::EnvScope;
/// let env = GdalEnv::new().with("STAC_RASTER_DOCTEST", "on");
/// {
///     let _scope = EnvScope::install(&env);
///     assert_eq!(stac_raster::thread_config("STAC_RASTER_DOCTEST").as_deref(), Some("on"));
/// }
/// assert_eq!(stac_raster::thread_config("STAC_RASTER_DOCTEST"), None);
/// ```
#[must_use = "the env is removed when the scope is dropped"]
pub struct EnvScope {
    /// (key, previous thread-local value) in installation order.
    saved: Vec<(CString, Option<CString>)>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Keys only: a thread's GDAL config can hold credentials.
impl std::fmt::Debug for EnvScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvScope")
            .field(
                "keys",
                &self.saved.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl EnvScope {
    /// Install `env` on the current thread. Keys or values containing a NUL
    /// byte are skipped (GDAL could not represent them).
    pub fn install(env: &GdalEnv) -> Self {
        let mut saved = Vec::with_capacity(env.len());
        for (k, v) in env.iter() {
            let (Ok(key), Ok(value)) = (CString::new(k), CString::new(v)) else {
                continue;
            };
            let previous = get_thread_local(&key);
            // SAFETY: both pointers are valid NUL-terminated strings for the
            // duration of the call; GDAL copies them.
            unsafe { gdal_sys::CPLSetThreadLocalConfigOption(key.as_ptr(), value.as_ptr()) };
            saved.push((key, previous));
        }
        redact_default_handler();
        // SAFETY: pushes a thread-local handler; popped in Drop on this thread.
        unsafe { gdal_sys::CPLPushErrorHandler(Some(redacting_handler)) };
        Self {
            saved,
            _not_send: std::marker::PhantomData,
        }
    }
}

/// Replace GDAL's process-wide error handler by [`redacting_handler`], once,
/// when it is still GDAL's default (an application's own handler is kept).
fn redact_default_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: swaps GDAL's global handler pointer; both are valid
        // `extern "C"` handlers with GDAL's signature.
        unsafe {
            let previous = gdal_sys::CPLSetErrorHandler(Some(redacting_handler));
            let default = gdal_sys::CPLDefaultErrorHandler as *const () as usize;
            if previous.is_some_and(|f| f as *const () as usize != default) {
                gdal_sys::CPLSetErrorHandler(previous);
            }
        }
    });
}

/// How serious a GDAL message is (GDAL's `CPLErr` class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum GdalMessageLevel {
    /// `CE_Debug`: emitted only when `CPL_DEBUG` is on.
    Debug,
    /// `CE_Warning`: printed by GDAL as `Warning N: …`.
    Warning,
    /// `CE_Failure` or `CE_Fatal`: printed by GDAL as `ERROR N: …`.
    Error,
}

/// One message GDAL emitted, already redacted (remembered secrets, query
/// strings and URL userinfo removed).
#[derive(Debug, Clone, Copy)]
pub struct GdalMessage<'a> {
    /// The message class.
    pub level: GdalMessageLevel,
    /// GDAL's error number (`CPLE_*`).
    pub number: i32,
    /// The redacted text.
    pub text: &'a str,
}

impl std::fmt::Display for GdalMessage<'_> {
    /// As GDAL's default handler prints it: `Warning 1: …`, `ERROR 1: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.level {
            GdalMessageLevel::Debug => write!(f, "{}", self.text),
            GdalMessageLevel::Warning => write!(f, "Warning {}: {}", self.number, self.text),
            GdalMessageLevel::Error => write!(f, "ERROR {}: {}", self.number, self.text),
        }
    }
}

type MessageHandler = Box<dyn Fn(GdalMessage<'_>) + Send + Sync>;

fn message_handler() -> &'static std::sync::OnceLock<MessageHandler> {
    static HANDLER: std::sync::OnceLock<MessageHandler> = std::sync::OnceLock::new();
    &HANDLER
}

/// Send every GDAL message of the process (every thread, inside an
/// [`EnvScope`] or not) to `handler`, redacted, instead of printing it to
/// stderr: an application routes GDAL's `Warning 1: …` and `ERROR 1: …`
/// lines through its own logging this way. Set once per process; returns
/// `false` (and keeps the first) when a handler was already set.
///
/// The redaction is the one [`EnvScope`]'s handler applies; `handler` must
/// not panic (a panic is caught and the message dropped).
///
/// ```
/// use stac_raster::GdalMessageLevel;
/// let first = stac_raster::set_gdal_message_handler(|m| {
///     if m.level >= GdalMessageLevel::Warning {
///         eprintln!("myapp: gdal: {}", m.text);
///     }
/// });
/// assert!(first);
/// // The first handler stays.
/// assert!(!stac_raster::set_gdal_message_handler(|_| {}));
/// ```
pub fn set_gdal_message_handler(handler: impl Fn(GdalMessage<'_>) + Send + Sync + 'static) -> bool {
    let set = message_handler().set(Box::new(handler)).is_ok();
    redact_default_handler();
    set
}

/// GDAL error handler: the redacted message goes to the handler set with
/// [`set_gdal_message_handler`], else to stderr as GDAL's default handler
/// prints it (debug messages, which GDAL only emits when `CPL_DEBUG` is
/// on, too). Never panics (a closed stderr is ignored): it runs inside
/// GDAL's C frames.
unsafe extern "C" fn redacting_handler(
    class: gdal_sys::CPLErr::Type,
    number: gdal_sys::CPLErrorNum,
    message: *const std::ffi::c_char,
) {
    if class == gdal_sys::CPLErr::CE_None || message.is_null() {
        return;
    }
    // SAFETY: GDAL passes a valid NUL-terminated message for the call.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    let text = crate::secrets::redact_message(&text);
    let level = match class {
        gdal_sys::CPLErr::CE_Debug => GdalMessageLevel::Debug,
        gdal_sys::CPLErr::CE_Warning => GdalMessageLevel::Warning,
        _ => GdalMessageLevel::Error,
    };
    let msg = GdalMessage {
        level,
        number,
        text: &text,
    };
    match message_handler().get() {
        Some(handler) => {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(msg)));
        }
        None => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }
}

impl Drop for EnvScope {
    fn drop(&mut self) {
        // SAFETY: pops the handler pushed in `install` on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
        // Restore in reverse order so a key set twice ends at its original value.
        for (key, previous) in self.saved.drain(..).rev() {
            let value = previous.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
            // SAFETY: valid C strings (or NULL, which unsets the key).
            unsafe { gdal_sys::CPLSetThreadLocalConfigOption(key.as_ptr(), value) };
        }
    }
}

fn get_thread_local(key: &CStr) -> Option<CString> {
    // SAFETY: valid key; GDAL returns NULL or a pointer to its own string,
    // which we copy at once.
    let p = unsafe { gdal_sys::CPLGetThreadLocalConfigOption(key.as_ptr(), std::ptr::null()) };
    if p.is_null() {
        None
    } else {
        // SAFETY: non-null NUL-terminated string owned by GDAL.
        Some(unsafe { CStr::from_ptr(p) }.to_owned())
    }
}

/// The current thread-local GDAL config value of `key` (not the global one).
/// For tests and diagnostics.
pub fn thread_config(key: &str) -> Option<String> {
    let key = CString::new(key).ok()?;
    get_thread_local(&key).map(|v| v.to_string_lossy().into_owned())
}

/// Run `f` with `env` installed on the current thread.
pub fn with_env<T>(env: &GdalEnv, f: impl FnOnce() -> T) -> T {
    let _scope = EnvScope::install(env);
    f()
}
