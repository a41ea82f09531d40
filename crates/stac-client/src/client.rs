//! The async API client: landing page, conformance, collections, queryables,
//! search.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::conformance::{Conformance, ConformanceClass};
use crate::error::{ClientError, Result, safe_url};
use crate::options::{ClientOptions, SearchMethod};
use crate::pages::{Page, PageRequest, item_budget, next_request, read_page};
use crate::params::{RequiredClasses, SearchParams};
use crate::search::ItemStream;
use crate::transport::{Limits, Outgoing, Transport, content_note};

/// What the landing page tells us.
#[derive(Debug, Clone)]
pub(crate) struct Landing {
    pub page: Value,
    pub conformance: Conformance,
    pub search_url: Url,
    pub search_methods: Vec<Method>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub root: Url,
    pub transport: Transport,
    pub options: ClientOptions,
    landing: OnceCell<Landing>,
}

/// A STAC API client (async, tokio).
///
/// Cheap to clone (shared state). Nothing is requested until a method is
/// called; the landing page and conformance are fetched once and cached.
///
/// ```no_run
/// # async fn demo() -> stac_client::Result<()> {
/// use futures::TryStreamExt;
/// use stac_client::{AsyncClient, ClientOptions, SearchParams};
/// let client = AsyncClient::new("http://127.0.0.1:8082", ClientOptions::default())?;
/// let params = SearchParams::new().with_collections(["coll-a"]).with_limit(100);
/// let items: Vec<serde_json::Value> = client.search(params).await?.try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
}

