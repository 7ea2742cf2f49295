//! What crosses Ilot's network between the patient's device and the operator server: key
//! agreement (X25519 + HKDF-SHA256 → one AES-256-GCM key per direction), enrolment codes and QR
//! links, the sealed envelope and what it carries (entry batches, pull requests, pulls,
//! acknowledgements), and the JSON types of the HTTP API.
//!
//! Open (plaintext) and sealed messages are different types: [`seal`] turns an [`OpenBatch`]
//! into a [`SealedBatch`], and only [`open`], with the right key and the receiver's
//! [`Expected`] patient, device and sequence, turns it back. The header binds protocol version,
//! kind, patient, device and sequence number as AES-GCM associated data, so a batch cannot be
//! altered, replayed, renumbered or moved to another patient without an error. The byte layout
//! is documented in `docs/wire-format.md`.
//!
//! This crate must stay pure: no file, socket, clock, thread or async runtime. Time is a
//! parameter, randomness comes from the caller's `CryptoRng`. Secrets zeroize on drop, print as
//! `<redacted>`, and have no serde implementation.

mod ack;
pub mod api;
mod batch;
mod body;
mod enrol;
mod envelope;
mod error;
mod ids;
mod keys;
mod pull;
#[doc(hidden)]
pub mod raw;
mod reenrol;
mod rights;

pub use ack::{OpenAck, PushAck};
pub use batch::{ConsentChange, OpenBatch, WireEntry, WireOp};
pub use body::{
    MAX_BATCH_BODY_LEN, MAX_BATCH_ITEMS, MAX_BODY_LEN, MAX_PULL_BODY_LEN, MAX_SMALL_BODY_LEN,
};
pub use enrol::{EnrolmentCode, EnrolmentInvite, ServerUrl};
pub use envelope::{
    BatchDigest, BatchHeader, Encoded, Envelope, Expected, HEADER_LEN, Kind, MAGIC,
    MAX_SEALED_BATCH_LEN, MAX_SEALED_LEN, NONCE_LEN, OVERHEAD, PROTOCOL_VERSION, Sealed, SealedAck,
    SealedBatch, SealedPull, SealedPullRequest, SeqRule, TAG_LEN, check_replay, encode, open, seal,
    seal_encoded,
};
pub use error::{Result, WireError};
pub use ids::{DeviceId, PatientId};
pub use keys::{
    DeviceSecret, Fingerprint, KeyConfirmation, PublicKey, SealingKey, ServerSecret, SessionKeys,
    ToDeviceKey, ToServerKey,
};
pub use pull::{
    AlertAck, Appointment, AppointmentKind, AppointmentMode, CareRole, CareTeamMember, Message,
    OpenPull, OpenPullRequest, PrescriptionUpdate, Pull, PullRequest,
};
pub use reenrol::{ReenrolProof, Replaces};
pub use rights::{
    AccessEntry, ConsentChannel, ConsentDecision, ConsentRecord, Rights, RightsCursor,
};
