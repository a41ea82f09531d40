//! `stac-gdal download` interrupted by `SIGINT`, `SIGTERM` and `SIGKILL`
//! (sent by PID) at two points: as soon as its staging directory exists,
//! and mid-transfer with one asset already staged. After `SIGINT`/`SIGTERM`
//! the process exits 130/143 and no temp file is left in or beside the
//! destination; after any of the three, a rerun gives exactly the output of
//! an uninterrupted run, and leaves no temp file either.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use stac_gdal_e2e::fault_server::{FaultServer, Reply};

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out waiting for {what}");
}

/// Every file under `dir` (relative path → bytes).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let bytes = std::fs::read(&p).unwrap();
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[derive(Clone, Copy, Debug)]
enum Signal {
    Int,
    Term,
    Kill,
}

#[derive(Clone, Copy, Debug)]
enum Point {
    /// The staging directory exists (the handler is installed), maybe no byte yet.
    Start,
    /// The small asset is staged, the big one is in flight.
    Midway,
}

#[test]
fn interrupted_downloads_leave_no_temp_file_and_rerun_to_the_same_output() {
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let small: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 241) as u8).collect();
    let slow = Arc::new(AtomicBool::new(false));
    let (s2, b2, m2) = (slow.clone(), big.clone(), small.clone());
    let server = FaultServer::start(move |r| {
        let (body, tag) = if r.path().ends_with("big.bin") {
            (&b2, "big-1")
        } else {
            (&m2, "small-1")
        };
        if s2.load(Ordering::SeqCst) && r.path().ends_with("big.bin") {
            return Reply::Paced {
                status: 200,
                headers: vec![("ETag".into(), format!("\"{tag}\""))],
                body: body.clone(),
                piece: 16 << 10,
                delay: Duration::from_millis(20),
            };
        }
        Reply::file(r, body, tag)
    });
    let work = tempfile::tempdir().unwrap();
    let item_path = work.path().join("item.json");
    let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "sig",
        "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
        "assets": {
            "big": {"href": server.url("/f/big.bin?sig=SIG-SECRET"), "file:size": big.len()},
            "small": {"href": server.url("/f/small.bin"), "file:size": small.len()}}});
    std::fs::write(&item_path, item.to_string()).unwrap();
    let cli = |dest: &Path| {
        let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
        cmd.arg("download")
            .arg(&item_path)
            .arg(dest)
            .args(["--quiet", "--concurrency", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };

    for (n, (signal, point)) in [
        (Signal::Int, Point::Start),
        (Signal::Int, Point::Midway),
        (Signal::Term, Point::Start),
        (Signal::Term, Point::Midway),
        (Signal::Kill, Point::Start),
        (Signal::Kill, Point::Midway),
    ]
    .into_iter()
    .enumerate()
    {
        let case = format!("{signal:?} at {point:?}");
        let base = work.path().join(format!("case-{n}"));
        let dest: PathBuf = base.join("dest");
        let staging = dest.join(".stac-gdal-staging");
        // The uninterrupted run into the same path (the item JSON holds
        // absolute hrefs), then out of the way.
        slow.store(false, Ordering::SeqCst);
        let out = cli(&dest).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = tree(&dest);
        assert_eq!(
            want.keys().cloned().collect::<Vec<_>>(),
            [
                "big.bin",
                "sig.json",
                "small.bin",
                "stac-gdal-manifest.json"
            ]
        );
        std::fs::remove_dir_all(&dest).unwrap();
        slow.store(true, Ordering::SeqCst);
        let mut child = cli(&dest).spawn().unwrap();
        let pid = child.id();
        match point {
            Point::Start => wait_until("the staging directory", 20, || staging.exists()),
            Point::Midway => wait_until("a staged asset and a part in flight", 20, || {
                std::fs::read_dir(&staging).is_ok_and(|r| {
                    let sizes: Vec<u64> = r
                        .filter_map(|e| e.ok())
                        .filter(|e| e.path().extension().is_some_and(|x| x == "part"))
                        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
                        .collect();
                    sizes.contains(&(small.len() as u64))
                        && sizes.iter().any(|&s| s >= 200_000 && s < big.len() as u64)
                })
            }),
        }
        let name = match signal {
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
        };
        let sent = Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "{case}: kill {pid}");
        let status = child.wait().unwrap();
        let stderr = {
            let mut s = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut s).unwrap();
            s
        };
        assert!(!stderr.contains("SIG-SECRET"), "{case}: {stderr}");
        match signal {
            Signal::Int | Signal::Term => {
                let code = if matches!(signal, Signal::Int) {
                    130
                } else {
                    143
                };
                assert_eq!(status.code(), Some(code), "{case}: {stderr}");
                // No temp file in or beside the destination: nothing at all.
                assert!(!staging.exists(), "{case}: staging left");
                let left: Vec<_> = std::fs::read_dir(&dest)
                    .map(|r| r.map(|e| e.unwrap().file_name()).collect())
                    .unwrap_or_default();
                assert!(left.is_empty(), "{case}: {left:?}");
                let beside: Vec<_> = std::fs::read_dir(&base)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                assert_eq!(beside, ["dest"], "{case}");
            }
            Signal::Kill => {
                assert_eq!(status.code(), None, "{case}: killed by the signal");
                for f in [
                    "big.bin",
                    "small.bin",
                    "sig.json",
                    "stac-gdal-manifest.json",
                ] {
                    assert!(!dest.join(f).exists(), "{case}: {f} under its final name");
                }
            }
        }
        // The rerun: the same output as the uninterrupted run, no temp file.
        slow.store(false, Ordering::SeqCst);
        let out = cli(&dest).output().unwrap();
        assert!(
            out.status.success(),
            "{case}: rerun: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!staging.exists(), "{case}: staging left after the rerun");
        let got = tree(&dest);
        let differ: Vec<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .collect();
        assert!(
            differ.is_empty(),
            "{case}: rerun output differs in {differ:?}: {:?}",
            differ
                .iter()
                .map(|k| got
                    .get(*k)
                    .map(|b| String::from_utf8_lossy(&b[..b.len().min(400)]).into_owned()))
                .collect::<Vec<_>>()
        );
    }
}
