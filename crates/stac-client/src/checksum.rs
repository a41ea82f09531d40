//! `file:checksum` multihashes (sha2-256 and sha2-512) and incremental hashing.

use sha2::{Digest, Sha256, Sha512};

/// A parsed `file:checksum` multihash (hex): `1220…` (sha2-256, 32 bytes)
/// or `1340…` (sha2-512, 64 bytes).
///
/// ```
/// use stac_client::Multihash;
/// let m = Multihash::parse("1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap();
/// assert_eq!(m.algorithm(), "sha2-256");
/// assert!(Multihash::parse("1220abcd").is_none()); // wrong length
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multihash {
    code: u8,
    digest: Vec<u8>,
}

impl Multihash {
    /// Parse a hex multihash; `None` for malformed input or an algorithm
    /// other than sha2-256 / sha2-512.
    pub fn parse(hex: &str) -> Option<Self> {
        let bytes = decode_hex(hex.trim())?;
        let (&code, rest) = bytes.split_first()?;
        let (&len, digest) = rest.split_first()?;
        let want = match code {
            0x12 => 32,
            0x13 => 64,
            _ => return None,
        };
        (usize::from(len) == want && digest.len() == want).then(|| Self {
            code,
            digest: digest.to_vec(),
        })
    }

    /// `sha2-256` or `sha2-512`.
    pub fn algorithm(&self) -> &'static str {
        if self.code == 0x12 {
            "sha2-256"
        } else {
            "sha2-512"
        }
    }

    pub(crate) fn hasher(&self) -> Hasher {
        if self.code == 0x12 {
            Hasher::Sha256(Sha256::new())
        } else {
            Hasher::Sha512(Sha512::new())
        }
    }

    /// The multihash as hex.
    pub fn to_hex(&self) -> String {
        let mut out = format!("{:02x}{:02x}", self.code, self.digest.len());
        out.push_str(&encode_hex(&self.digest));
        out
    }
}

/// A sha2-256 hasher (the manifest's checksum).
pub(crate) fn sha256_hasher() -> Hasher {
    Hasher::Sha256(Sha256::new())
}

/// Incremental hashing for one algorithm.
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> Multihash {
        match self {
            Self::Sha256(h) => Multihash {
                code: 0x12,
                digest: h.finalize().to_vec(),
            },
            Self::Sha512(h) => Multihash {
                code: 0x13,
                digest: h.finalize().to_vec(),
            },
        }
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_round_trips() {
        let m = Multihash::parse(
            "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        )
        .unwrap();
        let mut h = m.hasher();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), m);
        assert_eq!(
            m.to_hex(),
            "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn rejects_other_algorithms_and_garbage() {
        assert!(Multihash::parse("1114aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(Multihash::parse("zz").is_none());
        assert!(Multihash::parse("").is_none());
    }
}
