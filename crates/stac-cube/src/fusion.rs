//! Fusion, the last step of a load (plan → place → read → **fuse**):
//! [`Fusion`], how the items of one group become one timestep, and the
//! per-block state that applies it ([`Accum`], [`Fuse`], [`take_first`]).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use stac_raster::Pixel;

use crate::error::{CubeError, invalid};
use crate::read::{Scratch, cast};

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

/// Where one source's valid pixels go: the block's fusion state and output.
pub(crate) struct Fuse<'a, T> {
    pub(crate) acc: &'a mut Accum,
    pub(crate) out: &'a mut [T],
    pub(crate) scale: f64,
    pub(crate) offset: f64,
    /// The cube's fill value (its nodata).
    pub(crate) fill: T,
    /// The only source of its block: nothing was or will be fused with it.
    pub(crate) alone: bool,
}

impl<T: Pixel> Fuse<'_, T> {
    #[inline]
    pub(crate) fn push(&mut self, idx: usize, v: f64) {
        self.acc.push(self.out, idx, v * self.scale + self.offset);
    }

    /// First/last-valid fusion of unscaled values: pixels can be copied in
    /// the cube's type when the source stores that same type.
    pub(crate) fn typed(&self) -> bool {
        matches!(self.acc, Accum::First { .. }) && self.scale == 1.0 && self.offset == 0.0
    }
}

/// First-valid fusion of one contiguous run of pixels (valid: not the
/// source's nodata, not NaN); returns how many pixels it filled.
#[inline]
pub(crate) fn take_first<T: Pixel>(
    out: &mut [T],
    filled: &mut [bool],
    src: &[T],
    nodata: Option<T>,
    float: bool,
) -> usize {
    /// Branch-free, with a 16-bit count per chunk, so that it vectorizes
    /// at the width of 16-bit pixels.
    #[inline(always)]
    fn run<T: Pixel>(
        out: &mut [T],
        filled: &mut [bool],
        src: &[T],
        valid: impl Fn(T) -> bool,
    ) -> usize {
        const CHUNK: usize = 1 << 15;
        let mut n = 0;
        for ((out, filled), src) in out
            .chunks_mut(CHUNK)
            .zip(filled.chunks_mut(CHUNK))
            .zip(src.chunks(CHUNK))
        {
            let mut k: u16 = 0;
            for ((o, f), &v) in out.iter_mut().zip(filled.iter_mut()).zip(src) {
                let take = !*f & valid(v);
                *o = if take { v } else { *o };
                *f |= take;
                k += u16::from(take);
            }
            n += usize::from(k);
        }
        n
    }
    #[allow(clippy::eq_op)] // `v == v` is false for NaN only
    match (nodata, float) {
        (Some(nd), false) => run(out, filled, src, |v| v != nd),
        (None, false) => run(out, filled, src, |_| true),
        (nd, true) => run(out, filled, src, |v| v == v && Some(v) != nd),
    }
}

/// The statistic a [`Accum::Stats`] block computes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stat {
    Min,
    Max,
    Sum,
    Mean,
    Count,
}

/// Per-block fusion state.
pub(crate) enum Accum {
    First {
        filled: Vec<bool>,
        remaining: usize,
    },
    Stats {
        kind: Stat,
        acc: Vec<f64>,
        n: Vec<u32>,
    },
    Stack {
        layers: Vec<Vec<f64>>,
        cur: Vec<f64>,
        custom: Option<FuseFn>,
    },
}

impl Accum {
    /// The state of a block of `n` pixels, in buffers recycled from `scratch`.
    pub(crate) fn new<T>(fusion: &Fusion, n: usize, scratch: &mut Scratch<T>) -> Self {
        fn reuse<V: Copy>(spare: &mut Vec<V>, n: usize, init: V) -> Vec<V> {
            let mut v = std::mem::take(spare);
            v.clear();
            v.resize(n, init);
            v
        }
        let mut stats = |kind: Stat, init: f64| Self::Stats {
            kind,
            acc: reuse(&mut scratch.acc, n, init),
            n: reuse(&mut scratch.counts, n, 0),
        };
        match fusion {
            Fusion::First | Fusion::Last => Self::First {
                filled: reuse(&mut scratch.flags, n, false),
                remaining: n,
            },
            Fusion::Min => stats(Stat::Min, f64::INFINITY),
            Fusion::Max => stats(Stat::Max, f64::NEG_INFINITY),
            Fusion::Sum => stats(Stat::Sum, 0.0),
            Fusion::Mean => stats(Stat::Mean, 0.0),
            Fusion::Count => stats(Stat::Count, 0.0),
            Fusion::Median => Self::Stack {
                layers: Vec::new(),
                cur: Vec::new(),
                custom: None,
            },
            Fusion::Custom(f) => Self::Stack {
                layers: Vec::new(),
                cur: Vec::new(),
                custom: Some(f.clone()),
            },
        }
    }

