//! `convert`: items between JSON, NDJSON and stac-geoparquet, by extension
//! (or `--from`/`--to`); `-` is standard input or output. A Parquet
//! output is written in its staging folder (`crate::staging`) with every
//! temp file, then renamed into place; JSON goes through `output::AtomicFile`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use stac_gdal::geoparquet::{
    Compression, GeoParquetError, Layout, NonFinite, PartitionKey, PartitionedWriter, Progress,
    ReadOptions, Reader, SortOrder, WriteOptions, Writer,
};

/// Arguments of `stac-gdal convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input: .json/.geojson (Item, FeatureCollection or array), .ndjson/.jsonl, or .parquet; `-` for stdin.
    input: PathBuf,
    /// Output: .json (FeatureCollection), .ndjson/.jsonl, or .parquet; `-` for stdout.
    #[arg(required_unless_present = "output_flag")]
    output: Option<PathBuf>,
    /// The output, as an option (instead of OUTPUT).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        id = "output_flag",
        value_name = "FILE",
        conflicts_with = "output"
    )]
    output_flag: Option<PathBuf>,
    /// Input format, when the input has no telling extension (stdin).
    #[arg(long, value_enum)]
    from: Option<Format>,
    /// Output format, when the output has no telling extension (stdout).
    #[arg(long, value_enum)]
    to: Option<Format>,
    /// Parquet layout: the stac-geoparquet spec, or pyramids' JSON blob.
    #[arg(long, value_enum, default_value_t = LayoutArg::Spec)]
    layout: LayoutArg,
    /// A STAC Collection JSON file to store in the Parquet metadata.
    #[arg(long)]
    collection: Option<PathBuf>,
    /// Parquet compression.
    #[arg(long, value_enum, default_value_t = CompressionArg::Zstd)]
    compression: CompressionArg,
    /// Rows per Parquet row group (also bounds memory use).
    #[arg(long, default_value_t = 100_000)]
    row_group_size: usize,
    /// Row order of a Parquet output: along a Hilbert curve through the bbox
    /// centres, then by time (hilbert, the default for the spec layout), by
    /// time then space (time), or as given (none, the only order of the blob
    /// layout). Sorted row groups and pages let searches (ours, DuckDB, GDAL,
    /// GeoPandas) skip most of a file; `--sort none` keeps the input order.
    #[arg(long, value_parser = parse_sort)]
    sort: Option<SortOrder>,
    /// Write a hive-partitioned folder (OUTPUT is a folder), e.g.
    /// `collection,year` → collection=…/year=…/part-0.parquet.
    #[arg(long, value_delimiter = ',')]
    partition_by: Vec<String>,
    #[command(flatten)]
    read: ReadArgs,
}

/// How a `.parquet` input is read: the rule for non-finite floats and the
/// limits on what a file may make the reader decode.
#[derive(Debug, Args)]
struct ReadArgs {
    /// What NaN and ±inf in a .parquet input become: an error naming the
    /// item and field, or null.
    #[arg(long, value_enum, default_value_t = NonFiniteArg::Error)]
    non_finite: NonFiniteArg,
    /// The most memory one item of a .parquet input may take once decoded
    /// (bytes, or with a KiB/MiB/GiB suffix).
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    max_value_bytes: Option<u64>,
    /// How many times its size in the file a row group may grow when decoded.
    #[arg(long, value_name = "RATIO")]
    max_expansion: Option<u64>,
    /// The most a row group may decode to in total (bytes, or with a suffix).
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    max_row_group_bytes: Option<u64>,
    /// How deeply WKB geometries may nest.
    #[arg(long, value_name = "DEPTH")]
    wkb_max_depth: Option<u32>,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        let mut o = ReadOptions::default().with_non_finite(match self.non_finite {
            NonFiniteArg::Error => NonFinite::Error,
            NonFiniteArg::Null => NonFinite::Null,
        });
        if let Some(b) = self.max_value_bytes {
            o = o.with_max_value_bytes(b);
        }
        if let Some(r) = self.max_expansion {
            o = o.with_max_expansion(r);
        }
        if let Some(b) = self.max_row_group_bytes {
            o = o.with_max_row_group_bytes(b);
        }
        if let Some(d) = self.wkb_max_depth {
            o = o.with_wkb_max_depth(d);
        }
        o
    }
}

/// `1048576`, `64MiB`, `1GiB`, `512KiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB`: powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 67108864 or 64MiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit {other:?} (KiB, MiB, GiB)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NonFiniteArg {
    Error,
    Null,
}

