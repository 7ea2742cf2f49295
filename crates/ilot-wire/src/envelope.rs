//! The sealed envelope shared by every message kind: a 64-byte header in clear, a random 96-bit
//! nonce, and the AES-256-GCM ciphertext and tag of the (compressed) body, with the header as
//! associated data.
//!
//! The header is in clear because the server needs it to find the device's key; authenticating
//! it means a batch cannot be moved to another patient or device, renumbered, relabelled as
//! another kind or version, or altered at all, without failing [`open`]. Open and sealed
//! messages are different types ([`OpenBatch`] / [`SealedBatch`], …): what the server stores
//! can only be what [`open`] returned, and what leaves the device only what [`seal`] made.
//!
//! Order of checks in [`open`]: structure (length, magic, version, kind) → header against the
//! expectation (patient, device) → authentication → sequence → decompression → decoding. The
//! sequence is checked after authentication, so [`WireError::Replay`] always means "an authentic
//! message already accepted", which the server answers with its earlier acknowledgement.
//!
//! This module reads no clock and draws randomness only from the caller's generator.

use std::fmt;
use std::marker::PhantomData;

use aes_gcm::aead::AeadInOut;
use chrono::{DateTime, Utc};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::body::{
    self, Codec, MAX_BATCH_BODY_LEN, MAX_BODY_LEN, MAX_PULL_BODY_LEN, MAX_SMALL_BODY_LEN,
};
use crate::error::{Result, WireError};
use crate::ids::{DeviceId, PatientId};
use crate::keys::SealingKey;
use crate::keys::private::SealingKeyInner as _;

mod digest;
pub use digest::BatchDigest;

/// The protocol version this crate seals and opens.
pub const PROTOCOL_VERSION: u8 = 1;
/// First four bytes of every sealed message: `ILOT`.
pub const MAGIC: [u8; 4] = *b"ILOT";
/// Bytes of the clear header (the associated data).
pub const HEADER_LEN: usize = 64;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its compressed body.
pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// The largest sealed message of any kind (a pull, server → device).
pub const MAX_SEALED_LEN: usize = OVERHEAD + MAX_BODY_LEN;
/// The largest sealed batch, and so the largest body a device sends (push; a pull request is
/// far smaller): what the server's push and pull routes accept.
pub const MAX_SEALED_BATCH_LEN: usize = OVERHEAD + MAX_BATCH_BODY_LEN;

/// What a sealed message carries; part of the authenticated header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Device → server: entries of the outbox ([`crate::OpenBatch`]).
    Batch = 1,
    /// Device → server: a request for what changed ([`crate::OpenPullRequest`]).
    PullRequest = 2,
    /// Server → device: what changed ([`crate::OpenPull`]).
    Pull = 3,
    /// Server → device: a batch was stored ([`crate::OpenAck`]).
    Ack = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Self> {
        [Self::Batch, Self::PullRequest, Self::Pull, Self::Ack]
            .into_iter()
            .find(|k| *k as u8 == b)
    }

    /// The largest body of this kind, compressed or not: a longer sealed message is refused
    /// before it is authenticated, and a body that would expand past it before it is
    /// decompressed.
    pub const fn max_body_len(self) -> usize {
        match self {
            Self::Batch => MAX_BATCH_BODY_LEN,
            Self::Pull => MAX_PULL_BODY_LEN,
            Self::PullRequest | Self::Ack => MAX_SMALL_BODY_LEN,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Batch => "batch",
            Self::PullRequest => "pull request",
            Self::Pull => "pull",
            Self::Ack => "acknowledgement",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The clear, authenticated header of every sealed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub protocol_version: u8,
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    /// Batch: the device's batch sequence number (grows by one per new batch; a retry reuses
    /// it). Pull request: the cursor asked from. Pull: the cursor reached. Ack: the sequence
    /// number of the batch acknowledged.
    pub seq: u64,
    /// When the sender made the message (its clock, informative: never used to order).
    pub created_at: DateTime<Utc>,
}

impl BatchHeader {
    pub fn new(
        patient_id: PatientId,
        device_id: DeviceId,
        seq: u64,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            protocol_version: PROTOCOL_VERSION,
            patient_id,
            device_id,
            seq,
            created_at,
        }
    }

    fn write(&self, kind: Kind, codec: Codec, body_len: u32, out: &mut [u8]) {
        out[0..4].copy_from_slice(&MAGIC);
        out[4] = self.protocol_version;
        out[5] = kind as u8;
        out[6] = codec as u8;
        out[7] = 0;
        out[8..24].copy_from_slice(self.patient_id.as_bytes());
        out[24..40].copy_from_slice(self.device_id.as_bytes());
        out[40..48].copy_from_slice(&self.seq.to_be_bytes());
        out[48..56].copy_from_slice(&self.created_at.timestamp().to_be_bytes());
        out[56..60].copy_from_slice(&self.created_at.timestamp_subsec_nanos().to_be_bytes());
        out[60..64].copy_from_slice(&body_len.to_be_bytes());
    }
}

