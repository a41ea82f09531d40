//! `cargo xtask bench` — STAC API crawl: 10,000 items in pages of 100 from a
//! local stac-fastapi-pgstac, crawled by our client (`stac-client` example
//! `crawl`, release), pystac-client and rustac (Python), and a raw
//! keep-alive HTTP loop that only parses pages (the server's own time: the
//! limit any client can reach). Peers live in `xtask/peers/client/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{cargo, root, step};

const ITEMS: usize = 10_000;
const LIMIT: u32 = 100;
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The cluster and the API; stopped on drop (API by PID, cluster by `pg_ctl stop`).
struct Server {
    api: Option<Child>,
    db: PathBuf,
    port: u16,
    _dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.api.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Path::new(PG_BIN).join("pg_ctl"))
            .arg("-D")
            .arg(&self.db)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn quiet(name: &str, mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{name}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn item(i: usize) -> String {
    let x = -180.0 + (i % 360) as f64;
    let y = -80.0 + ((i / 360) % 160) as f64;
    let day = 1 + i % 28;
    let month = 1 + (i / 28) % 12;
    serde_json::json!({
        "type": "Feature", "stac_version": "1.0.0", "id": format!("bench-{i:05}"), "collection": "bench",
        "bbox": [x, y, x + 1.0, y + 1.0],
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]]},
        "properties": {"datetime": format!("2023-{month:02}-{day:02}T00:00:00Z"), "proj:epsg": 4326,
            "eo:cloud_cover": i % 100},
        "assets": {"data": {"href": format!("https://example.com/bench/{i}.tif"), "type": "image/tiff", "roles": ["data"]},
                   "thumbnail": {"href": format!("https://example.com/bench/{i}.png"), "type": "image/png"}},
        "links": []
    })
    .to_string()
}

fn start_pgstac() -> Result<Server, String> {
    let venv = root().join("target/venvs/pgstac/bin");
    let dir = std::env::temp_dir().join(format!("xtask-bench-pgstac-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("db");
    std::fs::create_dir(&db).map_err(|e| e.to_string())?;
    let mut chown = Command::new("chown");
    chown.arg("postgres:postgres").arg(&db);
    quiet("chown", chown)?;
    let mut server = Server {
        api: None,
        db: db.clone(),
        port: 0,
        _dir: dir.clone(),
    };
    let mut initdb = Command::new("runuser");
    initdb
        .args(["-u", "postgres", "--"])
        .arg(Path::new(PG_BIN).join("initdb"))
        .args(["-A", "trust", "-U", "postgres", "-D"])
        .arg(&db);
    quiet("initdb", initdb)?;
    let pg_port = free_port()?;
    let mut start = Command::new("runuser");
    start
        .args(["-u", "postgres", "--"])
        .arg(Path::new(PG_BIN).join("pg_ctl"))
        .arg("-D")
        .arg(&db)
        .arg("-o")
        .arg(format!(
            "-p {pg_port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            db.display()
        ))
        .arg("-l")
        .arg(db.join("server.log"))
        .args(["-w", "start"]);
    quiet("pg_ctl start", start)?;
    let dsn = format!("postgresql://postgres@127.0.0.1:{pg_port}/postgres");
    let mut migrate = Command::new(venv.join("pypgstac"));
    migrate.args(["migrate", "--dsn", &dsn]);
    quiet("pypgstac migrate", migrate)?;
    let coll = serde_json::json!({"type": "Collection", "stac_version": "1.0.0", "id": "bench",
        "description": "bench", "license": "CC0-1.0",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [["2023-01-01T00:00:00Z", null]]}},
        "links": []});
    std::fs::write(dir.join("bench.json"), coll.to_string()).map_err(|e| e.to_string())?;
    let nd: String = (0..ITEMS).map(|i| item(i) + "\n").collect();
    std::fs::write(dir.join("items.ndjson"), nd).map_err(|e| e.to_string())?;
    for (what, file) in [("collections", "bench.json"), ("items", "items.ndjson")] {
        let mut load = Command::new(venv.join("pypgstac"));
        load.args(["load", what])
            .arg(dir.join(file))
            .args(["--dsn", &dsn, "--method", "upsert"]);
        quiet(&format!("pypgstac load {what}"), load)?;
    }
    let port = free_port()?;
    let log = std::fs::File::create(dir.join("api.log")).map_err(|e| e.to_string())?;
    let child = Command::new(venv.join("uvicorn"))
        .args(["stac_fastapi.pgstac.app:create_app", "--factory"])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--log-level", "warning"])
        .env("PGUSER", "postgres")
        .env("PGPASSWORD", "x")
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", pg_port.to_string())
        .env("PGDATABASE", "postgres")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("uvicorn: {e}"))?;
    server.api = Some(child);
    server.port = port;
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("pgstac API did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    Ok(server)
}

