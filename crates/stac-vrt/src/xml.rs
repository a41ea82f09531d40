//! VRT XML: escaping and the mosaic document writer.
//!
//! Every text node and attribute value goes through [`escape`], so an href
//! holding `"`, `<`, `&` or `]]>` stays one text node (no CDATA is used).

use std::fmt::Write as _;

use crate::plan::{Plan, SourceRect};

/// Escape text for an XML text node or a double-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            // Nor the non-characters U+FFFE and U+FFFF: percent-encoded as UTF-8.
            '\u{FFFE}' => out.push_str("%EF%BF%BE"),
            '\u{FFFF}' => out.push_str("%EF%BF%BF"),
            c => out.push(c),
        }
    }
    out
}

/// A number as GDAL parses it back exactly (shortest round-trip form; `nan`, `inf`, `-inf`).
pub(crate) fn num(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v}")
    }
}

/// A geotransform as `<GeoTransform>` text.
pub(crate) fn geotransform(gt: &[f64; 6]) -> String {
    gt.iter().map(|v| num(*v)).collect::<Vec<_>>().join(", ")
}

fn rect(tag: &str, r: &[f64; 4]) -> String {
    format!(
        r#"<{tag} xOff="{}" yOff="{}" xSize="{}" ySize="{}"/>"#,
        num(r[0]),
        num(r[1]),
        num(r[2]),
        num(r[3])
    )
}

/// Write the mosaic VRT document for a plan: with `public`, every source
/// is named without the HTTP headers embedded for this process.
pub(crate) fn mosaic(plan: &Plan, public: bool) -> String {
    let mut x = String::with_capacity(
        512 + plan.bands.iter().map(|b| b.sources.len()).sum::<usize>() * 512,
    );
    let _ = writeln!(
        x,
        r#"<VRTDataset rasterXSize="{}" rasterYSize="{}">"#,
        plan.cols, plan.rows
    );
    let _ = writeln!(x, "  <SRS>{}</SRS>", escape(&plan.srs_wkt));
    let _ = writeln!(
        x,
        "  <GeoTransform>{}</GeoTransform>",
        geotransform(&plan.geotransform)
    );
    for (i, band) in plan.bands.iter().enumerate() {
        let _ = writeln!(
            x,
            r#"  <VRTRasterBand dataType="{}" band="{}">"#,
            band.data_type,
            i + 1
        );
        if let Some(d) = &band.description {
            let _ = writeln!(x, "    <Description>{}</Description>", escape(d));
        }
        if let Some(nd) = band.nodata {
            let _ = writeln!(x, "    <NoDataValue>{}</NoDataValue>", num(nd));
        }
        for s in &band.sources {
            write_source(&mut x, plan, s, public);
        }
        x.push_str("  </VRTRasterBand>\n");
    }
    x.push_str("</VRTDataset>\n");
    x
}

fn write_source(x: &mut String, plan: &Plan, s: &SourceRect, public: bool) {
    let src = &plan.sources[s.source];
    let filename = match (&src.public_filename, public) {
        (Some(p), true) => p,
        _ => &src.filename,
    };
    let resampling = crate::options::vrt_names(plan.resampling).map_or("nearest", |n| n.0);
    let complex = s.nodata.is_some() || resampling != "nearest";
    let tag = if complex {
        "ComplexSource"
    } else {
        "SimpleSource"
    };
    if complex && resampling != "nearest" {
        let _ = writeln!(x, r#"    <{tag} resampling="{}">"#, resampling);
    } else {
        let _ = writeln!(x, "    <{tag}>");
    }
    let _ = writeln!(
        x,
        r#"      <SourceFilename relativeToVRT="0">{}</SourceFilename>"#,
        escape(filename)
    );
    let _ = writeln!(x, "      <SourceBand>{}</SourceBand>", s.source_band);
    // SourceProperties let GDAL open the VRT without opening the source.
    let _ = writeln!(
        x,
        r#"      <SourceProperties RasterXSize="{}" RasterYSize="{}" DataType="{}" BlockXSize="{}" BlockYSize="{}"/>"#,
        src.cols,
        src.rows,
        s.data_type,
        src.cols.min(512),
        src.rows.min(512)
    );
    let _ = writeln!(x, "      {}", rect("SrcRect", &s.src_rect));
    let _ = writeln!(x, "      {}", rect("DstRect", &s.dst_rect));
    if let Some(nd) = s.nodata {
        let _ = writeln!(x, "      <NODATA>{}</NODATA>", num(nd));
    }
    let _ = writeln!(x, "    </{tag}>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        let e = escape("/x/a\"b<c&d]]>e.tif");
        assert_eq!(e, "/x/a&quot;b&lt;c&amp;d]]&gt;e.tif");
        assert!(!e.contains('<') && !e.contains('"') && !e.contains("]]>"));
    }

    #[test]
    fn numbers_round_trip() {
        for v in [600000.0, 10.0, -10.0, 0.1, 1.0 / 3.0, 5291524.922386841] {
            assert_eq!(num(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(num(f64::NAN), "nan");
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert_eq!(num(-0.0), "0");
    }
}