/// A message type that can be sealed. Implemented by [`crate::OpenBatch`],
/// [`crate::OpenPullRequest`], [`crate::OpenPull`] and [`crate::OpenAck`] only.
pub trait Envelope: private::EnvelopeInner {
    const KIND: Kind;
    /// The direction key that seals this kind.
    type Key: SealingKey;
    fn header(&self) -> &BatchHeader;
}

pub(crate) mod private {
    pub trait EnvelopeInner: Sized {
        fn encode_body(&self, out: &mut Vec<u8>) -> crate::Result<()>;
        fn decode_body(header: crate::BatchHeader, body: &[u8]) -> crate::Result<Self>;
    }
}

/// A message encoded and compressed, ready to seal: plaintext, never sent. Its sizes let the
/// sync engine bound batches in bytes before sealing.
pub struct Encoded<P> {
    /// `HEADER_LEN + NONCE_LEN` bytes reserved, then the compressed body: sealing writes the
    /// header and nonce in front and encrypts in place, without copying the body.
    buf: Vec<u8>,
    header: BatchHeader,
    codec: Codec,
    plain_len: usize,
    _kind: PhantomData<fn() -> P>,
}

impl<P: Envelope> Encoded<P> {
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// Bytes of the encoded body before compression.
    pub fn plain_len(&self) -> usize {
        self.plain_len
    }

    /// Bytes of the compressed body (what is encrypted).
    pub fn body_len(&self) -> usize {
        self.buf.len() - HEADER_LEN - NONCE_LEN
    }

    /// Bytes of the sealed message this will become.
    pub fn sealed_len(&self) -> usize {
        self.buf.len() + TAG_LEN
    }
}

impl<P> Encoded<P> {
    /// A body as given, not made by an encoder (for [`crate::raw`]).
    pub(crate) fn raw(header: BatchHeader, codec: Codec, body: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(HEADER_LEN + NONCE_LEN + body.len() + TAG_LEN);
        buf.resize(HEADER_LEN + NONCE_LEN, 0);
        buf.extend_from_slice(body);
        Self {
            buf,
            header,
            codec,
            plain_len: body.len(),
            _kind: PhantomData,
        }
    }
}

impl<P> Clone for Encoded<P> {
    fn clone(&self) -> Self {
        // Keep room for the tag, as `encode` does (`Vec::clone` keeps only the length).
        let mut buf = Vec::with_capacity(self.buf.len() + TAG_LEN);
        buf.extend_from_slice(&self.buf);
        Self {
            buf,
            header: self.header,
            codec: self.codec,
            plain_len: self.plain_len,
            _kind: PhantomData,
        }
    }
}

impl<P: Envelope> fmt::Debug for Encoded<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("kind", &P::KIND)
            .field("header", &self.header)
            .field("plain_len", &self.plain_len)
            .field("body_len", &self.body_len())
            .finish()
    }
}

/// Encodes and compresses a message (the first half of [`seal`]).
pub fn encode<P: Envelope>(open: &P) -> Result<Encoded<P>> {
    let header = *open.header();
    if header.protocol_version != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion {
            got: header.protocol_version,
            supported: PROTOCOL_VERSION,
        });
    }
    let mut plain = Vec::new();
    open.encode_body(&mut plain)?;
    // What the receiver would refuse is not sealed (the sync engine splits the batch instead).
    if plain.len() > P::KIND.max_body_len() {
        return Err(WireError::BodyTooLarge {
            size: plain.len(),
            max: P::KIND.max_body_len(),
        });
    }
    let mut buf = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plain.len() / 2 + TAG_LEN + 64);
    buf.resize(HEADER_LEN + NONCE_LEN, 0);
    let codec = body::compress_into(&plain, &mut buf)?;
    // Room for the tag, so sealing never moves the body to grow the buffer.
    buf.reserve_exact(TAG_LEN);
    Ok(Encoded {
        buf,
        header,
        codec,
        plain_len: plain.len(),
        _kind: PhantomData,
    })
}

