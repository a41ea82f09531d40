//! The one error type of this crate.

/// Errors of signers. Messages never contain tokens or secrets, and hrefs
/// and URLs are redacted (query strings and user info removed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// Credentials are missing or invalid (no network was used to find out).
    #[error("{signer}: {message}")]
    Credentials {
        /// The signer's name.
        signer: &'static str,
        /// What is missing, naming the options or environment variables to set.
        message: String,
    },
    /// Resolving an href for an asset failed.
    #[error(transparent)]
    Meta(#[from] stac_meta::MetaError),
    /// A token endpoint answered, but not with a usable token.
    #[error("{signer}: {message}")]
    Token {
        /// The signer's name.
        signer: &'static str,
        /// What went wrong (redacted).
        message: String,
    },
    /// An HTTP exchange with a token endpoint failed: no connection, or an
    /// error status.
    #[error("{signer}: {url}: {}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
    Http {
        /// The signer's name.
        signer: &'static str,
        /// The endpoint (redacted).
        url: String,
        /// The HTTP status when the server answered.
        status: Option<u16>,
        /// What went wrong (an error code from the server, or the transport error; redacted).
        message: String,
    },
    /// Signing a request failed (SigV4: a header or URI that cannot be signed).
    #[error("{signer}: cannot sign request: {message}")]
    Signing {
        /// The signer's name.
        signer: &'static str,
        /// Why (no secrets).
        message: String,
    },
    /// The operation needs the crate feature `network`, which is off.
    #[error(
        "{signer}: {what} needs the `network` feature of stac-signers (stac-gdal: `signers-network`)"
    )]
    NetworkDisabled {
        /// The signer's name.
        signer: &'static str,
        /// What was attempted.
        what: &'static str,
    },
}
