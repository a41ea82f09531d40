//! Zarr v2 metadata of a cube: `.zgroup`, `.zattrs`, each variable's
//! `.zarray`/`.zattrs` and the consolidated `.zmetadata`, as xarray's
//! `to_zarr(zarr_format=2, consolidated=True)` lays them out; and the
//! coordinate variables' chunks (`time`, `y`, `x`, `spatial_ref`, the
//! per-timestep strings), each one chunk as xarray writes them.

use serde_json::{Map, Value, json};
use stac_meta::DataType;

use super::codec::Codec;
use crate::layout::{CubeLayout, GRID_MAPPING, number};

/// The numpy type string of a cube type (`<u2`, `|u1`, ...).
pub(crate) fn dtype_str(t: DataType) -> &'static str {
    match t {
        DataType::Uint8 => "|u1",
        DataType::Int8 => "|i1",
        DataType::Uint16 => "<u2",
        DataType::Int16 => "<i2",
        DataType::Uint32 => "<u4",
        DataType::Int32 => "<i4",
        DataType::Float32 => "<f4",
        _ => "<f8",
    }
}

/// One array's `.zarray`.
fn zarray(shape: &[usize], chunks: &[usize], dtype: &str, fill: Value, codec: &Codec) -> Value {
    json!({
        "shape": shape,
        "chunks": chunks,
        "dtype": dtype,
        "fill_value": fill,
        "order": "C",
        "filters": null,
        "dimension_separator": ".",
        "compressor": codec.config(),
        "zarr_format": 2,
    })
}

fn with_dims(mut attrs: Map<String, Value>, dims: &[&str]) -> Value {
    attrs.insert("_ARRAY_DIMENSIONS".into(), json!(dims));
    Value::Object(attrs)
}

/// A coordinate or data variable: name, its metadata documents and (for
/// coordinates) its one chunk's raw bytes.
pub(crate) struct Var {
    pub name: String,
    pub zarray: Value,
    pub zattrs: Value,
    /// Raw (uncompressed) bytes of chunk `0[.0...]`, for coordinates,
    /// and their element size.
    pub chunk: Option<(String, Vec<u8>, usize)>,
}

/// Fixed-width numpy unicode (`<U{n}`): UTF-32LE code points, zero-padded.
fn unicode(values: &[String]) -> (String, Vec<u8>) {
    let n = values
        .iter()
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = Vec::with_capacity(values.len() * n * 4);
    for v in values {
        let mut k = 0;
        for c in v.chars() {
            out.extend_from_slice(&u32::from(c).to_le_bytes());
            k += 1;
        }
        out.resize(out.len() + (n - k) * 4, 0);
    }
    (format!("<U{n}"), out)
}

fn le_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Every variable of the store: coordinates first, then one per band
/// (chunked `chunks` = `(time, y, x)`).
pub(crate) fn variables(layout: &CubeLayout, chunks: [usize; 3], codec: &Codec) -> Vec<Var> {
    let [nt, ny, nx] = layout.shape();
    let mut vars = Vec::new();
    // time: int64 in CF units.
    vars.push(Var {
        name: "time".into(),
        zarray: zarray(&[nt], &[nt.max(1)], "<i8", Value::Null, codec),
        zattrs: with_dims(layout.time_attrs(), &["time"]),
        chunk: Some((
            "0".into(),
            layout
                .time
                .encoded
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            8,
        )),
    });
    for (coord, n) in [(&layout.y, ny), (&layout.x, nx)] {
        vars.push(Var {
            name: coord.name.clone(),
            zarray: zarray(&[n], &[n.max(1)], "<f8", json!("NaN"), codec),
            zattrs: with_dims(coord.attrs(), &[&coord.name]),
            chunk: Some(("0".into(), le_f64(&coord.values), 8)),
        });
    }
    vars.push(Var {
        name: GRID_MAPPING.into(),
        zarray: zarray(&[], &[], "<i4", Value::Null, codec),
        zattrs: with_dims(layout.spatial_ref.attrs(), &[]),
        chunk: Some((
            "0".into(),
            layout.spatial_ref.epsg.to_le_bytes().to_vec(),
            4,
        )),
    });
    for (name, values) in layout.string_coords() {
        let (dtype, bytes) = unicode(&values);
        vars.push(Var {
            name: name.into(),
            zarray: zarray(&[nt], &[nt.max(1)], &dtype, Value::Null, codec),
            zattrs: with_dims(Map::new(), &["time"]),
            chunk: Some(("0".into(), bytes, 4)),
        });
    }
    let dims = layout.dims();
    for b in &layout.bands {
        let fill = b.fill_value.map_or(Value::Null, |v| number(v, b.dtype));
        vars.push(Var {
            name: b.name.clone(),
            zarray: zarray(&[nt, ny, nx], &chunks, dtype_str(b.dtype), fill, codec),
            zattrs: with_dims(b.attrs(), &dims),
            chunk: None,
        });
    }
    vars
}

