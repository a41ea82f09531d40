//! One HTTP request: signed, sent, retried.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use stac_signers::Signer;
use url::Url;

use crate::error::{ClientError, Result, safe_url, transport_message};
use crate::retry::{RetryPolicy, retryable_error, retryable_status};

/// An outgoing request before signing.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
}

impl Outgoing {
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }
}

/// What one attempt produced.
pub(crate) enum Attempt {
    /// A response with a non-retryable status (maybe an error status).
    Response(reqwest::Response),
    /// A failure worth retrying; the headers of the response, if any (for `Retry-After`).
    Retry {
        message: String,
        headers: Option<HeaderMap>,
        status: Option<StatusCode>,
    },
}

/// The HTTP client, the signer and the retry policy.
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub signer: Arc<dyn Signer>,
    pub retry: RetryPolicy,
    pub headers: HeaderMap,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("signer", &self.signer.name())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(
        signer: Arc<dyn Signer>,
        retry: RetryPolicy,
        timeout: Option<Duration>,
        connect_timeout: Duration,
        user_agent: &str,
        headers: &[(String, String)],
    ) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(connect_timeout);
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        let http = builder.build().map_err(|e| ClientError::Transport {
            url: String::new(),
            page: None,
            attempts: 0,
            message: transport_message(&e),
        })?;
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                ClientError::InvalidParameter {
                    parameter: "headers",
                    reason: format!("bad header name {k:?}"),
                }
            })?;
            let value = HeaderValue::from_str(v).map_err(|_| ClientError::InvalidParameter {
                parameter: "headers",
                reason: format!("bad value for header {k}"),
            })?;
            map.append(name, value);
        }
        Ok(Self {
            http,
            signer,
            retry,
            headers: map,
        })
    }

    /// Sign and send once.
    pub async fn attempt(&self, out: &Outgoing, extra: &HeaderMap) -> Result<Attempt> {
        let mut builder = http::Request::builder()
            .method(out.method.clone())
            .uri(out.url.as_str());
        if let Some(h) = builder.headers_mut() {
            for (k, v) in self
                .headers
                .iter()
                .chain(out.headers.iter())
                .chain(extra.iter())
            {
                h.insert(k.clone(), v.clone());
            }
        }
        let mut request = builder
            .body(out.body.clone().unwrap_or_default())
            .map_err(|e| ClientError::InvalidUrl {
                url: safe_url(out.url.as_str()),
                reason: e.to_string(),
            })?;
        self.signer
            .sign_request(&mut request)
            .map_err(|source| ClientError::Signer {
                url: safe_url(out.url.as_str()),
                source: Box::new(source),
            })?;
        let request = reqwest::Request::try_from(request).map_err(|e| ClientError::InvalidUrl {
            url: safe_url(out.url.as_str()),
            reason: transport_message(&e),
        })?;
        match self.http.execute(request).await {
            Ok(resp) if retryable_status(resp.status()) => Ok(Attempt::Retry {
                message: format!("HTTP {}", resp.status().as_u16()),
                status: Some(resp.status()),
                headers: Some(resp.headers().clone()),
            }),
            Ok(resp) => Ok(Attempt::Response(resp)),
            Err(e) if retryable_error(&e) => Ok(Attempt::Retry {
                message: transport_message(&e),
                headers: None,
                status: None,
            }),
            Err(e) => Err(ClientError::Transport {
                url: safe_url(out.url.as_str()),
                page: None,
                attempts: 1,
                message: transport_message(&e),
            }),
        }
    }

    /// GET/POST and read the whole body, retrying transport failures,
    /// retryable statuses and bodies cut short. Error statuses that are not
    /// retried become [`ClientError::Status`].
    pub async fn fetch_bytes(&self, out: &Outgoing, page: Option<u64>) -> Result<Vec<u8>> {
        let mut attempt = 0u32;
        loop {
            let failure = match self.attempt(out, &HeaderMap::new()).await? {
                Attempt::Response(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) if status.is_success() => return Ok(bytes.to_vec()),
                        Ok(bytes) => {
                            return Err(ClientError::Status {
                                url: safe_url(out.url.as_str()),
                                page,
                                status: status.as_u16(),
                                body: body_excerpt(&bytes),
                            });
                        }
                        Err(e) => (transport_message(&e), Some(headers), None),
                    }
                }
                Attempt::Retry {
                    message,
                    headers,
                    status,
                } => (message, headers, status),
            };
            let (message, headers, status) = failure;
            if attempt >= self.retry.max_retries {
                return Err(match status {
                    Some(s) => ClientError::Status {
                        url: safe_url(out.url.as_str()),
                        page,
                        status: s.as_u16(),
                        body: format!("gave up after {} attempt(s)", attempt + 1),
                    },
                    None => ClientError::Transport {
                        url: safe_url(out.url.as_str()),
                        page,
                        attempts: attempt + 1,
                        message,
                    },
                });
            }
            tokio::time::sleep(self.retry.wait(attempt, headers.as_ref())).await;
            attempt += 1;
        }
    }

    /// [`fetch_bytes`](Self::fetch_bytes) parsed as JSON; a parse failure is
    /// a [`ClientError::MalformedResponse`].
    pub async fn fetch_json(&self, out: &Outgoing) -> Result<serde_json::Value> {
        let bytes = self.fetch_bytes(out, None).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::MalformedResponse {
            url: safe_url(out.url.as_str()),
            reason: format!("not JSON: {e}"),
        })
    }
}

/// The start of an error body, for messages (credentials are not expected
/// in error bodies; the text is cut at 300 characters).
fn body_excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
