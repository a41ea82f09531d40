//! The one error type of this crate.

/// Errors of signers. Messages never contain tokens or secrets, and hrefs are redacted.
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
    /// A token endpoint or signing step failed.
    #[error("{signer}: {message}")]
    Token {
        /// The signer's name.
        signer: &'static str,
        /// What went wrong (redacted).
        message: String,
    },
}