    /// The filled flags and the count of unfilled pixels (first/last fusion).
    pub(crate) fn first_parts(&mut self) -> Option<(&mut [bool], &mut usize)> {
        match self {
            Self::First { filled, remaining } => Some((filled, remaining)),
            _ => None,
        }
    }

    /// Every pixel already has its final value (first-valid mosaics).
    pub(crate) fn complete(&self) -> bool {
        matches!(self, Self::First { remaining: 0, .. })
    }

    pub(crate) fn begin_source(&mut self) {
        if let Self::Stack { cur, .. } = self {
            cur.clear();
        }
    }

    #[inline]
    pub(crate) fn push<T: Pixel>(&mut self, out: &mut [T], idx: usize, v: f64) {
        match self {
            Self::First { filled, remaining } => {
                if !filled[idx] {
                    filled[idx] = true;
                    *remaining -= 1;
                    out[idx] = cast(v);
                }
            }
            Self::Stats { kind, acc, n } => {
                let a = &mut acc[idx];
                match kind {
                    Stat::Min => *a = a.min(v),
                    Stat::Max => *a = a.max(v),
                    Stat::Sum | Stat::Mean => *a += v,
                    Stat::Count => {}
                }
                n[idx] += 1;
            }
            Self::Stack { cur, .. } => {
                if cur.len() < out.len() {
                    cur.resize(out.len(), f64::NAN);
                }
                cur[idx] = v;
            }
        }
    }

    pub(crate) fn end_source(&mut self) {
        if let Self::Stack {
            layers,
            cur,
            custom,
        } = self
        {
            if cur.is_empty() {
                return;
            }
            let layer = std::mem::take(cur);
            match custom {
                Some(f) => match layers.first_mut() {
                    Some(dst) => f(dst, &layer),
                    None => layers.push(layer),
                },
                None => layers.push(layer),
            }
        }
    }

    /// Write the block's final values and give the buffers back to `scratch`.
    pub(crate) fn finish<T: Pixel>(self, out: &mut [T], scratch: &mut Scratch<T>) {
        match self {
            Self::First { filled, .. } => scratch.flags = filled,
            Self::Stats { kind, acc, n } => {
                for i in 0..out.len() {
                    let k = n[i];
                    if kind == Stat::Count {
                        out[i] = cast(k as f64);
                    } else if k > 0 {
                        out[i] = cast(match kind {
                            Stat::Mean => acc[i] / k as f64,
                            _ => acc[i],
                        });
                    }
                }
                (scratch.acc, scratch.counts) = (acc, n);
            }
            Self::Stack { layers, custom, .. } => {
                if custom.is_some() {
                    if let Some(dst) = layers.first() {
                        for (o, v) in out.iter_mut().zip(dst) {
                            if !v.is_nan() {
                                *o = cast(*v);
                            }
                        }
                    }
                    return;
                }
                let mut vals: Vec<f64> = Vec::with_capacity(layers.len());
                for (i, o) in out.iter_mut().enumerate() {
                    vals.clear();
                    vals.extend(layers.iter().map(|l| l[i]).filter(|v| !v.is_nan()));
                    if vals.is_empty() {
                        continue;
                    }
                    vals.sort_by(f64::total_cmp);
                    let m = vals.len() / 2;
                    let med = if vals.len() % 2 == 1 {
                        vals[m]
                    } else {
                        (vals[m - 1] + vals[m]) / 2.0
                    };
                    *o = cast(med);
                }
            }
        }
    }
}
