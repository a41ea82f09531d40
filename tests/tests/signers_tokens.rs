//! Planetary Computer, Earthdata and CDSE signers against a local token
//! server of ours speaking each protocol (the real endpoints are out of
//! reach): caching, expiry and refresh, single flight across 8 threads,
//! refresh-failure fallback, server errors as typed errors, secrecy, and the
//! signed href / token then accepted by nginx.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

mod signers_common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use signers_common::{env_pairs, gdal_checksum, nginx_with_cog, no_probe, send};
use stac_gdal_e2e::token_server::{Endpoint, Failure, TokenServer, TokenServerConfig};
use stac_signers::{
    CdseOptions, CdseSigner, EarthdataOptions, EarthdataSigner, HostList, PcOptions,
    PlanetaryComputerSigner, Signer, SignerError,
};

const BLOB: &str = "https://acct.blob.core.windows.net/cont/dir/a.tif";

fn pc(server: &TokenServer) -> PlanetaryComputerSigner {
    PlanetaryComputerSigner::with_options(PcOptions::default().with_sas_url(server.pc_sas_url()))
}

fn query_param(href: &str, key: &str) -> Option<String> {
    let q = href.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

/// Run `f` on 8 threads at once; return the results.
fn eight<T: Send + 'static>(f: impl Fn() -> T + Send + Sync + 'static) -> Vec<T> {
    let f = Arc::new(f);
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

// ---------------------------------------------------------------- Planetary Computer

#[test]
fn pc_caches_one_sas_per_account_and_container() {
    let server = TokenServer::start(TokenServerConfig::default());
    let s = pc(&server);
    let a = s.sign_href(BLOB).unwrap();
    assert!(a.starts_with(&format!("{BLOB}?st=")), "{a}");
    assert_eq!(query_param(&a, "sig").as_deref(), Some("pc-cont-1"));
    let b = s
        .sign_href("https://acct.blob.core.windows.net/cont/other.tif?version=2")
        .unwrap();
    assert!(b.contains("?version=2&st="), "{b}");
    assert_eq!(query_param(&b, "sig").as_deref(), Some("pc-cont-1"));
    assert_eq!(server.pc_count("acct", "cont"), 1);

    let c = s
        .sign_href("https://acct.blob.core.windows.net/cont2/x.tif")
        .unwrap();
    assert_eq!(query_param(&c, "sig").as_deref(), Some("pc-cont2-2"));
    assert_eq!(server.pc_count("acct", "cont2"), 1);

    // Nothing for other hosts, signed hrefs, the public account: no request.
    let before = server.count("requests");
    for href in [
        "https://example.com/scene.tif",
        "https://acct.blob.core.windows.net/cont/a.tif?sv=1&sig=x",
        "https://ai4edatasetspublicassets.blob.core.windows.net/c/a.tif",
        "https://acct.blob.core.windows.net/",
    ] {
        assert_eq!(s.sign_href(href).unwrap(), href);
    }
    assert_eq!(server.count("requests"), before);
    // The token endpoint path is /<account>/<container>.
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/sas/v1/token/acct/cont"))
    );
}