/// The CLI flag that raises a limit of [`ReadOptions`], for error messages.
fn flag_for(option: &str) -> Option<&'static str> {
    Some(match option {
        "with_max_value_bytes" => "--max-value-bytes",
        "with_max_expansion" => "--max-expansion",
        "with_max_row_group_bytes" => "--max-row-group-bytes",
        "with_wkb_max_depth" => "--wkb-max-depth",
        _ => return None,
    })
}

/// A reader error, with the CLI flag that raises the limit it hit.
fn read_error(e: GeoParquetError) -> anyhow::Error {
    let flag = match &e {
        GeoParquetError::LimitExceeded(limit) => flag_for(limit.option),
        GeoParquetError::InvalidRow { reason, .. } if reason.contains("non-finite") => {
            Some("--non-finite null")
        }
        _ => None,
    };
    match flag {
        Some(flag) => anyhow::anyhow!("{e}; {flag} allows it"),
        None => e.into(),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LayoutArg {
    Spec,
    Blob,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CompressionArg {
    Zstd,
    Snappy,
    None,
}

/// An items file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A FeatureCollection (also reads an Item or an array).
    #[value(alias = "geojson")]
    Json,
    /// One item a line.
    #[value(alias = "jsonl")]
    Ndjson,
    /// stac-geoparquet.
    #[value(alias = "geoparquet")]
    Parquet,
}

/// `given` (`--from`/`--to`), else the format `path`'s extension names.
fn format_for(path: &Path, given: Option<Format>, flag: &str) -> Result<Format> {
    if let Some(f) = given {
        return Ok(f);
    }
    if crate::output::is_std(path) {
        bail!("{flag} json|ndjson|parquet is needed with `-` (no extension tells the format)");
    }
    format_of(path).map_err(|e| anyhow::anyhow!("{e}, or give {flag} json|ndjson|parquet"))
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "json" | "geojson" => Format::Json,
        "ndjson" | "jsonl" => Format::Ndjson,
        "parquet" | "geoparquet" => Format::Parquet,
        _ => bail!(
            "{}: unknown extension (use .json, .geojson, .ndjson, .jsonl or .parquet)",
            path.display()
        ),
    })
}

/// Items of a file, one at a time.
type Items = Box<dyn Iterator<Item = Result<Value>>>;

