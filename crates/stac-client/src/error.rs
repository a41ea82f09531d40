//! The crate's error type.

use std::path::PathBuf;

use stac_signers::SignerError;

/// Everything that can go wrong while searching a STAC API or downloading
/// assets.
///
/// URLs in every variant are redacted with [`stac_meta::redact`] (query
/// strings and user info removed) before they are stored, so no token,
/// signature or password reaches `Display` or `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A URL given by the caller (or found in a link) could not be parsed.
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The (redacted) URL.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A search parameter is malformed (checked before any request).
    #[error("invalid search parameter `{parameter}`: {reason}")]
    InvalidParameter {
        /// The parameter's name (`bbox`, `datetime`, ...).
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The API does not advertise the conformance class a parameter needs
    /// (checked before any search request).
    #[error(
        "{url} does not support `{parameter}`: the API does not advertise the {class} conformance class"
    )]
    Unsupported {
        /// The (redacted) API root.
        url: String,
        /// The parameter or operation (`filter`, `sortby`, `search`, ...).
        parameter: &'static str,
        /// The conformance class it needs.
        class: &'static str,
    },
    /// The request could not be completed (connection refused, timeout,
    /// connection dropped mid-body), after all retries.
    #[error("request to {url}{} failed after {attempts} attempt(s): {message}", page_note(*.page))]
    Transport {
        /// The (redacted) URL.
        url: String,
        /// The search page number (1-based), when paging.
        page: Option<u64>,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error (without its URL).
        message: String,
    },
    /// A deadline was hit: a download's overall deadline per asset
    /// ([`DownloadOptions::timeout`](crate::DownloadOptions::timeout)), or
    /// the deadline of one API response
    /// ([`ClientOptions::deadline`](crate::ClientOptions::deadline)).
    #[error(
        "{}{url}{}: no complete answer within the deadline of {} s",
        item_note(item.as_deref(), asset.as_deref()),
        page_note(*.page),
        limit.as_secs_f64()
    )]
    TimedOut {
        /// The item id (downloads).
        item: Option<String>,
        /// The asset key (downloads).
        asset: Option<String>,
        /// The (redacted) URL.
        url: String,
        /// The search page number (1-based), when paging.
        page: Option<u64>,
        /// The deadline.
        limit: std::time::Duration,
    },
    /// The server answered with an error status (after retries for 429/5xx).
    #[error("{url}{} answered HTTP {status}: {body}", page_note(*.page))]
    Status {
        /// The (redacted) URL.
        url: String,
        /// The search page number (1-based), when paging.
        page: Option<u64>,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (at most 300 characters).
        body: String,
    },
    /// A search page is not a FeatureCollection (bad JSON, no `features`
    /// array, a feature that is not an object, a bad link).
    #[error("malformed page {page} from {url}: {reason}")]
    MalformedPage {
        /// The (redacted) URL of the page.
        url: String,
        /// The page number (1-based).
        page: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A non-search response (landing page, conformance, collections) is not
    /// the JSON expected.
    #[error("malformed response from {url}: {reason}")]
    MalformedResponse {
        /// The (redacted) URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A response body is larger than
    /// [`ClientOptions::max_page_bytes`](crate::ClientOptions::max_page_bytes);
    /// reading stopped at the limit (or before, when `Content-Length`
    /// announced more).
    #[error(
        "{url}{} sent more than {limit} bytes (the limit set by ClientOptions::max_page_bytes)",
        page_note(*.page)
    )]
    TooLarge {
        /// The (redacted) URL.
        url: String,
        /// The search page number (1-based), when paging.
        page: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// A feature of a search page would take more memory once parsed than
    /// a quarter of
    /// [`ClientOptions::max_page_bytes`](crate::ClientOptions::max_page_bytes)
    /// (measured before it is built, before any item of the page is handed
    /// out): tiny JSON values take up to 36 times their text in memory.
    #[error(
        "{url} page {page}: feature {index} would take more than {limit} bytes in memory once parsed (a quarter of ClientOptions::max_page_bytes)"
    )]
    ItemTooLarge {
        /// The (redacted) URL of the page.
        url: String,
        /// The page number (1-based).
        page: u64,
        /// The feature's position in the page (0-based).
        index: usize,
        /// The limit in bytes (a quarter of `max_page_bytes`).
        limit: u64,
    },
    /// A link chosen by the server (a `next` link, the landing page's
    /// `search` link) leads to another origin than the API root's, and the
    /// signer does not allow that host
    /// ([`Signer::allows_url`](stac_signers::Signer::allows_url)): it is not
    /// followed, so no credential is sent there.
    #[error(
        "not following the {rel} link{} to {link}: it leaves the API's origin ({api}) and the          signer `{signer}` does not allow that host (give the signer a host list that includes it)",
        page_note(*.page)
    )]
    ForeignLink {
        /// The link relation (`next`, `search`).
        rel: &'static str,
        /// The (redacted) link.
        link: String,
        /// The (redacted) API root.
        api: String,
        /// The page whose link it is, when paging.
        page: Option<u64>,
        /// The signer's name.
        signer: String,
    },
    /// A `next` link points at a page that was already requested.
    #[error("pagination loop: the next link of page {page} ({link}) was already followed")]
    PaginationLoop {
        /// The (redacted) repeated link.
        link: String,
        /// The page whose next link repeats.
        page: u64,
    },
    /// The signer failed for a request or an href.
    #[error("signing {url}: {source}")]
    Signer {
        /// The (redacted) URL or href.
        url: String,
        /// The signer's error.
        #[source]
        source: Box<SignerError>,
    },
    /// An asset could not be downloaded or written.
    #[error("{}: {reason}", at.unless_named_in(reason))]
    Download {
        /// The item, asset and redacted href.
        at: stac_meta::Location,
        /// What went wrong.
        reason: String,
    },
    /// A downloaded asset does not match its `file:checksum`.
    #[error("{at}: checksum mismatch (expected {expected}, got {actual})")]
    ChecksumMismatch {
        /// The item, asset and redacted href.
        at: stac_meta::Location,
        /// The multihash in the item.
        expected: String,
        /// The multihash of the downloaded bytes.
        actual: String,
    },
    /// A downloaded asset does not match its `file:size`.
    #[error("{at}: size mismatch (expected {expected} bytes, got {actual})")]
    SizeMismatch {
        /// The item, asset and redacted href.
        at: stac_meta::Location,
        /// `file:size` in the item.
        expected: u64,
        /// Bytes downloaded.
        actual: u64,
    },
    /// The target file exists and the overwrite policy is
    /// [`Overwrite::Error`](crate::Overwrite::Error).
    #[error("{} already exists (overwrite policy: error)", .path.display())]
    FileExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A local file operation failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The blocking API could not start its tokio runtime.
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(String),
}

