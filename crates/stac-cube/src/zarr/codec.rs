//! [`Codec`]: how chunks are compressed, and its numcodecs configuration
//! (the `compressor` of `.zarray`). A numcodecs `Zstd` chunk is one plain
//! zstd frame, so the `zstd` crate (already linked for Parquet) writes it.

use std::str::FromStr;

use serde_json::{Value, json};

/// A chunk compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// zstd at a level (numcodecs `Zstd`); the default, level 3.
    Zstd {
        /// Compression level (1..=22; 3 is zstd's and numcodecs' default).
        level: i32,
    },
    /// LZ4 (numcodecs `LZ4`: the uncompressed size as 4 little-endian
    /// bytes, then one LZ4 block); faster, larger than zstd.
    Lz4,
    /// No compression (`compressor: null`).
    None,
}

impl Default for Codec {
    fn default() -> Self {
        Self::Zstd { level: 3 }
    }
}

impl Codec {
    /// The `.zarray` `compressor` value.
    pub fn config(&self) -> Value {
        match self {
            Self::Zstd { level } => json!({"id": "zstd", "level": level}),
            Self::Lz4 => json!({"id": "lz4", "acceleration": 1}),
            Self::None => Value::Null,
        }
    }

    /// Compress one chunk's bytes.
    pub fn encode(&self, raw: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Zstd { level } => zstd::bulk::compress(raw, *level),
            Self::Lz4 => {
                if u32::try_from(raw.len()).is_err() {
                    return Err(std::io::Error::other("an LZ4 chunk must be under 4 GiB"));
                }
                Ok(lz4_flex::block::compress_prepend_size(raw))
            }
            Self::None => Ok(raw.to_vec()),
        }
    }
}

impl FromStr for Codec {
    type Err = String;

    /// `zstd`, `zstd:LEVEL` (1..=22), `lz4`, or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let (name, level) = match lower.split_once(':') {
            Some((n, l)) => (n, Some(l)),
            None => (lower.as_str(), None),
        };
        match (name, level) {
            ("zstd", None) => Ok(Self::default()),
            ("zstd", Some(l)) => match l.parse::<i32>() {
                Ok(v) if (1..=22).contains(&v) => Ok(Self::Zstd { level: v }),
                _ => Err(format!("zstd level {l:?} is not a number from 1 to 22")),
            },
            ("lz4", None) => Ok(Self::Lz4),
            ("none" | "raw", None) => Ok(Self::None),
            _ => Err(format!(
                "unknown codec {s:?} (expected zstd, zstd:LEVEL, lz4 or none)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_parse_and_round_trip_through_zstd() {
        assert_eq!("zstd".parse::<Codec>().unwrap(), Codec::Zstd { level: 3 });
        assert_eq!("ZSTD:9".parse::<Codec>().unwrap(), Codec::Zstd { level: 9 });
        assert_eq!("none".parse::<Codec>().unwrap(), Codec::None);
        assert!("zstd:0".parse::<Codec>().is_err());
        assert!("gzip".parse::<Codec>().is_err());
        let raw: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        let z = Codec::default().encode(&raw).unwrap();
        assert!(z.len() < raw.len() / 10);
        // One plain frame with its content size (what numcodecs decodes).
        assert_eq!(&z[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(zstd::bulk::decompress(&z, raw.len()).unwrap(), raw);
        assert_eq!(Codec::default().config(), json!({"id": "zstd", "level": 3}));
        // numcodecs' LZ4: 4-byte little-endian size, then the block.
        assert_eq!("lz4".parse::<Codec>().unwrap(), Codec::Lz4);
        let l = Codec::Lz4.encode(&raw).unwrap();
        assert_eq!(&l[..4], &(raw.len() as u32).to_le_bytes());
        assert_eq!(
            lz4_flex::block::decompress(&l[4..], raw.len()).unwrap(),
            raw
        );
    }
}
