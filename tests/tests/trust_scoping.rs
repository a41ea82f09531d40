//! Credentials reach only their origin (issue 13), on the network entry
//! points — `download`, `search` and `point`'s search — for every signer
//! that carries one: bearer, Earthdata and CDSE (tokens minted by our token
//! server), Planetary Computer SAS, and AWS SigV4 against SeaweedFS.
//!
//! Every origin is a server block of one real nginx on its own port of
//! 127.0.0.1 (`stac_gdal_e2e::origins`) logging the credential headers and
//! query of every request; the STAC API is a real stac-fastapi-pgstac
//! reached through a logging origin (`proxy_pass`), and S3 is SeaweedFS
//! behind another. For each signer: the credential reaches the origin it
//! is scoped to (`--host 127.0.0.1:<port>`, a port given); the other
//! origins' logs never contain it; a 302 to another port drops it; and
//! `--host 127.0.0.1` (no port: the default port) or a missing
//! `--allow-http` sends it nowhere and says so on stderr.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use ndarray::Array2;
use serde_json::{Value, json};
use stac_client::{DownloadOptions, download_item};
use stac_gdal::raster::{Crs, Dataset, GridSpec, transform_bounds, transform_point};
use stac_gdal_e2e::origins::{OriginSpec, Origins};
use stac_gdal_e2e::pgstac::PgStac;
use stac_gdal_e2e::seaweed::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY, Seaweed};
use stac_gdal_e2e::token_server::{TokenServer, TokenServerConfig};
use stac_signers::{PcOptions, PlanetaryComputerSigner, Signer, SignerError};

const COLLECTION: &str = "scoping";
const LAT: f64 = 46.0;
const LON: f64 = 11.0;

/// Run the CLI with `env` only (no inherited credentials).
fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
    cmd.args(args);
    for var in [
        "STAC_GDAL_TOKEN",
        "EARTHDATA_TOKEN",
        "EARTHDATA_PAT",
        "EARTHDATA_USERNAME",
        "EARTHDATA_PASSWORD",
        "CDSE_USERNAME",
        "CDSE_PASSWORD",
        "PC_SDK_SAS_URL",
        "PC_SDK_SUBSCRIPTION_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run stac-gdal")
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A one-band uint16 COG around the point (UTM 32N, 10 m), and its item.
fn scene(dir: &Path, href: &str) -> Value {
    let [x, y] = transform_point(LON, LAT, &Crs::Epsg(4326), &Crs::Epsg(32632)).unwrap();
    let (ox, oy) = (
        (x / 10.0).round() * 10.0 - 320.0,
        (y / 10.0).round() * 10.0 + 320.0,
    );
    let arr = Array2::from_shape_fn((64, 64), |(r, c)| (1 + r * 64 + c) as u16);
    Dataset::create_from_array(&arr, &GridSpec::north_up([ox, oy], 10.0, 32632), Some(0.0))
        .unwrap()
        .to_file(dir.join("scene.tif"))
        .unwrap();
    let b = transform_bounds(
        &[ox, oy - 640.0, ox + 640.0, oy],
        &Crs::Epsg(32632),
        &Crs::Epsg(4326),
    )
    .unwrap();
    json!({"type": "Feature", "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "id": "scene", "collection": COLLECTION, "bbox": b,
        "geometry": {"type": "Polygon", "coordinates": [[
            [b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]]},
        "properties": {"datetime": "2021-06-02T10:00:00Z", "proj:code": "EPSG:32632",
            "proj:shape": [64, 64], "proj:transform": [10.0, 0.0, ox, 0.0, -10.0, oy]},
        "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff",
            "raster:bands": [{"data_type": "uint16", "nodata": 0}]}},
        "links": []})
}

