//! `stac-gdal sign` and `stac-gdal env` as a user runs them: the real binary,
//! and for Planetary Computer a local token server of ours.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::{Command, Output};

use stac_gdal_e2e::token_server::{TokenServer, TokenServerConfig};

fn stac_gdal(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stac-gdal"));
    cmd.args(args);
    for var in [
        "PC_SDK_SAS_URL",
        "PC_SDK_SUBSCRIPTION_KEY",
        "STAC_GDAL_TOKEN",
        "EARTHDATA_TOKEN",
        "EARTHDATA_PAT",
        "EARTHDATA_USERNAME",
        "EARTHDATA_PASSWORD",
        "CDSE_USERNAME",
        "CDSE_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run stac-gdal")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn env_prints_the_seed_gdal_env_and_hides_secrets_unless_asked() {
    let out = stdout(&stac_gdal(
        &[
            "env",
            "--signer",
            "aws-requester-pays",
            "--region",
            "us-west-2",
            "--href",
            "s3://bucket/a.tif",
        ],
        &[],
    ));
    assert_eq!(
        out,
        "AWS_REGION=us-west-2\nAWS_DEFAULT_REGION=us-west-2\nAWS_REQUEST_PAYER=requester\n\
         GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR\nCPL_VSIL_CURL_USE_HEAD=NO\n"
    );

    // The env is per href: only for an origin the token is for.
    let scoped = [
        "--signer",
        "bearer",
        "--host",
        "data.example.com",
        "--href",
        "https://data.example.com/a.tif",
    ];
    let hidden = stdout(&stac_gdal(
        &[&["env"][..], &scoped].concat(),
        &[("STAC_GDAL_TOKEN", "demo-token")],
    ));
    assert_eq!(hidden, "GDAL_HTTP_HEADERS=<redacted>\n");
    let shown = stdout(&stac_gdal(
        &[&["env"][..], &scoped, &["--show-secrets"]].concat(),
        &[("STAC_GDAL_TOKEN", "demo-token")],
    ));
    assert_eq!(
        shown,
        "GDAL_HTTP_HEADERS=Authorization: Bearer demo-token\n"
    );

    // Host-scoped: nothing for a foreign href.
    let scoped = stdout(&stac_gdal(
        &[
            "env",
            "--signer",
            "bearer",
            "--host",
            "data.example.com",
            "--href",
            "https://evil.example.org/a.tif",
            "--show-secrets",
        ],
        &[("STAC_GDAL_TOKEN", "demo-token")],
    ));
    assert_eq!(scoped, "");

    // Same host, another port or plain http: other origins, nothing.
    for href in [
        "https://data.example.com:8443/a.tif",
        "http://data.example.com/a.tif",
    ] {
        let o = stac_gdal(
            &[
                "env",
                "--signer",
                "bearer",
                "--host",
                "data.example.com",
                "--href",
                href,
                "--show-secrets",
            ],
            &[("STAC_GDAL_TOKEN", "demo-token")],
        );
        assert_eq!(stdout(&o), "", "{href}");
        // The entry matched nothing: reported on stderr.
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("\"data.example.com\""),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Plain http only with --allow-http for that origin.
    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "bearer",
            "--host",
            "127.0.0.1:8081",
            "--allow-http",
            "127.0.0.1:8081",
            "--href",
            "http://127.0.0.1:8081/a.tif",
            "--show-secrets",
        ],
        &[("STAC_GDAL_TOKEN", "demo-token")],
    );
    assert_eq!(
        stdout(&o),
        "GDAL_HTTP_HEADERS=Authorization: Bearer demo-token\n"
    );

    let any = ["--href", "https://example.com/a.tif"];
    assert_eq!(
        stdout(&stac_gdal(
            &[&["env", "--signer", "anonymous"][..], &any].concat(),
            &[]
        )),
        ""
    );
    assert_eq!(
        stdout(&stac_gdal(
            &[&["env", "--signer", "planetary-computer"][..], &any].concat(),
            &[]
        )),
        ""
    );
}

