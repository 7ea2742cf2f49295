//! CGM Specific Ops Control Point (0x2AAC, CGMS 1.0.2): op codes, response codes, and the
//! basic operations Ilot uses (communication interval, start/stop session). The optional E2E-CRC
//! trails the frame when the CGM Feature says the device supports it.

use super::Reader;
use super::cgm::{CrcCheck, with_crc};
use super::glucose::code_enum;
use crate::error::DecodeError;

code_enum!(SocpOpCode {
    1 => SetCommunicationInterval "set-communication-interval",
    2 => GetCommunicationInterval "get-communication-interval",
    3 => CommunicationIntervalResponse "communication-interval-response",
    4 => SetCalibrationValue "set-glucose-calibration-value",
    5 => GetCalibrationValue "get-glucose-calibration-value",
    6 => CalibrationValueResponse "glucose-calibration-value-response",
    7 => SetPatientHighAlert "set-patient-high-alert-level",
    8 => GetPatientHighAlert "get-patient-high-alert-level",
    9 => PatientHighAlertResponse "patient-high-alert-level-response",
    10 => SetPatientLowAlert "set-patient-low-alert-level",
    11 => GetPatientLowAlert "get-patient-low-alert-level",
    12 => PatientLowAlertResponse "patient-low-alert-level-response",
    13 => SetHypoAlert "set-hypo-alert-level",
    14 => GetHypoAlert "get-hypo-alert-level",
    15 => HypoAlertResponse "hypo-alert-level-response",
    16 => SetHyperAlert "set-hyper-alert-level",
    17 => GetHyperAlert "get-hyper-alert-level",
    18 => HyperAlertResponse "hyper-alert-level-response",
    19 => SetRateOfDecreaseAlert "set-rate-of-decrease-alert-level",
    20 => GetRateOfDecreaseAlert "get-rate-of-decrease-alert-level",
    21 => RateOfDecreaseAlertResponse "rate-of-decrease-alert-level-response",
    22 => SetRateOfIncreaseAlert "set-rate-of-increase-alert-level",
    23 => GetRateOfIncreaseAlert "get-rate-of-increase-alert-level",
    24 => RateOfIncreaseAlertResponse "rate-of-increase-alert-level-response",
    25 => ResetDeviceSpecificAlert "reset-device-specific-alert",
    26 => StartSession "start-the-session",
    27 => StopSession "stop-the-session",
    28 => ResponseCode "response-code",
});

code_enum!(SocpResponseCode {
    1 => Success "success",
    2 => OpCodeNotSupported "op-code-not-supported",
    3 => InvalidOperand "invalid-operand",
    4 => ProcedureNotCompleted "procedure-not-completed",
    5 => ParameterOutOfRange "parameter-out-of-range",
});

/// A Specific Ops Control Point write: the basic operations Ilot uses. Alert-level and
/// calibration operands are carried raw (they are not used for downloading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocpRequest {
    SetCommunicationInterval(u8),
    GetCommunicationInterval,
    StartSession,
    StopSession,
    ResetDeviceSpecificAlert,
    Other { op: SocpOpCode, operand: Vec<u8> },
}

/// A Specific Ops Control Point indication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocpResponse {
    CommunicationInterval(u8),
    Code {
        request: SocpOpCode,
        code: SocpResponseCode,
    },
    Other {
        op: SocpOpCode,
        operand: Vec<u8>,
    },
}

const SOCP: &str = "CGM Specific Ops Control Point (0x2AAC)";

impl SocpRequest {
    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        let v = match self {
            Self::SetCommunicationInterval(m) => {
                vec![SocpOpCode::SetCommunicationInterval.code(), *m]
            }
            Self::GetCommunicationInterval => vec![SocpOpCode::GetCommunicationInterval.code()],
            Self::StartSession => vec![SocpOpCode::StartSession.code()],
            Self::StopSession => vec![SocpOpCode::StopSession.code()],
            Self::ResetDeviceSpecificAlert => vec![SocpOpCode::ResetDeviceSpecificAlert.code()],
            Self::Other { op, operand } => {
                let mut v = vec![op.code()];
                v.extend_from_slice(operand);
                v
            }
        };
        with_crc(v, e2e)
    }

    pub fn decode(bytes: &[u8], e2e: bool) -> Result<(Self, Option<CrcCheck>), DecodeError> {
        let (body, crc) = split_crc(bytes, e2e)?;
        let mut r = Reader::new(SOCP, body);
        let op = SocpOpCode::from_code(r.u8("op code")?);
        let req = match op {
            SocpOpCode::SetCommunicationInterval => {
                Self::SetCommunicationInterval(r.u8("communication interval")?)
            }
            SocpOpCode::GetCommunicationInterval => Self::GetCommunicationInterval,
            SocpOpCode::StartSession => Self::StartSession,
            SocpOpCode::StopSession => Self::StopSession,
            SocpOpCode::ResetDeviceSpecificAlert => Self::ResetDeviceSpecificAlert,
            other => Self::Other {
                op: other,
                operand: r.bytes("operand", r.remaining())?.to_vec(),
            },
        };
        r.finish()?;
        Ok((req, crc))
    }
}

impl SocpResponse {
    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        let v = match self {
            Self::CommunicationInterval(m) => {
                vec![SocpOpCode::CommunicationIntervalResponse.code(), *m]
            }
            Self::Code { request, code } => {
                vec![SocpOpCode::ResponseCode.code(), request.code(), code.code()]
            }
            Self::Other { op, operand } => {
                let mut v = vec![op.code()];
                v.extend_from_slice(operand);
                v
            }
        };
        with_crc(v, e2e)
    }

    pub fn decode(bytes: &[u8], e2e: bool) -> Result<(Self, Option<CrcCheck>), DecodeError> {
        let (body, crc) = split_crc(bytes, e2e)?;
        let mut r = Reader::new(SOCP, body);
        let op = SocpOpCode::from_code(r.u8("op code")?);
        let resp = match op {
            SocpOpCode::CommunicationIntervalResponse => {
                Self::CommunicationInterval(r.u8("communication interval")?)
            }
            SocpOpCode::ResponseCode => Self::Code {
                request: SocpOpCode::from_code(r.u8("request op code")?),
                code: SocpResponseCode::from_code(r.u8("response code value")?),
            },
            other => Self::Other {
                op: other,
                operand: r.bytes("operand", r.remaining())?.to_vec(),
            },
        };
        r.finish()?;
        Ok((resp, crc))
    }
}

fn split_crc(bytes: &[u8], e2e: bool) -> Result<(&[u8], Option<CrcCheck>), DecodeError> {
    if !e2e {
        return Ok((bytes, None));
    }
    if bytes.len() < 3 {
        return Err(DecodeError::Truncated {
            frame: SOCP,
            field: "e2e-crc",
            offset: bytes.len().saturating_sub(2),
            needed: 3,
            len: bytes.len(),
        });
    }
    let at = bytes.len() - 2;
    let carried = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    Ok((&bytes[..at], Some(CrcCheck::of(&bytes[..at], carried))))
}
