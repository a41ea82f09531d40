//! [`Resampling`]: method names shared by warps and decimated reads.

use std::fmt;
use std::str::FromStr;

use gdal_sys::GDALRIOResampleAlg;

use crate::error::{RasterError, Result};

/// A resampling method.
///
/// All of them work with [`Dataset::warp_to`](crate::Dataset::warp_to)
/// (`sum` needs GDAL >= 3.1, `rms` GDAL >= 3.3: checked at run time).
/// Decimated reads (`read_with` with an output shape) go through GDAL's
/// RasterIO, which knows only `nearest`, `bilinear`, `cubic`,
/// `cubicspline`, `lanczos`, `average`, `mode` and `rms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Resampling {
    #[default]
    Nearest,
    Bilinear,
    Cubic,
    CubicSpline,
    Lanczos,
    Average,
    Mode,
    Min,
    Max,
    Med,
    Q1,
    Q3,
    Sum,
    Rms,
}

impl Resampling {
    /// Every method, in the order of the names above.
    pub const ALL: [Resampling; 14] = [
        Self::Nearest,
        Self::Bilinear,
        Self::Cubic,
        Self::CubicSpline,
        Self::Lanczos,
        Self::Average,
        Self::Mode,
        Self::Min,
        Self::Max,
        Self::Med,
        Self::Q1,
        Self::Q3,
        Self::Sum,
        Self::Rms,
    ];

    /// The method's name (`nearest`, `cubicspline`, `q1` ...), as GDAL's
    /// `-r` option spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nearest => "nearest",
            Self::Bilinear => "bilinear",
            Self::Cubic => "cubic",
            Self::CubicSpline => "cubicspline",
            Self::Lanczos => "lanczos",
            Self::Average => "average",
            Self::Mode => "mode",
            Self::Min => "min",
            Self::Max => "max",
            Self::Med => "med",
            Self::Q1 => "q1",
            Self::Q3 => "q3",
            Self::Sum => "sum",
            Self::Rms => "rms",
        }
    }

    /// Minimum GDAL version (as `major * 100 + minor`) the warper needs.
    fn min_version(self) -> (u32, &'static str) {
        match self {
            Self::Sum => (301, "3.1"),
            Self::Rms => (303, "3.3"),
            _ => (0, "any"),
        }
    }

    /// The name gdalwarp's `-r` takes, or a typed error when this GDAL's
    /// warper lacks the method.
    pub(crate) fn warp_name(self) -> Result<&'static str> {
        let (needs, needs_str) = self.min_version();
        if gdal_version_num() < needs {
            return Err(RasterError::UnsupportedResampling {
                method: self.as_str().into(),
                needs: needs_str,
                have: gdal_version_string(),
            });
        }
        Ok(match self {
            Self::Nearest => "near",
            other => other.as_str(),
        })
    }

    /// RasterIO's algorithm (decimated reads), or an error for the methods
    /// RasterIO does not have.
    pub(crate) fn to_rasterio(self) -> Result<GDALRIOResampleAlg::Type> {
        Ok(match self {
            Self::Nearest => GDALRIOResampleAlg::GRIORA_NearestNeighbour,
            Self::Bilinear => GDALRIOResampleAlg::GRIORA_Bilinear,
            Self::Cubic => GDALRIOResampleAlg::GRIORA_Cubic,
            Self::CubicSpline => GDALRIOResampleAlg::GRIORA_CubicSpline,
            Self::Lanczos => GDALRIOResampleAlg::GRIORA_Lanczos,
            Self::Average => GDALRIOResampleAlg::GRIORA_Average,
            Self::Mode => GDALRIOResampleAlg::GRIORA_Mode,
            Self::Rms if gdal_version_num() >= 303 => GDALRIOResampleAlg::GRIORA_RMS,
            other => {
                return Err(RasterError::InvalidArgument(format!(
                    "resampling '{other}' is only available for warps, not for decimated reads"
                )));
            }
        })
    }
}

impl fmt::Display for Resampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resampling {
    type Err = RasterError;

    /// Parse a name (case-insensitive; `near` and `nearest_neighbour` are
    /// accepted for `nearest`, `median` for `med`).
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let found = match lower.as_str() {
            "near" | "nearest_neighbour" | "nearest_neighbor" => Some(Self::Nearest),
            "median" => Some(Self::Med),
            other => Self::ALL.into_iter().find(|r| r.as_str() == other),
        };
        found.ok_or_else(|| {
            RasterError::InvalidArgument(format!(
                "unknown resampling '{s}' (expected one of {})",
                Self::ALL.map(Self::as_str).join(", ")
            ))
        })
    }
}

/// The running GDAL version as `major * 100 + minor`.
pub(crate) fn gdal_version_num() -> u32 {
    static VERSION: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        let n: u32 = gdal::version::version_info("VERSION_NUM")
            .parse()
            .unwrap_or(0);
        // VERSION_NUM is major*1000000 + minor*10000 + rev*100.
        n / 1_000_000 * 100 + (n / 10_000) % 100
    })
}

fn gdal_version_string() -> String {
    gdal::version::version_info("RELEASE_NAME")
}
