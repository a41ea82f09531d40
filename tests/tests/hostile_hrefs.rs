//! Hostile hrefs × every GDAL entry point (library and CLI), remote VRTs
//! naming local files, item provenance, and deadlines against trickling
//! servers (issue 13). Everything is on 127.0.0.1.
//!
//! Each hostile href is refused with a typed error naming the item, the
//! asset and the rule, and nothing is opened: a raw TCP listener standing
//! in for `PG:` and `WMS:` sees no connection.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::cube::{CubeError, CubeOptions, DatasetCollection};
use stac_gdal::meta::{HrefPolicy, HrefRule};
use stac_gdal::raster::{
    Dataset, GridSpec, LoadOptions, PartOptions, RasterError, Timeouts, load_asset, read_item_part,
};
use stac_gdal_e2e::fault_server::{FaultServer, Reply};
use stac_gdal_e2e::stac_gdal_bin;
use stac_vrt::{VrtError, VrtOptions, build_vrt_from_stac};

/// A raw TCP listener counting the connections it gets.
struct Listener {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Listener {
    fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                h.fetch_add(1, Ordering::SeqCst);
                drop(s);
            }
        });
        Self { port, hits }
    }
}

fn write_tif(path: &Path, value: u16) {
    Dataset::create_from_array(
        &Array2::<u16>::from_elem((4, 4), value),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(path)
    .unwrap();
}

fn item(id: &str, href: &str) -> Value {
    json!({"id": id, "type": "Feature", "bbox": [-1.7, 47.8, -1.6, 47.9],
           "properties": {"datetime": "2021-06-01T00:00:00Z"},
           "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff"}}})
}

/// Every class that must be refused whatever the options, with its rule.
fn hostile_hrefs(pg: u16, dir: &Path) -> Vec<(String, HrefRule)> {
    let local = dir.join("a.tif");
    let local = local.display();
    vec![
        (
            format!("PG:host=127.0.0.1 port={pg} dbname=x"),
            HrefRule::ConnectionString,
        ),
        (
            format!("MYSQL:x,host=127.0.0.1,port={pg}"),
            HrefRule::ConnectionString,
        ),
        ("ODBC:dsn".into(), HrefRule::ConnectionString),
        (
            format!("WMS:http://127.0.0.1:{pg}/wms"),
            HrefRule::ConnectionString,
        ),
        (
            format!("WFS:http://127.0.0.1:{pg}/wfs"),
            HrefRule::ConnectionString,
        ),
        (format!("GTIFF_DIR:1:{local}"), HrefRule::ConnectionString),
        (
            "MEM:::DATAPOINTER=0x1000,PIXELS=1,LINES=1".into(),
            HrefRule::NotAFile,
        ),
        (
            "<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"/>".into(),
            HrefRule::NotAFile,
        ),
        ("/vsistdin/".into(), HrefRule::SpecialFile),
        ("/vsistdout/".into(), HrefRule::SpecialFile),
        ("/vsimem/x.tif".into(), HrefRule::SpecialFile),
        (format!("/vsisubfile/0_100,{local}"), HrefRule::SpecialFile),
        (format!("/vsigzip/{local}.gz"), HrefRule::SpecialFile),
        (
            format!("/vsicurl?header_file={local}&url=http://127.0.0.1:{pg}/a.tif"),
            HrefRule::SpecialFile,
        ),
        (format!("ftp://127.0.0.1:{pg}/a.tif"), HrefRule::Scheme),
    ]
}

fn cube_rule(e: &CubeError) -> Option<String> {
    match e {
        CubeError::Read { failures } => failures.first().and_then(|f| f.rule.clone()),
        CubeError::Raster(r) => r.rule().map(|r| r.to_string()),
        _ => None,
    }
}

