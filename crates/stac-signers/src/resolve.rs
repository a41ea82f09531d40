//! `resolved_href`: the href a reader should open, chosen, resolved and signed.

use serde_json::Value;

use crate::{Signer, SignerError};

/// The href of `item`'s asset `asset_key` (or of `item` itself as a bare asset
/// when `asset_key` is `None`), resolved against the item's `self` link when
/// relative, then passed through the signer's href hook. Never opens the asset.
///
/// ```
/// use serde_json::json;
/// use stac_signers::{resolved_href, AnonymousSigner};
/// let item = json!({"id": "a", "assets": {"B04": {"href": "./B04.tif"}},
///                   "links": [{"rel": "self", "href": "https://h/items/a.json"}]});
/// assert_eq!(resolved_href(&item, Some("B04"), None)?, "https://h/items/B04.tif");
/// assert_eq!(resolved_href(&item, Some("B04"), Some(&AnonymousSigner))?, "https://h/items/B04.tif");
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
pub fn resolved_href(
    item: &Value,
    asset_key: Option<&str>,
    signer: Option<&dyn Signer>,
) -> Result<String, SignerError> {
    resolved_href_with(item, asset_key, signer, &[])
}

/// [`resolved_href`] with an ordered preference of `alternate` hrefs
/// (alternate-assets extension); the signer sees the chosen href.
pub fn resolved_href_with(
    item: &Value,
    asset_key: Option<&str>,
    signer: Option<&dyn Signer>,
    alternates: &[&str],
) -> Result<String, SignerError> {
    let src = stac_meta::asset_source(item, asset_key, alternates)?;
    let href = stac_meta::resolve_relative(src.href, stac_meta::self_href(item));
    match signer {
        Some(s) => s.sign_href(&href),
        None => Ok(href),
    }
}
