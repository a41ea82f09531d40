//! A real nginx (nginx-light) on 127.0.0.1 for HTTP tests: Range requests
//! and a Bearer-protected path.
//!
//! `root_dir` is served twice:
//! - `/public/<path>`: open to anyone, Range → 206;
//! - `/private/<path>`: only with `Authorization: Bearer <token>`, else 401
//!   (with `WWW-Authenticate: Bearer realm="test"`);
//! - `/sas/<path>`: only with the query parameter `sig=<token>` (like an
//!   Azure SAS URL), else 403.
//!
//! ```no_run
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.txt"), b"hello").unwrap();
//! let server = stac_gdal_e2e::nginx::Nginx::start(dir.path(), "test-token-123");
//! let public = server.url("/public/a.txt");
//! let private = server.url("/private/a.txt");
//! # let _ = (public, private);
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{ChildGuard, free_port, wait_for_port};

/// A running nginx; stopped (by PID) when dropped, with its temp dir removed.
///
/// It runs as one process (`master_process off`), so killing it by PID stops
/// everything, and it reads files with the test's own permissions.
#[derive(Debug)]
pub struct Nginx {
    // Field order matters: the process stops before its directory is removed.
    guard: ChildGuard,
    port: u16,
    dir: tempfile::TempDir,
}

/// The nginx binary (`/usr/sbin/nginx` on Debian, else found on PATH).
///
/// Panics with "run `cargo xtask setup`" when nginx is not installed.
pub fn nginx_binary() -> PathBuf {
    let candidates = [PathBuf::from("/usr/sbin/nginx")];
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("nginx"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain(on_path)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("nginx not found: run `cargo xtask setup` (installs nginx-light)")
        })
}

impl Nginx {
    /// Start nginx on a free 127.0.0.1 port serving `root_dir` under
    /// `/public/` and, behind `Authorization: Bearer <bearer_token>`, under
    /// `/private/`. Waits until it accepts connections.
    ///
    /// Panics (this is test support) when the token contains characters that
    /// cannot be embedded in the config (`"`, `\`, `$`, whitespace) or when
    /// nginx does not start.
    pub fn start(root_dir: &Path, bearer_token: &str) -> Nginx {
        assert!(
            !bearer_token.is_empty()
                && !bearer_token
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '$' | ';' | '{' | '}')),
            "bearer token for the nginx test server must be plain (no quotes, $, braces, whitespace)"
        );
        let root = root_dir
            .canonicalize()
            .unwrap_or_else(|e| panic!("nginx root {}: {e}", root_dir.display()));
        let bin = nginx_binary();
        let dir = tempfile::Builder::new()
            .prefix("stac-gdal-nginx-")
            .tempdir()
            .expect("temp dir for nginx");
        let d = dir.path();
        // Serve the same directory under two prefixes via symlinks in a www dir.
        let www = d.join("www");
        std::fs::create_dir_all(&www).expect("nginx www dir");
        std::os::unix::fs::symlink(&root, www.join("public")).expect("symlink public");
        std::os::unix::fs::symlink(&root, www.join("private")).expect("symlink private");
        std::os::unix::fs::symlink(&root, www.join("sas")).expect("symlink sas");
        let port = free_port();
        let conf = format!(
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ image/tiff tif tiff; application/json json; text/plain txt; application/xml vrt xml; }}
    default_type application/octet-stream;
    disable_symlinks off;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location /public/ {{ }}
        location /sas/ {{
            if ($arg_sig != "{bearer_token}") {{
                return 403;
            }}
        }}
        location /private/ {{
            if ($http_authorization != "Bearer {bearer_token}") {{
                add_header WWW-Authenticate 'Bearer realm="test"' always;
                return 401;
            }}
        }}
    }}
}}
"#,
            d = d.display(),
            www = www.display(),
        );
        let conf_path = d.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let guard = ChildGuard::spawn(
            "nginx",
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
        Nginx { guard, port, dir }
    }

    /// The port nginx listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`; `path` should start with `/public/` or `/private/`.
    pub fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{sep}{path}", self.port)
    }

    /// The access log so far (one line per request: tests can check what reached nginx).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// The master process PID.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }
}
