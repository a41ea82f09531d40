//! `cargo xtask bench`: criterion benches in release, then docs/benchmarks.md.

use std::fmt::Write as _;
use std::path::Path;

use crate::process::{cargo, output, root, step};

/// Criterion benches to run: (package, bench target, what it measures).
const CRITERION: &[(&str, &str, &str)] = &[
    (
        "stac-meta",
        "extension_metadata",
        "`read_extension_metadata` over 100k assets parsed from the fixtures (JSON already parsed)",
    ),
    (
        "stac-geoparquet",
        "geoparquet",
        "write (`to_geoparquet`) and read (`from_geoparquet`) of the 69 fixture items, spec layout, zstd",
    ),
    (
        "stac-vrt",
        "build_vrt",
        "`build_vrt_from_stac` over 10,000 items from metadata (no file opened; XML included)",
    ),
];

/// Run the benches (optionally only those whose package matches `filter`) and write the report.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    crate::setup::prepare()?;
    let filter = args.first().map(String::as_str);
    if filter == Some("latency") && args.iter().any(|a| a == "--variants") {
        // Comparing builds or settings: the report goes under target/.
        return crate::bench_latency::append(&mut String::new(), &args[1..]);
    }
    let mut report = String::new();
    writeln!(report, "# Benchmarks\n").unwrap();
    writeln!(report, "Written by `cargo xtask bench`. Figures come from one run on one machine; compare ratios, not seconds.\n").unwrap();
    writeln!(report, "- machine: {}", machine()).unwrap();
    writeln!(
        report,
        "- rustc: {}",
        output({
            let mut rustc = std::process::Command::new("rustc");
            rustc.arg("--version");
            rustc
        })
        .unwrap_or_default()
        .trim()
    )
    .unwrap();
    writeln!(report).unwrap();
    for (package, bench, what) in CRITERION {
        if filter.is_some_and(|f| !package.contains(f)) {
            continue;
        }
        let started = std::time::SystemTime::now();
        step(
            &format!("criterion {package}/{bench}"),
            cargo(&["bench", "-p", package, "--bench", bench]),
        )?;
        writeln!(report, "## {package}: {bench}\n\n{what}\n").unwrap();
        writeln!(
            report,
            "| benchmark | mean time | throughput |\n|---|---|---|"
        )
        .unwrap();
        for (name, mean_ns, elements) in
            criterion_results(&target_dir().join("criterion"), started)?
        {
            let per_sec = elements.map(|n| n as f64 / (mean_ns * 1e-9));
            writeln!(
                report,
                "| {name} | {} | {} |",
                human_time(mean_ns),
                per_sec.map(human_rate).unwrap_or_else(|| "-".into())
            )
            .unwrap();
        }
        writeln!(report).unwrap();
    }
    if filter.is_none_or(|f| "stac-vrt".contains(f)) {
        crate::bench_vrt::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-client".contains(f)) {
        crate::bench_client::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-geoparquet".contains(f)) {
        crate::bench_geoparquet::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-geoparquet-search".contains(f)) {
        crate::bench_geoparquet::append_search(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-cube".contains(f)) {
        crate::bench_cube::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-cube-e2e".contains(f)) {
        crate::bench_cube_e2e::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-cube-zarr".contains(f)) {
        crate::bench_zarr::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-gdal-py".contains(f)) {
        crate::bench_python::append(&mut report)?;
    }
    if filter.is_none_or(|f| "stac-cube-latency".contains(f)) {
        let opts = if filter == Some("latency") {
            &args[1..]
        } else {
            &[]
        };
        crate::bench_latency::append(&mut report, opts)?;
    }
    let path = root().join("docs/benchmarks.md");
    if filter.is_some() {
        // Only some sections ran: keep the others from the existing file.
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        report = merge_sections(&old, &report);
    }
    std::fs::write(&path, report).map_err(|e| format!("writing {}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// Split a report into its preamble and its `## ` sections (title line, whole text).
fn sections(text: &str) -> (String, Vec<(String, String)>) {
    let mut pre = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            out.push((line.trim_end().to_owned(), String::new()));
        }
        match out.last_mut() {
            Some((_, body)) => body.push_str(line),
            None => pre.push_str(line),
        }
    }
    (pre, out)
}

/// `old` with the sections that `new` has replaced (same title), the new
/// ones appended, and `new`'s preamble (machine, rustc) followed by the old
/// preamble's `- runs:` note (which run each section comes from: the
/// sections kept from `old` still need it).
fn merge_sections(old: &str, new: &str) -> String {
    let (old_pre, old_sections) = sections(old);
    let (pre, mut new_sections) = sections(new);
    let mut out = pre;
    if let Some(runs) = old_pre.lines().find(|l| l.starts_with("- runs:")) {
        // After the preamble's last bullet (machine, rustc).
        let mut at = out.len();
        let mut offset = 0;
        for line in out.split_inclusive('\n') {
            offset += line.len();
            if line.starts_with("- ") {
                at = offset;
            }
        }
        out.insert_str(at, &format!("{runs}\n"));
    }
    for (title, body) in old_sections {
        match new_sections.iter().position(|(t, _)| *t == title) {
            Some(i) => out.push_str(&new_sections.remove(i).1),
            None => out.push_str(&body),
        }
    }
    for (_, body) in new_sections {
        out.push_str(&body);
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

fn human_rate(per_sec: f64) -> String {
    match per_sec {
        r if r >= 1e6 => format!("{:.2} M elements/s", r / 1e6),
        r if r >= 1e3 => format!("{:.1} k elements/s", r / 1e3),
        r => format!("{r:.1} elements/s"),
    }
}

fn human_time(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.3} s", n / 1e9),
        n if n >= 1e6 => format!("{:.3} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.3} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `<root>/target`).
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// (benchmark id, mean ns, elements per iteration) for every criterion result
/// under `dir` written since `since` (so each section lists only its own bench).
fn criterion_results(
    dir: &Path,
    since: std::time::SystemTime,
) -> Result<Vec<(String, f64, Option<u64>)>, String> {
    let mut out = Vec::new();
    visit(dir, since, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn visit(dir: &Path, since: std::time::SystemTime, out: &mut Vec<(String, f64, Option<u64>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "new") {
            let read = |f: &str| -> Option<serde_json::Value> {
                serde_json::from_str(&std::fs::read_to_string(path.join(f)).ok()?).ok()
            };
            let fresh = std::fs::metadata(path.join("estimates.json"))
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if !fresh {
                continue;
            }
            if let (Some(est), Some(bench)) = (read("estimates.json"), read("benchmark.json")) {
                let mean = est["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                let id = bench["full_id"].as_str().unwrap_or("?").to_owned();
                let elements = bench["throughput"]["Elements"].as_u64();
                out.push((id, mean, elements));
            }
        } else if path.is_dir() && path.file_name().is_some_and(|n| n != "report") {
            visit(&path, since, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_sections;

    #[test]
    fn a_partial_run_keeps_old_sections_and_the_runs_note() {
        let old =
            "# B\n\nintro\n\n- machine: a\n- runs: from run 1\n\n## one\nold 1\n## two\nold 2\n";
        let new = "# B\n\nintro\n\n- machine: b\n- rustc: r\n\n## two\nnew 2\n## three\nnew 3\n";
        assert_eq!(
            merge_sections(old, new),
            "# B\n\nintro\n\n- machine: b\n- rustc: r\n- runs: from run 1\n\n## one\nold 1\n## two\nnew 2\n## three\nnew 3\n"
        );
    }
}
