//! `Vrt`: the built mosaic (XML plus report), opened lazily as a GDAL dataset.

use std::fmt;
use std::path::Path;

use gdal::Metadata as _;
use stac_signers::GdalEnv;

use crate::error::{Result, VrtError, redact_text};
use crate::report::{SkippedSource, VrtSummary};

/// A VRT mosaic built by [`build_vrt_from_stac`](crate::build_vrt_from_stac).
///
/// Holds the VRT document and a report; nothing has been read. [`open`](Self::open)
/// gives a `stac_raster::Dataset` whose reads fetch only the pixels asked for.
///
/// `Debug` shows the summary, never the XML (which may embed HTTP headers
/// the signer produced).
#[derive(Clone)]
pub struct Vrt {
    pub(crate) xml: String,
    pub(crate) summary: VrtSummary,
    pub(crate) env: GdalEnv,
    pub(crate) asset: String,
}

impl fmt::Debug for Vrt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vrt")
            .field("asset", &self.asset)
            .field("summary", &self.summary)
            .field("xml_len", &self.xml.len())
            .finish()
    }
}

impl Vrt {
    /// The VRT document. It may hold credentials (HTTP headers embedded in
    /// `/vsicurl?` source paths, signed query strings) when a signer was used;
    /// see [`warnings`](Self::warnings).
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// Shape, geotransform, CRS, sources, skipped items and warnings.
    pub fn summary(&self) -> &VrtSummary {
        &self.summary
    }

    /// Items left out (only non-empty when built with `strict(false)`).
    pub fn skipped(&self) -> &[SkippedSource] {
        &self.summary.skipped
    }

    /// Warnings (mixed CRSs, credentials that cannot travel, nodata).
    pub fn warnings(&self) -> &[String] {
        &self.summary.warnings
    }

    /// The signer's GDAL options, installed around reads of the opened dataset.
    pub fn env(&self) -> &GdalEnv {
        &self.env
    }

    /// Write the VRT document to `path` (sources are named by absolute paths,
    /// so the file can live anywhere).
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, &self.xml).map_err(|source| VrtError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Open the VRT with GDAL. Opens no source: each carries its size and
    /// type, so GDAL opens a source only when its pixels are read.
    pub fn open_gdal(&self) -> Result<gdal::Dataset> {
        let _scope = crate::sources::EnvScope::install(&self.env);
        let mut ds = gdal::Dataset::open(&self.xml).map_err(|e| VrtError::Gdal {
            message: redact_text(&e.to_string()),
        })?;
        // The description of a dataset opened from XML is the XML itself:
        // replace it with a short label, so nothing prints the document.
        let _ = ds.set_description(&format!(
            "stac-vrt mosaic of asset '{}' ({} sources)",
            self.asset,
            self.summary.sources.len()
        ));
        Ok(ds)
    }

    /// Open the VRT as a [`stac_raster::Dataset`] that installs the signer's
    /// GDAL env around its reads. Lazy: no source is opened here.
    pub fn open(&self) -> Result<stac_raster::Dataset> {
        Ok(stac_raster::Dataset::from_gdal(
            self.open_gdal()?,
            self.env.clone(),
        ))
    }
}
