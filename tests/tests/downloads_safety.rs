//! Downloads that never lose, corrupt or litter (issue 14, downloads), with
//! real nginx (`stac_gdal_e2e::origins`): a file changed on the server
//! between runs (new ETag), a server that ignores `Range`, a link planted at
//! every name the tool uses, names that differ only in case, Windows device
//! names, hostile ids, an existing file under the item JSON's name, the
//! manifest, and `--include` of a key no item has.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::Digest;
use stac_client::{
    ClientError, DownloadOptions, LowSpeed, Overwrite, download_item, download_items,
};
use stac_gdal_e2e::origins::{OriginSpec, Origins};

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

fn sha256(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    format!(
        "1220{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The staged parts in `dest`'s staging directory.
fn parts(dest: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dest.join(".stac-gdal-staging"))
        .map(|r| {
            r.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "part"))
                .collect()
        })
        .unwrap_or_default()
}

fn item(id: &str, assets: &[(&str, String)]) -> Value {
    let assets: serde_json::Map<String, Value> = assets
        .iter()
        .map(|(k, href)| ((*k).to_owned(), json!({ "href": href })))
        .collect();
    json!({"type": "Feature", "stac_version": "1.0.0", "id": id, "geometry": null,
        "properties": {"datetime": "2021-06-01T00:00:00Z"}, "assets": assets, "links": []})
}

