//! A real nginx on 127.0.0.1 that answers every request after a fixed delay
//! (object storage's latency, on loopback), and its access log read back as
//! traffic: requests, bytes, and how many requests were in flight.
//!
//! The delay comes from the echo module that Debian's `nginx-light` already
//! depends on (`libnginx-mod-http-echo`): `echo_sleep` is a timer, not a
//! blocking sleep, so one nginx process keeps any number of delayed requests
//! in flight; the request then goes to the static file handler (Range,
//! multi-range and HEAD as for any file). With a zero delay the files are
//! served directly. The delay is checked from the client side with
//! [`DelayedNginx::time_to_first_byte`].
//!
//! Every request is logged as one JSON object (nginx's `escape=json`):
//! when it ended (`$msec`), how long it took (`$request_time`), status,
//! bytes sent, method, URI, and the `Range`, `User-Agent`, `Upgrade` and
//! `Connection` request headers. [`Traffic`] turns a slice of the log into
//! the figures a load reports: requests (HEAD / GET), bytes, header reads,
//! the mean number of requests in flight (the sum of request durations over
//! the span from the first request's start to the last one's end) and the
//! peak (a sweep over start and end times).
//!
//! ```no_run
//! use std::time::Duration;
//! use stac_gdal_e2e::latency_nginx::{DelayedNginx, Traffic};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.tif"), vec![0u8; 100_000]).unwrap();
//! let server = DelayedNginx::start(dir.path(), Duration::from_millis(20));
//! assert!(server.time_to_first_byte("a.tif") >= Duration::from_millis(20));
//! let mark = server.mark();
//! let url = server.url("a.tif"); // read it with GDAL, curl, ...
//! # let _ = url;
//! let traffic = Traffic::of(&server.requests_since(mark));
//! println!("{} requests, {:.1} in flight", traffic.requests, traffic.mean_in_flight);
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::nginx::nginx_binary;
use crate::{ChildGuard, free_port, wait_for_port};

/// The URL prefix under which the directory is served.
const PREFIX: &str = "/data/";

/// A running nginx serving one directory under `/data/` after a fixed
/// delay per request; stopped (by PID) when dropped, with its temp dir.
#[derive(Debug)]
pub struct DelayedNginx {
    // Field order matters: the process stops before its directory is removed.
    guard: ChildGuard,
    port: u16,
    delay: Duration,
    dir: tempfile::TempDir,
}

/// A position in the access log: [`DelayedNginx::requests_since`] returns
/// only the requests logged after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogMark(u64);

/// One request as nginx logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// When nginx read the request's first byte (Unix seconds, ms resolution).
    pub start: f64,
    /// From the first byte read to the last byte handed to the socket (s).
    pub duration: f64,
    /// HTTP status.
    pub status: u16,
    /// Bytes sent, headers included.
    pub bytes_sent: u64,
    /// Body bytes sent.
    pub body_bytes: u64,
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request URI (with its query string).
    pub uri: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The `Upgrade` header, if any (`h2c` when a client asks for HTTP/2 over http).
    pub upgrade: Option<String>,
    /// nginx's connection serial number (requests on one keep-alive
    /// connection share it).
    pub connection: u64,
}

impl Request {
    /// When the request ended (Unix seconds).
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }

    /// Whether this is a read of a file's first bytes (a TIFF header:
    /// `Range: bytes=0-…`).
    pub fn is_header_read(&self) -> bool {
        self.range
            .as_deref()
            .is_some_and(|r| r.trim_start_matches("bytes=").starts_with("0-"))
    }
}

/// What a slice of the log adds up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// Requests of any method.
    pub requests: usize,
    /// `HEAD` requests.
    pub heads: usize,
    /// `GET` requests.
    pub gets: usize,
    /// Reads of a file's first bytes (`Range: bytes=0-…`).
    pub header_reads: usize,
    /// Distinct URIs requested.
    pub files: usize,
    /// Requests with a status of 400 or more.
    pub errors: usize,
    /// Body bytes sent.
    pub body_bytes: u64,
    /// Bytes sent, headers included.
    pub bytes_sent: u64,
    /// From the first request's start to the last one's end (s).
    pub span: f64,
    /// Sum of the request durations (s).
    pub busy: f64,
    /// `busy / span`: the mean number of requests in flight over the span.
    pub mean_in_flight: f64,
    /// The most requests in flight at once.
    pub peak_in_flight: usize,
    /// Distinct keep-alive connections.
    pub connections: usize,
    /// Requests that carried `Upgrade: h2c`.
    pub h2c_upgrades: usize,
    /// Requests without a `User-Agent`.
    pub without_user_agent: usize,
}

