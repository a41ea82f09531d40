//! Zarr v3 metadata and shards, as zarr-python 3 (through xarray's
//! `to_zarr(zarr_format=3, consolidated=True)` with `encoding={"shards":
//! ...}`) writes them: one `zarr.json` per array and for the root group,
//! whose `consolidated_metadata` (`kind: inline`) holds every array's
//! document; chunk keys `name/c/T/Y/X` (`name/c` for a scalar); band arrays
//! through the `sharding_indexed` codec (inner chunks `bytes` + the
//! compressor, index `bytes` + `crc32c` at the end), coordinates one
//! unsharded chunk each. Dimensions are `dimension_names` (v2's
//! `_ARRAY_DIMENSIONS` is not written); a CF `_FillValue` is an attribute
//! (a float as base64 of its little-endian `f64`, as xarray encodes it),
//! the array's `fill_value` what a reader gives for a missing chunk.

use serde_json::{Map, Value, json};
use stac_meta::DataType;

use super::codec::Codec;
use crate::layout::{CubeLayout, GRID_MAPPING, number};

/// The v3 `data_type` of a cube type.
fn data_type(t: DataType) -> &'static str {
    match t {
        DataType::Uint8 => "uint8",
        DataType::Int8 => "int8",
        DataType::Uint16 => "uint16",
        DataType::Int16 => "int16",
        DataType::Uint32 => "uint32",
        DataType::Int32 => "int32",
        DataType::Float32 => "float32",
        _ => "float64",
    }
}

/// The element size of a cube type in bytes.
pub(crate) fn type_size(t: DataType) -> usize {
    t.bits().map_or(8, |b| (b / 8).max(1) as usize)
}

/// The chunk key of chunk `index` of array `name` (default encoding, `/`).
pub(crate) fn chunk_key(name: &str, index: &[usize]) -> String {
    let mut k = format!("{name}/c");
    for i in index {
        k.push('/');
        k.push_str(&i.to_string());
    }
    k
}

/// CRC-32C (Castagnoli, reflected 0x82F63B78), the `crc32c` codec's
/// checksum, appended little endian.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Standard base64 (with padding).
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// xarray's attribute spelling of a `_FillValue`: an integer as itself, a
/// float as base64 of its `f64` bytes.
fn fill_attr(v: f64, t: DataType) -> Value {
    if t.is_float() {
        json!(base64(&v.to_le_bytes()))
    } else {
        number(v, t)
    }
}