/// The shared world: pgstac with one scene whose COG is on the `cogs`
/// origin, and the files every case downloads.
struct World {
    _pg: PgStac,
    pg_url: String,
    cogs: Origins,
    _cog_dir: tempfile::TempDir,
    files: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let files = tempfile::tempdir().unwrap();
        std::fs::write(files.path().join("x.bin"), b"private bytes").unwrap();
        std::fs::write(files.path().join("y.bin"), b"bytes behind a redirect").unwrap();
        std::fs::write(files.path().join("z.bin"), b"public bytes").unwrap();
        let cog_dir = tempfile::tempdir().unwrap();
        let cogs = Origins::start(vec![OriginSpec::files("cogs", cog_dir.path())]);
        let item = scene(cog_dir.path(), &cogs.url("cogs", "/scene.tif"));
        let pg = PgStac::start(1);
        let work = tempfile::tempdir().unwrap();
        let coll = json!({"type": "Collection", "stac_version": "1.0.0", "id": COLLECTION,
            "description": "scoping", "license": "CC0-1.0",
            "extent": {"spatial": {"bbox": [[10.0, 45.0, 12.0, 47.0]]},
                "temporal": {"interval": [["2021-01-01T00:00:00Z", null]]}},
            "links": []});
        let cpath = work.path().join("collection.json");
        std::fs::write(&cpath, coll.to_string()).unwrap();
        pg.load_collection(&cpath);
        let ipath = work.path().join("items.ndjson");
        std::fs::write(&ipath, format!("{item}\n")).unwrap();
        pg.load_items(&ipath);
        World {
            pg_url: pg.url(),
            _pg: pg,
            cogs,
            _cog_dir: cog_dir,
            files,
            work,
        }
    }

    /// Origins for one signer: `a` (holds `secret` at `/private/` and
    /// `/sas/`, sends `/hop/` to `b`), `b` (the other origin), `api`
    /// (pgstac, `/moved/` sent to `b`), and `s3` (SeaweedFS) when given.
    fn origins(&self, secret: &str, s3: Option<&Seaweed>) -> Origins {
        let mut specs = vec![
            OriginSpec::files("a", self.files.path())
                .bearer(secret)
                .redirect("/hop/", "b", "/"),
            OriginSpec::files("b", self.files.path()).bearer(secret),
            OriginSpec::proxy("api", &self.pg_url).redirect("/moved/", "b", "/"),
        ];
        if let Some(s) = s3 {
            specs.push(OriginSpec::proxy("s3", &format!("http://{}", s.endpoint())));
        }
        Origins::start(specs)
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

/// One signer under test on the CLI.
struct Case<'a> {
    name: &'a str,
    /// `--signer …` and its settings, but no `--host`.
    args: Vec<String>,
    env: Vec<(&'a str, String)>,
    /// What must reach the origin in scope (a header value or query).
    marker: String,
    /// Every secret value: never in another origin's log.
    secrets: Vec<String>,
}

impl Case<'_> {
    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
    fn run(&self, args: &[&str], scope: &[String]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.args.iter().map(String::as_str));
        all.extend(scope.iter().map(String::as_str));
        cli(&all, &self.env())
    }
    fn never(&self, o: &Origins, origin: &str) {
        for s in &self.secrets {
            o.assert_never_saw(origin, s);
        }
    }
}

fn scope(o: &Origins, origin: &str, http: bool) -> Vec<String> {
    let hp = o.host_port(origin);
    let mut v = vec!["--host".to_owned(), hp.clone()];
    if http {
        v.extend(["--allow-http".to_owned(), hp]);
    }
    v
}