/// The consolidated metadata (`.zmetadata`) of these variables and
/// global attributes, with `.zgroup` and `.zattrs`.
pub(crate) fn consolidated(vars: &[Var], attrs: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert(".zattrs".into(), Value::Object(attrs.clone()));
    m.insert(".zgroup".into(), json!({"zarr_format": 2}));
    for v in vars {
        m.insert(format!("{}/.zarray", v.name), v.zarray.clone());
        m.insert(format!("{}/.zattrs", v.name), v.zattrs.clone());
    }
    json!({"metadata": m, "zarr_consolidated_format": 1})
}

/// JSON as zarr-python writes metadata: indented by 4, in the order built.
pub(crate) fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).unwrap_or_default();
    out
}

/// Attribute documents (`.zattrs`, `.zmetadata`): as [`to_bytes`], with
/// a non-finite `nodata` written as the bare `NaN`/`Infinity`/`-Infinity`
/// tokens Python's `json` (and so zarr-python and xarray) writes and reads
/// for a float attribute. (`.zarray`'s `fill_value` keeps the quoted
/// strings the Zarr v2 spec asks for.)
pub(crate) fn attrs_to_bytes(v: &Value) -> Vec<u8> {
    bare_nonfinite_nodata(String::from_utf8(to_bytes(v)).unwrap_or_default())
}

/// A non-finite `nodata` attribute as the bare `NaN`/`Infinity` tokens
/// Python's `json` writes (serde_json can only write them as strings).
pub(crate) fn bare_nonfinite_nodata(mut text: String) -> Vec<u8> {
    for token in ["NaN", "Infinity", "-Infinity"] {
        text = text.replace(
            &format!("\"nodata\": \"{token}\""),
            &format!("\"nodata\": {token}"),
        );
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BandInfo, GridDescription};

    #[test]
    fn strings_are_fixed_width_utf32() {
        let (t, b) = unicode(&["ab".into(), "é".into()]);
        assert_eq!(t, "<U2");
        assert_eq!(b, [97, 0, 0, 0, 98, 0, 0, 0, 0xe9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(unicode(&[]).0, "<U1");
    }

    #[test]
    fn band_arrays_carry_the_chunking_type_and_fill() {
        let g = GridDescription::new(
            "W",
            Some(32630),
            false,
            "metre",
            [0.0, 10.0, 0.0, 100.0, 0.0, -10.0],
            10,
            20,
        );
        let l = CubeLayout::new(
            &g,
            &[(None, vec!["a".into()], None)],
            &[BandInfo::new("B04")],
            DataType::Uint16,
            Some(0.0),
        );
        let vars = variables(&l, [1, 4, 8], &Codec::default());
        let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["time", "y", "x", "spatial_ref", "stac_items", "B04"]
        );
        let b = &vars[5];
        assert_eq!(b.zarray["chunks"], json!([1, 4, 8]));
        assert_eq!(b.zarray["shape"], json!([1, 10, 20]));
        assert_eq!(b.zarray["dtype"], "<u2");
        assert_eq!(b.zarray["fill_value"], Value::Null);
        assert_eq!(b.zarray["compressor"]["id"], "zstd");
        assert_eq!(b.zattrs["_ARRAY_DIMENSIONS"], json!(["time", "y", "x"]));
        let c = consolidated(&vars, &l.global_attrs());
        assert_eq!(c["metadata"]["B04/.zarray"], b.zarray);
        assert_eq!(c["metadata"][".zgroup"]["zarr_format"], 2);
        assert_eq!(c["zarr_consolidated_format"], 1);
        assert_eq!(vars[3].chunk.as_ref().unwrap().1, 32630i32.to_le_bytes());
        // A NaN nodata: a bare NaN token, as Python's json writes it.
        let f = CubeLayout::new(
            &g,
            &[],
            &[BandInfo::new("F")],
            DataType::Float32,
            Some(f64::NAN),
        );
        let vars = variables(&f, [1, 4, 8], &Codec::default());
        let text = String::from_utf8(attrs_to_bytes(&vars[5].zattrs)).unwrap();
        assert!(text.contains("\"nodata\": NaN,"), "{text}");
        assert!(
            String::from_utf8(to_bytes(&vars[5].zarray))
                .unwrap()
                .contains("\"fill_value\": \"NaN\"")
        );
    }
}
