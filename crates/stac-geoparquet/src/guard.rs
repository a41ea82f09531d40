//! Containing panics of the Parquet decoder.
//!
//! parquet 60 has assertions on values read from the file (e.g. "column
//! start and length should not be negative" on a corrupt footer), so a
//! malformed file can panic inside it. Every call into the decoder that
//! reads the file goes through [`guarded`], which turns such a panic into an
//! error message: a bad file is an `Err`, never a crash (with the default
//! `panic = "unwind"`; the panic message is still printed by the panic
//! hook). Found by the `geoparquet` fuzz target (docs/reliability.md).

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `f`; a panic becomes `Err` with its message.
///
/// The state `f` touched may be inconsistent afterwards: callers stop using
/// the decoder after an `Err`.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        format!("the Parquet decoder failed on malformed data: {what}")
    })
}