/// `Result` with [`ClientError`].
pub type Result<T> = std::result::Result<T, ClientError>;

fn item_note(item: Option<&str>, asset: Option<&str>) -> String {
    match (item, asset) {
        (Some(i), Some(a)) => format!("{}: ", stac_meta::Location::asset(i, a)),
        (Some(i), None) => format!("{}: ", stac_meta::Location::item(i)),
        _ => String::new(),
    }
}

fn page_note(page: Option<u64>) -> String {
    page.map(|p| format!(" (page {p})")).unwrap_or_default()
}

/// A URL made safe for messages.
pub(crate) fn safe_url(url: &str) -> String {
    stac_meta::redact(url).into_owned()
}

/// A transport error's text without its URL, with its causes.
pub(crate) fn transport_message(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "connection lost while reading the body".to_owned()
    } else {
        String::new()
    };
    let mut source = error.source();
    while let Some(s) = source {
        let part = s.to_string();
        // Causes never carry the URL; skip repeats.
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        source = s.source();
    }
    if text.is_empty() {
        text = "request failed".to_owned();
    }
    text
}

/// Parameter validation ([`SearchParams::validate`](crate::SearchParams::validate))
/// reports [`stac_meta::MetaError::InvalidParameter`]; it becomes
/// [`ClientError::InvalidParameter`].
impl From<stac_meta::MetaError> for ClientError {
    fn from(e: stac_meta::MetaError) -> Self {
        match e {
            stac_meta::MetaError::InvalidParameter { parameter, reason } => {
                Self::InvalidParameter { parameter, reason }
            }
            other => Self::InvalidParameter {
                parameter: "search",
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_page_and_hide_queries() {
        let e = ClientError::Status {
            url: safe_url("https://h/search?token=SECRET"),
            page: Some(3),
            status: 503,
            body: "busy".into(),
        };
        let text = e.to_string();
        assert_eq!(
            text,
            "https://h/search?<redacted> (page 3) answered HTTP 503: busy"
        );
        assert!(!format!("{e:?}").contains("SECRET"));
    }
}
