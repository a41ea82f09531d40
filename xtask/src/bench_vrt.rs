//! The side-by-side VRT benchmark: `build_vrt_from_stac` from STAC metadata
//! vs `gdalbuildvrt` over the same 10,000 small local GeoTIFFs, in one run
//! (the `vrt_vs_gdalbuildvrt` bench of `stac-vrt`). Appends a section with
//! the ratio to the report.

use std::fmt::Write as _;

use crate::process::{cargo, output};

/// The target speed-up of the metadata path over `gdalbuildvrt`.
const TARGET_RATIO: f64 = 50.0;

/// Run the comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    eprintln!("xtask: ── stac-vrt: build_vrt_from_stac vs gdalbuildvrt (10,000 files)");
    let stdout = output(cargo(&[
        "bench",
        "-p",
        "stac-vrt",
        "--bench",
        "vrt_vs_gdalbuildvrt",
    ]))?;
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("VRT_BENCH "))
        .ok_or("the vrt_vs_gdalbuildvrt bench printed no VRT_BENCH line")?;
    let r: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("bad VRT_BENCH line: {e}"))?;
    let num = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let ratio = num("ratio");
    writeln!(
        report,
        "## stac-vrt: VRT over {} items, from metadata vs gdalbuildvrt\n",
        r["items"]
    )
    .unwrap();
    writeln!(
        report,
        "`build_vrt_from_stac` writes the VRT from `proj:*` and `raster:bands` alone \
         (no file opened, XML written to disk included); `gdalbuildvrt -resolution highest \
         -input_file_list` opens each of the same {} local files ({}). Best of 3 / best of 2, \
         same machine, same run; both give the same grid ({} rows x {} columns).\n",
        r["items"],
        r["tile"].as_str().unwrap_or("?"),
        r["shape"][0],
        r["shape"][1]
    )
    .unwrap();
    writeln!(report, "| tool | time |\n|---|---|").unwrap();
    writeln!(
        report,
        "| build_vrt_from_stac (metadata) | {:.3} s |",
        num("ours_seconds")
    )
    .unwrap();
    writeln!(
        report,
        "| gdalbuildvrt | {:.3} s |",
        num("gdalbuildvrt_seconds")
    )
    .unwrap();
    writeln!(
        report,
        "\n**Ratio: {ratio:.1}x faster** (target >= {TARGET_RATIO}x: {}).\n",
        if ratio >= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    )
    .unwrap();
    Ok(())
}
