//! `download_item` / `download_items` against real servers: nginx (public,
//! Bearer-protected, Range resume) and SeaweedFS S3 (SigV4 with
//! requester-pays). Checksums and sizes verified, traversal contained,
//! overwrite policies, `<id>.json` written, the `stac-gdal download` CLI.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use stac_client::{
    ClientError, DownloadOptions, Overwrite, S3Endpoint, download_item, download_items,
};
use stac_gdal_e2e::nginx::Nginx;
use stac_gdal_e2e::seaweed::{self, Seaweed};
use stac_signers::{
    AwsCredentials, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, HostList,
};

const TOKEN: &str = "test-token-123";

fn data(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn multihash(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    format!(
        "1220{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The served files and a running nginx.
fn nginx_with_files() -> (tempfile::TempDir, Nginx, Vec<u8>) {
    let root = tempfile::tempdir().unwrap();
    let bytes = data(1_000_000, 7);
    std::fs::write(root.path().join("data.bin"), &bytes).unwrap();
    std::fs::write(root.path().join("small.txt"), b"hello").unwrap();
    // Files whose names decode to traversal attempts.
    std::fs::write(root.path().join("%2e%2e"), b"dots").unwrap();
    std::fs::write(root.path().join("..%2f..%2fescape.bin"), b"escape").unwrap();
    let server = Nginx::start(root.path(), TOKEN);
    (root, server, bytes)
}

#[test]
fn nginx_public_private_resume_verify_contain_overwrite() {
    let (_root, server, bytes) = nginx_with_files();
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");

    // Public, verified; hrefs rewritten; <id>.json written; no temp left.
    let item = json!({"id": "scene-1", "assets": {
        "data": {"href": server.url("/public/data.bin"), "file:size": bytes.len(), "file:checksum": multihash(&bytes)},
        "note": {"href": server.url("/public/small.txt")},
        "skipme": {"href": server.url("/public/missing.bin")}}});
    let local = download_item(
        &item,
        &out,
        &DownloadOptions::default().with_exclude(["skipme"]),
    )
    .unwrap();
    assert_eq!(std::fs::read(out.join("data.bin")).unwrap(), bytes);
    assert_eq!(std::fs::read(out.join("small.txt")).unwrap(), b"hello");
    assert_eq!(
        local["assets"]["data"]["href"],
        json!(out.join("data.bin").to_string_lossy())
    );
    assert_eq!(
        local["assets"]["skipme"]["href"],
        item["assets"]["skipme"]["href"]
    );
    assert_eq!(
        names(&out),
        set(&[
            "data.bin",
            "small.txt",
            "scene-1.json",
            "stac-gdal-manifest.json"
        ])
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scene-1.json")).unwrap()).unwrap();
    assert_eq!(written, local);

    // Overwrite policies.
    let requests = || server.access_log().lines().count();
    let err = download_item(
        &item,
        &out,
        &DownloadOptions::default().with_include(["note"]),
    )
    .unwrap_err();
    assert!(matches!(err, ClientError::FileExists { .. }), "{err:?}");
    let before = requests();
    download_item(
        &item,
        &out,
        &DownloadOptions::default()
            .with_include(["note"])
            .with_overwrite(Overwrite::Skip),
    )
    .unwrap();
    assert_eq!(requests(), before, "skip makes no request");
    download_item(
        &item,
        &out,
        &DownloadOptions::default()
            .with_include(["note"])
            .with_overwrite(Overwrite::Overwrite),
    )
    .unwrap();
    assert_eq!(requests(), before + 1);
    // Skip keeps a file only when it matches file:size / file:checksum.
    std::fs::write(out.join("data.bin"), b"corrupted").unwrap();
    download_item(
        &item,
        &out,
        &DownloadOptions::default()
            .with_include(["data"])
            .with_overwrite(Overwrite::Skip),
    )
    .unwrap();
    assert_eq!(requests(), before + 2, "a corrupt file is fetched again");
    assert_eq!(std::fs::read(out.join("data.bin")).unwrap(), bytes);

    // (Resuming a staged part with Range + If-Range: `downloads_safety.rs`.)

    // Checksum and size mismatches are rejected; nothing under the final name.
    let bad_dir = base.path().join("bad");
    let bad = json!({"id": "bad", "assets": {
        "sum": {"href": server.url("/public/data.bin"), "file:checksum": multihash(b"other")},
        "size": {"href": server.url("/public/small.txt"), "file:size": 6}}});
    let err = download_item(
        &bad,
        &bad_dir,
        &DownloadOptions::default().with_include(["sum"]),
    )
    .unwrap_err();
    assert!(
        matches!(err, ClientError::ChecksumMismatch { ref at, .. } if at.asset.as_deref() == Some("sum")),
        "{err:?}"
    );
    let err = download_item(
        &bad,
        &bad_dir,
        &DownloadOptions::default().with_include(["size"]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::SizeMismatch {
                expected: 6,
                actual: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(names(&bad_dir).is_empty(), "{:?}", names(&bad_dir));

    // Bearer-protected: 401 without the signer, OK with it.
    let private =
        json!({"id": "priv", "assets": {"data": {"href": server.url("/private/small.txt")}}});
    let pdir = base.path().join("private");
    let err = download_item(&private, &pdir, &DownloadOptions::default()).unwrap_err();
    assert!(
        matches!(err, ClientError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert!(!pdir.join("small.txt").exists());
    let origin = format!("127.0.0.1:{}", server.port());
    let signer = BearerTokenSigner::new(TOKEN)
        .with_hosts(HostList::new([origin.clone()]))
        .with_allow_http([origin.parse().unwrap()]);
    download_item(
        &private,
        &pdir,
        &DownloadOptions::default().with_signer(signer),
    )
    .unwrap();
    assert_eq!(std::fs::read(pdir.join("small.txt")).unwrap(), b"hello");

    // Traversal attempts stay inside the directory.
    let jail_base = tempfile::tempdir().unwrap();
    let jail = jail_base.path().join("jail");
    let evil = json!({"id": "../../evil-item", "assets": {
        "../../x": {"href": server.url("/public/%252e%252e")},
        "/tmp/abs-evil": {"href": server.url("/public/%252e%252e?v=2")},
        "dots": {"href": server.url("/public/..%252f..%252fescape.bin")}}});
    download_item(&evil, &jail, &DownloadOptions::default()).unwrap();
    assert_eq!(
        names(jail_base.path()),
        set(&["jail"]),
        "nothing written beside the directory"
    );
    assert_eq!(
        names(&jail),
        set(&[
            "x",
            "abs-evil",
            "escape.bin",
            "evil-item.json",
            "stac-gdal-manifest.json"
        ])
    );
    assert_eq!(std::fs::read(jail.join("escape.bin")).unwrap(), b"escape");
    assert!(!Path::new("/tmp/abs-evil").exists());

    // Several items: one sub-directory each.
    let many = base.path().join("many");
    let items: Vec<Value> = (0..3)
        .map(|i| json!({"id": format!("it-{i}"), "assets": {"note": {"href": server.url("/public/small.txt")}}}))
        .collect();
    let done = download_items(
        &items,
        &many,
        &DownloadOptions::default().with_concurrency(2),
    )
    .unwrap();
    assert_eq!(done.len(), 3);
    assert_eq!(
        names(&many),
        set(&["it-0", "it-1", "it-2", "stac-gdal-manifest.json"])
    );
    for i in 0..3 {
        assert_eq!(
            names(&many.join(format!("it-{i}"))),
            set(&["small.txt", &format!("it-{i}.json")])
        );
    }
}

#[test]
fn s3_sigv4_requester_pays_download() {
    let weed = Seaweed::start();
    let bytes = data(400_000, 3);
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("cog.bin");
    std::fs::write(&file, &bytes).unwrap();
    weed.put(&file, "dir/cog.bin");
    let item = json!({"id": "s3-item", "assets": {"data": {
        "href": format!("s3://{}/dir/cog.bin", seaweed::BUCKET),
        "file:checksum": multihash(&bytes), "file:size": bytes.len()}}});
    let signer = |secret: &str| {
        AwsRequesterPaysSigner::with_options(
            Some(seaweed::REGION),
            AwsOptions::new()
                .with_credentials(AwsCredentials::new(seaweed::ACCESS_KEY, secret))
                .with_hosts(HostList::new([weed.endpoint()])),
        )
    };
    let endpoint = S3Endpoint::path_style(format!("http://{}", weed.endpoint()));
    let out = tempfile::tempdir().unwrap();
    // A wrong secret: 403 from the server, and no file.
    let err = download_item(
        &item,
        out.path(),
        &DownloadOptions::default()
            .with_signer(signer("wrong-secret-000000000000000000000000000"))
            .with_s3_endpoint(endpoint.clone()),
    )
    .unwrap_err();
    assert!(
        matches!(err, ClientError::Status { status: 403, .. }),
        "{err:?}"
    );
    assert!(!out.path().join("cog.bin").exists());
    // Resume a partial file through a signed Range request.
    std::fs::write(out.path().join(".cog.bin.part"), &bytes[..123_456]).unwrap();
    let local = download_item(
        &item,
        out.path(),
        &DownloadOptions::default()
            .with_signer(signer(seaweed::SECRET_KEY))
            .with_s3_endpoint(endpoint),
    )
    .unwrap();
    assert_eq!(std::fs::read(out.path().join("cog.bin")).unwrap(), bytes);
    assert_eq!(
        local["assets"]["data"]["href"],
        json!(out.path().join("cog.bin").to_string_lossy())
    );
}

#[test]
fn cli_download_with_bearer_signer() {
    let (_root, server, bytes) = nginx_with_files();
    let work = tempfile::tempdir().unwrap();
    let item = json!({"id": "cli-item", "assets": {
        "data": {"href": server.url("/private/data.bin"), "file:checksum": multihash(&bytes)},
        "note": {"href": server.url("/private/small.txt")}}});
    let item_path = work.path().join("item.json");
    std::fs::write(&item_path, item.to_string()).unwrap();
    let out = work.path().join("out");
    let bin = stac_gdal_e2e::stac_gdal_bin();
    let run = |extra: &[&str]| {
        Command::new(&bin)
            .arg("download")
            .arg(&item_path)
            .arg(&out)
            .args(extra)
            .env("STAC_GDAL_TOKEN", TOKEN)
            .output()
            .unwrap()
    };
    let denied = run(&["--include", "data"]);
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    // Without --host a bearer token goes to no asset host: refused up front.
    let unscoped = run(&["--include", "data", "--signer", "bearer", "--quiet"]);
    assert_eq!(unscoped.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unscoped.stderr);
    assert!(stderr.contains("needs --host"), "{stderr}");
    let origin = format!("127.0.0.1:{}", server.port());
    let ok = run(&[
        "--include",
        "data",
        "--signer",
        "bearer",
        "--host",
        &origin,
        "--allow-http",
        &origin,
        "--concurrency",
        "2",
        "--quiet",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(std::fs::read(out.join("data.bin")).unwrap(), bytes);
    assert!(!out.join("small.txt").exists(), "--include respected");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cli-item.json")).unwrap()).unwrap();
    assert_eq!(
        written["assets"]["data"]["href"],
        json!(out.join("data.bin").to_string_lossy())
    );
    assert!(!String::from_utf8_lossy(&ok.stderr).contains(TOKEN));
}
