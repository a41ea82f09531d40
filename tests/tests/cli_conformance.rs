//! The `stac-gdal` binary as a careful Unix tool, subcommand by subcommand:
//!
//! - a closed stdout (the reader of a pipe gone before the first byte, as
//!   with `| head -c0`) ends every subcommand with status 0 or 141 and no
//!   panic, and a closed stderr does not turn warnings into a panic;
//! - `-` reads items from standard input wherever a file of items is read,
//!   and gives the same result as the file;
//! - a table of bad inputs (missing, empty, malformed and non-STAC files,
//!   an unknown asset, a 3-number or reversed bbox, an unknown CRS, a
//!   negative resolution, an output in a missing or read-only folder) ends
//!   with status 1 (runtime) or 2 (usage), one error line naming the
//!   problem and the flag or file, no library type name, and no output
//!   file or temp file left behind.
//!
//! Real rasters (GeoTIFFs written by GDAL), items written by `stac-gdal
//! item`, a stac-geoparquet catalog written by `stac-gdal convert`, and a
//! real HTTP server (with Range and ETag) for `download`.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::raster::{Dataset, GridSpec};
use stac_gdal_e2e::fault_server::{FaultServer, Reply};

fn bin() -> PathBuf {
    stac_gdal_e2e::stac_gdal_bin()
}

