//! Redaction by value (issue 13): token endpoints that echo the credential
//! they were sent — the CDSE password, Earthdata's base64 `user:password`,
//! the Planetary Computer subscription key — as their error code (which
//! passed the old "short identifier" filter) and in their successful
//! answers. On success and on failure, through `env`, `sign`, `download`
//! and `search`, no secret appears in stdout, stderr or any written file,
//! nor in the library's errors.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use stac_gdal_e2e::origins::{OriginSpec, Origins};
use stac_gdal_e2e::token_server::{Endpoint, Failure, TokenServer, TokenServerConfig};
use stac_signers::{
    CdseOptions, CdseSigner, EarthdataOptions, EarthdataSigner, PcOptions, PlanetaryComputerSigner,
    Signer,
};

/// Identifier-like secrets: each would pass a filter for short error codes.
const EDL_USER: &str = "sweep-user";
const EDL_PASSWORD: &str = "Sweep_edl-PASSWORD.412";
/// base64("sweep-user:Sweep_edl-PASSWORD.412"): letters and digits only, so
/// it passed the old filter for short error codes.
const EDL_BASIC: &str = "c3dlZXAtdXNlcjpTd2VlcF9lZGwtUEFTU1dPUkQuNDEy";
const CDSE_PASSWORD: &str = "Sweep_cdse-PASSWORD.77";
const PC_KEY: &str = "SweepPcSubscriptionKey0042";
const TOKEN: &str = "Sweep-MINTED-token-5";

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
    cmd.args(args).env("CPL_DEBUG", "ON");
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
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Everything seen: (label, text).
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn output(&mut self, label: &str, o: &Output) {
        self.0.push((
            format!("{label} stdout"),
            String::from_utf8_lossy(&o.stdout).into(),
        ));
        self.0.push((
            format!("{label} stderr"),
            String::from_utf8_lossy(&o.stderr).into(),
        ));
    }
    fn files(&mut self, label: &str, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                self.files(label, &p);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                self.0.push((format!("{label}: {}", p.display()), text));
            }
        }
    }
    fn error(&mut self, label: &str, e: &dyn std::error::Error) {
        self.0.push((format!("{label} Display"), e.to_string()));
        self.0.push((format!("{label} Debug"), format!("{e:?}")));
    }
    fn assert_clean(&self, secrets: &[&str]) {
        let leaks: Vec<String> = self
            .0
            .iter()
            .flat_map(|(l, t)| {
                secrets
                    .iter()
                    .filter(|s| t.contains(**s))
                    .map(move |s| format!("{l}: {s}"))
            })
            .collect();
        assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
    }
}

/// A static STAC API (landing page and one search page) behind the token,
/// and a file, on origin `a`.
fn world() -> (tempfile::TempDir, Origins) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("x.bin"), b"asset bytes").unwrap();
    let api = root.path().join("api");
    std::fs::create_dir(&api).unwrap();
    let o = Origins::start(vec![OriginSpec::files("a", root.path()).bearer(TOKEN)]);
    let search = o.url("a", "/private/api/search.json");
    std::fs::write(
        api.join("index.html"),
        json!({"type": "Catalog", "id": "sweep", "description": "d", "stac_version": "1.0.0",
            "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                           "https://api.stacspec.org/v1.0.0/item-search"],
            "links": [{"rel": "search", "type": "application/geo+json", "method": "GET",
                       "href": search}]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        api.join("search.json"),
        json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "found", "properties": {}, "geometry": null,
             "assets": {}, "links": []}], "links": []})
        .to_string(),
    )
    .unwrap();
    (root, o)
}

