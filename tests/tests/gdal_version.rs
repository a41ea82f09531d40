//! Which GDAL the tests run against: the running library's version, printed
//! once, and checked against `$STAC_GDAL_EXPECT_GDAL` when it is set
//! (`cargo xtask gdal-3.12` sets it to the wheel's version, so a build that
//! silently linked the system's GDAL fails here instead of passing on 3.6).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

#[test]
fn the_running_gdal_is_the_expected_one() {
    let release = gdal::version::version_info("RELEASE_NAME");
    let num: u64 = gdal::version::version_info("VERSION_NUM")
        .parse()
        .expect("VERSION_NUM is a number");
    // One line for the CI log (`--show-output`).
    println!(
        "GDAL under test: {} (VERSION_NUM {num}, {})",
        gdal::version::version_info("--version"),
        gdal::version::version_info("BUILD_INFO")
            .lines()
            .filter(|l| l.starts_with("PROJ_") || l.starts_with("CURL_"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The raster formats the source layer allows, and whether this build has them.
    let drivers: Vec<String> = [
        "GTiff",
        "COG",
        "JP2OpenJPEG",
        "netCDF",
        "GRIB",
        "Zarr",
        "HDF5",
        "PNG",
        "JPEG",
        "VRT",
    ]
    .iter()
    .map(|name| {
        let have = gdal::DriverManager::get_driver_by_name(name).is_ok();
        format!("{name}{}", if have { "" } else { " (missing)" })
    })
    .collect();
    println!("GDAL drivers: {}", drivers.join(", "));
    // VERSION_NUM is major*1000000 + minor*10000 + rev*100, and agrees with the release name.
    let (major, minor, rev) = (num / 1_000_000, num / 10_000 % 100, num / 100 % 100);
    assert!(
        release.starts_with(&format!("{major}.{minor}.{rev}")),
        "RELEASE_NAME {release:?} vs VERSION_NUM {num}"
    );
    if let Ok(expected) = std::env::var("STAC_GDAL_EXPECT_GDAL") {
        assert_eq!(
            release, expected,
            "the tests were meant to run against GDAL {expected} but the linked library is {release}"
        );
    }
}
