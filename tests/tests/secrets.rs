//! Secrets sweep (issue 9): for each signer with a known secret — a bearer
//! token, an Earthdata login and token, a Planetary Computer SAS token from
//! our token server, an AWS secret key against SeaweedFS — run search,
//! download, cube load, VRT build and the CLI (with `RUST_LOG=trace` and
//! `CPL_DEBUG=ON`), succeeding and failing, and collect everything they
//! print, return or write: stdout, stderr, error `Display` and `Debug`,
//! `Debug` of options and signers, summaries, and every written file. No
//! secret may appear in any of it, except where it must (the items a search
//! was asked to sign, a VRT that authenticates through its source paths —
//! with its warning — and `env --show-secrets`). Also: redirects to another
//! host drop the credentials (client and GDAL), and an error body that
//! echoes the credentials is redacted.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

mod signers_common;

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use signers_common::make_cog;
use stac_client::{Client, ClientOptions, DownloadOptions, RetryPolicy, S3Endpoint, SearchParams};
use stac_gdal::cube::{CubeOptions, DatasetCollection};
use stac_gdal_e2e::fault_server::{FaultServer, Reply, Request};
use stac_gdal_e2e::nginx::Nginx;
use stac_gdal_e2e::seaweed::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY, Seaweed};
use stac_gdal_e2e::token_server::{Endpoint, Failure, TokenServer, TokenServerConfig};
use stac_signers::{
    AwsCredentials, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, EarthdataOptions,
    EarthdataSigner, GdalEnv, HostList, PcOptions, PlanetaryComputerSigner, Signer, SignerError,
};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

// ------------------------------------------------------------------ origins