/// `path` as a buffered reader (`-`: standard input).
fn open_lines(path: &Path) -> Result<Box<dyn BufRead>> {
    if crate::output::is_std(path) {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

fn read(path: &Path, format: Format, options: &ReadOptions) -> Result<(Items, Option<u64>)> {
    Ok(match format {
        Format::Json => {
            let items = crate::input::read_items(path)?;
            let n = items.len() as u64;
            (Box::new(items.into_iter().map(Ok)), Some(n))
        }
        Format::Ndjson => {
            let shown = path.display().to_string();
            let lines = open_lines(path)?.lines().enumerate();
            let items = lines.filter_map(move |(n, line)| match line {
                Err(e) => Some(Err(anyhow::anyhow!("{shown}: line {}: {e}", n + 1))),
                Ok(l) if l.trim().is_empty() => None,
                Ok(l) => Some(
                    serde_json::from_str(&l)
                        .map_err(|e| anyhow::anyhow!("{shown}: line {}: {e}", n + 1)),
                ),
            });
            (Box::new(items), None)
        }
        Format::Parquet => {
            // A Parquet reader seeks: standard input is spooled to a temp
            // file first, kept alive as long as the reader.
            let spooled = crate::output::InputFile::open(path)?;
            let reader = Reader::open_with(spooled.path(), options).map_err(read_error)?;
            let n = reader.num_rows();
            let items = reader.map(move |r| {
                let _keep = &spooled;
                r.map_err(read_error)
            });
            (Box::new(items), Some(n))
        }
    })
}

fn bar(quiet: bool, total: Option<u64>) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        // NDJSON: the count is unknown until the end (no "12000/12000").
        None => ProgressBar::no_length(),
    };
    // An unknown total (NDJSON read as a stream) shows a count, not "n/n".
    let template = if total.is_some() {
        "{spinner} {msg} {pos}/{len} items ({per_sec})"
    } else {
        "{spinner} {msg} {pos} items ({per_sec})"
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The writer's options from the command line: layout, compression, row
/// groups, sort order, temp folder and the `--collection` JSON.
fn write_options(args: &ConvertArgs, temp_dir: &Path) -> Result<WriteOptions> {
    let mut options = WriteOptions::default()
        .with_layout(match args.layout {
            LayoutArg::Spec => Layout::Spec,
            LayoutArg::Blob => Layout::Blob,
        })
        .with_compression(match args.compression {
            CompressionArg::Zstd => Compression::default(),
            CompressionArg::Snappy => Compression::Snappy,
            CompressionArg::None => Compression::None,
        })
        .with_row_group_size(args.row_group_size)
        .with_sort(sort_order(args.sort, args.layout))
        .with_temp_dir(temp_dir);
    if let Some(c) = &args.collection {
        let text =
            std::fs::read_to_string(c).with_context(|| format!("reading {}", c.display()))?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", c.display()))?;
        options = options.with_collection(value);
    }
    Ok(options)
}

/// Run `stac-gdal convert`.
pub(crate) fn convert(args: ConvertArgs) -> Result<()> {
    let output = args
        .output_flag
        .clone()
        .or_else(|| args.output.clone())
        .expect("clap requires OUTPUT or --output");
    let out_format = if args.partition_by.is_empty() {
        format_for(&output, args.to, "--to")?
    } else {
        if crate::output::is_std(&output) {
            bail!("--partition-by writes a folder: give a folder, not `-`");
        }
        Format::Parquet
    };
    if args.partition_by.is_empty() {
        crate::output::check_output_file(&output, "OUTPUT")?;
    } else {
        crate::output::check_output_dir(&output, "OUTPUT")?;
    }
    let in_format = format_for(&args.input, args.from, "--from")?;
    // A Parquet output on stdout: written to a temp file, then copied.
    let spool = (out_format == Format::Parquet && crate::output::is_std(&output))
        .then(tempfile::TempDir::new)
        .transpose()
        .context("creating a temp folder for the Parquet output")?;
    // Every temp file of a Parquet run goes here; checked and created
    // before any input is read; removed on Ctrl-C and when the command ends.
    let staged = (out_format == Format::Parquet && spool.is_none())
        .then(|| crate::staging::for_convert(&output, !args.partition_by.is_empty()))
        .transpose()?;
    let target = match (&spool, &staged) {
        (Some(dir), _) => dir.path().join("out.parquet"),
        (None, Some(staged)) => staged.target(),
        (None, None) => output.clone(),
    };
    let temp_dir = match (&spool, &staged) {
        (Some(dir), _) => dir.path().to_owned(),
        (None, Some(staged)) => staged.path().to_owned(),
        (None, None) => std::env::temp_dir(),
    };
    if in_format == Format::Parquet && out_format == Format::Ndjson {
        return parquet_to_ndjson(&args.input, &output, &args.read.options());
    }
    let ndjson_to_parquet = out_format == Format::Parquet && in_format == Format::Ndjson;
    let (items, total, raw_lines) = if ndjson_to_parquet {
        let lines = open_lines(&args.input)?.lines().enumerate().map(|(n, l)| {
            l.map(|l| (n, l))
                .with_context(|| format!("reading line {}", n + 1))
        });
        let none: Items = Box::new(std::iter::empty());
        (none, None, Some(lines))
    } else {
        let (items, total) = read(&args.input, in_format, &args.read.options())?;
        (items, total, None)
    };
    // A bar only for large inputs (or unknown sizes); indicatif hides it off a terminal.
    let bar = bar(
        crate::logging::quiet() || total.is_some_and(|n| n < 10_000),
        total,
    );
    bar.set_message("reading");
    let count = match out_format {
        Format::Parquet => {
            let options = write_options(&args, &temp_dir)?;
            let progress_bar = bar.clone();
            let progress = move |p| match p {
                Progress::Pushed(n) => progress_bar.set_position(n),
                Progress::Written { done, total } => {
                    if done == 0 || progress_bar.length() != Some(total) {
                        // The total is known now: show it.
                        if let Ok(style) = ProgressStyle::with_template(
                            "{spinner} {msg} {pos}/{len} items ({per_sec})",
                        ) {
                            progress_bar.set_style(style);
                        }
                        progress_bar.set_message("writing");
                        progress_bar.set_length(total);
                    }
                    progress_bar.set_position(done);
                }
                _ => {}
            };
            let mut writer = if args.partition_by.is_empty() {
                Sink::One(Box::new(
                    Writer::create(&target, options)?.with_progress(progress),
                ))
            } else {
                let keys = args
                    .partition_by
                    .iter()
                    .map(|k| k.parse::<PartitionKey>().map_err(anyhow::Error::msg))
                    .collect::<Result<Vec<_>>>()?;
                Sink::Parts(Box::new(
                    PartitionedWriter::create(&target, keys, options)?.with_progress(progress),
                ))
            };
            match raw_lines {
                // NDJSON straight into the writer: the text is spilled as is.
                Some(lines) => {
                    for line in lines {
                        let (n, line) = line?;
                        if !line.trim().is_empty() {
                            writer.push_json(&line).with_context(|| {
                                format!("{}: line {}", args.input.display(), n + 1)
                            })?;
                        }
                    }
                }
                None => {
                    for item in items {
                        writer.push(item?)?;
                    }
                }
            }
            let n = writer.finish()?;
            if spool.is_some() {
                crate::output::copy_to_stdout(&target)?;
            }
            n
        }
        Format::Json | Format::Ndjson => write_json(&output, out_format, items, &bar)?,
    };
    if let Some(staged) = staged {
        staged.commit()?;
    }
    bar.finish_and_clear();
    crate::logging::note(format_args!(
        "{count} item{}: {} → {}",
        if count == 1 { "" } else { "s" },
        args.input.display(),
        output.display()
    ));
    Ok(())
}

/// Parquet → NDJSON, written straight from the Arrow columns (the same
/// bytes as the item-by-item path), atomically or to standard output.
fn parquet_to_ndjson(input: &Path, output: &Path, options: &ReadOptions) -> Result<()> {
    // A Parquet reader seeks: standard input is spooled to a temp file first.
    let spooled = crate::output::InputFile::open(input)?;
    let mut reader = Reader::open_with(spooled.path(), options).map_err(read_error)?;
    let total = reader.num_rows();
    let bar = bar(crate::logging::quiet() || total < 10_000, Some(total));
    bar.set_message("reading");
    let mut out = crate::output::Destination::open(output, "OUTPUT")?;
    let count = reader
        .write_ndjson_with(&mut out, &mut |n| bar.set_position(n))
        .map_err(read_error)?;
    out.finish()?;
    bar.finish_and_clear();
    crate::logging::note(format_args!(
        "{count} item{}: {} → {}",
        if count == 1 { "" } else { "s" },
        input.display(),
        output.display()
    ));
    Ok(())
}

/// Write JSON or NDJSON atomically (temp file beside the output, then
/// rename), or to standard output for `-`.
fn write_json(path: &Path, format: Format, items: Items, bar: &ProgressBar) -> Result<u64> {
    let mut out = crate::output::Destination::open(path, "OUTPUT")?;
    let mut n = 0u64;
    if format == Format::Json {
        out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    }
    for item in items {
        let item = item?;
        if format == Format::Json && n > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut out, &item)?;
        if format == Format::Ndjson {
            out.write_all(b"\n")?;
        }
        n += 1;
        if n % 1000 == 0 {
            bar.set_position(n);
        }
    }
    if format == Format::Json {
        out.write_all(b"]}\n")?;
    }
    out.finish()?;
    Ok(n)
}

fn parse_sort(text: &str) -> Result<SortOrder, String> {
    text.parse()
}

/// The row order a Parquet output gets: the one asked for, else Hilbert for
/// the spec layout (so that readers prune row groups and pages by bbox) and
/// input order for the blob layout (which cannot sort).
fn sort_order(asked: Option<SortOrder>, layout: LayoutArg) -> SortOrder {
    match (asked, layout) {
        (Some(order), _) => order,
        (None, LayoutArg::Spec) => SortOrder::Hilbert,
        (None, LayoutArg::Blob) => SortOrder::None,
    }
}

/// One Parquet file, or a partitioned folder.
enum Sink {
    One(Box<Writer>),
    Parts(Box<PartitionedWriter>),
}

impl Sink {
    fn push(&mut self, item: Value) -> Result<()> {
        match self {
            Sink::One(w) => w.push(item)?,
            Sink::Parts(w) => w.push(item)?,
        }
        Ok(())
    }

    fn push_json(&mut self, text: &str) -> Result<()> {
        match self {
            Sink::One(w) => w.push_json(text)?,
            Sink::Parts(w) => w.push_json(text)?,
        }
        Ok(())
    }

    /// Items written.
    fn finish(self) -> Result<u64> {
        Ok(match self {
            Sink::One(w) => w.finish()?,
            Sink::Parts(w) => w.finish()?.iter().map(|(_, n)| n).sum(),
        })
    }
}