/// Download, search and point for one bearer-type signer.
fn bearer_type(w: &World, case: &Case<'_>, o: &Origins) {
    let name = case.name;
    // Download: one asset behind a's token, one redirected to b, one on b.
    let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "dl",
        "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
        "assets": {
            "private": {"href": o.url("a", "/private/x.bin")},
            "hop": {"href": o.url("a", "/hop/y.bin")},
            "public": {"href": o.url("b", "/z.bin")}}});
    let item_path = w.dir(&format!("{name}-item.json"));
    std::fs::write(&item_path, item.to_string()).unwrap();
    let dest = w.dir(&format!("{name}-dl"));
    let dl = |scope: &[String], dest: &Path| {
        case.run(
            &[
                "download",
                item_path.to_str().unwrap(),
                dest.to_str().unwrap(),
                "--quiet",
            ],
            scope,
        )
    };
    let out = dl(&scope(o, "a", true), &dest);
    ok(&out, &format!("{name}: download"));
    assert_eq!(std::fs::read(dest.join("x.bin")).unwrap(), b"private bytes");
    assert_eq!(
        std::fs::read(dest.join("y.bin")).unwrap(),
        b"bytes behind a redirect"
    );
    let private = o.log("a");
    assert!(
        private
            .iter()
            .any(|r| r.path() == "/private/x.bin" && r.status == 200),
        "{name}: {private:?}"
    );
    o.assert_saw("a", &case.marker);
    // b got the public file and the redirected one, never the credential.
    assert!(o.log("b").iter().any(|r| r.path() == "/y.bin"));
    case.never(o, "b");

    // --host without the port: the default port (80), so nothing matches,
    // the token goes nowhere (401), and stderr says so.
    let before = o.raw_log("a").matches(&case.marker).count();
    let out = dl(
        &["--host".into(), "127.0.0.1".into()],
        &w.dir(&format!("{name}-noport")),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{name}: {stderr}");
    assert!(
        stderr.contains("\"127.0.0.1\" matched no URL"),
        "{name}: {stderr}"
    );
    // Plain http without --allow-http: not sent either, and said so.
    let out = dl(&scope(o, "a", false), &w.dir(&format!("{name}-nohttp")));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("matched only plain-http"),
        "{name}: {stderr}"
    );
    assert_eq!(
        o.raw_log("a").matches(&case.marker).count(),
        before,
        "{name}: the credential went out without a matching scope"
    );
    case.never(o, "b");

    // Search through the API's origin: the credential goes there only.
    let api = o.url("api", "/");
    let out = case.run(
        &["search", &api, "--collections", COLLECTION],
        &scope(o, "api", true),
    );
    ok(&out, &format!("{name}: search"));
    let fc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fc["features"][0]["id"], "scene");
    o.assert_saw("api", &case.marker);
    // A 302 from the API's origin to another port: followed without it.
    let out = case.run(
        &[
            "search",
            &o.url("api", "/moved/"),
            "--collections",
            COLLECTION,
        ],
        &scope(o, "api", true),
    );
    assert!(!out.status.success(), "{name}: b is no STAC API");
    assert!(
        o.log("b").iter().any(|r| r.path() == "/"),
        "{name}: redirect followed"
    );
    case.never(o, "b");

    // point: the search is signed for the API's origin; the COGs' origin
    // (not in scope) never gets the credential.
    let searches = || {
        o.log("api")
            .into_iter()
            .filter(|r| r.path().ends_with("/search") && r.raw_has(&case.marker))
            .count()
    };
    let before = searches();
    let out = case.run(
        &[
            "point",
            &api,
            "--collection",
            COLLECTION,
            "--bands",
            "data",
            "--lat",
            "46",
            "--lon",
            "11",
            "--start",
            "2021-06-01",
            "--end",
            "2021-06-30",
            "--edge-size",
            "16",
            "--resolution",
            "10",
            "--out",
            w.dir(&format!("{name}-point")).to_str().unwrap(),
        ],
        &scope(o, "api", true),
    );
    ok(&out, &format!("{name}: point"));
    assert!(
        searches() > before,
        "{name}: point's search went to the API origin with the credential"
    );
    for s in &case.secrets {
        w.cogs.assert_never_saw("cogs", s);
    }
    case.never(o, "b");
    for text in [&out.stdout, &out.stderr] {
        for s in &case.secrets {
            assert!(
                !String::from_utf8_lossy(text).contains(s.as_str()),
                "{name}"
            );
        }
    }
}