/// A download cut by its deadline, leaving a staged part (no low-speed
/// limit: only the deadline stops it).
fn cut_short(item: &Value, dest: &Path) -> u64 {
    let err = download_item(
        item,
        dest,
        &DownloadOptions::default()
            .with_timeout(Duration::from_millis(1500))
            .with_low_speed(None),
    )
    .unwrap_err();
    match &err {
        ClientError::TimedOut {
            item, asset, url, ..
        } => {
            assert!(item.is_some() && asset.is_some(), "{err}");
            assert!(url.contains("/data.bin") && !url.contains("S1"), "{url}");
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    let p = parts(dest);
    assert_eq!(p.len(), 1, "one staged part");
    let len = std::fs::metadata(&p[0]).unwrap().len();
    assert!(len > 0, "bytes were staged");
    assert!(
        names(dest) == set(&[".stac-gdal-staging"]),
        "{:?}",
        names(dest)
    );
    len
}

#[test]
fn a_resume_is_validated_with_if_range_and_never_mixes_two_versions() {
    let root = tempfile::tempdir().unwrap();
    let v1 = data(400_000, 1);
    std::fs::write(root.path().join("data.bin"), &v1).unwrap();
    let o = Origins::start(vec![
        OriginSpec::files("a", root.path())
            .slow("/slow/", 100_000)
            .slow("/norange/", 100_000)
            .no_ranges("/norange/"),
    ]);
    let work = tempfile::tempdir().unwrap();
    let it = item("v", &[("data", o.url("a", "/slow/data.bin?sig=S1"))]);

    // 1. Unchanged: the rerun continues the part (206) with If-Range.
    let dest = work.path().join("same");
    let staged = cut_short(&it, &dest);
    download_item(&it, &dest, &DownloadOptions::default()).unwrap();
    assert_eq!(std::fs::read(dest.join("data.bin")).unwrap(), v1);
    let last = o.log("a").pop().unwrap();
    assert_eq!(last.status, 206, "{last:?}");
    assert_eq!(
        last.header("range"),
        Some(format!("bytes={staged}-").as_str())
    );
    assert!(
        last.header("if-range").is_some_and(|v| v.starts_with('"')),
        "{last:?}"
    );
    assert!(!dest.join(".stac-gdal-staging").exists());

    // 2. Changed on the server between the runs (new ETag): the rerun's
    //    If-Range fails, nginx sends the whole new file (200), and the
    //    result is the new file alone, not old bytes + new bytes.
    let dest = work.path().join("changed");
    cut_short(&it, &dest);
    let v2 = data(400_000, 2);
    std::thread::sleep(Duration::from_millis(1100)); // a new mtime: a new ETag
    std::fs::write(root.path().join("data.bin"), &v2).unwrap();
    download_item(&it, &dest, &DownloadOptions::default()).unwrap();
    let last = o.log("a").pop().unwrap();
    assert!(last.header("if-range").is_some() && last.header("range").is_some());
    assert_eq!(last.status, 200, "{last:?}");
    assert_eq!(std::fs::read(dest.join("data.bin")).unwrap(), v2);

    // 3. A server that ignores Range: the answer is the whole file (200),
    //    written from byte 0.
    let dest = work.path().join("norange");
    let it = item("n", &[("data", o.url("a", "/norange/data.bin"))]);
    cut_short(&it, &dest);
    download_item(&it, &dest, &DownloadOptions::default()).unwrap();
    let last = o.log("a").pop().unwrap();
    assert!(last.header("range").is_some());
    assert_eq!(last.status, 200);
    assert_eq!(std::fs::read(dest.join("data.bin")).unwrap(), v2);
}

#[test]
fn links_planted_at_every_name_are_never_followed() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("data.bin"), b"remote bytes").unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path())]);
    let it = item("scene", &[("data", o.url("a", "/data.bin"))]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    let fresh = |name: &str| {
        std::fs::write(&victim, b"KEEP").unwrap();
        let base = tempfile::tempdir().unwrap();
        let dest = base.path().join(name);
        std::fs::create_dir_all(&dest).unwrap();
        (base, dest)
    };
    let link = |target: &Path, at: PathBuf| std::os::unix::fs::symlink(target, at).unwrap();
    let untouched = || {
        assert_eq!(std::fs::read(&victim).unwrap(), b"KEEP");
        assert_eq!(names(outside.path()), set(&["victim"]));
    };
    let opts = DownloadOptions::default;
    let requests = || o.log("a").len();

    // The asset's name: refused before any request (default policy) ...
    let (_b, dest) = fresh("asset");
    link(&victim, dest.join("data.bin"));
    let before = requests();
    let e = download_item(&it, &dest, &opts()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(requests(), before, "refused before any request");
    untouched();
    // ... and under --overwrite overwrite, the link itself is replaced.
    download_item(&it, &dest, &opts().with_overwrite(Overwrite::Overwrite)).unwrap();
    untouched();
    assert!(!dest.join("data.bin").is_symlink());
    assert_eq!(
        std::fs::read(dest.join("data.bin")).unwrap(),
        b"remote bytes"
    );

    // The item JSON's name.
    let (_b, dest) = fresh("json");
    link(&victim, dest.join("scene.json"));
    let e = download_item(&it, &dest, &opts()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    untouched();
    download_item(&it, &dest, &opts().with_overwrite(Overwrite::Overwrite)).unwrap();
    untouched();
    assert!(!dest.join("scene.json").is_symlink());

    // The manifest's name: replaced (it is the tool's own), never written through.
    let (_b, dest) = fresh("manifest");
    link(&victim, dest.join("stac-gdal-manifest.json"));
    download_item(&it, &dest, &opts()).unwrap();
    untouched();
    assert!(!dest.join("stac-gdal-manifest.json").is_symlink());

    // The old predictable temp name: unused, untouched.
    let (_b, dest) = fresh("oldpart");
    link(&victim, dest.join(".data.bin.part"));
    download_item(&it, &dest, &opts()).unwrap();
    untouched();
    assert!(dest.join(".data.bin.part").is_symlink());

    // The staging directory, as a link to a directory outside.
    let (_b, dest) = fresh("staging");
    link(outside.path(), dest.join(".stac-gdal-staging"));
    let e = download_item(&it, &dest, &opts()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    untouched();

    // A staging directory planted with a link at its lock file.
    let (_b, dest) = fresh("lock");
    std::fs::create_dir(dest.join(".stac-gdal-staging")).unwrap();
    link(&victim, dest.join(".stac-gdal-staging").join("lock"));
    assert!(download_item(&it, &dest, &opts()).is_err());
    untouched();

    // An item folder (several items: one folder each).
    let (_b, dest) = fresh("folder");
    link(outside.path(), dest.join("scene"));
    let two = [
        it.clone(),
        item("other", &[("data", o.url("a", "/data.bin"))]),
    ];
    let e = download_items(&two, &dest, &opts()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    untouched();
}

#[test]
fn names_are_distinct_ignoring_case_and_device_names_and_ids_are_tamed() {
    let root = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("A.TIF", "upper"),
        ("a.tif", "lower"),
        ("aux.tif", "aux"),
        ("CON", "con"),
        ("evil.json", "an asset named like the item JSON"),
    ] {
        std::fs::write(root.path().join(name), body).unwrap();
    }
    let o = Origins::start(vec![OriginSpec::files("a", root.path())]);
    let base = tempfile::tempdir().unwrap();
    let dest = base.path().join("out");
    let it = item(
        "../../evil",
        &[
            ("red", o.url("a", "/A.TIF")),
            ("green", o.url("a", "/a.tif")),
            ("dev", o.url("a", "/aux.tif")),
            ("con", o.url("a", "/CON")),
            ("meta", o.url("a", "/evil.json")),
        ],
    );
    let local = download_item(&it, &dest, &DownloadOptions::default()).unwrap();
    assert_eq!(
        names(base.path()),
        set(&["out"]),
        "nothing beside the destination"
    );
    assert_eq!(
        names(&dest),
        set(&[
            "A.TIF",
            "green-a.tif",
            "_aux.tif",
            "_CON",
            "meta-evil.json",
            "evil.json",
            "stac-gdal-manifest.json"
        ])
    );
    // No two names are equal ignoring case.
    let lower: BTreeSet<String> = names(&dest).iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(lower.len(), names(&dest).len());
    for (key, body) in [
        ("red", "upper"),
        ("green", "lower"),
        ("dev", "aux"),
        ("con", "con"),
        ("meta", "an asset named like the item JSON"),
    ] {
        let href = local["assets"][key]["href"].as_str().unwrap();
        assert_eq!(std::fs::read_to_string(href).unwrap(), body, "{key}");
    }
    // The item JSON points at the assets, not at itself.
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("evil.json")).unwrap()).unwrap();
    assert_eq!(written, local);

    // The manifest: every file, its size and sha2-256.
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dest.join("stac-gdal-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["complete"], json!(true));
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    for f in files {
        let path = dest.join(f["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(f["size"], json!(bytes.len()), "{path:?}");
        assert_eq!(f["file:checksum"], json!(sha256(&bytes)), "{path:?}");
    }
}

#[test]
fn an_existing_file_under_the_item_json_name_is_kept_by_default() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("x.bin"), b"x").unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path())]);
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(dest.path().join("package.json"), b"{\"name\": \"mine\"}").unwrap();
    let it = item("package", &[("data", o.url("a", "/x.bin"))]);
    let e = download_item(&it, dest.path(), &DownloadOptions::default()).unwrap_err();
    assert!(matches!(e, ClientError::FileExists { .. }), "{e:?}");
    assert!(e.to_string().contains("package.json"), "{e}");
    assert_eq!(
        std::fs::read(dest.path().join("package.json")).unwrap(),
        b"{\"name\": \"mine\"}"
    );
    assert!(o.log("a").is_empty(), "checked before any request");
    assert_eq!(names(dest.path()), set(&["package.json"]));
}

