//! The c-blosc1 frame (what numcodecs' `Blosc` and the Zarr v3 `blosc`
//! codec decode), written in Rust over `lz4_flex` and `zstd`: no C blosc.
//!
//! Layout (c-blosc `blosc/blosc.c`, format version 2): a 16-byte header
//! (`version` 2, `versionlz` 1, `flags`, `typesize`, then little-endian
//! `nbytes`, `blocksize`, `cbytes`), then, unless the frame is a plain
//! copy, one little-endian `i32` start offset per block, then each block:
//! byte-shuffled when asked (over the whole block, leftover bytes kept in
//! place), compressed as one stream (`i32` size, then the bytes; a stream
//! whose size equals the block's is stored raw). Flags: bit 0 byte
//! shuffle, bit 1 plain copy, bit 4 "blocks not split" (we never split
//! blocks into per-byte streams, which every decoder reads), bits 5-7 the
//! compressor (1 LZ4, 4 zstd). Inputs under 128 bytes, and frames that
//! would not be smaller than a copy, are stored as a plain copy, as
//! c-blosc does.

/// The compressor inside a blosc frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloscCompressor {
    /// LZ4 (blosc's `lz4`).
    Lz4,
    /// zstd (blosc's `zstd`).
    Zstd,
}

impl BloscCompressor {
    /// Its `cname`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }

    /// Its format code (flags bits 5-7).
    fn format(self) -> u8 {
        match self {
            Self::Lz4 => 1,
            Self::Zstd => 4,
        }
    }
}

const HEADER: usize = 16;
const MIN_BUFFERSIZE: usize = 128;
const DOSHUFFLE: u8 = 0x1;
const MEMCPYED: u8 = 0x2;
const DONT_SPLIT: u8 = 0x10;

/// Bytes per block before rounding to whole elements (blosc's automatic
/// sizes are of this order; any size decodes).
fn block_target(c: BloscCompressor) -> usize {
    match c {
        BloscCompressor::Lz4 => 256 << 10,
        BloscCompressor::Zstd => 1 << 20,
    }
}

/// Byte shuffle of one block (c-blosc's `shuffle_generic`): byte `j` of
/// element `i` goes to `j * n + i`; bytes past the last whole element stay.
fn shuffle(typesize: usize, src: &[u8], dest: &mut Vec<u8>) {
    dest.clear();
    let n = src.len() / typesize;
    dest.resize(src.len(), 0);
    for i in 0..n {
        for j in 0..typesize {
            dest[j * n + i] = src[i * typesize + j];
        }
    }
    dest[n * typesize..].copy_from_slice(&src[n * typesize..]);
}

fn plain_copy(raw: &[u8], flags: u8, typesize: u8, blocksize: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + raw.len());
    header(&mut out, flags | MEMCPYED, typesize, raw.len(), blocksize);
    out.extend_from_slice(raw);
    set_cbytes(&mut out);
    out
}