/// One shard of one band: the inner chunks' encoded bytes, in C order over
/// the shard's chunk grid, then the index (`(offset, nbytes)` as two
/// little-endian `u64` per inner chunk, `u64::MAX` twice for one not
/// stored) and its CRC-32C. `inner(i)` gives inner chunk `i`'s encoded
/// bytes, `None` when it lies wholly outside the array.
pub(crate) fn shard<E>(
    n_inner: usize,
    mut inner: impl FnMut(usize) -> Result<Option<Vec<u8>>, E>,
) -> Result<Vec<u8>, E> {
    let mut out = Vec::new();
    let mut index = Vec::with_capacity(n_inner * 16 + 4);
    for i in 0..n_inner {
        match inner(i)? {
            Some(z) => {
                index.extend_from_slice(&(out.len() as u64).to_le_bytes());
                index.extend_from_slice(&(z.len() as u64).to_le_bytes());
                out.extend_from_slice(&z);
            }
            None => {
                index.extend_from_slice(&u64::MAX.to_le_bytes());
                index.extend_from_slice(&u64::MAX.to_le_bytes());
            }
        }
    }
    let crc = crc32c(&index);
    out.extend_from_slice(&index);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// One v3 array: its name, `zarr.json` and (coordinates) its one chunk:
/// key, raw bytes and element size.
pub(crate) struct Array {
    pub name: String,
    pub doc: Value,
    pub chunk: Option<(String, Vec<u8>, usize)>,
}

#[allow(clippy::too_many_arguments)]
fn array_doc(
    shape: &[usize],
    grid_chunks: &[usize],
    data_type: Value,
    fill: Value,
    codecs: Vec<Value>,
    attrs: Map<String, Value>,
    dims: &[&str],
) -> Value {
    json!({
        "shape": shape,
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid_chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": codecs,
        "attributes": attrs,
        "dimension_names": dims,
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    })
}

/// Every array of a v3 store: coordinates first, then one per band
/// (`shards` = the chunk grid, `chunks` = the inner chunks). `None` when
/// the codec has no v3 spelling.
pub(crate) fn arrays(
    layout: &CubeLayout,
    chunks: [usize; 3],
    shards: [usize; 3],
    codec: &Codec,
) -> Option<Vec<Array>> {
    let [nt, ny, nx] = layout.shape();
    let mut out = Vec::new();
    let nan = json!(base64(&f64::NAN.to_le_bytes()));
    out.push(Array {
        name: "time".into(),
        doc: array_doc(
            &[nt],
            &[nt.max(1)],
            json!("int64"),
            json!(0),
            codec.v3_chain(8)?,
            layout.time_attrs(),
            &["time"],
        ),
        chunk: Some((
            chunk_key("time", &[0]),
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
        let mut attrs = coord.attrs();
        attrs.insert("_FillValue".into(), nan.clone());
        out.push(Array {
            name: coord.name.clone(),
            doc: array_doc(
                &[n],
                &[n.max(1)],
                json!("float64"),
                json!("NaN"),
                codec.v3_chain(8)?,
                attrs,
                &[&coord.name],
            ),
            chunk: Some((
                chunk_key(&coord.name, &[0]),
                coord.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                8,
            )),
        });
    }
    out.push(Array {
        name: GRID_MAPPING.into(),
        doc: array_doc(
            &[],
            &[],
            json!("int32"),
            json!(0),
            codec.v3_chain(4)?,
            layout.spatial_ref.attrs(),
            &[],
        ),
        chunk: Some((
            chunk_key(GRID_MAPPING, &[]),
            layout.spatial_ref.epsg.to_le_bytes().to_vec(),
            4,
        )),
    });
    for (name, values) in layout.string_coords() {
        // numpy `<U{n}`: zarr-python 3's `fixed_length_utf32`.
        let n = values
            .iter()
            .map(|v| v.chars().count())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut bytes = Vec::with_capacity(values.len() * n * 4);
        for v in &values {
            let mut k = 0;
            for c in v.chars() {
                bytes.extend_from_slice(&u32::from(c).to_le_bytes());
                k += 1;
            }
            bytes.resize(bytes.len() + (n - k) * 4, 0);
        }
        out.push(Array {
            name: name.into(),
            doc: array_doc(
                &[nt],
                &[nt.max(1)],
                json!({"name": "fixed_length_utf32", "configuration": {"length_bytes": n * 4}}),
                json!(""),
                codec.v3_chain(4)?,
                Map::new(),
                &["time"],
            ),
            chunk: Some((chunk_key(name, &[0]), bytes, 4)),
        });
    }
    let dims = layout.dims();
    for b in &layout.bands {
        let mut attrs = b.attrs();
        if let Some(v) = b.fill_value {
            attrs.insert("_FillValue".into(), fill_attr(v, b.dtype));
        }
        // What a reader gives for an inner chunk not stored: the padding
        // value (the fill, else nodata, else 0).
        let fill = b
            .fill_value
            .or(b.nodata)
            .filter(|v| b.dtype.is_float() || (v.is_finite() && v.fract() == 0.0))
            .map_or(json!(0), |v| number(v, b.dtype));
        let codecs = vec![json!({"name": "sharding_indexed", "configuration": {
            "chunk_shape": chunks,
            "codecs": codec.v3_chain(type_size(b.dtype))?,
            "index_codecs": [
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "crc32c"},
            ],
            "index_location": "end",
        }})];
        out.push(Array {
            name: b.name.clone(),
            doc: array_doc(
                &[nt, ny, nx],
                &shards,
                json!(data_type(b.dtype)),
                fill,
                codecs,
                attrs,
                &dims,
            ),
            chunk: None,
        });
    }
    Some(out)
}

/// The root group's `zarr.json`, with every array's document inline
/// (zarr-python 3's consolidated metadata).
pub(crate) fn root(arrays: &[Array], attrs: &Map<String, Value>) -> Value {
    let metadata: Map<String, Value> = arrays
        .iter()
        .map(|a| (a.name.clone(), a.doc.clone()))
        .collect();
    json!({
        "attributes": attrs,
        "zarr_format": 3,
        "consolidated_metadata": {
            "kind": "inline",
            "must_understand": false,
            "metadata": metadata,
        },
        "node_type": "group",
    })
}

/// Metadata as zarr-python 3 writes it: indented by 2, in the order
/// built; a non-finite `nodata` attribute as the bare `NaN`/`Infinity`
/// tokens Python's `json` writes (`fill_value` keeps the quoted strings
/// the v3 spec asks for).
pub(crate) fn to_bytes(v: &Value) -> Vec<u8> {
    super::meta::bare_nonfinite_nodata(serde_json::to_string_pretty(v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BandInfo, GridDescription};

    #[test]
    fn checksums_and_base64_match_known_values() {
        // RFC 3720 B.4 test vectors.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        // xarray's _FillValue of a NaN float.
        assert_eq!(base64(&f64::NAN.to_le_bytes()), "AAAAAAAA+H8=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abcd"), "YWJjZA==");
    }

    #[test]
    fn shards_end_with_a_checksummed_index() {
        let s = shard::<()>(3, |i| Ok((i != 1).then(|| vec![i as u8; 2 + i]))).unwrap();
        assert_eq!(s.len(), 2 + 4 + 3 * 16 + 4);
        let index = &s[6..6 + 48];
        let u = |k: usize| u64::from_le_bytes(index[8 * k..8 * k + 8].try_into().unwrap());
        assert_eq!([u(0), u(1)], [0, 2]);
        assert_eq!([u(2), u(3)], [u64::MAX, u64::MAX]);
        assert_eq!([u(4), u(5)], [2, 4]);
        assert_eq!(&s[s.len() - 4..], &crc32c(index).to_le_bytes());
    }

    #[test]
    fn band_arrays_are_sharded_with_dimension_names() {
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
        let a = arrays(&l, [1, 4, 8], [1, 8, 16], &Codec::default()).unwrap();
        let names: Vec<&str> = a.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["time", "y", "x", "spatial_ref", "stac_items", "B04"]
        );
        let b = &a[5].doc;
        assert_eq!(
            b["chunk_grid"]["configuration"]["chunk_shape"],
            json!([1, 8, 16])
        );
        let sh = &b["codecs"][0]["configuration"];
        assert_eq!(sh["chunk_shape"], json!([1, 4, 8]));
        assert_eq!(sh["codecs"][1]["name"], "zstd");
        assert_eq!(sh["index_codecs"][1]["name"], "crc32c");
        assert_eq!(b["dimension_names"], json!(["time", "y", "x"]));
        assert_eq!(b["data_type"], "uint16");
        assert_eq!(b["fill_value"], 0);
        assert!(b["attributes"].get("_ARRAY_DIMENSIONS").is_none());
        assert!(b["attributes"].get("_FillValue").is_none());
        assert_eq!(a[3].chunk.as_ref().unwrap().0, "spatial_ref/c");
        assert_eq!(a[0].chunk.as_ref().unwrap().0, "time/c/0");
        let r = root(&a, &l.global_attrs());
        assert_eq!(r["consolidated_metadata"]["metadata"]["B04"], *b);
        assert_eq!(r["node_type"], "group");
        // LZ4 has no v3 codec.
        assert!(arrays(&l, [1, 4, 8], [1, 8, 16], &Codec::Lz4).is_none());
        // A float band: NaN fill, _FillValue as xarray encodes it.
        let f = CubeLayout::new(
            &g,
            &[],
            &[BandInfo::new("F")],
            DataType::Float32,
            Some(f64::NAN),
        );
        let a = arrays(&f, [1, 4, 8], [1, 4, 8], &Codec::None).unwrap();
        let doc = &a[5].doc;
        assert_eq!(doc["fill_value"], "NaN");
        assert_eq!(doc["attributes"]["_FillValue"], "AAAAAAAA+H8=");
        let text = String::from_utf8(to_bytes(doc)).unwrap();
        assert!(text.contains("\"nodata\": NaN"), "{text}");
        assert!(text.contains("\"fill_value\": \"NaN\""), "{text}");
    }
}
