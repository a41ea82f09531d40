//! Several HTTP origins from one real nginx: each server block listens on
//! its own free port of 127.0.0.1 and logs, per request, the method, the
//! URI with its query string, the status and every header that can carry a
//! credential (`Authorization`, `Cookie`, `X-Api-Key`,
//! `Ocp-Apim-Subscription-Key`, `x-amz-*`, …) to its own log, so a test can
//! check which origin saw which credential.
//!
//! Each origin can:
//! - serve a directory at `/` with `Range` (nginx's static files: ETag,
//!   Last-Modified, 206), and the same directory at `/private/` only with
//!   `Authorization: Bearer <token>` (401 otherwise) and at `/sas/` only
//!   with `?sig=<token>` (403 otherwise);
//! - answer `302` from a prefix to another origin of the same set
//!   ([`OriginSpec::redirect`]), keeping the rest of the path and the query;
//! - serve a prefix at a given rate in bytes per second, headers included
//!   (`limit_rate`, [`OriginSpec::slow`]), or ignoring `Range`
//!   ([`OriginSpec::no_ranges`]);
//! - `proxy_pass` everything to an upstream (e.g. a STAC API such as
//!   [`PgStac`](crate::pgstac::PgStac)), with `Host` set to the origin
//!   itself so the API's links point back through the logging origin.
//!
//! ```no_run
//! use stac_gdal_e2e::origins::{OriginSpec, Origins};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.bin"), b"hello").unwrap();
//! let o = Origins::start(vec![
//!     OriginSpec::files("data", dir.path()).bearer("tok-1"),
//!     OriginSpec::files("other", dir.path()).redirect("/to-data/", "data", "/private/"),
//! ]);
//! let url = o.url("other", "/to-data/a.bin");
//! // … run something against `url` …
//! o.assert_never_saw("other", "tok-1");
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::nginx::nginx_binary;
use crate::{ChildGuard, free_port, wait_for_port};

/// The request headers each origin logs (lower case), besides method, URI
/// and status. Every header a signer or a caller sets as a credential is
/// here.
pub const LOGGED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "ocp-apim-subscription-key",
    "x-amz-security-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-request-payer",
    "range",
    "if-range",
    "host",
];

/// What one origin does.
#[derive(Debug, Clone)]
pub struct OriginSpec {
    name: String,
    root: Option<PathBuf>,
    bearer: Option<String>,
    redirects: Vec<(String, String, String)>,
    /// Extra prefixes serving the directory: (prefix, bytes/s, no ranges).
    prefixes: Vec<(String, Option<u32>, bool)>,
    proxy: Option<String>,
}

impl OriginSpec {
    /// An origin serving `root` at `/` (with `Range`).
    pub fn files(name: &str, root: &Path) -> Self {
        Self {
            name: name.to_owned(),
            root: Some(root.to_owned()),
            bearer: None,
            redirects: Vec::new(),
            prefixes: Vec::new(),
            proxy: None,
        }
    }

    /// An origin that only logs and answers 404 (plus its redirects).
    pub fn empty(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            root: None,
            bearer: None,
            redirects: Vec::new(),
            prefixes: Vec::new(),
            proxy: None,
        }
    }

    /// An origin passing every request to `upstream` (`http://127.0.0.1:PORT`).
    pub fn proxy(name: &str, upstream: &str) -> Self {
        Self {
            proxy: Some(upstream.trim_end_matches('/').to_owned()),
            ..Self::empty(name)
        }
    }

    /// Also serve the directory at `/private/` (only with `Authorization:
    /// Bearer <token>`, else 401) and at `/sas/` (only with `?sig=<token>`,
    /// else 403). The token must be plain (no quotes, `$`, braces or spaces).
    pub fn bearer(mut self, token: &str) -> Self {
        assert!(
            !token.is_empty()
                && !token
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '$' | ';' | '{' | '}')),
            "the token must be plain"
        );
        self.bearer = Some(token.to_owned());
        self
    }

    /// `302` from `prefix…` to origin `to`'s `to_prefix…` (rest of the path
    /// and the query kept).
    pub fn redirect(mut self, prefix: &str, to: &str, to_prefix: &str) -> Self {
        self.redirects
            .push((prefix.to_owned(), to.to_owned(), to_prefix.to_owned()));
        self
    }

    /// Serve the directory under `prefix` (e.g. `/slow/`) at
    /// `bytes_per_second`. nginx counts the response headers (about 250
    /// bytes) in the rate too, so at 1 byte/s even the status line takes
    /// seconds: a trickle from the first byte.
    pub fn slow(mut self, prefix: &str, bytes_per_second: u32) -> Self {
        self.prefix(prefix).1 = Some(bytes_per_second);
        self
    }

    /// Serve the directory under `prefix` ignoring `Range` (always the whole
    /// file, `200`; nginx's `max_ranges 0`), as some servers do. Combines
    /// with [`slow`](Self::slow) on the same prefix.
    pub fn no_ranges(mut self, prefix: &str) -> Self {
        self.prefix(prefix).2 = true;
        self
    }

    fn prefix(&mut self, prefix: &str) -> &mut (String, Option<u32>, bool) {
        let i = match self.prefixes.iter().position(|p| p.0 == prefix) {
            Some(i) => i,
            None => {
                self.prefixes.push((prefix.to_owned(), None, false));
                self.prefixes.len() - 1
            }
        };
        &mut self.prefixes[i]
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: path and query string, as sent.
    pub uri: String,
    /// The response status.
    pub status: u16,
    /// The [`LOGGED_HEADERS`] that were present (lower-case names).
    pub headers: BTreeMap<String, String>,
}

