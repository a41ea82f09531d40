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
    pub(crate) fn get(url: Url) -> Self {
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
    /// A response with a non-retryable status (maybe an error status), and
    /// the credential values that went out with the request (to scrub from
    /// an error body that echoes them).
    Response(reqwest::Response, Secrets),
    /// A failure worth retrying; the headers of the response, if any (for `Retry-After`).
    Retry {
        message: String,
        headers: Option<HeaderMap>,
        status: Option<StatusCode>,
    },
}

/// Redirects followed per request (same-origin ones by reqwest, the others
/// by [`Transport::attempt`]).
const MAX_REDIRECTS: usize = 10;

/// How much of an error body is read for the message.
const ERROR_BODY_BYTES: u64 = 64 << 10;

/// The credential values a request carried: values of credential headers
/// (and the token after `Bearer `), of every caller-given header, and of the
/// URL's query. Server error bodies that echo them get `<redacted>` instead.
#[derive(Default)]
pub(crate) struct Secrets(Vec<String>, Option<stac_signers::Redactor>);

impl Secrets {
    fn of(request: &http::Request<Vec<u8>>, user: &HeaderMap) -> Self {
        let mut values = Vec::new();
        let mut add = |v: &str| {
            // Short values (`1`, `en`) are not credentials and would
            // redact half the message.
            if v.len() >= 6 {
                values.push(v.to_owned());
            }
        };
        for (name, value) in request.headers() {
            let n = name.as_str();
            let credential = value.is_sensitive()
                || user.contains_key(name)
                || matches!(
                    n,
                    "authorization" | "proxy-authorization" | "cookie" | "x-amz-security-token"
                )
                || ["token", "key", "secret", "auth", "signature", "session"]
                    .iter()
                    .any(|w| n.contains(w));
            if let (true, Ok(v)) = (credential, value.to_str()) {
                add(v);
                if let Some((_, rest)) = v.split_once(' ') {
                    add(rest.trim());
                }
                // SigV4: `Credential=AKID/…, SignedHeaders=…, Signature=…`.
                for part in v.split([',', ' ']) {
                    if let Some((_, value)) = part.split_once('=') {
                        add(value);
                    }
                }
            }
        }
        if let Some(query) = request.uri().query() {
            for pair in query.split('&') {
                if let Some((_, v)) = pair.split_once('=') {
                    add(v);
                    if let Ok(decoded) = percent_decode(v) {
                        add(&decoded);
                    }
                }
            }
        }
        // Longest first, so a value containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Self(values, None)
    }

    /// Add every secret `signer` holds.
    fn add_signer(&mut self, signer: &dyn Signer) {
        let r = stac_signers::Redactor::of(signer);
        if !r.is_empty() {
            self.1 = Some(r);
        }
    }

    /// `text` with every credential value replaced by `<redacted>`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = match &self.1 {
            Some(r) => r.redact(text).into_owned(),
            None => text.to_owned(),
        };
        for v in &self.0 {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "<redacted>");
            }
        }
        out
    }
}

fn percent_decode(v: &str) -> std::result::Result<String, ()> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| ())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// The HTTP client, the signer and the retry policy.
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub signer: Arc<dyn Signer>,
    pub retry: RetryPolicy,
    /// Caller-given headers, sent only to [`home`](Self::home).
    pub headers: HeaderMap,
    /// The origin the caller chose (a STAC API's root), signed whatever
    /// the signer's scope; `None` (downloads): no origin is the caller's,
    /// every request is signed only where [`Signer::allows_url`] allows it.
    pub home: Option<url::Origin>,
    /// Largest body [`fetch_bytes`](Self::fetch_bytes) reads.
    pub max_body: u64,
    /// Overall deadline of one [`fetch_bytes`](Self::fetch_bytes), retries included.
    pub deadline: Option<Duration>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("signer", &self.signer.name())
            .field("retry", &self.retry)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// Timeouts and limits of a [`Transport`].
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Whole request (connect + body).
    pub timeout: Option<Duration>,
    /// Connect.
    pub connect_timeout: Duration,
    /// Longest silence while reading a body.
    pub read_timeout: Option<Duration>,
    /// Largest body read by `fetch_bytes`.
    pub max_body: u64,
}