/// Seals an encoded message (the second half of [`seal`]): header, fresh random nonce from
/// `rng`, AES-256-GCM over the body in place with the header as associated data, tag.
pub fn seal_encoded<P: Envelope>(
    encoded: Encoded<P>,
    key: &P::Key,
    rng: &mut impl CryptoRng,
) -> Result<Sealed<P>> {
    let Encoded {
        mut buf,
        header,
        codec,
        ..
    } = encoded;
    let body_len = buf.len() - HEADER_LEN - NONCE_LEN;
    // compress_into bounded the body by MAX_BODY_LEN, which fits in u32.
    let body_len32 = u32::try_from(body_len).map_err(|_| WireError::TooLarge {
        size: body_len,
        max: MAX_BODY_LEN,
    })?;
    let (head, body) = buf.split_at_mut(HEADER_LEN + NONCE_LEN);
    header.write(P::KIND, codec, body_len32, &mut head[..HEADER_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    head[HEADER_LEN..].copy_from_slice(&nonce);
    let tag = key
        .cipher()
        .encrypt_inout_detached(&nonce.into(), &head[..HEADER_LEN], body.into())
        .map_err(|_| WireError::TooLarge {
            size: body_len,
            max: MAX_BODY_LEN,
        })?;
    buf.extend_from_slice(&tag);
    Ok(Sealed {
        bytes: buf,
        header,
        codec,
        _kind: PhantomData,
    })
}

/// Encodes, compresses and seals a message with the key of its direction.
pub fn seal<P: Envelope>(open: &P, key: &P::Key, rng: &mut impl CryptoRng) -> Result<Sealed<P>> {
    seal_encoded(encode(open)?, key, rng)
}

/// What the receiver expects of a sealed message's header before trusting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    pub seq: SeqRule,
}

impl Expected {
    pub fn new(patient_id: PatientId, device_id: DeviceId, seq: SeqRule) -> Self {
        Self {
            patient_id,
            device_id,
            seq,
        }
    }

    /// The server's expectation for the next batch of a device, from the last batch sequence
    /// number it accepted (`None` before the first).
    pub fn next_batch(
        patient_id: PatientId,
        device_id: DeviceId,
        last_accepted: Option<u64>,
    ) -> Self {
        Self::new(
            patient_id,
            device_id,
            last_accepted.map_or(SeqRule::Any, SeqRule::After),
        )
    }
}

/// Which sequence numbers are acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqRule {
    Any,
    /// Strictly greater than the last accepted (batches on the server).
    After(u64),
    /// At least this (a pull's cursor must not go back).
    AtLeast(u64),
    /// Exactly this (the acknowledgement of the batch just sent).
    Exact(u64),
}

impl SeqRule {
    pub fn check(self, seq: u64) -> Result<()> {
        match self {
            Self::Any => Ok(()),
            Self::After(last) if seq <= last => Err(WireError::Replay {
                seq,
                last_accepted: last,
            }),
            // seq < min implies min ≥ 1, so min - 1 does not underflow.
            Self::AtLeast(min) if seq < min => Err(WireError::Replay {
                seq,
                last_accepted: min - 1,
            }),
            Self::Exact(expected) if seq != expected => {
                Err(WireError::SeqMismatch { expected, got: seq })
            }
            _ => Ok(()),
        }
    }
}

/// The server's replay rule on its own: a batch must come after the last one accepted.
pub fn check_replay(last_accepted: Option<u64>, seq: u64) -> Result<()> {
    last_accepted
        .map_or(SeqRule::Any, SeqRule::After)
        .check(seq)
}

/// A sealed message: opaque bytes plus the header parsed from them (not yet authenticated).
pub struct Sealed<P> {
    bytes: Vec<u8>,
    header: BatchHeader,
    codec: Codec,
    _kind: PhantomData<fn() -> P>,
}

// By hand: derives would ask the same of the plaintext type `P`, which a byte string does not need.
impl<P> Clone for Sealed<P> {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            header: self.header,
            codec: self.codec,
            _kind: PhantomData,
        }
    }
}

impl<P> PartialEq for Sealed<P> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<P> Eq for Sealed<P> {}

pub type SealedBatch = Sealed<crate::OpenBatch>;
pub type SealedPullRequest = Sealed<crate::OpenPullRequest>;
pub type SealedPull = Sealed<crate::OpenPull>;
pub type SealedAck = Sealed<crate::OpenAck>;

impl<P: Envelope> Sealed<P> {
    /// Checks the structure of received bytes (length, magic, version, kind, header fields).
    /// Nothing is authenticated yet: that is [`open`]'s job.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let (header, codec) = parse(&bytes, P::KIND)?;
        Ok(Self {
            bytes,
            header,
            codec,
            _kind: PhantomData,
        })
    }

    /// The header as received, NOT authenticated: only for finding the device's key and
    /// expectation before [`open`].
    pub fn unverified_header(&self) -> &BatchHeader {
        &self.header
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// SHA-256 of the sealed bytes: a retried batch is byte-identical, so the server can tell a
    /// retry (same digest, answer with the same ack) from a reused sequence number.
    pub fn digest(&self) -> BatchDigest {
        BatchDigest::from_bytes(Sha256::digest(&self.bytes).into())
    }
}