fn header(out: &mut Vec<u8>, flags: u8, typesize: u8, nbytes: usize, blocksize: usize) {
    out.extend_from_slice(&[2, 1, flags, typesize]);
    out.extend_from_slice(&(nbytes as u32).to_le_bytes());
    out.extend_from_slice(&(blocksize as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
}

fn set_cbytes(out: &mut [u8]) {
    let n = out.len() as u32;
    out[12..16].copy_from_slice(&n.to_le_bytes());
}

/// Compress `raw` into one blosc frame. `typesize` is the element size
/// (shuffle unit; sizes over 255 are treated as bytes, as c-blosc does),
/// `clevel` 0..=9 (0: a plain copy).
pub fn compress(
    raw: &[u8],
    compressor: BloscCompressor,
    clevel: u8,
    shuffle_bytes: bool,
    typesize: usize,
) -> std::io::Result<Vec<u8>> {
    if raw.len() > (i32::MAX as usize) - HEADER {
        return Err(std::io::Error::other("a blosc chunk must be under 2 GiB"));
    }
    let typesize = if (1..=255).contains(&typesize) {
        typesize
    } else {
        1
    };
    let mut flags = DONT_SPLIT | (compressor.format() << 5);
    if shuffle_bytes {
        flags |= DOSHUFFLE;
    }
    let blocksize = {
        let b = block_target(compressor).min(raw.len()).max(1);
        (b / typesize * typesize).max(typesize.min(raw.len()).max(1))
    };
    if raw.is_empty() || raw.len() < MIN_BUFFERSIZE || clevel == 0 {
        return Ok(plain_copy(raw, flags, typesize as u8, blocksize));
    }
    let nblocks = raw.len().div_ceil(blocksize);
    let mut out = Vec::with_capacity(HEADER + 4 * nblocks + raw.len() / 2);
    header(&mut out, flags, typesize as u8, raw.len(), blocksize);
    out.resize(HEADER + 4 * nblocks, 0);
    let mut tmp = Vec::new();
    let level = match clevel {
        9.. => 22,
        l => i32::from(l) * 2 - 1,
    };
    for (k, block) in raw.chunks(blocksize).enumerate() {
        let start = out.len() as u32;
        out[HEADER + 4 * k..HEADER + 4 * k + 4].copy_from_slice(&start.to_le_bytes());
        let src = if shuffle_bytes && typesize > 1 {
            shuffle(typesize, block, &mut tmp);
            tmp.as_slice()
        } else {
            block
        };
        let z = match compressor {
            BloscCompressor::Lz4 => lz4_flex::block::compress(src),
            BloscCompressor::Zstd => zstd::bulk::compress(src, level)?,
        };
        // A stream as large as its block is read back as raw bytes.
        let stored: &[u8] = if z.is_empty() || z.len() >= src.len() {
            src
        } else {
            &z
        };
        out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        out.extend_from_slice(stored);
        if out.len() >= raw.len() + HEADER {
            return Ok(plain_copy(raw, flags, typesize as u8, blocksize));
        }
    }
    set_cbytes(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal decoder of what [`compress`] writes (the c-blosc reading
    /// rules for unsplit blocks), to check the framing from Rust; the
    /// e2e test checks numcodecs' own decoder.
    fn decompress(f: &[u8]) -> Vec<u8> {
        assert_eq!(f[0], 2);
        let flags = f[2];
        let ts = f[3] as usize;
        let le = |i: usize| u32::from_le_bytes(f[i..i + 4].try_into().unwrap()) as usize;
        let (nbytes, bs, cbytes) = (le(4), le(8), le(12));
        assert_eq!(cbytes, f.len());
        if flags & MEMCPYED != 0 {
            assert_eq!(cbytes, nbytes + HEADER);
            return f[HEADER..].to_vec();
        }
        let nblocks = nbytes.div_ceil(bs);
        let mut out = Vec::new();
        for k in 0..nblocks {
            let bsize = bs.min(nbytes - k * bs);
            let mut at = le(HEADER + 4 * k);
            let n = le(at);
            at += 4;
            let stream = &f[at..at + n];
            let block = if n == bsize {
                stream.to_vec()
            } else if flags >> 5 == 1 {
                lz4_flex::block::decompress(stream, bsize).unwrap()
            } else {
                zstd::bulk::decompress(stream, bsize).unwrap()
            };
            if flags & DOSHUFFLE != 0 && ts > 1 {
                let m = bsize / ts;
                let mut d = block.clone();
                for i in 0..m {
                    for j in 0..ts {
                        d[i * ts + j] = block[j * m + i];
                    }
                }
                out.extend(d);
            } else {
                out.extend(block);
            }
        }
        out
    }

    #[test]
    fn frames_round_trip_with_the_header_blosc_reads() {
        // Several blocks and a leftover block not a multiple of the type.
        let raw: Vec<u8> = (0..700_001u32).map(|i| (i / 3 % 251) as u8).collect();
        for c in [BloscCompressor::Lz4, BloscCompressor::Zstd] {
            for shuffle in [true, false] {
                let f = compress(&raw, c, 5, shuffle, 2).unwrap();
                assert!(f.len() < raw.len() / 4, "{c:?} {shuffle}");
                assert_eq!(f[2] & DONT_SPLIT, DONT_SPLIT);
                assert_eq!(f[2] >> 5, c.format());
                assert_eq!(f[2] & DOSHUFFLE != 0, shuffle);
                assert_eq!(f[3], 2);
                assert_eq!(decompress(&f), raw, "{c:?} {shuffle}");
            }
        }
        // Small inputs and incompressible ones are plain copies.
        let small = compress(&raw[..100], BloscCompressor::Lz4, 5, true, 2).unwrap();
        assert_eq!(small[2] & MEMCPYED, MEMCPYED);
        assert_eq!(decompress(&small), &raw[..100]);
        let mut x = 0x9e37_79b9_u32;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let n = compress(&noise, BloscCompressor::Zstd, 5, true, 4).unwrap();
        assert_eq!(n.len(), noise.len() + HEADER);
        assert_eq!(decompress(&n), noise);
        assert_eq!(
            decompress(&compress(&[], BloscCompressor::Lz4, 5, true, 2).unwrap()),
            Vec::<u8>::new()
        );
    }
}
