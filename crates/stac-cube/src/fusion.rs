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
        matches!(self.acc, Accum::First { .. } | Accum::FirstByFill { .. })
            && self.scale == 1.0
            && self.offset == 0.0
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

/// First-valid fusion of one run of pixels into a block whose sources all
/// have the fill as nodata ([`Accum::FirstByFill`]): a pixel still at the
/// fill takes the source's value (the fill again where the source has
/// nodata). Branch-free, so it vectorizes.
#[inline]
pub(crate) fn take_first_fill<T: Pixel>(out: &mut [T], src: &[T], fill: T) {
    for (o, &v) in out.iter_mut().zip(src) {
        *o = if *o == fill { v } else { *o };
    }
}

/// Whether a block may fuse first-valid without flags
/// ([`Accum::FirstByFill`]): an integer cube, and every source with the
/// cube's fill as its (asset's) nodata, unscaled, on the grid's lattice.
pub(crate) fn by_fill_eligible<T: Pixel>(
    fusion: &Fusion,
    fill: T,
    sources: impl IntoIterator<Item = (Option<f64>, f64, f64, bool)>,
) -> bool {
    let fill = fill.to_f64();
    matches!(fusion, Fusion::First | Fusion::Last)
        && !crate::read::is_float::<T>()
        && sources.into_iter().all(|(nodata, scale, offset, direct)| {
            direct && scale == 1.0 && offset == 0.0 && nodata == Some(fill)
        })
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
    /// First/last valid. `filled` (one flag per pixel) is sized to the
    /// block only when a read first needs it: a block whose only source is
    /// copied whole (`copy_typed`'s plain path) never touches it, so it
    /// costs neither the memset nor, in a block-by-block write, a
    /// megabyte of resident flags per thread.
    First {
        filled: Vec<bool>,
        len: usize,
        remaining: usize,
    },
    /// First/last-valid fusion of a block whose every source has the cube's
    /// fill as its nodata (and copies in the cube's type): a pixel is filled
    /// exactly when it is not the fill, so no flags are kept. `touched` are
    /// the block-relative rectangles (`[row0, row1, col0, col1]`) sources
    /// were fused into so far: outside them every pixel is still the fill,
    /// and a source's pixels there are copied as they are (its nodata is
    /// the fill). Any other way of fusing turns it into [`Accum::First`]
    /// ([`Accum::need_flags`]).
    FirstByFill { fill: f64, touched: Vec<[usize; 4]> },
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
                filled: reuse(&mut scratch.flags, 0, false),
                len: n,
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

    /// First-valid fusion without flags ([`Accum::FirstByFill`]); see
    /// [`by_fill_eligible`] for when a block may use it.
    pub(crate) fn first_by_fill(fill: f64) -> Self {
        Self::FirstByFill {
            fill,
            touched: Vec::new(),
        }
    }

    /// Turn [`Accum::FirstByFill`] into [`Accum::First`]: the flags are the
    /// pixels of `out` that are not the fill (exact, since every source
    /// fused so far had the fill as its nodata and copied its values).
    pub(crate) fn need_flags<T: Pixel>(&mut self, out: &[T]) {
        if let Self::FirstByFill { fill, .. } = *self {
            let filled: Vec<bool> = out.iter().map(|v| v.to_f64() != fill).collect();
            let remaining = filled.iter().filter(|&&f| !f).count();
            *self = Self::First {
                len: filled.len(),
                filled,
                remaining,
            };
        }
    }

    /// The filled flags and the count of unfilled pixels (first/last fusion).
    pub(crate) fn first_parts(&mut self) -> Option<(&mut [bool], &mut usize)> {
        match self {
            Self::First {
                filled,
                len,
                remaining,
            } => {
                filled.resize(*len, false);
                Some((filled, remaining))
            }
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
        if matches!(self, Self::FirstByFill { .. }) {
            // Not reached by the readers (they call `need_flags` first).
            self.need_flags(out);
        }
        match self {
            Self::FirstByFill { .. } => {}
            Self::First {
                filled,
                len,
                remaining,
            } => {
                if filled.len() != *len {
                    filled.resize(*len, false);
                }
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
            Self::FirstByFill { .. } => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `take_first` over `sources` in order, into a block of `fill`.
    fn first_of<T: Pixel>(
        fill: T,
        sources: &[(&[T], Option<T>)],
        float: bool,
    ) -> (Vec<T>, Vec<bool>, usize) {
        let n = sources[0].0.len();
        let mut out = vec![fill; n];
        let mut filled = vec![false; n];
        let mut total = 0;
        for (src, nd) in sources {
            total += take_first(&mut out, &mut filled, src, *nd, float);
        }
        (out, filled, total)
    }

    #[test]
    fn take_first_keeps_the_first_valid_pixel_across_sources() {
        // Source A has nodata 0 at pixels 1 and 3; B fills those, and its
        // values elsewhere never replace A's.
        let a: &[u16] = &[10, 0, 30, 0, 50];
        let b: &[u16] = &[99, 20, 99, 40, 99];
        let (out, filled, n) = first_of(0u16, &[(a, Some(0)), (b, Some(0))], false);
        assert_eq!(out, [10, 20, 30, 40, 50]);
        assert!(filled.iter().all(|&f| f));
        assert_eq!(n, 5);
    }

    #[test]
    fn take_first_leaves_pixels_no_source_has_as_fill() {
        let a: &[u16] = &[7, 7, 7, 7];
        let b: &[u16] = &[0, 3, 7, 0];
        let c: &[u16] = &[0, 0, 0, 0];
        // A's nodata is 7: only B contributes, and pixels 0 and 3 are
        // nodata in every source.
        let (out, filled, n) = first_of(9u16, &[(a, Some(7)), (b, Some(0)), (c, Some(0))], false);
        assert_eq!(out, [9, 3, 7, 9]);
        assert_eq!(filled, [false, true, true, false]);
        assert_eq!(n, 2);
    }

    #[test]
    fn take_first_without_nodata_takes_every_pixel_of_the_first_source() {
        let a: &[i16] = &[0, -1, 5];
        let b: &[i16] = &[8, 8, 8];
        let (out, _, n) = first_of(-9i16, &[(a, None), (b, None)], false);
        assert_eq!(out, [0, -1, 5]);
        assert_eq!(n, 3);
    }

    #[test]
    fn take_first_skips_nan_and_nan_nodata_in_floats() {
        let nan = f32::NAN;
        let a: &[f32] = &[nan, 1.5, -2.0, nan];
        let b: &[f32] = &[4.0, 9.0, nan, nan];
        // NaN as declared nodata: `Some(NaN)` must not make NaN valid
        // (NaN != NaN) nor make every pixel invalid.
        let (out, filled, n) = first_of(nan, &[(a, Some(nan)), (b, Some(nan))], true);
        assert_eq!(&out[..3], [4.0, 1.5, -2.0]);
        assert!(out[3].is_nan());
        assert_eq!(filled, [true, true, true, false]);
        assert_eq!(n, 3);
        // A finite nodata in a float source: it and NaN are both invalid.
        let c: &[f64] = &[-9999.0, f64::NAN, 3.0];
        let d: &[f64] = &[1.0, 2.0, 4.0];
        let (out, _, n) = first_of(0.0f64, &[(c, Some(-9999.0)), (d, None)], true);
        assert_eq!(out, [1.0, 2.0, 3.0]);
        assert_eq!(n, 3);
    }

    #[test]
    fn take_first_handles_partial_overlaps_and_long_runs() {
        // Two sources overlapping on a sub-run of a row: the second only
        // covers [3, 8) of the block, as copy_typed hands it a sub-slice.
        let mut out = vec![0u16; 10];
        let mut filled = vec![false; 10];
        let a: Vec<u16> = vec![1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(take_first(&mut out, &mut filled, &a, Some(0), false), 4);
        let b: Vec<u16> = vec![2; 5];
        assert_eq!(
            take_first(&mut out[3..8], &mut filled[3..8], &b, Some(0), false),
            4
        );
        assert_eq!(out, [1, 1, 1, 1, 2, 2, 2, 2, 0, 0]);
        // Longer than one counting chunk (u16 count per 32 Ki pixels).
        let n = (1 << 16) + 123;
        let mut out = vec![0u16; n];
        let mut filled = vec![false; n];
        let src: Vec<u16> = (0..n).map(|i| (i % 3) as u16).collect();
        let want = src.iter().filter(|&&v| v != 0).count();
        assert_eq!(
            take_first(&mut out, &mut filled, &src, Some(0), false),
            want
        );
        assert_eq!(out, src);
    }

    /// Push `sources` (values per pixel, NaN = no contribution) through an
    /// accumulator and finish it into a block of `fill`.
    fn fuse(fusion: Fusion, fill: f64, sources: &[&[f64]]) -> Vec<f64> {
        let n = sources[0].len();
        let mut scratch = Scratch::<f64>::default();
        let mut out = vec![fill; n];
        let mut acc = Accum::new(&fusion, n, &mut scratch);
        for src in sources {
            acc.begin_source();
            for (i, &v) in src.iter().enumerate() {
                if !v.is_nan() {
                    acc.push(&mut out, i, v);
                }
            }
            acc.end_source();
        }
        acc.finish(&mut out, &mut scratch);
        out
    }

    #[test]
    fn accumulators_fuse_valid_contributions_only() {
        let nan = f64::NAN;
        let a: &[f64] = &[1.0, nan, 5.0, nan];
        let b: &[f64] = &[3.0, 2.0, nan, nan];
        let c: &[f64] = &[8.0, nan, 6.0, nan];
        let fill = -1.0;
        assert_eq!(fuse(Fusion::First, fill, &[a, b, c]), [1.0, 2.0, 5.0, fill]);
        assert_eq!(fuse(Fusion::Min, fill, &[a, b, c]), [1.0, 2.0, 5.0, fill]);
        assert_eq!(fuse(Fusion::Max, fill, &[a, b, c]), [8.0, 2.0, 6.0, fill]);
        assert_eq!(fuse(Fusion::Sum, fill, &[a, b, c]), [12.0, 2.0, 11.0, fill]);
        assert_eq!(fuse(Fusion::Mean, fill, &[a, b, c]), [4.0, 2.0, 5.5, fill]);
        assert_eq!(fuse(Fusion::Count, fill, &[a, b, c]), [3.0, 1.0, 2.0, 0.0]);
        assert_eq!(
            fuse(Fusion::Median, fill, &[a, b, c]),
            [3.0, 2.0, 5.5, fill]
        );
        let keep_larger = Fusion::custom(|dst, src| {
            for (d, s) in dst.iter_mut().zip(src) {
                if d.is_nan() || *s > *d {
                    *d = *s;
                }
            }
        });
        assert_eq!(fuse(keep_larger, fill, &[a, b, c]), [8.0, 2.0, 6.0, fill]);
    }

    #[test]
    fn first_accumulator_counts_down_to_complete() {
        let mut scratch = Scratch::<u16>::default();
        let mut out = vec![0u16; 3];
        let mut acc = Accum::new(&Fusion::First, 3, &mut scratch);
        acc.push(&mut out, 0, 4.0);
        acc.push(&mut out, 0, 9.0);
        acc.push(&mut out, 2, 6.4);
        assert!(!acc.complete());
        acc.push(&mut out, 1, 5.6);
        assert!(acc.complete());
        acc.finish(&mut out, &mut scratch);
        // Integer cubes round: 6.4 → 6, 5.6 → 6.
        assert_eq!(out, [4, 6, 6]);
    }
}
