//! Bearer signer end to end: GDAL reads a COG through nginx's token-protected
//! path with our GDAL env, and is refused (401) without it; signed requests
//! get 206; the host allow-list keeps the token from other hosts.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

mod signers_common;

use signers_common::{env_pairs, gdal_checksum, nginx_with_cog, no_probe, send};
use stac_signers::{BearerTokenSigner, HostList, Signer};

const TOKEN: &str = "bearer-e2e-token-42";

#[test]
fn gdal_reads_private_cog_with_our_env_and_gets_401_without() {
    let (_dir, nginx, local) = nginx_with_cog(TOKEN);
    let url = nginx.url("/private/cog.tif");
    let vsi = format!("/vsicurl/{url}");
    let hp = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let origin = || HostList::new([hp.clone()]).with_allow_http([hp.parse().unwrap()]);
    let signer = BearerTokenSigner::new(TOKEN).with_hosts(origin());

    let mut env = env_pairs(&signer.gdal_env_for(&url).unwrap());
    env.push(no_probe());
    let (ok, checksum, err) = gdal_checksum(&vsi, &env);
    assert!(ok, "GDAL could not read with our env: {err}");
    assert_eq!(checksum, local);

    let (ok, _, err) = gdal_checksum(&vsi, &[no_probe()]);
    assert!(!ok, "GDAL read the private COG without a token");
    assert!(err.contains("401"), "{err}");

    let wrong = env_pairs(
        &BearerTokenSigner::new("nope")
            .with_hosts(origin())
            .gdal_env_for(&url)
            .unwrap(),
    );
    let (ok, _, err) = gdal_checksum(&vsi, &wrong);
    assert!(!ok && err.contains("401"), "{err}");

    // The public path needs nothing.
    let (ok, checksum, _) = gdal_checksum(
        &format!("/vsicurl/{}", nginx.url("/public/cog.tif")),
        &[no_probe()],
    );
    assert!(ok);
    assert_eq!(checksum, local);
}

#[test]
fn signed_requests_pass_and_allow_list_withholds_the_token() {
    let (dir, nginx, _) = nginx_with_cog(TOKEN);
    let bytes = std::fs::read(dir.path().join("cog.tif")).unwrap();
    let url = nginx.url("/private/cog.tif");
    let get = || {
        http::Request::get(&url)
            .header("Range", "bytes=0-15")
            .body(Vec::new())
            .unwrap()
    };

    // Unscoped: signs the https requests it is given, and plain http ones
    // only for an allowed origin.
    let hp = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let here: stac_signers::Origin = hp.parse().unwrap();
    let mut req = get();
    BearerTokenSigner::new(TOKEN)
        .sign_request(&mut req)
        .unwrap();
    assert!(req.headers().get("authorization").is_none(), "plain http");
    let mut req = get();
    BearerTokenSigner::new(TOKEN)
        .with_allow_http([here.clone()])
        .sign_request(&mut req)
        .unwrap();
    let (status, body) = send(req);
    assert_eq!(status, 206);
    assert_eq!(body, bytes[..16]);

    // Re-resolved closure: the current token is used.
    let mut req = get();
    BearerTokenSigner::from_fn(|| TOKEN.to_string())
        .with_allow_http([here.clone()])
        .sign_request(&mut req)
        .unwrap();
    assert_eq!(send(req).0, 206);

    assert_eq!(send(get()).0, 401);

    // Allowed: 127.0.0.1:<port> → signed. Without the port (the default
    // port 80) or elsewhere → untouched → 401, and no GDAL env.
    let allowed = BearerTokenSigner::new(TOKEN)
        .with_hosts(HostList::new([hp.clone()]))
        .with_allow_http([here]);
    let mut req = get();
    allowed.sign_request(&mut req).unwrap();
    assert_eq!(send(req).0, 206);
    let no_port = BearerTokenSigner::new(TOKEN)
        .with_hosts(HostList::new(["127.0.0.1"]))
        .with_allow_http(["127.0.0.1".parse().unwrap()]);
    let mut req = get();
    no_port.sign_request(&mut req).unwrap();
    assert_eq!(send(req).0, 401);
    assert_eq!(no_port.unused_hosts().len(), 1);

    let elsewhere = BearerTokenSigner::new(TOKEN).with_hosts(HostList::new(["data.example.com"]));
    let mut req = get();
    elsewhere.sign_request(&mut req).unwrap();
    assert!(req.headers().get("authorization").is_none());
    assert_eq!(send(req).0, 401);
    assert!(elsewhere.gdal_env_for(&url).unwrap().is_empty());
    assert!(!nginx.access_log().contains(TOKEN));
}
