//! The one error type of the wire crate. Each variant is a condition the caller can act on; the
//! messages say what to do and never contain key material or decrypted content.

use thiserror::Error;

use crate::envelope::Kind;
use crate::ids::{DeviceId, PatientId};

/// Why a key, a code, a payload or a sealed message was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WireError {
    // --- envelope structure (checked before any cryptography) ---
    #[error(
        "the sealed message is truncated: {got} bytes where at least {needed} are needed; send it again in full"
    )]
    Truncated { needed: usize, got: usize },
    #[error(
        "the sealed message has {extra} bytes after its end; send exactly the bytes that were sealed"
    )]
    TrailingBytes { extra: usize },
    #[error("not an Ilot sealed message (bad magic); check the server address and the app version")]
    BadMagic,
    #[error(
        "protocol version {got} is not supported (this side speaks version {supported}); update the app or the server"
    )]
    UnsupportedVersion { got: u8, supported: u8 },
    #[error(
        "a sealed {got} was received where a sealed {expected} was expected; check the endpoint"
    )]
    WrongKind { expected: Kind, got: String },
    #[error("the sealed message header is malformed: {0}")]
    BadHeader(String),
    #[error(
        "the sealed message is {size} bytes, more than the {max} allowed; send smaller batches"
    )]
    TooLarge { size: usize, max: usize },

    #[error(
        "the sealed body expands to {size} bytes, more than the {max} this kind of message may hold; send smaller batches"
    )]
    BodyTooLarge { size: usize, max: usize },
    #[error(
        "the batch announces {items} items, more than the {max} a batch may hold; send smaller batches"
    )]
    TooManyItems { items: u64, max: usize },

    // --- header against what the receiver expects (checked before decryption) ---
    #[error(
        "the batch belongs to patient {got}, not to patient {expected}; it was refused and nothing was stored"
    )]
    WrongPatient { expected: PatientId, got: PatientId },
    #[error(
        "the batch comes from device {got}, not from device {expected}; it was refused and nothing was stored"
    )]
    WrongDevice { expected: DeviceId, got: DeviceId },

    // --- cryptography ---
    #[error(
        "the sealed message failed authentication: it was altered on the way or sealed with another key; if this persists, enrol the device again"
    )]
    AuthenticationFailed,
    #[error(
        "the public key cannot be used for key agreement (it is a low-order point); check the QR code or the server key"
    )]
    WeakPublicKey,
    #[error("invalid {what}: {reason}")]
    InvalidKey { what: &'static str, reason: String },
    #[error(
        "the server key does not match the fingerprint of the enrolment code (expected {expected}, got {got}); do not enrol and contact the care team"
    )]
    FingerprintMismatch { expected: String, got: String },
    #[error(
        "the server did not prove it holds the same keys (key confirmation mismatch); do not enrol and contact the care team"
    )]
    KeyConfirmationMismatch,
    #[error(
        "the device did not prove it holds the secret of the device it replaces; enrol it with a new code as a new device"
    )]
    ReenrolProofMismatch,

    // --- sequence (checked after authentication, so a replay is an authentic old message) ---
    #[error(
        "batch {seq} was already received (the last accepted is {last_accepted}); answer it with its earlier acknowledgement"
    )]
    Replay { seq: u64, last_accepted: u64 },
    #[error("sequence {got} was received where exactly {expected} was expected")]
    SeqMismatch { expected: u64, got: u64 },
    #[error(
        "this pull answers request {in_reply_to}, not the request {request_id} that was sent; pull again"
    )]
    NotAnAnswer { request_id: u64, in_reply_to: u64 },

    #[error(
        "the acknowledgement is for another batch (seq {acked_seq}, not {sent_seq}, or other bytes); keep the batch and send it again"
    )]
    AckMismatch { sent_seq: u64, acked_seq: u64 },

    // --- body ---
    #[error("the sealed body could not be decompressed: {0}")]
    Decompression(String),
    #[error("the sealed body is malformed: {0}")]
    Codec(String),
    #[error("item {index} of the batch is not a valid entry: {source}")]
    InvalidEntry {
        index: usize,
        source: ilot_domain::DomainError,
    },

    // --- ids, enrolment codes and QR payloads ---
    #[error("invalid {what} {got:?}: {reason}")]
    InvalidId {
        what: &'static str,
        got: String,
        reason: &'static str,
    },
    #[error(
        "the enrolment code has {got} characters, it needs {expected} (letters and digits; dashes and spaces are ignored)"
    )]
    CodeLength { got: usize, expected: usize },
    #[error(
        "the enrolment code has {ch:?} at position {position}, which is not a code character; re-type it from the sheet"
    )]
    CodeCharacter { ch: char, position: usize },
    #[error("the enrolment code has a typo (its check character does not match); re-type it")]
    CodeCheck,
    #[error("not an Ilot enrolment link: {0}; scan the QR code given by the care team")]
    NotAnEnrolmentLink(String),
    #[error("the enrolment link has no {0}; scan the QR code again")]
    MissingField(&'static str),
    #[error("the enrolment link has {0} twice; scan the QR code again")]
    DuplicateField(&'static str),
    #[error("the enrolment link's {field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("invalid server address {got:?}: {reason}")]
    InvalidServerUrl { got: String, reason: &'static str },
}

pub type Result<T, E = WireError> = std::result::Result<T, E>;

impl WireError {
    /// An authentic message that was already accepted: the server answers it with the earlier
    /// acknowledgement instead of storing it again.
    pub fn is_replay(&self) -> bool {
        matches!(self, Self::Replay { .. })
    }
}
