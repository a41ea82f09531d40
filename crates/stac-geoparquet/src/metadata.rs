//! File-level metadata: GeoParquet `geo`, `stac-geoparquet`, and this
//! crate's own key with what the reader needs to restore items exactly.

use serde_json::{Map, Value, json};

use crate::options::Layout;
use crate::schema::Path;

/// The GeoParquet metadata key.
pub const GEO_KEY: &str = "geo";
/// The stac-geoparquet metadata key (version and collections).
pub const STAC_GEOPARQUET_KEY: &str = "stac-geoparquet";
/// This crate's metadata key (layout, JSON-text columns, explicit nulls,
/// timestamp spellings, extra root keys).
pub const HINTS_KEY: &str = "stac-gdal:geoparquet";
/// The stac-geoparquet metadata version written.
pub const STAC_GEOPARQUET_VERSION: &str = "1.1.0";

/// PROJJSON of OGC:CRS84 (longitude, latitude on WGS 84), as GeoParquet gives it.
pub(crate) fn crs84() -> Value {
    json!({
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "GeographicCRS",
        "name": "WGS 84 (CRS84)",
        "datum_ensemble": {
            "name": "World Geodetic System 1984 ensemble",
            "members": [
                {"name": "World Geodetic System 1984 (Transit)"},
                {"name": "World Geodetic System 1984 (G730)"},
                {"name": "World Geodetic System 1984 (G873)"},
                {"name": "World Geodetic System 1984 (G1150)"},
                {"name": "World Geodetic System 1984 (G1674)"},
                {"name": "World Geodetic System 1984 (G1762)"},
                {"name": "World Geodetic System 1984 (G2139)"}
            ],
            "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563},
            "accuracy": "2.0",
            "id": {"authority": "EPSG", "code": 6326}
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree"},
                {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree"}
            ]
        },
        "scope": "Not known.",
        "area": "World.",
        "bbox": {"south_latitude": -90, "west_longitude": -180, "north_latitude": 90, "east_longitude": 180},
        "id": {"authority": "OGC", "code": "CRS84"}
    })
}

/// The GeoParquet 1.1 `geo` metadata.
pub(crate) fn geo(
    types: Vec<String>,
    bbox: Option<[f64; 4]>,
    covering: Option<bool>,
    proj_geometry: bool,
) -> Value {
    let mut column = Map::new();
    column.insert("encoding".into(), json!("WKB"));
    column.insert("geometry_types".into(), json!(types));
    column.insert("crs".into(), crs84());
    column.insert("edges".into(), json!("planar"));
    if let Some(b) = bbox {
        column.insert("bbox".into(), json!(b));
    }
    if let Some(three_d) = covering {
        let mut c = Map::new();
        for name in crate::encode::bbox_names(three_d) {
            c.insert((*name).into(), json!(["bbox", name]));
        }
        column.insert("covering".into(), json!({"bbox": c}));
    }
    let mut columns = Map::new();
    columns.insert("geometry".into(), Value::Object(column));
    if proj_geometry {
        // As stac-geoparquet (Python) declares it: WKB in each item's own
        // projection, so the CRS is unknown (null).
        columns.insert(
            crate::schema::GEOMETRY_KEY.into(),
            json!({"encoding": "WKB", "geometry_types": [], "crs": null}),
        );
    }
    json!({
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": columns
    })
}

/// The `stac-geoparquet` metadata: version and the collections by id.
pub(crate) fn stac_geoparquet(collections: &[Value]) -> Value {
    let mut map = Map::new();
    for c in collections {
        let id = c
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        map.insert(id, c.clone());
    }
    json!({"version": STAC_GEOPARQUET_VERSION, "collections": map})
}

/// What this crate writes under [`HINTS_KEY`].
#[derive(Debug, Default, Clone)]
pub(crate) struct FileHints {
    pub layout: Option<Layout>,
    pub json_columns: Vec<Path>,
    pub explicit_nulls: Vec<Path>,
    /// Float64 paths whose integral values are restored as JSON integers.
    pub int_numbers: Vec<Path>,
    /// (column name, top-level key) of non-reserved top-level keys.
    pub root_columns: Vec<(String, String)>,
    pub timestamp_formats: Vec<(String, String)>,
    pub geometry_integers: bool,
    pub bbox_integers: bool,
    /// Top-level columns holding both explicit nulls and absent keys: the
    /// `[first, count]` runs of rows whose null is an explicit `null`.
    pub null_rows: Vec<(String, Vec<(u64, u64)>)>,
}

impl FileHints {
    pub(crate) fn to_json(&self) -> Value {
        let formats: Map<String, Value> = self
            .timestamp_formats
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        json!({
            "version": 1,
            "layout": match self.layout { Some(Layout::Blob) => "blob", _ => "spec" },
            "json_columns": self.json_columns,
            "explicit_nulls": self.explicit_nulls,
            "int_numbers": self.int_numbers,
            "root_columns": self.root_columns.iter().map(|(c, k)| (c.clone(), Value::from(k.as_str()))).collect::<Map<String, Value>>(),
            "timestamp_formats": formats,
            "geometry_integers": self.geometry_integers,
            "bbox_integers": self.bbox_integers,
            "null_rows": self.null_rows.iter().map(|(c, runs)| (c.clone(), json!(runs))).collect::<Map<String, Value>>(),
        })
    }

    /// Parse the hints; `None` when the value is not ours.
    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        let paths = |key: &str| -> Vec<Path> {
            v.get(key)
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .unwrap_or_default()
        };
        Some(Self {
            layout: v
                .get("layout")
                .and_then(Value::as_str)
                .and_then(|name| name.parse::<Layout>().ok()),
            json_columns: paths("json_columns"),
            explicit_nulls: paths("explicit_nulls"),
            int_numbers: paths("int_numbers"),
            root_columns: v
                .get("root_columns")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(c, k)| Some((c.clone(), k.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            timestamp_formats: v
                .get("timestamp_formats")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            geometry_integers: v.get("geometry_integers").and_then(Value::as_bool)?,
            bbox_integers: v
                .get("bbox_integers")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            null_rows: v
                .get("null_rows")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(c, runs)| {
                            let mut runs: Vec<(u64, u64)> =
                                serde_json::from_value(runs.clone()).ok()?;
                            runs.sort_unstable();
                            Some((c.clone(), runs))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}
