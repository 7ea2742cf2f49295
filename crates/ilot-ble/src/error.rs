//! Why a frame could not be decoded, or a download could not finish. Messages are lowercase and
//! say what to do next; a decode error always names the characteristic, the field and the byte
//! offset, so a capture can be checked by hand.

use thiserror::Error;

/// A frame that is not what the Bluetooth specification says it must be. Never a guess: the
/// decoder stops at the first byte that does not fit.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error(
        "{frame}: truncated at byte {offset}: field `{field}` needs {needed} byte(s) but the {len}-byte frame ends there; the device sent an incomplete frame, download again"
    )]
    Truncated {
        frame: &'static str,
        field: &'static str,
        offset: usize,
        needed: usize,
        len: usize,
    },
    #[error(
        "{frame}: {extra} unexpected byte(s) after the last field, from byte {offset}; the flags do not describe this frame"
    )]
    TrailingBytes {
        frame: &'static str,
        offset: usize,
        extra: usize,
    },
    #[error(
        "{frame}: the size field says {declared} bytes but {reason} (byte {offset}); the frame is inconsistent"
    )]
    BadSize {
        frame: &'static str,
        offset: usize,
        declared: usize,
        reason: String,
    },
    #[error("{frame}: field `{field}` at byte {offset} has value {value}, which {reason}")]
    BadValue {
        frame: &'static str,
        field: &'static str,
        offset: usize,
        value: u32,
        reason: &'static str,
    },
    #[error(
        "{frame}: E2E-CRC mismatch: the frame carries {carried:#06x} but its bytes give {computed:#06x}; the frame was damaged in transit"
    )]
    CrcMismatch {
        frame: &'static str,
        carried: u16,
        computed: u16,
    },
    #[error("{0}")]
    Input(String),
}

/// What stopped a download, a scan or a pairing. Everything already received and complete was
/// stored before this error is returned.
#[derive(Debug, Error)]
pub enum BleError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(
        "no Bluetooth adapter is usable here ({0}); check that the computer has Bluetooth, that it is switched on, and that the Bluetooth service (bluetoothd) runs"
    )]
    NoAdapter(String),
    #[error("the Bluetooth radio is off; switch Bluetooth on and try again")]
    RadioOff,
    #[error(
        "no device {0} was found nearby; wake the meter (open its Bluetooth menu) and try again"
    )]
    NotFound(String),
    #[error(
        "the device does not offer {what} ({uuid}); it is not a standard Bluetooth glucose meter or CGM"
    )]
    MissingCharacteristic { what: &'static str, uuid: String },
    #[error(
        "the device refused the request ({0}); if it asks for a PIN, pair it first with `ilot ble pair`"
    )]
    Refused(String),
    #[error("the device disconnected ({0})")]
    Disconnected(String),
    #[error(
        "the device stopped answering for {secs} s during {during}; bring it closer and try again"
    )]
    Timeout { secs: u64, during: &'static str },
    #[error("the device answered `{code}` to {request}; {advice}")]
    ControlPoint {
        request: &'static str,
        code: String,
        advice: &'static str,
    },
    #[error("the device answered out of turn: {0}")]
    Protocol(String),
    #[error(
        "the download stopped after {attempts} connection attempt(s): {last}; what was received is stored, run the download again to resume"
    )]
    GaveUp { attempts: u32, last: String },
    #[error(
        "live readings need a CGM (CGM Service 0x181F); this device is a glucose meter, use `ilot ble download` instead"
    )]
    NotCgm,
    #[error("bluetooth: {0}")]
    Link(String),
    #[error(transparent)]
    Store(#[from] ilot_store::StoreError),
    #[error(transparent)]
    Domain(#[from] ilot_domain::DomainError),
}

pub type Result<T, E = BleError> = std::result::Result<T, E>;
