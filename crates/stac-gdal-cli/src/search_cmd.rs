//! `search`: query a STAC API and print the items (an ItemCollection, or
//! one item a line with `--ndjson`), as they arrive: memory stays bounded
//! by the page size, however many items match.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde_json::Value;
use stac_gdal::client::{Client, ClientOptions, Fields, Filter, SearchMethod, SearchParams};
use stac_gdal::signers::Redactor;

use crate::signer_args::{SignerOpts, parse_timeout};

/// GET or POST.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MethodArg {
    /// `GET /search?…`
    Get,
    /// `POST /search` with a JSON body.
    Post,
}

/// Arguments of `stac-gdal search`.
#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The STAC API root (landing page) URL, or a stac-geoparquet catalog:
    /// a file, a folder of files (hive partitions too) or a glob; `-` reads
    /// items (JSON, NDJSON or stac-geoparquet) from standard input.
    url: String,
    /// Collection ids; repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    collections: Vec<String>,
    /// Item ids; repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    ids: Vec<String>,
    /// Bounding box: west,south,east,north.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    bbox: Option<Vec<f64>>,
    /// Read a --bbox with WEST > EAST as crossing the antimeridian whatever
    /// its width (without it, only boxes up to 180° wide may cross).
    #[arg(long)]
    antimeridian: bool,
    /// A GeoJSON geometry (JSON text).
    #[arg(long)]
    intersects: Option<String>,
    /// An RFC 3339 instant or an interval `a/b` (`..` for an open end).
    #[arg(long)]
    datetime: Option<String>,
    /// A CQL2 filter: text, or JSON when it starts with `{`.
    #[arg(long)]
    filter: Option<String>,
    /// A query-extension object (JSON).
    #[arg(long)]
    query: Option<String>,
    /// Sort keys (`-properties.datetime`, `+id`); repeat or comma-separate.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    sortby: Vec<String>,
    /// Fields to include or (with `-`) exclude, comma-separated.
    #[arg(long, allow_hyphen_values = true)]
    fields: Option<String>,
    /// Page size.
    #[arg(long)]
    limit: Option<u32>,
    /// Stop after this many items (at least 1).
    #[arg(long, value_parser = crate::arg_checks::positive_count)]
    max_items: Option<usize>,
    /// Force GET or POST (default: POST when the API offers it).
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// Pass returned items through the signer's href hook.
    #[arg(long)]
    sign_items: bool,
    /// One item per line instead of an ItemCollection.
    #[arg(long)]
    ndjson: bool,
    /// Write the items to this file (atomically: complete, or not at all)
    /// instead of standard output (`-`).
    #[arg(short = 'o', long, visible_alias = "out", value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Decoding threads for a catalog search (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Deadline in seconds for each response (a page, the landing page:
    /// every attempt and backoff together), also for each token request.
    #[arg(long, value_parser = parse_timeout, value_name = "SECONDS")]
    timeout: Option<Duration>,
    #[command(flatten)]
    signer: SignerOpts,
}

fn json_arg(name: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("--{name} is not valid JSON"))
}

impl SearchArgs {
    fn params(&self) -> Result<SearchParams> {
        let mut p = SearchParams::new()
            .with_collections(self.collections.iter().cloned())
            .with_ids(self.ids.iter().cloned());
        if let Some(b) = &self.bbox {
            // 2-D boxes by the shared rule (3-D ones go to the API as given).
            if b.len() != 6 {
                crate::arg_checks::lonlat_bbox(b, self.antimeridian)?;
            }
            p = p.with_bbox(b.clone());
        }
        if let Some(g) = &self.intersects {
            p = p.with_intersects(json_arg("intersects", g)?);
        }
        if let Some(d) = &self.datetime {
            p = p.with_datetime(d.clone());
        }
        if let Some(f) = &self.filter {
            let f = f.trim();
            p = p.with_filter(if f.starts_with('{') {
                Filter::Json(json_arg("filter", f)?)
            } else {
                Filter::Text(f.to_owned())
            });
        }
        if let Some(q) = &self.query {
            p = p.with_query(json_arg("query", q)?);
        }
        for s in &self.sortby {
            p = p.with_sortby(s);
        }
        if let Some(f) = &self.fields {
            p = p.with_fields(Fields::parse(f));
        }
        if let Some(l) = self.limit {
            p = p.with_limit(l);
        }
        if let Some(m) = self.max_items {
            p = p.with_max_items(m);
        }
        Ok(p)
    }
}

/// `stac-gdal search`.
pub(crate) fn search(args: SearchArgs) -> Result<()> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("-"));
    crate::output::check_output_file(&output, "--output")?;
    let params = args.params()?;
    if args.url == "-" || crate::search_file::is_catalog(&args.url) {
        let signer = args.sign_items.then(|| args.signer.build()).transpose()?;
        // Standard input is spooled (a catalog file is read by seeking).
        let spooled = crate::output::InputFile::open(std::path::Path::new(
            crate::search_file::path_of(&args.url),
        ))?;
        let source = spooled.path().to_string_lossy().into_owned();
        let mut out = crate::output::Destination::open(&output, "--output")?;
        let found = crate::search_file::Found {
            method_given: args.method.is_some(),
            signer,
            ndjson: args.ndjson,
            threads: args.threads,
        };
        if !crate::input::is_catalog(spooled.path()) {
            crate::search_file::search_json(spooled.path(), params, &found, &mut out)?;
        } else {
            crate::search_file::search(&source, params, &found, &mut out)?;
        }
        return out.finish();
    }
    if args.threads.is_some() {
        anyhow::bail!(
            "--threads applies to catalog files; {} is a STAC API",
            args.url
        );
    }
    let signer = args.signer.build_with_timeout(args.timeout)?;
    let mut options = ClientOptions::default()
        .with_signer(signer.clone())
        .with_sign_items(args.sign_items);
    if let Some(t) = args.timeout {
        options = options
            .with_timeout(t)
            .with_deadline(t)
            .with_connect_timeout(t.min(Duration::from_secs(10)));
    }
    if let Some(m) = args.method {
        options = options.with_method(match m {
            MethodArg::Get => SearchMethod::Get,
            MethodArg::Post => SearchMethod::Post,
        });
    }
    let client = Client::new(&args.url, options)?;
    let items = client.search(params)?;
    // Standard output, or a temp file renamed into place when complete.
    let mut out = crate::output::Destination::open(&output, "--output")?;
    // A server may echo a credential inside its items: printed redacted, by
    // value, unless the items were signed on purpose (`--sign-items`).
    let print = |out: &mut dyn Write, value: &Value| -> Result<()> {
        let text = serde_json::to_string(value)?;
        let text = if args.sign_items {
            text
        } else {
            Redactor::of(signer.as_ref()).redact(&text).into_owned()
        };
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        Ok(())
    };
    if args.ndjson {
        for item in items {
            print(&mut out, &item?)?;
        }
    } else {
        // Streamed as the items arrive (never all of them in memory): a
        // failure part-way leaves stdout cut short (with `-o FILE`, no
        // file at all), and the exit code 1.
        // Each item is redacted as `print` redacts.
        out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
        for (i, item) in items.enumerate() {
            let text = serde_json::to_string(&item?)?;
            let text = if args.sign_items {
                text
            } else {
                Redactor::of(signer.as_ref()).redact(&text).into_owned()
            };
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(text.as_bytes())?;
        }
        out.write_all(b"]}\n")?;
    }
    out.finish()
}
