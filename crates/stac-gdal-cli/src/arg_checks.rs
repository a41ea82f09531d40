//! Checks of argument values the libraries would accept or word in their
//! own terms, and the libraries' errors re-worded with the CLI's flags:
//! lon/lat boxes (`--bbox`, `--antimeridian`), CRSs (`--crs`), counts
//! (`--max-items`), preview files (`--preview`), and the cube and VRT errors
//! that name an option (`--max-pixels`, `--no-strict`, ...).

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use stac_gdal::cube::CubeError;
use stac_gdal::raster::Crs;
use stac_gdal::vrt::VrtError;

/// A `--bbox` of 4 numbers, checked by the rule the libraries share
/// (`stac_meta::check_lonlat_bbox`): west > east is read as crossing the
/// antimeridian only when the wrapped box spans at most 180°, or with
/// `--antimeridian`.
pub(crate) fn lonlat_bbox(values: &[f64], antimeridian: bool) -> Result<[f64; 4]> {
    let b = <[f64; 4]>::try_from(values).map_err(|_| {
        anyhow!(
            "--bbox needs 4 numbers WEST,SOUTH,EAST,NORTH, got {}",
            values.len()
        )
    })?;
    stac_gdal::meta::check_lonlat_bbox(b, antimeridian).map_err(|e| {
        let reason = match e {
            stac_gdal::meta::MetaError::InvalidParameter { reason, .. } => reason,
            other => other.to_string(),
        };
        let reason = reason.replace(
            "allow antimeridian crossing explicitly",
            "pass --antimeridian if the box really crosses 180°",
        );
        anyhow!("--bbox {}: {reason}", join(&b))
    })?;
    Ok(b)
}

/// A `--max-items` count: at least 1 (clap value parser).
pub(crate) fn positive_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// A CRS given on the command line: `EPSG:CODE`, a WKT or a PROJ string
/// that GDAL/PROJ can build, or a clear error naming the flag.
pub(crate) fn crs(flag: &str, text: &str) -> Result<Crs> {
    let unknown = || {
        anyhow!(
            "{flag} {text:?}: unknown CRS (give EPSG:CODE, e.g. EPSG:32633, a WKT or a PROJ string)"
        )
    };
    let crs = Crs::parse(text).map_err(|_| unknown())?;
    crs.to_spatial_ref().map_err(|_| unknown())?;
    Ok(crs)
}

/// `--preview`: a PNG file name (the quick-look is always PNG).
pub(crate) fn preview_path(path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if ext.as_deref() != Some("png") {
        bail!(
            "--preview {}: the extension must be .png (the quick-look is written as PNG)",
            path.display()
        );
    }
    Ok(())
}

/// A cube error in the CLI's words: the flag to change instead of the
/// library option.
pub(crate) fn cube_error(e: CubeError) -> anyhow::Error {
    match e {
        CubeError::GridTooLarge {
            rows,
            cols,
            pixels,
            limit,
        } => anyhow!(
            "the cube grid of {rows} rows x {cols} cols = {pixels} pixels per plane exceeds \
             --max-pixels {limit}; give a coarser --resolution or a smaller --bbox/--bounds, \
             or raise --max-pixels"
        ),
        CubeError::InvalidOption { option, message } => {
            let flag = match option {
                "max_items" => "--max-items",
                "bbox" => "--bbox",
                "bounds" => "--bbox",
                "fusion" => "--fuse",
                "dtype" => "--dtype",
                "nodata" => "--nodata",
                "assets" => "--asset",
                "resampling" => "--resampling",
                other => return anyhow!("invalid {other}: {message}"),
            };
            anyhow!(
                "{flag}: {}",
                message
                    .replace(
                        "allow antimeridian crossing explicitly",
                        "pass --antimeridian if the box really crosses 180°"
                    )
                    .replace("needs a groupby", "needs --groupby")
            )
        }
        CubeError::Read { failures } if failures.len() > 1 => anyhow!(
            "{}; pass --keep-going to fill them with nodata and list them",
            CubeError::Read { failures }
        ),
        CubeError::Read { failures } => anyhow!(
            "{}; pass --keep-going to fill it with nodata and list it",
            CubeError::Read { failures }
        ),
        CubeError::NoItems { reason } => anyhow!(
            "no items to build a cube from: {}",
            reason.replace("the bbox", "--bbox")
        ),
        other => other.into(),
    }
}

/// A VRT error in the CLI's words.
pub(crate) fn vrt_error(e: VrtError) -> anyhow::Error {
    match e {
        e @ VrtError::SkippedSources { .. } => anyhow!(
            "{}",
            e.to_string().replace(
                "build a partial mosaic without them (fail_on_error off) to get the skipped list instead",
                "pass --no-strict to build a partial mosaic and list them in the summary"
            )
        ),
        other => other.into(),
    }
}

/// An error and its causes on one line, each cause once: a cause whose
/// text the message before it already holds (an `std::io::Error` an error
/// also prints in its own text) is not repeated.
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn join(b: &[f64; 4]) -> String {
    b.iter().map(f64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_errors_name_the_flag() {
        let e = lonlat_bbox(&[12.0, 45.0, 11.0, 46.0], false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--bbox 12,45,11,46: west 12 > east 11") && e.contains("--antimeridian"),
            "{e}"
        );
        assert!(lonlat_bbox(&[12.0, 45.0, 11.0, 46.0], true).is_ok());
        assert!(
            lonlat_bbox(&[1.0, 2.0, 3.0], false)
                .unwrap_err()
                .to_string()
                .contains("4 numbers")
        );
        assert_eq!(positive_count("0").unwrap_err(), "must be at least 1");
    }

    #[test]
    fn causes_are_not_repeated() {
        let io = std::io::Error::from_raw_os_error(30);
        let text = io.to_string();
        let e = anyhow::Error::new(io).context(format!("writing out/a.tif: {text}"));
        assert_eq!(error_text(&e), format!("writing out/a.tif: {text}"));
        let e = anyhow::Error::new(std::io::Error::from_raw_os_error(2)).context("reading x");
        assert!(
            error_text(&e).starts_with("reading x: "),
            "{}",
            error_text(&e)
        );
    }

    #[test]
    fn crs_errors_are_clear() {
        for bad in ["nonsense", "EPSG:99999"] {
            let e = crs("--crs", bad).unwrap_err().to_string();
            assert!(e.contains("unknown CRS") && !e.contains("OGR"), "{e}");
        }
        assert!(crs("--crs", "EPSG:32633").is_ok());
    }
}