#[test]
fn errors_are_clear_and_carry_no_secret() {
    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "cdse",
            "--href",
            "https://zipper.dataspace.copernicus.eu/x",
        ],
        &[],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CDSESigner needs CDSE_USERNAME + CDSE_PASSWORD."),
        "{err}"
    );

    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "bearer",
            "--host",
            "h.example",
            "--href",
            "https://h.example/x",
        ],
        &[],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--signer bearer needs a token"));
    // `sign` refuses the same way (it used to print the href unsigned, exit 0).
    let o = stac_gdal(&["sign", "--signer", "bearer", "https://h.example/x"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--signer bearer needs a token"));

    // A refused token request: the password is not echoed.
    let server = TokenServer::start(TokenServerConfig::default());
    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "earthdata",
            "--token-url",
            &server.earthdata_url(),
            "--href",
            "https://data.lpdaac.earthdatacloud.nasa.gov/x.tif",
        ],
        &[
            ("EARTHDATA_USERNAME", "edl-user"),
            ("EARTHDATA_PASSWORD", "not-the-password-42"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(!err.contains("not-the-password-42"));
}

#[test]
fn sign_prints_the_signed_href() {
    let server = TokenServer::start(TokenServerConfig::default());
    let href = "https://acct.blob.core.windows.net/cont/a.tif";
    let out = stdout(&stac_gdal(
        &[
            "sign",
            href,
            "--signer",
            "planetary-computer",
            "--token-url",
            &server.pc_sas_url(),
        ],
        &[],
    ));
    let signed = out.trim_end();
    assert!(signed.starts_with(&format!("{href}?st=")), "{signed}");
    assert!(signed.ends_with("sig=pc-cont-1"), "{signed}");

    // PC_SDK_SAS_URL is honoured too; other hosts pass through untouched.
    let out = stdout(&stac_gdal(
        &["sign", href, "--signer", "pc"],
        &[("PC_SDK_SAS_URL", &server.pc_sas_url())],
    ));
    assert!(out.trim_end().ends_with("sig=pc-cont-2"), "{out}");
    let other = "https://example.com/scene.tif";
    assert_eq!(
        stdout(&stac_gdal(
            &["sign", other, "--signer", "planetary-computer"],
            &[]
        )),
        format!("{other}\n")
    );
    assert_eq!(server.count("pc"), 2);
}

/// `env --format sh --show-secrets` is `eval`-safe: a token with quotes,
/// `$(…)`, backticks and spaces comes back byte for byte from a real `sh`,
/// and nothing in it runs. `--format json` is one object.
#[test]
fn env_format_sh_round_trips_through_a_real_shell() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("ran");
    let token = format!(
        "tok 'q' \"d\" $(touch {c}) `touch {c}` ; x",
        c = canary.display()
    );
    let args = [
        "env",
        "--signer",
        "bearer",
        "--host",
        "h.example",
        "--href",
        "https://h.example/x.tif",
        "--show-secrets",
        "--format",
        "sh",
    ];
    let o = stac_gdal(&args, &[("STAC_GDAL_TOKEN", &token)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = String::from_utf8(o.stdout).unwrap();
    assert!(script.starts_with("export "), "{script}");
    let sh = Command::new("sh")
        .arg("-c")
        .arg(format!("{script}\nprintf '%s' \"$GDAL_HTTP_HEADERS\""))
        .output()
        .unwrap();
    assert!(
        sh.status.success(),
        "{}",
        String::from_utf8_lossy(&sh.stderr)
    );
    assert_eq!(
        String::from_utf8(sh.stdout).unwrap(),
        format!("Authorization: Bearer {token}")
    );
    assert!(!canary.exists(), "the token's $(…) ran");

    let mut json_args = args.to_vec();
    json_args.truncate(json_args.len() - 3);
    json_args.extend(["--format", "json"]);
    let o = stac_gdal(&json_args, &[("STAC_GDAL_TOKEN", &token)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["GDAL_HTTP_HEADERS"], "<redacted>");
}

/// `env --signer aws` for an href that is not S3 prints no AWS option and
/// says why on stderr.
#[test]
fn env_aws_for_a_non_aws_href_prints_nothing() {
    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "aws",
            "--region",
            "us-west-2",
            "--href",
            "https://example.com/a.tif",
        ],
        &[],
    );
    assert!(o.status.success());
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("sets no GDAL option"));
    let o = stac_gdal(
        &[
            "env",
            "--signer",
            "aws",
            "--region",
            "us-west-2",
            "--href",
            "s3://b/a.tif",
        ],
        &[],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("AWS_REQUEST_PAYER=requester"));
}
