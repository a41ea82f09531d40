//! Builds the inflate half of libdeflate 1.26 (vendored in
//! `vendor/libdeflate`, MIT; see its README) for `deflate_block`.
//!
//! Every external symbol is renamed with a `stac_raster_` prefix and
//! compiled with hidden visibility. GDAL's libtiff links the system's
//! libdeflate under the plain names; an executable exports any symbol a
//! shared library it links references, so plain names here would replace
//! the system library's functions inside GDAL (and objects allocated by
//! one version would meet functions of the other). Renamed and hidden,
//! this copy is reachable only from this crate's Rust code.

/// The external symbols of the files built here (`nm` of the objects:
/// the API functions and libdeflate's internal globals).
const SYMBOLS: &[&str] = &[
    "libdeflate_adler32",
    "libdeflate_aligned_free",
    "libdeflate_aligned_malloc",
    "libdeflate_alloc_decompressor",
    "libdeflate_alloc_decompressor_ex",
    "libdeflate_default_free_func",
    "libdeflate_default_malloc_func",
    "libdeflate_deflate_decompress",
    "libdeflate_deflate_decompress_ex",
    "libdeflate_free_decompressor",
    "libdeflate_init_x86_cpu_features",
    "libdeflate_set_memory_allocator",
    "libdeflate_x86_cpu_features",
    "libdeflate_zlib_decompress",
    "libdeflate_zlib_decompress_ex",
    "libdeflate_arm_cpu_features",
    "libdeflate_init_arm_cpu_features",
];

const FILES: &[&str] = &[
    "lib/deflate_decompress.c",
    "lib/zlib_decompress.c",
    "lib/adler32.c",
    "lib/utils.c",
    "lib/x86/cpu_features.c",
    "lib/arm/cpu_features.c",
];

fn main() {
    let dir = std::path::Path::new("vendor/libdeflate");
    println!("cargo:rerun-if-changed=vendor/libdeflate");
    println!("cargo:rerun-if-changed=build.rs");
    let mut build = cc::Build::new();
    build
        .include(dir)
        .warnings(false)
        .opt_level(2)
        .flag_if_supported("-fvisibility=hidden")
        .define("LIBDEFLATEAPI", Some(""));
    for s in SYMBOLS {
        build.define(s, Some(format!("stac_raster_{s}").as_str()));
    }
    for f in FILES {
        build.file(dir.join(f));
    }
    build.compile("stac_raster_libdeflate");
}
