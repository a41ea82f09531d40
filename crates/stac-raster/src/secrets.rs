//! Redaction by value: every credential value the source layer handed to
//! GDAL (a signer's secrets, the token inside a `GDAL_HTTP_HEADERS` value,
//! the values of a signed href's query, a URL password) is remembered for
//! the life of the process, and [`redact_message`] replaces each of them
//! (as given and percent-encoded) before any GDAL message, error or report
//! line leaves this workspace. URL queries and userinfo are also removed by
//! pattern ([`stac_meta::redact_text`]), so a value never seen before is
//! still cut when it sits in a URL.

use std::borrow::Cow;
use std::sync::RwLock;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use stac_signers::GdalEnv;

/// Shorter values are not remembered: replacing every `ab` in a message
/// would garble it, and such a value is no credential.
const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember secret values: from now on [`redact_message`] removes them
/// (and their percent-encoded forms) from every message.
///
/// ```
/// stac_raster::remember_secrets(["s3cr3t-value"]);
/// assert_eq!(stac_raster::redact_message("token s3cr3t-value refused"), "token <redacted> refused");
/// ```
pub fn remember_secrets<I, S>(values: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut fresh: Vec<String> = Vec::new();
    for v in values {
        let v = v.as_ref().trim();
        if v.len() < MIN_SECRET_LEN {
            continue;
        }
        fresh.push(v.to_owned());
        let encoded = utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        if encoded != v {
            fresh.push(encoded);
        }
    }
    if fresh.is_empty() {
        return;
    }
    let known = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if fresh.iter().all(|f| known.contains(f)) {
        return;
    }
    drop(known);
    let mut known = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for f in fresh {
        if !known.contains(&f) {
            known.push(f);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    known.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Remember the secret values of a GDAL env: the values of keys that may
/// hold secrets ([`GdalEnv::is_secret_key`]) and, inside header values, the
/// part after `Name:` and after an `Authorization` scheme word.
pub fn remember_env_secrets(env: &GdalEnv) {
    let mut values = Vec::new();
    for (k, v) in env.iter() {
        if !GdalEnv::is_secret_key(k) {
            continue;
        }
        values.push(v.to_owned());
        for line in v.split(['\r', '\n']) {
            if let Some((_, value)) = line.split_once(':') {
                let value = value.trim();
                values.push(value.to_owned());
                if let Some((_, cred)) = value.split_once(' ') {
                    values.push(cred.trim().to_owned());
                }
            }
        }
    }
    remember_secrets(values);
}

/// Remember what signing added to an href: the values of query parameters
/// the signed href has and the unsigned one lacks (or has with another
/// value), and a URL password.
pub fn remember_href_secrets(unsigned: &str, signed: &str) {
    let params = |h: &str| -> Vec<(String, String)> {
        h.split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        Some((k.to_owned(), v.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = params(unsigned);
    let mut values: Vec<String> = params(signed)
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|(_, v)| v)
        .collect();
    if let Some(rest) = signed.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?']).next().unwrap_or(rest);
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            values.push(password.to_owned());
        }
    }
    remember_secrets(values);
}

/// Replace every remembered secret value in `text`, then redact URL
/// queries and userinfo by pattern. Used for every GDAL message, error and
/// report line the GDAL-side crates produce.
pub fn redact_message(text: &str) -> String {
    let by_value = redact_values(text);
    stac_meta::redact_text(&by_value)
}

fn redact_values(text: &str) -> Cow<'_, str> {
    let known = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for s in known.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), "<redacted>"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_redacted_wherever_they_appear() {
        remember_env_secrets(
            &GdalEnv::new().with("GDAL_HTTP_HEADERS", "Authorization: Bearer tok-abc_123"),
        );
        assert_eq!(
            redact_message("server said: bad token tok-abc_123."),
            "server said: bad token <redacted>."
        );
        remember_href_secrets(
            "https://h/a.tif?x=1",
            "https://u:pw-9876@h/a.tif?x=1&sig=SIGVALUE%2Bz",
        );
        assert_eq!(
            redact_message("sig SIGVALUE%2Bz pw-9876"),
            "sig <redacted> <redacted>"
        );
        assert_eq!(redact_message("x=1 stays"), "x=1 stays");
    }
}
