//! Crawl a STAC API search to the end and print `{"items": N, "seconds": T}`
//! (used by `cargo xtask bench`).
//!
//! `cargo run --release -p stac-client --example crawl -- <URL> <COLLECTION> <LIMIT>`
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::time::Instant;

use stac_client::{Client, ClientOptions, SearchParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: crawl <URL> <COLLECTION> <LIMIT>")?;
    let collection = args.next().ok_or("missing COLLECTION")?;
    let limit: u32 = args.next().ok_or("missing LIMIT")?.parse()?;
    let client = Client::new(&url, ClientOptions::default())?;
    // Landing page and conformance first, outside the timing (as the peers).
    client.conformance()?;
    let start = Instant::now();
    let mut n = 0usize;
    for item in client.search(
        SearchParams::new()
            .with_collections([collection])
            .with_limit(limit),
    )? {
        let item = item?;
        if item.get("id").is_some() {
            n += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"items": n, "seconds": seconds}));
    Ok(())
}
