//! `Vrt`: the built mosaic (XML plus report), opened lazily as a GDAL dataset.

use std::fmt;
use std::path::Path;

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
///
/// ```
/// use serde_json::json;
/// use stac_vrt::{build_vrt_from_stac, VrtOptions};
/// let item = json!({"id": "a", "properties": {"proj:epsg": 32630},
///     "assets": {"data": {"href": "https://example.com/a.tif?token=SECRET",
///         "proj:shape": [4, 4],
///         "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
///         "raster:bands": [{"data_type": "uint16", "nodata": 0}]}}});
/// let vrt = build_vrt_from_stac(&[item], "data", &VrtOptions::default())?;
/// // The document is the sources' addresses, query included (GDAL needs
/// // it to read them); the summary, warnings and Debug never show it.
/// assert!(vrt.xml().contains("SECRET"));
/// assert!(!vrt.summary().sources[0].href.contains("SECRET"));
/// assert!(!format!("{vrt:?}").contains("SECRET"));
/// assert_eq!(vrt.summary().band_count, 1);
/// # Ok::<(), stac_vrt::VrtError>(())
/// ```
#[derive(Clone)]
pub struct Vrt {
    pub(crate) xml: String,
    /// The document without embedded headers, when it differs from `xml`.
    pub(crate) public_xml: Option<String>,
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

    /// Items left out (only non-empty when built with `with_fail_on_error(false)`).
    pub fn skipped(&self) -> &[SkippedSource] {
        &self.summary.skipped
    }

    /// Warnings (mixed CRSs, credentials that cannot travel, nodata).
    pub fn warnings(&self) -> &[String] {
        &self.summary.warnings
    }

    /// The GDAL options installed around reads of the opened dataset: those
    /// every source's env shares.
    pub fn env(&self) -> &GdalEnv {
        &self.env
    }

    /// The VRT document without the HTTP headers this process embedded in
    /// its `/vsicurl?` source paths: what can be written to a file and read
    /// by any process that has the credentials configured itself. Hrefs the
    /// signer rewrote (a SAS or presigned query) stay: they are the
    /// sources' addresses (see [`warnings`](Self::warnings)).
    ///
    /// ```
    /// use serde_json::json;
    /// use stac_signers::{BearerTokenSigner, HostList};
    /// use stac_vrt::{VrtOptions, build_vrt_from_stac};
    /// let item = json!({"id": "a", "properties": {"proj:epsg": 32630}, "assets": {"B04": {
    ///     "href": "https://data.example/a.tif", "proj:shape": [2, 2],
    ///     "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
    ///     "raster:bands": [{"data_type": "uint16"}]}}});
    /// let signer = BearerTokenSigner::new("t0k3n-secret").with_hosts(HostList::new(["data.example"]));
    /// let vrt = build_vrt_from_stac([item], "B04", &VrtOptions::default().with_signer(signer))?;
    /// assert!(vrt.public_xml().contains("url=https%3A%2F%2Fdata.example%2Fa.tif"));
    /// assert!(!vrt.public_xml().contains("header"));
    /// # Ok::<(), stac_vrt::VrtError>(())
    /// ```
    pub fn public_xml(&self) -> &str {
        self.public_xml.as_deref().unwrap_or(&self.xml)
    }

    /// Write the VRT document to `path` (sources are named by absolute paths,
    /// so the file can live anywhere): [`public_xml`](Self::public_xml),
    /// so no header credential is written.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        self.write(path.as_ref(), self.public_xml())
    }

    /// Write [`xml`](Self::xml) to `path`, headers included: on GDAL >= 3.7
    /// the file then holds the signer's HTTP headers in clear text; on
    /// older GDALs headers cannot travel in a file at all
    /// ([`VrtError::InvalidOption`] when a source has any).
    pub fn to_file_with_credentials(&self, path: impl AsRef<Path>) -> Result<()> {
        if self.public_xml.is_some() && !crate::sources::header_option_supported() {
            return Err(VrtError::InvalidOption {
                option: "credentials",
                reason: format!(
                    "GDAL {}.{} cannot carry HTTP headers inside a VRT file                      (/vsicurl?header.<Name>= needs GDAL >= 3.7)",
                    stac_raster::gdal_version().0,
                    stac_raster::gdal_version().1
                ),
            });
        }
        self.write(path.as_ref(), &self.xml)
    }

    fn write(&self, path: &Path, text: &str) -> Result<()> {
        std::fs::write(path, text).map_err(|source| VrtError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Open the VRT as a [`stac_raster::Dataset`] that installs the GDAL
    /// options every source shares around its reads (time bounds, and
    /// credentials only when every source's origin gets the same ones).
    /// Lazy: no source is opened here; GDAL opens a source when its pixels
    /// are read. The dataset's description is a short label, never the XML.
    pub fn open(&self) -> Result<stac_raster::Dataset> {
        let label = format!(
            "stac-vrt mosaic of asset '{}' ({} sources)",
            self.asset,
            self.summary.sources.len()
        );
        stac_raster::Dataset::from_vrt_xml(
            &self.xml,
            &label,
            &stac_raster::OpenOptions::default().with_env(self.env.clone()),
        )
        .map_err(|e| VrtError::Gdal {
            message: redact_text(&e.to_string()),
        })
    }
}
