//! `wkb`: structure-aware WKB (the `arbitrary` crate) → the GeoParquet
//! reader's WKB decoder, directly and through a Parquet file.
//!
//! The input is a geometry tree (every WKB type, 2-D and 3-D, nested
//! GeometryCollections, and `Nest` nodes that wrap a geometry in up to
//! 65,535 collections from two bytes of input), encoded here in either byte
//! order, as ISO or EWKB (with an SRID), with or without M values, then
//! optionally damaged (a count set to 2^32-1, a byte changed, the value
//! cut short). Limits (depth, element count, size, one item's budget) and
//! the non-finite rule are drawn too.
//!
//! Invariants: never a panic or a stack overflow; an undamaged geometry
//! within the limits decodes to exactly the GeoJSON the tree describes, and
//! what the decoder counted equals what that GeoJSON takes by
//! `stac_meta::budget::value_cost`; a geometry nested deeper than the limit
//! is refused with the depth limit's name; the writer's WKB of the result
//! decodes back to it. One input in 16 goes through a real Parquet file
//! (`to_geoparquet`'s reader path, with `geo` metadata).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use stac_geoparquet::{NonFinite, ReadOptions};

/// A coordinate: a few special values, or any f64.
#[derive(Debug, Clone, Copy)]
struct Coord(f64);

impl<'a> Arbitrary<'a> for Coord {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Coord(match u.int_in_range(0..=9u8)? {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => 0.0,
            4 => f64::from(u.int_in_range(-180..=180i32)?),
            5 => 1e308,
            _ => f64::from_bits(u.arbitrary()?),
        }))
    }
}

#[derive(Debug, Clone, Arbitrary)]
struct Pos(Coord, Coord, Coord, Coord);

#[derive(Debug, Clone, Arbitrary)]
enum Geom {
    Point(Pos),
    EmptyPoint,
    LineString(Vec<Pos>),
    Polygon(Vec<Vec<Pos>>),
    MultiPoint(Vec<Pos>),
    MultiLineString(Vec<Vec<Pos>>),
    MultiPolygon(Vec<Vec<Vec<Pos>>>),
    Collection(Vec<Geom>),
    /// `depth` GeometryCollections around `inner`.
    Nest(u16, Box<Geom>),
}

