//! AWS Signature Version 4 over our [`Request`] type, by the `aws-sigv4`
//! crate (feature `network`).
//!
//! [`SigV4Settings`] exposes the knobs the SigV4 test suite varies (URI
//! encoding, path normalisation, payload hash header, header or query
//! signature, session token in or out of the signature) so the signer can be
//! checked against the official vectors; [`SigV4Settings::s3`] is what S3 wants.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::{AwsCredentials, Request, SignerError};

/// Where the signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV4Location {
    /// `Authorization` and `X-Amz-Date` headers.
    Headers,
    /// A presigned URL: `X-Amz-*` query parameters, valid for `expires_in`.
    Query {
        /// How long the URL stays valid.
        expires_in: Duration,
    },
}

/// How to sign: the parts of SigV4 that differ between services.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigV4Settings {
    /// Signing region (e.g. `us-west-2`).
    pub region: String,
    /// Signing service name (`s3`, `execute-api`, ...).
    pub service: String,
    /// Percent-encode the path a second time (every service but S3).
    pub double_uri_encode: bool,
    /// Normalise `.`/`..`/`//` in the path (every service but S3).
    pub normalize_uri_path: bool,
    /// Add and sign `x-amz-content-sha256` (S3 requires it).
    pub payload_hash_header: bool,
    /// Send the payload hash as `UNSIGNED-PAYLOAD` (presigned S3 URLs).
    pub unsigned_payload: bool,
    /// Headers or query parameters.
    pub location: SigV4Location,
    /// Include `X-Amz-Security-Token` in the signature (else it is added after signing).
    pub sign_session_token: bool,
    /// The signing time (`None`: now).
    pub time: Option<SystemTime>,
}

impl Default for SigV4Settings {
    /// Generic-service rules (as the AWS test suite): double encoding,
    /// normalised paths, no payload header, signature in headers, region
    /// `us-east-1`, service `s3`.
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            service: "s3".into(),
            double_uri_encode: true,
            normalize_uri_path: true,
            payload_hash_header: false,
            unsigned_payload: false,
            location: SigV4Location::Headers,
            sign_session_token: true,
            time: None,
        }
    }
}

impl SigV4Settings {
    /// S3 rules: single encoding, no path normalisation, `x-amz-content-sha256` signed.
    ///
    /// ```
    /// let s = stac_signers::SigV4Settings::s3("us-west-2");
    /// assert_eq!((s.service.as_str(), s.double_uri_encode, s.payload_hash_header), ("s3", false, true));
    /// ```
    pub fn s3(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            service: "s3".into(),
            double_uri_encode: false,
            normalize_uri_path: false,
            payload_hash_header: true,
            ..Self::default()
        }
    }

    /// Set the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }
    /// Set the service name.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }
    /// Set double URI encoding.
    pub fn with_double_uri_encode(mut self, on: bool) -> Self {
        self.double_uri_encode = on;
        self
    }
    /// Set path normalisation.
    pub fn with_normalize_uri_path(mut self, on: bool) -> Self {
        self.normalize_uri_path = on;
        self
    }
    /// Set the `x-amz-content-sha256` header.
    pub fn with_payload_hash_header(mut self, on: bool) -> Self {
        self.payload_hash_header = on;
        self
    }
    /// Use `UNSIGNED-PAYLOAD` as the payload hash.
    pub fn with_unsigned_payload(mut self, on: bool) -> Self {
        self.unsigned_payload = on;
        self
    }
    /// Set where the signature goes.
    pub fn with_location(mut self, location: SigV4Location) -> Self {
        self.location = location;
        self
    }
    /// Set whether the session token is signed.
    pub fn with_sign_session_token(mut self, on: bool) -> Self {
        self.sign_session_token = on;
        self
    }
    /// Set a fixed signing time (tests, reproducible presigned URLs).
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }
}

/// Sign `request` in place with SigV4 and return the hex signature.
///
/// Headers mode adds `X-Amz-Date`, `Authorization` (and
/// `x-amz-content-sha256`, `X-Amz-Security-Token` as configured); query mode
/// rewrites the URI into a presigned URL. The body is hashed as it is.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use stac_signers::{sign_sigv4, AwsCredentials, SigV4Settings};
/// let creds = AwsCredentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
/// let mut req = http::Request::get("/").header("Host", "example.amazonaws.com").body(Vec::new())?;
/// let at = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
/// let settings = SigV4Settings::default().with_service("service").with_time(at);
/// let sig = sign_sigv4(&mut req, &creds, &settings)?;
/// assert_eq!(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_sigv4(
    request: &mut Request,
    credentials: &AwsCredentials,
    settings: &SigV4Settings,
) -> Result<String, SignerError> {
    const SIGNER: &str = "sigv4";
    let fail = |message: String| SignerError::Signing {
        signer: SIGNER,
        message,
    };
    if let Some(token) = credentials.session_token() {
        if !token.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(fail("session token is not printable ASCII".into()));
        }
    }
    let identity: Identity = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        credentials.session_token().map(str::to_owned),
        None,
        "stac-signers",
    )
    .into();
    let mut s = SigningSettings::default();
    s.percent_encoding_mode = if settings.double_uri_encode {
        PercentEncodingMode::Double
    } else {
        PercentEncodingMode::Single
    };
    s.uri_path_normalization_mode = settings.normalize_uri_path.into();
    s.payload_checksum_kind = if settings.payload_hash_header {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    match settings.location {
        SigV4Location::Headers => s.signature_location = SignatureLocation::Headers,
        SigV4Location::Query { expires_in } => {
            s.signature_location = SignatureLocation::QueryParams;
            s.expires_in = Some(expires_in);
        }
    }
    s.session_token_mode = if settings.sign_session_token {
        SessionTokenMode::Include
    } else {
        SessionTokenMode::Exclude
    };
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&settings.region)
        .name(&settings.service)
        .time(settings.time.unwrap_or_else(SystemTime::now))
        .settings(s)
        .build()
        .map_err(|e| fail(format!("invalid signing parameters: {e}")))?
        .into();
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| fail(format!("header `{name}` is not visible ASCII")))?;
        headers.push((name.as_str(), value));
    }
    let body = if settings.unsigned_payload {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(request.body())
    };
    let uri: Cow<'_, str> = Cow::Owned(request.uri().to_string());
    let method = request.method().as_str().to_owned();
    let signable = SignableRequest::new(&method, uri, headers.into_iter(), body)
        .map_err(|e| fail(format!("unsignable request: {e}")))?;
    let (instructions, signature) = sign(signable, &params)
        .map_err(|e| fail(format!("{e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(signature)
}