impl AsyncClient {
    /// A client for the API whose landing page is `url`.
    pub fn new(url: &str, options: ClientOptions) -> Result<Self> {
        let mut root = Url::parse(url).map_err(|e| ClientError::InvalidUrl {
            url: safe_url(url),
            reason: e.to_string(),
        })?;
        if !matches!(root.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl {
                url: safe_url(url),
                reason: "only http and https APIs are supported".into(),
            });
        }
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        let limits = Limits {
            timeout: options.timeout,
            connect_timeout: options.connect_timeout,
            read_timeout: options.read_timeout,
            max_body: options.max_page_bytes,
        };
        let mut transport = Transport::new(
            options.signer.clone(),
            options.retry.clone(),
            &limits,
            &options.user_agent,
            &options.headers,
            Some(&root),
        )?;
        transport.deadline = options.deadline;
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                transport,
                options,
                landing: OnceCell::new(),
            }),
        })
    }

    /// The API root (always ending in `/`).
    pub fn root(&self) -> &Url {
        &self.inner.root
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    fn join(&self, path: &str) -> Result<Url> {
        self.inner
            .root
            .join(path)
            .map_err(|e| ClientError::InvalidUrl {
                url: safe_url(path),
                reason: e.to_string(),
            })
    }

    pub(crate) async fn landing(&self) -> Result<&Landing> {
        self.inner
            .landing
            .get_or_try_init(|| async {
                let url = self.inner.root.clone();
                let page = self
                    .inner
                    .transport
                    .fetch_json(&Outgoing::get(url.clone()))
                    .await?;
                if !page.is_object() {
                    return Err(ClientError::MalformedResponse {
                        url: safe_url(url.as_str()),
                        reason: "the landing page is not a JSON object".into(),
                    });
                }
                let conformance = match Conformance::from_json(&page) {
                    Some(c) => c,
                    None => {
                        let url = self.join("conformance")?;
                        let doc = self
                            .inner
                            .transport
                            .fetch_json(&Outgoing::get(url.clone()))
                            .await?;
                        Conformance::from_json(&doc).ok_or_else(|| {
                            ClientError::MalformedResponse {
                                url: safe_url(url.as_str()),
                                reason: "no `conformsTo` array".into(),
                            }
                        })?
                    }
                };
                let mut search_url = None;
                let mut search_methods = Vec::new();
                for link in page
                    .get("links")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if link.get("rel").and_then(Value::as_str) != Some("search") {
                        continue;
                    }
                    let Some(href) = link.get("href").and_then(Value::as_str) else {
                        continue;
                    };
                    let Ok(u) = url.join(href) else { continue };
                    // Only JSON search links (not an OpenSearch description).
                    let ty = link.get("type").and_then(Value::as_str).unwrap_or("");
                    if !(ty.is_empty() || ty.contains("json")) {
                        continue;
                    }
                    search_url.get_or_insert(u);
                    match link.get("method").and_then(Value::as_str) {
                        Some(m) if m.eq_ignore_ascii_case("POST") => {
                            search_methods.push(Method::POST)
                        }
                        _ => search_methods.push(Method::GET),
                    }
                }
                let search_url = match search_url {
                    Some(u) => u,
                    None => self.join("search")?,
                };
                Ok(Landing {
                    page,
                    conformance,
                    search_url,
                    search_methods,
                })
            })
            .await
    }

    /// The landing page (fetched once).
    pub async fn landing_page(&self) -> Result<Value> {
        Ok(self.landing().await?.page.clone())
    }

    /// The conformance classes: the landing page's `conformsTo`, or
    /// `/conformance` when the landing page has none (fetched once).
    pub async fn conformance(&self) -> Result<Conformance> {
        Ok(self.landing().await?.conformance.clone())
    }

    /// All collections (`/collections`, following `next` links).
    pub async fn collections(&self) -> Result<Vec<Value>> {
        let first = PageRequest {
            method: Method::GET,
            url: self.join("collections")?,
            headers: Vec::new(),
            body: None,
        };
        let mut request = Some(first.clone());
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut page = 0;
        while let Some(req) = request.take() {
            page += 1;
            if !seen.insert(req.key()) {
                return Err(ClientError::PaginationLoop {
                    link: safe_url(req.url.as_str()),
                    page: page - 1,
                });
            }
            let doc = self.inner.transport.fetch_json(&req.outgoing()).await?;
            let list = doc
                .get("collections")
                .and_then(Value::as_array)
                .ok_or_else(|| ClientError::MalformedResponse {
                    url: safe_url(req.url.as_str()),
                    reason: "no `collections` array".into(),
                })?;
            if list.is_empty() {
                break;
            }
            out.extend(list.iter().cloned());
            request = next_request(&doc, &req, &first, page)?;
            if let Some(next) = &request {
                self.inner.check_link("next", &next.url, Some(page))?;
            }
        }
        Ok(out)
    }

    /// One collection (`/collections/{id}`); a 404 is a [`ClientError::Status`].
    pub async fn collection(&self, id: &str) -> Result<Value> {
        let mut url = self.join("collections/")?;
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: safe_url(self.inner.root.as_str()),
                reason: "cannot be a base".into(),
            })?
            .pop_if_empty()
            .push(id);
        self.inner.transport.fetch_json(&Outgoing::get(url)).await
    }

    /// The queryables: endpoint-wide with no collections, else those of each
    /// named collection (`/collections/{id}/queryables`) merged. Needs the
    /// filter conformance class.
    pub async fn queryables(&self, collections: &[&str]) -> Result<Value> {
        self.require("queryables", ConformanceClass::Filter).await?;
        if collections.is_empty() {
            let url = self.join("queryables")?;
            return self.inner.transport.fetch_json(&Outgoing::get(url)).await;
        }
        let mut merged: Option<Value> = None;
        for id in collections {
            let mut url = self.join("collections/")?;
            if let Ok(mut segs) = url.path_segments_mut() {
                segs.pop_if_empty().push(id).push("queryables");
            }
            let doc = self.inner.transport.fetch_json(&Outgoing::get(url)).await?;
            match &mut merged {
                None => merged = Some(doc),
                Some(m) => {
                    if let (Some(into), Some(from)) = (
                        m.get_mut("properties").and_then(Value::as_object_mut),
                        doc.get("properties").and_then(Value::as_object),
                    ) {
                        for (k, v) in from {
                            into.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
        }
        Ok(merged.unwrap_or(Value::Null))
    }

    async fn require(&self, parameter: &'static str, class: ConformanceClass) -> Result<()> {
        if self.landing().await?.conformance.conforms_to(class) {
            Ok(())
        } else {
            Err(ClientError::Unsupported {
                url: safe_url(self.inner.root.as_str()),
                parameter,
                class: class.name(),
            })
        }
    }

    /// Search items: validates the parameters, checks conformance (item
    /// search, and filter / sort / fields / query when used) before any
    /// search request, then returns a stream that fetches pages as it is
    /// polled.
    pub async fn search(&self, params: SearchParams) -> Result<ItemStream> {
        params.validate()?;
        self.require("search", ConformanceClass::ItemSearch).await?;
        for (parameter, class) in params.required_classes() {
            self.require(parameter, class).await?;
        }
        let landing = self.landing().await?;
        self.inner.check_link("search", &landing.search_url, None)?;
        // A CQL2-text filter goes out over GET (servers commonly accept only
        // cql2-json in a POST body); everything else prefers POST.
        let text_filter = matches!(params.filter, Some(crate::params::Filter::Text(_)));
        let method = match self.inner.options.method {
            Some(m) => m,
            None if text_filter => SearchMethod::Get,
            None if landing.search_methods.contains(&Method::POST) => SearchMethod::Post,
            None => SearchMethod::Get,
        };
        let mut url = landing.search_url.clone();
        let first = match method {
            SearchMethod::Get => {
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in params.query_pairs() {
                        q.append_pair(&k, &v);
                    }
                }
                if url.query() == Some("") {
                    url.set_query(None);
                }
                PageRequest {
                    method: Method::GET,
                    url,
                    headers: Vec::new(),
                    body: None,
                }
            }
            SearchMethod::Post => PageRequest {
                method: Method::POST,
                url,
                headers: Vec::new(),
                body: Some(params.body()),
            },
        };
        Ok(ItemStream::new(self.inner.clone(), first, params.max_items))
    }

    /// Fetch and check one page (used by the stream).
    pub(crate) async fn fetch_page(
        inner: &Inner,
        request: &PageRequest,
        original: &PageRequest,
        page: u64,
    ) -> Result<(Page, Option<PageRequest>)> {
        let (bytes, content_type) = inner
            .transport
            .fetch_bytes(&request.outgoing(), Some(page))
            .await?;
        // The note is only needed (and only computed) for a body that is
        // not JSON, which cannot be a page: the body moves into the page.
        let note = |bytes: &[u8]| content_note(content_type.as_deref(), bytes);
        let looks_json = matches!(
            bytes.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
        let note = if looks_json { None } else { Some(note(&bytes)) };
        let max = item_budget(inner.options.max_page_bytes);
        let (items, next) =
            read_page(bytes, request, original, page, max).map_err(|e| match e {
                ClientError::MalformedPage { url, page, reason }
                    if reason.starts_with("not JSON") =>
                {
                    ClientError::MalformedPage {
                        url,
                        page,
                        reason: format!(
                            "not JSON{}{}",
                            note.clone().unwrap_or_default(),
                            &reason["not JSON".len()..]
                        ),
                    }
                }
                other => other,
            })?;
        Ok((items, next))
    }
}

impl Inner {
    /// A link the server chose (`search`, `next`) is followed when it stays
    /// on the API root's origin, or when the signer allows its host;
    /// otherwise it is a [`ClientError::ForeignLink`] and nothing is sent.
    pub(crate) fn check_link(&self, rel: &'static str, url: &Url, page: Option<u64>) -> Result<()> {
        if self.transport.is_home(url) || self.options.signer.allows_url(url.as_str()) {
            return Ok(());
        }
        Err(ClientError::ForeignLink {
            rel,
            link: safe_url(url.as_str()),
            api: safe_url(self.root.as_str()),
            page,
            signer: self.options.signer.name().to_owned(),
        })
    }
}