/// `127.0.0.1:<port>` of a test server URL: the origin entry for `--host`
/// and `--allow-http`.
fn hp(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// A host list of the origins of `urls`, allowed over plain http (the
/// test servers speak http).
fn origins(urls: &[&str]) -> HostList {
    let entries: Vec<String> = urls.iter().map(|u| hp(u)).collect();
    HostList::new(entries.iter().cloned())
        .with_allow_http(entries.iter().map(|e| e.parse().unwrap()))
}

// ------------------------------------------------------------------ the corpus

/// Everything a sweep saw, by label.
#[derive(Default)]
struct Corpus(Vec<(String, String)>);

impl Corpus {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    /// `Debug`, compact and pretty.
    fn debug(&mut self, label: &str, value: &impl Debug) {
        self.add(format!("{label} (Debug)"), format!("{value:?}"));
        self.add(format!("{label} (Debug #)"), format!("{value:#?}"));
    }

    /// An error: `Display`, `Debug` and its source chain.
    fn error(&mut self, label: &str, e: &(dyn std::error::Error + 'static)) {
        self.add(format!("{label} (Display)"), e.to_string());
        self.add(format!("{label} (Debug)"), format!("{e:?}"));
        let mut source = e.source();
        while let Some(s) = source {
            self.add(format!("{label} (source)"), s.to_string());
            source = s.source();
        }
    }

    /// Every file under `path`, as (lossy) text.
    fn files(&mut self, label: &str, path: &Path) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                self.files(label, &entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(path) {
            self.add(
                format!("{label}: file {}", path.display()),
                String::from_utf8_lossy(&bytes).into_owned(),
            );
        }
    }

    fn output(&mut self, label: &str, out: &Output) {
        self.add(
            format!("{label} (stdout)"),
            String::from_utf8_lossy(&out.stdout),
        );
        self.add(
            format!("{label} (stderr)"),
            String::from_utf8_lossy(&out.stderr),
        );
    }

    /// Panic naming every place a secret appears.
    fn assert_clean(&self, secrets: &[&str]) {
        assert!(self.0.len() > 10, "the sweep saw almost nothing");
        let mut leaks = Vec::new();
        for (label, text) in &self.0 {
            for s in secrets {
                if let Some(i) = text.find(s) {
                    let from = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
                    let to = (i + s.len() + 80).min(text.len());
                    let to = (to..=text.len())
                        .find(|&j| text.is_char_boundary(j))
                        .unwrap_or(text.len());
                    leaks.push(format!("{label}: …{}…", &text[from..to]));
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{} leak(s):\n{}",
            leaks.len(),
            leaks.join("\n")
        );
    }
}

/// One CLI run: label, arguments, environment, whether it should succeed.
type CliRun<'a> = (&'a str, Vec<String>, &'a [(&'a str, &'a str)], bool);

/// The CLI with trace logging and GDAL debug output on, and no inherited
/// credentials or GDAL settings.
fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
    cmd.args(args)
        .env("RUST_LOG", "trace")
        .env("CPL_DEBUG", "ON")
        .env("RUST_BACKTRACE", "1");
    for (k, _) in std::env::vars() {
        if [
            "AWS_",
            "GDAL_",
            "CPL_VSIL",
            "EARTHDATA_",
            "PC_SDK_",
            "STAC_GDAL_TOKEN",
        ]
        .iter()
        .any(|p| k.starts_with(p))
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("GDAL_HTTP_MAX_RETRY", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("stac-gdal runs")
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

// ------------------------------------------------------------------ fixtures

/// An item over the 256 x 256 COG of `make_cog` (EPSG:32633, 10 m).
fn item(id: &str, day: u32, href: &str) -> Value {
    json!({"type": "Feature", "stac_version": "1.0.0", "id": id, "geometry": null,
        "properties": {"datetime": format!("2021-06-{day:02}T00:00:00Z"), "proj:epsg": 32633},
        "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff",
            "proj:shape": [256, 256],
            "proj:transform": [10.0, 0.0, 500000.0, 0.0, -10.0, 4600000.0],
            "raster:bands": [{"data_type": "uint8"}]}}})
}

/// The pixels of the local COG.
fn local_pixels(cog: &Path) -> Vec<u8> {
    stac_gdal::raster::Dataset::open(cog.to_str().unwrap())
        .unwrap()
        .read_array::<u8>()
        .unwrap()
        .iter()
        .copied()
        .collect()
}

/// A STAC API on our fault server with two roots: `/ok/` serves `items`
/// to searches whose `Authorization` is `auth` (any when `None`) and 401
/// otherwise; `/bad/` answers every search 403 with a body that echoes the
/// request's credentials (as some servers explain what they rejected).
fn api(items: Vec<Value>, auth: Option<String>) -> FaultServer {
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = FaultServer::start(move |r: &Request| {
        let base = b.get().unwrap();
        let root = r.path().split('/').nth(1).unwrap_or("").to_owned();
        if r.path() == format!("/{root}/") {
            return Reply::json(&json!({"type": "Catalog", "id": root, "description": "d",
                "stac_version": "1.0.0",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                               "https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "search", "type": "application/geo+json", "method": "GET",
                           "href": format!("{base}/{root}/search")}]}));
        }
        let echo = format!(
            "rejected authorization={:?} x-api-key={:?} for {}",
            r.header("authorization"),
            r.header("x-api-key"),
            r.target
        );
        match root.as_str() {
            "ok" if auth
                .as_deref()
                .is_none_or(|a| r.header("authorization") == Some(a)) =>
            {
                Reply::json(&json!({"type": "FeatureCollection", "features": items, "links": []}))
            }
            "ok" => Reply::Full {
                status: 401,
                headers: vec![],
                body: echo.into_bytes(),
            },
            _ => Reply::Full {
                status: 403,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: echo.into_bytes(),
            },
        }
    });
    base.set(server.url("")).unwrap();
    server
}

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(1)
        .with_initial_backoff(std::time::Duration::from_millis(5))
}

fn gdal_env() -> GdalEnv {
    GdalEnv::new()
        .with("GDAL_HTTP_MAX_RETRY", "0")
        .with("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
}

// ------------------------------------------------------------------ library sweep

/// One signer under test.
struct Case<'a> {
    name: &'a str,
    /// The signer with the right credentials.
    good: Arc<dyn Signer>,
    /// The same signer with a wrong credential, or whose minting fails.
    bad: Arc<dyn Signer>,
    /// An item whose asset the good signer can read, and one whose asset is missing.
    ok_item: Value,
    missing_item: Value,
    /// Extra GDAL options for cube reads (S3 endpoint, ...).
    env: GdalEnv,
    /// Where `s3://` hrefs go for downloads.
    s3: Option<S3Endpoint>,
    /// The local file the asset is a copy of.
    cog: &'a Path,
}

/// Download, cube load and VRT build with the good and the bad signer.
fn library_sweep(case: &Case<'_>, corpus: &mut Corpus, dir: &Path) {
    let name = case.name;
    corpus.debug(&format!("{name}: good signer"), &case.good);
    corpus.debug(&format!("{name}: bad signer"), &case.bad);
    let expected = local_pixels(case.cog);

    // Downloads.
    let download = |signer: &Arc<dyn Signer>| {
        let mut o = DownloadOptions::default()
            .with_signer(signer.clone())
            .with_retry(RetryPolicy::none());
        if let Some(e) = &case.s3 {
            o = o.with_s3_endpoint(e.clone());
        }
        o
    };
    corpus.debug(&format!("{name}: download options"), &download(&case.good));
    let out = dir.join(format!("{name}-download"));
    let written = stac_client::download_item(&case.ok_item, &out, &download(&case.good))
        .unwrap_or_else(|e| panic!("{name}: download failed: {e}"));
    assert_eq!(
        std::fs::read(out.join("cog.tif")).unwrap(),
        std::fs::read(case.cog).unwrap()
    );
    corpus.add(format!("{name}: downloaded item"), written.to_string());
    corpus.files(&format!("{name}: download dir"), &out);
    for (what, item, signer) in [
        ("missing asset", &case.missing_item, &case.good),
        ("bad credential", &case.ok_item, &case.bad),
    ] {
        let out = dir.join(format!("{name}-download-{}", what.replace(' ', "-")));
        let e = stac_client::download_item(item, &out, &download(signer))
            .expect_err(&format!("{name}: download with {what} succeeded"));
        corpus.error(&format!("{name}: download, {what}"), &e);
        corpus.files(&format!("{name}: download dir, {what}"), &out);
    }

    // Cube loads.
    let cube_options = |signer: &Arc<dyn Signer>| {
        CubeOptions::default()
            .with_signer(signer.clone())
            .with_env({
                let mut e = gdal_env();
                e.merge(&case.env);
                e
            })
    };
    corpus.debug(&format!("{name}: cube options"), &cube_options(&case.good));
    let cube = DatasetCollection::from_stac(
        std::slice::from_ref(&case.ok_item),
        &["data"],
        &cube_options(&case.good),
    )
    .unwrap_or_else(|e| panic!("{name}: cube failed: {e}"));
    let pixels: Vec<u8> = cube.read_array::<u8>().iter().copied().collect();
    assert_eq!(pixels, expected, "{name}: cube pixels differ from the file");
    corpus.add(format!("{name}: cube summary"), cube.summary().to_string());
    let files = dir.join(format!("{name}-cube"));
    cube.to_files(&files).unwrap();
    corpus.files(&format!("{name}: cube files"), &files);
    let both = [case.ok_item.clone(), case.missing_item.clone()];
    let partial = DatasetCollection::from_stac(
        &both,
        &["data"],
        &cube_options(&case.good).with_fail_on_error(false),
    )
    .unwrap();
    assert_eq!(
        partial.failures().len(),
        1,
        "{name}: {:?}",
        partial.failures()
    );
    corpus.debug(&format!("{name}: cube failures"), &partial.failures());
    corpus.add(
        format!("{name}: partial cube summary"),
        partial.summary().to_string(),
    );
    let e = DatasetCollection::from_stac(&both, &["data"], &cube_options(&case.good))
        .expect_err("the missing asset fails the cube");
    corpus.error(&format!("{name}: cube, missing asset"), &e);
    // Another URL for the same file: GDAL's /vsicurl/ cache is process-wide
    // and would serve the bytes the good credential fetched.
    let mut other_url = case.ok_item.clone();
    let href = other_url["assets"]["data"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    other_url["assets"]["data"]["href"] = json!(if href.starts_with("s3://") {
        href.replace("cog.tif", "cog-copy.tif")
    } else {
        format!("{href}?copy=1")
    });
    let e = DatasetCollection::from_stac(
        std::slice::from_ref(&other_url),
        &["data"],
        &cube_options(&case.bad),
    )
    .expect_err(&format!("{name}: cube with a bad credential succeeded"));
    corpus.error(&format!("{name}: cube, bad credential"), &e);

    // VRT: built from metadata, then read through GDAL.
    let vrt_options = VrtOptions::default().with_signer(case.good.clone());
    corpus.debug(&format!("{name}: vrt options"), &vrt_options);
    let vrt = build_vrt_from_stac(std::slice::from_ref(&case.ok_item), "data", &vrt_options)
        .unwrap_or_else(|e| panic!("{name}: vrt failed: {e}"));
    corpus.debug(&format!("{name}: vrt"), &vrt);
    corpus.debug(&format!("{name}: vrt summary"), vrt.summary());
    corpus.add(format!("{name}: vrt warnings"), vrt.warnings().join("\n"));
    let file = dir.join(format!("{name}.vrt"));
    vrt.to_file(&file).unwrap();
    let xml_holds_credential = vrt.warnings().iter().any(|w| w.contains("clear text"));
    if !xml_holds_credential {
        corpus.add(format!("{name}: vrt xml"), vrt.xml());
        corpus.files(&format!("{name}: vrt file"), &file);
    }
    match vrt.open().and_then(|ds| {
        ds.read_array::<u8>().map_err(|e| stac_vrt::VrtError::Gdal {
            message: e.to_string(),
        })
    }) {
        Ok(a) => assert_eq!(
            a.iter().copied().collect::<Vec<u8>>(),
            expected,
            "{name}: vrt pixels"
        ),
        // Credentials that cannot travel inside a VRT (AWS keys) are said so.
        Err(e) => {
            assert!(
                vrt.warnings().iter().any(|w| w.contains("cannot travel")),
                "{name}: vrt read failed without a warning: {e}"
            );
            corpus.error(&format!("{name}: vrt read"), &e);
        }
    }
    let bad_vrt = build_vrt_from_stac(
        std::slice::from_ref(&case.missing_item),
        "data",
        &VrtOptions::default().with_signer(case.good.clone()),
    );
    match bad_vrt.and_then(|v| {
        v.open().and_then(|ds| {
            ds.read_array::<u8>().map_err(|e| stac_vrt::VrtError::Gdal {
                message: e.to_string(),
            })
        })
    }) {
        Ok(_) => panic!("{name}: a VRT over a missing file read pixels"),
        Err(e) => corpus.error(&format!("{name}: vrt over a missing file"), &e),
    }
}

/// Search `/ok/` (succeeds) and `/bad/` (403 echoing the credentials).
fn search_sweep(
    name: &str,
    server: &FaultServer,
    options: ClientOptions,
    corpus: &mut Corpus,
) -> Vec<Value> {
    corpus.debug(&format!("{name}: client options"), &options);
    let client = Client::new(&server.url("/ok/"), options.clone()).unwrap();
    corpus.debug(&format!("{name}: client"), &client);
    let items: Vec<Value> = client
        .search(SearchParams::new().with_limit(5))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{name}: search failed: {e}"));
    let bad = Client::new(&server.url("/bad/?api_key=QUERY-SECRET"), options).unwrap();
    let e = bad
        .search(SearchParams::new().with_limit(5))
        .and_then(|s| s.collect::<Result<Vec<_>, _>>())
        .expect_err("/bad/ refuses");
    assert!(e.to_string().contains("HTTP 403"), "{e}");
    corpus.error(&format!("{name}: search refused"), &e);
    items
}

// ------------------------------------------------------------------ bearer

const BEARER: &str = "bearer-TOKEN-8c1e-SECRET";

#[test]
fn bearer_token_never_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cog = make_cog(&data);
    let nginx = Nginx::start(&data, BEARER);
    let ok = item("ok", 1, &nginx.url("/private/cog.tif"));
    let missing = item("missing", 2, &nginx.url("/private/missing.tif"));
    let mut corpus = Corpus::default();
    let server = api(vec![ok.clone()], Some(format!("Bearer {BEARER}")));
    let (nginx_url, api_url) = (nginx.url("/"), server.url("/"));
    let hosts = || origins(&[&nginx_url, &api_url]);
    let scoped = || BearerTokenSigner::new(BEARER).with_hosts(hosts());
    let case = Case {
        name: "bearer",
        good: Arc::new(scoped()),
        bad: Arc::new(BearerTokenSigner::new("wrong-token").with_hosts(hosts())),
        ok_item: ok.clone(),
        missing_item: missing.clone(),
        env: GdalEnv::new(),
        s3: None,
        cog: &cog,
    };
    library_sweep(&case, &mut corpus, dir.path());

    let items = search_sweep(
        "bearer",
        &server,
        ClientOptions::default()
            .with_signer(scoped())
            .with_retry(fast()),
        &mut corpus,
    );
    assert_eq!(items.len(), 1);
    corpus.add("bearer: searched items", Value::Array(items).to_string());
    // The /bad/ server did see the token: the echo was redacted, not absent.
    assert!(
        server
            .requests_to("/bad/search")
            .iter()
            .any(|r| r.header("authorization") == Some(&format!("Bearer {BEARER}")))
    );

    // The CLI, succeeding and failing.
    let token = [("STAC_GDAL_TOKEN", BEARER)];
    let wrong = [("STAC_GDAL_TOKEN", "wrong-token")];
    let both = format!("{},{}", hp(&nginx_url), hp(&api_url));
    let signer = [
        "--signer",
        "bearer",
        "--host",
        both.as_str(),
        "--allow-http",
        both.as_str(),
    ];
    let cog_url = nginx.url("/private/cog.tif");
    let items_file = write_json(dir.path(), "items.json", &json!([ok, missing]));
    let ok_file = write_json(dir.path(), "ok.json", &ok);
    let api_ok = server.url("/ok/");
    let api_bad = server.url("/bad/");
    let out_dir = dir.path().join("cli");
    let d = |s: &str| out_dir.join(s).to_string_lossy().into_owned();
    let runs: Vec<CliRun<'_>> = vec![
        (
            "search",
            vec!["search".into(), api_ok.clone()],
            &token,
            true,
        ),
        (
            "search refused",
            vec!["search".into(), api_bad.clone()],
            &token,
            false,
        ),
        (
            "search wrong token",
            vec!["search".into(), api_ok.clone()],
            &wrong,
            false,
        ),
        (
            "download",
            vec![
                "download".into(),
                ok_file.display().to_string(),
                d("dl"),
                "--quiet".into(),
            ],
            &token,
            true,
        ),
        (
            "download wrong token",
            vec![
                "download".into(),
                ok_file.display().to_string(),
                d("dl-wrong"),
                "--quiet".into(),
            ],
            &wrong,
            false,
        ),
        (
            "cube",
            vec![
                "cube".into(),
                ok_file.display().to_string(),
                "--asset".into(),
                "data".into(),
                "--out".into(),
                d("cube"),
                "--quiet".into(),
            ],
            &token,
            true,
        ),
        (
            "cube keep going",
            vec![
                "cube".into(),
                items_file.display().to_string(),
                "--asset".into(),
                "data".into(),
                "--out".into(),
                d("cube-kg"),
                "--keep-going".into(),
                "--quiet".into(),
            ],
            &token,
            true,
        ),
        (
            "cube missing",
            vec![
                "cube".into(),
                items_file.display().to_string(),
                "--asset".into(),
                "data".into(),
                "--out".into(),
                d("cube-missing"),
                "--quiet".into(),
            ],
            &token,
            false,
        ),
        (
            "cube wrong token",
            vec![
                "cube".into(),
                ok_file.display().to_string(),
                "--asset".into(),
                "data".into(),
                "--out".into(),
                d("cube-wrong"),
                "--quiet".into(),
            ],
            &wrong,
            false,
        ),
        (
            "env",
            vec!["env".into(), "--href".into(), cog_url.clone()],
            &token,
            true,
        ),
    ];
    for (label, mut args, env, should_pass) in runs {
        args.extend(signer.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli(&args, env);
        assert_eq!(
            out.status.success(),
            should_pass,
            "cli {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        corpus.output(&format!("bearer: cli {label}"), &out);
    }
    corpus.files("bearer: cli outputs", &out_dir);
    corpus.assert_clean(&[BEARER]);

    // Where it must: `env --show-secrets` prints it.
    let out = cli(
        &[
            "env",
            "--signer",
            "bearer",
            "--show-secrets",
            "--host",
            "data.example",
            "--href",
            "https://data.example/a.tif",
        ],
        &[("STAC_GDAL_TOKEN", BEARER)],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(BEARER));
}

// ------------------------------------------------------------------ earthdata

const EDL_TOKEN: &str = "edl-TOKEN-41f2-SECRET";
const EDL_PASSWORD: &str = "edl-PASSWORD-77b0-SECRET";

#[test]
fn earthdata_login_and_token_never_leak() {
    let tokens = TokenServer::start(TokenServerConfig {
        earthdata_login: ("edl-user".into(), EDL_PASSWORD.into()),
        fixed_token: Some(EDL_TOKEN.into()),
        ..TokenServerConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cog = make_cog(&data);
    let nginx = Nginx::start(&data, EDL_TOKEN);
    let ok_href = nginx.url("/private/cog.tif");
    let ok = item("ok", 1, &ok_href);
    let missing = item("missing", 2, &nginx.url("/private/missing.tif"));
    let server = api(vec![ok.clone()], Some(format!("Bearer {EDL_TOKEN}")));
    let (nginx_url, api_url) = (nginx.url("/"), server.url("/"));
    let signer = |password: &str| {
        EarthdataSigner::with_options(
            EarthdataOptions::default()
                .with_login("edl-user", password)
                .with_token_url(tokens.earthdata_url())
                .with_hosts(origins(&[&nginx_url, &api_url])),
        )
    };
    let mut corpus = Corpus::default();
    let case = Case {
        name: "earthdata",
        good: Arc::new(signer(EDL_PASSWORD)),
        // The token endpoint refuses this login (401).
        bad: Arc::new(signer("not-the-password")),
        ok_item: ok.clone(),
        missing_item: missing.clone(),
        env: GdalEnv::new(),
        s3: None,
        cog: &cog,
    };
    library_sweep(&case, &mut corpus, dir.path());
    let items = search_sweep(
        "earthdata",
        &server,
        ClientOptions::default()
            .with_signer(signer(EDL_PASSWORD))
            .with_retry(fast()),
        &mut corpus,
    );
    assert_eq!(items.len(), 1);

    // The token endpoint failing (500, then a malformed answer).
    for failure in [Failure::Status(500), Failure::Malformed] {
        tokens.set_failure(Endpoint::Earthdata, Some(failure));
        let fresh = signer(EDL_PASSWORD);
        let e = fresh.gdal_env_for(&ok_href).unwrap_err();
        corpus.error(&format!("earthdata: token endpoint {failure:?}"), &e);
        let e = DatasetCollection::from_stac(
            std::slice::from_ref(&ok),
            &["data"],
            &CubeOptions::default().with_signer(fresh),
        )
        .unwrap_err();
        corpus.error(&format!("earthdata: cube, token endpoint {failure:?}"), &e);
    }
    tokens.set_failure(Endpoint::Earthdata, None);

    // The CLI (login from the environment).
    let ok_file = write_json(dir.path(), "ok.json", &ok);
    let out_dir = dir.path().join("cli");
    let url = tokens.earthdata_url();
    let both = format!("{},{}", hp(&nginx_url), hp(&api_url));
    let common = [
        "--signer",
        "earthdata",
        "--token-url",
        url.as_str(),
        "--host",
        both.as_str(),
        "--allow-http",
        both.as_str(),
    ];
    let login = [
        ("EARTHDATA_USERNAME", "edl-user"),
        ("EARTHDATA_PASSWORD", EDL_PASSWORD),
    ];
    let bad_login = [
        ("EARTHDATA_USERNAME", "edl-user"),
        ("EARTHDATA_PASSWORD", "nope"),
    ];
    let ok_path = ok_file.to_string_lossy().into_owned();
    let dl = out_dir.join("dl").to_string_lossy().into_owned();
    let dl2 = out_dir.join("dl2").to_string_lossy().into_owned();
    let cube = out_dir.join("cube").to_string_lossy().into_owned();
    let api_ok = server.url("/ok/");
    for (label, args, env, pass) in [
        ("search", vec!["search", api_ok.as_str()], &login, true),
        (
            "search bad login",
            vec!["search", api_ok.as_str()],
            &bad_login,
            false,
        ),
        (
            "download",
            vec!["download", &ok_path, &dl, "--quiet"],
            &login,
            true,
        ),
        (
            "download bad login",
            vec!["download", &ok_path, &dl2, "--quiet"],
            &bad_login,
            false,
        ),
        (
            "cube",
            vec![
                "cube", &ok_path, "--asset", "data", "--out", &cube, "--quiet",
            ],
            &login,
            true,
        ),
        ("env", vec!["env", "--href", ok_href.as_str()], &login, true),
    ] {
        let mut args = args;
        args.extend(common);
        let out = cli(&args, env);
        assert_eq!(
            out.status.success(),
            pass,
            "cli {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        corpus.output(&format!("earthdata: cli {label}"), &out);
    }
    corpus.files("earthdata: cli outputs", &out_dir);
    corpus.assert_clean(&[EDL_TOKEN, EDL_PASSWORD]);
}

// ------------------------------------------------------------------ planetary computer

const SAS: &str = "pcsas-SIG-93d7-SECRET";
const BLOB: &str = "https://acct.blob.core.windows.net/cont/";

/// The real Planetary Computer signer (SAS minted by our token server),
/// with the signed Azure href pointed at nginx's `/sas/` (which checks
/// `sig=`), since Azure is out of reach.
#[derive(Debug)]
struct PcViaNginx {
    pc: PlanetaryComputerSigner,
    nginx: String,
}

impl Signer for PcViaNginx {
    fn name(&self) -> &str {
        "planetary-computer"
    }
    fn sign_request(&self, request: &mut stac_signers::Request) -> Result<(), SignerError> {
        self.pc.sign_request(request)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        let signed = self.pc.sign_href(href)?;
        Ok(signed.replace(BLOB, &self.nginx))
    }
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        self.pc.gdal_env_for(href)
    }
    fn allows_url(&self, url: &str) -> bool {
        self.pc.allows_url(url)
    }
    fn secrets(&self) -> Vec<stac_signers::Secret> {
        self.pc.secrets()
    }
}

#[test]
fn planetary_computer_sas_never_leaks_except_where_it_must() {
    let tokens = TokenServer::start(TokenServerConfig {
        fixed_token: Some(SAS.into()),
        ..TokenServerConfig::default()
    });
    let failing = TokenServer::start(TokenServerConfig::default());
    failing.set_failure(Endpoint::Pc, Some(Failure::Status(500)));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cog = make_cog(&data);
    let nginx = Nginx::start(&data, SAS);
    let ok = item("ok", 1, &format!("{BLOB}cog.tif"));
    let missing = item("missing", 2, &format!("{BLOB}missing.tif"));
    let pc = |server: &TokenServer| {
        PlanetaryComputerSigner::with_options(
            PcOptions::default().with_sas_url(server.pc_sas_url()),
        )
    };
    let mut corpus = Corpus::default();
    let case = Case {
        name: "pc",
        good: Arc::new(PcViaNginx {
            pc: pc(&tokens),
            nginx: nginx.url("/sas/"),
        }),
        bad: Arc::new(PcViaNginx {
            pc: pc(&failing),
            nginx: nginx.url("/sas/"),
        }),
        ok_item: ok.clone(),
        missing_item: missing.clone(),
        env: GdalEnv::new(),
        s3: None,
        cog: &cog,
    };
    library_sweep(&case, &mut corpus, dir.path());

    // The VRT carries the SAS in its source paths (it must, to read them):
    // a warning says so.
    let vrt = build_vrt_from_stac(
        std::slice::from_ref(&ok),
        "data",
        &VrtOptions::default().with_signer(case.good.clone()),
    )
    .unwrap();
    assert!(vrt.xml().contains(SAS));
    assert!(
        vrt.warnings()
            .iter()
            .any(|w| w.contains("signed") && w.contains("clear text")),
        "{:?}",
        vrt.warnings()
    );

    // Search: signing the items is asked for, so they carry the SAS; a
    // failing token endpoint is a typed error without it.
    let server = api(vec![ok.clone()], None);
    let items = search_sweep(
        "pc",
        &server,
        ClientOptions::default().with_signer(pc(&tokens)),
        &mut corpus,
    );
    assert_eq!(items.len(), 1);
    let signed: Vec<Value> = Client::new(
        &server.url("/ok/"),
        ClientOptions::default()
            .with_signer(pc(&tokens))
            .with_sign_items(true),
    )
    .unwrap()
    .search(SearchParams::new())
    .unwrap()
    .map(Result::unwrap)
    .collect();
    assert!(
        signed[0]["assets"]["data"]["href"]
            .as_str()
            .unwrap()
            .contains(SAS)
    );
    let e = Client::new(
        &server.url("/ok/"),
        ClientOptions::default()
            .with_signer(pc(&failing))
            .with_sign_items(true),
    )
    .unwrap()
    .search(SearchParams::new())
    .unwrap()
    .collect::<Result<Vec<_>, _>>()
    .unwrap_err();
    corpus.error("pc: search with signed items, token endpoint 500", &e);

    // The CLI: Azure is unreachable from here, so every read fails after
    // the SAS was minted; no output may show it.
    let items_file = write_json(dir.path(), "items.json", &json!([ok]));
    let path = items_file.to_string_lossy().into_owned();
    let sas_url = tokens.pc_sas_url();
    let pc_args = ["--signer", "pc", "--token-url", sas_url.as_str()];
    let out_dir = dir.path().join("cli");
    let dl = out_dir.join("dl").to_string_lossy().into_owned();
    let cube = out_dir.join("cube").to_string_lossy().into_owned();
    let kg = out_dir.join("cube-kg").to_string_lossy().into_owned();
    for (label, args, pass) in [
        ("download", vec!["download", &path, &dl, "--quiet"], false),
        (
            "cube",
            vec!["cube", &path, "--asset", "data", "--out", &cube, "--quiet"],
            false,
        ),
        (
            "cube keep going",
            vec![
                "cube",
                &path,
                "--asset",
                "data",
                "--out",
                &kg,
                "--keep-going",
                "--quiet",
            ],
            false,
        ),
        ("search signed", vec!["search", "URL", "--sign-items"], true),
    ] {
        let api_ok = server.url("/ok/");
        let mut args: Vec<&str> = args
            .into_iter()
            .map(|a| if a == "URL" { api_ok.as_str() } else { a })
            .collect();
        args.extend(pc_args);
        let out = cli(&args, &[]);
        assert_eq!(
            out.status.success(),
            pass,
            "cli {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if label == "search signed" {
            // Asked for: the printed items are signed.
            assert!(String::from_utf8_lossy(&out.stdout).contains(SAS));
            corpus.add(
                "pc: cli search signed (stderr)",
                String::from_utf8_lossy(&out.stderr),
            );
        } else {
            corpus.output(&format!("pc: cli {label}"), &out);
        }
    }
    assert!(tokens.count("pc") >= 1, "the CLI minted a SAS");

    // Items signed by a search (`search --sign-items | cube`): the hrefs
    // themselves carry the SAS, GDAL debug output is on, reads succeed.
    let presigned = json!([
        item(
            "ok",
            1,
            &nginx.url(&format!("/sas/cog.tif?st=2021&sig={SAS}"))
        ),
        item(
            "gone",
            2,
            &nginx.url(&format!("/sas/gone.tif?st=2021&sig={SAS}"))
        ),
    ]);
    let presigned_file = write_json(dir.path(), "presigned.json", &presigned);
    let presigned_path = presigned_file.to_string_lossy().into_owned();
    let presigned_ok = write_json(dir.path(), "presigned-ok.json", &presigned[0]);
    let presigned_ok = presigned_ok.to_string_lossy().into_owned();
    let pcube = out_dir
        .join("presigned-cube")
        .to_string_lossy()
        .into_owned();
    let pdl = out_dir.join("presigned-dl").to_string_lossy().into_owned();
    for (label, args) in [
        (
            "presigned cube",
            vec![
                "cube",
                &presigned_path,
                "--asset",
                "data",
                "--out",
                &pcube,
                "--keep-going",
                "--quiet",
            ],
        ),
        (
            "presigned download",
            vec!["download", &presigned_ok, &pdl, "--quiet"],
        ),
    ] {
        let out = cli(&args, &[]);
        assert!(
            out.status.success(),
            "cli {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if label == "presigned cube" {
            // GDAL's debug output is there, redacted (`GDALClose(…?<redacted>, …)`;
            // a remote COG read through the cube's I/O stage is closed as
            // `/vsistac/<n>`, which names no URL).
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("GDALClose(/vsicurl/http://127.0.0.1:")
                    || stderr.contains("GDALClose(/vsistac/"),
                "{stderr}"
            );
            assert!(stderr.contains("cog.tif?<redacted>"), "{stderr}");
            // The unreadable one is reported, its href redacted.
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("gone.tif?<redacted>"),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        corpus.output(&format!("pc: cli {label}"), &out);
    }
    assert!(out_dir.join("presigned-dl").join("ok.json").exists());
    corpus.files("pc: cli outputs", &out_dir);
    corpus.assert_clean(&[SAS]);
}

// ------------------------------------------------------------------ AWS SigV4

#[test]
fn aws_secret_key_never_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cog = make_cog(&data);
    let s3 = Seaweed::start();
    s3.put(&cog, "cog.tif");
    let ok = item("ok", 1, &format!("s3://{BUCKET}/cog.tif"));
    let missing = item("missing", 2, &format!("s3://{BUCKET}/missing.tif"));
    let server = api(vec![ok.clone()], None);
    let (s3_url, api_url) = (s3.endpoint(), server.url("/"));
    let signer = |secret: &str| {
        AwsRequesterPaysSigner::with_options(
            Some(REGION),
            AwsOptions::default()
                .with_credentials(AwsCredentials::new(ACCESS_KEY, secret))
                .with_hosts(HostList::new([hp(&s3_url), hp(&api_url)])),
        )
    };
    const WRONG: &str = "wrongsecret-AWS-0000000000000000000000000";
    s3.put(&cog, "cog-copy.tif");
    let host = s3.endpoint().trim_start_matches("http://").to_owned();
    let endpoint = format!("http://{host}");
    let mut corpus = Corpus::default();
    let case = Case {
        name: "aws",
        good: Arc::new(signer(SECRET_KEY)),
        bad: Arc::new(signer(WRONG)),
        ok_item: ok.clone(),
        missing_item: missing.clone(),
        env: GdalEnv::new()
            .with("AWS_S3_ENDPOINT", host.as_str())
            .with("AWS_HTTPS", "NO")
            .with("AWS_VIRTUAL_HOSTING", "FALSE"),
        s3: Some(S3Endpoint::path_style(endpoint.clone())),
        cog: &cog,
    };
    library_sweep(&case, &mut corpus, dir.path());
    // SigV4 on API requests: the 403 echo shows the signature, never the key.
    search_sweep(
        "aws",
        &server,
        ClientOptions::default()
            .with_signer(signer(SECRET_KEY))
            .with_retry(fast()),
        &mut corpus,
    );
    assert!(
        server.requests_to("/bad/search")[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"))
    );

    // The CLI with the keys in its environment.
    let ok_file = write_json(dir.path(), "ok.json", &ok);
    let path = ok_file.to_string_lossy().into_owned();
    let out_dir = dir.path().join("cli");
    let dl = out_dir.join("dl").to_string_lossy().into_owned();
    let dl2 = out_dir.join("dl2").to_string_lossy().into_owned();
    let cube = out_dir.join("cube").to_string_lossy().into_owned();
    let cube2 = out_dir.join("cube2").to_string_lossy().into_owned();
    let both = format!("{},{}", hp(&s3_url), hp(&api_url));
    let signer_args = [
        "--signer",
        "aws",
        "--region",
        REGION,
        "--host",
        both.as_str(),
    ];
    let keys = |secret: &'static str| {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_S3_ENDPOINT", host.as_str()),
            ("AWS_HTTPS", "NO"),
            ("AWS_VIRTUAL_HOSTING", "FALSE"),
        ]
    };
    let good_keys = keys(SECRET_KEY);
    let bad_keys = keys(WRONG);
    for (label, mut args, env, pass) in [
        (
            "download",
            vec![
                "download",
                path.as_str(),
                dl.as_str(),
                "--quiet",
                "--s3-endpoint",
                endpoint.as_str(),
            ],
            &good_keys,
            true,
        ),
        (
            "download wrong secret",
            vec![
                "download",
                path.as_str(),
                dl2.as_str(),
                "--quiet",
                "--s3-endpoint",
                endpoint.as_str(),
            ],
            &bad_keys,
            false,
        ),
        (
            "cube",
            vec![
                "cube",
                path.as_str(),
                "--asset",
                "data",
                "--out",
                cube.as_str(),
                "--quiet",
            ],
            &good_keys,
            true,
        ),
        (
            "cube wrong secret",
            vec![
                "cube",
                path.as_str(),
                "--asset",
                "data",
                "--out",
                cube2.as_str(),
                "--quiet",
            ],
            &bad_keys,
            false,
        ),
        (
            "env",
            vec!["env", "--href", "s3://bucket/cog.tif"],
            &good_keys,
            true,
        ),
    ] {
        args.extend(signer_args);
        let out = cli(&args, env);
        assert_eq!(
            out.status.success(),
            pass,
            "cli {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        corpus.output(&format!("aws: cli {label}"), &out);
    }
    corpus.files("aws: cli outputs", &out_dir);
    corpus.assert_clean(&[SECRET_KEY, WRONG]);
}

// ------------------------------------------------------------------ redirects

const REDIRECT_TOKEN: &str = "redirect-TOKEN-5a9e-SECRET";
const REDIRECT_KEY: &str = "redirect-APIKEY-0c3d-SECRET";

/// `/files/<name>` on the first server answers 302 to the second server
/// (another port, same host), which serves the COG with Range.
fn redirecting_pair(cog: &Path) -> (FaultServer, FaultServer) {
    let bytes = std::fs::read(cog).unwrap();
    let target = FaultServer::start(move |r| {
        if r.path().starts_with("/search") {
            return Reply::json(&json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": "via-redirect", "properties": {}, "assets": {}}],
                "links": []}));
        }
        Reply::bytes(r, &bytes)
    });
    let other = target.url("");
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let first = FaultServer::start(move |r| match r.path() {
        "/" => Reply::json(&json!({"type": "Catalog", "id": "r", "description": "d",
            "stac_version": "1.0.0",
            "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                           "https://api.stacspec.org/v1.0.0/item-search"],
            "links": [{"rel": "search", "method": "GET", "href": format!("{}/search", b.get().unwrap())}]})),
        p => Reply::redirect(302, &format!("{other}{p}")),
    });
    base.set(first.url("")).unwrap();
    (first, target)
}

#[test]
fn redirects_to_another_port_drop_the_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let cog = make_cog(dir.path());
    let (first, target) = redirecting_pair(&cog);
    // A bearer scoped to the first origin (plain http allowed there); the
    // server's redirect to another port is another origin.
    let first_url = first.url("/");
    let unscoped = || BearerTokenSigner::new(REDIRECT_TOKEN).with_hosts(origins(&[&first_url]));

    // Client: a search redirected (with an API key header too).
    let items: Vec<Value> = Client::new(
        &first.url("/"),
        ClientOptions::default()
            .with_signer(unscoped())
            .with_header("X-Api-Key", REDIRECT_KEY),
    )
    .unwrap()
    .search(SearchParams::new())
    .unwrap()
    .map(Result::unwrap)
    .collect();
    assert_eq!(items[0]["id"], "via-redirect");
    let searched = first.requests_to("/search");
    assert_eq!(
        searched[0].header("authorization"),
        Some(format!("Bearer {REDIRECT_TOKEN}").as_str())
    );
    assert_eq!(searched[0].header("x-api-key"), Some(REDIRECT_KEY));

    // Client: a download redirected.
    let item = json!({"id": "r", "assets": {"data": {"href": first.url("/files/cog.tif")}}});
    stac_client::download_item(
        &item,
        &dir.path().join("dl"),
        &DownloadOptions::default().with_signer(unscoped()),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("dl/cog.tif")).unwrap(),
        std::fs::read(&cog).unwrap()
    );

    // GDAL: a cube read through /vsicurl/ with the bearer's header.
    let cube_item = item_for_redirect(&first.url("/files/gdal/cog.tif"));
    let cube = DatasetCollection::from_stac(
        &[cube_item],
        &["data"],
        &CubeOptions::default()
            .with_signer(unscoped())
            .with_env(gdal_env()),
    )
    .unwrap();
    assert_eq!(
        cube.read_array::<u8>().iter().copied().collect::<Vec<u8>>(),
        local_pixels(&cog)
    );
    assert!(
        first
            .requests_to("/files/gdal/cog.tif")
            .iter()
            .all(|r| r.header("authorization").is_some()),
        "GDAL sent the header to the first host"
    );

    let arrived = target.requests();
    assert!(arrived.len() >= 3, "{}", arrived.len());
    for r in &arrived {
        for (k, v) in &r.headers {
            assert!(
                !v.contains(REDIRECT_TOKEN) && !v.contains(REDIRECT_KEY),
                "{} {}: header {k} carried a credential after the redirect",
                r.method,
                r.target
            );
        }
    }
}

fn item_for_redirect(href: &str) -> Value {
    item("via-redirect", 1, href)
}

#[test]
fn error_bodies_that_echo_credentials_are_redacted() {
    let server = api(vec![], None);
    // Unscoped: the token goes to the API root the caller names (plain http
    // allowed for that one origin).
    let home = hp(&server.url("/")).parse().unwrap();
    let e = Client::new(
        &server.url("/bad/"),
        ClientOptions::default()
            .with_signer(BearerTokenSigner::new(REDIRECT_TOKEN).with_allow_http([home]))
            .with_header("X-Api-Key", REDIRECT_KEY)
            .with_retry(RetryPolicy::none()),
    )
    .unwrap()
    .search(SearchParams::new().with_limit(1))
    .unwrap()
    .collect::<Result<Vec<_>, _>>()
    .unwrap_err();
    let text = e.to_string();
    // The server did echo both; the message keeps the rest of the body.
    assert!(
        text.contains("rejected authorization=") && text.contains("<redacted>"),
        "{text}"
    );
    for s in [REDIRECT_TOKEN, REDIRECT_KEY] {
        assert!(!text.contains(s) && !format!("{e:?}").contains(s), "{text}");
    }
}
