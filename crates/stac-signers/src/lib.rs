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
//! | signer | name | request | href | GDAL env |
//! |---|---|---|---|---|
//! | [`AnonymousSigner`] | `anonymous` | — | — | empty |
//! | [`AwsRequesterPaysSigner`] | `aws-requester-pays` | SigV4 + `x-amz-request-payer` (S3 hosts) | — | `AWS_REQUEST_PAYER=requester`, … |
//! | [`BearerTokenSigner`] | `bearer` | `Authorization: Bearer` (allowed hosts) | — | `GDAL_HTTP_HEADERS` |
//! | [`PlanetaryComputerSigner`] | `planetary-computer` | — | SAS appended (Azure Blob hosts) | empty |
//! | [`EarthdataSigner`] | `earthdata` | `Authorization: Bearer` (NASA hosts) | — | `GDAL_HTTP_HEADERS` |
//! | [`CdseSigner`] | `cdse` | `Authorization: Bearer` (CDSE hosts) | — | `GDAL_HTTP_HEADERS` |
//!
//! Token minting (HTTP, via `ureq` + rustls) and SigV4 signing (`aws-sigv4`)
//! sit behind the `network` feature; without it nothing here touches the
//! network, the constructors and offline hooks work, and hooks that would
//! need a token or a signature return [`SignerError::NetworkDisabled`].
//!
//! Tokens are cached per key until their expiry minus a refresh window;
//! concurrent callers mint once. A credential is only sent to the hosts it
//! is for. Secrets never appear in `Debug` or `Display` output, nor in
//! errors; hrefs in messages are redacted.
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
mod aws;
mod bearer;
mod cdse;
mod earthdata;
mod env;
mod error;
#[cfg(feature = "network")]
mod expiry;
mod hosts;
#[cfg(feature = "network")]
mod http_client;
mod item;
mod planetary_computer;
mod resolve;
mod secret;
#[cfg(feature = "network")]
mod sigv4;
mod token_cache;

pub use anonymous::AnonymousSigner;
pub use aws::{AwsCredentials, AwsOptions, AwsRequesterPaysSigner};
pub use bearer::BearerTokenSigner;
pub use cdse::{CDSE_TOKEN_URL, CdseOptions, CdseSigner};
pub use earthdata::{EARTHDATA_TOKEN_URL, EarthdataOptions, EarthdataSigner};
pub use env::GdalEnv;
pub use error::SignerError;
pub use hosts::HostList;
pub use item::sign_item_assets;
pub use planetary_computer::{
    BlobTarget, PC_SAS_URL, PcOptions, PlanetaryComputerSigner, planetary_computer_target,
};
pub use resolve::{resolved_href, resolved_href_with};
pub use secret::Secret;
#[cfg(feature = "network")]
pub use sigv4::{SigV4Location, SigV4Settings, sign_sigv4};

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

    /// GDAL options for reading one (signed) href: [`gdal_env`](Self::gdal_env)
    /// when the signer's credential is meant for that href's host, else an
    /// empty env (so a token is not sent to a foreign host). The default is
    /// `gdal_env()`; host-scoped signers override it.
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        let _ = href;
        self.gdal_env()
    }

    /// Rewrite every asset href of an Item, an ItemCollection /
    /// FeatureCollection, or an array of items, in place, through
    /// [`sign_href`](Self::sign_href). Returns how many hrefs changed.
    fn sign_item(&self, item: &mut serde_json::Value) -> Result<usize, SignerError> {
        sign_item_assets(self, item)
    }

    /// Whether this signer was configured for `url`'s host: its host
    /// allow-list (given, or built in like Earthdata's NASA hosts) contains
    /// it, or it adds nothing to requests at all (anonymous, Planetary
    /// Computer, whose SAS goes into hrefs only).
    ///
    /// Callers ask before they send a request to a host that a *server*
    /// chose rather than the user (a STAC API `next` link or a redirect to
    /// another host): such a link is followed, and signed, only when this
    /// returns `true`. The default is `false`: a signer without a host
    /// list (e.g. an unscoped [`BearerTokenSigner`]) is trusted only for
    /// the hosts the caller chose.
    ///
    /// ```
    /// use stac_signers::{AnonymousSigner, BearerTokenSigner, HostList, Signer};
    /// assert!(AnonymousSigner.allows_url("https://other.example/x"));
    /// assert!(!BearerTokenSigner::new("t").allows_url("https://other.example/x"));
    /// let scoped = BearerTokenSigner::new("t").with_hosts(HostList::new(["api.example"]));
    /// assert!(scoped.allows_url("https://api.example/search?page=2"));
    /// assert!(!scoped.allows_url("https://other.example/search?page=2"));
    /// ```
    fn allows_url(&self, url: &str) -> bool {
        let _ = url;
        false
    }
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
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env_for(href)
    }
    fn sign_item(&self, item: &mut serde_json::Value) -> Result<usize, SignerError> {
        (**self).sign_item(item)
    }
    fn allows_url(&self, url: &str) -> bool {
        (**self).allows_url(url)
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
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env_for(href)
    }
    fn sign_item(&self, item: &mut serde_json::Value) -> Result<usize, SignerError> {
        (**self).sign_item(item)
    }
    fn allows_url(&self, url: &str) -> bool {
        (**self).allows_url(url)
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
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        (**self).gdal_env_for(href)
    }
    fn sign_item(&self, item: &mut serde_json::Value) -> Result<usize, SignerError> {
        (**self).sign_item(item)
    }
    fn allows_url(&self, url: &str) -> bool {
        (**self).allows_url(url)
    }
}
