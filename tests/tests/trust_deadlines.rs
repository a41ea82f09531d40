//! Every network wait of `download`, `search` and the token endpoints has a
//! deadline (issue 13): against a server that trickles one byte a second
//! (real nginx, `limit_rate 1`, headers included) and one that stalls after
//! its headers, each command ends within its `--timeout` plus a small
//! margin, with a typed error naming the item, the asset and the redacted
//! URL (or the redacted URL for search and token requests).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use stac_gdal_e2e::origins::{OriginSpec, Origins};

/// The `--timeout` of every run, and the margin allowed beyond it (process
/// start, the error's way out).
const TIMEOUT: u64 = 3;
const MARGIN: Duration = Duration::from_millis(2500);

fn run(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(stac_gdal_e2e::stac_gdal_bin())
        .args(args)
        .args(["--timeout", &TIMEOUT.to_string()])
        .env_remove("PC_SDK_SUBSCRIPTION_KEY")
        .env_remove("EARTHDATA_TOKEN")
        .output()
        .unwrap();
    (out, t.elapsed())
}

fn ended_in_time(what: &str, out: &Output, took: Duration) -> String {
    eprintln!(
        "{what}: ended after {:.2} s (--timeout {TIMEOUT})",
        took.as_secs_f64()
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{what}: {stderr}");
    assert!(
        took < Duration::from_secs(TIMEOUT) + MARGIN,
        "{what}: took {took:?}: {stderr}"
    );
    assert!(
        took >= Duration::from_secs(TIMEOUT) - Duration::from_millis(200),
        "{what}: ended early ({took:?}): {stderr}"
    );
    stderr
}

/// A server that answers every request with its headers (a long
/// `Content-Length`) and then sends nothing, keeping the connection open.
struct Staller {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Staller {
    fn start() -> Staller {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut open: Vec<TcpStream> = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut reader = BufReader::new(conn.try_clone().unwrap());
                        let mut line = String::new();
                        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                            line.clear();
                        }
                        let _ = conn.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nETag: \"st\"\r\n\r\n{",
                        );
                        open.push(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Staller {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Staller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn downloads_end_at_their_deadline() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("big.bin"), vec![7u8; 100_000]).unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path()).slow("/slow/", 1)]);
    let staller = Staller::start();
    let work = tempfile::tempdir().unwrap();
    for (what, href) in [
        ("1 byte/s", o.url("a", "/slow/big.bin?sig=DEADLINE-SECRET")),
        (
            "stall after the headers",
            staller.url("/big.bin?sig=DEADLINE-SECRET"),
        ),
    ] {
        let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "slow-item",
            "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
            "assets": {"data": {"href": href}}});
        let path = work.path().join("item.json");
        std::fs::write(&path, item.to_string()).unwrap();
        let dest = work.path().join(what.replace(' ', "-"));
        let (out, took) = run(&[
            "download",
            path.to_str().unwrap(),
            dest.to_str().unwrap(),
            "--quiet",
        ]);
        let stderr = ended_in_time(what, &out, took);
        assert!(
            stderr.contains("item 'slow-item', asset 'data'")
                && stderr.contains("/big.bin?<redacted>")
                && stderr.contains("deadline of 3 s"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("DEADLINE-SECRET"), "{stderr}");
        assert!(!dest.join("big.bin").exists());
    }
}

#[test]
fn searches_end_at_their_deadline() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("landing.json"),
        json!({"type": "Catalog", "id": "x", "description": "d", "stac_version": "1.0.0",
            "conformsTo": ["https://api.stacspec.org/v1.0.0/item-search"], "links": []})
        .to_string(),
    )
    .unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path()).slow("/slow/", 1)]);
    let staller = Staller::start();
    for (what, url) in [
        (
            "1 byte/s",
            o.url("a", "/slow/landing.json?token=SEARCH-SECRET"),
        ),
        (
            "stall after the headers",
            staller.url("/api/?token=SEARCH-SECRET"),
        ),
    ] {
        let (out, took) = run(&["search", &url]);
        let stderr = ended_in_time(what, &out, took);
        assert!(
            stderr.contains("?<redacted>") && stderr.contains("deadline of 3 s"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("SEARCH-SECRET"), "{stderr}");
    }
}

#[test]
fn token_requests_end_at_their_deadline() {
    let root = tempfile::tempdir().unwrap();
    // A Planetary Computer SAS endpoint at 1 byte/s: GET …/<account>/<container>.
    std::fs::create_dir_all(root.path().join("sas").join("acct")).unwrap();
    std::fs::write(
        root.path().join("sas").join("acct").join("cont"),
        json!({"token": "st=x&sig=never", "msft:expiry": "2099-01-01T00:00:00Z"}).to_string(),
    )
    .unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path()).slow("/slow/", 1)]);
    let staller = Staller::start();
    let blob = "https://acct.blob.core.windows.net/cont/x.tif";
    let sas_url = o.url("a", "/slow/sas?code=TOKEN-URL-SECRET");
    // PC: `sign` (the SAS endpoint trickles).
    let (out, took) = run(&["sign", blob, "--signer", "pc", "--token-url", &sas_url]);
    let stderr = ended_in_time("pc sas 1 byte/s", &out, took);
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(!stderr.contains("TOKEN-URL-SECRET"), "{stderr}");
    // Earthdata: `env` (the token endpoint stalls after its headers).
    let t = Instant::now();
    let out = Command::new(stac_gdal_e2e::stac_gdal_bin())
        .args([
            "env",
            "--signer",
            "earthdata",
            "--token-url",
            &staller.url("/token?code=TOKEN-URL-SECRET"),
            "--href",
            "https://data.lpdaac.earthdatacloud.nasa.gov/x.tif",
            "--timeout",
            &TIMEOUT.to_string(),
        ])
        .env("EARTHDATA_USERNAME", "u")
        .env("EARTHDATA_PASSWORD", "p-DEADLINE-SECRET")
        .env_remove("EARTHDATA_TOKEN")
        .env_remove("EARTHDATA_PAT")
        .output()
        .unwrap();
    let stderr = ended_in_time("earthdata token stalled", &out, t.elapsed());
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(
        !stderr.contains("DEADLINE-SECRET") && !stderr.contains("TOKEN-URL-SECRET"),
        "{stderr}"
    );
}
