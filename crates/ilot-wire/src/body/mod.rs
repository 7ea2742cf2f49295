//! Plaintext bodies: the building blocks (varints, exact decimal numbers, bounded readers), the
//! compression step, and the postcard helpers for the small server-side messages. The columnar
//! codec of diary entries is in [`entries`].
//!
//! Everything here handles bytes that were authenticated, but decoders still refuse malformed
//! input with an error instead of panicking or allocating what the input merely claims.

pub(crate) mod entries;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, WireError};

/// Most items one batch carries. The sync engine never builds a larger batch, and the decoder
/// refuses a body that announces more before reading any item.
pub const MAX_BATCH_ITEMS: usize = 5_000;

/// The largest body of a batch, compressed or not. Sized from what a real batch needs: a CGM
/// reading takes ~20 bytes before compression (~4 sealed), so 5,000 of them are ~100 KB; the
/// largest entries (a 4,000-character note, ≤ 16 KB of UTF-8) are what can fill a batch, and the
/// engine splits its batches to stay under 1 MiB sealed and this bound in plaintext. 4 MiB is
/// four times the engine's own sealed bound, and what the server accepts as a push body.
pub const MAX_BATCH_BODY_LEN: usize = 4 << 20;

/// The largest body of a pull (server → device): at most 500 changes (the server's page), each
/// a message, appointment or prescription that came through a JSON route of ≤ 16 KiB, is
/// ≤ 8 MiB; twice that is refused.
pub const MAX_PULL_BODY_LEN: usize = 16 << 20;

/// A pull request or an acknowledgement is a few dozen bytes of postcard.
pub const MAX_SMALL_BODY_LEN: usize = 4 << 10;

/// The largest plaintext body of any kind, before or after compression.
pub const MAX_BODY_LEN: usize = MAX_PULL_BODY_LEN;

/// The most an LZ4 block can expand: a sequence's match length grows by 255 per extra byte, so
/// no valid block yields more than 255 bytes per byte. A length prefix claiming more than this
/// (plus a small constant for the shortest blocks) is refused before anything is allocated.
pub(crate) const MAX_LZ4_RATIO: usize = 255;

/// How the body was compressed before sealing (header byte 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// The encoded body as is (when compression would not make it smaller).
    Stored = 0,
    /// `u32` big-endian length of the encoded body, then one LZ4 block.
    Lz4 = 1,
}

impl Codec {
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Stored),
            1 => Some(Self::Lz4),
            _ => None,
        }
    }
}

/// Appends the smaller of the LZ4 and the stored form of `plain` to `out`.
pub(crate) fn compress_into(plain: &[u8], out: &mut Vec<u8>) -> Result<Codec> {
    if plain.len() > MAX_BODY_LEN {
        return Err(WireError::TooLarge {
            size: plain.len(),
            max: MAX_BODY_LEN,
        });
    }
    let start = out.len();
    out.resize(
        start + 4 + lz4_flex::block::get_maximum_output_size(plain.len()),
        0,
    );
    // The length fits: it is at most MAX_BODY_LEN.
    out[start..start + 4].copy_from_slice(&(plain.len() as u32).to_be_bytes());
    let written = lz4_flex::block::compress_into(plain, &mut out[start + 4..])
        .map_err(|e| WireError::Codec(format!("compression failed: {e}")))?;
    if 4 + written < plain.len() {
        out.truncate(start + 4 + written);
        Ok(Codec::Lz4)
    } else {
        out.truncate(start);
        out.extend_from_slice(plain);
        Ok(Codec::Stored)
    }
}

/// The encoded body from its sealed (decrypted) form, at most `max` bytes (the bound of the
/// message's kind, [`crate::Kind::max_body_len`]). The length an LZ4 body announces is checked
/// against `max` and against what its block can possibly hold before the output is allocated.
pub(crate) fn decompress(codec: Codec, body: Vec<u8>, max: usize) -> Result<Vec<u8>> {
    match codec {
        Codec::Stored => {
            if body.len() > max {
                return Err(WireError::BodyTooLarge {
                    size: body.len(),
                    max,
                });
            }
            Ok(body)
        }
        Codec::Lz4 => {
            let (len, block) = body.split_first_chunk::<4>().ok_or_else(|| {
                WireError::Decompression("the body is shorter than its length prefix".into())
            })?;
            let len = u32::from_be_bytes(*len) as usize;
            if len > max {
                return Err(WireError::BodyTooLarge { size: len, max });
            }
            if len > block.len().saturating_mul(MAX_LZ4_RATIO) + 64 {
                return Err(WireError::Decompression(format!(
                    "the body announces {len} bytes, more than its {} compressed bytes can hold",
                    block.len()
                )));
            }
            let mut plain = vec![0u8; len];
            let n = lz4_flex::block::decompress_into(block, &mut plain)
                .map_err(|e| WireError::Decompression(e.to_string()))?;
            if n != len {
                return Err(WireError::Decompression(format!(
                    "the body announced {len} bytes but holds {n}"
                )));
            }
            Ok(plain)
        }
    }
}

