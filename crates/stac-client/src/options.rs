//! Options of the API client.

use std::sync::Arc;
use std::time::Duration;

use stac_signers::{AnonymousSigner, Signer};

use crate::retry::RetryPolicy;

/// How `/search` is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMethod {
    /// `GET /search?…`.
    Get,
    /// `POST /search` with a JSON body.
    Post,
}

/// Options of [`AsyncClient`](crate::AsyncClient) and [`Client`](crate::Client).
///
/// ```
/// use std::time::Duration;
/// use stac_client::{ClientOptions, RetryPolicy, SearchMethod};
/// let o = ClientOptions::default()
///     .with_timeout(Duration::from_secs(10))
///     .with_retry(RetryPolicy::default().with_max_retries(2))
///     .with_method(SearchMethod::Get)
///     .with_header("X-Api-Key", "k");
/// assert_eq!(o.method, Some(SearchMethod::Get));
/// assert!(!format!("{o:?}").contains("\"k\""));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Applied to every request (`sign_request`) and, with
    /// [`sign_items`](Self::sign_items), to every returned item's hrefs.
    /// Default [`AnonymousSigner`].
    pub signer: Arc<dyn Signer>,
    /// Pass every returned item through the signer's href hook
    /// (`sign_item`), like pystac-client's `modifier`. Default `false`.
    pub sign_items: bool,
    /// Extra headers sent with every request to the API root's origin
    /// (never to another host a link or a redirect leads to; values are
    /// treated as credentials and redacted from error messages).
    pub headers: Vec<(String, String)>,
    /// Whole-request timeout of one attempt (connect + body). Default 60 s.
    pub timeout: Option<Duration>,
    /// Connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Longest silence while a body is read (a stalled page is dropped and
    /// retried). Default 30 s.
    pub read_timeout: Option<Duration>,
    /// Overall deadline of one response (the landing page, one search
    /// page, …): every attempt and backoff together. Hit, it is a
    /// [`ClientError::TimedOut`](crate::ClientError::TimedOut) naming the
    /// redacted URL and the page. Default 5 minutes.
    pub deadline: Option<Duration>,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Force GET or POST for `/search`; `None` (default): POST when the
    /// landing page advertises a POST search link, else GET; GET for a
    /// CQL2-text filter.
    pub method: Option<SearchMethod>,
    /// The `User-Agent`.
    pub user_agent: String,
    /// The largest response body read (a search page, the landing page,
    /// collections): a longer one is a
    /// [`ClientError::TooLarge`](crate::ClientError::TooLarge), read no
    /// further than the limit. Also bounds what a response may take once
    /// parsed, JSON of tiny values taking up to 36 times its size in memory:
    /// one feature of a page at most a quarter of it
    /// ([`ClientError::ItemTooLarge`](crate::ClientError::ItemTooLarge)), a
    /// landing page or a collections list at most all of it.
    ///
    /// A search holds the body of the page being handed out, the next page
    /// (prefetched) and the item being parsed: its memory stays under
    /// 4 × this limit, however the pages are made (docs/reliability.md).
    /// Default 64 MiB (a page of 1000 large items is about 25 MB).
    pub max_page_bytes: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            signer: Arc::new(AnonymousSigner),
            sign_items: false,
            headers: Vec::new(),
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(30)),
            deadline: Some(Duration::from_secs(300)),
            retry: RetryPolicy::default(),
            method: None,
            user_agent: concat!("stac-gdal/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_page_bytes: 64 << 20,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientOptions")
            .field("signer", &self.signer.name())
            .field("sign_items", &self.sign_items)
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("deadline", &self.deadline)
            .field("retry", &self.retry)
            .field("method", &self.method)
            .field("user_agent", &self.user_agent)
            .field("max_page_bytes", &self.max_page_bytes)
            .finish()
    }
}

impl ClientOptions {
    /// Defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use this signer: one of the six signers by value, or a shared
    /// `Arc<dyn Signer>` (custom signers: `Arc::new(s) as Arc<dyn Signer>`).
    pub fn with_signer(mut self, signer: impl Into<Arc<dyn Signer>>) -> Self {
        self.signer = signer.into();
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "`with_signer` takes an `Arc<dyn Signer>` too")]
    pub fn with_shared_signer(self, signer: Arc<dyn Signer>) -> Self {
        self.with_signer(signer)
    }
    /// Pass returned items through the signer's href hook.
    pub fn with_sign_items(mut self, on: bool) -> Self {
        self.sign_items = on;
        self
    }
    /// Add a header sent with every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Set the whole-request timeout (`None`: none).
    pub fn with_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }
    /// Set the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Set the stall timeout ([`read_timeout`](Self::read_timeout)).
    pub fn with_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = timeout.into();
        self
    }
    /// Set the overall deadline of one response ([`deadline`](Self::deadline)).
    pub fn with_deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }
    /// Set the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Force GET or POST for `/search`.
    pub fn with_method(mut self, method: SearchMethod) -> Self {
        self.method = Some(method);
        self
    }
    /// Set the `User-Agent`.
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Set the largest response body read ([`max_page_bytes`](Self::max_page_bytes)).
    pub fn with_max_page_bytes(mut self, bytes: u64) -> Self {
        self.max_page_bytes = bytes;
        self
    }
}
