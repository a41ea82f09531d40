//! The stream of items of a search: pages fetched lazily, `next` links
//! followed, stopped at `max_items`, an empty page or a repeated link.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use serde_json::{Value, json};

use crate::client::{AsyncClient, Inner};
use crate::error::{ClientError, Result, safe_url};
use crate::pages::{Page, PageRequest};

/// The items of a search, as an async [`Stream`] of `Result<Value>`.
///
/// The first page is requested on the first poll; each following page is
/// requested (in a tokio task) as soon as the previous one arrives, so the
/// server works while the consumer reads, and never beyond `max_items`. Failed page
/// requests are retried as a whole (see [`RetryPolicy`](crate::RetryPolicy)),
/// so no item is lost or repeated when a retry succeeds. After an error the
/// stream ends.
pub struct ItemStream {
    inner: BoxStream<'static, Result<Value>>,
}

impl std::fmt::Debug for ItemStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemStream").finish_non_exhaustive()
    }
}

struct Crawl {
    client: Arc<Inner>,
    original: PageRequest,
    next: Option<PageRequest>,
    /// The page being handed out (its items parsed one at a time).
    current: Option<Page>,
    pending_error: Option<ClientError>,
    page: u64,
    yielded: usize,
    max_items: Option<usize>,
    seen: HashSet<String>,
    done: bool,
    /// The next page, already requested while the current one is consumed.
    inflight: Option<tokio::task::JoinHandle<Result<Fetched>>>,
}

type Fetched = (Page, Option<PageRequest>);

impl Drop for Crawl {
    fn drop(&mut self) {
        if let Some(h) = self.inflight.take() {
            h.abort();
        }
    }
}

impl Crawl {
    async fn next_item(&mut self) -> Option<Result<Value>> {
        loop {
            if self.done || self.max_items.is_some_and(|m| self.yielded >= m) {
                return None;
            }
            if let Some(mut item) = self.current.as_mut().and_then(Iterator::next) {
                self.yielded += 1;
                if self.client.options.sign_items {
                    if let Err(source) = self.client.options.signer.sign_item(&mut item) {
                        self.done = true;
                        return Some(Err(ClientError::Signer {
                            url: stac_meta::Location::item(stac_meta::item_id(&item)).to_string(),
                            source: Box::new(source),
                        }));
                    }
                }
                return Some(Ok(item));
            }
            if let Some(e) = self.pending_error.take() {
                self.done = true;
                return Some(Err(e));
            }
            let result = match self.inflight.take() {
                Some(handle) => handle
                    .await
                    .unwrap_or_else(|e| Err(ClientError::Runtime(format!("page task: {e}")))),
                None => {
                    let request = self.next.take()?;
                    self.page += 1;
                    self.seen.insert(request.key());
                    AsyncClient::fetch_page(&self.client, &request, &self.original, self.page).await
                }
            };
            match result {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok((items, next)) => {
                    if items.is_empty() {
                        self.done = true;
                        return None;
                    }
                    let buffered = items.len();
                    self.current = Some(items);
                    if let Some(n) = next {
                        if let Err(e) = self.client.check_link("next", &n.url, Some(self.page)) {
                            self.pending_error = Some(e);
                        } else if self.seen.contains(&n.key()) {
                            self.pending_error = Some(ClientError::PaginationLoop {
                                link: safe_url(n.url.as_str()),
                                page: self.page,
                            });
                        } else if self.max_items.is_none_or(|m| self.yielded + buffered < m) {
                            self.prefetch(n);
                        }
                    }
                }
            }
        }
    }

    /// Request the next page now, in a task, while the buffered items are
    /// consumed.
    fn prefetch(&mut self, request: PageRequest) {
        self.page += 1;
        self.seen.insert(request.key());
        let (client, original, page) = (self.client.clone(), self.original.clone(), self.page);
        self.inflight = Some(tokio::spawn(async move {
            AsyncClient::fetch_page(&client, &request, &original, page).await
        }));
    }
}

impl ItemStream {
    pub(crate) fn new(client: Arc<Inner>, first: PageRequest, max_items: Option<usize>) -> Self {
        let crawl = Crawl {
            client,
            original: first.clone(),
            next: Some(first),
            current: None,
            pending_error: None,
            page: 0,
            yielded: 0,
            max_items,
            seen: HashSet::new(),
            done: false,
            inflight: None,
        };
        let inner =
            futures::stream::unfold(
                crawl,
                |mut c| async move { c.next_item().await.map(|r| (r, c)) },
            );
        Self {
            inner: Box::pin(inner),
        }
    }

    /// Collect every item into an ItemCollection value
    /// (`{"type": "FeatureCollection", "features": [...]}`); the first error
    /// stops the collection.
    pub async fn item_collection(mut self) -> Result<Value> {
        use futures::StreamExt;
        let mut features = Vec::new();
        while let Some(item) = self.next().await {
            features.push(item?);
        }
        Ok(item_collection(features))
    }
}

/// An ItemCollection value around `features`.
pub(crate) fn item_collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

impl Stream for ItemStream {
    type Item = Result<Value>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
