//! The blocking HTTP client that token minting uses (feature `network`):
//! `ureq` with rustls. Errors are [`SignerError::Http`] / [`SignerError::Token`]
//! carrying the redacted URL, the status and at most the server's short
//! error code, never a response body or a request header. Every message is
//! also redacted by value against the signer's secrets, and an error code
//! that holds (or is part of) a secret is dropped.
//!
//! Deadlines: one overall timeout per request (connect, send, headers and
//! body together), so a server that trickles one byte a second or stalls
//! after its headers ends the request at the timeout.

use std::time::Duration;

use serde_json::Value;

use crate::{Redactor, SignerError};

/// A small blocking JSON client for one signer.
#[derive(Clone)]
pub(crate) struct HttpClient {
    agent: ureq::Agent,
    signer: &'static str,
    timeout: Duration,
    redactor: Redactor,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with a total timeout per request, redacting `redactor`'s
    /// values from every message.
    pub(crate) fn new(signer: &'static str, timeout: Duration, redactor: Redactor) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Self {
            agent,
            signer,
            timeout,
            redactor,
        }
    }

    /// GET `url` with `headers`, expecting a JSON object.
    pub(crate) fn get_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Value, SignerError> {
        let mut req = self.agent.get(url).header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.finish(url, req.call())
    }

    /// POST `url` with an empty body and `headers`, expecting a JSON object.
    pub(crate) fn post_empty_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Value, SignerError> {
        let mut req = self.agent.post(url).header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.finish(url, req.send_empty())
    }

    /// POST a form (`application/x-www-form-urlencoded`) to `url`, expecting a JSON object.
    pub(crate) fn post_form_json(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, SignerError> {
        let req = self.agent.post(url).header("Accept", "application/json");
        self.finish(url, req.send_form(form.iter().copied()))
    }

    fn finish(
        &self,
        url: &str,
        result: Result<http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, SignerError> {
        let shown = self.redactor.redact(&stac_meta::redact(url)).into_owned();
        let mut response = result.map_err(|e| SignerError::Http {
            signer: self.signer,
            url: shown.clone(),
            status: None,
            message: transport_message(&e, self.timeout),
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| SignerError::Http {
                signer: self.signer,
                url: shown.clone(),
                status: Some(status),
                message: format!(
                    "cannot read response: {}",
                    transport_message(&e, self.timeout)
                ),
            })?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if !(200..300).contains(&status) {
            return Err(SignerError::Http {
                signer: self.signer,
                url: shown,
                status: Some(status),
                message: json
                    .as_ref()
                    .and_then(|v| server_error_code(v, &self.redactor))
                    .unwrap_or_else(|| "token endpoint refused the request".to_owned()),
            });
        }
        match json {
            Some(v @ Value::Object(_)) => Ok(v),
            _ => Err(SignerError::Token {
                signer: self.signer,
                message: format!("{shown}: response is not a JSON object"),
            }),
        }
    }
}

/// A short, safe description of a transport error (no URL query, no headers).
fn transport_message(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            format!("timed out (deadline {} s)", timeout.as_secs_f64())
        }
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::Timeout(_) => format!("timed out (deadline {} s)", timeout.as_secs_f64()),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::TooManyRedirects => "redirected (not followed)".to_owned(),
        ureq::Error::BodyExceedsLimit(_) => "response too large".to_owned(),
        _ => "request failed".to_owned(),
    }
}

/// An OAuth2-style error code from an error body (`error`, else `code`), if
/// it looks like a short identifier and is not, does not hold and is not
/// part of any secret value (a server may echo a password as its "code").
fn server_error_code(v: &Value, redactor: &Redactor) -> Option<String> {
    let code = v.get("error").or_else(|| v.get("code"))?.as_str()?;
    let safe = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        && !redactor.contains_secret(code)
        && !redactor.is_part_of_secret(code);
    safe.then(|| format!("server error `{code}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_codes_are_kept_only_when_short_identifiers() {
        let none = Redactor::default();
        let v = serde_json::json!({"error": "invalid_grant", "error_description": "token abc"});
        assert_eq!(
            server_error_code(&v, &none).unwrap(),
            "server error `invalid_grant`"
        );
        let v = serde_json::json!({"error": "Bearer eyJhbGciOi=="});
        assert_eq!(server_error_code(&v, &none), None);
        // A password made of identifier characters, echoed whole or in part.
        let r = Redactor::new([crate::Secret::new("hunter2-Pass.word")]);
        for echoed in ["hunter2-Pass.word", "bad hunter2-Pass.word", "Pass.word"] {
            let v = serde_json::json!({ "error": echoed });
            assert_eq!(server_error_code(&v, &r), None, "{echoed}");
        }
        let v = serde_json::json!({"error": "invalid_grant"});
        assert!(server_error_code(&v, &r).is_some());
    }
}