/// The binary with no inherited GDAL or credential setting.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("CPL_DEBUG")
        .env_remove("STAC_GDAL_TOKEN")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn run(args: &[&str]) -> Output {
    command(args).output().expect("run stac-gdal")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stac-gdal");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A pipe whose read end is already closed: every write to the other end
/// fails with `EPIPE`.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) returns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Two adjacent 16x16 UTM rasters, their items, a catalog, bad files and
/// an HTTP server holding one of the rasters.
struct Fixture {
    dir: tempfile::TempDir,
    tif: PathBuf,
    items: PathBuf,
    one: PathBuf,
    catalog: PathBuf,
    http_item: PathBuf,
    server: FaultServer,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut features = Vec::new();
        for (i, id) in ["a", "b"].iter().enumerate() {
            let tif = dir.path().join(format!("{id}.tif"));
            let arr = Array2::from_shape_fn((16, 16), |(r, c)| (1 + r + c + 100 * i) as u16);
            Dataset::create_from_array(
                &arr,
                &GridSpec::north_up([600_000.0 + 160.0 * i as f64, 5_300_000.0], 10.0, 32630),
                Some(0.0),
            )
            .unwrap()
            .to_file(&tif)
            .unwrap();
            let o = run(&[
                "item",
                s(&tif),
                "--id",
                id,
                "--datetime",
                &format!("2021-06-0{}T10:00:00Z", i + 1),
                "--media-type",
                "image/tiff; application=geotiff",
            ]);
            assert!(o.status.success(), "{}", text(&o.stderr));
            let mut item: Value = serde_json::from_slice(&o.stdout).unwrap();
            item["collection"] = json!("c");
            features.push(item);
        }
        let items = dir.path().join("items.json");
        std::fs::write(
            &items,
            json!({"type": "FeatureCollection", "features": features}).to_string(),
        )
        .unwrap();
        let one = dir.path().join("one.json");
        std::fs::write(&one, features[0].to_string()).unwrap();
        let catalog = dir.path().join("catalog.parquet");
        let o = run(&["convert", s(&items), s(&catalog), "-q"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        for (name, body) in [
            ("empty.json", ""),
            ("malformed.json", r#"{"id": "t", "assets": {"#),
            ("nonstac.json", r#"{"foo": 1}"#),
        ] {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        let tif = dir.path().join("a.tif");
        let bytes = std::fs::read(&tif).unwrap();
        let server = FaultServer::start(move |r| Reply::file(r, &bytes, "a1"));
        let mut http = features[0].clone();
        http["assets"]["data"]["href"] = json!(server.url("/a.tif"));
        let http_item = dir.path().join("http.json");
        std::fs::write(&http_item, http.to_string()).unwrap();
        Self {
            dir,
            tif,
            items,
            one,
            catalog,
            http_item,
            server,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Files the CLI may have left in the fixture folder (temp files of an
    /// atomic write, staging folders).
    fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for e in walk(self.dir.path()) {
            let name = e.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(".stac-gdal") || name.starts_with(".tmp") {
                found.push(e.display().to_string());
            }
        }
        found
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

/// A good run of every subcommand (writing to stdout where it can).
fn good_runs(f: &Fixture) -> Vec<(&'static str, Vec<String>)> {
    let items = s(&f.items).to_owned();
    let one = s(&f.one).to_owned();
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("meta", v(&["meta", &items, "--asset", "data"])),
        ("engine", v(&["engine", &one, "--asset", "data"])),
        ("href", v(&["href", &one, "--asset", "data", "--gdal"])),
        ("convert", v(&["convert", &items, "-", "--to", "ndjson"])),
        (
            "sign",
            v(&["sign", "--signer", "anonymous", "https://h.example/a.tif"]),
        ),
        (
            "env",
            v(&[
                "env",
                "--signer",
                "aws",
                "--region",
                "us-west-2",
                "--href",
                "s3://bucket/a.tif",
            ]),
        ),
        ("vrt", v(&["vrt", &items, "--asset", "data", "-o", "-"])),
        (
            "item",
            v(&[
                "item",
                s(&f.tif),
                "--id",
                "x",
                "--datetime",
                "2021-06-01T00:00:00Z",
            ]),
        ),
        ("cube", v(&["cube", &items, "--asset", "data", "--plan"])),
        (
            "point",
            v(&[
                "point",
                s(&f.catalog),
                "--collection",
                "c",
                "--asset",
                "data",
                "--lat",
                "47.8449",
                "--lon",
                "-1.6612",
                "--start",
                "2021-05-01",
                "--end",
                "2021-07-01",
                "--edge-size",
                "4",
                "--resolution",
                "10",
                "-o",
                &f.p("point-out"),
            ]),
        ),
        ("search", v(&["search", s(&f.catalog)])),
        (
            "download",
            v(&["download", s(&f.http_item), &f.p("dl"), "--asset", "data"]),
        ),
        ("completions", v(&["completions", "bash"])),
    ]
}

/// Every subcommand runs through: first with a normal stdout (it works),
/// then with the reader of its stdout gone (exit 0 or 141, no panic), then
/// with stderr closed too.
#[test]
fn every_subcommand_survives_a_closed_stdout() {
    let f = Fixture::new();
    for (name, args) in good_runs(&f) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ok = run(&args);
        assert!(
            ok.status.success(),
            "{name}: {:?}\n{}",
            ok.status,
            text(&ok.stderr)
        );
        if !["download"].contains(&name) {
            assert!(!ok.stdout.is_empty(), "{name} printed nothing");
        }
        // Outputs written by the good run are removed, so the closed-pipe
        // run does the same work again.
        for d in ["point-out", "dl"] {
            let _ = std::fs::remove_dir_all(f.path(d));
        }
        let o = command(&args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 141)),
            "{name} with a closed stdout: {:?}\n{err}",
            o.status
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{name}: {err}"
        );
        for d in ["point-out", "dl"] {
            let _ = std::fs::remove_dir_all(f.path(d));
        }
        let o = command(&args)
            .stdout(closed_pipe())
            .stderr(closed_pipe())
            .output()
            .unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 141)),
            "{name} with stdout and stderr closed: {:?}",
            o.status
        );
        for d in ["point-out", "dl"] {
            let _ = std::fs::remove_dir_all(f.path(d));
        }
    }
    assert_eq!(f.leftovers(), Vec::<String>::new());
}

/// A large output cut after its first bytes, as `| head -c100` does: the
/// writer is mid-stream when the pipe closes.
#[test]
fn a_pipe_closed_mid_stream_ends_quietly() {
    let f = Fixture::new();
    // ~1.5 MB of items: more than any pipe buffer.
    let big =
        stac_gdal_e2e::shared_dir().join("data/stac-items/rustac-100-sentinel-2-items.parquet");
    for args in [
        vec!["search", s(&big), "--ndjson"],
        vec!["convert", s(&big), "-", "--to", "json"],
        vec!["meta", s(&f.items)],
    ] {
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        std::io::Read::read(&mut out, &mut first).unwrap();
        drop(out);
        let o = child.wait_with_output().unwrap();
        let err = text(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 141)),
            "{args:?}: {:?}\n{err}",
            o.status
        );
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}

/// JSON documents (one, or one a line) as values, so that key order does
/// not matter; anything else (XML) as text.
fn normalize(bytes: &[u8]) -> Result<Vec<Value>, String> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(vec![v]);
    }
    let t = text(bytes);
    t.lines()
        .map(serde_json::from_str::<Value>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| t.clone())
}

