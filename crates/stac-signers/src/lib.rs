//! # stac-signers
//!
//! Credentials for STAC assets and APIs, applied at three boundaries:
//!
//! | hook | boundary |
//! |---|---|
//! | [`Signer::sign_request`] | an outgoing HTTP request (STAC API search, asset download) |
//! | [`Signer::sign_href`] | one asset href (e.g. a SAS query appended) |
//! | [`Signer::gdal_env_for`] | GDAL configuration options installed around an open/read of one href |
//!
//! | signer | name | request | href | GDAL env (only for the hrefs it is for) |
//! |---|---|---|---|---|
//! | [`AnonymousSigner`] | `anonymous` | — | — | empty |
//! | [`AwsRequesterPaysSigner`] | `aws-requester-pays` | SigV4 + `x-amz-request-payer` (S3 origins) | — | `AWS_REQUEST_PAYER=requester`, … (`s3://`, `/vsis3/` and S3 origins) |
//! | [`BearerTokenSigner`] | `bearer` | `Authorization: Bearer` (its origins, https) | — | `GDAL_HTTP_HEADERS` (its origins) |
//! | [`PlanetaryComputerSigner`] | `planetary-computer` | — | SAS appended (Azure Blob hosts) | empty |
//! | [`EarthdataSigner`] | `earthdata` | `Authorization: Bearer` (NASA origins, https) | — | `GDAL_HTTP_HEADERS` (NASA origins) |
//! | [`CdseSigner`] | `cdse` | `Authorization: Bearer` (CDSE origins, https) | — | `GDAL_HTTP_HEADERS` (CDSE origins) |
//!
//! **Origins.** A credential is scoped to origins (scheme, host, port; see
//! [`Origin`] and [`HostList`]). There is no unscoped GDAL env: the only
//! env hook takes the href being read and returns nothing for hrefs the
//! credential is not for. Bearer-type credentials go over https only,
//! unless plain http was allowed for that one origin.
//!
//! **Redaction by value.** [`Signer::secrets`] lists every configured and
//! minted secret; [`Redactor`] removes them from any text (errors, GDAL
//! messages, files), whatever a server echoed back.
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
//! assert!(s.gdal_env_for("https://example.com/a.tif")?.is_empty());
//! # Ok::<(), stac_signers::SignerError>(())
//! ```
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

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
mod origin;
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
pub use hosts::{HostList, UnusedHost};
pub use item::sign_item_assets;
pub use origin::Origin;
pub use planetary_computer::{
    BlobTarget, PC_SAS_URL, PcOptions, PlanetaryComputerSigner, planetary_computer_target,
};
pub use resolve::{resolved_href, resolved_href_with};
pub use secret::{MIN_REDACTED_LEN, Redactor, Secret};
#[cfg(feature = "network")]
pub use sigv4::{SigV4Location, SigV4Settings, sign_sigv4};

/// A request as signers see it: an [`http::Request`] with its body in memory
/// (SigV4 hashes the body; most requests have an empty one).
pub type Request = http::Request<Vec<u8>>;

