//! [`Failure`]: one source that could not be read.

use std::fmt;

use serde::Serialize;

/// One unreadable source (an item's asset band): returned in
/// [`DatasetCollection::failures`](crate::DatasetCollection::failures) with
/// `fail_on_error(false)`, or inside [`CubeError::Read`](crate::CubeError::Read).
/// Its pixels are nodata in the cube.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// Item id.
    pub item: String,
    /// Asset key.
    pub asset: String,
    /// The href, with credentials redacted.
    pub href: String,
    /// The error (redacted).
    pub error: String,
}

impl Failure {
    pub(crate) fn new(item: &str, asset: &str, href: &str, error: impl fmt::Display) -> Self {
        Self {
            item: item.to_owned(),
            asset: asset.to_owned(),
            href: stac_meta::redact(href).into_owned(),
            error: redact_text(&error.to_string()),
        }
    }
}

/// Redact every URL-looking token of an error message.
fn redact_text(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.contains("://") || w.starts_with("/vsi") {
                stac_meta::redact(w).into_owned()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "item {:?} asset {:?} ({}): {}",
            self.item, self.asset, self.href, self.error
        )
    }
}

/// A source left out because its footprint misses the cube grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Outside {
    /// Item id.
    pub item: String,
    /// Asset key.
    pub asset: String,
}
