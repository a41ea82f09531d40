//! A Zarr write to an S3 store against hostile servers (real TCP servers
//! on 127.0.0.1): one that accepts and never answers makes the write fail
//! within its deadline with a typed error; one that redirects to another
//! origin (127.0.0.2) sends the credentials nowhere (the store follows no
//! redirect) and fails with a typed error naming the status.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies
#![cfg(feature = "s3")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_cube::zarr::{S3Store, ZarrFormat, ZarrOptions};
use stac_cube::{CubeError, CubeOptions, DatasetCollection};
use stac_raster::{Dataset, GridSpec};
use stac_signers::{AwsCredentials, AwsOptions, AwsRequesterPaysSigner, HostList, Signer};

const SECRET: &str = "hostile-test-secret-key-0123456789abcdef";

fn items(dir: &Path) -> Vec<Value> {
    let a = Array2::from_shape_fn((20, 30), |(r, c)| (r * 30 + c + 1) as u16);
    let p = dir.join("s.tif");
    Dataset::create_from_array(
        &a,
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&p)
    .unwrap();
    vec![json!({"id": "s", "bbox": [0.0, 0.0, 1.0, 1.0],
        "properties": {"datetime": "2021-06-01T10:00:00Z"},
        "assets": {"B04": {"href": p.to_str().unwrap()}}})]
}

fn signer(host: &str) -> Arc<dyn Signer> {
    Arc::new(AwsRequesterPaysSigner::with_options(
        Some("us-east-1"),
        AwsOptions::default()
            .with_credentials(AwsCredentials::new("AKIDHOSTILETEST", SECRET))
            .with_hosts(HostList::new([host.to_owned()])),
    ))
}

/// Read one request's head (up to the blank line).
fn read_head(s: &mut std::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn a_stalled_s3_server_fails_the_write_within_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let plan =
        DatasetCollection::plan(&items(dir.path()), &["B04"], &CubeOptions::default()).unwrap();
    // Accepts every connection, reads the request, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            h.lock().unwrap().push(s);
        }
    });
    let store = S3Store::new(
        "s3://bucket/stalled.zarr",
        &format!("http://{addr}"),
        signer(&addr.to_string()),
        Duration::from_secs(1),
    )
    .unwrap();
    let (plan, store) = (Arc::new(plan), Arc::new(store));
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        let started = Instant::now();
        // On a thread: a write without a deadline fails the test (after
        // 20 s) rather than hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        let (p, st) = (plan.clone(), store.clone());
        std::thread::spawn(move || {
            let _ = tx.send(p.write_zarr(st.as_ref(), &ZarrOptions::default().with_format(format)));
        });
        let err = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the write did not end within 20 s: no deadline")
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(6),
            "a 1 s deadline took {took:?}"
        );
        assert!(
            matches!(&err, CubeError::Store { store, .. } if store.contains("stalled.zarr")),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("request failed"), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
    assert!(
        !held.lock().unwrap().is_empty(),
        "the server saw no request"
    );
}

#[test]
fn a_redirect_to_another_origin_carries_no_credentials_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let plan =
        DatasetCollection::plan(&items(dir.path()), &["B04"], &CubeOptions::default()).unwrap();
    // The other origin: 127.0.0.2, counting every connection it gets.
    let other = TcpListener::bind("127.0.0.2:0").unwrap();
    let other_addr = other.local_addr().unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let r = reached.clone();
    std::thread::spawn(move || {
        for mut s in other.incoming().flatten() {
            r.fetch_add(1, Ordering::SeqCst);
            let _ = read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    // The endpoint: answers every request with a 307 to the other origin,
    // after checking that the request itself was signed.
    let endpoint = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = endpoint.local_addr().unwrap();
    let signed = Arc::new(AtomicUsize::new(0));
    let sg = signed.clone();
    std::thread::spawn(move || {
        for mut s in endpoint.incoming().flatten() {
            let head = read_head(&mut s);
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            if head
                .to_ascii_lowercase()
                .contains("authorization: aws4-hmac-sha256")
            {
                sg.fetch_add(1, Ordering::SeqCst);
            }
            let _ = write!(
                s,
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{other_addr}{path}\r\n\
                 content-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    let store = S3Store::new(
        "s3://bucket/redirected.zarr",
        &format!("http://{addr}"),
        signer(&addr.to_string()),
        Duration::from_secs(10),
    )
    .unwrap();
    let err = plan
        .write_zarr(&store, &ZarrOptions::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CubeError::Store { .. }), "{err:?}");
    assert!(text.contains("307"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        signed.load(Ordering::SeqCst) >= 1,
        "the endpoint got no signed request"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "a request (with or without credentials) reached the other origin"
    );
}
