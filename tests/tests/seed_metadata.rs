//! The seed notebook's metadata cells, checked against the Python library's outputs.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::json;
use stac_gdal_e2e::{read_json, shared_dir};

#[test]
fn read_extension_metadata_equals_pyramids_reference() {
    let item_md = json!({
        "properties": {"proj:epsg": 32633},
        "assets": {"B04": {
            "href": "s3://bucket/B04.tif",
            "proj:shape": [10980, 10980],
            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
            "raster:bands": [{"nodata": 0, "scale": 0.0001}],
            "eo:bands": [{"name": "B04", "common_name": "red"}],
        }},
    });
    let meta = stac_gdal::read_extension_metadata(&item_md, Some("B04")).unwrap();
    let ours = serde_json::to_value(&meta).unwrap();
    let reference =
        read_json(&shared_dir().join("reference/pyramids-outputs/read_extension_metadata.json"));
    assert_eq!(ours, reference);
    // Key order too: the reference file lists pyramids' keys in the order it returns them.
    let ours_keys: Vec<_> = ours.as_object().unwrap().keys().collect();
    let ref_keys: Vec<_> = reference.as_object().unwrap().keys().collect();
    assert_eq!(ours_keys, ref_keys);
}

#[test]
fn seed_engine_and_resolved_href_cells() {
    let b04 = "/tmp/pyramids_stac_nb_x/B04.tif";
    let items = json!([{"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "assets": {"B04": {"href": b04}, "B05": {"href": "/tmp/pyramids_stac_nb_x/B05.tif"}}}]);
    let item = &items[0];
    assert_eq!(
        stac_gdal::which_engine(item, Some("B04"))
            .unwrap()
            .to_string(),
        "gdal"
    );
    assert_eq!(
        stac_gdal::resolved_href(item, Some("B04"), None).unwrap(),
        b04
    );
    assert_eq!(
        stac_gdal::resolved_href(item, Some("B04"), Some(&stac_gdal::AnonymousSigner)).unwrap(),
        b04
    );
}