#[test]
fn pc_sends_the_subscription_key_and_reports_refusals_without_it() {
    let server = TokenServer::start(TokenServerConfig {
        pc_subscription_key: Some("sub-key-777".into()),
        ..TokenServerConfig::default()
    });
    let keyed = PlanetaryComputerSigner::with_options(
        PcOptions::default()
            .with_sas_url(server.pc_sas_url())
            .with_subscription_key("sub-key-777"),
    );
    assert!(keyed.sign_href(BLOB).unwrap().contains("sig=pc-cont-1"));
    assert_eq!(
        server.requests()[0].headers["ocp-apim-subscription-key"],
        "sub-key-777"
    );
    let err = pc(&server).sign_href(BLOB).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Http {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn pc_refreshes_near_expiry_and_never_caches_tokens_without_expiry() {
    let server = TokenServer::start(TokenServerConfig {
        pc_ttl: Duration::from_secs(4),
        ..TokenServerConfig::default()
    });
    let s = PlanetaryComputerSigner::with_options(
        PcOptions::default()
            .with_sas_url(server.pc_sas_url())
            .with_refresh_window(Duration::from_secs(2)),
    );
    let first = s.sign_href(BLOB).unwrap();
    assert_eq!(s.sign_href(BLOB).unwrap(), first, "fresh token reused");
    assert_eq!(server.count("pc"), 1);
    std::thread::sleep(Duration::from_millis(2100));
    let second = s.sign_href(BLOB).unwrap();
    assert_ne!(second, first, "token inside the refresh window was reused");
    assert_eq!(server.count("pc"), 2);

    let no_expiry = TokenServer::start(TokenServerConfig {
        pc_omit_expiry: true,
        ..TokenServerConfig::default()
    });
    let s = pc(&no_expiry);
    s.sign_href(BLOB).unwrap();
    s.sign_href(BLOB).unwrap();
    assert_eq!(
        no_expiry.count("pc"),
        2,
        "a token without expiry must not be cached"
    );
}

#[test]
fn pc_eight_threads_mint_once() {
    let server = TokenServer::start(TokenServerConfig {
        delay: Duration::from_millis(300),
        ..TokenServerConfig::default()
    });
    let s = Arc::new(pc(&server));
    let results = eight(move || s.sign_href(BLOB).unwrap());
    assert_eq!(server.count("pc"), 1);
    assert!(results.iter().all(|r| r == &results[0]));
}

#[test]
fn pc_server_errors_are_typed_and_recoverable() {
    let server = TokenServer::start(TokenServerConfig::default());
    let s = pc(&server);
    server.set_failure(Endpoint::Pc, Some(Failure::Status(500)));
    let err = s.sign_href(BLOB).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Http {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    server.set_failure(Endpoint::Pc, Some(Failure::Malformed));
    assert!(matches!(
        s.sign_href(BLOB).unwrap_err(),
        SignerError::Token { .. }
    ));
    server.set_failure(Endpoint::Pc, Some(Failure::MissingToken));
    let err = s.sign_href(BLOB).unwrap_err();
    assert!(err.to_string().contains("no `token`"), "{err}");
    server.set_failure(Endpoint::Pc, None);
    assert!(s.sign_href(BLOB).unwrap().contains("sig=pc-cont-"));

    // Unreachable endpoint: an Http error without a status.
    let dead = PlanetaryComputerSigner::with_options(
        PcOptions::default()
            .with_sas_url(format!("http://127.0.0.1:{}/t", stac_gdal_e2e::free_port()))
            .with_timeout(Duration::from_secs(2)),
    );
    assert!(matches!(
        dead.sign_href(BLOB).unwrap_err(),
        SignerError::Http { status: None, .. }
    ));
}

#[test]
fn pc_signs_every_asset_of_an_item_and_nginx_accepts_the_sas() {
    let sig = "sas-sig-5150";
    let server = TokenServer::start(TokenServerConfig {
        fixed_token: Some(sig.into()),
        ..TokenServerConfig::default()
    });
    let (_dir, nginx, local) = nginx_with_cog(sig);
    let s = pc(&server);

    let mut item = json!({"type": "Feature", "id": "i", "assets": {
        "B04": {"href": "https://acct.blob.core.windows.net/cont/cog.tif"},
        "B05": {"href": "https://acct.blob.core.windows.net/cont/cog.tif#frag"},
        "thumb": {"href": "https://example.com/thumb.png"}
    }});
    assert_eq!(s.sign_item(&mut item).unwrap(), 2);
    assert_eq!(
        item["assets"]["thumb"]["href"],
        "https://example.com/thumb.png"
    );
    let b05 = item["assets"]["B05"]["href"].as_str().unwrap();
    assert!(
        b05.ends_with("#frag") && b05.contains(&format!("sig={sig}")),
        "{b05}"
    );
    let signed = item["assets"]["B04"]["href"].as_str().unwrap();

    // The SAS query as issued goes to the server that checks it (nginx stands in for Azure).
    let query = signed.split_once('?').unwrap().1;
    let url = format!("{}?{query}", nginx.url("/sas/cog.tif"));
    let (ok, checksum, err) = gdal_checksum(&format!("/vsicurl/{url}"), &[no_probe()]);
    assert!(ok, "{err}");
    assert_eq!(checksum, local);
    let (status, _) = send(
        http::Request::get(nginx.url("/sas/cog.tif"))
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(status, 403);
}

// ---------------------------------------------------------------- Earthdata

fn edl(server: &TokenServer, user: &str, password: &str) -> EarthdataSigner {
    EarthdataSigner::with_options(
        EarthdataOptions::default()
            .with_login(user, password)
            .with_token_url(server.earthdata_url()),
    )
}

/// The origin of a local test server URL as a host list, plain http allowed.
fn local_origin(url: &str) -> HostList {
    let hp = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    HostList::new([hp.clone()]).with_allow_http([hp.parse().unwrap()])
}

/// An href on Earthdata's default origins (https, a NASA subdomain).
const EDL_HREF: &str = "https://data.lpdaac.earthdatacloud.nasa.gov/x.tif";
/// An href on CDSE's default origins.
const CDSE_HREF: &str = "https://zipper.dataspace.copernicus.eu/odata/v1/x";

fn header(env: &stac_signers::GdalEnv) -> String {
    env.get("GDAL_HTTP_HEADERS").unwrap_or_default().to_owned()
}

#[test]
fn earthdata_mints_with_basic_auth_caches_and_refreshes() {
    let server = TokenServer::start(TokenServerConfig {
        earthdata_ttl: Duration::from_secs(4),
        ..TokenServerConfig::default()
    });
    let s = EarthdataSigner::with_options(
        EarthdataOptions::default()
            .with_login("edl-user", "edl-pass")
            .with_token_url(server.earthdata_url())
            .with_refresh_window(Duration::from_secs(2)),
    );
    assert_eq!(
        header(&s.gdal_env_for(EDL_HREF).unwrap()),
        "Authorization: Bearer edl-1"
    );
    assert_eq!(
        header(&s.gdal_env_for(EDL_HREF).unwrap()),
        "Authorization: Bearer edl-1"
    );
    assert_eq!(server.count("earthdata"), 1);
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    // base64("edl-user:edl-pass")
    assert_eq!(r.headers["authorization"], "Basic ZWRsLXVzZXI6ZWRsLXBhc3M=");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        header(&s.gdal_env_for(EDL_HREF).unwrap()),
        "Authorization: Bearer edl-2"
    );
}

#[test]
fn earthdata_static_token_needs_no_server_and_bad_login_is_a_typed_error() {
    let server = TokenServer::start(TokenServerConfig::default());
    let s = EarthdataSigner::with_options(
        EarthdataOptions::default()
            .with_token("static-edl")
            .with_login("edl-user", "edl-pass")
            .with_token_url(server.earthdata_url()),
    );
    assert_eq!(
        header(&s.gdal_env_for(EDL_HREF).unwrap()),
        "Authorization: Bearer static-edl"
    );
    assert_eq!(server.count("requests"), 0);

    let bad = edl(&server, "edl-user", "wrong-password-xyz");
    let err = bad.gdal_env_for(EDL_HREF).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Http {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?} {bad:?}").contains("wrong-password-xyz"));

    server.set_failure(Endpoint::Earthdata, Some(Failure::MissingToken));
    let err = edl(&server, "edl-user", "edl-pass")
        .gdal_env_for(EDL_HREF)
        .unwrap_err();
    assert!(matches!(err, SignerError::Token { .. }), "{err:?}");
}

#[test]
fn earthdata_eight_threads_mint_once() {
    let server = TokenServer::start(TokenServerConfig {
        delay: Duration::from_millis(300),
        ..TokenServerConfig::default()
    });
    let s = Arc::new(edl(&server, "edl-user", "edl-pass"));
    let got = eight(move || header(&s.gdal_env_for(EDL_HREF).unwrap()));
    assert_eq!(server.count("earthdata"), 1);
    assert!(got.iter().all(|h| h == "Authorization: Bearer edl-1"));
}

#[test]
fn earthdata_token_is_accepted_by_nginx_for_gdal_and_requests() {
    let tok = "edl-nginx-token-9";
    let server = TokenServer::start(TokenServerConfig {
        fixed_token: Some(tok.into()),
        ..TokenServerConfig::default()
    });
    let (_dir, nginx, local) = nginx_with_cog(tok);
    let url = nginx.url("/private/cog.tif");
    let s = EarthdataSigner::with_options(
        EarthdataOptions::default()
            .with_login("edl-user", "edl-pass")
            .with_token_url(server.earthdata_url())
            .with_hosts(local_origin(&url)),
    );
    let mut env = env_pairs(&s.gdal_env_for(&url).unwrap());
    env.push(no_probe());
    let (ok, checksum, err) = gdal_checksum(&format!("/vsicurl/{url}"), &env);
    assert!(ok, "{err}");
    assert_eq!(checksum, local);

    let mut req = http::Request::get(&url)
        .header("Range", "bytes=0-9")
        .body(Vec::new())
        .unwrap();
    s.sign_request(&mut req).unwrap();
    assert_eq!(send(req).0, 206);
    // Not for other hosts.
    assert!(
        s.gdal_env_for("https://example.com/cog.tif")
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.count("earthdata"), 1);
}

// ---------------------------------------------------------------- CDSE

fn cdse(server: &TokenServer, window: Duration) -> CdseSigner {
    cdse_with(server, window, CdseOptions::default().hosts)
}

fn cdse_with(server: &TokenServer, window: Duration, hosts: HostList) -> CdseSigner {
    CdseSigner::with_options(
        CdseOptions::default()
            .with_login("cdse-user", "cdse-pass")
            .with_token_url(server.cdse_url())
            .with_hosts(hosts)
            .with_refresh_window(window),
    )
}

#[test]
fn cdse_password_grant_then_refresh_grant_then_fallback() {
    let server = TokenServer::start(TokenServerConfig {
        cdse_expires_in: 3,
        ..TokenServerConfig::default()
    });
    let s = cdse(&server, Duration::from_secs(2));
    assert_eq!(
        header(&s.gdal_env_for(CDSE_HREF).unwrap()),
        "Authorization: Bearer cdse-access-1"
    );
    assert_eq!(
        header(&s.gdal_env_for(CDSE_HREF).unwrap()),
        "Authorization: Bearer cdse-access-1"
    );
    assert_eq!(
        (server.count("cdse-password"), server.count("cdse-refresh")),
        (1, 0)
    );
    let first = &server.requests()[0];
    assert!(
        first.body.contains("grant_type=password") && first.body.contains("client_id=cdse-public")
    );

    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        header(&s.gdal_env_for(CDSE_HREF).unwrap()),
        "Authorization: Bearer cdse-access-2"
    );
    assert_eq!(
        (server.count("cdse-password"), server.count("cdse-refresh")),
        (1, 1)
    );
    let refresh = server.requests().last().unwrap().body.clone();
    assert!(
        refresh.contains("grant_type=refresh_token")
            && refresh.contains("refresh_token=cdse-refresh-1")
    );
    assert!(
        !refresh.contains("password"),
        "refresh grant must not resend the password"
    );

    // Refresh fails (400 invalid_grant) → password grant.
    server.set_refresh_failing(true);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        header(&s.gdal_env_for(CDSE_HREF).unwrap()),
        "Authorization: Bearer cdse-access-3"
    );
    assert_eq!(
        (server.count("cdse-password"), server.count("cdse-refresh")),
        (2, 1)
    );
}

#[test]
fn cdse_without_credentials_fails_clearly_without_network() {
    assert!(std::env::var_os("CDSE_USERNAME").is_none());
    let server = TokenServer::start(TokenServerConfig::default());
    let s = CdseSigner::with_options(CdseOptions::default().with_token_url(server.cdse_url()));
    let err = s.gdal_env_for(CDSE_HREF).unwrap_err();
    assert!(matches!(err, SignerError::Credentials { .. }));
    assert!(
        err.to_string()
            .contains("CDSESigner needs CDSE_USERNAME + CDSE_PASSWORD.")
    );
    assert_eq!(server.count("requests"), 0);
}

#[test]
fn cdse_server_errors_are_typed_and_secrets_stay_out() {
    let server = TokenServer::start(TokenServerConfig::default());
    server.set_failure(Endpoint::Cdse, Some(Failure::Status(503)));
    let s = cdse(&server, Duration::from_secs(1));
    let err = s.gdal_env_for(CDSE_HREF).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Http {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    server.set_failure(Endpoint::Cdse, None);

    let bad = CdseSigner::with_options(
        CdseOptions::default()
            .with_login("cdse-user", "wrong-cdse-secret")
            .with_token_url(server.cdse_url()),
    );
    let err = bad.gdal_env_for(CDSE_HREF).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Http {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert!(!format!("{err} {err:?} {bad:?}").contains("wrong-cdse-secret"));

    // Works again once the server does.
    assert_eq!(
        header(&s.gdal_env_for(CDSE_HREF).unwrap()),
        "Authorization: Bearer cdse-access-1"
    );
}

#[test]
fn cdse_eight_threads_mint_once_and_nginx_accepts_the_token() {
    let tok = "cdse-nginx-token-3";
    let server = TokenServer::start(TokenServerConfig {
        fixed_token: Some(tok.into()),
        delay: Duration::from_millis(300),
        ..TokenServerConfig::default()
    });
    let (_dir, nginx, local) = nginx_with_cog(tok);
    let url = nginx.url("/private/cog.tif");
    let s = Arc::new(cdse_with(
        &server,
        Duration::from_secs(30),
        local_origin(&url),
    ));
    let s2 = s.clone();
    let u2 = url.clone();
    let got = eight(move || header(&s2.gdal_env_for(&u2).unwrap()));
    assert_eq!(server.count("cdse"), 1);
    assert!(
        got.iter()
            .all(|h| h == &format!("Authorization: Bearer {tok}"))
    );

    let mut env = env_pairs(&s.gdal_env_for(&url).unwrap());
    env.push(no_probe());
    let (ok, checksum, err) = gdal_checksum(&format!("/vsicurl/{url}"), &env);
    assert!(ok, "{err}");
    assert_eq!(checksum, local);
    let mut req = http::Request::get(&url).body(Vec::new()).unwrap();
    s.sign_request(&mut req).unwrap();
    assert_eq!(send(req).0, 200);
}
