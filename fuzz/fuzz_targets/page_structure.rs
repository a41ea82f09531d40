//! `page_structure`: structure-aware STAC API search pages (the `arbitrary`
//! crate) → `stac_client::parse_search_page_with_limit`, the parser every
//! search uses, with a drawn `max_page_bytes`, checked against serde_json.
//!
//! An input draws a page: features (objects, or other values), `links`
//! (next links with GET/POST, bodies, headers, bad hrefs), other members,
//! a `features` member that is missing, not an array or given twice, and
//! whitespace between every token. Values include deep nesting (up to
//! about 1,000 levels of arrays or objects from one byte), repetition (a
//! value repeated up to 65,535 times from two bytes: pages of millions of
//! tiny values), long strings and keys, and numbers at the edges of f64
//! and i64. Pages are capped at 1 MiB of text.
//!
//! Invariants (serde_json's `Value` parse is the oracle): never a panic;
//! a page serde_json rejects is an error; a page that parses is accepted
//! exactly when it is an object whose `features` is an array of objects
//! each taking at most a quarter of the limit in memory (`value_cost`) and whose links
//! are usable, and then the items equal serde_json's features, in order;
//! an `ItemTooLarge` names a feature that is over the limit; a `next`
//! request is GET or POST with a valid URL; the page URL's token is never
//! in an error.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use stac_client::ClientError;

/// Text of a page is capped here.
const MAX_TEXT: usize = 1 << 20;

#[derive(Debug, Arbitrary)]
enum Key {
    Id,
    Type,
    Properties,
    Assets,
    Href,
    Links,
    Features,
    Custom(u8),
    Long(u16),
    Escaped,
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Id => "id".into(),
            Key::Type => "type".into(),
            Key::Properties => "properties".into(),
            Key::Assets => "assets".into(),
            Key::Href => "href".into(),
            Key::Links => "links".into(),
            Key::Features => "features".into(),
            Key::Custom(n) => format!("k{}", n % 32),
            Key::Long(n) => "k".repeat(usize::from(*n) * 16),
            Key::Escaped => "f\u{e9}\"\\\n\u{1}atures".into(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Edge(u8),
    Str(String),
    LongStr(u16, char),
    Array(Vec<J>),
    Object(Vec<(Key, J)>),
    /// An array of `n` copies.
    Repeat(u16, Box<J>),
    /// `4 × levels` arrays (or objects) around a value.
    Deep(u8, bool, Box<J>),
}

#[derive(Debug, Arbitrary)]
enum Feature {
    Object(Vec<(Key, J)>),
    /// `n` copies of a small object: `{"id": "…"}`.
    Many(u16),
    Other(J),
}

#[derive(Debug, Arbitrary)]
enum Href {
    Relative,
    Absolute,
    OtherHost,
    Bad,
    Missing,
}

#[derive(Debug, Arbitrary)]
struct Link {
    next: bool,
    href: Href,
    post: Option<bool>,
    merge: bool,
    body: Option<J>,
    headers: Option<J>,
}

#[derive(Debug, Arbitrary)]
enum Features {
    Array,
    Missing,
    NotArray(J),
    Twice,
}

#[derive(Debug, Arbitrary)]
struct Page {
    features: Vec<Feature>,
    shape: Features,
    links: Option<Vec<Link>>,
    links_not_array: bool,
    members: Vec<(Key, J)>,
    not_object: bool,
    spaces: u8,
    limit_kib: u16,
    post: bool,
}

/// JSON text of generated values, within [`MAX_TEXT`].
struct Out {
    text: Vec<u8>,
    spaces: u8,
    full: bool,
}

impl Out {
    fn ws(&mut self) {
        match self.spaces % 4 {
            0 => {}
            1 => self.text.push(b' '),
            2 => self.text.extend_from_slice(b"\n\t "),
            _ => self.text.extend_from_slice(b"\r\n"),
        }
    }

    fn raw(&mut self, s: &[u8]) {
        self.text.extend_from_slice(s);
    }

    fn string(&mut self, s: &str) {
        serde_json::to_writer(&mut self.text, s).expect("a string serialises");
    }

    fn room(&self) -> usize {
        MAX_TEXT.saturating_sub(self.text.len())
    }

