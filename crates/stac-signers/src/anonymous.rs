//! The signer that signs nothing.

use crate::{Request, Signer, SignerError};

/// No credentials: every hook is a no-op and the GDAL env is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnonymousSigner;

impl Signer for AnonymousSigner {
    fn name(&self) -> &str {
        "anonymous"
    }

    fn sign_request(&self, _request: &mut Request) -> Result<(), SignerError> {
        Ok(())
    }

    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(href.to_owned())
    }

    fn allows_url(&self, _url: &str) -> bool {
        true
    }
}
