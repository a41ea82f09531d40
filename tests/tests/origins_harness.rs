//! The multi-origin nginx harness itself (`stac_gdal_e2e::origins`): each
//! origin logs the credentials it received, serves Range, redirects to
//! another origin, trickles, and proxies.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use stac_gdal_e2e::origins::{OriginSpec, Origins};

/// A raw HTTP/1.0 exchange (no client library in between).
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let rest = url.trim_start_matches("http://");
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, out[split + 4..].to_vec())
}

#[test]
fn origins_log_credentials_serve_ranges_redirect_trickle_and_proxy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.bin"), b"0123456789").unwrap();
    let upstream = tempfile::tempdir().unwrap();
    std::fs::write(upstream.path().join("up.txt"), b"from upstream").unwrap();
    let up = Origins::start(vec![OriginSpec::files("up", upstream.path())]);
    let o = Origins::start(vec![
        OriginSpec::files("data", dir.path())
            .bearer("tok-A1")
            .slow("/slow/", 60),
        OriginSpec::empty("jump").redirect("/to-data/", "data", "/private/"),
        OriginSpec::proxy("api", &up.url("up", "/")),
    ]);
    let (status, _, body) = get(
        &o.url("data", "/a.bin?sig=q-SECRET"),
        &[("Range", "bytes=2-4"), ("X-Api-Key", "key-K9")],
    );
    assert_eq!((status, body.as_slice()), (206, &b"234"[..]));
    let (status, _, _) = get(&o.url("data", "/private/a.bin"), &[]);
    assert_eq!(status, 401);
    let (status, _, body) = get(
        &o.url("data", "/private/a.bin"),
        &[("Authorization", "Bearer tok-A1"), ("Cookie", "s=c-77")],
    );
    assert_eq!((status, body.len()), (200, 10));
    let (status, head, _) = get(&o.url("jump", "/to-data/a.bin?x=1"), &[]);
    assert_eq!(status, 302);
    assert!(
        head.contains(&format!(
            "Location: {}",
            o.url("data", "/private/a.bin?x=1")
        )),
        "{head}"
    );
    let t = Instant::now();
    let (status, _, body) = get(&o.url("data", "/slow/a.bin"), &[]);
    assert_eq!((status, body.len()), (200, 10));
    // About 250 bytes of headers and 10 of body at 60 bytes/s.
    assert!(t.elapsed() >= Duration::from_secs(3), "{:?}", t.elapsed());
    let (status, _, body) = get(&o.url("api", "/up.txt"), &[("Authorization", "Bearer p-1")]);
    assert_eq!((status, body.as_slice()), (200, &b"from upstream"[..]));

    let log = o.log("data");
    assert_eq!(log[0].uri, "/a.bin?sig=q-SECRET");
    assert_eq!(log[0].header("range"), Some("bytes=2-4"));
    assert_eq!(log[0].header("x-api-key"), Some("key-K9"));
    assert_eq!(log[0].status, 206);
    assert_eq!(log[2].header("authorization"), Some("Bearer tok-A1"));
    assert_eq!(log[2].header("cookie"), Some("s=c-77"));
    o.assert_saw("data", "q-SECRET");
    o.assert_saw("data", "tok-A1");
    o.assert_never_saw("jump", "tok-A1");
    assert_eq!(o.log("jump")[0].path(), "/to-data/a.bin");
    o.assert_saw("api", "p-1");
    // The proxy passed the request on: the upstream logged it too.
    assert_eq!(up.log("up")[0].uri, "/up.txt");
}
