//! Not part of the API: entry points for the fuzz targets (`fuzz/`) and the tests that hold
//! the body decoders to an allocation bound. They hand the decoders bytes no encoder would
//! make, as a hostile enrolled device could once its message authenticated.

use chrono::DateTime;
use rand_core::CryptoRng;

use crate::body::{self, Codec};
use crate::envelope::private::EnvelopeInner;
use crate::envelope::{self, BatchHeader, Envelope, Kind, Sealed};
use crate::error::{Result, WireError};
use crate::ids::{DeviceId, PatientId};
use crate::keys::ToServerKey;
use crate::{OpenAck, OpenBatch, OpenPull, OpenPullRequest};

fn codec(byte: u8) -> Result<Codec> {
    Codec::from_byte(byte)
        .ok_or_else(|| WireError::BadHeader(format!("unknown compression {byte}")))
}

/// Decompresses and decodes `body` as the body of a message of `kind`, as [`crate::open`] does
/// once the message authenticated (header byte 6 is `codec`), and drops what it decoded.
pub fn decode_body(kind: Kind, codec_byte: u8, body: &[u8]) -> Result<()> {
    let plain = body::decompress(codec(codec_byte)?, body.to_vec(), kind.max_body_len())?;
    let h = BatchHeader::new(
        PatientId::from_bytes([0; 16]),
        DeviceId::from_bytes([0; 16]),
        0,
        DateTime::UNIX_EPOCH,
    );
    match kind {
        Kind::Batch => OpenBatch::decode_body(h, &plain).map(drop),
        Kind::PullRequest => OpenPullRequest::decode_body(h, &plain).map(drop),
        Kind::Pull => OpenPull::decode_body(h, &plain).map(drop),
        Kind::Ack => OpenAck::decode_body(h, &plain).map(drop),
    }
}

/// The plaintext body of `message`, before compression (to mutate it).
pub fn encode_body<P: Envelope>(message: &P) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    message.encode_body(&mut out)?;
    Ok(out)
}

/// `plain` as a sealed body carries it: the compression byte and the (compressed) bytes.
pub fn compress(plain: &[u8]) -> Result<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let codec = body::compress_into(plain, &mut out)?;
    Ok((codec as u8, out))
}

/// Seals `body` as it is (compression byte `codec_byte`) as a batch: what an enrolled device
/// that does not use this crate's encoder could send.
pub fn seal_batch_body(
    header: &BatchHeader,
    codec_byte: u8,
    body: &[u8],
    key: &ToServerKey,
    rng: &mut impl CryptoRng,
) -> Result<Sealed<OpenBatch>> {
    envelope::seal_encoded(
        envelope::Encoded::raw(*header, codec(codec_byte)?, body),
        key,
        rng,
    )
}
