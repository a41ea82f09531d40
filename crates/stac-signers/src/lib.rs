//! # stac-signers
//!
//! Credentials for STAC assets and APIs, applied at three boundaries:
//!
//! | hook | boundary |
//! |---|---|
//! | [`Signer::sign_request`] | an outgoing HTTP request (STAC API search, asset download) |
//! | [`Signer::sign_href`] | one asset href (e.g. a SAS query appended) |
//! | [`Signer::gdal_env`] | GDAL configuration options installed around an open/read |
//!
//! This crate owns the [`Signer`] trait, [`GdalEnv`], [`AnonymousSigner`] and
//! [`resolved_href`]. Token minting and SigV4 signing sit behind the
//! `network` feature; without it nothing here touches the network.
//!
//! Secrets never appear in `Debug` or `Display` output, nor in errors.
//!
//! ```
//! use stac_signers::{AnonymousSigner, Signer};
//! let s = AnonymousSigner;
//! assert_eq!(s.name(), "anonymous");
//! assert_eq!(s.sign_href("https://example.com/a.tif")?, "https://example.com/a.tif");
//! assert!(s.gdal_env()?.is_empty());
//! # Ok::<(), stac_signers::SignerError>(())
//! ```

mod anonymous;
mod env;
mod error;
mod resolve;

pub use anonymous::AnonymousSigner;
pub use env::GdalEnv;
pub use error::SignerError;
pub use resolve::{resolved_href, resolved_href_with};

/// A request as signers see it: an [`http::Request`] with its body in memory
/// (SigV4 hashes the body; most requests have an empty one).
pub type Request = http::Request<Vec<u8>>;

/// Applies credentials to requests, hrefs and GDAL reads.
///
/// Implementations are `Send + Sync`: one signer serves many threads. Every
/// hook must be cheap when it has nothing to do (no network for hosts the
/// signer is not for).
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// A short stable name (`anonymous`, `bearer`, `planetary-computer`, ...).
    fn name(&self) -> &str;

    /// Add credentials to an outgoing HTTP request, in place.
    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError>;

    /// Rewrite one asset href (e.g. append a SAS token). Hrefs the signer is
    /// not for come back unchanged.
    fn sign_href(&self, href: &str) -> Result<String, SignerError>;

    /// GDAL configuration options (ordered) to install around opens and reads.
    fn gdal_env(&self) -> Result<GdalEnv, SignerError>;
}

impl<S: Signer + ?Sized> Signer for &S {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        (**self).sign_request(request)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        (**self).sign_href(href)
    }
    fn gdal_env(&self) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env()
    }
}

impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        (**self).sign_request(request)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        (**self).sign_href(href)
    }
    fn gdal_env(&self) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env()
    }
}

impl<S: Signer + ?Sized> Signer for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
        (**self).sign_request(request)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        (**self).sign_href(href)
    }
    fn gdal_env(&self) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env()
    }
}
