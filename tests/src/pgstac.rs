//! A throw-away stac-fastapi-pgstac server on 127.0.0.1 (recipe:
//! `shared/reference/local-servers.md` §1a): a private PostgreSQL 15 +
//! PostGIS cluster in a temp dir on a free port (run as user `postgres`),
//! pypgstac migrate + load, then uvicorn on another free port.
//!
//! Needs `cargo xtask setup` (venv `pgstac`, apt `postgresql-15-postgis-3`).
//! Dropping [`PgStac`] stops uvicorn (by PID) and the cluster
//! (`pg_ctl stop` on its own data dir), then removes the temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{ChildGuard, free_port, venv_bin, wait_for_port};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The test catalog of `local-servers.md` §0: collections `coll-a` and
/// `coll-b`, `n` items each on a 10-wide grid of 1°×1° boxes, weekly
/// datetimes from 2023-01-01, `proj:*` fields.
#[derive(Debug, Clone)]
pub struct CatalogFiles {
    /// `coll-a.json`, `coll-b.json`.
    pub collections: Vec<PathBuf>,
    /// `coll-a-items.ndjson`, `coll-b-items.ndjson` (one item a line).
    pub items_ndjson: Vec<PathBuf>,
    /// `coll-a-items.json`, `coll-b-items.json` (FeatureCollections).
    pub items_json: Vec<PathBuf>,
}

/// One item of the test catalog.
pub fn catalog_item(collection: &str, i: usize) -> Value {
    let x = -10 + (i % 10) as i64 * 2;
    let y = -10 + (i / 10) as i64 * 2;
    let day = chrono_like_date(7 * i as i64);
    json!({
        "type": "Feature", "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "id": format!("{collection}-item-{i:03}"), "collection": collection,
        "bbox": [x, y, x + 1, y + 1],
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]},
        "properties": {"datetime": format!("{day}T00:00:00Z"), "proj:epsg": 4326,
            "proj:shape": [100, 100], "proj:transform": [0.01, 0, x, 0, -0.01, y + 1],
            "eo:cloud_cover": (i * 7) % 100},
        "assets": {"data": {"href": "http://127.0.0.1:8090/public/cog.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]}},
        "links": []
    })
}

/// `YYYY-MM-DD` of 2023-01-01 plus `days` (no leap year in 2023; spills
/// into following years correctly enough for a few thousand days).
fn chrono_like_date(days: i64) -> String {
    const MONTHS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut year, mut d) = (2023i64, days);
    loop {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let len = if leap { 366 } else { 365 };
        if d < len {
            break;
        }
        d -= len;
        year += 1;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let mut month = 0;
    while month < 12 {
        let m = MONTHS[month] + i64::from(month == 1 && leap);
        if d < m {
            break;
        }
        d -= m;
        month += 1;
    }
    format!("{year:04}-{:02}-{:02}", month + 1, d + 1)
}

/// Write the test catalog (`n` items per collection) into `dir`.
pub fn write_catalog(dir: &Path, n: usize) -> CatalogFiles {
    std::fs::create_dir_all(dir).expect("create catalog dir");
    let mut files = CatalogFiles {
        collections: Vec::new(),
        items_ndjson: Vec::new(),
        items_json: Vec::new(),
    };
    for cid in ["coll-a", "coll-b"] {
        let coll = json!({"type": "Collection", "stac_version": "1.0.0", "id": cid,
            "description": format!("test {cid}"), "license": "CC0-1.0",
            "extent": {"spatial": {"bbox": [[-10, -10, 10, 10]]},
                "temporal": {"interval": [["2023-01-01T00:00:00Z", null]]}},
            "links": []});
        let cpath = dir.join(format!("{cid}.json"));
        std::fs::write(&cpath, coll.to_string()).expect("write collection");
        let items: Vec<Value> = (0..n).map(|i| catalog_item(cid, i)).collect();
        let nd: String = items.iter().map(|i| format!("{i}\n")).collect();
        let ndpath = dir.join(format!("{cid}-items.ndjson"));
        std::fs::write(&ndpath, nd).expect("write ndjson");
        let jpath = dir.join(format!("{cid}-items.json"));
        std::fs::write(
            &jpath,
            json!({"type": "FeatureCollection", "features": items}).to_string(),
        )
        .expect("write items json");
        files.collections.push(cpath);
        files.items_ndjson.push(ndpath);
        files.items_json.push(jpath);
    }
    files
}

/// A running stac-fastapi-pgstac with its database.
#[derive(Debug)]
pub struct PgStac {
    api: Option<ChildGuard>,
    db_dir: PathBuf,
    pg_port: u16,
    api_port: u16,
    _temp: tempfile::TempDir,
}