#[test]
fn credentials_reach_only_their_origin_on_download_search_and_point() {
    let w = World::start();

    // ---- bearer
    const BEARER: &str = "scope-BEARER-7d1c";
    let o = w.origins(BEARER, None);
    bearer_type(
        &w,
        &Case {
            name: "bearer",
            args: vec!["--signer".into(), "bearer".into()],
            env: vec![("STAC_GDAL_TOKEN", BEARER.into())],
            marker: format!("Bearer {BEARER}"),
            secrets: vec![BEARER.into()],
        },
        &o,
    );

    // ---- Earthdata: login at our token server, minted token.
    const EDL: &str = "scope-EDL-TOKEN-42aa";
    const EDL_PASSWORD: &str = "scope-edl-PASSWORD-9";
    let tokens = TokenServer::start(TokenServerConfig {
        earthdata_login: ("edl-user".into(), EDL_PASSWORD.into()),
        cdse_login: ("cdse-user".into(), "scope-cdse-PASSWORD-3".into()),
        fixed_token: Some(EDL.into()),
        ..TokenServerConfig::default()
    });
    let o = w.origins(EDL, None);
    bearer_type(
        &w,
        &Case {
            name: "earthdata",
            args: vec![
                "--signer".into(),
                "earthdata".into(),
                "--token-url".into(),
                tokens.earthdata_url(),
            ],
            env: vec![
                ("EARTHDATA_USERNAME", "edl-user".into()),
                ("EARTHDATA_PASSWORD", EDL_PASSWORD.into()),
            ],
            marker: format!("Bearer {EDL}"),
            // base64("edl-user:scope-edl-PASSWORD-9")
            secrets: vec![
                EDL.into(),
                EDL_PASSWORD.into(),
                "ZWRsLXVzZXI6c2NvcGUtZWRsLVBBU1NXT1JELTk=".into(),
            ],
        },
        &o,
    );

    // ---- CDSE: password grant at our token server (same fixed token value
    // scheme; its own origins).
    let o = w.origins(EDL, None);
    bearer_type(
        &w,
        &Case {
            name: "cdse",
            args: vec![
                "--signer".into(),
                "cdse".into(),
                "--token-url".into(),
                tokens.cdse_url(),
            ],
            env: vec![
                ("CDSE_USERNAME", "cdse-user".into()),
                ("CDSE_PASSWORD", "scope-cdse-PASSWORD-3".into()),
            ],
            marker: format!("Bearer {EDL}"),
            secrets: vec![EDL.into(), "scope-cdse-PASSWORD-3".into()],
        },
        &o,
    );

    planetary_computer(&w);
    aws_sigv4(&w);
}

/// The real Planetary Computer signer (SAS from our token server), its
/// Azure hrefs pointed at origin `a`'s `/sas/` (Azure is out of reach).
#[derive(Debug)]
struct PcOnA {
    pc: PlanetaryComputerSigner,
    a: String,
}

const BLOB: &str = "https://acct.blob.core.windows.net/cont/";

impl Signer for PcOnA {
    fn name(&self) -> &str {
        "planetary-computer"
    }
    fn sign_request(&self, r: &mut stac_signers::Request) -> Result<(), SignerError> {
        self.pc.sign_request(r)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(self.pc.sign_href(href)?.replace(BLOB, &self.a))
    }
    fn allows_url(&self, url: &str) -> bool {
        self.pc.allows_url(url)
    }
    fn secrets(&self) -> Vec<stac_signers::Secret> {
        self.pc.secrets()
    }
}