#[derive(Debug, Arbitrary)]
enum Damage {
    /// Overwrite the byte at this position (modulo the length).
    Byte(u16, u8),
    /// Set the 4 bytes at this position to 0xFFFFFFFF (a huge count).
    HugeCount(u16),
    /// Cut the value to this length.
    Truncate(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    geom: Geom,
    big_endian: bool,
    ewkb: bool,
    srid: u32,
    z: bool,
    m: bool,
    damage: Vec<Damage>,
    depth_limit: u8,
    count_limit: u16,
    value_limit_kib: u16,
    null_non_finite: bool,
    through_parquet: u8,
}

struct Encoder {
    out: Vec<u8>,
    be: bool,
    ewkb: bool,
    srid: u32,
    z: bool,
    m: bool,
}

impl Encoder {
    fn u32(&mut self, v: u32) {
        self.out.extend(if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }

    fn f64(&mut self, v: f64) {
        self.out.extend(if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }

    fn header(&mut self, code: u32) {
        self.out.push(u8::from(!self.be));
        let code = if self.ewkb {
            let mut c = code | 0x2000_0000;
            if self.z {
                c |= 0x8000_0000;
            }
            if self.m {
                c |= 0x4000_0000;
            }
            c
        } else {
            code + match (self.z, self.m) {
                (false, false) => 0,
                (true, false) => 1000,
                (false, true) => 2000,
                (true, true) => 3000,
            }
        };
        self.u32(code);
        if self.ewkb {
            self.u32(self.srid);
        }
    }

    fn pos(&mut self, p: &Pos) {
        self.f64(p.0.0);
        self.f64(p.1.0);
        if self.z {
            self.f64(p.2.0);
        }
        if self.m {
            self.f64(p.3.0);
        }
    }

    fn empty_pos(&mut self) {
        let n = 2 + usize::from(self.z) + usize::from(self.m);
        for _ in 0..n {
            self.f64(f64::NAN);
        }
    }

    fn positions(&mut self, ps: &[Pos]) {
        self.u32(ps.len() as u32);
        ps.iter().for_each(|p| self.pos(p));
    }

    fn rings(&mut self, rs: &[Vec<Pos>]) {
        self.u32(rs.len() as u32);
        rs.iter().for_each(|r| self.positions(r));
    }

    fn geom(&mut self, g: &Geom) {
        match g {
            Geom::Point(p) => {
                self.header(1);
                self.pos(p);
            }
            Geom::EmptyPoint => {
                self.header(1);
                self.empty_pos();
            }
            Geom::LineString(ps) => {
                self.header(2);
                self.positions(ps);
            }
            Geom::Polygon(rs) => {
                self.header(3);
                self.rings(rs);
            }
            Geom::MultiPoint(ps) => {
                self.header(4);
                self.u32(ps.len() as u32);
                for p in ps {
                    self.header(1);
                    self.pos(p);
                }
            }
            Geom::MultiLineString(ls) => {
                self.header(5);
                self.u32(ls.len() as u32);
                for l in ls {
                    self.header(2);
                    self.positions(l);
                }
            }
            Geom::MultiPolygon(ps) => {
                self.header(6);
                self.u32(ps.len() as u32);
                for p in ps {
                    self.header(3);
                    self.rings(p);
                }
            }
            Geom::Collection(gs) => {
                self.header(7);
                self.u32(gs.len() as u32);
                gs.iter().for_each(|g| self.geom(g));
            }
            Geom::Nest(depth, inner) => {
                for _ in 0..*depth {
                    self.header(7);
                    self.u32(1);
                }
                self.geom(inner);
            }
        }
    }
}

/// What the decoder must give for `g`: `Err(())` when a coordinate is
/// non-finite and the rule is to refuse. Also the nesting depth and the
/// element count (positions, rings, parts) of the geometry.
struct Expect {
    z: bool,
    depth: usize,
    max_depth: usize,
    count: u64,
    non_finite: bool,
}

impl Expect {
    fn num(&mut self, f: f64) -> Value {
        match serde_json::Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None => {
                self.non_finite = true;
                Value::Null
            }
        }
    }

    fn pos(&mut self, p: &Pos) -> Value {
        let mut c = vec![p.0.0, p.1.0];
        if self.z {
            c.push(p.2.0);
        }
        if c.iter().all(|f| f.is_nan()) {
            return json!([]);
        }
        Value::Array(c.into_iter().map(|f| self.num(f)).collect())
    }

    fn positions(&mut self, ps: &[Pos]) -> Value {
        self.count += ps.len() as u64;
        Value::Array(ps.iter().map(|p| self.pos(p)).collect())
    }

    fn rings(&mut self, rs: &[Vec<Pos>]) -> Value {
        self.count += rs.len() as u64;
        Value::Array(rs.iter().map(|r| self.positions(r)).collect())
    }

    fn open(&mut self, parts: usize) {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        self.count += parts as u64;
    }

    fn geom(&mut self, g: &Geom) -> Value {
        let (kind, member, value) = match g {
            Geom::Point(p) => ("Point", "coordinates", self.pos(p)),
            Geom::EmptyPoint => ("Point", "coordinates", json!([])),
            Geom::LineString(ps) => ("LineString", "coordinates", self.positions(ps)),
            Geom::Polygon(rs) => ("Polygon", "coordinates", self.rings(rs)),
            Geom::MultiPoint(ps) => {
                self.open(ps.len());
                let v = Value::Array(ps.iter().map(|p| self.pos(p)).collect());
                self.depth -= 1;
                ("MultiPoint", "coordinates", v)
            }
            Geom::MultiLineString(ls) => {
                self.open(ls.len());
                let v = Value::Array(ls.iter().map(|l| self.positions(l)).collect());
                self.depth -= 1;
                ("MultiLineString", "coordinates", v)
            }
            Geom::MultiPolygon(ps) => {
                self.open(ps.len());
                let v = Value::Array(ps.iter().map(|p| self.rings(p)).collect());
                self.depth -= 1;
                ("MultiPolygon", "coordinates", v)
            }
            Geom::Collection(gs) => {
                self.open(gs.len());
                let v = Value::Array(gs.iter().map(|g| self.geom(g)).collect());
                self.depth -= 1;
                ("GeometryCollection", "geometries", v)
            }
            Geom::Nest(depth, inner) => {
                let depth = usize::from(*depth);
                self.depth += depth;
                self.max_depth = self.max_depth.max(self.depth);
                self.count += depth as u64;
                let mut v = self.geom(inner);
                self.depth -= depth;
                // Deeper than any drawn limit (< 80): refused, never compared,
                // and not built (a deep Value would be slow to drop).
                if self.depth + depth > 100 {
                    return Value::Null;
                }
                for _ in 0..depth {
                    v = json!({"type": "GeometryCollection", "geometries": [v]});
                }
                return v;
            }
        };
        json!({"type": kind, member: value})
    }
}

/// Total size of the tree (to skip inputs that would be slow, not wrong).
fn size(g: &Geom) -> usize {
    match g {
        Geom::Point(_) | Geom::EmptyPoint => 1,
        Geom::LineString(p) | Geom::MultiPoint(p) => 1 + p.len(),
        Geom::Polygon(r) | Geom::MultiLineString(r) => 1 + r.iter().map(Vec::len).sum::<usize>(),
        Geom::MultiPolygon(p) => 1 + p.iter().flatten().map(Vec::len).sum::<usize>(),
        Geom::Collection(g) => 1 + g.iter().map(size).sum::<usize>(),
        Geom::Nest(d, g) => usize::from(*d) + size(g),
    }
}

/// The geometry of a one-row GeoParquet file (with `geo` metadata naming
/// its geometry column) holding `wkb`, read with `options`.
fn through_parquet(wkb: &[u8], options: &ReadOptions) -> Result<Value, String> {
    use std::sync::Arc;
    let root = if std::path::Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = root.join(format!("stac-gdal-fuzz-wkb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("g.parquet");
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Utf8, false),
        arrow_schema::Field::new("geometry", arrow_schema::DataType::Binary, true),
    ]));
    let batch = arrow_array::RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::StringArray::from(vec!["g"])),
            Arc::new(arrow_array::BinaryArray::from(vec![wkb])),
        ],
    )
    .map_err(|e| e.to_string())?;
    let geo = json!({"version": "1.1.0", "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}}});
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "geo".to_owned(),
            geo.to_string(),
        )]))
        .build();
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props))
        .map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    let mut items =
        stac_geoparquet::from_geoparquet_with(&path, options).map_err(|e| e.to_string())?;
    Ok(items
        .pop()
        .map(|mut i| i["geometry"].take())
        .unwrap_or(Value::Null))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    if size(&input.geom) > 200_000 {
        return;
    }
    let mut enc = Encoder {
        out: Vec::new(),
        be: input.big_endian,
        ewkb: input.ewkb,
        srid: input.srid,
        z: input.z,
        m: input.m,
    };
    enc.geom(&input.geom);
    let mut wkb = enc.out;
    let damaged = !input.damage.is_empty();
    for d in &input.damage {
        if wkb.is_empty() {
            break;
        }
        match *d {
            Damage::Byte(at, v) => {
                let at = usize::from(at) % wkb.len();
                wkb[at] = v;
            }
            Damage::HugeCount(at) => {
                let at = usize::from(at) % wkb.len();
                for b in wkb.iter_mut().skip(at).take(4) {
                    *b = 0xFF;
                }
            }
            Damage::Truncate(n) => wkb.truncate(usize::from(n) % (wkb.len() + 1)),
        }
    }
    let depth_limit = u32::from(input.depth_limit % 80);
    let options = ReadOptions::default()
        .with_wkb_max_depth(depth_limit)
        .with_wkb_max_count(u64::from(input.count_limit) * 16 + 1)
        .with_max_value_bytes((u64::from(input.value_limit_kib) + 1) * 1024)
        .with_non_finite(if input.null_non_finite {
            NonFinite::Null
        } else {
            NonFinite::Error
        });
    let via_parquet = input.through_parquet % 16 == 0;
    let got = if via_parquet {
        through_parquet(&wkb, &options).map(|v| (v, None))
    } else {
        stac_geoparquet::wkb_to_geojson(&wkb, &options).map(|(v, used)| (v, Some(used)))
    };
    if damaged {
        // Anything but a crash; what decodes must be a geometry object.
        if let Ok((v, _)) = &got {
            assert!(v.is_object() || v.is_null(), "{v}");
        }
        return;
    }
    let mut expect = Expect {
        z: input.z,
        depth: 0,
        max_depth: 0,
        count: 0,
        non_finite: false,
    };
    let expected = expect.geom(&input.geom);
    let too_deep = expect.max_depth > depth_limit as usize;
    // Refusals the input explains: a limit (the decoder reads in order, so
    // any limit may come first), or a non-finite number under the error rule.
    let explained = |e: &str| {
        e.contains("with_wkb_max_depth")
            || e.contains("with_wkb_max_count")
            || e.contains("with_max_value_bytes")
            || e.contains("with_max_expansion")
            || (expect.non_finite && !input.null_non_finite && e.contains("non-finite"))
    };
    match got {
        Ok(_) if too_deep => panic!(
            "nesting {} > limit {depth_limit} was accepted",
            expect.max_depth
        ),
        Err(e) => {
            assert!(
                explained(&e),
                "unexplained refusal of a valid geometry: {e}"
            );
            if e.contains("with_wkb_max_count") {
                assert!(expect.count > u64::from(input.count_limit) * 16 + 1, "{e}");
            }
            if e.contains("with_wkb_max_depth") {
                assert!(too_deep, "{e}");
            }
        }
        Ok((v, used)) => {
            assert!(
                !(expect.non_finite && !input.null_non_finite),
                "a non-finite coordinate was accepted under NonFinite::Error"
            );
            assert!(
                expect.count <= u64::from(input.count_limit) * 16 + 1,
                "{} elements passed the limit",
                expect.count
            );
            assert_eq!(v, expected);
            if let Some(used) = used {
                assert_eq!(used, stac_meta::budget::value_cost(&v), "{v}");
                assert!(used <= options.max_value_bytes());
            }
            // The writer's WKB of the GeoJSON reads back to it.
            if !expect.non_finite {
                if let Ok(back) = stac_geoparquet::geojson_to_wkb(&v) {
                    // As generous as the limits the value passed (its depth too).
                    let generous = ReadOptions::default()
                        .with_wkb_max_depth(depth_limit)
                        .with_max_value_bytes(u64::MAX)
                        .with_wkb_max_count(u64::MAX);
                    let again = stac_geoparquet::wkb_to_geojson(&back, &generous)
                        .map(|(v, _)| v)
                        .expect("the writer's WKB reads back");
                    assert_eq!(again, v);
                }
            }
        }
    }
});
