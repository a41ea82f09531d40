//! [`Codec`]: how chunks are compressed, its numcodecs configuration
//! (the `compressor` of a v2 `.zarray`) and its Zarr v3 codec chain
//! (`bytes`, then the compressor). A numcodecs `Zstd` chunk is one plain
//! zstd frame, so the `zstd` crate (already linked for Parquet) writes it;
//! a blosc chunk is a c-blosc1 frame written by [`super::blosc`].

use std::str::FromStr;

use serde_json::{Value, json};

pub use super::blosc::BloscCompressor;

/// A chunk compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// zstd at a level (numcodecs `Zstd`); the default, level 1
    /// ([`Codec::default`] says why not zarr's 3).
    Zstd {
        /// Compression level (1..=22; 1 is ours, 3 is zstd's and zarr-python's).
        level: i32,
    },
    /// LZ4 (numcodecs `LZ4`: the uncompressed size as 4 little-endian
    /// bytes, then one LZ4 block); faster, larger than zstd.
    Lz4,
    /// Blosc (numcodecs `Blosc`, Zarr v3 `blosc`): a c-blosc1 frame,
    /// blocks compressed by LZ4 or zstd, optionally byte-shuffled.
    Blosc {
        /// The compressor inside the frame.
        cname: BloscCompressor,
        /// Level 1..=9 (blosc's scale; 5 is numcodecs' default).
        clevel: u8,
        /// Byte shuffle (numcodecs' default `SHUFFLE`) before compressing.
        shuffle: bool,
    },
    /// No compression (`compressor: null`).
    None,
}

/// The zstd level of [`Codec::default`] (the CLI's `--codec zstd`).
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