impl Traffic {
    /// Add up `requests`.
    pub fn of(requests: &[Request]) -> Traffic {
        let mut t = Traffic {
            requests: requests.len(),
            ..Traffic::default()
        };
        if requests.is_empty() {
            return t;
        }
        let mut uris = std::collections::BTreeSet::new();
        let mut conns = std::collections::BTreeSet::new();
        let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
        // Sweep events: (time, +1 start / -1 end); ends sort before starts
        // at equal times (ms resolution), so back-to-back requests on one
        // connection do not count as overlapping. A request logged with a
        // zero duration (under a millisecond) ends a tenth of a millisecond
        // after it starts, so it still counts while it runs.
        let mut events: Vec<(f64, i32)> = Vec::with_capacity(2 * requests.len());
        for r in requests {
            match r.method.as_str() {
                "HEAD" => t.heads += 1,
                "GET" => t.gets += 1,
                _ => {}
            }
            t.header_reads += usize::from(r.is_header_read());
            t.errors += usize::from(r.status >= 400);
            t.body_bytes += r.body_bytes;
            t.bytes_sent += r.bytes_sent;
            t.busy += r.duration;
            t.h2c_upgrades += usize::from(
                r.upgrade
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case("h2c")),
            );
            t.without_user_agent += usize::from(r.user_agent.is_none());
            uris.insert(r.uri.split('?').next().unwrap_or(&r.uri));
            conns.insert(r.connection);
            first = first.min(r.start);
            last = last.max(r.end());
            events.push((r.start, 1));
            events.push((r.end().max(r.start + 1e-4), -1));
        }
        t.files = uris.len();
        t.connections = conns.len();
        t.span = (last - first).max(0.0);
        t.mean_in_flight = if t.span > 0.0 {
            t.busy / t.span
        } else {
            // Everything within one millisecond tick.
            requests.len() as f64
        };
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut now = 0i32;
        for (_, d) in events {
            now += d;
            t.peak_in_flight = t.peak_in_flight.max(now.max(0) as usize);
        }
        t
    }

    /// As JSON (for benchmark reports).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "requests": self.requests,
            "heads": self.heads,
            "gets": self.gets,
            "header_reads": self.header_reads,
            "files": self.files,
            "errors": self.errors,
            "body_bytes": self.body_bytes,
            "bytes_sent": self.bytes_sent,
            "span_seconds": self.span,
            "busy_seconds": self.busy,
            "mean_in_flight": self.mean_in_flight,
            "peak_in_flight": self.peak_in_flight,
            "connections": self.connections,
            "h2c_upgrades": self.h2c_upgrades,
            "without_user_agent": self.without_user_agent,
        })
    }
}

/// The directory nginx loads modules from (Debian: `/usr/lib/nginx/modules`).
fn module_path(name: &str) -> PathBuf {
    let candidates = [
        PathBuf::from("/usr/lib/nginx/modules"),
        PathBuf::from("/usr/lib64/nginx/modules"),
        PathBuf::from("/usr/share/nginx/modules"),
    ];
    candidates
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx module {name} not found: run `cargo xtask setup` \
                 (installs nginx-light and libnginx-mod-http-echo)"
            )
        })
}