#[test]
fn include_of_a_key_no_item_has_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("x.bin"), b"x").unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path())]);
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("item.json");
    std::fs::write(
        &path,
        item("i", &[("data", o.url("a", "/x.bin"))]).to_string(),
    )
    .unwrap();
    let out = Command::new(stac_gdal_e2e::stac_gdal_bin())
        .args(["download", "--quiet", "--include", "NOPE"])
        .arg(&path)
        .arg(work.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NOPE") && stderr.contains("data"),
        "{stderr}"
    );
    assert!(o.log("a").is_empty());
    assert!(
        !work
            .path()
            .join("out")
            .join("stac-gdal-manifest.json")
            .exists()
    );
}

#[test]
fn a_trickle_ends_at_the_low_speed_limit_and_retries_are_bounded() {
    // 200 bytes/s (headers included) against a 1000 bytes/s limit over 1 s,
    // one retry: two attempts of about a second each, then a typed error.
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("big.bin"), data(100_000, 3)).unwrap();
    let o = Origins::start(vec![
        OriginSpec::files("a", root.path()).slow("/slow/", 200),
    ]);
    let dest = tempfile::tempdir().unwrap();
    let it = item("t", &[("data", o.url("a", "/slow/big.bin"))]);
    let t = std::time::Instant::now();
    let e = download_item(
        &it,
        dest.path(),
        &DownloadOptions::default()
            .with_low_speed(LowSpeed {
                bytes_per_second: 1000,
                window: Duration::from_secs(1),
            })
            .with_retry(
                stac_client::RetryPolicy::default()
                    .with_max_retries(1)
                    .with_initial_backoff(Duration::from_millis(10)),
            ),
    )
    .unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(e.to_string().contains("too slow"), "{e}");
    assert!(e.to_string().contains("item 't', asset 'data'"), "{e}");
    // The server logs a request when it notices the client left, which on
    // a loaded machine may come after the client returned: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while o.log("a").len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(o.log("a").len(), 2, "bounded retries");
}

#[test]
fn two_downloads_into_one_destination_do_not_share_a_staging_directory() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("data.bin"), data(200_000, 5)).unwrap();
    let o = Origins::start(vec![
        OriginSpec::files("a", root.path()).slow("/slow/", 50_000),
    ]);
    let dest = tempfile::tempdir().unwrap();
    let it = item("one", &[("data", o.url("a", "/slow/data.bin"))]);
    let (it2, d2) = (it.clone(), dest.path().to_owned());
    let first = std::thread::spawn(move || {
        download_item(
            &it2,
            &d2,
            &DownloadOptions::default().with_timeout(Duration::from_secs(2)),
        )
    });
    let staging = dest.path().join(".stac-gdal-staging");
    let t = std::time::Instant::now();
    while !staging.join("lock").exists() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let e = download_item(&it, dest.path(), &DownloadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("another download"), "{e}");
    assert!(matches!(
        first.join().unwrap(),
        Err(ClientError::TimedOut { .. })
    ));
}
