//! Row order of written files: as given, or sorted along a Hilbert curve
//! (by bbox centre) or by time, so that row groups and pages cover compact
//! regions of space or time and readers (this crate's search, DuckDB, GDAL,
//! GeoPandas/pyarrow) skip most of them.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::json::Json;

/// The order rows are written in.
///
/// ```
/// use stac_geoparquet::SortOrder;
/// assert_eq!("hilbert".parse::<SortOrder>().unwrap(), SortOrder::Hilbert);
/// assert!("random".parse::<SortOrder>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SortOrder {
    /// The order items were given in (default: the round trip keeps it).
    #[default]
    None,
    /// Along a Hilbert curve through the items' bbox centres (over the
    /// extent of all items), then by time: row groups cover compact areas.
    Hilbert,
    /// By time (`datetime`, or `start_datetime`), then along the Hilbert
    /// curve: row groups cover short periods.
    Time,
}

impl std::fmt::Display for SortOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Hilbert => "hilbert",
            Self::Time => "time",
        })
    }
}

impl FromStr for SortOrder {
    type Err = String;

    /// `none`, `hilbert` or `time`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "hilbert" => Ok(Self::Hilbert),
            "time" | "datetime" => Ok(Self::Time),
            other => Err(format!(
                "unknown sort order {other:?} (none, hilbert, time)"
            )),
        }
    }
}

/// What an item is sorted by: its bbox centre and its time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowKey {
    pub center: Option<[f64; 2]>,
    pub time: Option<i64>,
}

impl RowKey {
    /// The key of one item (centre of `bbox`, else of the geometry's coordinates).
    pub(crate) fn of(item: &Json<'_>) -> Self {
        let center = item
            .get("bbox")
            .and_then(bbox_center)
            .or_else(|| item.get("geometry").and_then(geometry_center));
        let props = item.get("properties");
        let time = ["datetime", "start_datetime"].iter().find_map(|k| {
            props?
                .get(k)?
                .as_str()
                .and_then(stac_meta::parse_datetime)
                .map(|d| d.timestamp_micros())
        });
        Self { center, time }
    }
}

fn bbox_center(b: &Json<'_>) -> Option<[f64; 2]> {
    let n: Vec<f64> = b.as_array()?.iter().filter_map(Json::as_f64).collect();
    let (x0, y0, x1, y1) = match n.len() {
        4 => (n[0], n[1], n[2], n[3]),
        6 => (n[0], n[1], n[3], n[4]),
        _ => return None,
    };
    let c = [(x0 + x1) / 2.0, (y0 + y1) / 2.0];
    (c[0].is_finite() && c[1].is_finite()).then_some(c)
}

fn geometry_center(g: &Json<'_>) -> Option<[f64; 2]> {
    fn walk(v: &Json<'_>, e: &mut Option<[f64; 4]>, depth: usize) {
        let Some(a) = v.as_array() else { return };
        if depth > 8 {
            return;
        }
        if let (Some(x), Some(y)) = (
            a.first().and_then(Json::as_f64),
            a.get(1).and_then(Json::as_f64),
        ) {
            let b = e.get_or_insert([x, y, x, y]);
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y);
            return;
        }
        for c in a {
            walk(c, e, depth + 1);
        }
    }
    let mut e = None;
    walk(g.get("coordinates")?, &mut e, 0);
    let e = e?;
    Some([(e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0])
}

/// Index along a Hilbert curve of order 16 (a 65536 × 65536 grid).
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    const N: u32 = 1 << 16;
    let mut d: u64 = 0;
    let mut s = N / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// The positions of the rows in sorted order: `result[k]` is the input
/// index of the k-th row written.
pub(crate) fn permutation(keys: &[RowKey], order: SortOrder) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..keys.len() as u32).collect();
    if order == SortOrder::None {
        return idx;
    }
    let mut ext: Option<[f64; 4]> = None;
    for c in keys.iter().filter_map(|k| k.center) {
        let e = ext.get_or_insert([c[0], c[1], c[0], c[1]]);
        e[0] = e[0].min(c[0]);
        e[1] = e[1].min(c[1]);
        e[2] = e[2].max(c[0]);
        e[3] = e[3].max(c[1]);
    }
    let cell = |v: f64, lo: f64, hi: f64| -> u32 {
        if hi > lo {
            (((v - lo) / (hi - lo)) * 65535.0).clamp(0.0, 65535.0) as u32
        } else {
            0
        }
    };
    let curve: Vec<u64> = keys
        .iter()
        .map(|k| match (k.center, ext) {
            (Some(c), Some(e)) => hilbert(cell(c[0], e[0], e[2]), cell(c[1], e[1], e[3])),
            _ => u64::MAX,
        })
        .collect();
    let time = |i: usize| keys[i].time.unwrap_or(i64::MAX);
    idx.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        let o: Ordering = match order {
            SortOrder::Time => time(a).cmp(&time(b)).then(curve[a].cmp(&curve[b])),
            _ => curve[a].cmp(&curve[b]).then(time(a).cmp(&time(b))),
        };
        o.then(a.cmp(&b))
    });
    idx
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hilbert_neighbours_stay_close() {
        // The curve visits all 4 quadrants of a 2x2 block in a row.
        let d: Vec<u64> = [(0, 0), (1, 0), (1, 1), (0, 1)]
            .iter()
            .map(|(x, y)| hilbert(*x, *y))
            .collect();
        assert_eq!(d, [0, 1, 2, 3]);
        assert_eq!(hilbert(65535, 0), (1u64 << 32) - 1);
    }

    #[test]
    fn permutations() {
        let items = [
            json!({"bbox": [10, 10, 11, 11], "properties": {"datetime": "2023-01-02T00:00:00Z"}}),
            json!({"bbox": [0, 0, 1, 1], "properties": {"datetime": "2023-01-03T00:00:00Z"}}),
            json!({"geometry": {"type": "Point", "coordinates": [0.2, 0.2]}, "properties": {"start_datetime": "2023-01-01T00:00:00Z"}}),
            json!({"properties": {}}),
        ];
        let keys: Vec<RowKey> = items
            .iter()
            .map(|i| RowKey::of(&crate::json::Json::from_value(i)))
            .collect();
        assert_eq!(permutation(&keys, SortOrder::None), [0, 1, 2, 3]);
        assert_eq!(permutation(&keys, SortOrder::Time), [2, 0, 1, 3]);
        let h = permutation(&keys, SortOrder::Hilbert);
        assert_eq!(h[3], 3, "no position: last");
        assert_eq!(
            h[0..2],
            [2, 1],
            "the two near the origin are neighbours, earliest first"
        );
    }
}
