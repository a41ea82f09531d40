//! [`Fusion`]: how the items of one group become one timestep.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{CubeError, invalid};

/// A user fusion: `f(dst, src)` over float64 planes where NaN marks nodata;
/// called pairwise in the group's order, mutating `dst` (the first source
/// initialises it). NaN left in `dst` becomes the cube's nodata.
pub type FuseFn = Arc<dyn Fn(&mut [f64], &[f64]) + Send + Sync>;

/// Per-pixel fusion of a group's sources. Nodata and NaN are never valid
/// contributions; a pixel with no valid contribution stays nodata.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Fusion {
    /// The first valid pixel in group order wins (later items fill holes).
    #[default]
    First,
    /// The last valid pixel in group order wins.
    Last,
    /// Minimum of valid pixels.
    Min,
    /// Maximum of valid pixels.
    Max,
    /// Mean of valid pixels.
    Mean,
    /// Median of valid pixels (mean of the two middle values for even counts).
    Median,
    /// Sum of valid pixels.
    Sum,
    /// Number of valid pixels (0 where none; the cube then has no nodata).
    Count,
    /// A closure (see [`FuseFn`]).
    Custom(FuseFn),
}

impl Fusion {
    /// The method's name (`custom` for closures).
    pub fn name(&self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Last => "last",
            Self::Min => "min",
            Self::Max => "max",
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Sum => "sum",
            Self::Count => "count",
            Self::Custom(_) => "custom",
        }
    }

    /// Wrap a closure.
    pub fn custom(f: impl Fn(&mut [f64], &[f64]) + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(f))
    }
}

impl fmt::Debug for Fusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Fusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fusion {
    type Err = CubeError;

    /// ```
    /// use stac_cube::Fusion;
    /// assert_eq!("median".parse::<Fusion>().unwrap().name(), "median");
    /// assert!("avg".parse::<Fusion>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "first" => Self::First,
            "last" => Self::Last,
            "min" => Self::Min,
            "max" => Self::Max,
            "mean" => Self::Mean,
            "median" => Self::Median,
            "sum" => Self::Sum,
            "count" => Self::Count,
            other => {
                return Err(invalid(
                    "fusion",
                    format!(
                        "{other:?} is not one of first, last, min, max, mean, median, sum, count"
                    ),
                ));
            }
        })
    }
}