impl Transport {
    pub(crate) fn new(
        signer: Arc<dyn Signer>,
        retry: RetryPolicy,
        limits: &Limits,
        user_agent: &str,
        headers: &[(String, String)],
        home: Option<&Url>,
    ) -> Result<Self> {
        // Same-origin redirects are followed here; a redirect to another
        // origin stops, and `attempt` follows it without the caller's
        // headers and signs it only when the signer allows that host
        // (reqwest would forward every header but `Authorization`/`Cookie`).
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let cross = attempt
                .previous()
                .last()
                .is_some_and(|prev| prev.origin() != attempt.url().origin());
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if cross {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(policy)
            .connect_timeout(limits.connect_timeout);
        if let Some(t) = limits.timeout {
            builder = builder.timeout(t);
        }
        if let Some(t) = limits.read_timeout {
            builder = builder.read_timeout(t);
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
            let mut value =
                HeaderValue::from_str(v).map_err(|_| ClientError::InvalidParameter {
                    parameter: "headers",
                    reason: format!("bad value for header {k}"),
                })?;
            value.set_sensitive(true);
            map.append(name, value);
        }
        Ok(Self {
            http,
            signer,
            retry,
            headers: map,
            home: home.map(Url::origin),
            max_body: limits.max_body,
            deadline: None,
        })
    }

    /// Whether `url` is on the origin the caller chose (always, for a
    /// transport without one: caller headers are empty there).
    pub(crate) fn is_home(&self, url: &Url) -> bool {
        self.home.as_ref().is_none_or(|h| *h == url.origin())
    }

    /// Build and sign one request. `redirected`: the URL comes from a
    /// redirect to another origin, so the signer applies only when it
    /// allows that host.
    fn build(
        &self,
        out: &Outgoing,
        extra: &HeaderMap,
        redirected: bool,
    ) -> Result<(reqwest::Request, Secrets)> {
        let mut builder = http::Request::builder()
            .method(out.method.clone())
            .uri(out.url.as_str());
        let user = if self.is_home(&out.url) {
            Some(&self.headers)
        } else {
            None
        };
        if let Some(h) = builder.headers_mut() {
            for (k, v) in user
                .into_iter()
                .flatten()
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
        // The caller's own origin (a STAC API root, not reached through a
        // redirect) is signed; any other origin (a link or redirect a
        // server chose, an asset href an item names) only when the signer
        // is scoped to it.
        let home = !redirected && self.home.as_ref().is_some_and(|h| *h == out.url.origin());
        if home || self.signer.allows_url(out.url.as_str()) {
            self.signer
                .sign_request(&mut request)
                .map_err(|source| ClientError::Signer {
                    url: safe_url(out.url.as_str()),
                    source: Box::new(source),
                })?;
        }
        let mut secrets = Secrets::of(&request, &self.headers);
        // By value: every secret the signer holds (a token endpoint's
        // password, a subscription key), whether or not this request carried it.
        secrets.add_signer(self.signer.as_ref());
        let request = reqwest::Request::try_from(request).map_err(|e| ClientError::InvalidUrl {
            url: safe_url(out.url.as_str()),
            reason: transport_message(&e),
        })?;
        Ok((request, secrets))
    }

    /// Sign and send once (following redirects).
    pub(crate) async fn attempt(&self, out: &Outgoing, extra: &HeaderMap) -> Result<Attempt> {
        let mut current = out.clone();
        let mut redirected = false;
        for _ in 0..=MAX_REDIRECTS {
            let (request, secrets) = self.build(&current, extra, redirected)?;
            let resp = match self.http.execute(request).await {
                Ok(resp) => resp,
                Err(e) if retryable_error(&e) => {
                    return Ok(Attempt::Retry {
                        message: transport_message(&e),
                        headers: None,
                        status: None,
                    });
                }
                Err(e) => {
                    return Err(ClientError::Transport {
                        url: safe_url(out.url.as_str()),
                        page: None,
                        attempts: 1,
                        message: transport_message(&e),
                    });
                }
            };
            if let Some(next) = cross_origin_redirect(&resp, &current) {
                current = next;
                redirected = true;
                continue;
            }
            if retryable_status(resp.status()) {
                return Ok(Attempt::Retry {
                    message: format!("HTTP {}", resp.status().as_u16()),
                    status: Some(resp.status()),
                    headers: Some(resp.headers().clone()),
                });
            }
            return Ok(Attempt::Response(resp, secrets));
        }
        Err(ClientError::Transport {
            url: safe_url(out.url.as_str()),
            page: None,
            attempts: 1,
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// GET/POST and read the whole body (at most
    /// [`max_body`](Self::max_body) bytes), retrying transport failures,
    /// retryable statuses and bodies cut short. Error statuses that are not
    /// retried become [`ClientError::Status`]. Returns the body and its
    /// `Content-Type`.
    pub(crate) async fn fetch_bytes(
        &self,
        out: &Outgoing,
        page: Option<u64>,
    ) -> Result<(Vec<u8>, Option<String>)> {
        match self.deadline {
            Some(limit) => tokio::time::timeout(limit, self.fetch_bytes_once(out, page))
                .await
                .map_err(|_| ClientError::TimedOut {
                    item: None,
                    asset: None,
                    url: safe_url(out.url.as_str()),
                    page,
                    limit,
                })?,
            None => self.fetch_bytes_once(out, page).await,
        }
    }

    async fn fetch_bytes_once(
        &self,
        out: &Outgoing,
        page: Option<u64>,
    ) -> Result<(Vec<u8>, Option<String>)> {
        let mut attempt = 0u32;
        loop {
            let failure = match self.attempt(out, &HeaderMap::new()).await? {
                Attempt::Response(resp, secrets) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let content_type = headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    if !status.is_success() {
                        let bytes = read_capped(resp, ERROR_BODY_BYTES).await.0;
                        return Err(ClientError::Status {
                            url: safe_url(out.url.as_str()),
                            page,
                            status: status.as_u16(),
                            body: body_excerpt(&bytes, content_type.as_deref(), &secrets),
                        });
                    }
                    let too_large = || ClientError::TooLarge {
                        url: safe_url(out.url.as_str()),
                        page,
                        limit: self.max_body,
                    };
                    if resp.content_length().is_some_and(|n| n > self.max_body) {
                        return Err(too_large());
                    }
                    match read_capped(resp, self.max_body).await {
                        (bytes, Ok(true)) => return Ok((bytes, content_type)),
                        (_, Ok(false)) => return Err(too_large()),
                        (_, Err(e)) => (transport_message(&e), Some(headers), None),
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
    /// a [`ClientError::MalformedResponse`] naming the `Content-Type`.
    pub(crate) async fn fetch_json(&self, out: &Outgoing) -> Result<serde_json::Value> {
        let (bytes, content_type) = self.fetch_bytes(out, None).await?;
        // Parsed within the body limit: tiny JSON values take up to 36 times
        // their text in memory.
        stac_meta::budget::from_slice_bounded(&bytes, self.max_body).map_err(|e| {
            ClientError::MalformedResponse {
                url: safe_url(out.url.as_str()),
                reason: match e {
                    stac_meta::budget::JsonBudgetError::Json(e) => format!(
                        "not JSON{}: {e}",
                        content_note(content_type.as_deref(), &bytes)
                    ),
                    other => format!("{other} (ClientOptions::max_page_bytes)"),
                },
            }
        })
    }
}

/// The request to send after a redirect to another origin (which the
/// redirect policy left to us), or `None` when `resp` is not one.
///
/// 303, and 301/302 after a POST, become a GET without body (as browsers
/// and reqwest do); 307/308 keep method and body. Only `Accept` and
/// `Content-Type` travel (link headers were meant for the first origin).
fn cross_origin_redirect(resp: &reqwest::Response, current: &Outgoing) -> Option<Outgoing> {
    let status = resp.status();
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let next = resp.url().join(location).ok()?;
    if next.origin() == resp.url().origin() || !matches!(next.scheme(), "http" | "https") {
        return None;
    }
    let keep_method = matches!(status.as_u16(), 307 | 308)
        || (current.method == Method::GET || current.method == Method::HEAD);
    let (method, body) = if keep_method {
        (current.method.clone(), current.body.clone())
    } else {
        (Method::GET, None)
    };
    let mut headers = HeaderMap::new();
    for name in [reqwest::header::ACCEPT, reqwest::header::CONTENT_TYPE] {
        if name == reqwest::header::CONTENT_TYPE && body.is_none() {
            continue;
        }
        if let Some(v) = current.headers.get(&name) {
            headers.insert(name, v.clone());
        }
    }
    Some(Outgoing {
        method,
        url: next,
        headers,
        body,
    })
}

/// Read a body up to `limit` bytes: the bytes, and `Ok(true)` when the body
/// ended within the limit, `Ok(false)` when it is longer (reading stopped
/// there), or the transport error that cut it.
async fn read_capped(
    mut resp: reqwest::Response,
    limit: u64,
) -> (Vec<u8>, std::result::Result<bool, reqwest::Error>) {
    // Sized once when the length is announced (no doubling past the limit).
    let announced = resp.content_length().map_or(0, |n| n.min(limit));
    let mut out = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(out.len());
                if chunk.len() > room {
                    out.extend_from_slice(&chunk[..room]);
                    return (out, Ok(false));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return (out, Ok(true)),
            Err(e) => return (out, Err(e)),
        }
    }
}

/// `" (Content-Type: text/html, an HTML page titled \"…\")"` for parse
/// errors, so a login page or a proxy's error page is recognisable.
pub(crate) fn content_note(content_type: Option<&str>, bytes: &[u8]) -> String {
    let mut note = String::new();
    if let Some(ct) = content_type {
        note.push_str(&format!(" (Content-Type: {}", cut(ct.trim(), 80)));
    }
    if looks_html(content_type, bytes) {
        note.push_str(if note.is_empty() { " (" } else { ", " });
        match html_title(&String::from_utf8_lossy(
            &bytes[..bytes.len().min(64 << 10)],
        )) {
            Some(t) => note.push_str(&format!("an HTML page titled {:?}", cut(&t, 100))),
            None => note.push_str("an HTML page"),
        }
    }
    if !note.is_empty() {
        note.push(')');
    }
    note
}

fn looks_html(content_type: Option<&str>, bytes: &[u8]) -> bool {
    content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html"))
        || bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .is_some_and(|i| bytes[i] == b'<')
}

/// The text of `<title>…</title>`, whitespace collapsed.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = collapse(&text[open_end..end]);
    (!title.is_empty()).then_some(title)
}

/// Tags removed, whitespace collapsed.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    collapse(&out)
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `n` characters, with `…` when cut.
fn cut(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The start of an error body, for messages: an HTML page becomes its
/// title (or its text without tags), every credential value the request
/// carried is redacted, and the text is cut at 300 characters.
fn body_excerpt(bytes: &[u8], content_type: Option<&str>, secrets: &Secrets) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = if looks_html(content_type, bytes) {
        match html_title(&text) {
            Some(title) => format!("HTML page {title:?}"),
            None => format!("HTML page: {}", cut(&strip_tags(&text), 300)),
        }
    } else {
        collapse(&text)
    };
    cut(&secrets.scrub(&text), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_titles_and_scrubbed() {
        let mut html = String::from("<html><head><title>502  Bad\nGateway</title></head><body>");
        html.push_str(&"<p>filler</p>".repeat(100_000));
        let e = body_excerpt(html.as_bytes(), Some("text/html"), &Secrets::default());
        assert_eq!(e, "HTML page \"502 Bad Gateway\"");
        let e = body_excerpt(b"<h1>Nope</h1><p>go away</p>", None, &Secrets::default());
        assert_eq!(e, "HTML page: Nope go away");
        let request = http::Request::get("http://h/a?sig=SAS%2Bsecret&x=1")
            .header("authorization", "Bearer tok-SECRET")
            .body(Vec::new())
            .unwrap();
        let secrets = Secrets::of(&request, &HeaderMap::new());
        let e = body_excerpt(
            b"bad token tok-SECRET for sig=SAS+secret and SAS%2Bsecret",
            Some("text/plain"),
            &secrets,
        );
        assert!(!e.contains("SECRET") && !e.contains("secret"), "{e}");
        assert_eq!(cut(&"x".repeat(400), 300).chars().count(), 301);
    }

    #[test]
    fn content_notes_name_type_and_title() {
        assert_eq!(
            content_note(
                Some("text/html; charset=utf-8"),
                b"<html><title>Sign in</title>"
            ),
            " (Content-Type: text/html; charset=utf-8, an HTML page titled \"Sign in\")"
        );
        assert_eq!(content_note(None, b"{"), "");
        assert_eq!(
            content_note(Some("application/xml"), b"nope"),
            " (Content-Type: application/xml)"
        );
    }
}
