//! Signing every asset href of items.

use serde_json::Value;

use crate::{Signer, SignerError};

/// Rewrite, in place, every `assets.*.href` of an Item, of each feature of an
/// ItemCollection / FeatureCollection, or of each element of an array,
/// through `signer.sign_href`. Returns how many hrefs changed. Values that
/// are none of these are left alone.
///
/// ```
/// use serde_json::json;
/// use stac_signers::{sign_item_assets, AnonymousSigner};
/// let mut item = json!({"id": "a", "assets": {"B04": {"href": "https://h/a.tif"}}});
/// assert_eq!(sign_item_assets(&AnonymousSigner, &mut item)?, 0);
/// # Ok::<(), stac_signers::SignerError>(())
/// ```
pub fn sign_item_assets<S: Signer + ?Sized>(
    signer: &S,
    value: &mut Value,
) -> Result<usize, SignerError> {
    match value {
        Value::Array(items) => {
            let mut n = 0;
            for item in items {
                n += sign_item_assets(signer, item)?;
            }
            Ok(n)
        }
        Value::Object(map) if map.contains_key("assets") => {
            let mut n = 0;
            if let Some(Value::Object(assets)) = map.get_mut("assets") {
                for asset in assets.values_mut() {
                    if let Some(Value::String(href)) = asset.get_mut("href") {
                        let signed = signer.sign_href(href)?;
                        if signed != *href {
                            *href = signed;
                            n += 1;
                        }
                    }
                }
            }
            Ok(n)
        }
        Value::Object(map) => match map.get_mut("features") {
            Some(features @ Value::Array(_)) => sign_item_assets(signer, features),
            _ => Ok(0),
        },
        _ => Ok(0),
    }
}
