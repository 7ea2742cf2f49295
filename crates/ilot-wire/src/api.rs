//! The HTTP layer's types, for `ilot-sync` and `ilot-server` to agree on.
//!
//! | endpoint | request body | response body |
//! |---|---|---|
//! | `POST` [`paths::ENROL`] | [`EnrolRequest`] (JSON) | [`EnrolResponse`] (JSON) |
//! | `POST` [`paths::PUSH`] | [`crate::SealedBatch`] ([`SEALED_MEDIA_TYPE`]) | [`crate::SealedAck`] ([`SEALED_MEDIA_TYPE`]) |
//! | `POST` [`paths::PULL`] | [`crate::SealedPullRequest`] ([`SEALED_MEDIA_TYPE`]) | [`crate::SealedPull`] ([`SEALED_MEDIA_TYPE`]) |
//! | any error | | [`ErrorBody`] (JSON), status [`ErrorCode::http_status`] |
//!
//! Enrolment is JSON over TLS: there is no shared key yet. The device checks the server key
//! against the QR fingerprint and the server proves it derived the same keys
//! ([`EnrolResponse::session_keys`]). Everything after enrolment travels sealed: the
//! acknowledgement and the pull too, so that nobody between the phone and the server can forge
//! "stored" or feed the device a stale prescription. Errors are plain JSON and unauthenticated:
//! the device treats every error as "not delivered" and keeps its outbox, so a forged error can
//! delay a sync but never lose data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::enrol::{EnrolmentCode, EnrolmentInvite};
use crate::error::{Result, WireError};
use crate::ids::{DeviceId, PatientId};
use crate::keys::{DeviceSecret, KeyConfirmation, PublicKey, SessionKeys};
use crate::pull::PrescriptionUpdate;

/// The bodies that travel sealed, re-exported here so the whole HTTP vocabulary is in one place.
pub use crate::ack::PushAck;
pub use crate::pull::{Pull, PullRequest};

/// Media type of sealed bodies (push, acknowledgement, pull request, pull).
pub const SEALED_MEDIA_TYPE: &str = "application/vnd.ilot.sealed";

/// Endpoint paths, relative to [`crate::ServerUrl`].
pub mod paths {
    pub const ENROL: &str = "/v1/enrol";
    pub const PUSH: &str = "/v1/push";
    pub const PULL: &str = "/v1/pull";
}

/// The app asks to enrol with the code the operator gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: EnrolmentCode,
    pub device_public_key: PublicKey,
    /// Shown to the operator ("Android phone", "Windows laptop"); no hardware identifier.
    pub device_label: Option<String>,
    pub app_version: String,
    /// Re-enrolment in place of a device the server revoked: its ids and the proof that this
    /// installation holds its secret. Absent (and not written) for a first enrolment, so an
    /// older app's request is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<crate::Replaces>,
}

/// The server accepted the code: who the patient is on the server, and its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    pub server_public_key: PublicKey,
    /// [`SessionKeys::confirmation`] computed by the server.
    pub key_confirmation: KeyConfirmation,
    /// The operator's pseudonym for the patient, to show "enrolled as …".
    pub pseudonym: String,
    /// The prescription as it stands, so the device starts with the right thresholds.
    pub prescription: Option<PrescriptionUpdate>,
    pub enrolled_at: DateTime<Utc>,
    /// The device this enrolment replaced (echoes [`EnrolRequest::replaces`]); absent for a
    /// first enrolment. A device that asked to replace one and does not get it back is talking
    /// to a server that does not know re-enrolment, and saves nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<DeviceId>,
}

impl EnrolResponse {
    /// Device side of enrolment: checks the server key against the invite's fingerprint (when
    /// the code came from a QR code; a typed code carries none), derives the session keys and
    /// checks the server's key confirmation. Only then may the secrets be stored.
    pub fn session_keys(
        &self,
        device: &DeviceSecret,
        invite: Option<&EnrolmentInvite>,
    ) -> Result<SessionKeys> {
        if let Some(invite) = invite {
            self.server_public_key
                .verify_fingerprint(&invite.fingerprint)?;
        }
        let keys = device.agree(&self.server_public_key, self.patient_id, self.device_id)?;
        keys.confirm(&self.key_confirmation)?;
        Ok(keys)
    }
}

/// Every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    /// For people: what happened and what to do. Never contains health data or ids of others.
    pub message: String,
    /// Set with `rate_limited` (and `unavailable`): seconds before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl ErrorBody {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            retry_after_s: None,
        }
    }
}

impl From<&WireError> for ErrorBody {
    /// The answer to a message that did not open. A header that names another patient or
    /// device gets a message without ids, so a stranger learns nothing from probing.
    fn from(e: &WireError) -> Self {
        let code = ErrorCode::from(e);
        let message = match e {
            WireError::WrongPatient { .. } | WireError::WrongDevice { .. } => {
                "the batch does not belong to this patient and device; nothing was stored".into()
            }
            e => e.to_string(),
        };
        Self::new(code, message)
    }
}