/// Parse access log lines written by [`DelayedNginx`] (one JSON object per
/// line; lines that do not parse, e.g. a line being written, are skipped).
pub fn parse_log(text: &str) -> Vec<Request> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Request> {
    let v: Value = serde_json::from_str(line).ok()?;
    let num = |k: &str| -> Option<f64> {
        match &v[k] {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let text = |k: &str| -> Option<String> {
        v[k].as_str()
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_owned)
    };
    let end = num("msec")?;
    let duration = num("request_time")?;
    Some(Request {
        start: end - duration,
        duration,
        status: num("status")? as u16,
        bytes_sent: num("bytes_sent").unwrap_or(0.0) as u64,
        body_bytes: num("body_bytes_sent").unwrap_or(0.0) as u64,
        method: text("method").unwrap_or_default(),
        uri: text("uri").unwrap_or_default(),
        range: text("range"),
        user_agent: text("user_agent"),
        upgrade: text("upgrade"),
        connection: num("connection").unwrap_or(0.0) as u64,
    })
}

impl DelayedNginx {
    /// Start nginx on a free 127.0.0.1 port serving `root_dir` under
    /// `/data/`, every request answered after `delay`. Waits until it
    /// accepts connections.
    ///
    /// Panics (this is test support) when nginx or its echo module is
    /// missing, or when nginx does not start.
    pub fn start(root_dir: &Path, delay: Duration) -> DelayedNginx {
        let root = root_dir
            .canonicalize()
            .unwrap_or_else(|e| panic!("nginx root {}: {e}", root_dir.display()));
        let bin = nginx_binary();
        let dir = tempfile::Builder::new()
            .prefix("stac-gdal-latency-nginx-")
            .tempdir()
            .expect("temp dir for nginx");
        let d = dir.path();
        let www = d.join("www");
        std::fs::create_dir_all(&www).expect("nginx www dir");
        std::os::unix::fs::symlink(&root, www.join(PREFIX.trim_matches('/')))
            .expect("symlink the served directory");
        let port = free_port();
        let ms = delay.as_secs_f64() * 1e3;
        let (load, location) = if delay.is_zero() {
            (String::new(), format!("location {PREFIX} {{ }}"))
        } else {
            (
                format!(
                    "load_module {};\n",
                    module_path("ngx_http_echo_module.so").display()
                ),
                // The named location keeps $uri, so the static handler maps
                // it under `root` as for an undelayed request.
                format!(
                    "location {PREFIX} {{ echo_sleep {:.3}; echo_exec @file; }}\n        location @file {{ }}",
                    ms / 1e3
                ),
            )
        };
        let conf = format!(
            r#"{load}daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format timing escape=json '{{"msec":$msec,"request_time":$request_time,"status":$status,'
        '"bytes_sent":$bytes_sent,"body_bytes_sent":$body_bytes_sent,"method":"$request_method",'
        '"uri":"$request_uri","range":"$http_range","user_agent":"$http_user_agent",'
        '"upgrade":"$http_upgrade","connection_header":"$http_connection","connection":$connection,'
        '"protocol":"$server_protocol"}}';
    access_log {d}/access.log timing;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ image/tiff tif tiff; application/json json; text/plain txt; application/xml vrt xml; }}
    default_type application/octet-stream;
    disable_symlinks off;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        {location}
    }}
}}
"#,
            d = d.display(),
            www = www.display(),
        );
        let conf_path = d.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let guard = ChildGuard::spawn(
            "nginx (delayed)",
            Command::new(&bin)
                .arg("-c")
                .arg(&conf_path)
                .arg("-p")
                .arg(d)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(port, 10);
        DelayedNginx {
            guard,
            port,
            delay,
            dir,
        }
    }

    /// The port nginx listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The delay added to every request.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// `http://127.0.0.1:<port>/data/` (the served directory's URL, with a
    /// trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}{PREFIX}", self.port)
    }

    /// The URL of `relative` (a path inside the served directory).
    pub fn url(&self, relative: &str) -> String {
        format!("{}{}", self.base_url(), relative.trim_start_matches('/'))
    }

    /// The access log so far.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The end of the access log now.
    pub fn mark(&self) -> LogMark {
        LogMark(std::fs::metadata(self.log_path()).map_or(0, |m| m.len()))
    }

    /// The requests logged after `mark`.
    pub fn requests_since(&self, mark: LogMark) -> Vec<Request> {
        let bytes = std::fs::read(self.log_path()).unwrap_or_default();
        let from = usize::try_from(mark.0)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        parse_log(&String::from_utf8_lossy(&bytes[from..]))
    }

    /// Every request logged so far.
    pub fn requests(&self) -> Vec<Request> {
        parse_log(&self.access_log())
    }

    /// The time from sending a one-byte Range request for `relative` (on a
    /// fresh connection) to receiving the first byte of the answer: the
    /// delay as a client sees it. Panics when no answer comes within 10 s.
    pub fn time_to_first_byte(&self, relative: &str) -> Duration {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to nginx");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        s.set_nodelay(true).expect("TCP_NODELAY");
        let req = format!(
            "GET {PREFIX}{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nRange: bytes=0-0\r\n\
             User-Agent: stac-gdal-e2e/ttfb\r\nConnection: close\r\n\r\n",
            relative.trim_start_matches('/'),
            self.port
        );
        let started = Instant::now();
        s.write_all(req.as_bytes()).expect("send request");
        let mut first = [0u8; 1];
        s.read_exact(&mut first)
            .expect("nginx answered within 10 s");
        let ttfb = started.elapsed();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        ttfb
    }

    /// The nginx process ID.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: f64, duration: f64, method: &str, range: Option<&str>, conn: u64) -> Request {
        Request {
            start,
            duration,
            status: if range.is_some() { 206 } else { 200 },
            bytes_sent: 1100,
            body_bytes: 1000,
            method: method.into(),
            uri: "/data/a.tif".into(),
            range: range.map(Into::into),
            user_agent: None,
            upgrade: None,
            connection: conn,
        }
    }

    #[test]
    fn parses_the_log_format() {
        let line = r#"{"msec":1700000000.250,"request_time":0.061,"status":206,"bytes_sent":32993,"body_bytes_sent":32768,"method":"GET","uri":"/data/s/B02.tif","range":"bytes=0-32767","user_agent":"","upgrade":"h2c","connection_header":"Upgrade, HTTP2-Settings","connection":7,"protocol":"HTTP/1.1"}"#;
        let reqs = parse_log(&format!("{line}\nnot json\n{{\"msec\":1"));
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert!((r.start - 1_700_000_000.189).abs() < 1e-6);
        assert_eq!((r.status, r.body_bytes, r.connection), (206, 32768, 7));
        assert!(r.is_header_read());
        assert_eq!(r.user_agent, None);
        assert_eq!(r.upgrade.as_deref(), Some("h2c"));
    }

    #[test]
    fn in_flight_is_busy_time_over_span() {
        // Two overlapping requests over [0, 2] then one alone over [2, 3];
        // a back-to-back request on connection 1 does not overlap.
        let reqs = [
            req(0.0, 2.0, "HEAD", None, 1),
            req(0.0, 2.0, "GET", Some("bytes=0-16383"), 2),
            req(2.0, 1.0, "GET", Some("bytes=100-199"), 1),
        ];
        let t = Traffic::of(&reqs);
        assert_eq!((t.requests, t.heads, t.gets, t.header_reads), (3, 1, 2, 1));
        assert!((t.span - 3.0).abs() < 1e-9);
        assert!((t.mean_in_flight - 5.0 / 3.0).abs() < 1e-9);
        assert_eq!(t.peak_in_flight, 2);
        assert_eq!((t.connections, t.files, t.body_bytes), (2, 1, 3000));
        assert_eq!(t.without_user_agent, 3);
    }

    #[test]
    fn requests_under_a_millisecond_still_count() {
        // nginx logs 0.000 for fast local requests: one alone is one in
        // flight, and two at the same instant are two.
        let one = Traffic::of(&[req(5.0, 0.0, "GET", Some("bytes=0-9"), 1)]);
        assert_eq!(one.peak_in_flight, 1);
        let two = Traffic::of(&[
            req(5.0, 0.0, "GET", Some("bytes=0-9"), 1),
            req(5.0, 0.0, "GET", Some("bytes=10-19"), 2),
            req(5.0, 0.0, "HEAD", None, 3),
        ]);
        assert_eq!(two.peak_in_flight, 3);
        // Back to back on one connection (one ends as the next starts).
        let serial = Traffic::of(&[
            req(5.0, 0.002, "GET", Some("bytes=0-9"), 1),
            req(5.002, 0.002, "GET", Some("bytes=10-19"), 1),
        ]);
        assert_eq!(serial.peak_in_flight, 1);
    }

    /// Eight clients at once against a 200 ms delay: the client sees the
    /// delay, and the log shows eight requests in flight.
    #[test]
    fn delayed_server_counts_concurrent_requests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bin"), vec![7u8; 64 * 1024]).unwrap();
        let delay = Duration::from_millis(200);
        let server = DelayedNginx::start(dir.path(), delay);
        let ttfb = server.time_to_first_byte("a.bin");
        assert!(ttfb >= delay, "time to first byte {ttfb:?} < {delay:?}");
        let mark = server.mark();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let clients: Vec<_> = (0..8)
            .map(|i| {
                let (port, barrier) = (server.port(), barrier.clone());
                std::thread::spawn(move || {
                    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    barrier.wait();
                    let range = format!("bytes={}-{}", i * 1000, i * 1000 + 999);
                    write!(
                        s,
                        "GET /data/a.bin HTTP/1.1\r\nHost: x\r\nRange: {range}\r\nConnection: close\r\n\r\n"
                    )
                    .unwrap();
                    let mut answer = Vec::new();
                    s.read_to_end(&mut answer).unwrap();
                    String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 206")
                })
            })
            .collect();
        for c in clients {
            assert!(c.join().unwrap(), "a client did not get 206");
        }
        // The log line is written when the request ends; the clients have
        // read their whole answers, but allow nginx a moment to write it.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut reqs = server.requests_since(mark);
        while reqs.len() < 8 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            reqs = server.requests_since(mark);
        }
        let t = Traffic::of(&reqs);
        assert_eq!((t.requests, t.gets, t.errors), (8, 8, 0));
        assert_eq!(t.body_bytes, 8000);
        assert!(reqs.iter().all(|r| r.duration >= 0.199), "{reqs:?}");
        assert!(t.mean_in_flight > 6.0, "{t:?}");
        assert_eq!(t.peak_in_flight, 8, "{t:?}");
        assert_eq!(server.requests().len(), 9);
    }
}
