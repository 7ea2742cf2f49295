//! The sync engine's one error type. Every variant leaves the outbox as it was: nothing is
//! marked sent unless the server's sealed acknowledgement confirmed it.

use ilot_wire::api::ErrorCode;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error(
        "this device is not enrolled; enrol it with the code from the care team (ilot enroll CODE)"
    )]
    NotEnrolled,
    #[error(
        "this device is already enrolled (patient {patient_id}, server {server}) and the server has not refused it; it needs no new code (a device the care team revoked is enrolled again in place once a sync was refused)"
    )]
    AlreadyEnrolled {
        patient_id: ilot_wire::PatientId,
        server: String,
    },
    #[error(
        "this device's enrolment key is lost and it holds entries not sent yet: they belong to the patient it was enrolled for, so a new code (which could be another patient's) cannot take them; nothing was changed. Export them (`ilot export csv FILE`, or Settings → Export in the app) and show them to the care team"
    )]
    SecretLostWithUnsent,
    #[error(
        "the server did not confirm that it replaced this device ({0}); nothing was changed on this device; the server may need an update"
    )]
    ReenrolNotConfirmed(&'static str),
    #[error("consent to transmission has not been recorded; nothing was sent (ilot consent grant)")]
    ConsentRequired,
    #[error(
        "the server at {server} cannot be reached ({detail}); your entries are kept on this device and will be sent at the next sync"
    )]
    Unreachable { server: String, detail: String },
    #[error(
        "the server at {server} did not prove it is the right server ({detail}); check the address, or for a development server give its certificate with --ca FILE; your entries are kept on this device"
    )]
    UntrustedServer { server: String, detail: String },
    #[error(
        "the server certificate given cannot be used: {0}; give the PEM file the server printed"
    )]
    BadCertificate(String),
    #[error("the server refused: {message} ({code:?}); your entries are kept on this device")]
    Refused {
        code: ErrorCode,
        message: String,
        retry_after_s: Option<u64>,
    },
    #[error(
        "the server's answer could not be trusted: {0}; your entries are kept and will be sent again"
    )]
    Wire(#[from] ilot_wire::WireError),
    #[error("the server's answer is not an Ilot answer (HTTP {status}); check the server address")]
    BadResponse { status: u16 },
    #[error("local store: {0}")]
    Store(#[from] ilot_store::StoreError),
    #[error("saved sync state is damaged: {0}")]
    State(String),
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

impl SyncError {
    /// Worth trying again later without anybody doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Wire(_) | Self::BadResponse { .. } => true,
            Self::Refused { code, .. } => code.is_transient(),
            _ => false,
        }
    }
}