/// `-` reads the items from standard input and gives what the file gives.
#[test]
fn dash_reads_items_from_stdin_everywhere() {
    let f = Fixture::new();
    let items = std::fs::read(&f.items).unwrap();
    let one = std::fs::read(&f.one).unwrap();
    let ndjson = run(&["convert", s(&f.items), "-", "--to", "ndjson"]).stdout;
    let parquet = std::fs::read(&f.catalog).unwrap();
    let same = |name: &str, file_args: &[&str], stdin_args: &[&str], input: &[u8]| {
        let want = run(file_args);
        assert!(want.status.success(), "{name}: {}", text(&want.stderr));
        let got = run_stdin(stdin_args, input);
        assert!(
            got.status.success(),
            "{name} from stdin: {}",
            text(&got.stderr)
        );
        assert_eq!(normalize(&got.stdout), normalize(&want.stdout), "{name}");
        assert!(!got.stdout.is_empty(), "{name}");
    };
    let fi = s(&f.items);
    let fo = s(&f.one);
    same(
        "meta",
        &["meta", fi, "--asset", "data"],
        &["meta", "-", "--asset", "data"],
        &items,
    );
    same(
        "engine",
        &["engine", fo, "--asset", "data"],
        &["engine", "-", "--asset", "data"],
        &one,
    );
    same(
        "href",
        &["href", fo, "--asset", "data"],
        &["href", "-", "--asset", "data"],
        &one,
    );
    same(
        "convert json",
        &["convert", fi, "-", "--to", "ndjson"],
        &["convert", "-", "--from", "json", "-", "--to", "ndjson"],
        &items,
    );
    same(
        "convert ndjson",
        &["convert", fi, "-", "--to", "json"],
        &[
            "convert", "-", "--from", "ndjson", "-o", "-", "--to", "json",
        ],
        &ndjson,
    );
    same(
        "convert parquet",
        &["convert", fi, "-", "--to", "ndjson"],
        &["convert", "-", "--from", "parquet", "-", "--to", "ndjson"],
        &parquet,
    );
    same(
        "search json",
        &["search", fi, "--ids", "b", "--ndjson"],
        &["search", "-", "--ids", "b", "--ndjson"],
        &items,
    );
    same(
        "search parquet",
        &["search", s(&f.catalog), "--bbox", "-1.7,47.8,-1.6,47.9"],
        &["search", "-", "--bbox", "-1.7,47.8,-1.6,47.9"],
        &parquet,
    );
    // Items on stdin are remote items: their local hrefs need --allow-local.
    same(
        "cube",
        &["cube", fi, "--asset", "data", "--plan"],
        &["cube", "-", "--asset", "data", "--plan", "--allow-local"],
        &items,
    );
    same(
        "vrt",
        &["vrt", fi, "--asset", "data", "-o", "-"],
        &["vrt", "-", "--asset", "data", "-o", "-", "--allow-local"],
        &items,
    );
    // point: the items on stdin are searched like a catalog file's.
    let point = |src: &str, out: &str, extra: &[&str]| {
        let args = [
            &[
                "point",
                src,
                "--collection",
                "c",
                "--asset",
                "data",
                "--lat",
                "47.8449",
                "--lon",
                "-1.6612",
                "--start",
                "2021-05-01",
                "--end",
                "2021-07-01",
                "--edge-size",
                "4",
                "--resolution",
                "10",
                "-o",
                out,
                "-q",
            ][..],
            extra,
        ]
        .concat();
        let o = run_stdin(&args, &items);
        assert!(o.status.success(), "point {src}: {}", text(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (v["shape"].clone(), v["time"].clone())
    };
    let from_file = point(fi, &f.p("pt-file"), &[]);
    assert_eq!(from_file.0, json!([2, 1, 4, 4]));
    assert_eq!(point("-", &f.p("pt-stdin"), &["--allow-local"]), from_file);
    // Without --allow-local, stdin items may not name local files.
    let o = run_stdin(
        &[
            "point",
            "-",
            "--collection",
            "c",
            "--asset",
            "data",
            "--lat",
            "47.8449",
            "--lon",
            "-1.6612",
            "--start",
            "2021-05-01",
            "--end",
            "2021-07-01",
            "--edge-size",
            "4",
            "--resolution",
            "10",
            "-o",
            &f.p("pt-refused"),
        ],
        &items,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("local"), "{}", text(&o.stderr));
    let cube: Value =
        serde_json::from_slice(&run(&["cube", fi, "--asset", "data", "--plan"]).stdout).unwrap();
    assert_eq!(cube["shape"], json!([2, 1, 16, 32]));
    // download: the item from stdin, its asset from the HTTP server.
    let http = std::fs::read(&f.http_item).unwrap();
    let o = run_stdin(&["download", "-", &f.p("dl"), "--asset", "data"], &http);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(f.path("dl").join("a.tif")).unwrap(),
        std::fs::read(&f.tif).unwrap()
    );
    // A Parquet output on stdout is a valid catalog.
    let o = run(&["convert", fi, "-", "--to", "parquet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(&o.stdout[..4], b"PAR1");
    let back = run_stdin(&["search", "-", "--ndjson"], &o.stdout);
    assert_eq!(text(&back.stdout).lines().count(), 2);
    assert_eq!(f.leftovers(), Vec::<String>::new());
}

/// One row of the bad-input table.
struct Bad {
    what: &'static str,
    args: Vec<String>,
    /// Every one of these appears on the message line.
    names: Vec<String>,
    /// Paths that must not exist afterwards.
    no_output: Vec<PathBuf>,
}

/// Library names that must never reach a CLI user.
const LIBRARY_NAMES: [&str; 9] = [
    "CubeOptions",
    "VrtOptions",
    "strict(",
    "from_stac",
    "build_vrt_from_stac",
    "Some(",
    "None)",
    "panicked",
    "RUST_BACKTRACE",
];

/// A folder no file can be created in: mode 0555, or (when running as
/// root, which ignores modes) `/sys`, which refuses new files to root too.
fn read_only_dir(f: &Fixture) -> PathBuf {
    let ro = f.path("ro");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let writable = |d: &Path| std::fs::write(d.join(".probe"), b"x").is_ok();
    if !writable(&ro) {
        return ro;
    }
    let _ = std::fs::remove_file(ro.join(".probe"));
    let sys = PathBuf::from("/sys");
    assert!(
        !writable(&sys),
        "no read-only folder available: running as root and /sys is writable"
    );
    sys
}

fn bad_rows(f: &Fixture) -> Vec<Bad> {
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let items = s(&f.items).to_owned();
    let one = s(&f.one).to_owned();
    let mut rows = Vec::new();
    // Inputs: missing, empty, malformed, not STAC; every reader of items.
    for (file, names) in [
        ("missing.json", vec!["missing.json"]),
        ("empty.json", vec!["empty.json", "empty"]),
        ("malformed.json", vec!["malformed.json", "JSON"]),
        ("nonstac.json", vec!["nonstac.json", "not a STAC Item"]),
    ] {
        let input = f.p(file);
        let out_vrt = f.path("bad.vrt");
        let out_cube = f.path("cube-bad");
        let out_conv = f.path("conv.ndjson");
        let out_dl = f.path("dl-bad");
        let out_point = f.path("point-bad");
        for (what, args, out) in [
            ("meta", v(&["meta", &input, "--asset", "data"]), None),
            ("engine", v(&["engine", &input, "--asset", "data"]), None),
            ("href", v(&["href", &input, "--asset", "data"]), None),
            (
                "convert",
                v(&["convert", &input, s(&out_conv)]),
                Some(out_conv.clone()),
            ),
            (
                "vrt",
                v(&["vrt", &input, "--asset", "data", "-o", s(&out_vrt)]),
                Some(out_vrt.clone()),
            ),
            (
                "cube",
                v(&["cube", &input, "--asset", "data", "-o", s(&out_cube)]),
                Some(out_cube.clone()),
            ),
            (
                "download",
                v(&["download", &input, s(&out_dl)]),
                Some(out_dl.clone()),
            ),
            ("search", v(&["search", &input]), None),
            (
                "point",
                v(&[
                    "point",
                    &input,
                    "--collection",
                    "c",
                    "--asset",
                    "data",
                    "--lat",
                    "47.85",
                    "--lon",
                    "-1.66",
                    "--start",
                    "2021-05-01",
                    "--end",
                    "2021-07-01",
                    "--edge-size",
                    "4",
                    "--resolution",
                    "10",
                    "-o",
                    s(&out_point),
                ]),
                Some(out_point.clone()),
            ),
        ] {
            rows.push(Bad {
                what: Box::leak(format!("{what}: {file}").into_boxed_str()),
                args,
                names: names.iter().map(|n| n.to_string()).collect(),
                no_output: out.into_iter().collect(),
            });
        }
    }
    // An unknown asset.
    let nope = |what, args: Vec<String>, out: Option<PathBuf>| Bad {
        what,
        args,
        names: v(&["NOPE"]),
        no_output: out.into_iter().collect(),
    };
    rows.push(nope(
        "meta: unknown asset",
        v(&["meta", &one, "--asset", "NOPE"]),
        None,
    ));
    rows.push(nope(
        "engine: unknown asset",
        v(&["engine", &one, "--asset", "NOPE"]),
        None,
    ));
    rows.push(nope(
        "href: unknown asset",
        v(&["href", &one, "--asset", "NOPE"]),
        None,
    ));
    rows.push(nope(
        "cube: unknown asset",
        v(&["cube", &items, "--asset", "NOPE", "-o", &f.p("cube-nope")]),
        Some(f.path("cube-nope")),
    ));
    rows.push(nope(
        "vrt: unknown asset",
        v(&["vrt", &items, "--asset", "NOPE", "-o", &f.p("nope.vrt")]),
        Some(f.path("nope.vrt")),
    ));
    rows.push(nope(
        "point: unknown asset",
        v(&[
            "point",
            s(&f.catalog),
            "--collection",
            "c",
            "--asset",
            "NOPE",
            "--lat",
            "47.8449",
            "--lon",
            "-1.6612",
            "--start",
            "2021-05-01",
            "--end",
            "2021-07-01",
            "--edge-size",
            "4",
            "--resolution",
            "10",
            "-o",
            &f.p("pt-nope"),
        ]),
        Some(f.path("pt-nope")),
    ));
    rows.push(nope(
        "download: unknown asset",
        v(&["download", &items, &f.p("dl-nope"), "--asset", "NOPE"]),
        Some(f.path("dl-nope")),
    ));
    // Bboxes: 3 numbers; west > east (a swapped pair, not a crossing).
    for (bbox, names) in [
        ("1,2,3", v(&["--bbox", "4 numbers"])),
        ("20,45,10,46", v(&["--bbox", "west", "east"])),
        ("-1,47,-2,48", v(&["--bbox", "west", "east"])),
    ] {
        for (what, args, out) in [
            (
                "vrt",
                v(&[
                    "vrt",
                    &items,
                    "--asset",
                    "data",
                    "--bbox",
                    bbox,
                    "-o",
                    &f.p("bb.vrt"),
                ]),
                Some(f.path("bb.vrt")),
            ),
            (
                "cube",
                v(&[
                    "cube",
                    &items,
                    "--asset",
                    "data",
                    "--bbox",
                    bbox,
                    "-o",
                    &f.p("bb-cube"),
                ]),
                Some(f.path("bb-cube")),
            ),
            (
                "download",
                v(&["download", &items, &f.p("bb-dl"), "--bbox", bbox]),
                Some(f.path("bb-dl")),
            ),
            (
                "search",
                v(&[
                    "search",
                    s(&f.catalog),
                    "--bbox",
                    bbox,
                    "-o",
                    &f.p("bb.json"),
                ]),
                Some(f.path("bb.json")),
            ),
        ] {
            rows.push(Bad {
                what: Box::leak(format!("{what}: --bbox {bbox}").into_boxed_str()),
                args,
                names: names.clone(),
                no_output: out.into_iter().collect(),
            });
        }
    }
    // Unknown CRS, by code and by name.
    for crs in ["EPSG:99999", "nonsense"] {
        for (what, args, out) in [
            (
                "cube",
                v(&[
                    "cube",
                    &items,
                    "--asset",
                    "data",
                    "--crs",
                    crs,
                    "-o",
                    &f.p("crs-cube"),
                ]),
                f.path("crs-cube"),
            ),
            (
                "cube --t_srs",
                v(&["cube", &items, "--asset", "data", "--t_srs", crs, "--plan"]),
                f.path("crs-cube"),
            ),
            (
                "vrt",
                v(&[
                    "vrt",
                    &items,
                    "--asset",
                    "data",
                    "--crs",
                    crs,
                    "-o",
                    &f.p("crs.vrt"),
                ]),
                f.path("crs.vrt"),
            ),
        ] {
            rows.push(Bad {
                what: Box::leak(format!("{what}: {crs}").into_boxed_str()),
                args,
                names: v(&["--crs", "unknown CRS", crs]),
                no_output: vec![out],
            });
        }
    }
    // A negative resolution, without `=` (once needed: "unexpected argument '-1'").
    for (what, args, out) in [
        (
            "cube",
            v(&[
                "cube",
                &items,
                "--asset",
                "data",
                "--resolution",
                "-10",
                "-o",
                &f.p("r-cube"),
            ]),
            f.path("r-cube"),
        ),
        (
            "cube --tr",
            v(&[
                "cube", &items, "--asset", "data", "--tr", "-10,-10", "--plan",
            ]),
            f.path("r-cube"),
        ),
        (
            "vrt",
            v(&[
                "vrt",
                &items,
                "--asset",
                "data",
                "--resolution",
                "-10",
                "-o",
                &f.p("r.vrt"),
            ]),
            f.path("r.vrt"),
        ),
        (
            "point",
            v(&[
                "point",
                s(&f.catalog),
                "--collection",
                "c",
                "--asset",
                "data",
                "--lat",
                "47.85",
                "--lon",
                "-1.66",
                "--start",
                "2021-05-01",
                "--end",
                "2021-07-01",
                "--edge-size",
                "4",
                "--resolution",
                "-10",
                "-o",
                &f.p("r-point"),
            ]),
            f.path("r-point"),
        ),
    ] {
        rows.push(Bad {
            what: Box::leak(format!("{what}: negative resolution").into_boxed_str()),
            args,
            names: v(&["--resolution", "positive", "-10"]),
            no_output: vec![out],
        });
    }
    // Outputs in a missing folder, a read-only one, and under a file.
    // Folder outputs (`cube -o`, `download DIR`, `point -o`) are created
    // with their missing parents, as `mkdir -p` does: a missing folder is
    // not an error for them.
    let ro = read_only_dir(f);
    for (folder, folder_outputs) in [
        (f.path("no/such/folder"), false),
        (ro, true),
        (f.items.clone(), true),
    ] {
        let o = |name: &str| folder.join(name);
        let folder_name = folder.display().to_string();
        for (what, args, flag, out) in [
            (
                "convert",
                v(&["convert", &items, s(&o("x.ndjson"))]),
                "OUTPUT",
                o("x.ndjson"),
            ),
            (
                "convert -o",
                v(&["convert", &items, "-o", s(&o("x.parquet"))]),
                "OUTPUT",
                o("x.parquet"),
            ),
            (
                "vrt",
                v(&["vrt", &items, "--asset", "data", "-o", s(&o("x.vrt"))]),
                "--output",
                o("x.vrt"),
            ),
            (
                "cube",
                v(&["cube", &items, "--asset", "data", "-o", s(&o("cube"))]),
                "--output",
                o("cube"),
            ),
            (
                "cube --preview",
                v(&[
                    "cube",
                    &items,
                    "--asset",
                    "data",
                    "-o",
                    &f.p("pv-cube"),
                    "--preview",
                    s(&o("p.png")),
                ]),
                "--preview",
                f.path("pv-cube"),
            ),
            (
                "item",
                v(&["item", s(&f.tif), "--id", "x", "-o", s(&o("item.json"))]),
                "--output",
                o("item.json"),
            ),
            (
                "search",
                v(&["search", s(&f.catalog), "-o", s(&o("s.json"))]),
                "--output",
                o("s.json"),
            ),
            (
                "download",
                v(&["download", s(&f.http_item), s(&o("dl")), "--asset", "data"]),
                "DIR",
                o("dl"),
            ),
            (
                "point",
                v(&[
                    "point",
                    s(&f.catalog),
                    "--collection",
                    "c",
                    "--asset",
                    "data",
                    "--lat",
                    "47.85",
                    "--lon",
                    "-1.66",
                    "--start",
                    "2021-05-01",
                    "--end",
                    "2021-07-01",
                    "--edge-size",
                    "4",
                    "--resolution",
                    "10",
                    "-o",
                    s(&o("pt")),
                ]),
                "--output",
                o("pt"),
            ),
        ] {
            let is_folder_output = ["cube", "download", "point"].contains(&what);
            if is_folder_output && !folder_outputs {
                continue;
            }
            rows.push(Bad {
                what: Box::leak(format!("{what}: output in {folder_name}").into_boxed_str()),
                args,
                names: vec![flag.to_owned(), folder_name.clone()],
                no_output: vec![out],
            });
        }
    }
    // Usage errors (exit 2): a missing required flag, a bad number.
    rows.push(Bad {
        what: "cube without --output",
        args: v(&["cube", &items, "--asset", "data"]),
        names: v(&["--output"]),
        no_output: vec![],
    });
    rows.push(Bad {
        what: "cube: --resolution not a number",
        args: v(&[
            "cube",
            &items,
            "--asset",
            "data",
            "--resolution",
            "ten",
            "--plan",
        ]),
        names: v(&["--resolution", "ten"]),
        no_output: vec![],
    });
    rows.push(Bad {
        what: "convert to - without --to",
        args: v(&["convert", &items, "-"]),
        names: v(&["--to"]),
        no_output: vec![],
    });
    rows
}

/// The table: exit 1 or 2, one message line naming the problem and the
/// flag (or file), no library name, nothing written.
#[test]
fn bad_inputs_give_one_clear_line_and_no_output() {
    let f = Fixture::new();
    let mut failures = Vec::new();
    for row in bad_rows(&f) {
        let args: Vec<&str> = row.args.iter().map(String::as_str).collect();
        let o = run(&args);
        let err = text(&o.stderr);
        let code = o.status.code();
        // Clap's usage errors (exit 2) add a usage block after the message line.
        let message = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let mut problems = Vec::new();
        if !matches!(code, Some(1 | 2)) {
            problems.push(format!("exit {code:?}"));
        }
        if code == Some(1) && err.lines().filter(|l| !l.trim().is_empty()).count() != 1 {
            problems.push("more than one line".to_owned());
        }
        if !(message.starts_with("stac-gdal: error: ") || message.starts_with("error: ")) {
            problems.push("no error line first".to_owned());
        }
        for name in &row.names {
            if !message.contains(name.as_str()) {
                problems.push(format!("message does not name {name:?}"));
            }
        }
        for lib in LIBRARY_NAMES {
            if err.contains(lib) {
                problems.push(format!("mentions {lib:?}"));
            }
        }
        for p in &row.no_output {
            if p.exists() {
                problems.push(format!("left {}", p.display()));
            }
        }
        if !o.stdout.is_empty() {
            problems.push(format!("printed {:?} on stdout", text(&o.stdout)));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n    {}",
                row.what,
                problems.join("; "),
                err.trim()
            ));
        }
    }
    assert_eq!(f.leftovers(), Vec::<String>::new());
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The unified vocabulary parses on every subcommand that has it: `-o`,
/// `--out` (alias), `--asset`/`--bands`, `--threads`, the GDAL aliases and
/// global `-q`/`-v`/`--log-level` before or after the subcommand.
#[test]
fn the_unified_flags_and_aliases_are_accepted() {
    let f = Fixture::new();
    let items = s(&f.items);
    let ok = |args: &[&str]| {
        let o = run(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        o
    };
    for out_flag in ["-o", "--output", "--out"] {
        let dir = f.path(&format!("cube{out_flag}"));
        ok(&["cube", items, "--asset", "data", out_flag, s(&dir), "-q"]);
        let tifs = walk(&dir)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tif"))
            .count();
        assert_eq!(tifs, 2, "{out_flag}");
        let vrt = f.path(&format!("m{out_flag}.vrt"));
        ok(&["vrt", items, "--asset", "data", out_flag, s(&vrt)]);
        assert!(
            std::fs::read_to_string(&vrt)
                .unwrap()
                .starts_with("<VRTDataset")
        );
    }
    // GDAL-style names give the same plan as ours.
    let ours = ok(&[
        "cube",
        items,
        "--asset",
        "data",
        "--plan",
        "--crs",
        "EPSG:32630",
        "--resolution",
        "20",
        "--bounds",
        "600000,5299840,600320,5300000",
    ]);
    let gdal = ok(&[
        "cube",
        items,
        "--asset",
        "data",
        "--plan",
        "--t_srs",
        "EPSG:32630",
        "--tr",
        "20",
        "--te",
        "600000,5299840,600320,5300000",
    ]);
    assert_eq!(ours.stdout, gdal.stdout);
    let plan: Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(plan["shape"], json!([2, 1, 8, 16]));
    // Negative numbers without `=`.
    let neg = ok(&[
        "vrt",
        items,
        "--asset",
        "data",
        "--te",
        "600000,5299840,600160,5300000",
        "--tr",
        "20",
        "-o",
        "-",
    ]);
    assert!(
        text(&neg.stdout).contains("rasterXSize=\"8\""),
        "{}",
        text(&neg.stdout)
    );
    ok(&[
        "search",
        s(&f.catalog),
        "--bbox",
        "-1.7,47.8,-1.6,47.9",
        "--threads",
        "1",
    ]);
    // Global flags anywhere.
    ok(&["-q", "meta", items]);
    ok(&["meta", items, "--log-level", "warn"]);
    ok(&["--verbose", "engine", s(&f.one), "--asset", "data"]);
    // --bands is --asset in point.
    ok(&[
        "point",
        s(&f.catalog),
        "--collection",
        "c",
        "--bands",
        "data",
        "--lat",
        "47.8449",
        "--lon",
        "-1.6612",
        "--start",
        "2021-05-01",
        "--end",
        "2021-07-01",
        "--edge-size",
        "4",
        "--resolution",
        "10",
        "--out",
        &f.p("pt-bands"),
        "-q",
    ]);
    // Folder outputs are created with their missing parents (mkdir -p).
    ok(&[
        "cube",
        items,
        "--asset",
        "data",
        "-o",
        &f.p("new/parent/cube"),
        "-q",
    ]);
    assert!(f.path("new/parent/cube").is_dir());
    // download --asset beside --include, --threads beside --concurrency.
    ok(&[
        "download",
        s(&f.http_item),
        "-o",
        &f.p("dl-a"),
        "--asset",
        "data",
        "--threads",
        "2",
    ]);
    assert!(f.path("dl-a").join("a.tif").exists());
    // Help shows the aliases.
    let help = text(&ok(&["cube", "--help"]).stdout);
    for alias in ["t_srs", "tr", "te", "out", "Benchmarking"] {
        assert!(help.contains(alias), "cube --help lacks {alias}:\n{help}");
    }
    for sub in ["sign", "env"] {
        let h = text(&ok(&[sub, "--help"]).stdout);
        assert!(!h.contains("--sas-url"), "{sub} --help names --sas-url");
    }
    let top = text(&ok(&["--help"]).stdout);
    assert!(top.contains("STAC") && !top.contains("seed"), "{top}");
    for sub in ["bash", "zsh", "fish"] {
        let c = text(&ok(&["completions", sub]).stdout);
        assert!(c.contains("stac-gdal") && c.contains("alternate"), "{sub}");
    }
}

/// GDAL's own messages go through the tool's logging: hidden by default
/// and with `-q`, shown (prefixed) with `-v`.
#[test]
fn gdal_messages_follow_q_and_v() {
    let f = Fixture::new();
    let garbage = f.path("garbage.tif");
    std::fs::write(&garbage, b"not a tiff at all").unwrap();
    let args = ["item", s(&garbage), "--id", "x"];
    let plain = run(&args);
    let quiet = run(&[&args[..], &["-q"]].concat());
    let verbose = run(&[&args[..], &["-v"]].concat());
    for o in [&plain, &quiet, &verbose] {
        assert_eq!(o.status.code(), Some(1));
    }
    let gdal_line = |o: &Output| {
        text(&o.stderr)
            .lines()
            .any(|l| l.starts_with("stac-gdal: gdal: ERROR 4:"))
    };
    assert!(!gdal_line(&plain), "{}", text(&plain.stderr));
    assert!(!gdal_line(&quiet));
    assert!(gdal_line(&verbose), "{}", text(&verbose.stderr));
    assert!(
        !text(&plain.stderr).lines().any(|l| l.starts_with("ERROR ")),
        "raw GDAL line: {}",
        text(&plain.stderr)
    );
    // CPL_DEBUG=ON, GDAL's own switch, shows GDAL's lines even with -q.
    let debug = command(&[&args[..], &["-q"]].concat())
        .env("CPL_DEBUG", "ON")
        .output()
        .unwrap();
    assert!(gdal_line(&debug), "{}", text(&debug.stderr));
}

/// `--alternate s3` reads the alternate href wherever hrefs are resolved.
#[test]
fn alternate_hrefs_are_chosen_like_resolved_href() {
    let f = Fixture::new();
    let mut item: Value = serde_json::from_slice(&std::fs::read(&f.http_item).unwrap()).unwrap();
    let local = f.tif.display().to_string();
    item["assets"]["data"]["alternate"] =
        json!({"s3": {"href": "s3://bucket/a.tif"}, "local": {"href": local}});
    let path = f.path("alt.json");
    std::fs::write(&path, item.to_string()).unwrap();
    let p = s(&path);
    let href = |extra: &[&str]| {
        let o = run(&[&["href", p, "--asset", "data"][..], extra].concat());
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).trim().to_owned()
    };
    assert!(href(&[]).starts_with("http://127.0.0.1"));
    assert_eq!(href(&["--alternate", "s3"]), "s3://bucket/a.tif");
    assert_eq!(href(&["--alternate", "nope,s3"]), "s3://bucket/a.tif");
    // cube reads the local alternate instead of the HTTP href: the server
    // sees no request.
    let before = f.server.requests().len();
    let o = run(&[
        "cube",
        p,
        "--asset",
        "data",
        "--alternate",
        "local",
        "--no-write",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(f.server.requests().len(), before);
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["shape"], json!([1, 1, 16, 16]));
}

/// Ctrl-C (and `kill`) while an output file is being written: the temp
/// file goes, the target never appears, the exit status is the shell's.
#[test]
fn ctrl_c_while_writing_an_output_leaves_nothing() {
    let f = Fixture::new();
    let ndjson = run(&["convert", s(&f.items), "-", "--to", "ndjson"]).stdout;
    let first_line = text(&ndjson).lines().next().unwrap().to_owned();
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let out = f.path(&format!("out-{signal}.json"));
        // NDJSON from stdin streams into the output: the run waits for
        // more lines with its temp file open.
        let mut child = command(&["convert", "-", "--from", "ndjson", "-o", s(&out)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{first_line}").unwrap();
        stdin.flush().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while f.leftovers().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "no temp file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: signalling our own child by its pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let o = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(o.status.code(), Some(code), "{}", text(&o.stderr));
        assert!(!out.exists());
        assert_eq!(f.leftovers(), Vec::<String>::new());
    }
}

/// Ctrl-C while standard input is being spooled (a Parquet reader seeks, so
/// `convert - --from parquet` copies stdin to a temp file first): the copy,
/// possibly gigabytes, does not stay behind in the temp folder.
#[test]
fn ctrl_c_while_spooling_standard_input_leaves_no_copy() {
    let f = Fixture::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = f.path("spooled.ndjson");
    let mut child = command(&["convert", "-", "--from", "parquet", "-o", s(&out)])
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Part of a Parquet file: the run waits for the rest, spooling.
    stdin.write_all(b"PAR1").unwrap();
    stdin.flush().unwrap();
    let spooled = || std::fs::read_dir(tmp.path()).unwrap().count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while spooled() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no spool file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    assert_eq!(spooled(), 0, "the spooled copy of stdin stayed");
    assert!(!out.exists());
    assert_eq!(f.leftovers(), Vec::<String>::new());
}

/// `search URL -o FILE` against a real HTTP STAC API: the items land in
/// the file; a page failing part-way leaves no file and no temp file
/// (stdout would have held the first pages).
#[test]
fn search_output_file_is_complete_or_absent() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    let fail_page_2 = Arc::new(AtomicBool::new(false));
    let base = Arc::new(OnceLock::<String>::new());
    let (b, fail) = (base.clone(), fail_page_2.clone());
    let server = FaultServer::start(move |r| {
        let base = b.get().expect("base set");
        let page = if r.target.contains("token=2") { 2 } else { 1 };
        match (r.path(), page) {
            ("/", _) => Reply::json(&json!({
                "type": "Catalog", "id": "t", "description": "t", "stac_version": "1.0.0",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                               "https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "search", "type": "application/geo+json", "method": "GET",
                           "href": format!("{base}/search")}]})),
            ("/search", 2) if fail.load(Ordering::SeqCst) => Reply::status(404, &[]),
            ("/search", n) => {
                let features: Vec<Value> = (0..3)
                    .map(|i| {
                        json!({"type": "Feature", "id": format!("p{n}-{i}"),
                                    "properties": {}, "assets": {}})
                    })
                    .collect();
                let links = if n == 1 {
                    vec![json!({"rel": "next", "href": format!("{base}/search?token=2")})]
                } else {
                    vec![]
                };
                Reply::json(&json!({"type": "FeatureCollection", "features": features,
                                    "links": links}))
            }
            _ => Reply::status(404, &[]),
        }
    });
    base.set(server.url("")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("items.json");
    let url = server.url("/");
    let o = run(&["search", &url, "-o", s(&out), "--timeout", "10"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(got["features"].as_array().unwrap().len(), 6);
    // Page 2 now fails: the old file stays as it was, no temp file is left.
    fail_page_2.store(true, Ordering::SeqCst);
    let before = std::fs::read(&out).unwrap();
    let o = run(&["search", &url, "-o", s(&out), "--ndjson", "--timeout", "10"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let fresh = dir.path().join("fresh.ndjson");
    let o = run(&["search", &url, "--output", s(&fresh), "--timeout", "10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!fresh.exists());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["items.json"]);
}
