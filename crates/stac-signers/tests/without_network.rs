//! Without the `network` feature: constructors and offline hooks work, and
//! hooks that would need a token or a signature say which feature they need.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies
#![cfg(not(feature = "network"))]

use stac_signers::{
    AwsCredentials, AwsOptions, AwsRequesterPaysSigner, CdseOptions, CdseSigner, EarthdataOptions,
    EarthdataSigner, PcOptions, PlanetaryComputerSigner, Signer, SignerError,
};

#[test]
fn offline_hooks_work_and_network_hooks_name_the_feature() {
    let pc = PlanetaryComputerSigner::with_options(PcOptions::default());
    assert_eq!(
        pc.sign_href("https://example.com/a.tif").unwrap(),
        "https://example.com/a.tif"
    );
    let err = pc
        .sign_href("https://acct.blob.core.windows.net/c/a.tif")
        .unwrap_err();
    assert!(
        matches!(err, SignerError::NetworkDisabled { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`network` feature"), "{err}");

    let aws = AwsRequesterPaysSigner::with_options(
        Some("us-west-2"),
        AwsOptions::default().with_credentials(AwsCredentials::new("AKID", "SECRET")),
    );
    assert_eq!(aws.gdal_env_for("s3://b/k").unwrap().len(), 7);
    assert!(
        aws.gdal_env_for("https://example.com/k")
            .unwrap()
            .is_empty()
    );
    let mut req = http::Request::get("https://b.s3.amazonaws.com/k")
        .body(Vec::new())
        .unwrap();
    assert!(matches!(
        aws.sign_request(&mut req).unwrap_err(),
        SignerError::NetworkDisabled { .. }
    ));

    let edl = EarthdataSigner::with_options(EarthdataOptions::default().with_token("t"));
    let nasa = "https://data.lpdaac.earthdatacloud.nasa.gov/a.tif";
    assert!(
        edl.gdal_env_for(nasa).is_ok(),
        "a static token needs no network"
    );
    let edl = EarthdataSigner::with_options(EarthdataOptions::default().with_login("u", "p"));
    assert!(matches!(
        edl.gdal_env_for(nasa).unwrap_err(),
        SignerError::NetworkDisabled { .. }
    ));
    let cdse = CdseSigner::with_options(CdseOptions::default().with_login("u", "p"));
    assert!(matches!(
        cdse.gdal_env_for("https://zipper.dataspace.copernicus.eu/a")
            .unwrap_err(),
        SignerError::NetworkDisabled { .. }
    ));
}
