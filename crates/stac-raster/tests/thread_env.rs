//! Thread-local GDAL configuration: scoped, restored, never global, and
//! re-installed around reads of a dataset.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::sync::{Arc, Barrier};

use ndarray::Array2;
use stac_raster::{Dataset, EnvScope, GdalEnv, GridSpec, thread_config};

const KEY: &str = "STAC_RASTER_TEST_HEADER";

#[test]
fn two_threads_never_see_each_others_env() {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["Bearer alpha", "Bearer beta"]
        .into_iter()
        .map(|value| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let env = GdalEnv::new().with(KEY, value);
                let _scope = EnvScope::install(&env);
                barrier.wait(); // both envs installed at the same time
                let seen = thread_config(KEY);
                let global = gdal::config::get_config_option(KEY, "<unset>").unwrap();
                barrier.wait();
                (value, seen, global)
            })
        })
        .collect();
    for h in handles {
        let (value, seen, global) = h.join().unwrap();
        assert_eq!(seen.as_deref(), Some(value));
        // CPLGetConfigOption sees the thread-local value first...
        assert_eq!(global, value);
    }
    // ...but nothing was set process-globally.
    assert_eq!(thread_config(KEY), None);
    assert_eq!(
        gdal::config::get_config_option(KEY, "<unset>").unwrap(),
        "<unset>"
    );
}

#[test]
fn scopes_nest_and_restore_previous_values() {
    let outer = GdalEnv::new().with("STAC_RASTER_NEST", "outer");
    let inner = GdalEnv::new()
        .with("STAC_RASTER_NEST", "inner")
        .with("STAC_RASTER_ONLY_INNER", "x");
    let a = EnvScope::install(&outer);
    {
        let _b = EnvScope::install(&inner);
        assert_eq!(thread_config("STAC_RASTER_NEST").as_deref(), Some("inner"));
        assert_eq!(
            thread_config("STAC_RASTER_ONLY_INNER").as_deref(),
            Some("x")
        );
    }
    assert_eq!(thread_config("STAC_RASTER_NEST").as_deref(), Some("outer"));
    assert_eq!(thread_config("STAC_RASTER_ONLY_INNER"), None);
    drop(a);
    assert_eq!(thread_config("STAC_RASTER_NEST"), None);
}

#[test]
fn dataset_env_is_installed_around_its_calls_only() {
    let env = GdalEnv::new().with("STAC_RASTER_DS_KEY", "on");
    let mut ds = Dataset::create_from_array(
        &Array2::<u8>::zeros((2, 2)),
        &GridSpec::north_up([0.0, 2.0], 1.0, 4326),
        None,
    )
    .unwrap();
    ds.set_env(env.clone());
    assert_eq!(ds.env(), &env);
    assert_eq!(
        ds.scoped(|_| thread_config("STAC_RASTER_DS_KEY"))
            .as_deref(),
        Some("on")
    );
    assert_eq!(thread_config("STAC_RASTER_DS_KEY"), None);
    // Moved to another thread, the handle brings its env along.
    let seen = std::thread::spawn(move || ds.scoped(|_| thread_config("STAC_RASTER_DS_KEY")))
        .join()
        .unwrap();
    assert_eq!(seen.as_deref(), Some("on"));
}

#[test]
fn debug_output_hides_secret_env_values() {
    let mut ds = Dataset::create_from_array(
        &Array2::<u8>::zeros((1, 1)),
        &GridSpec::north_up([0.0, 1.0], 1.0, 4326),
        None,
    )
    .unwrap();
    ds.set_env(GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer s3cr3t"));
    let shown = format!("{ds:?}");
    assert!(
        shown.contains("GDAL_HTTP_HEADERS") && !shown.contains("s3cr3t"),
        "{shown}"
    );
}
