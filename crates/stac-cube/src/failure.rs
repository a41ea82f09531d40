//! [`Failure`]: one source that could not be read.

use std::fmt;

use serde::Serialize;

/// One unreadable source (an item's asset band): returned in
/// [`DatasetCollection::failures`](crate::DatasetCollection::failures) with
/// `fail_on_error(false)`, or inside [`CubeError::Read`](crate::CubeError::Read).
/// Its pixels are nodata in the cube, except those read before it failed
/// (the tiles before the cut of a file cut short), which hold its exact
/// values: a cube pixel is a source's true value or nodata, never a wrong
/// value.
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
    /// The href-policy rule that refused the source (`connection-string`,
    /// `local-path`, ...), when the policy refused it.
    pub rule: Option<String>,
    /// Whether the source's deadline passed.
    pub timed_out: bool,
}

impl Failure {
    pub(crate) fn new(item: &str, asset: &str, href: &str, error: impl fmt::Display) -> Self {
        Self {
            item: item.to_owned(),
            asset: asset.to_owned(),
            href: stac_raster::redact_message(&stac_meta::redact(href)),
            error: stac_raster::redact_message(&error.to_string()),
            rule: None,
            timed_out: false,
        }
    }

    pub(crate) fn with_rule(mut self, rule: Option<stac_meta::HrefRule>) -> Self {
        self.rule = rule.map(|r| r.to_string());
        self
    }

    pub(crate) fn with_timed_out(mut self, timed_out: bool) -> Self {
        self.timed_out = timed_out;
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Item, asset and href named once: not again when the error
        // (a source-layer error) already names them.
        let at = stac_meta::Location::asset(&self.item, &self.asset).with_href(&self.href);
        let prefix = at.to_string();
        let bare = stac_meta::Location::asset(&self.item, &self.asset).to_string();
        if self.error.starts_with(&prefix) || self.error.starts_with(&bare) {
            return f.write_str(&self.error);
        }
        write!(f, "{}: {}", at.unless_named_in(&self.error), self.error)
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

#[cfg(test)]
mod tests {
    use stac_meta::redact_text;

    #[test]
    fn redaction_keeps_the_punctuation_around_urls() {
        let text = "read failed for '/vsicurl/http://h/a.tif?sig=SECRET', band 1: \
                    (https://u:pw@h/b.tif?x=SECRET) http://h/c.tif";
        let out = redact_text(text);
        assert_eq!(
            out,
            "read failed for '/vsicurl/http://h/a.tif?<redacted>', band 1: \
             (https://<redacted>@h/b.tif?<redacted>) http://h/c.tif"
        );
    }
}
