//! Warped sources: a source in another CRS (or on a rotated grid) becomes an
//! inline `VRTWarpedDataset` on a window of the mosaic grid, written from
//! metadata like the rest (GDAL opens the file only when pixels are read).

use std::fmt::Write as _;

use stac_meta::geotransform::invert;

use crate::options::Resampling;
use crate::sources::Grid;
use crate::xml::{escape, geotransform, num};

/// What a warped source needs.
pub(crate) struct WarpSpec<'a> {
    /// The source file path (as the VRT names it).
    pub path: &'a str,
    /// The source grid.
    pub grid: &'a Grid,
    /// WKT of the source CRS.
    pub src_wkt: &'a str,
    /// WKT of the target CRS.
    pub dst_wkt: &'a str,
    /// Geotransform of the warped window (on the mosaic grid).
    pub dst_geotransform: [f64; 6],
    /// Columns and rows of the warped window.
    pub size: (usize, usize),
    /// 1-based source bands, in output order.
    pub bands: &'a [usize],
    /// Nodata per output band (source nodata, used as the warp's fill too).
    pub nodata: &'a [Option<f64>],
    /// Resampling.
    pub resampling: Resampling,
}

/// The `VRTWarpedDataset` document of a warped source.
pub(crate) fn warped_vrt(spec: &WarpSpec<'_>) -> Option<String> {
    let src_inv = invert(&spec.grid.geotransform)?;
    let dst_inv = invert(&spec.dst_geotransform)?;
    let (cols, rows) = spec.size;
    let working = spec
        .bands
        .iter()
        .map(|b| spec.grid.bands[*b - 1].data_type)
        .reduce(crate::sources::union_type)?;
    let mut x = String::new();
    let _ = writeln!(
        x,
        r#"<VRTDataset rasterXSize="{cols}" rasterYSize="{rows}" subClass="VRTWarpedDataset">"#
    );
    let _ = writeln!(x, "<SRS>{}</SRS>", escape(spec.dst_wkt));
    let _ = writeln!(
        x,
        "<GeoTransform>{}</GeoTransform>",
        geotransform(&spec.dst_geotransform)
    );
    for (i, b) in spec.bands.iter().enumerate() {
        let _ = write!(
            x,
            r#"<VRTRasterBand dataType="{}" band="{}" subClass="VRTWarpedRasterBand">"#,
            spec.grid.bands[*b - 1].data_type,
            i + 1
        );
        if let Some(nd) = spec.nodata[i] {
            let _ = write!(x, "<NoDataValue>{}</NoDataValue>", num(nd));
        }
        x.push_str("</VRTRasterBand>\n");
    }
    let _ = writeln!(
        x,
        "<BlockXSize>{}</BlockXSize><BlockYSize>{}</BlockYSize>",
        cols.min(512),
        rows.min(128)
    );
    x.push_str("<GDALWarpOptions>\n<WarpMemoryLimit>6.71089e+07</WarpMemoryLimit>\n");
    let _ = writeln!(
        x,
        "<ResampleAlg>{}</ResampleAlg>",
        crate::options::vrt_names(spec.resampling).map_or("NearestNeighbour", |n| n.1)
    );
    let _ = writeln!(x, "<WorkingDataType>{working}</WorkingDataType>");
    let init = if spec.nodata.iter().all(Option::is_some) {
        "NO_DATA"
    } else {
        "0"
    };
    let _ = writeln!(x, r#"<Option name="INIT_DEST">{init}</Option>"#);
    x.push_str(r#"<Option name="ERROR_OUT_IF_EMPTY_SOURCE_WINDOW">FALSE</Option>"#);
    x.push('\n');
    let _ = writeln!(
        x,
        r#"<SourceDataset relativeToVRT="0">{}</SourceDataset>"#,
        escape(spec.path)
    );
    let _ = writeln!(
        x,
        "<Transformer><ApproxTransformer><MaxError>0.125</MaxError><BaseTransformer><GenImgProjTransformer>\
         <SrcGeoTransform>{}</SrcGeoTransform><SrcInvGeoTransform>{}</SrcInvGeoTransform>\
         <DstGeoTransform>{}</DstGeoTransform><DstInvGeoTransform>{}</DstInvGeoTransform>\
         <ReprojectTransformer><ReprojectionTransformer><SourceSRS>{}</SourceSRS><TargetSRS>{}</TargetSRS>\
         </ReprojectionTransformer></ReprojectTransformer></GenImgProjTransformer></BaseTransformer>\
         </ApproxTransformer></Transformer>",
        list(&spec.grid.geotransform),
        list(&src_inv),
        list(&spec.dst_geotransform),
        list(&dst_inv),
        escape(spec.src_wkt),
        escape(spec.dst_wkt)
    );
    x.push_str("<BandList>");
    for (i, b) in spec.bands.iter().enumerate() {
        let _ = write!(x, r#"<BandMapping src="{b}" dst="{}">"#, i + 1);
        if let Some(nd) = spec.nodata[i] {
            let _ = write!(
                x,
                "<SrcNoDataReal>{0}</SrcNoDataReal><SrcNoDataImag>0</SrcNoDataImag>\
                 <DstNoDataReal>{0}</DstNoDataReal><DstNoDataImag>0</DstNoDataImag>",
                num(nd)
            );
        }
        x.push_str("</BandMapping>");
    }
    x.push_str("</BandList>\n</GDALWarpOptions>\n</VRTDataset>");
    Some(x)
}

fn list(gt: &[f64; 6]) -> String {
    gt.iter().map(|v| num(*v)).collect::<Vec<_>>().join(",")
}