fn run(what: &str, cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgStac {
    /// Start the cluster and the API, loaded with the test catalog
    /// (`items_per_collection` items in each of `coll-a`, `coll-b`).
    pub fn start(items_per_collection: usize) -> PgStac {
        let pypgstac = venv_bin("pgstac", "pypgstac");
        let uvicorn = venv_bin("pgstac", "uvicorn");
        assert!(
            Path::new(PG_BIN).join("postgres").exists()
                && Path::new("/usr/share/postgresql/15/extension/postgis.control").exists(),
            "PostgreSQL 15 + PostGIS not installed: run `cargo xtask setup`"
        );
        let temp = tempfile::Builder::new()
            .prefix("pgstac-")
            .tempdir()
            .expect("temp dir");
        // postgres must traverse the temp dir.
        run("chmod", Command::new("chmod").arg("755").arg(temp.path()));
        let db_dir = temp.path().join("db");
        std::fs::create_dir(&db_dir).expect("create db dir");
        run(
            "chown",
            Command::new("chown").arg("postgres:postgres").arg(&db_dir),
        );
        run(
            "initdb",
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(Path::new(PG_BIN).join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "-D"])
                .arg(&db_dir),
        );
        let pg_port = free_port();
        let mut server = PgStac {
            api: None,
            db_dir: db_dir.clone(),
            pg_port,
            api_port: 0,
            _temp: temp,
        };
        run(
            "pg_ctl start",
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(Path::new(PG_BIN).join("pg_ctl"))
                .arg("-D")
                .arg(&db_dir)
                .arg("-o")
                .arg(format!(
                    "-p {pg_port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                    db_dir.display()
                ))
                .arg("-l")
                .arg(db_dir.join("server.log"))
                .args(["-w", "start"]),
        );
        let dsn = format!("postgresql://postgres@127.0.0.1:{pg_port}/postgres");
        run(
            "pypgstac migrate",
            Command::new(&pypgstac).args(["migrate", "--dsn", &dsn]),
        );
        let files = write_catalog(&server._temp.path().join("catalog"), items_per_collection);
        for c in &files.collections {
            run(
                "pypgstac load collections",
                Command::new(&pypgstac)
                    .args(["load", "collections"])
                    .arg(c)
                    .args(["--dsn", &dsn, "--method", "upsert"]),
            );
        }
        for f in &files.items_ndjson {
            run(
                "pypgstac load items",
                Command::new(&pypgstac)
                    .args(["load", "items"])
                    .arg(f)
                    .args(["--dsn", &dsn, "--method", "upsert"]),
            );
        }
        server.start_api(&uvicorn);
        server
    }

    fn start_api(&mut self, uvicorn: &Path) {
        let port = free_port();
        let log = std::fs::File::create(self._temp.path().join("api.log")).expect("api log");
        let mut cmd = Command::new(uvicorn);
        cmd.args(["stac_fastapi.pgstac.app:create_app", "--factory"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--log-level", "warning"])
            .env("PGUSER", "postgres")
            .env("PGPASSWORD", "x")
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.pg_port.to_string())
            .env("PGDATABASE", "postgres")
            .env("POSTGRES_USER", "postgres")
            .env("POSTGRES_PASS", "x")
            .env("POSTGRES_HOST_READER", "127.0.0.1")
            .env("POSTGRES_HOST_WRITER", "127.0.0.1")
            .env("POSTGRES_PORT", self.pg_port.to_string())
            .env("POSTGRES_DBNAME", "postgres")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.api = Some(ChildGuard::spawn("stac-fastapi-pgstac", &mut cmd));
        self.api_port = port;
        wait_for_port(port, 60);
        // The port opens before the app is ready: wait for the landing page.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http_ok(port, "/") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "pgstac API not ready: {}",
            std::fs::read_to_string(self._temp.path().join("api.log")).unwrap_or_default()
        );
    }

    /// The API root, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.api_port)
    }

    /// The PostgreSQL DSN.
    pub fn dsn(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.pg_port)
    }

    /// Load more items (an ndjson file) with pypgstac.
    pub fn load_items(&self, ndjson: &Path) {
        run(
            "pypgstac load items",
            Command::new(venv_bin("pgstac", "pypgstac"))
                .args(["load", "items"])
                .arg(ndjson)
                .args(["--dsn", &self.dsn(), "--method", "upsert"]),
        );
    }

    /// Run SQL statements with `psql` (as the `postgres` user) and return
    /// what they print (unaligned, tuples only).
    pub fn sql(&self, statements: &str) -> String {
        let out = Command::new(Path::new(PG_BIN).join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.dsn(),
                "-c",
                statements,
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Load a collection (a JSON file) with pypgstac.
    pub fn load_collection(&self, json: &Path) {
        run(
            "pypgstac load collections",
            Command::new(venv_bin("pgstac", "pypgstac"))
                .args(["load", "collections"])
                .arg(json)
                .args(["--dsn", &self.dsn(), "--method", "upsert"]),
        );
    }
}

/// A plain `GET path` on 127.0.0.1:`port` answered 200.
fn http_ok(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    buf[..n].starts_with(b"HTTP/1.1 200")
}

impl Drop for PgStac {
    fn drop(&mut self) {
        drop(self.api.take());
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Path::new(PG_BIN).join("pg_ctl"))
            .arg("-D")
            .arg(&self.db_dir)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::chrono_like_date(0), "2023-01-01");
        assert_eq!(super::chrono_like_date(7 * 9), "2023-03-05");
        assert_eq!(super::chrono_like_date(365), "2024-01-01");
        assert_eq!(super::chrono_like_date(365 + 59), "2024-02-29");
    }
}