/// Applies credentials to requests, hrefs and GDAL reads, each scoped to
/// the origins the credential is for.
///
/// Implementations are `Send + Sync`: one signer serves many threads. Every
/// hook must be cheap when it has nothing to do (no network for origins the
/// signer is not for).
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// A short stable name (`anonymous`, `bearer`, `planetary-computer`, ...).
    fn name(&self) -> &str;

    /// Add credentials to an outgoing HTTP request, in place, when the
    /// request's origin is one the credential is for; other requests go out
    /// untouched (no error, no network).
    fn sign_request(&self, request: &mut Request) -> Result<(), SignerError>;

    /// Rewrite one asset href (e.g. append a SAS token). Hrefs the signer is
    /// not for come back unchanged.
    fn sign_href(&self, href: &str) -> Result<String, SignerError>;

    /// GDAL configuration options (ordered) to install around the open and
    /// reads of one (signed) href: the credential's options when it is meant
    /// for that href's origin (or, for S3, an `s3://`/`/vsis3/` href),
    /// else an empty env, so a credential never reaches a foreign origin.
    /// This is the only GDAL env hook: there is no unscoped env. The default
    /// is an empty env.
    ///
    /// ```
    /// use stac_signers::{BearerTokenSigner, HostList, Signer};
    /// let s = BearerTokenSigner::new("t").with_hosts(HostList::new(["data.example"]));
    /// assert!(s.gdal_env_for("https://data.example/a.tif")?.get("GDAL_HTTP_HEADERS").is_some());
    /// assert!(s.gdal_env_for("https://other.example/a.tif")?.is_empty());
    /// assert!(s.gdal_env_for("http://data.example/a.tif")?.is_empty(), "plain http");
    /// # Ok::<(), stac_signers::SignerError>(())
    /// ```
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        let _ = href;
        Ok(GdalEnv::new())
    }

    /// Rewrite every asset href of an Item, an ItemCollection /
    /// FeatureCollection, or an array of items, in place, through
    /// [`sign_href`](Self::sign_href). Returns how many hrefs changed.
    fn sign_item(&self, item: &mut serde_json::Value) -> Result<usize, SignerError> {
        sign_item_assets(self, item)
    }

    /// Whether this signer was configured for `url`'s origin: its host
    /// allow-list (given, or built in like Earthdata's NASA hosts) matches
    /// it (for bearer-type credentials also: https, or plain http allowed
    /// there), or it adds nothing to requests at all (anonymous, Planetary
    /// Computer, whose SAS goes into hrefs only).
    ///
    /// Callers ask before they send a request to an origin that a *server*
    /// or an item chose rather than the user (a STAC API `next` link, a
    /// redirect, an asset href to download): such a request is signed only
    /// when this returns `true`. The default is `false`: a signer without a
    /// host list (e.g. an unscoped [`BearerTokenSigner`]) is trusted only
    /// for the origin the caller chose (a STAC API's root).
    ///
    /// ```
    /// use stac_signers::{AnonymousSigner, BearerTokenSigner, HostList, Signer};
    /// assert!(AnonymousSigner.allows_url("https://other.example/x"));
    /// assert!(!BearerTokenSigner::new("t").allows_url("https://other.example/x"));
    /// let scoped = BearerTokenSigner::new("t").with_hosts(HostList::new(["api.example"]));
    /// assert!(scoped.allows_url("https://api.example/search?page=2"));
    /// assert!(!scoped.allows_url("https://other.example/search?page=2"));
    /// assert!(!scoped.allows_url("https://api.example:8443/search?page=2"));
    /// ```
    fn allows_url(&self, url: &str) -> bool {
        let _ = url;
        false
    }

    /// Every secret value this signer holds now: configured (tokens,
    /// passwords, keys, and encodings of them that go on the wire, like a
    /// Basic `user:password`) and minted so far (tokens, SAS). For
    /// redaction by value ([`Redactor`]); never print them. The default is
    /// none.
    fn secrets(&self) -> Vec<Secret> {
        Vec::new()
    }

    /// The host-list entries that matched no URL so far (a typo, a missing
    /// port), so a tool can report them at the end of a run. The default is
    /// none.
    fn unused_hosts(&self) -> Vec<UnusedHost> {
        Vec::new()
    }
}

macro_rules! forward_signer {
    ($($ty:ty),*) => {$(
        impl<S: Signer + ?Sized> Signer for $ty {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn sign_request(&self, request: &mut Request) -> Result<(), SignerError> {
                (**self).sign_request(request)
            }
            fn sign_href(&self, href: &str) -> Result<String, SignerError> {
                (**self).sign_href(href)
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
            fn secrets(&self) -> Vec<Secret> {
                (**self).secrets()
            }
            fn unused_hosts(&self) -> Vec<UnusedHost> {
                (**self).unused_hosts()
            }
        }
    )*};
}

forward_signer!(&S, std::sync::Arc<S>, Box<S>);

/// Every options type takes its signer through one setter,
/// `with_signer(impl Into<Arc<dyn Signer>>)`: a shared `Arc<dyn Signer>` as
/// it is, or one of the six signers by value.
///
/// ```
/// use std::sync::Arc;
/// use stac_signers::{AnonymousSigner, Signer};
/// fn takes(signer: impl Into<Arc<dyn Signer>>) -> String {
///     signer.into().name().to_owned()
/// }
/// assert_eq!(takes(AnonymousSigner), "anonymous");
/// let shared: Arc<dyn Signer> = Arc::new(AnonymousSigner);
/// assert_eq!(takes(shared), "anonymous");
/// ```
macro_rules! into_shared_signer {
    ($($ty:ty),*) => {$(
        impl From<$ty> for std::sync::Arc<dyn Signer> {
            fn from(signer: $ty) -> Self {
                std::sync::Arc::new(signer)
            }
        }
    )*};
}

into_shared_signer!(
    AnonymousSigner,
    AwsRequesterPaysSigner,
    BearerTokenSigner,
    CdseSigner,
    EarthdataSigner,
    PlanetaryComputerSigner
);
