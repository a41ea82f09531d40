//! The one error type of this crate.

use std::fmt;

/// Where a problem was found: item id, asset key, JSON field and the
/// (redacted) href of the source. The one error context of the workspace:
/// every error that names a source, in every crate, carries one, so a
/// message always names what to fix in one wording
/// ("item 'S2A_x', asset 'B04', field proj:transform (https://host/B04.tif)").
///
/// ```
/// use stac_meta::Location;
///
/// let at = Location::asset("S2A_x", "B04")
///     .with_field("proj:transform")
///     .with_href("https://host/B04.tif?sig=secret");
/// assert_eq!(
///     at.to_string(),
///     "item 'S2A_x', asset 'B04', field proj:transform (https://host/B04.tif?<redacted>)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Location {
    /// The item's `id`, or `"?"` when the item has none.
    pub item: String,
    /// The asset key, when the problem is inside one asset.
    pub asset: Option<Box<str>>,
    /// The JSON field (e.g. `proj:transform`), when one field is at fault.
    pub field: Option<Box<str>>,
    /// The source's href, redacted ([`crate::redact`]), when a file or URL
    /// is at fault.
    pub href: Option<Box<str>>,
}

impl Location {
    /// A location naming an item only.
    pub fn item(item: impl Into<String>) -> Self {
        Self {
            item: item.into(),
            ..Self::default()
        }
    }

    /// A location naming an item's asset.
    pub fn asset(item: impl Into<String>, asset: impl Into<String>) -> Self {
        Self {
            item: item.into(),
            asset: Some(asset.into().into_boxed_str()),
            ..Self::default()
        }
    }

    /// This location narrowed to an asset.
    pub fn with_asset(mut self, asset: Option<&str>) -> Self {
        self.asset = asset.map(Box::from);
        self
    }

    /// This location narrowed to a field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into().into_boxed_str());
        self
    }

    /// This location with the source's href, redacted here (query strings
    /// and user info removed), so no credential reaches a message. An empty
    /// href is left out.
    pub fn with_href(mut self, href: &str) -> Self {
        self.href = (!href.is_empty()).then(|| crate::redact(href).into());
        self
    }

    /// The same location without its href: for a message that already names
    /// the href (a GDAL error quoting the path), so it is not said twice.
    pub fn unless_named_in(&self, message: &str) -> Self {
        let mut at = self.clone();
        if at.href.as_deref().is_some_and(|h| message.contains(h)) {
            at.href = None;
        }
        at
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item '{}'", self.item)?;
        if let Some(asset) = &self.asset {
            write!(f, ", asset '{asset}'")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        if let Some(href) = &self.href {
            write!(f, " ({href})")?;
        }
        Ok(())
    }
}

/// Errors of `stac-meta`. Hrefs inside are always redacted (query removed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The text is not JSON (or one NDJSON line is not).
    #[error("invalid JSON{}: {message}", line.map(|l| format!(" on line {l}")).unwrap_or_default())]
    Json {
        /// 1-based line of NDJSON input, when the input was line-delimited.
        line: Option<usize>,
        /// The parser's message (with its column).
        message: String,
    },
    /// The JSON value is not an Item, FeatureCollection, or array of Items.
    #[error("not a STAC Item, FeatureCollection or array of Items: {found}")]
    NotItems {
        /// What was found instead (e.g. `a JSON string`, `type "Collection"`).
        found: String,
    },
    /// The item has no such asset.
    #[error(
        "{location}: no such asset; available: [{}{}]",
        available.join(", "),
        if *more > 0 { format!(", ... (+{more} more)") } else { String::new() }
    )]
    AssetNotFound {
        /// The item and the asset key that was asked for.
        location: Location,
        /// The asset keys the item does have: the first
        /// [`MAX_LISTED_ASSETS`], so an item
        /// with a million assets still gives a short error.
        available: Box<[String]>,
        /// How many more asset keys the item has beyond `available`.
        more: usize,
    },
    /// An href is not allowed by an [`HrefPolicy`](crate::HrefPolicy): the
    /// [`HrefRule`](crate::HrefRule) that refused it, and why.
    #[error("href {href} is not allowed ({rule}): {reason}")]
    HrefNotAllowed {
        /// The (redacted) href.
        href: String,
        /// The rule that refused it.
        rule: crate::HrefRule,
        /// Why it was refused.
        reason: String,
    },
    /// The asset has no `href` string.
    #[error("{location}: the asset has no 'href'")]
    MissingHref {
        /// The item and asset.
        location: Location,
    },
    /// A field is present but its value is not what the spec allows.
    #[error("{location}: {reason}")]
    InvalidField {
        /// Which item, asset and field.
        location: Location,
        /// What is wrong with it.
        reason: String,
    },
    /// No reader matches the asset's media type or href.
    #[error(
        "{location}: no reader for {}; supported: GeoTIFF/COG, JPEG2000, NetCDF, GRIB, Zarr",
        media_type.as_deref().map(|m| format!("type {m}")).unwrap_or_else(|| "this href".into())
    )]
    UnsupportedAsset {
        /// Which item, asset and (redacted) href.
        location: Location,
        /// The declared media type, if any.
        media_type: Option<String>,
    },
    /// The asset is not a raster band (metadata, a document, a container):
    /// see [`asset_kind`](crate::asset_kind).
    #[error("{location}: not a raster band: {what}")]
    NotRaster {
        /// Which item and asset.
        location: Location,
        /// What the asset is instead (e.g. "an XML document (type application/xml)").
        what: String,
    },
    /// A datetime is needed (e.g. for solar-day grouping) but the item has none.
    #[error("{location}: the item has no datetime (nor start_datetime)")]
    MissingDatetime {
        /// Which item.
        location: Location,
    },
    /// A grouping property is absent on an item.
    #[error("{location}: groupby property is absent on item")]
    MissingGroupKey {
        /// Which item and property.
        location: Location,
    },
    /// A search parameter is malformed (see [`crate::search::SearchParams::validate`]).
    #[error("invalid search parameter `{parameter}`: {reason}")]
    InvalidParameter {
        /// The parameter's name (`bbox`, `datetime`, ...).
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// How many asset keys a [`MetaError::AssetNotFound`] lists at most.
pub const MAX_LISTED_ASSETS: usize = 50;

/// Shorthand for results of this crate.
pub type Result<T, E = MetaError> = std::result::Result<T, E>;

pub(crate) fn invalid(location: Location, reason: impl Into<String>) -> MetaError {
    MetaError::InvalidField {
        location,
        reason: reason.into(),
    }
}

impl MetaError {
    /// The [`HrefRule`](crate::HrefRule) of an
    /// [`HrefNotAllowed`](Self::HrefNotAllowed) error.
    pub fn rule(&self) -> Option<crate::HrefRule> {
        match self {
            Self::HrefNotAllowed { rule, .. } => Some(*rule),
            _ => None,
        }
    }
}
