//! Runs the offline tour (`examples/offline_tour.rs`) and checks every printed
//! cell against the values the Python library printed, read from
//! `../shared/reference/seed-reference-output.md` (section 3).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// `N -> output` from the reference table: the first backticked span of the third column.
fn reference_cells() -> BTreeMap<u32, String> {
    let path = stac_fixtures::shared_file("reference/seed-reference-output.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text
        .split("## 3.")
        .nth(1)
        .expect("section 3")
        .split("\n## ")
        .next()
        .unwrap();
    let mut cells = BTreeMap::new();
    for line in section.lines() {
        let line = line.replace("\\|", "\u{1}");
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 4 {
            continue;
        }
        let Ok(n) = cols[1].parse::<u32>() else {
            continue;
        };
        let out = cols[3]
            .split('`')
            .nth(1)
            .expect("a backticked output")
            .replace('\u{1}', "|");
        cells.insert(n, out);
    }
    assert_eq!(cells.len(), 13, "the reference lists 13 seed cells");
    cells
}

/// `N -> printed value` from the tour's stdout.
fn tour_cells() -> BTreeMap<u32, String> {
    // Examples are built by `cargo test`, next to the test binaries' deps/ dir.
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("offline_tour");
    assert!(bin.exists(), "{} not built", bin.display());
    let out = Command::new(&bin).output().expect("run the tour");
    assert!(
        out.status.success(),
        "tour failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut cells = BTreeMap::new();
    for line in stdout.lines() {
        if let Some(path) = line.strip_prefix("[quicklook] ") {
            // The cube quick-look: a PNG inside the workspace.
            let png = PathBuf::from(path);
            assert!(path.contains("stac_gdal_tour_") && png.is_file(), "{path}");
            let bytes = std::fs::read(&png).unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path} is a PNG");
            std::fs::remove_dir_all(png.parent().unwrap()).unwrap();
            continue;
        }
        let (n, value) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .expect("lines are `[N] value`");
        assert!(
            cells
                .insert(n.parse::<u32>().unwrap(), value.to_owned())
                .is_none(),
            "cell {n} printed twice"
        );
    }
    cells
}

#[test]
fn tour_prints_the_seed_values() {
    let reference = reference_cells();
    let tour = tour_cells();
    assert_eq!(
        tour.keys().copied().collect::<Vec<_>>(),
        (1..=13).collect::<Vec<_>>(),
        "every cell, in order"
    );

    let work = tour[&1]
        .strip_prefix("workspace: ")
        .expect("cell 1 names the workspace")
        .to_owned();
    assert!(work.contains("stac_gdal_tour_"), "{work}");
    for (n, want) in &reference {
        let got = &tour[n];
        let want = want.replace("{WORK}", &work);
        match n {
            // Issue 6 asks for the region keys (as pyramids 0.72 emits them) before the
            // three keys pyramids 0.31 printed.
            10 => assert_eq!(
                got,
                &format!(
                    "{{'AWS_REGION': 'us-west-2', 'AWS_DEFAULT_REGION': 'us-west-2', {}",
                    &want[1..]
                ),
                "cell 10"
            ),
            _ => assert_eq!(got, &want, "cell {n}"),
        }
    }
}