    fn value(&mut self, v: &J, depth: usize) {
        if self.room() < 64 || depth > 2_000 {
            self.full = true;
            self.raw(b"null");
            return;
        }
        match v {
            J::Null => self.raw(b"null"),
            J::Bool(b) => self.raw(if *b { b"true" } else { b"false" }),
            J::Int(i) => self.raw(i.to_string().as_bytes()),
            J::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => self.raw(n.to_string().as_bytes()),
                None => self.raw(b"0.5"),
            },
            J::Edge(e) => self.raw(match e % 8 {
                0 => b"18446744073709551615".as_slice(),
                1 => b"-9223372036854775808",
                2 => b"1e308",
                3 => b"-0.0",
                4 => b"1e400",
                5 => b"NaN",
                6 => b"1.7976931348623157e308",
                _ => b"123456789012345678901234567890",
            }),
            J::Str(s) => self.string(s),
            J::LongStr(n, c) => {
                let n = (usize::from(*n) * 32).min(self.room() / 8);
                let s: String = std::iter::repeat_n(*c, n).collect();
                self.string(&s);
            }
            J::Array(items) => {
                self.raw(b"[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(b",");
                    }
                    self.ws();
                    self.value(item, depth + 1);
                }
                self.ws();
                self.raw(b"]");
            }
            J::Object(members) => self.object(members, depth),
            J::Repeat(n, item) => {
                let mut one = Out {
                    text: Vec::new(),
                    spaces: self.spaces,
                    full: false,
                };
                one.value(item, depth + 1);
                let n = usize::from(*n).min(self.room() / (one.text.len() + 1));
                self.raw(b"[");
                for i in 0..n {
                    if i > 0 {
                        self.raw(b",");
                    }
                    self.raw(&one.text);
                }
                self.raw(b"]");
            }
            J::Deep(levels, objects, item) => {
                let n = (usize::from(*levels) * 4).min(self.room() / 8);
                for _ in 0..n {
                    self.raw(if *objects { b"{\"d\":" } else { b"[" });
                }
                self.value(item, depth + n);
                for _ in 0..n {
                    self.raw(if *objects { b"}" } else { b"]" });
                }
            }
        }
    }

    /// An object; repeated keys are left out (serde_json keeps the last,
    /// the cost model counts both: the oracle compares pages without them).
    fn object(&mut self, members: &[(Key, J)], depth: usize) {
        self.raw(b"{");
        let mut seen = std::collections::HashSet::new();
        let mut first = true;
        for (k, v) in members {
            let k = k.text();
            if !seen.insert(k.clone()) {
                continue;
            }
            if !first {
                self.raw(b",");
            }
            first = false;
            self.ws();
            self.string(&k);
            self.ws();
            self.raw(b":");
            self.ws();
            self.value(v, depth + 1);
        }
        self.ws();
        self.raw(b"}");
    }

    fn feature(&mut self, f: &Feature, first: &mut bool) {
        let mut sep = |o: &mut Out| {
            if !*first {
                o.raw(b",");
            }
            *first = false;
            o.ws();
        };
        match f {
            Feature::Object(members) => {
                sep(self);
                self.object(members, 1);
            }
            Feature::Many(n) => {
                for i in 0..usize::from(*n) {
                    if self.room() < 64 {
                        self.full = true;
                        break;
                    }
                    sep(self);
                    self.raw(format!(r#"{{"id":"i{i}"}}"#).as_bytes());
                }
            }
            Feature::Other(v) => {
                sep(self);
                self.value(v, 1);
            }
        }
    }

    fn features(&mut self, fs: &[Feature]) {
        self.raw(b"[");
        let mut first = true;
        for f in fs {
            self.feature(f, &mut first);
        }
        self.ws();
        self.raw(b"]");
    }

    fn link(&mut self, l: &Link) {
        let mut members: Vec<(&str, Value)> =
            vec![("rel", json!(if l.next { "next" } else { "self" }))];
        match l.href {
            Href::Relative => members.push(("href", json!("?page=2&token=abc"))),
            Href::Absolute => members.push(("href", json!("http://127.0.0.1:8080/search?page=3"))),
            Href::OtherHost => members.push(("href", json!("https://other.example/search"))),
            Href::Bad => members.push(("href", json!("http://[::1"))),
            Href::Missing => {}
        }
        if let Some(post) = l.post {
            members.push(("method", json!(if post { "POST" } else { "GET" })));
        }
        if l.merge {
            members.push(("merge", json!(true)));
        }
        self.raw(b"{");
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.string(k);
            self.raw(b":");
            self.raw(v.to_string().as_bytes());
        }
        for (k, v) in [("body", &l.body), ("headers", &l.headers)] {
            if let Some(v) = v {
                self.raw(b",");
                self.string(k);
                self.raw(b":");
                self.value(v, 2);
            }
        }
        self.raw(b"}");
    }
}

