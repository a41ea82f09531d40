//! [`S3Store`] (feature `s3`): a Zarr store under an `s3://bucket/prefix`
//! URL, on AWS S3 or any S3-compatible server (path-style URLs on an
//! endpoint), every request signed by the project's [`Signer`] (SigV4 for
//! AWS; the signer applies its credential only to the origins it is
//! for). A PUT is atomic on S3, so every object is whole or absent, as the
//! writer's completion rules need.
//!
//! Every request has an overall deadline; errors name the redacted URL and
//! the status (never a response body).

use std::sync::Arc;
use std::time::Duration;

use stac_signers::Signer;

use super::store::Store;
use crate::error::{CubeError, Result};

/// A Zarr store on S3 (see the module docs).
#[derive(Clone)]
pub struct S3Store {
    endpoint: String,
    bucket: String,
    prefix: String,
    signer: Arc<dyn Signer>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("signer", &self.signer.name())
            .finish_non_exhaustive()
    }
}

/// Unreserved characters stay, everything else is percent-encoded (one
/// path segment; S3's single encoding).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The texts of every `<tag>...</tag>` in `xml`.
fn tags<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

impl S3Store {
    /// A store at `url` (`s3://bucket/prefix`), reached at `endpoint`
    /// (`https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:8333`),
    /// each request signed by `signer`, each with an overall `timeout`.
    pub fn new(
        url: &str,
        endpoint: &str,
        signer: Arc<dyn Signer>,
        timeout: Duration,
    ) -> Result<Self> {
        let bad = |m: &str| CubeError::Store {
            store: stac_meta::redact(url).into_owned(),
            key: String::new(),
            message: m.to_owned(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() || prefix.is_empty() {
            return Err(bad(
                "give a bucket and a prefix: s3://bucket/path/cube.zarr",
            ));
        }
        if prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(bad("the prefix has an empty, '.' or '..' part"));
        }
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(bad("the S3 endpoint must be an http(s):// URL"));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            signer,
            agent,
        })
    }

    fn object_url(&self, key: &str) -> String {
        let path: Vec<String> = self
            .prefix
            .split('/')
            .chain(key.split('/'))
            .map(encode)
            .collect();
        format!(
            "{}/{}/{}",
            self.endpoint,
            encode(&self.bucket),
            path.join("/")
        )
    }

    fn err(&self, key: &str, message: impl std::fmt::Display) -> CubeError {
        CubeError::Store {
            store: self.describe(),
            key: key.to_owned(),
            message: stac_meta::redact(&message.to_string()).into_owned(),
        }
    }

    /// Send a signed request; the status and body.
    fn send(&self, key: &str, req: http::Request<Vec<u8>>) -> Result<(u16, Vec<u8>)> {
        let mut req = req;
        self.signer
            .sign_request(&mut req)
            .map_err(|e| self.err(key, format!("signing: {e}")))?;
        let (parts, body) = req.into_parts();
        let req = http::Request::from_parts(parts, body);
        let resp = self
            .agent
            .run(req)
            .map_err(|e| self.err(key, format!("request failed: {e}")))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| self.err(key, format!("reading the response: {e}")))?;
        Ok((status, body))
    }

    fn failed(&self, key: &str, what: &str, status: u16, body: &[u8]) -> CubeError {
        // Only S3's short error code, never the body.
        let text = String::from_utf8_lossy(body);
        let code = tags(&text, "Code")
            .first()
            .map(|c| c.to_string())
            .unwrap_or_default();
        self.err(key, format!("{what}: HTTP {status} {code}"))
    }
}

impl Store for S3Store {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let req = http::Request::put(self.object_url(key))
            .header("content-length", bytes.len())
            .body(bytes.to_vec())
            .map_err(|e| self.err(key, e))?;
        match self.send(key, req)? {
            (200..=299, _) => Ok(()),
            (s, b) => Err(self.failed(key, "PUT", s, &b)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let req = http::Request::get(self.object_url(key))
            .body(Vec::new())
            .map_err(|e| self.err(key, e))?;
        match self.send(key, req)? {
            (200, b) => Ok(Some(b)),
            (404, _) => Ok(None),
            (s, b) => Err(self.failed(key, "GET", s, &b)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        let req = http::Request::delete(self.object_url(key))
            .body(Vec::new())
            .map_err(|e| self.err(key, e))?;
        match self.send(key, req)? {
            (200..=299 | 404, _) => Ok(()),
            (s, b) => Err(self.failed(key, "DELETE", s, &b)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let full = format!("{}/{prefix}", self.prefix);
        let strip = format!("{}/", self.prefix);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/{}?list-type=2&prefix={}",
                self.endpoint,
                encode(&self.bucket),
                encode(&full)
            );
            if let Some(t) = &token {
                url.push_str(&format!("&continuation-token={}", encode(t)));
            }
            let req = http::Request::get(url)
                .body(Vec::new())
                .map_err(|e| self.err(prefix, e))?;
            let (status, body) = self.send(prefix, req)?;
            if status != 200 {
                return Err(self.failed(prefix, "LIST", status, &body));
            }
            let text = String::from_utf8_lossy(&body);
            for k in tags(&text, "Key") {
                let k = xml_unescape(k);
                if let Some(rel) = k.strip_prefix(&strip) {
                    out.push(rel.to_owned());
                }
            }
            let truncated = tags(&text, "IsTruncated").first() == Some(&"true");
            token = tags(&text, "NextContinuationToken")
                .first()
                .map(|t| xml_unescape(t));
            if !truncated || token.is_none() {
                break;
            }
        }
        out.sort();
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_path_style_and_encoded() {
        let s = S3Store::new(
            "s3://bkt/a/cube.zarr",
            "http://127.0.0.1:9000/",
            Arc::new(stac_signers::AnonymousSigner),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            s.object_url("visual.red/0.1.2"),
            "http://127.0.0.1:9000/bkt/a/cube.zarr/visual.red/0.1.2"
        );
        assert_eq!(
            s.object_url("a b/c+d"),
            "http://127.0.0.1:9000/bkt/a/cube.zarr/a%20b/c%2Bd"
        );
        for bad in ["s3://bkt", "s3://bkt/", "http://x/y", "s3://bkt/a/../b"] {
            assert!(
                S3Store::new(
                    bad,
                    "http://h",
                    Arc::new(stac_signers::AnonymousSigner),
                    Duration::from_secs(1)
                )
                .is_err(),
                "{bad}"
            );
        }
        let xml = "<ListBucketResult><Contents><Key>p/a&amp;b</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(tags(xml, "Key"), ["p/a&amp;b"]);
        assert_eq!(xml_unescape(tags(xml, "Key")[0]), "p/a&b");
    }
}
