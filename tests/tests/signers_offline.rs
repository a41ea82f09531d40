//! The seed's signer cells (10–12) and the Extras table of
//! `reference/seed-reference-output.md`, offline; plus secrecy: no token in
//! `Debug`, `Display` or error messages.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::json;
use stac_gdal::signers::{
    AnonymousSigner, AwsCredentials, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner,
    CdseOptions, CdseSigner, EarthdataOptions, EarthdataSigner, GdalEnv, HostList, PcOptions,
    PlanetaryComputerSigner, Secret, Signer,
};

const HREF: &str = "https://example.com/scene.tif";

fn pairs(env: &GdalEnv) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn seed_cell_10_aws_requester_pays_env_has_region_keys_then_the_three() {
    let s = AwsRequesterPaysSigner::new(Some("us-west-2"));
    assert_eq!(s.name(), "aws-requester-pays");
    assert_eq!(
        pairs(&s.gdal_env_for("s3://bucket/scene.tif").unwrap()),
        vec![
            p("AWS_REGION", "us-west-2"),
            p("AWS_DEFAULT_REGION", "us-west-2"),
            p("AWS_REQUEST_PAYER", "requester"),
            p("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            p("CPL_VSIL_CURL_USE_HEAD", "NO"),
        ]
    );
    // Without a region: the three keys of the seed output, in order.
    assert_eq!(
        pairs(
            &AwsRequesterPaysSigner::new(None)
                .gdal_env_for("/vsis3/bucket/scene.tif")
                .unwrap()
        ),
        vec![
            p("AWS_REQUEST_PAYER", "requester"),
            p("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            p("CPL_VSIL_CURL_USE_HEAD", "NO"),
        ]
    );
    assert_eq!(s.sign_href(HREF).unwrap(), HREF);
    // Nothing for an href that is not read through S3.
    assert!(s.gdal_env_for(HREF).unwrap().is_empty());
}

#[test]
fn seed_cell_11_bearer_env() {
    let s = BearerTokenSigner::new("demo-token").with_hosts(HostList::new(["example.com"]));
    assert_eq!(s.name(), "bearer");
    assert_eq!(
        pairs(&s.gdal_env_for(HREF).unwrap()),
        vec![p("GDAL_HTTP_HEADERS", "Authorization: Bearer demo-token")]
    );
    assert_eq!(s.sign_href(HREF).unwrap(), HREF);
}

#[test]
fn seed_cell_12_planetary_computer_passes_other_hosts_through_with_empty_env() {
    let pc = PlanetaryComputerSigner::new();
    assert_eq!(pc.name(), "planetary-computer");
    assert_eq!(pc.sign_href(HREF).unwrap(), HREF);
    assert!(pc.gdal_env_for(HREF).unwrap().is_empty());
    // Already signed, and the public account: untouched, no network (none is reachable here).
    let signed = "https://acct.blob.core.windows.net/c/b.tif?se=2034&sig=abc";
    assert_eq!(pc.sign_href(signed).unwrap(), signed);
    let public = "https://ai4edatasetspublicassets.blob.core.windows.net/c/b.tif";
    assert_eq!(pc.sign_href(public).unwrap(), public);
    // Only blob hosts: a look-alike host is not signed.
    let lookalike = "https://acct.blob.core.windows.net.evil.com/c/b.tif";
    assert_eq!(pc.sign_href(lookalike).unwrap(), lookalike);
}

#[test]
fn extras_table_every_signer_offline() {
    let anon = AnonymousSigner;
    assert_eq!(
        (anon.name(), anon.gdal_env_for(HREF).unwrap().len()),
        ("anonymous", 0)
    );
    assert_eq!(anon.sign_href(HREF).unwrap(), HREF);

    let cb = BearerTokenSigner::from_fn(|| "cb-token".to_string())
        .with_hosts(HostList::new(["example.com"]));
    assert_eq!(
        cb.gdal_env_for(HREF).unwrap().get("GDAL_HTTP_HEADERS"),
        Some("Authorization: Bearer cb-token")
    );
    assert_eq!(cb.sign_href(HREF).unwrap(), HREF);

    let edl = EarthdataSigner::with_options(EarthdataOptions::default().with_token("edl-tok"));
    assert_eq!(edl.name(), "earthdata");
    assert_eq!(
        pairs(
            &edl.gdal_env_for("https://data.ornldaac.earthdata.nasa.gov/x.tif")
                .unwrap()
        ),
        vec![p("GDAL_HTTP_HEADERS", "Authorization: Bearer edl-tok")]
    );
    assert_eq!(edl.sign_href(HREF).unwrap(), HREF);

    assert!(
        std::env::var_os("CDSE_USERNAME").is_none() && std::env::var_os("CDSE_PASSWORD").is_none(),
        "this test expects no CDSE credentials in the environment"
    );
    let cdse = CdseSigner::new();
    assert_eq!(cdse.name(), "cdse");
    let err = cdse
        .gdal_env_for("https://zipper.dataspace.copernicus.eu/x")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("CDSESigner needs CDSE_USERNAME + CDSE_PASSWORD."),
        "{err}"
    );
    assert_eq!(cdse.sign_href(HREF).unwrap(), HREF);
}

#[test]
fn empty_bearer_tokens_are_errors() {
    for s in [
        BearerTokenSigner::new(""),
        BearerTokenSigner::from_fn(|| None::<String>),
        BearerTokenSigner::from_fn(String::new),
    ] {
        let s = s.with_hosts(HostList::new(["h"]));
        let err = s.gdal_env_for("https://h/x").unwrap_err();
        assert!(
            err.to_string()
                .contains("bearer token must resolve to a non-empty string"),
            "{err}"
        );
        let mut req = http::Request::get("https://h/x").body(Vec::new()).unwrap();
        assert!(s.sign_request(&mut req).is_err());
        assert!(req.headers().get("authorization").is_none());
    }
}

#[test]
fn bearer_closure_is_resolved_on_every_use() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = n.clone();
    let s = BearerTokenSigner::from_fn(move || {
        format!(
            "tok-{}",
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        )
    })
    .with_hosts(HostList::new(["example.com"]));
    let h = |env: GdalEnv| env.get("GDAL_HTTP_HEADERS").unwrap().to_owned();
    assert_eq!(
        h(s.gdal_env_for(HREF).unwrap()),
        "Authorization: Bearer tok-0"
    );
    assert_eq!(
        h(s.gdal_env_for(HREF).unwrap()),
        "Authorization: Bearer tok-1"
    );
    // Every token the closure returned is a secret to redact.
    let secrets: Vec<String> = s.secrets().iter().map(|t| t.expose().to_owned()).collect();
    assert_eq!(secrets, ["tok-0", "tok-1"]);
}