fn planetary_computer(w: &World) {
    const SAS: &str = "scope-PCSAS-51b0";
    const KEY: &str = "scope-PC-SUBSCRIPTION-KEY-8";
    let tokens = TokenServer::start(TokenServerConfig {
        fixed_token: Some(SAS.into()),
        pc_subscription_key: Some(KEY.into()),
        ..TokenServerConfig::default()
    });
    let o = w.origins(SAS, None);
    let signer = PcOnA {
        pc: PlanetaryComputerSigner::with_options(
            PcOptions::default()
                .with_sas_url(tokens.pc_sas_url())
                .with_subscription_key(KEY),
        ),
        a: o.url("a", "/sas/"),
    };
    // Download: the SAS goes into the blob href only (on a); b's asset and
    // every request header carry nothing.
    let item = json!({"id": "pc", "assets": {
        "blob": {"href": format!("{BLOB}x.bin")},
        "other": {"href": o.url("b", "/z.bin")}}});
    let dest = w.dir("pc-dl");
    download_item(
        &item,
        &dest,
        &DownloadOptions::default().with_signer(Arc::new(signer) as Arc<dyn Signer>),
    )
    .unwrap();
    assert_eq!(std::fs::read(dest.join("x.bin")).unwrap(), b"private bytes");
    o.assert_saw("a", &format!("sig={SAS}"));
    for s in [SAS, KEY] {
        o.assert_never_saw("b", s);
    }
    o.assert_never_saw("a", KEY);
    // The written item holds local paths, no SAS.
    let written = std::fs::read_to_string(dest.join("pc.json")).unwrap();
    assert!(!written.contains(SAS), "{written}");
    // Search and point with `--signer pc`: requests carry nothing.
    let env = [
        ("PC_SDK_SAS_URL", tokens.pc_sas_url()),
        ("PC_SDK_SUBSCRIPTION_KEY", KEY.to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let api = o.url("api", "/");
    ok(
        &cli(
            &[
                "search",
                &api,
                "--collections",
                COLLECTION,
                "--signer",
                "pc",
            ],
            &env,
        ),
        "pc: search",
    );
    let out = cli(
        &[
            "point",
            &api,
            "--collection",
            COLLECTION,
            "--bands",
            "data",
            "--lat",
            "46",
            "--lon",
            "11",
            "--start",
            "2021-06-01",
            "--end",
            "2021-06-30",
            "--edge-size",
            "16",
            "--resolution",
            "10",
            "--signer",
            "pc",
            "--out",
            w.dir("pc-point").to_str().unwrap(),
        ],
        &env,
    );
    ok(&out, "pc: point");
    for s in [SAS, KEY] {
        o.assert_never_saw("api", s);
        w.cogs.assert_never_saw("cogs", s);
    }
}

fn aws_sigv4(w: &World) {
    let s3 = Seaweed::start();
    std::fs::write(w.dir("obj.bin"), b"s3 bytes").unwrap();
    s3.put(&w.dir("obj.bin"), "dir/obj.bin");
    let o = w.origins("unused-aws-token", Some(&s3));
    let keys = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "aws",
        "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
        "assets": {
            "obj": {"href": format!("s3://{BUCKET}/dir/obj.bin")},
            "other": {"href": o.url("b", "/z.bin")},
            "hop": {"href": o.url("a", "/hop/y.bin")}}});
    let item_path = w.dir("aws-item.json");
    std::fs::write(&item_path, item.to_string()).unwrap();
    let dest = w.dir("aws-dl");
    let s3_origin = o.host_port("s3");
    let out = cli(
        &[
            "download",
            item_path.to_str().unwrap(),
            dest.to_str().unwrap(),
            "--quiet",
            "--signer",
            "aws",
            "--region",
            REGION,
            "--host",
            &format!("{s3_origin},{}", o.host_port("a")),
            "--s3-endpoint",
            &format!("http://{s3_origin}"),
        ],
        &keys,
    );
    ok(&out, "aws: download");
    assert_eq!(std::fs::read(dest.join("obj.bin")).unwrap(), b"s3 bytes");
    // SeaweedFS checked the signature made for the s3 origin.
    let signed = o.log("s3");
    assert!(
        signed
            .iter()
            .any(|r| r.header("authorization").is_some_and(
                |a| a.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
            ) && r.header("x-amz-request-payer") == Some("requester")),
        "{signed:?}"
    );
    // b (its own asset, and the redirect from a) never saw a signature.
    for r in o.log("b") {
        assert!(r.header("authorization").is_none(), "{r:?}");
        assert!(r.header("x-amz-date").is_none(), "{r:?}");
    }
    for origin in ["a", "b", "s3", "api"] {
        o.assert_never_saw(origin, SECRET_KEY);
    }
    // Search and point: SigV4 for the API's origin only.
    let api = o.url("api", "/");
    let scope = ["--host".to_owned(), o.host_port("api")];
    let mut args = vec![
        "search",
        api.as_str(),
        "--collections",
        COLLECTION,
        "--signer",
        "aws",
    ];
    args.extend(scope.iter().map(String::as_str));
    ok(&cli(&args, &keys), "aws: search");
    assert!(o.log("api").iter().any(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"))
    }));
    let point_dir = w.dir("aws-point");
    let mut args = vec![
        "point",
        api.as_str(),
        "--collection",
        COLLECTION,
        "--bands",
        "data",
        "--lat",
        "46",
        "--lon",
        "11",
        "--start",
        "2021-06-01",
        "--end",
        "2021-06-30",
        "--edge-size",
        "16",
        "--resolution",
        "10",
        "--signer",
        "aws",
        "--out",
        point_dir.to_str().unwrap(),
    ];
    args.extend(scope.iter().map(String::as_str));
    ok(&cli(&args, &keys), "aws: point");
    for r in w.cogs.log("cogs") {
        assert!(
            r.header("authorization")
                .is_none_or(|a| !a.starts_with("AWS4")),
            "{r:?}"
        );
    }
    w.cogs.assert_never_saw("cogs", SECRET_KEY);
}