impl Logged {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The path (URI without its query).
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    /// Whether `text` appears in the URI or any logged header.
    pub fn raw_has(&self, text: &str) -> bool {
        self.uri.contains(text) || self.headers.values().any(|v| v.contains(text))
    }
}

/// A running nginx with one server block per origin; stopped (by PID) when
/// dropped, with its temp dir removed.
#[derive(Debug)]
pub struct Origins {
    // Field order matters: the process stops before its directory is removed.
    guard: ChildGuard,
    ports: Vec<(String, u16)>,
    dir: tempfile::TempDir,
}

/// `$http_x_api_key` for `x-api-key`.
fn nginx_var(header: &str) -> String {
    format!("$http_{}", header.replace('-', "_"))
}

impl Origins {
    /// Start one nginx serving every origin of `specs` (names must be
    /// unique), each on a free port of 127.0.0.1. Waits until all accept
    /// connections.
    pub fn start(specs: Vec<OriginSpec>) -> Origins {
        let bin = nginx_binary();
        let dir = tempfile::Builder::new()
            .prefix("stac-gdal-origins-")
            .tempdir()
            .expect("temp dir for nginx");
        let d = dir.path();
        let ports: Vec<(String, u16)> = specs
            .iter()
            .map(|s| (s.name.clone(), free_port()))
            .collect();
        let port_of = |name: &str| {
            ports
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no origin named {name}"))
                .1
        };
        let mut fields = vec![
            r#""method":"$request_method""#.to_owned(),
            r#""uri":"$request_uri""#.to_owned(),
            r#""status":"$status""#.to_owned(),
        ];
        for h in LOGGED_HEADERS {
            fields.push(format!(r#""{h}":"{}""#, nginx_var(h)));
        }
        let mut servers = String::new();
        for spec in &specs {
            let port = port_of(&spec.name);
            let name = &spec.name;
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "origin names are plain words"
            );
            let mut locations = String::new();
            for (prefix, to, to_prefix) in &spec.redirects {
                let target = port_of(to);
                locations.push_str(&format!(
                    "        location ^~ {prefix} {{\n            rewrite ^{prefix}(.*)$ http://127.0.0.1:{target}{to_prefix}$1 redirect;\n        }}\n"
                ));
            }
            if let Some(upstream) = &spec.proxy {
                locations.push_str(&format!(
                    "        location / {{\n            proxy_pass {upstream};\n            proxy_set_header Host $http_host;\n            proxy_buffering off;\n        }}\n"
                ));
            }
            let root_line = match &spec.root {
                Some(root) => {
                    let root = root
                        .canonicalize()
                        .unwrap_or_else(|e| panic!("origin root {}: {e}", root.display()));
                    // The directory served under several prefixes via symlinks.
                    let www = d.join(format!("www-{name}"));
                    std::fs::create_dir_all(&www).expect("www dir");
                    for link in ["files", "private", "sas"]
                        .into_iter()
                        .chain(spec.prefixes.iter().map(|(p, _, _)| p.trim_matches('/')))
                    {
                        std::os::unix::fs::symlink(&root, www.join(link)).expect("symlink");
                    }
                    if spec.proxy.is_none() {
                        locations.push_str(&format!(
                            "        location / {{ root {}; }}\n",
                            www.join("files").display()
                        ));
                    }
                    for (prefix, rate, no_ranges) in &spec.prefixes {
                        let rate = rate
                            .map(|r| format!(" limit_rate {r};"))
                            .unwrap_or_default();
                        let ranges = if *no_ranges { " max_ranges 0;" } else { "" };
                        locations.push_str(&format!(
                            "        location ^~ {prefix} {{{rate}{ranges} }}\n"
                        ));
                    }
                    if let Some(token) = &spec.bearer {
                        locations.push_str(&format!(
                            "        location ^~ /private/ {{\n            if ($http_authorization != \"Bearer {token}\") {{\n                add_header WWW-Authenticate 'Bearer realm=\"test\"' always;\n                return 401;\n            }}\n        }}\n        location ^~ /sas/ {{\n            if ($arg_sig != \"{token}\") {{ return 403; }}\n        }}\n"
                        ));
                    }
                    format!("        root {};\n", www.display())
                }
                None => String::new(),
            };
            servers.push_str(&format!(
                "    server {{\n        listen 127.0.0.1:{port};\n        access_log {d}/{name}.log creds;\n{root_line}{locations}    }}\n",
                d = d.display()
            ));
        }
        let conf = format!(
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format creds escape=json '{{{fields}}}';
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ image/tiff tif tiff; application/json json; text/plain txt; application/xml vrt xml; }}
    default_type application/octet-stream;
    disable_symlinks off;
{servers}}}
"#,
            d = d.display(),
            fields = fields.join(","),
        );
        let conf_path = d.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let guard = ChildGuard::spawn(
            "nginx (origins)",
            Command::new(&bin)
                .arg("-c")
                .arg(&conf_path)
                .arg("-p")
                .arg(d)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        for (_, port) in &ports {
            wait_for_port(*port, 10);
        }
        Origins { guard, ports, dir }
    }

    /// The port of origin `name`.
    pub fn port(&self, name: &str) -> u16 {
        self.ports
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no origin named {name}"))
            .1
    }

    /// `127.0.0.1:<port>` of origin `name` (the form `--host` and
    /// `--allow-http` take).
    pub fn host_port(&self, name: &str) -> String {
        format!("127.0.0.1:{}", self.port(name))
    }

    /// `http://127.0.0.1:<port><path>` of origin `name`.
    pub fn url(&self, name: &str, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{sep}{path}", self.port(name))
    }

    /// The raw log of origin `name` so far (one JSON object a line).
    pub fn raw_log(&self, name: &str) -> String {
        assert!(
            self.ports.iter().any(|(n, _)| n == name),
            "no origin named {name}"
        );
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// The requests origin `name` received so far.
    ///
    /// nginx writes a line when it finalises a request, which can come just
    /// after the client has its response: an empty log is read again for up
    /// to a second before it is believed.
    pub fn log(&self, name: &str) -> Vec<Logged> {
        let mut raw = self.raw_log(name);
        let start = std::time::Instant::now();
        while raw.trim().is_empty() && start.elapsed() < std::time::Duration::from_secs(1) {
            std::thread::sleep(std::time::Duration::from_millis(50));
            raw = self.raw_log(name);
        }
        raw.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("bad log line {line:?}: {e}"));
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                Logged {
                    method: s("method"),
                    uri: s("uri"),
                    status: s("status").parse().unwrap_or(0),
                    headers: LOGGED_HEADERS
                        .iter()
                        .map(|h| (h.to_string(), s(h)))
                        .filter(|(_, v)| !v.is_empty())
                        .collect(),
                }
            })
            .collect()
    }

    /// Whether origin `name`'s log holds `secret` anywhere (URI, query,
    /// any logged header), also percent-encoded.
    pub fn saw(&self, name: &str, secret: &str) -> bool {
        let log = self.raw_log(name);
        let encoded: String = url_encode(secret);
        log.contains(secret) || log.contains(&encoded)
    }

    /// Panic unless origin `name` never received `secret`.
    pub fn assert_never_saw(&self, name: &str, secret: &str) {
        assert!(
            !self.saw(name, secret),
            "origin {name} received the secret:\n{}",
            self.raw_log(name)
        );
    }

    /// Panic unless origin `name` received `secret` at least once.
    pub fn assert_saw(&self, name: &str, secret: &str) {
        assert!(
            self.saw(name, secret),
            "origin {name} never received the secret:\n{}",
            self.raw_log(name)
        );
    }

    /// nginx's PID.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }
}

/// Percent-encode every byte but unreserved ones.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