#[test]
fn echoing_token_endpoints_never_get_a_secret_printed_or_written() {
    let (_root, o) = world();
    let work = tempfile::tempdir().unwrap();
    let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "sweep",
        "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
        "assets": {"data": {"href": o.url("a", "/private/x.bin")}}});
    let item_path = work.path().join("item.json");
    std::fs::write(&item_path, item.to_string()).unwrap();
    let a = o.host_port("a");
    let api = o.url("a", "/private/api/");
    let private = o.url("a", "/private/x.bin");
    let mut seen = Seen::default();

    for echo_failure in [false, true] {
        let tokens = TokenServer::start(TokenServerConfig {
            earthdata_login: (EDL_USER.into(), EDL_PASSWORD.into()),
            cdse_login: ("sweep-cdse".into(), CDSE_PASSWORD.into()),
            pc_subscription_key: Some(PC_KEY.into()),
            fixed_token: Some(TOKEN.into()),
            echo_on_success: true,
            ..TokenServerConfig::default()
        });
        if echo_failure {
            for e in [Endpoint::Earthdata, Endpoint::Cdse, Endpoint::Pc] {
                tokens.set_failure(e, Some(Failure::Echo(401)));
            }
        }
        let label = if echo_failure { "failing" } else { "ok" };
        let edl_env = [
            ("EARTHDATA_USERNAME", EDL_USER),
            ("EARTHDATA_PASSWORD", EDL_PASSWORD),
        ];
        let cdse_env = [
            ("CDSE_USERNAME", "sweep-cdse"),
            ("CDSE_PASSWORD", CDSE_PASSWORD),
        ];
        let edl_url = tokens.earthdata_url();
        let cdse_url = tokens.cdse_url();
        for (signer, url, env) in [
            ("earthdata", edl_url.as_str(), &edl_env),
            ("cdse", cdse_url.as_str(), &cdse_env),
        ] {
            let scope = [
                "--signer",
                signer,
                "--token-url",
                url,
                "--host",
                &a,
                "--allow-http",
                &a,
            ];
            let dest = work.path().join(format!("{label}-{signer}"));
            let runs: Vec<(&str, Vec<&str>)> = vec![
                ("env", vec!["env", "--href", "http://unused/x"]),
                ("env shown", vec!["env", "--href", private.as_str()]),
                (
                    "download",
                    vec![
                        "download",
                        item_path.to_str().unwrap(),
                        dest.to_str().unwrap(),
                        "--quiet",
                    ],
                ),
                ("search", vec!["search", &api]),
            ];
            for (what, mut args) in runs {
                args.extend(scope);
                let out = cli(&args, env);
                if what != "env" {
                    assert_eq!(
                        out.status.success(),
                        !echo_failure,
                        "{label} {signer} {what}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                if echo_failure && what != "env" {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(stderr.contains("HTTP 401"), "{stderr}");
                }
                seen.output(&format!("{label} {signer} {what}"), &out);
            }
            if !echo_failure {
                assert_eq!(std::fs::read(dest.join("x.bin")).unwrap(), b"asset bytes");
            }
            seen.files(&format!("{label} {signer} files"), &dest);
        }
        // Planetary Computer: the subscription key is echoed.
        let sas = tokens.pc_sas_url();
        let out = cli(
            &[
                "sign",
                "https://acct.blob.core.windows.net/cont/x.tif",
                "--signer",
                "pc",
                "--token-url",
                &sas,
            ],
            &[("PC_SDK_SUBSCRIPTION_KEY", PC_KEY)],
        );
        assert_eq!(out.status.success(), !echo_failure);
        if !echo_failure {
            // `sign` prints the signed href: the SAS is there by design.
            assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("sig={TOKEN}")));
        } else {
            seen.output(&format!("{label} pc sign"), &out);
        }
        // The library's errors too.
        if echo_failure {
            let edl = EarthdataSigner::with_options(
                EarthdataOptions::default()
                    .with_login(EDL_USER, EDL_PASSWORD)
                    .with_token_url(&edl_url),
            );
            let e = edl
                .gdal_env_for("https://x.earthdatacloud.nasa.gov/a.tif")
                .unwrap_err();
            seen.error("library earthdata", &e);
            let cdse = CdseSigner::with_options(
                CdseOptions::default()
                    .with_login("sweep-cdse", CDSE_PASSWORD)
                    .with_token_url(&cdse_url),
            );
            let e = cdse
                .gdal_env_for("https://zipper.dataspace.copernicus.eu/x")
                .unwrap_err();
            seen.error("library cdse", &e);
            let pc = PlanetaryComputerSigner::with_options(
                PcOptions::default()
                    .with_sas_url(&sas)
                    .with_subscription_key(PC_KEY),
            );
            let e = pc
                .sign_href("https://acct.blob.core.windows.net/cont/x.tif")
                .unwrap_err();
            seen.error("library pc", &e);
            // The server did echo them: the test is not vacuous.
            assert!(tokens.requests().len() >= 3);
        }
    }
    assert!(seen.0.len() > 30);
    seen.assert_clean(&[EDL_PASSWORD, EDL_BASIC, CDSE_PASSWORD, PC_KEY, TOKEN]);
}
