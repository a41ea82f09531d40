//! The blocking API: the async client driven by a private tokio runtime.
//!
//! Do not call it from inside a tokio runtime (use [`AsyncClient`] there).

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;

use crate::client::AsyncClient;
use crate::conformance::Conformance;
use crate::error::{ClientError, Result};
use crate::options::ClientOptions;
use crate::params::SearchParams;
use crate::search::{ItemStream, item_collection};

pub(crate) fn runtime() -> Result<Arc<tokio::runtime::Runtime>> {
    // One worker: prefetched pages and concurrent downloads progress while
    // the caller's thread consumes.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| ClientError::Runtime(e.to_string()))
}

/// A blocking STAC API client.
///
/// ```no_run
/// use stac_client::{Client, ClientOptions, SearchParams};
/// let client = Client::new("http://127.0.0.1:8082", ClientOptions::default())?;
/// for item in client.search(SearchParams::new().with_collections(["coll-a"]))? {
///     println!("{}", item?["id"]);
/// }
/// # Ok::<(), stac_client::ClientError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    runtime: Arc<tokio::runtime::Runtime>,
    inner: AsyncClient,
}

impl Client {
    /// A client for the API whose landing page is `url` (no request yet).
    pub fn new(url: &str, options: ClientOptions) -> Result<Self> {
        Ok(Self {
            runtime: runtime()?,
            inner: AsyncClient::new(url, options)?,
        })
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &AsyncClient {
        &self.inner
    }

    /// The landing page.
    pub fn landing_page(&self) -> Result<Value> {
        self.runtime.block_on(self.inner.landing_page())
    }

    /// The conformance classes.
    pub fn conformance(&self) -> Result<Conformance> {
        self.runtime.block_on(self.inner.conformance())
    }

    /// All collections.
    pub fn collections(&self) -> Result<Vec<Value>> {
        self.runtime.block_on(self.inner.collections())
    }

    /// One collection.
    pub fn collection(&self, id: &str) -> Result<Value> {
        self.runtime.block_on(self.inner.collection(id))
    }

    /// Queryables (endpoint-wide, or merged over `collections`).
    pub fn queryables(&self, collections: &[&str]) -> Result<Value> {
        self.runtime.block_on(self.inner.queryables(collections))
    }

    /// Search: checks parameters and conformance now, then returns an
    /// iterator that fetches pages as it goes.
    pub fn search(&self, params: SearchParams) -> Result<Items> {
        let stream = self.runtime.block_on(self.inner.search(params))?;
        Ok(Items {
            runtime: self.runtime.clone(),
            stream,
        })
    }
}

/// The items of a search, as a blocking iterator of `Result<Value>`.
#[derive(Debug)]
pub struct Items {
    runtime: Arc<tokio::runtime::Runtime>,
    stream: ItemStream,
}

impl Items {
    /// Collect every item into an ItemCollection value.
    pub fn item_collection(self) -> Result<Value> {
        let features = self.collect::<Result<Vec<Value>>>()?;
        Ok(item_collection(features))
    }
}

impl Iterator for Items {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        self.runtime.block_on(self.stream.next())
    }
}

/// Search the API at `url` (blocking): `collections` plus `params`, with
/// default [`ClientOptions`]. See [`search_with`] for a signer or retries.
///
/// ```no_run
/// use stac_client::SearchParams;
/// let items = stac_client::search(
///     "http://127.0.0.1:8082",
///     &["coll-a"],
///     SearchParams::new().with_bbox([-10.0, -10.0, 0.0, -5.0]).with_max_items(50),
/// )?
/// .item_collection()?;
/// # Ok::<(), stac_client::ClientError>(())
/// ```
pub fn search(url: &str, collections: &[&str], params: SearchParams) -> Result<Items> {
    search_with(url, collections, params, ClientOptions::default())
}

/// [`search`] with options.
pub fn search_with(
    url: &str,
    collections: &[&str],
    mut params: SearchParams,
    options: ClientOptions,
) -> Result<Items> {
    if !collections.is_empty() {
        params.collections = collections.iter().map(|s| (*s).to_owned()).collect();
    }
    Client::new(url, options)?.search(params)
}

/// Search the API at `url` (async): the stream of items.
pub async fn search_async(
    url: &str,
    collections: &[&str],
    mut params: SearchParams,
    options: ClientOptions,
) -> Result<ItemStream> {
    if !collections.is_empty() {
        params.collections = collections.iter().map(|s| (*s).to_owned()).collect();
    }
    AsyncClient::new(url, options)?.search(params).await
}