/// Run a crawler (best of `runs`), returning (items, seconds).
fn crawl(mut make: impl FnMut() -> Command, runs: usize) -> Result<(u64, f64), String> {
    let mut best: Option<(u64, f64)> = None;
    for _ in 0..runs {
        let out = make()
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("crawler failed ({})", out.status));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("crawler output: {e}"))?;
        let n = v["items"].as_u64().unwrap_or(0);
        let s = v["seconds"].as_f64().unwrap_or(f64::NAN);
        if best.is_none_or(|(_, b)| s < b) {
            best = Some((n, s));
        }
    }
    best.ok_or_else(|| "no run".into())
}

/// Run the crawl comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    step(
        "cargo build --release -p stac-client --example crawl",
        cargo(&[
            "build",
            "--release",
            "-p",
            "stac-client",
            "--example",
            "crawl",
        ]),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let ours = target.join("release/examples/crawl");
    let python = root().join("target/venvs/client-peers/bin/python");
    let script = root().join("xtask/peers/client/crawl.py");
    eprintln!("xtask: ── starting pgstac with {ITEMS} items");
    let server = start_pgstac()?;
    let url = format!("http://127.0.0.1:{}/", server.port);
    let limit = LIMIT.to_string();
    let mut rows: Vec<(&str, u64, f64)> = Vec::new();
    let peer = |tool: &'static str| {
        let (python, script, url, limit) =
            (python.clone(), script.clone(), url.clone(), limit.clone());
        move || {
            let mut c = Command::new(&python);
            c.arg(&script).args([tool, &url, "bench", &limit]);
            c
        }
    };
    // Warm the server's caches once.
    crawl(peer("raw"), 1)?;
    let (n, s) = crawl(peer("raw"), 2)?;
    rows.push((
        "server limit (raw keep-alive HTTP + JSON parse, Python)",
        n,
        s,
    ));
    let (n, s) = crawl(
        || {
            let mut c = Command::new(&ours);
            c.args([&url, "bench", &limit]);
            c
        },
        2,
    )?;
    rows.push(("stac-client (ours, Rust)", n, s));
    let (n, s) = crawl(peer("pystac-client"), 2)?;
    rows.push(("pystac-client 0.9.1", n, s));
    let (n, s) = crawl(peer("rustac"), 2)?;
    rows.push(("rustac 0.9.18 (Python)", n, s));
    drop(server);
    for (name, n, _) in &rows {
        if *n != ITEMS as u64 {
            return Err(format!("{name} crawled {n} items, expected {ITEMS}"));
        }
    }
    let ours_s = rows[1].2;
    writeln!(
        report,
        "## stac-client: crawl {ITEMS} items, pages of {LIMIT}, local stac-fastapi-pgstac\n"
    )
    .unwrap();
    writeln!(
        report,
        "Best of 2 runs each, POST search following `next` links to the end. The first row is the\n\
         server's own time (a raw keep-alive loop that only parses pages): no client can beat it.\n"
    )
    .unwrap();
    writeln!(
        report,
        "| client | seconds | items/s | time vs ours |\n|---|---|---|---|"
    )
    .unwrap();
    for (name, n, s) in &rows {
        writeln!(
            report,
            "| {name} | {s:.2} | {:.0} | {:.2}× |",
            *n as f64 / s,
            s / ours_s
        )
        .unwrap();
    }
    writeln!(report).unwrap();
    Ok(())
}