/// Stable, machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is not what the endpoint takes (bad JSON, wrong media type, bad field).
    BadRequest,
    /// Operator endpoints: not logged in, or the session expired.
    Unauthorized,
    /// Logged in, but this role or this patient is not yours.
    Forbidden,
    NotFound,
    /// The enrolment code is unknown (or mistyped).
    EnrolmentCodeInvalid,
    EnrolmentCodeExpired,
    EnrolmentCodeUsed,
    RateLimited,
    /// The device is not enrolled, or was revoked: enrol again.
    UnknownDevice,
    /// The header names another patient or device than the key belongs to.
    WrongPatient,
    /// The sealed message did not authenticate (altered, or another key).
    AuthenticationFailed,
    /// A batch sequence number was reused with different content.
    SeqReused,
    /// Re-enrolment in place: the code is for another patient than the device it replaces.
    /// Nothing was created and the code is still valid.
    CodeForAnotherPatient,
    /// Re-enrolment in place: the device to replace is still accepted by the server (only a
    /// revoked device is enrolled again in place).
    DeviceStillEnrolled,
    /// The record changed since it was read (another professional edited it), or is not in the
    /// state the request needs: reload and try again.
    Conflict,
    /// The sealed message is truncated or malformed.
    Malformed,
    TooLarge,
    /// A JSON endpoint was sent something else than `Content-Type: application/json`.
    UnsupportedMediaType,
    UnsupportedVersion,
    /// Consent was withdrawn: the server takes nothing more from this device.
    ConsentWithdrawn,
    /// The patient's telesurveillance was ended by the care team (end of monitoring): the
    /// server takes nothing more from this device, and the record takes no new care act.
    MonitoringEnded,
    /// The patient asked for erasure: the data is kept for its legal retention but restricted,
    /// hidden from ordinary reads (a physician may read it with an audited reason).
    Restricted,
    /// The request took longer than the server allows (a stalled upload); send it again.
    TimedOut,
    /// The server cannot answer now (e.g. its database is down); try again later.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::Malformed | Self::UnsupportedVersion => 400,
            Self::Unauthorized | Self::UnknownDevice | Self::AuthenticationFailed => 401,
            Self::Forbidden
            | Self::WrongPatient
            | Self::ConsentWithdrawn
            | Self::MonitoringEnded => 403,
            Self::NotFound | Self::EnrolmentCodeInvalid => 404,
            Self::TimedOut => 408,
            Self::SeqReused
            | Self::Conflict
            | Self::CodeForAnotherPatient
            | Self::DeviceStillEnrolled => 409,
            Self::EnrolmentCodeExpired | Self::EnrolmentCodeUsed => 410,
            Self::TooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::Restricted => 451,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// Worth sending the same request again later (after `retry_after_s` when given).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Unavailable | Self::Internal | Self::TimedOut
        )
    }
}

impl From<&WireError> for ErrorCode {
    fn from(e: &WireError) -> Self {
        use WireError as W;
        match e {
            W::Truncated { .. }
            | W::TrailingBytes { .. }
            | W::BadMagic
            | W::WrongKind { .. }
            | W::BadHeader(_)
            | W::Decompression(_)
            | W::Codec(_)
            | W::InvalidEntry { .. } => Self::Malformed,
            W::TooLarge { .. } | W::BodyTooLarge { .. } | W::TooManyItems { .. } => Self::TooLarge,
            W::UnsupportedVersion { .. } => Self::UnsupportedVersion,
            W::WrongPatient { .. } | W::WrongDevice { .. } => Self::WrongPatient,
            W::AuthenticationFailed | W::ReenrolProofMismatch => Self::AuthenticationFailed,
            // A replay is answered with the earlier acknowledgement, not an error; reaching
            // here means the bytes differ from what was accepted under that number.
            W::Replay { .. } | W::SeqMismatch { .. } => Self::SeqReused,
            W::CodeLength { .. } | W::CodeCharacter { .. } | W::CodeCheck => {
                Self::EnrolmentCodeInvalid
            }
            W::WeakPublicKey
            | W::InvalidKey { .. }
            | W::FingerprintMismatch { .. }
            | W::KeyConfirmationMismatch
            | W::NotAnAnswer { .. }
            | W::AckMismatch { .. }
            | W::InvalidId { .. }
            | W::NotAnEnrolmentLink(_)
            | W::MissingField(_)
            | W::DuplicateField(_)
            | W::InvalidField { .. }
            | W::InvalidServerUrl { .. } => Self::BadRequest,
        }
    }
}