#[test]
fn hostile_hrefs_are_refused_by_every_entry_point_and_nothing_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    write_tif(&dir.path().join("a.tif"), 7);
    let pg = Listener::start();
    let bin = stac_gdal_bin();
    for (href, rule) in hostile_hrefs(pg.port, dir.path()) {
        let it = item("hostile", &href);
        let items = vec![it.clone()];
        // Library: cube (a listed failure naming item, asset and rule).
        let e =
            DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap_err();
        assert_eq!(
            cube_rule(&e).as_deref(),
            Some(rule.as_str()),
            "cube {href}: {e}"
        );
        assert!(e.to_string().contains("'hostile'"), "{e}");
        // load_asset and the item-level reads.
        for e in [
            load_asset(&it, Some("data"), &LoadOptions::default()).unwrap_err(),
            read_item_part::<u16>(
                &it,
                Some("data"),
                [0.0, 0.0, 1.0, 1.0],
                None,
                &PartOptions::default(),
            )
            .unwrap_err(),
        ] {
            match &e {
                RasterError::Refused { at, rule: r, .. } => {
                    assert_eq!(
                        (at.item.as_str(), at.asset.as_deref().unwrap_or(""), *r),
                        ("hostile", "data", rule),
                        "{href}"
                    )
                }
                other => panic!("load {href}: {other}"),
            }
        }
        // VRT build: a skipped source naming the rule.
        let e = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap_err();
        assert!(matches!(e, VrtError::SkippedSources { .. }), "{e}");
        assert!(e.to_string().contains(rule.as_str()), "vrt {href}: {e}");
        // A path the user names directly is held to the same classes.
        let e = Dataset::open(&href).unwrap_err();
        assert_eq!(e.rule(), Some(rule), "open {href}: {e}");
        // CLI: cube, vrt and item.
        let items_path = dir.path().join("items.json");
        std::fs::write(&items_path, serde_json::to_string(&items).unwrap()).unwrap();
        for args in [
            vec![
                "cube",
                items_path.to_str().unwrap(),
                "--asset",
                "data",
                "--out",
                dir.path().join("out").to_str().unwrap(),
                "--quiet",
            ],
            vec![
                "vrt",
                items_path.to_str().unwrap(),
                "--asset",
                "data",
                "-o",
                dir.path().join("m.vrt").to_str().unwrap(),
            ],
            vec!["item", href.as_str(), "--id", "x"],
        ] {
            let out = Command::new(&bin)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} succeeded");
            assert!(stderr.contains(rule.as_str()), "{args:?}: {stderr}");
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        pg.hits.load(Ordering::SeqCst),
        0,
        "something connected to the PG/WMS listener"
    );
}

