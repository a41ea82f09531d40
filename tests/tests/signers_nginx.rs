//! The nginx test server itself: Range → 206 on /public/, Bearer-only /private/.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::io::{Read, Write};

use stac_gdal_e2e::nginx::Nginx;

/// Send a raw HTTP/1.1 GET and return (status code, body).
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect nginx");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("http head")
        + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let code: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, buf[head_end..].to_vec())
}

#[test]
fn nginx_serves_ranges_and_guards_private_path() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("data.bin"),
        (0u8..=255).collect::<Vec<u8>>(),
    )
    .unwrap();
    let server = Nginx::start(root.path(), "tok-abc");
    assert!(
        server
            .url("/public/data.bin")
            .starts_with("http://127.0.0.1:")
    );

    let (code, body) = get(
        server.port(),
        "/public/data.bin",
        &[("Range", "bytes=10-19")],
    );
    assert_eq!(code, 206);
    assert_eq!(body, (10u8..20).collect::<Vec<u8>>());

    assert_eq!(get(server.port(), "/private/data.bin", &[]).0, 401);
    assert_eq!(
        get(
            server.port(),
            "/private/data.bin",
            &[("Authorization", "Bearer nope")]
        )
        .0,
        401
    );
    let (code, body) = get(
        server.port(),
        "/private/data.bin",
        &[("Authorization", "Bearer tok-abc"), ("Range", "bytes=0-3")],
    );
    assert_eq!(code, 206);
    assert_eq!(body, vec![0, 1, 2, 3]);
    assert!(server.access_log().contains("/private/data.bin"));
}