fn render(p: &Page) -> Out {
    let mut o = Out {
        text: Vec::new(),
        spaces: p.spaces,
        full: false,
    };
    o.ws();
    if p.not_object {
        o.features(&p.features);
        return o;
    }
    o.raw(b"{");
    o.ws();
    o.string("type");
    o.raw(b":\"FeatureCollection\"");
    match &p.shape {
        Features::Array => {
            o.raw(b",\"features\":");
            o.features(&p.features);
        }
        Features::Missing => {}
        Features::NotArray(v) => {
            o.raw(b",\"features\":");
            o.value(v, 1);
        }
        Features::Twice => {
            o.raw(b",\"features\":[1, 2],");
            o.ws();
            o.raw(b"\"features\":");
            o.features(&p.features);
        }
    }
    if let Some(links) = &p.links {
        o.raw(b",\"links\":");
        if p.links_not_array {
            o.raw(b"{}");
        } else {
            o.raw(b"[");
            for (i, l) in links.iter().enumerate() {
                if i > 0 {
                    o.raw(b",");
                }
                o.link(l);
            }
            o.raw(b"]");
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (k, v) in &p.members {
        let k = k.text();
        if matches!(k.as_str(), "features" | "links" | "type") || !seen.insert(k.clone()) {
            continue;
        }
        o.raw(b",");
        o.ws();
        o.string(&k);
        o.raw(b":");
        o.value(v, 1);
    }
    o.ws();
    o.raw(b"}");
    o.ws();
    o
}

/// serde_json's reading of what the client reads: the page as an object,
/// `features` and `links` parsed as `Value`s (the last of repeated members
/// wins), other members checked as JSON and skipped (a number out of range
/// in a member nobody reads is not an error for either).
fn oracle(text: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::Deserializer as _;
    struct Members;
    impl<'de> serde::de::Visitor<'de> for Members {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(k) = map.next_key::<String>()? {
                if k == "features" || k == "links" {
                    out.insert(k, map.next_value::<Value>()?);
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(Value::Object(out))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    match de.deserialize_any(Members) {
        Ok(v) => de.end().map(|()| v),
        // Not an object: valid JSON of another kind, or not JSON.
        Err(e) if e.is_data() => {
            serde_json::from_slice::<serde::de::IgnoredAny>(text).map(|_| Value::Null)
        }
        Err(e) => Err(e),
    }
}

const URL: &str = "https://planetarycomputer.example/api/stac/v1/search?collections=a&token=SECRET";

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(page) = Page::arbitrary(&mut u) else {
        return;
    };
    let text = render(&page).text;
    let limit = (u64::from(page.limit_kib) % 8192 + 1) * 256;
    let post = json!({"collections": ["sentinel-2-l2a"], "limit": 2});
    let body = page.post.then_some(&post);
    let ours = stac_client::parse_search_page_with_limit(&text, URL, body, limit);
    // One feature may take a quarter of max_page_bytes.
    let limit = limit / 4;
    if let Err(e) = &ours {
        assert!(!e.to_string().contains("SECRET"), "the token leaked: {e}");
    }
    let oracle = oracle(&text);
    let Ok(doc) = oracle else {
        assert!(
            ours.is_err(),
            "serde_json refuses this page, the client accepted it: {}",
            String::from_utf8_lossy(&text[..text.len().min(600)])
        );
        return;
    };
    let features = doc.get("features").and_then(Value::as_array);
    let first_bad = features.and_then(|fs| {
        fs.iter().enumerate().find_map(|(i, f)| {
            if !f.is_object() {
                Some((i, false))
            } else if stac_meta::budget::value_cost(f) > limit {
                Some((i, true))
            } else {
                None
            }
        })
    });
    match ours {
        Ok((items, next)) => {
            let features = features.expect("accepted without a features array");
            assert!(first_bad.is_none(), "accepted a bad feature: {first_bad:?}");
            assert_eq!(&items, features);
            if let Some(next) = next {
                let mut parts = next.splitn(3, ' ');
                let method = parts.next().unwrap_or_default();
                assert!(method == "GET" || method == "POST", "{next}");
                assert!(
                    url::Url::parse(parts.next().unwrap_or_default()).is_ok(),
                    "{next}"
                );
            }
        }
        Err(ClientError::ItemTooLarge { index, .. }) => {
            assert_eq!(
                first_bad,
                Some((index, true)),
                "ItemTooLarge for feature {index}"
            );
        }
        Err(e) => {
            // Explained by the page: not an object, no features array, a
            // feature that is not an object (the first bad one), or links
            // that are unusable or too large.
            let text = e.to_string();
            let explained = !doc.is_object()
                || features.is_none()
                || first_bad.is_some_and(|(_, large)| !large)
                || doc.get("links").is_some();
            assert!(explained, "unexplained refusal: {text}");
            if let Some((i, false)) = first_bad {
                if features.is_some() && doc.get("links").is_none() {
                    assert!(
                        text.contains(&format!("feature {i} is not an object")),
                        "{text}"
                    );
                }
            }
        }
    }
});