#[test]
fn a_remote_vrt_brings_no_local_pixels_into_a_cube() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.tif");
    write_tif(&secret, 4242);
    let vrt = format!(
        r#"<VRTDataset rasterXSize="4" rasterYSize="4"><SRS>EPSG:32630</SRS>
<GeoTransform>600000, 10, 0, 5300000, 0, -10</GeoTransform>
<VRTRasterBand dataType="UInt16" band="1"><SimpleSource>
<SourceFilename relativeToVRT="0">{}</SourceFilename><SourceBand>1</SourceBand>
</SimpleSource></VRTRasterBand></VRTDataset>"#,
        secret.display()
    );
    let server = FaultServer::start(move |r| Reply::bytes(r, vrt.as_bytes()));
    let items = vec![item("remote-vrt", &server.url("/mosaic.vrt"))];
    // Default: a remote VRT is refused before it is fetched.
    let e = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap_err();
    assert_eq!(cube_rule(&e).as_deref(), Some("remote-vrt"), "{e}");
    assert!(server.requests().is_empty(), "the VRT was fetched");
    // Allowed: fetched once, its local source refused, no pixel read.
    let opts =
        CubeOptions::default().with_href_policy(HrefPolicy::default().with_allow_remote_vrt(true));
    let e = DatasetCollection::from_stac(&items, &["data"], &opts).unwrap_err();
    assert!(e.to_string().contains("vrt-source"), "{e}");
    assert!(
        e.to_string().contains("local path named by a remote VRT"),
        "{e}"
    );
    // The same through the CLI.
    let p = dir.path().join("items.json");
    std::fs::write(&p, serde_json::to_string(&items).unwrap()).unwrap();
    let out = Command::new(stac_gdal_bin())
        .args(["cube", p.to_str().unwrap(), "--asset", "data", "--out"])
        .arg(dir.path().join("out"))
        .args(["--quiet", "--allow-remote-vrt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("vrt-source"));
    assert!(
        !dir.path().join("out").exists()
            || std::fs::read_dir(dir.path().join("out"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn local_hrefs_from_remote_items_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tif");
    write_tif(&a, 9);
    let items = vec![
        item("local", a.to_str().unwrap()),
        item("url", &format!("file://{}", a.display())),
    ];
    // Items from a local file (the default): fine.
    let cube = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap();
    assert_eq!(cube.shape(), (2, 1, 4, 4));
    // Items from a STAC API: refused, naming the rule.
    let api = CubeOptions::default().with_href_policy(HrefPolicy::for_api_items());
    let e = DatasetCollection::from_stac(&items, &["data"], &api).unwrap_err();
    assert_eq!(cube_rule(&e).as_deref(), Some("local-path"), "{e}");
    let e = load_asset(
        &items[0],
        Some("data"),
        &LoadOptions::default().with_href_policy(HrefPolicy::for_api_items()),
    )
    .unwrap_err();
    assert_eq!(e.rule(), Some(HrefRule::LocalPath));
    // CLI: items on standard input are remote; --allow-local reads them.
    let text = serde_json::to_string(&items).unwrap();
    let run = |extra: &[&str]| {
        let mut child = Command::new(stac_gdal_bin())
            .args([
                "cube",
                "-",
                "--asset",
                "data",
                "--no-write",
                "--out",
                "unused",
                "--quiet",
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("local-path"));
    let allowed = run(&["--allow-local"]);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
}

/// A 1 MiB file whose range reads are served at one byte per second, or
/// headers then silence (HEAD answers at once, with the size).
fn trickle(stall: bool) -> FaultServer {
    const SIZE: usize = 1 << 20;
    FaultServer::start(move |r| {
        if r.method == "HEAD" {
            return Reply::bytes(r, &vec![0u8; SIZE]);
        }
        let (start, end) = r.range().unwrap_or((0, Some(SIZE - 1)));
        let end = end.unwrap_or(SIZE - 1).min(SIZE - 1);
        let len = end + 1 - start;
        Reply::Stream {
            status: 206,
            headers: vec![
                ("Accept-Ranges".into(), "bytes".into()),
                (
                    "Content-Range".into(),
                    format!("bytes {start}-{end}/{SIZE}"),
                ),
            ],
            content_length: Some(len),
            chunk: if stall { Vec::new() } else { vec![b'I'] },
            count: if stall { 1 } else { len },
            delay: if stall {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(1)
            },
        }
    })
}

#[test]
fn trickling_and_stalled_servers_end_within_the_deadline() {
    for stall in [false, true] {
        let server = trickle(stall);
        let items = vec![item("slow", &server.url("/slow.tif"))];
        let limit = Duration::from_secs(3);
        let timeouts = Timeouts::total(limit);
        let started = Instant::now();
        let e = DatasetCollection::from_stac(
            &items,
            &["data"],
            &CubeOptions::default().with_timeouts(timeouts),
        )
        .unwrap_err();
        let took = started.elapsed();
        assert!(
            took < limit + Duration::from_secs(4),
            "cube took {took:?} (stall {stall})"
        );
        // Items without grid metadata are opened while planning: the
        // deadline error names the item, the asset and the href.
        let text = e.to_string();
        assert!(text.contains("item 'slow', asset 'data'"), "{text}");
        assert!(text.contains("/slow.tif"), "{text}");
        let started = Instant::now();
        let e = load_asset(
            &items[0],
            Some("data"),
            &LoadOptions::default().with_timeouts(timeouts),
        )
        .unwrap_err();
        let took = started.elapsed();
        assert!(
            took < limit + Duration::from_secs(4),
            "load_asset took {took:?}: {e}"
        );
        assert!(e.to_string().contains("item 'slow', asset 'data'"), "{e}");
        // CLI --timeout.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("items.json");
        std::fs::write(&p, serde_json::to_string(&items).unwrap()).unwrap();
        let started = Instant::now();
        let out = Command::new(stac_gdal_bin())
            .args([
                "cube",
                p.to_str().unwrap(),
                "--asset",
                "data",
                "--no-write",
                "--out",
                "x",
                "--quiet",
                "--timeout",
                "3",
            ])
            .output()
            .unwrap();
        let took = started.elapsed();
        assert!(!out.status.success());
        assert!(took < limit + Duration::from_secs(5), "CLI took {took:?}");
        let mut stderr = String::new();
        out.stderr.as_slice().read_to_string(&mut stderr).unwrap();
        assert!(stderr.contains("slow"), "{stderr}");
    }
}

#[test]
fn a_source_read_late_is_not_charged_for_waiting() {
    // The deadline is a budget of time spent in GDAL calls on the source,
    // not a wall clock from its first open: a cube opens a source without
    // grid metadata while planning and may read it minutes later, when its
    // task comes up. A source whose calls are quick never expires.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.tif");
    write_tif(&path, 5);
    let bytes = std::fs::read(&path).unwrap();
    let server = FaultServer::start(move |r| Reply::bytes(r, &bytes));
    let it = json!({"id": "late", "assets": {"data": {"href": server.url("/late.tif")}}});
    let source = stac_gdal::raster::RasterSource::resolve(
        &it,
        Some("data"),
        &stac_gdal::raster::SourceOptions::default()
            .with_timeouts(Timeouts::total(Duration::from_millis(1500))),
    )
    .unwrap();
    assert_eq!(source.describe().unwrap().rows, 4);
    std::thread::sleep(Duration::from_millis(2000));
    assert!(!source.expired());
    let ds = source.open().unwrap();
    assert!(ds.read_array::<u16>().unwrap().iter().all(|&v| v == 5));
    assert!(!ds.deadline_passed());
    // The same through a cube: planning opens it (no grid metadata), the
    // load reads it later.
    let cube = DatasetCollection::from_stac(
        &[it],
        &["data"],
        &CubeOptions::default().with_timeouts(Timeouts::total(Duration::from_millis(1500))),
    )
    .unwrap();
    assert!(cube.read_array::<u16>().iter().all(|&v| v == 5));
}