pub(crate) fn postcard_encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    let bytes =
        postcard::to_stdvec(value).map_err(|e| WireError::Codec(format!("encoding: {e}")))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

pub(crate) fn postcard_decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| WireError::Codec(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Codec(format!(
            "{} bytes after the end of the message",
            rest.len()
        )));
    }
    Ok(value)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn put_zz(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Powers of ten that are exact in binary floating point; a decimal `m / 10^s` is computed with
/// one correctly rounded division, so encoder and decoder agree to the bit.
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
/// Scale byte meaning "8 raw IEEE 754 bytes follow" (a value no short decimal reproduces).
pub(crate) const RAW: u8 = 0xFF;
/// Integers up to 2^53 convert to f64 and back exactly.
const MAX_EXACT: i64 = 1 << 53;

/// The smallest decimal `(scale, mantissa)` whose `mantissa / 10^scale` is bit-for-bit `v`, if
/// any with scale ≤ 6: 126 → (0, 126), 5.5 → (1, 55), 1.26 → (2, 126). Values typed or sent by
/// a device have one; a value computed by a unit conversion usually has none and travels raw.
pub(crate) fn decimal(v: f64) -> Option<(u8, i64)> {
    if !v.is_finite() {
        return None;
    }
    POW10.iter().enumerate().find_map(|(s, p)| {
        let m = (v * p).round();
        if m.abs() >= MAX_EXACT as f64 {
            return None;
        }
        // Compare what the decoder will compute (this also sends -0.0 raw: 0 / p is +0.0).
        let m = m as i64;
        (from_decimal(s as u8, m)?.to_bits() == v.to_bits()).then_some((s as u8, m))
    })
}

pub(crate) fn from_decimal(scale: u8, mantissa: i64) -> Option<f64> {
    let p = POW10.get(usize::from(scale))?;
    // unsigned_abs: a hostile i64::MIN must not overflow.
    (mantissa.unsigned_abs() < MAX_EXACT as u64).then(|| mantissa as f64 / p)
}

/// A number on its own (not part of a delta-coded column): scale byte, then a zigzag varint
/// mantissa or 8 raw little-endian bytes.
pub(crate) fn put_num(out: &mut Vec<u8>, v: f64) {
    match decimal(v) {
        Some((s, m)) => {
            out.push(s);
            put_zz(out, m);
        }
        None => {
            out.push(RAW);
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

/// Reads one column (or one message) and names it in its errors.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    name: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(name: &'static str, buf: &'a [u8]) -> Self {
        Self { buf, name }
    }

    fn short(&self) -> WireError {
        WireError::Codec(format!("column {} ends too early", self.name))
    }

    pub(crate) fn bad(&self, what: impl std::fmt::Display) -> WireError {
        WireError::Codec(format!("column {}: {what}", self.name))
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let (&b, rest) = self.buf.split_first().ok_or_else(|| self.short())?;
        self.buf = rest;
        Ok(b)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(self.short());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7F);
            if i == 9 && bits > 1 {
                return Err(self.bad("a number is larger than 64 bits"));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.bad("a number is larger than 64 bits"))
    }

    pub(crate) fn zz(&mut self) -> Result<i64> {
        Ok(unzigzag(self.varint()?))
    }

    /// A length that must fit in what is left (so nothing is allocated on a false claim).
    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > self.buf.len() as u64 {
            return Err(self.short());
        }
        Ok(n as usize)
    }

    pub(crate) fn str(&mut self) -> Result<String> {
        let n = self.len()?;
        self.utf8(n)
    }

    pub(crate) fn opt_str(&mut self) -> Result<Option<String>> {
        match self.varint()? {
            0 => Ok(None),
            n if n - 1 <= self.buf.len() as u64 => self.utf8((n - 1) as usize).map(Some),
            _ => Err(self.short()),
        }
    }

    fn utf8(&mut self, n: usize) -> Result<String> {
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.bad("text is not valid UTF-8"))
    }

    pub(crate) fn f64_le(&mut self) -> Result<f64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }

    pub(crate) fn num(&mut self) -> Result<f64> {
        match self.u8()? {
            RAW => self.f64_le(),
            s => {
                let m = self.zz()?;
                from_decimal(s, m).ok_or_else(|| self.bad(format!("bad decimal scale {s}")))
            }
        }
    }

    pub(crate) fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.bad(format!("{b} is not a boolean"))),
        }
    }

    pub(crate) fn finish(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.bad(format!("{} bytes left unread", self.buf.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case(126.0, Some((0, 126)))]
    #[case(5.5, Some((1, 55)))]
    #[case(1.26, Some((2, 126)))]
    #[case(0.05, Some((2, 5)))]
    #[case(7.004_440_497_335_702, None)]
    #[case(f64::NAN, None)]
    #[case(-0.0, None)]
    fn decimals_are_found_only_when_exact(#[case] v: f64, #[case] d: Option<(u8, i64)>) {
        assert_eq!(decimal(v), d);
    }

    #[test]
    fn extreme_mantissas_are_refused_not_overflowed() {
        assert_eq!(from_decimal(0, i64::MIN), None);
        let mut out = vec![0];
        put_zz(&mut out, i64::MIN);
        assert!(Reader::new("t", &out).num().is_err());
        assert_eq!(from_decimal(7, 1), None);
    }

    #[test]
    fn varints_refuse_more_than_64_bits() {
        let mut r = Reader::new("t", &[0xFF; 11]);
        assert!(r.varint().is_err());
        let mut r = Reader::new(
            "t",
            &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],
        );
        assert!(r.varint().is_err());
        let mut r = Reader::new(
            "t",
            &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        );
        assert_eq!(r.varint().unwrap(), u64::MAX);
    }

    #[test]
    fn lz4_length_claims_are_bounded() {
        let mut body = (u32::MAX).to_be_bytes().to_vec();
        body.push(0);
        assert!(matches!(
            decompress(Codec::Lz4, body, MAX_BODY_LEN),
            Err(WireError::BodyTooLarge { .. })
        ));
        assert!(decompress(Codec::Lz4, vec![0, 0], MAX_BODY_LEN).is_err());
        // Within the kind's bound, but more than 10 bytes of LZ4 can expand to.
        let mut body = 1_000_000u32.to_be_bytes().to_vec();
        body.extend_from_slice(&[0; 10]);
        let err = decompress(Codec::Lz4, body, MAX_BODY_LEN).unwrap_err();
        assert!(
            err.to_string()
                .contains("more than its 10 compressed bytes"),
            "{err}"
        );
        // A stored body is held to the same bound.
        assert!(matches!(
            decompress(Codec::Stored, vec![0; 11], 10),
            Err(WireError::BodyTooLarge { size: 11, max: 10 })
        ));
    }

    #[test]
    fn the_lz4_ratio_bound_holds_for_the_most_compressible_input() {
        for n in [0usize, 1, 100, 65_536, MAX_BATCH_BODY_LEN] {
            let plain = vec![0u8; n];
            let mut out = Vec::new();
            let codec = compress_into(&plain, &mut out).unwrap();
            if codec == Codec::Lz4 {
                assert!(
                    n <= (out.len() - 4) * MAX_LZ4_RATIO + 64,
                    "{n} from {}",
                    out.len()
                );
            }
            assert_eq!(decompress(codec, out, MAX_BATCH_BODY_LEN).unwrap(), plain);
        }
    }

    proptest! {
        #[test]
        fn numbers_round_trip_bit_exactly(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            let mut out = Vec::new();
            put_num(&mut out, v);
            let mut r = Reader::new("t", &out);
            prop_assert_eq!(r.num().unwrap().to_bits(), bits);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn short_decimals_round_trip(m in -10_000_000i64..10_000_000, s in 0u8..4) {
            let v = from_decimal(s, m).unwrap();
            let mut out = Vec::new();
            put_num(&mut out, v);
            prop_assert!(out[0] != RAW);
            prop_assert_eq!(Reader::new("t", &out).num().unwrap().to_bits(), v.to_bits());
        }

        #[test]
        fn varints_round_trip(v in any::<u64>(), z in any::<i64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            put_zz(&mut out, z);
            let mut r = Reader::new("t", &out);
            prop_assert_eq!(r.varint().unwrap(), v);
            prop_assert_eq!(r.zz().unwrap(), z);
        }

        #[test]
        fn compression_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..2000), repeat in 1usize..20) {
            let plain: Vec<u8> = plain.iter().copied().cycle().take(plain.len() * repeat).collect();
            let mut out = vec![9u8; 3];
            let codec = compress_into(&plain, &mut out).unwrap();
            prop_assert_eq!(&out[..3], &[9u8; 3]);
            prop_assert!(out.len() - 3 <= plain.len());
            prop_assert_eq!(decompress(codec, out[3..].to_vec(), MAX_BODY_LEN).unwrap(), plain);
        }

        #[test]
        fn decompression_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decompress(Codec::Lz4, body, MAX_BODY_LEN);
        }
    }
}
