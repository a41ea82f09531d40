//! AWS requester-pays signer end to end against a real S3 server that checks
//! SigV4 (SeaweedFS on 127.0.0.1): our signed GET succeeds, a wrong secret
//! and an unsigned request get 403, and GDAL reads `/vsis3/` with our env.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

mod signers_common;

use signers_common::{env_pairs, gdal_checksum, make_cog, send};
use stac_gdal_e2e::seaweed::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY, Seaweed};
use stac_signers::{AwsCredentials, AwsOptions, AwsRequesterPaysSigner, HostList, Signer};

/// Scoped to the S3 server's origin (`127.0.0.1:<port>`; SigV4 carries no
/// secret, so plain http is fine).
fn signer(server: &Seaweed, secret: &str) -> AwsRequesterPaysSigner {
    let origin = server.endpoint().trim_start_matches("http://").to_owned();
    AwsRequesterPaysSigner::with_options(
        Some(REGION),
        AwsOptions::default()
            .with_credentials(AwsCredentials::new(ACCESS_KEY, secret))
            .with_hosts(HostList::new([origin])),
    )
}

#[test]
fn sigv4_signed_requests_and_gdal_vsis3_against_seaweedfs() {
    let dir = tempfile::tempdir().unwrap();
    let cog = make_cog(dir.path());
    let bytes = std::fs::read(&cog).unwrap();
    let server = Seaweed::start();
    server.put(&cog, "cog.tif");
    let url = server.object_url("cog.tif");

    // Signed Range GET → 206 with the right bytes; the payer header is signed.
    let mut req = http::Request::get(&url)
        .header("Range", "bytes=0-99")
        .body(Vec::new())
        .unwrap();
    signer(&server, SECRET_KEY).sign_request(&mut req).unwrap();
    assert_eq!(req.headers()["x-amz-request-payer"], "requester");
    let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
    assert!(auth.contains("x-amz-request-payer"), "{auth}");
    let (status, body) = send(req);
    assert_eq!(status, 206);
    assert_eq!(body, bytes[..100]);

    // Whole object, plain GET.
    let mut req = http::Request::get(&url).body(Vec::new()).unwrap();
    signer(&server, SECRET_KEY).sign_request(&mut req).unwrap();
    let (status, body) = send(req);
    assert_eq!(status, 200);
    assert_eq!(body, bytes);

    // Wrong secret → 403 SignatureDoesNotMatch.
    let mut req = http::Request::get(&url).body(Vec::new()).unwrap();
    signer(&server, "wrong-secret-0000000000000000000000000000")
        .sign_request(&mut req)
        .unwrap();
    let (status, body) = send(req);
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"));

    // Unsigned → 403.
    let (status, _) = send(http::Request::get(&url).body(Vec::new()).unwrap());
    assert_eq!(status, 403);

    // GDAL /vsis3/ with our gdal_env (requester pays + credentials) plus the endpoint.
    let local = gdal_checksum(cog.to_str().unwrap(), &[]);
    assert!(local.0, "{}", local.2);
    let endpoint = [
        ("AWS_S3_ENDPOINT".to_owned(), server.endpoint()),
        ("AWS_HTTPS".to_owned(), "NO".to_owned()),
        ("AWS_VIRTUAL_HOSTING".to_owned(), "FALSE".to_owned()),
    ];
    let vsis3 = format!("/vsis3/{BUCKET}/cog.tif");
    let mut env = env_pairs(&signer(&server, SECRET_KEY).gdal_env_for(&vsis3).unwrap());
    assert_eq!(env[2], ("AWS_REQUEST_PAYER".into(), "requester".into()));
    env.extend(endpoint.iter().cloned());
    let (ok, checksum, err) = gdal_checksum(&vsis3, &env);
    assert!(ok, "gdalinfo /vsis3/ failed: {err}");
    assert_eq!(
        checksum, local.1,
        "checksum over /vsis3/ differs from the local file"
    );

    // Same with a wrong secret in our env: GDAL is refused.
    let mut bad = env_pairs(
        &signer(&server, "wrong-secret-0000000000000000000000000000")
            .gdal_env_for(&vsis3)
            .unwrap(),
    );
    bad.extend(endpoint.iter().cloned());
    let (ok, _, err) = gdal_checksum(&vsis3, &bad);
    assert!(!ok, "GDAL read succeeded with a wrong secret");
    assert!(err.contains("signature") || err.contains("403"), "{err}");
}
