//! `set_gdal_message_handler`: GDAL's own messages reach the application's
//! handler (its own process: the handler is process-wide), redacted, with
//! their level and number, from any thread.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::ffi::CString;
use std::sync::Mutex;

use stac_raster::{GdalMessageLevel, set_gdal_message_handler};

static SEEN: Mutex<Vec<(GdalMessageLevel, i32, String)>> = Mutex::new(Vec::new());

fn emit(class: gdal_sys::CPLErr::Type, number: i32, text: &str) {
    let fmt = CString::new("%s").unwrap();
    let text = CString::new(text).unwrap();
    // SAFETY: a "%s" format with one valid C string argument.
    unsafe { gdal_sys::CPLError(class, number, fmt.as_ptr(), text.as_ptr()) };
}

#[test]
fn gdal_messages_reach_the_handler_redacted_with_their_level() {
    assert!(set_gdal_message_handler(|m| {
        SEEN.lock()
            .unwrap()
            .push((m.level, m.number, m.text.to_owned()));
    }));
    stac_raster::remember_secrets(["tok-5e3c7a1f9b"]);
    emit(
        gdal_sys::CPLErr::CE_Warning,
        1,
        "HTTP response code 403 for https://h.example/a.tif?sig=qs-secret-77 (tok-5e3c7a1f9b)",
    );
    // From another thread, outside any EnvScope.
    std::thread::spawn(|| emit(gdal_sys::CPLErr::CE_Failure, 4, "PROJ: unknown CRS"))
        .join()
        .unwrap();
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].0, seen[0].1), (GdalMessageLevel::Warning, 1));
    assert!(seen[0].0 < GdalMessageLevel::Error);
    assert!(seen[0].2.contains("HTTP response code 403"), "{seen:?}");
    for secret in ["qs-secret-77", "tok-5e3c7a1f9b"] {
        assert!(!seen[0].2.contains(secret), "{seen:?}");
    }
    assert_eq!(
        (seen[1].0, seen[1].1, seen[1].2.as_str()),
        (GdalMessageLevel::Error, 4, "PROJ: unknown CRS")
    );
    let shown = stac_raster::GdalMessage {
        level: GdalMessageLevel::Error,
        number: 4,
        text: "x",
    }
    .to_string();
    assert_eq!(shown, "ERROR 4: x");
}