impl<P: Envelope> TryFrom<Vec<u8>> for Sealed<P> {
    type Error = WireError;
    fn try_from(bytes: Vec<u8>) -> Result<Self> {
        Self::from_bytes(bytes)
    }
}

impl<P: Envelope> fmt::Debug for Sealed<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("kind", &P::KIND)
            .field("header", &self.header)
            .field("len", &self.bytes.len())
            .finish()
    }
}

fn parse(b: &[u8], kind: Kind) -> Result<(BatchHeader, Codec)> {
    let max = OVERHEAD + kind.max_body_len();
    if b.len() > max {
        return Err(WireError::TooLarge { size: b.len(), max });
    }
    let truncated = |needed| WireError::Truncated {
        needed,
        got: b.len(),
    };
    if b.len() < MAGIC.len() || b[..4] != MAGIC {
        return Err(if MAGIC.starts_with(b) {
            truncated(OVERHEAD)
        } else {
            WireError::BadMagic
        });
    }
    let version = *b.get(4).ok_or(truncated(OVERHEAD))?;
    if version != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion {
            got: version,
            supported: PROTOCOL_VERSION,
        });
    }
    let got_kind = *b.get(5).ok_or(truncated(OVERHEAD))?;
    if got_kind != kind as u8 {
        return Err(WireError::WrongKind {
            expected: kind,
            got: Kind::from_byte(got_kind).map_or_else(
                || format!("message of unknown kind {got_kind}"),
                |k| k.to_string(),
            ),
        });
    }
    if b.len() < OVERHEAD {
        return Err(truncated(OVERHEAD));
    }
    let codec = Codec::from_byte(b[6])
        .ok_or_else(|| WireError::BadHeader(format!("unknown compression {}", b[6])))?;
    if b[7] != 0 {
        return Err(WireError::BadHeader("reserved byte 7 is not zero".into()));
    }
    let field = |r: std::ops::Range<usize>| &b[r];
    let patient_id = PatientId::from_bytes(field(8..24).try_into().map_err(|_| truncated(24))?);
    let device_id = DeviceId::from_bytes(field(24..40).try_into().map_err(|_| truncated(40))?);
    let seq = u64::from_be_bytes(field(40..48).try_into().map_err(|_| truncated(48))?);
    let secs = i64::from_be_bytes(field(48..56).try_into().map_err(|_| truncated(56))?);
    let nanos = u32::from_be_bytes(field(56..60).try_into().map_err(|_| truncated(60))?);
    let body_len = u32::from_be_bytes(field(60..64).try_into().map_err(|_| truncated(64))?);
    let created_at = DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| WireError::BadHeader("the creation time is out of range".into()))?;
    let total = OVERHEAD + body_len as usize;
    if b.len() < total {
        return Err(truncated(total));
    }
    if b.len() > total {
        return Err(WireError::TrailingBytes {
            extra: b.len() - total,
        });
    }
    Ok((
        BatchHeader {
            protocol_version: version,
            patient_id,
            device_id,
            seq,
            created_at,
        },
        codec,
    ))
}

/// Authenticates and decrypts a sealed message, checking it against `expected` (see the module
/// documentation for the order of checks).
pub fn open<P: Envelope>(sealed: &Sealed<P>, key: &P::Key, expected: &Expected) -> Result<P> {
    let h = sealed.header;
    if h.patient_id != expected.patient_id {
        return Err(WireError::WrongPatient {
            expected: expected.patient_id,
            got: h.patient_id,
        });
    }
    if h.device_id != expected.device_id {
        return Err(WireError::WrongDevice {
            expected: expected.device_id,
            got: h.device_id,
        });
    }
    let b = &sealed.bytes;
    let (ad, rest) = b.split_at(HEADER_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| WireError::AuthenticationFailed)?;
    let tag: [u8; TAG_LEN] = tag
        .try_into()
        .map_err(|_| WireError::AuthenticationFailed)?;
    let mut body = ciphertext.to_vec();
    key.cipher()
        .decrypt_inout_detached(&nonce.into(), ad, body.as_mut_slice().into(), &tag.into())
        .map_err(|_| WireError::AuthenticationFailed)?;
    expected.seq.check(h.seq)?;
    let plain = body::decompress(sealed.codec, body, P::KIND.max_body_len())?;
    P::decode_body(h, &plain)
}