#[test]
fn bearer_allow_list_scopes_requests_and_gdal_env() {
    let s = BearerTokenSigner::new("scoped-tok")
        .with_hosts(HostList::new(["data.example.com", ".cdn.example.org"]));
    let mut ok = http::Request::get("https://data.example.com/a.tif")
        .body(Vec::new())
        .unwrap();
    s.sign_request(&mut ok).unwrap();
    assert_eq!(ok.headers()["authorization"], "Bearer scoped-tok");
    assert!(ok.headers()["authorization"].is_sensitive());
    for foreign in [
        "https://evil.com/a.tif",
        "https://data.example.com.evil.com/a.tif",
        "https://example.org/a.tif",
        // Same host, another port or plain http: another origin.
        "https://data.example.com:8443/a.tif",
        "http://data.example.com/a.tif",
    ] {
        let mut req = http::Request::get(foreign).body(Vec::new()).unwrap();
        s.sign_request(&mut req).unwrap();
        assert!(
            req.headers().get("authorization").is_none(),
            "token leaked to {foreign}"
        );
        assert!(s.gdal_env_for(foreign).unwrap().is_empty());
    }
    assert!(
        !s.gdal_env_for("https://x.cdn.example.org/a.tif")
            .unwrap()
            .is_empty()
    );
    assert!(
        !s.gdal_env_for("/vsicurl/https://data.example.com/a.tif")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn provider_signers_send_tokens_only_to_their_hosts() {
    let edl = EarthdataSigner::with_options(EarthdataOptions::default().with_token("edl-tok"));
    let mut nasa = http::Request::get("https://data.lpdaac.earthdatacloud.nasa.gov/x.tif")
        .body(Vec::new())
        .unwrap();
    edl.sign_request(&mut nasa).unwrap();
    assert_eq!(nasa.headers()["authorization"], "Bearer edl-tok");
    let mut other = http::Request::get("https://example.com/x.tif")
        .body(Vec::new())
        .unwrap();
    edl.sign_request(&mut other).unwrap();
    assert!(other.headers().get("authorization").is_none());
    assert!(
        edl.gdal_env_for("https://example.com/x.tif")
            .unwrap()
            .is_empty()
    );

    // CDSE without credentials: a request to a foreign host is left alone
    // (no error, no network), one to CDSE fails with the credentials error.
    let cdse = CdseSigner::with_options(CdseOptions::default());
    let mut other = http::Request::get("https://example.com/x")
        .body(Vec::new())
        .unwrap();
    cdse.sign_request(&mut other).unwrap();
    assert!(other.headers().get("authorization").is_none());
    let mut zipper = http::Request::get("https://zipper.dataspace.copernicus.eu/odata/v1/x")
        .body(Vec::new())
        .unwrap();
    assert!(cdse.sign_request(&mut zipper).is_err());

    // AWS signs only S3 hosts.
    let aws = AwsRequesterPaysSigner::with_options(
        Some("us-west-2"),
        AwsOptions::default().with_credentials(AwsCredentials::new("AKID", "SECRET")),
    );
    let mut other = http::Request::get("https://example.com/x")
        .body(Vec::new())
        .unwrap();
    aws.sign_request(&mut other).unwrap();
    assert!(other.headers().is_empty());
    let mut s3 = http::Request::get("https://bucket.s3.us-west-2.amazonaws.com/k.tif")
        .body(Vec::new())
        .unwrap();
    aws.sign_request(&mut s3).unwrap();
    assert_eq!(s3.headers()["x-amz-request-payer"], "requester");
    assert!(
        s3.headers()["authorization"]
            .to_str()
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKID/")
    );
}

#[test]
fn secrets_never_show_in_debug_display_or_errors() {
    const T: &str = "TOPSECRET-123";
    let signers: Vec<Box<dyn Signer>> = vec![
        Box::new(BearerTokenSigner::new(T)),
        Box::new(EarthdataSigner::with_options(
            EarthdataOptions::default()
                .with_token(T)
                .with_login("user", T),
        )),
        Box::new(CdseSigner::with_options(
            CdseOptions::default().with_login("user", T),
        )),
        Box::new(PlanetaryComputerSigner::with_options(
            PcOptions::default()
                .with_subscription_key(T)
                .with_sas_url(format!("https://h/token?code={T}")),
        )),
        Box::new(AwsRequesterPaysSigner::with_options(
            Some("us-west-2"),
            AwsOptions::default()
                .with_credentials(AwsCredentials::new("AKID", T).with_session_token(T)),
        )),
    ];
    for s in &signers {
        let shown = format!("{s:?}");
        assert!(!shown.contains(T), "{} Debug leaks: {shown}", s.name());
        if let Ok(env) = s.gdal_env_for("https://h/x") {
            let shown = format!("{env:?}");
            assert!(!shown.contains(T), "{} env Debug leaks: {shown}", s.name());
        }
    }
    let secret = Secret::new(T);
    assert!(!format!("{secret:?}{secret}").contains(T));
    // An error about a bad token never echoes it.
    let bad = BearerTokenSigner::new(format!("{T}\n"));
    let mut req = http::Request::get("https://h/x").body(Vec::new()).unwrap();
    let err = bad.sign_request(&mut req).unwrap_err();
    assert!(
        !format!("{err} {err:?}").contains(T),
        "error leaks: {err:?}"
    );
}

#[test]
fn sign_item_rewrites_every_asset_and_collections() {
    let anon = AnonymousSigner;
    let mut fc = json!({"type": "FeatureCollection", "features": [
        {"id": "a", "assets": {"x": {"href": HREF}, "y": {"href": HREF}}},
        {"id": "b", "assets": {"x": {"href": HREF}}}
    ]});
    assert_eq!(anon.sign_item(&mut fc).unwrap(), 0);
    assert_eq!(fc["features"][0]["assets"]["x"]["href"], HREF);
}