impl Default for Codec {
    /// zstd level [`DEFAULT_ZSTD_LEVEL`] (1). zarr-python's `ZstdCodec()`
    /// and numcodecs' `Zstd()` use zstd's own default, 3; on uint16
    /// Earth-observation pixels (a smooth field plus sensor noise in the
    /// low bits) level 3 spends three times the CPU of level 1 for a store
    /// about 8 % smaller, and a cube write is CPU-bound on the codec once
    /// the load runs beside it. Level 1 is also parquet-rs' and Arrow's
    /// zstd default, and our NetCDF output's DEFLATE level. Any reader
    /// decodes either (the level is not needed to decompress);
    /// `Codec::Zstd { level: 3 }` (`--codec zstd:3`) gives zarr's.
    ///
    /// ```
    /// use stac_cube::zarr::Codec;
    /// assert_eq!(Codec::default(), Codec::Zstd { level: 1 });
    /// assert_eq!(Codec::default().config(), serde_json::json!({"id": "zstd", "level": 1}));
    /// ```
    fn default() -> Self {
        Self::Zstd {
            level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

impl Codec {
    /// The `.zarray` `compressor` value (Zarr v2).
    pub fn config(&self) -> Value {
        match self {
            Self::Zstd { level } => json!({"id": "zstd", "level": level}),
            Self::Lz4 => json!({"id": "lz4", "acceleration": 1}),
            Self::Blosc {
                cname,
                clevel,
                shuffle,
            } => json!({"id": "blosc", "cname": cname.name(), "clevel": clevel,
                        "shuffle": u8::from(*shuffle), "blocksize": 0}),
            Self::None => Value::Null,
        }
    }

    /// The Zarr v3 codec chain of an array of `typesize`-byte elements:
    /// `bytes` (little endian; no configuration for one-byte types, as
    /// zarr-python writes it), then the compressor. `None` for a codec
    /// without a Zarr v3 spelling (LZ4: use blosc-lz4).
    pub fn v3_chain(&self, typesize: usize) -> Option<Vec<Value>> {
        let bytes = if typesize == 1 {
            json!({"name": "bytes"})
        } else {
            json!({"name": "bytes", "configuration": {"endian": "little"}})
        };
        let compressor = match self {
            Self::Zstd { level } => {
                json!({"name": "zstd", "configuration": {"level": level, "checksum": false}})
            }
            Self::Blosc {
                cname,
                clevel,
                shuffle,
            } => json!({"name": "blosc", "configuration": {
                "typesize": typesize, "cname": cname.name(), "clevel": clevel,
                "shuffle": if *shuffle { "shuffle" } else { "noshuffle" }, "blocksize": 0}}),
            Self::None => return Some(vec![bytes]),
            Self::Lz4 => return None,
        };
        Some(vec![bytes, compressor])
    }

    /// Compress one chunk's bytes (`typesize`: the element size, which
    /// blosc's shuffle needs).
    pub fn encode(&self, raw: &[u8], typesize: usize) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Zstd { level } => zstd::bulk::compress(raw, *level),
            Self::Blosc {
                cname,
                clevel,
                shuffle,
            } => super::blosc::compress(raw, *cname, *clevel, *shuffle, typesize),
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

/// A worker's reusable compression state: its zstd context and output
/// buffer, kept from one chunk to the next. A fresh context and a
/// compress-bound buffer per chunk are a few megabytes allocated, faulted
/// in and freed again for every chunk; reused, each worker holds one of
/// each for the whole write. The bytes are exactly [`Codec::encode`]'s (the
/// same one-shot frame: `ZSTD_compress2` starts every frame afresh).
#[derive(Default)]
pub(crate) struct Encoder {
    zstd: Option<(i32, zstd::bulk::Compressor<'static>)>,
    out: Vec<u8>,
}

impl Encoder {
    /// [`Codec::encode`] into this encoder's buffer.
    pub(crate) fn encode(
        &mut self,
        codec: &Codec,
        raw: &[u8],
        typesize: usize,
    ) -> std::io::Result<&[u8]> {
        match *codec {
            Codec::Zstd { level } => {
                let compressor = match &mut self.zstd {
                    Some((l, c)) if *l == level => c,
                    slot => &mut slot.insert((level, zstd::bulk::Compressor::new(level)?)).1,
                };
                self.out.clear();
                self.out.reserve(zstd::zstd_safe::compress_bound(raw.len()));
                compressor.compress_to_buffer(raw, &mut self.out)?;
            }
            _ => self.out = codec.encode(raw, typesize)?,
        }
        Ok(&self.out)
    }
}

impl FromStr for Codec {
    type Err = String;

    /// `zstd`, `zstd:LEVEL` (1..=22), `lz4`, `blosc-lz4`, `blosc-zstd`
    /// (blosc level 5, byte shuffle; `blosc-lz4:LEVEL` 1..=9, and
    /// `:noshuffle` after it or the name), or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("blosc-") {
            let mut parts = rest.split(':');
            let cname = match parts.next() {
                Some("lz4") => BloscCompressor::Lz4,
                Some("zstd") => BloscCompressor::Zstd,
                _ => {
                    return Err(format!(
                        "unknown blosc compressor in {s:?} (blosc-lz4 or blosc-zstd)"
                    ));
                }
            };
            let (mut clevel, mut shuffle) = (5u8, true);
            for p in parts {
                match p {
                    "noshuffle" => shuffle = false,
                    "shuffle" => shuffle = true,
                    l => match l.parse::<u8>() {
                        Ok(v) if (1..=9).contains(&v) => clevel = v,
                        _ => {
                            return Err(format!(
                                "blosc level {l:?} in {s:?} is not a number from 1 to 9 (or noshuffle)"
                            ));
                        }
                    },
                }
            }
            return Ok(Self::Blosc {
                cname,
                clevel,
                shuffle,
            });
        }
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
                "unknown codec {s:?} (expected zstd, zstd:LEVEL, lz4, blosc-lz4, blosc-zstd or none)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_encoder_writes_the_one_shot_bytes() {
        let raw: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (((i * 7) % 1000) as u16).to_le_bytes())
            .collect();
        let mut enc = Encoder::default();
        for codec in [
            Codec::Zstd { level: 3 },
            Codec::Lz4,
            Codec::Zstd { level: 3 },
            Codec::Zstd { level: 9 },
        ] {
            for part in [&raw[..], &raw[..1000], &raw[..]] {
                let want = codec.encode(part, 2).unwrap();
                assert_eq!(enc.encode(&codec, part, 2).unwrap(), &want[..], "{codec:?}");
            }
        }
    }

    #[test]
    fn codecs_parse_and_round_trip_through_zstd() {
        assert_eq!("zstd".parse::<Codec>().unwrap(), Codec::Zstd { level: 1 });
        assert_eq!("zstd:3".parse::<Codec>().unwrap(), Codec::Zstd { level: 3 });
        assert_eq!("ZSTD:9".parse::<Codec>().unwrap(), Codec::Zstd { level: 9 });
        assert_eq!("none".parse::<Codec>().unwrap(), Codec::None);
        assert!("zstd:0".parse::<Codec>().is_err());
        assert!("gzip".parse::<Codec>().is_err());
        let raw: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        let z = Codec::default().encode(&raw, 1).unwrap();
        assert!(z.len() < raw.len() / 10);
        // One plain frame with its content size (what numcodecs decodes).
        assert_eq!(&z[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(zstd::bulk::decompress(&z, raw.len()).unwrap(), raw);
        assert_eq!(Codec::default().config(), json!({"id": "zstd", "level": 1}));
        assert_eq!(
            Codec::default().v3_chain(2).unwrap()[1],
            json!({"name": "zstd", "configuration": {"level": 1, "checksum": false}})
        );
        // numcodecs' LZ4: 4-byte little-endian size, then the block.
        assert_eq!("lz4".parse::<Codec>().unwrap(), Codec::Lz4);
        let l = Codec::Lz4.encode(&raw, 1).unwrap();
        assert_eq!(&l[..4], &(raw.len() as u32).to_le_bytes());
        assert_eq!(
            lz4_flex::block::decompress(&l[4..], raw.len()).unwrap(),
            raw
        );
        // Blosc: names, levels, shuffle; both configurations.
        let b: Codec = "blosc-zstd:7:noshuffle".parse().unwrap();
        assert_eq!(
            b,
            Codec::Blosc {
                cname: BloscCompressor::Zstd,
                clevel: 7,
                shuffle: false
            }
        );
        assert_eq!(
            "blosc-lz4".parse::<Codec>().unwrap().config(),
            json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})
        );
        assert_eq!(
            b.v3_chain(2).unwrap()[1],
            json!({"name": "blosc", "configuration": {"typesize": 2, "cname": "zstd",
                   "clevel": 7, "shuffle": "noshuffle", "blocksize": 0}})
        );
        for bad in ["blosc-gzip", "blosc-lz4:0", "blosc-lz4:10", "blosc-zstd:x"] {
            assert!(bad.parse::<Codec>().is_err(), "{bad}");
        }
        assert_eq!(&b.encode(&raw, 2).unwrap()[..4], &[2, 1, 0x90, 2]);
        // Zarr v3 chains; LZ4 has none.
        assert_eq!(Codec::None.v3_chain(1).unwrap(), [json!({"name": "bytes"})]);
        assert!(Codec::Lz4.v3_chain(2).is_none());
    }
}
