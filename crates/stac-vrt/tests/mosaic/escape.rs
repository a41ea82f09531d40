//! Hrefs are XML-escaped: a file whose name holds `"`, `<`, `&`, `'` and
//! `]]>` is mosaicked correctly on both paths, and cannot add or break elements.

use crate::support::{Tile, read_u16};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

#[test]
fn hostile_hrefs_cannot_break_the_vrt() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    a.path = dir.path().join(r#"we"ird<name&'x]]>.tif"#);
    let mut b = Tile::new(dir.path(), "b", 32630, (600040.0, 5300000.0), 10.0, 20);
    b.path = dir.path().join("]]><SourceBand>2<SourceBand><!--x.tif");
    a.write();
    b.write();
    for (label, items) in [
        ("metadata path", vec![a.item(), b.item()]),
        ("open path", vec![a.bare_item(), b.bare_item()]),
    ] {
        let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect(label);
        let xml = vrt.xml();
        assert_eq!(xml.matches("<SourceFilename").count(), 2, "{label}");
        assert_eq!(xml.matches("<SourceBand>").count(), 2, "{label}");
        assert!(!xml.contains("]]>"), "{label}");
        let (px, _) = read_u16(vrt.open().expect(label).inner(), 1);
        assert_eq!(&px[..8], [10, 10, 10, 10, 20, 20, 20, 20], "{label}");
    }
}
